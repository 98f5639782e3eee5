"""The CIS simulator over the wire (embedded bus and RabbitMQ): on-demand reads and pings through
cimbus to a head-end (ODR-1), switch orders accepted asynchronously (0.1), answered by the
head-end at the CIS's ReplyAddress and completed by the meter's acknowledgement (B2-1, B2-2,
B2-4), credit escalation (B2-17), fault knobs that change the outcome, and the whole ODR chain
through cimbus's SMT service with the MDMS's VEE posting (ODR-1..ODR-7). The head-end is a small
stub here (the real one is simulators.headend)."""

from __future__ import annotations

import uuid
from datetime import date

from cim_models.build import ReplyError
from cim_models.codes import (
    NON_VEE,
    acknowledgement_for,
    controls,
)
from simulators._core import E, Incoming, Simulator, handles, parse_time, reply
from simulators.cis import ACCEPTED, CANCELLED, COMPLETED, FAILED, REPLIED, Cis
from simulators.mdms import Mdms, interval_ends
from tests.unit.simulators.stubs import asked_for, device_event, interval_meter_reading, wait_for

pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.sim_fixtures"]

GOLDEN = "10443720001234567"  # ROR REP-BLUEBONNET, customer CUST-GOLDEN
EDC = "{http://iec.ch/TC57/2011/EndDeviceControls#}"
WINDOW = ("2026-05-11T00:00:00-05:00", "2026-05-11T02:00:00-05:00")
DIRECT_ROUTES = [
    {"verb": "get", "noun": "MeterReadings", "target": "HES", "timeout": 10},
    {"verb": "create", "noun": "EndDeviceControls", "target": "HES", "timeout": 2},
    {"verb": "cancel", "noun": "EndDeviceControls", "target": "HES", "timeout": 2},
    {"verb": "change", "noun": "EndDeviceControls", "target": "HES", "timeout": 2},
]
EVENTS_TO_CIS = [{"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["CIS", "MDMS"]}]


class StubHes(Simulator):
    """Plays the head-end per the shared contract: get MeterReadings (0.25 kWh per interval and
    a register read), create / cancel / change EndDeviceControls answered OK (accepted /
    scheduled; a ping answered OK at once), and :meth:`acknowledge` sends the meter's
    acknowledgement (created EndDeviceEvents, issuerTrackingID = control mRID)."""

    name = "stub-hes"
    system = "HES"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.controls: dict[str, tuple[str, str]] = {}  # mRID -> (control code, ESIID)
        self.verbs: list[tuple[str, str]] = []  # (verb, mRID)

    @handles("get", "MeterReadings")
    def get(self, msg: Incoming) -> bytes:
        start, end, esiids = asked_for(msg, self.clock.now())
        readings = []
        for esiid in esiids:
            spec = self.profile.meter(esiid)
            readings.append(
                interval_meter_reading(
                    esiid, spec.meter, interval_ends(start, end), register=(end, "48256.949")
                )
            )
        return reply(msg, source=self.system, payload=[E.mr("MeterReadings", readings)])

    @handles("create", "EndDeviceControls")
    @handles("cancel", "EndDeviceControls")
    @handles("change", "EndDeviceControls")
    def controls_request(self, msg: Incoming) -> bytes:
        ids = []
        for control in msg.payload[0].findall(f"{EDC}EndDeviceControl"):
            mrid = control.findtext(f"{EDC}mRID")
            code = control.find(f"{EDC}EndDeviceControlType").get("ref")
            esiid = control.findtext(f"{EDC}UsagePoints/{EDC}Names/{EDC}name")
            if msg.verb == "create":
                self.controls[mrid] = (code, esiid)
            self.verbs.append((msg.verb, mrid))
            ids.append(mrid)
        return reply(
            msg,
            source=self.system,
            errors=[ReplyError("0.0", "INFORM", f"{msg.verb} accepted")],
            reply_ids=ids,
            timestamp=self.clock.now().isoformat(),
        )

    def acknowledge(self, mrid: str, outcome: str = "processed") -> None:
        code, esiid = self.controls[mrid]
        spec = self.profile.meter(esiid)
        self.send(
            device_event(
                acknowledgement_for(code, outcome),
                tracking=mrid,
                created=self.clock.now().isoformat(),
                mrid=str(uuid.uuid4()),
                issuer=self.system,
                meter=spec.meter,
                esiid=esiid,
                details={"ControlType": code},
                source=self.system,
                timestamp=self.clock.now(),
            )
        )


def test_on_demand_read_and_ping_through_cimbus(sim_world) -> None:
    world = sim_world(routes=DIRECT_ROUTES)
    hes = world.attach(StubHes("demo"))
    cis = world.attach(Cis("demo"))
    answer = cis.on_demand_read(GOLDEN, *WINDOW)
    assert answer.result == "OK", answer.errors
    (asked,) = hes.received("get", "MeterReadings")
    (record,) = cis.reads_for(GOLDEN)
    assert record.message_id == asked.message_id and record.organization == "REP-BLUEBONNET"
    assert len(record.intervals) == 8 and record.registers[0][1] == 48256.949
    ping = cis.ping(GOLDEN)
    assert ping.result == "OK", ping.errors
    assert cis.pings_for(GOLDEN)[0].result == "OK"
    assert [code for code, _ in hes.controls.values()] == [controls.POWER_STATUS_PING]
    assert cis.switch_position(GOLDEN)["energised"] is True


def test_orders_are_accepted_replied_and_completed(sim_world) -> None:
    world = sim_world(routes=DIRECT_ROUTES, subscriptions=EVENTS_TO_CIS)
    hes = world.attach(StubHes("demo"))
    cis = world.attach(Cis("demo"))
    mdms = world.attach(Mdms("demo"))
    oid = cis.disconnect(GOLDEN)
    order = cis.order(oid)
    assert order.state in (ACCEPTED, REPLIED)  # the 0.1 acknowledgement came back at once
    wait_for(lambda: order.state == REPLIED)
    assert hes.controls[oid] == (controls.REMOTE_DISCONNECT, GOLDEN)
    hes.acknowledge(oid)
    wait_for(lambda: order.state == COMPLETED)
    assert (
        order.outcome == "processed"
        and order.events[0]["details"]["ControlType"] == controls.REMOTE_DISCONNECT
    )
    changes = [h["state"] for h in order.history if h["changed"]]
    # the head-end's reply may overtake cimbus's 0.1 acknowledgement: then "accepted" is skipped
    assert changes in ([ACCEPTED, REPLIED, COMPLETED], [REPLIED, COMPLETED])
    assert cis.events_for(GOLDEN)[0]["issuerTrackingID"] == oid
    assert cis.switch_position(GOLDEN)["contactor"] == "Opened"
    wait_for(lambda: mdms.events_for(GOLDEN))  # the MDMS logs the acknowledgement too (B2-4)

    # B2-2: a scheduled limit is rescheduled, then cancelled
    lim = cis.order(cis.limit(GOLDEN, 90, at="2026-05-13T10:00:00-05:00"))
    wait_for(lambda: lim.state == REPLIED)
    cis.reschedule(lim.id, "2026-05-13T13:00:00-05:00")
    wait_for(lambda: lim.scheduled_at == parse_time("2026-05-13T13:00:00-05:00"))
    cis.cancel_order(lim.id)
    wait_for(lambda: lim.state == CANCELLED)
    assert [v for v, m in hes.verbs if m == lim.id] == ["create", "change", "cancel"]


def test_credit_escalation_over_the_bus(sim_world) -> None:
    world = sim_world(routes=DIRECT_ROUTES, subscriptions=EVENTS_TO_CIS)
    hes = world.attach(StubHes("demo"))
    cis = world.attach(Cis("demo"))
    ids = [cis.credit_escalate("CUST-GOLDEN")[0] for _ in range(3)]
    for oid in ids:
        hes_ack_when_replied(cis, hes, oid)
    assert [hes.controls[i][0] for i in ids] == [
        controls.LOAD_LIMIT_ENABLE,
        controls.LOAD_LIMIT_ENABLE,
        controls.REMOTE_DISCONNECT,
    ]
    assert cis.switch_position(GOLDEN) | {"as_of": None} == {
        "contactor": "Opened",
        "limit_level": 75,
        "energised": None,
        "as_of": None,
    }
    back = cis.payment_received("CUST-GOLDEN")
    for oid in back:
        hes_ack_when_replied(cis, hes, oid)
    assert [hes.controls[i][0] for i in back] == [
        controls.REMOTE_CONNECT,
        controls.LOAD_LIMIT_DISABLE,
    ]
    assert cis.switch_position(GOLDEN)["contactor"] == "Closed"
    assert cis.switch_position(GOLDEN)["limit_level"] is None
    assert cis.credit_status("CUST-GOLDEN") == "good"


def hes_ack_when_replied(cis: Cis, hes: StubHes, oid: str) -> None:
    order = cis.order(oid)
    wait_for(lambda: order.state == REPLIED)
    hes.acknowledge(oid)
    wait_for(lambda: order.state == COMPLETED)


def test_fault_knobs_change_the_order_outcome(sim_world) -> None:
    world = sim_world(routes=DIRECT_ROUTES, subscriptions=EVENTS_TO_CIS)
    hes = world.attach(StubHes("demo"))
    cis = world.attach(Cis("demo"))
    # the head-end takes the command but never answers: cimbus answers FAILED 4.1 at the
    # CIS's ReplyAddress when the route timeout (2 s) expires
    hes.faults.set(no_reply=1.0)
    order = cis.order(cis.connect(GOLDEN))
    assert order.state == ACCEPTED
    wait_for(lambda: order.state == FAILED, timeout=20)
    assert order.replies[-1]["errors"][0]["code"] == "4.1"
    hes.faults.clear()
    # the meter reports an error: the order fails
    order = cis.order(cis.connect(GOLDEN))
    wait_for(lambda: order.state == REPLIED)
    hes.acknowledge(order.id, "error")
    wait_for(lambda: order.state == FAILED)
    assert order.outcome == "error"
    # a CIS that drops what it receives never learns of the reply
    cis.faults.set(drop=1.0)
    order = cis.order(cis.connect(GOLDEN))
    wait_for(lambda: cis.faults.counts["drop"] >= 1)  # the head-end's reply, ignored
    assert ("create", order.id) in hes.verbs and order.state == ACCEPTED
    # a disconnected CIS cannot send the order at all
    cis.faults.set(drop=0.0, disconnect=True)
    order = cis.order(cis.disconnect(GOLDEN))
    assert order.state == FAILED and "not delivered" in order.history[-1]["note"]


def test_odr_chain_through_cimbus_smt_service(sim_world) -> None:
    """The MDMS's VEE posting sets SMT's last VEE end (ODR-7); the CIS's read without a window
    gets non-VEE data from there to now (ODR-1, ODR-2, ODR-3); a second read that day is
    refused (ODR-5), another ROR is refused (ODR-4); a ping goes through SMT too."""
    world = sim_world(
        routes=[
            {"verb": "get", "noun": "MeterReadings", "source": "CIS", "target": "SMT"},
            {"verb": "get", "noun": "MeterReadings", "target": "HES", "timeout": 10},
            {"verb": "create", "noun": "EndDeviceControls", "source": "CIS", "target": "SMT"},
            {"verb": "create", "noun": "EndDeviceControls", "target": "HES", "timeout": 5},
        ],
        subscriptions=[{"verb": "created", "noun": "MeterReadings", "subscribers": ["SMT"]}],
        systems={"HES": {}, "MDMS": {}, "CIS": {}, "SMT": {"transport": "local", "address": "smt"}},
        smt={"timeout": 10},
    )
    hes = world.attach(StubHes("demo"))
    cis = world.attach(Cis("demo"))
    mdms = world.attach(Mdms("demo", clock=cis.clock))
    smt = world.runtime.smt
    smt.clock = cis.clock.now  # SMT's "now" is the simulated time too
    spec = cis.profile.meter(GOLDEN)
    smt.provision(GOLDEN, ror=spec.ror, meter_number=spec.meter)

    mdms.post_daily_vee(date(2026, 5, 11), [GOLDEN])
    wait_for(lambda: world.store.last_vee_end(GOLDEN) is not None)

    answer = cis.on_demand_read(GOLDEN)  # clock: 2026-05-12 09:00 local
    assert answer.result == "OK", answer.errors
    record = cis.reads_for(GOLDEN)[-1]
    assert len(record.intervals) == 36  # 00:00 -> 09:00, after the last VEE end
    assert record.intervals[0][0] == "2026-05-12T00:15:00-05:00"
    assert {q for _, _, q in record.intervals} == {NON_VEE}
    again = cis.on_demand_read(GOLDEN)
    assert again.result == "FAILED" and again.errors[0]["code"] == "2.7"  # ODR-5 throttle
    other = cis.on_demand_read(GOLDEN, org="REP-LONESTAR")
    assert other.result == "FAILED" and other.errors[0]["code"] == "3.2"  # ODR-4
    assert len(hes.received("get", "MeterReadings")) == 2  # the VEE gap read + one ODR read
    assert cis.ping(GOLDEN).result == "OK"
    assert cis.ping(GOLDEN).result == "FAILED"  # one ping per ESIID per day
