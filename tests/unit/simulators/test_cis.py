"""The CIS simulator: ODR message shapes (ODR-1), ROR organisation per ESIID (ODR-4), pings
(ODR-5), switch orders and their state machine (B2-1, B2-2, B2-4, B2-15), credit escalation
(B2-17)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from cim_models.build import ReplyError
from cim_models.codec import Codec
from cim_models.codes import (
    INTERVAL_15MIN_KWH_DELIVERED,
    acknowledgement_for,
    controls,
    events,
    results,
)
from simulators import SIMULATORS
from simulators._core import (
    E,
    Incoming,
    SimError,
    SimulatorError,
    failed,
    load_profile,
    reply,
)
from simulators._core.profile import profile_from_mapping
from simulators.cis import ACCEPTED, CANCELLED, COMPLETED, FAILED, REPLIED, SENT, Cis
from simulators.mdms.messages import usage_point_el
from tests.unit.simulators.stubs import device_event

CODEC = Codec()
GOLDEN = "10443720001234567"  # AMS-GOLDEN, ROR REP-BLUEBONNET, customer CUST-GOLDEN
LONESTAR = "10443720000000002"  # AMS-0002: generated meters alternate the two RORs
EXCHANGES = Path(__file__).resolve().parents[3] / "conformance" / "exchanges"
EDC = "{http://iec.ch/TC57/2011/EndDeviceControls#}"


def accepted(msg: Incoming) -> bytes:
    """What cimbus answers an async request: Result OK, code 0.1."""
    return reply(msg, source="CIMBUS", errors=[ReplyError("0.1", "INFORM", "accepted for HES")])


class FakeClient:
    """Stands in for the bus: records and validates what is sent; answers requests."""

    queue = "cimbus.system.CIS"

    def __init__(self, respond: Callable[[Incoming], bytes] | None = None) -> None:
        self.sent: list[Incoming] = []
        self.respond = respond or self.default

    @staticmethod
    def default(msg: Incoming) -> bytes:
        if msg.header.get("AsyncReplyFlag"):
            return accepted(msg)
        return reply(msg, source="CIMBUS")

    def serve(self, handler: object) -> None:
        pass

    def send(self, body: bytes) -> None:
        CODEC.decode(body)
        self.sent.append(Incoming.parse(body, CODEC))

    def request(self, body: bytes, timeout: float = 30.0) -> bytes:
        CODEC.decode(body)  # everything the CIS sends validates against the XSDs
        msg = Incoming.parse(body, CODEC)
        self.sent.append(msg)
        return self.respond(msg)

    def close(self) -> None:
        pass


@pytest.fixture
def cis() -> tuple[Cis, FakeClient]:
    sim = Cis("demo")
    client = FakeClient()
    sim.attach(client)
    return sim, client


def paths(el: etree._Element, prefix: str = "") -> list[tuple[str, str]]:
    """(local path, text) of every element below ``el``, in document order."""
    out = []
    for c in el:
        if not isinstance(c.tag, str):
            continue
        p = f"{prefix}/{etree.QName(c).localname}"
        out.append((p, (c.text or "").strip()))
        out.extend(paths(c, p))
    return out


def header_names(msg: Incoming) -> list[str]:
    return [etree.QName(c).localname for c in msg.child("Header")]


def hes_reply(request_msg: Incoming, result: str = "OK", reason: str = "scheduled") -> bytes:
    """The head-end's reply to an async request, as cimbus forwards it to ReplyAddress."""
    if result == "OK":
        return reply(request_msg, source="HES", errors=[ReplyError("0.0", "INFORM", reason)])
    return failed(request_msg, SimError("2.7", reason), source="HES")


def ack(
    order_id: str, code: str, esiid: str = GOLDEN, meter: str = "AMS-GOLDEN", **details: str
) -> bytes:
    return device_event(
        code,
        tracking=order_id,
        created="2026-05-12T09:00:30-05:00",
        issuer="HES",
        meter=meter,
        esiid=esiid,
        details=details,
    )


def last_request(client: FakeClient, verb: str) -> Incoming:
    return [m for m in client.sent if m.verb == verb][-1]


# ---------------------------------------------------------------- population, organisations
def test_catalogue_points_at_the_class() -> None:
    assert SIMULATORS["cis"].load() is Cis
    assert Cis.system == "CIS" and Cis.name == "cis"


def test_acts_for_the_ror_organisations_of_its_system() -> None:
    sim = Cis("demo")
    assert sim.organizations == ("REP-BLUEBONNET", "REP-LONESTAR")
    assert sim.ror_of(GOLDEN) == "REP-BLUEBONNET" and sim.ror_of(LONESTAR) == "REP-LONESTAR"
    c = sim.customer("CUST-GOLDEN")
    assert c["account"] == "ACC-GOLDEN" and c["credit_status"] == "good"
    assert [u["esiid"] for u in c["usage_points"]] == [GOLDEN]
    with pytest.raises(KeyError):
        sim.customer("nobody")


def test_each_request_carries_the_esiids_ror_and_a_csr_user(cis) -> None:
    sim, client = cis
    sim.on_demand_read(LONESTAR)
    sim.disconnect(GOLDEN)
    read, order = client.sent
    assert read.organization == "REP-LONESTAR" and read.user_id == "csr.sim"
    assert order.organization == "REP-BLUEBONNET" and order.user_id == "csr.sim"
    sim.on_demand_read(GOLDEN, org="REP-LONESTAR", user="csr.other")  # e.g. to show ODR-4 refusals
    assert client.sent[-1].organization == "REP-LONESTAR" and client.sent[-1].user_id == "csr.other"


def test_an_esiid_of_a_ror_it_does_not_act_for_needs_an_explicit_org() -> None:
    profile = profile_from_mapping(
        {
            "organizations": [
                {"id": "REP-A", "role": "ROR", "system": "CIS"},
                {"id": "REP-Z", "role": "ROR", "system": "OTHER-CIS"},
            ],
            "meters": [{"esiid": "10000000000000001", "meter": "M1", "ror": "REP-Z"}],
        }
    )
    sim = Cis(profile)
    sim.attach(FakeClient())
    assert sim.organizations == ("REP-A",)
    with pytest.raises(ValueError, match="does not act for"):
        sim.on_demand_read("10000000000000001")
    sim.on_demand_read("10000000000000001", org="REP-A")
    with pytest.raises(KeyError):
        sim.connect("99999999999999999")


# ---------------------------------------------------------------- ODR messages
def test_on_demand_read_is_shaped_like_the_golden_get(cis) -> None:
    sim, client = cis
    golden = Incoming.parse(
        (EXCHANGES / "MeterReadings/get/GetMeterReadings.xml").read_bytes(), CODEC
    )
    sim.on_demand_read(GOLDEN, "2026-05-11T00:00:00-05:00", "2026-05-12T00:00:00-05:00")
    ours = client.sent[-1]
    assert (ours.verb, ours.noun, ours.form) == ("get", "MeterReadings", "get")
    assert paths(ours.request) == paths(golden.request)  # same elements, order and values
    mine = header_names(ours)
    assert set(mine) <= set(header_names(golden))
    assert [n for n in header_names(golden) if n in mine] == mine  # same order
    assert ours.header["AsyncReplyFlag"] is False or ours.header["AsyncReplyFlag"] in (
        "false",
        False,
    )
    assert ours.header["Comment"] == golden.header["Comment"]


def test_on_demand_read_without_window_leaves_it_to_smt(cis) -> None:
    sim, client = cis
    sim.on_demand_read(GOLDEN)
    msg = client.sent[-1]
    assert msg.window() == (None, None)
    assert [p for p, _ in paths(msg.get_filter)][:2] == ["/ReadingType", "/ReadingType/mRID"]
    assert msg.get_filter.find("{*}Reading") is None
    # datetimes are written in local time with offset, like the golden
    sim.on_demand_read(GOLDEN, start="2026-05-11T05:00:00Z")
    assert client.sent[-1].window() == ("2026-05-11T00:00:00-05:00", None)


def test_on_demand_read_is_recorded_per_esiid_with_what_came_back() -> None:
    def respond(msg: Incoming) -> bytes:
        payload = E.mr(
            "MeterReadings",
            E.mr(
                "MeterReading",
                E.mr(
                    "IntervalBlocks",
                    E.mr(
                        "IntervalReadings",
                        E.mr("timeStamp", "2026-05-11T00:15:00-05:00"),
                        E.mr("value", "0.266"),
                        E.mr("ReadingQualities", E.mr("ReadingQualityType", ref="2.0.0")),
                    ),
                    E.mr("ReadingType", ref=INTERVAL_15MIN_KWH_DELIVERED),
                ),
                usage_point_el(GOLDEN),
            ),
        )
        return reply(msg, source="CIMBUS", payload=[payload])

    sim = Cis("demo")
    sim.attach(FakeClient(respond))
    answer = sim.on_demand_read(GOLDEN, "2026-05-11T00:00:00-05:00", "2026-05-11T01:00:00-05:00")
    assert answer.result == "OK"
    (record,) = sim.reads_for(GOLDEN)
    assert record.result == "OK" and record.organization == "REP-BLUEBONNET"
    assert record.intervals == [("2026-05-11T00:15:00-05:00", 0.266, "2.0.0")]
    assert sim.reads_for("AMS-GOLDEN") == [record]


def test_refused_read_is_returned_and_recorded(cis) -> None:
    sim, client = cis
    client.respond = lambda m: failed(m, SimError("3.2", "not the Rep of Record"), source="CIMBUS")
    answer = sim.on_demand_read(GOLDEN, org="REP-LONESTAR")
    assert answer.result == "FAILED" and answer.errors[0]["code"] == "3.2"
    assert sim.reads_for(GOLDEN)[-1].errors[0]["code"] == "3.2"


def test_no_answer_raises_and_is_recorded(cis) -> None:
    sim, client = cis

    def timeout(msg: Incoming) -> bytes:
        raise TimeoutError("cimbus did not answer")

    client.respond = timeout
    with pytest.raises(SimulatorError, match="no answer"):
        sim.on_demand_read(GOLDEN)
    assert sim.reads_for(GOLDEN)[-1].result == "NO_ANSWER"
    with pytest.raises(SimulatorError):
        sim.ping(GOLDEN)
    assert sim.pings_for(GOLDEN)[-1].result == "NO_ANSWER"


def test_ping_is_a_sync_power_status_control_for_the_usage_point(cis) -> None:
    sim, client = cis
    answer = sim.ping(GOLDEN)
    assert answer.result == "OK"
    msg = client.sent[-1]
    assert (msg.verb, msg.noun) == ("create", "EndDeviceControls")
    assert msg.header.get("AsyncReplyFlag") in (False, "false")
    control = msg.payload[0].find(f"{EDC}EndDeviceControl")
    assert control.find(f"{EDC}EndDeviceControlType").get("ref") == controls.POWER_STATUS_PING
    assert control.findtext(f"{EDC}UsagePoints/{EDC}Names/{EDC}name") == GOLDEN
    assert control.findtext(f"{EDC}UsagePoints/{EDC}Names/{EDC}NameType/{EDC}name") == "ESIID"
    assert control.findtext(f"{EDC}EndDevices/{EDC}mRID") == "AMS-GOLDEN"
    assert control.find(f"{EDC}primaryDeviceTiming") is None
    (record,) = sim.pings_for(GOLDEN)
    assert record.result == "OK" and record.control_id == control.findtext(f"{EDC}mRID")
    assert sim.switch_position(GOLDEN)["energised"] is True


# ---------------------------------------------------------------- B2 order messages
def test_scheduled_disconnect_is_shaped_like_the_golden_create(cis) -> None:
    sim, client = cis
    golden = Incoming.parse(
        (EXCHANGES / "EndDeviceControls/CreateEndDeviceControls.xml").read_bytes(), CODEC
    )
    oid = sim.disconnect(GOLDEN, at="2026-05-14T10:00:00-05:00")
    msg = client.sent[-1]
    assert msg.header["AsyncReplyFlag"] in (True, "true")
    assert msg.header["ReplyAddress"] == "cimbus.system.CIS"
    assert header_names(msg) == [n for n in header_names(golden) if n in header_names(msg)]
    ours = msg.payload[0].find(f"{EDC}EndDeviceControl")
    theirs = golden.payload[0].find(f"{EDC}EndDeviceControl")
    ours_paths = [p for p, _ in paths(ours)]
    assert [p for p in ours_paths if p != "/EndDevices/mRID"] == [p for p, _ in paths(theirs)]
    assert ours.findtext(f"{EDC}mRID") == oid
    assert ours.findtext(f"{EDC}issuerTrackingID") == sim.order(oid).number
    assert (
        ours.findtext(f"{EDC}primaryDeviceTiming/{EDC}interval/{EDC}start")
        == "2026-05-14T10:00:00-05:00"
    )
    assert ours.find(f"{EDC}EndDeviceControlType").get("ref") == controls.REMOTE_DISCONNECT


def test_order_kinds_carry_their_control_level_and_timing(cis) -> None:
    sim, client = cis
    expected = {
        sim.connect(GOLDEN): (controls.REMOTE_CONNECT, None),
        sim.limit(GOLDEN, 75, at="2026-05-13T08:00:00-05:00"): (controls.LOAD_LIMIT_ENABLE, "75"),
        sim.restore(GOLDEN): (controls.LOAD_LIMIT_DISABLE, None),
        sim.switch_status(GOLDEN): (controls.SWITCH_STATUS_READ, None),
    }
    for msg in client.sent:
        control = msg.payload[0].find(f"{EDC}EndDeviceControl")
        code, level = expected[control.findtext(f"{EDC}mRID")]
        assert control.find(f"{EDC}EndDeviceControlType").get("ref") == code
        assert control.findtext(f"{EDC}drProgramLevel") == level
        on_demand = control.find(f"{EDC}primaryDeviceTiming") is None
        assert on_demand == (code != controls.LOAD_LIMIT_ENABLE)
    with pytest.raises(ValueError):
        sim.limit(GOLDEN, 150)


def test_cancel_and_reschedule_messages(cis) -> None:
    sim, client = cis
    oid = sim.disconnect(GOLDEN, at="2026-05-15T10:00:00-05:00")
    sim.reschedule(oid, "2026-05-15T13:00:00-05:00")
    change = last_request(client, "change")
    control = change.payload[0].find(f"{EDC}EndDeviceControl")
    assert control.findtext(f"{EDC}mRID") == oid
    assert (
        control.findtext(f"{EDC}primaryDeviceTiming/{EDC}interval/{EDC}start")
        == "2026-05-15T13:00:00-05:00"
    )
    sim.cancel_order(oid)
    cancel = last_request(client, "cancel")
    golden = Incoming.parse(
        (EXCHANGES / "EndDeviceControls/CancelEndDeviceControls.xml").read_bytes(), CODEC
    )
    theirs = golden.payload[0].find(f"{EDC}EndDeviceControl")
    ours = cancel.payload[0].find(f"{EDC}EndDeviceControl")
    assert [p for p, _ in paths(ours)] == [p for p, _ in paths(theirs)]
    assert cancel.header["AsyncReplyFlag"] in (True, "true") and sim.order(oid).cancel_requested


# ---------------------------------------------------------------- the order state machine
def test_order_goes_sent_accepted_replied_completed(cis) -> None:
    sim, client = cis
    states = []

    def respond(msg: Incoming) -> bytes:
        states.append(sim.order(msg.payload[0].findtext(f"{EDC}EndDeviceControl/{EDC}mRID")).state)
        return accepted(msg)

    client.respond = respond
    oid = sim.disconnect(GOLDEN)
    assert states == [SENT]
    order = sim.order(oid)
    assert order.state == ACCEPTED
    create = last_request(client, "create")
    sim.handle(hes_reply(create))
    assert order.state == REPLIED
    sim.handle(
        ack(
            oid,
            acknowledgement_for(controls.REMOTE_DISCONNECT, "processed"),
            ContactorStatus="Opened",
        )
    )
    assert order.state == COMPLETED and order.outcome == "processed"
    assert [h["state"] for h in order.history if h["changed"]] == [ACCEPTED, REPLIED, COMPLETED]
    assert sim.orders[oid] is order and sim.orders_for(GOLDEN) == [order]
    assert sim.events_for(GOLDEN)[0]["issuerTrackingID"] == oid
    assert sim.switch_position(GOLDEN)["contactor"] == "Opened"


def test_failed_reply_and_failed_acknowledgement(cis) -> None:
    sim, client = cis
    a = sim.connect(GOLDEN)
    sim.handle(hes_reply(last_request(client, "create"), "FAILED", "meter not reachable"))
    assert (
        sim.order(a).state == FAILED and "meter not reachable" in sim.order(a).history[-1]["note"]
    )
    b = sim.disconnect(GOLDEN)
    sim.handle(hes_reply(last_request(client, "create")))
    sim.handle(ack(b, results.DISCONNECT_FAILED))
    assert sim.order(b).state == FAILED and sim.order(b).outcome == "failed"
    c = sim.limit(GOLDEN, 90)
    sim.handle(ack(c, acknowledgement_for(controls.LOAD_LIMIT_ENABLE, "error")))
    assert sim.order(c).state == FAILED


def test_refusal_by_cimbus_and_undeliverable_request_fail_the_order(cis) -> None:
    sim, client = cis
    client.respond = lambda m: failed(m, SimError("2.5", "no route"), source="CIMBUS")
    assert sim.order(sim.connect(GOLDEN)).state == FAILED

    def boom(msg: Incoming) -> bytes:
        raise TimeoutError("nobody there")

    client.respond = boom
    order = sim.order(sim.connect(GOLDEN))
    assert order.state == FAILED and "not delivered" in order.history[-1]["note"]


def test_event_before_reply_and_late_reply_do_not_go_backwards(cis) -> None:
    sim, client = cis
    oid = sim.connect(GOLDEN)
    create = last_request(client, "create")
    sim.handle(ack(oid, results.CONNECTED))
    assert sim.order(oid).state == COMPLETED
    sim.handle(hes_reply(create, "FAILED", "too late"))
    order = sim.order(oid)
    assert order.state == COMPLETED and len(order.replies) == 1
    assert sim.switch_position(GOLDEN)["contactor"] == "Closed"


def test_cancel_confirmed_refused_and_reschedule(cis) -> None:
    sim, client = cis
    oid = sim.disconnect(GOLDEN, at="2026-05-15T10:00:00-05:00")
    sim.reschedule(oid, "2026-05-15T13:00:00-05:00")
    sim.handle(hes_reply(last_request(client, "change")))
    assert sim.order(oid).scheduled_at.isoformat() == "2026-05-15T13:00:00-05:00"
    sim.cancel_order(oid)
    sim.handle(hes_reply(last_request(client, "cancel"), "FAILED", "already executed"))
    assert sim.order(oid).state == ACCEPTED and not sim.order(oid).cancel_requested
    sim.cancel_order(oid)
    sim.handle(hes_reply(last_request(client, "cancel")))
    assert sim.order(oid).state == CANCELLED
    with pytest.raises(ValueError):
        sim.cancel_order(oid)
    with pytest.raises(ValueError):
        sim.reschedule(oid, "2026-05-16T10:00:00-05:00")
    with pytest.raises(KeyError):
        sim.cancel_order("nope")


def test_unmatched_replies_and_foreign_events_are_kept() -> None:
    sim = Cis("demo")
    stray = Incoming.parse(
        reply(Incoming.parse(ack("x", events.LAST_GASP), CODEC), source="HES"), CODEC
    )
    sim.on_reply(stray)
    assert len(sim.unmatched_replies) == 1
    sim.handle(ack("not-an-order", events.LAST_GASP))
    assert sim.events_for(GOLDEN)[0]["code"] == events.LAST_GASP
    assert sim.switch_position(GOLDEN)["energised"] is False
    sim.handle(ack("", events.POWER_RESTORED))
    assert sim.switch_position(GOLDEN)["energised"] is True


def test_switch_status_order_reports_position_b2_15(cis) -> None:
    sim, _client = cis
    oid = sim.switch_status(GOLDEN)
    sim.handle(
        ack(
            oid,
            acknowledgement_for(controls.SWITCH_STATUS_READ, "processed"),
            ContactorStatus="Closed",
            LimitLevel="75",
        )
    )
    order = sim.order(oid)
    assert order.state == COMPLETED and order.switch == {
        "ContactorStatus": "Closed",
        "LimitLevel": "75",
    }
    pos = sim.switch_position(GOLDEN)
    assert pos["contactor"] == "Closed" and pos["limit_level"] == 75 and pos["as_of"]


def test_completed_orders_update_position_without_details(cis) -> None:
    sim, _client = cis
    oid = sim.limit(GOLDEN, 90)
    sim.handle(ack(oid, acknowledgement_for(controls.LOAD_LIMIT_ENABLE, "processed")))
    assert sim.switch_position(GOLDEN)["limit_level"] == 90
    oid = sim.restore(GOLDEN)
    sim.handle(ack(oid, results.LOAD_LIMIT_DISABLED))
    assert sim.switch_position(GOLDEN)["limit_level"] is None


# ---------------------------------------------------------------- credit (B2-17)
def _levels(client: FakeClient) -> list[tuple[str, str | None]]:
    out = []
    for msg in client.sent:
        control = msg.payload[0].find(f"{EDC}EndDeviceControl")
        out.append(
            (
                msg.verb,
                control.find(f"{EDC}EndDeviceControlType").get("ref"),
                control.findtext(f"{EDC}drProgramLevel"),
            )
        )
    return out


def test_credit_escalates_limit_90_then_75_then_disconnect(cis) -> None:
    sim, client = cis
    assert sim.credit_status("CUST-GOLDEN") == "good"
    ids = [sim.credit_escalate("CUST-GOLDEN") for _ in range(3)]
    assert all(len(i) == 1 for i in ids)
    assert _levels(client) == [
        ("create", controls.LOAD_LIMIT_ENABLE, "90"),
        ("create", controls.LOAD_LIMIT_ENABLE, "75"),
        ("create", controls.REMOTE_DISCONNECT, None),
    ]
    assert sim.credit_status("CUST-GOLDEN") == "disconnected"
    assert all(sim.order(i[0]).credit for i in ids)
    with pytest.raises(ValueError, match="already disconnected"):
        sim.credit_escalate("CUST-GOLDEN")
    client.sent.clear()
    sim.payment_received("CUST-GOLDEN")
    assert _levels(client) == [
        ("create", controls.REMOTE_CONNECT, None),
        ("create", controls.LOAD_LIMIT_DISABLE, None),
    ]
    assert sim.credit_status("CUST-GOLDEN") == "good"


def test_payment_cancels_a_scheduled_credit_disconnect(cis) -> None:
    sim, client = cis
    sim.credit_escalate("CUST-GOLDEN")  # limit 90 % now
    (disc,) = [*sim.credit_escalate("CUST-GOLDEN", at="2026-05-12T10:00:00-05:00")]  # 75 % later
    client.sent.clear()
    touched = sim.payment_received("CUST-GOLDEN")
    assert disc in touched and sim.order(disc).cancel_requested
    assert _levels(client) == [
        ("cancel", controls.LOAD_LIMIT_ENABLE, None),
        ("create", controls.LOAD_LIMIT_DISABLE, None),
    ]


def test_credit_status_is_changeable_and_drives_the_next_step(cis) -> None:
    sim, client = cis
    sim.set_credit("CUST-GOLDEN", "limited_75")
    sim.credit_escalate("CUST-GOLDEN")
    assert _levels(client)[-1] == ("create", controls.REMOTE_DISCONNECT, None)
    sim.set_credit("CUST-GOLDEN", "disconnected")
    sim2 = Cis("demo", credit_levels=[50])
    assert [s[2] for s in sim2.credit_steps] == [50, None]
    with pytest.raises(KeyError):
        sim.set_credit("nobody", "good")
    assert load_profile("demo").customer("CUST-GOLDEN").credit_status == "good"


# ---------------------------------------------------------------- REST
def test_rest_customers_usage_points_orders_reads(cis) -> None:
    sim, _client = cis
    api = TestClient(sim.api())
    assert api.get("/customers/CUST-GOLDEN").json()["usage_points"][0]["esiid"] == GOLDEN
    assert api.get("/customers/nobody").status_code == 404
    created = api.post("/orders", json={"kind": "limit", "esiid": GOLDEN, "level": 90})
    assert created.status_code == 200 and created.json()["state"] == ACCEPTED
    assert api.post("/orders", json={"kind": "explode", "esiid": GOLDEN}).status_code == 422
    assert api.post("/orders", json={"kind": "connect", "esiid": "nope"}).status_code == 404
    oid = created.json()["id"]
    assert [o["id"] for o in api.get("/orders", params={"esiid": GOLDEN}).json()] == [oid]
    assert api.get(f"/orders/{oid}").json()["level"] == 90
    assert api.delete(f"/orders/{oid}").json()["cancel_requested"] is True
    up = api.get(f"/usage-points/{GOLDEN}").json()
    assert up["ror"] == "REP-BLUEBONNET" and up["orders"][0]["id"] == oid
    read = api.post(f"/reads/{GOLDEN}", params={"start": "2026-05-11T00:00:00-05:00"})
    assert read.status_code == 200 and read.json()["result"] == "OK"
    assert api.post("/customers/CUST-GOLDEN/escalate").json()["credit_status"] == "limited_90"
    assert api.post("/customers/CUST-GOLDEN/payment").json()["credit_status"] == "good"
    assert api.get("/").json()["orders"]
