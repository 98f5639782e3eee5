"""The MDMS simulator over the wire (embedded bus and RabbitMQ): it serves get MeterReadings
through cimbus, its daily VEE posting reaches the subscribers of created MeterReadings
(a test system and cimbus's SMT service, whose "last VEE end" moves: ODR-7 -> ODR-2), it asks
the head-end for gaps, and it logs on-demand reads and switch events (B2-4, B2-10). The
head-end is a small stub here (the real one is simulators.headend)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from cim_models.codes import (
    DEVICE_VALID,
    MDM_ESTIMATED,
    REGISTER_KWH_DELIVERED,
    VEE_VALIDATED,
    acknowledgement_for,
    controls,
)
from simulators._core import E, Incoming, Simulator, event, handles, parse_time, reply, request
from simulators.mdms import Mdms, interval_ends
from simulators.mdms.messages import meter_el, usage_point_el
from tests.unit.simulators.stubs import (
    asked_for,
    device_event,
    interval_meter_reading,
    readings_of,
    wait_for,
)

pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.sim_fixtures"]

GOLDEN = "10443720001234567"
OTHER = "10443720000000001"
SYSTEMS = {
    "HES": {},
    "MDMS": {},
    "CIS": {},
    "SUB": {},
    "SMT": {"transport": "local", "address": "smt"},
}
ROUTES = [
    # the MDMS's own gap reads go to the head-end, everyone else's reads to the MDMS
    {"verb": "get", "noun": "MeterReadings", "source": "MDMS", "target": "HES", "timeout": 10},
    {"verb": "get", "noun": "MeterReadings", "target": "MDMS", "timeout": 10},
]


class StubHes(Simulator):
    """Plays the head-end: answers get MeterReadings for the usage points named (0.25 kWh per
    interval, DEVICE_VALID); a meter whose key (ESIID) has ``disconnect`` does not answer."""

    name = "stub-hes"
    system = "HES"

    @handles("get", "MeterReadings")
    def get(self, msg: Incoming) -> bytes:
        start, end, esiids = asked_for(msg, self.clock.now())
        readings = []
        for esiid in esiids:
            if self.faults.knobs(esiid).disconnect:
                continue
            spec = self.profile.meter(esiid)
            readings.append(interval_meter_reading(esiid, spec.meter, interval_ends(start, end)))
        return reply(msg, source=self.system, payload=[E.mr("MeterReadings", readings)])

    def send_switch_read(self, esiid: str, register: float) -> None:
        """The on-demand read a meter gives at a switch event (B2-10)."""
        spec = self.profile.meter(esiid)
        ts = self.clock.now().isoformat()
        self.send(
            event(
                "created",
                "MeterReadings",
                [
                    E.mr(
                        "MeterReadings",
                        E.mr(
                            "MeterReading",
                            meter_el(spec.meter),
                            E.mr(
                                "Readings",
                                E.mr("reason", "serviceDisconnect"),
                                E.mr("timeStamp", ts),
                                E.mr("value", f"{register:.3f}"),
                                E.mr(
                                    "ReadingQualities", E.mr("ReadingQualityType", ref=DEVICE_VALID)
                                ),
                                E.mr("ReadingType", ref=REGISTER_KWH_DELIVERED),
                            ),
                            usage_point_el(esiid),
                        ),
                    )
                ],
                source=self.system,
                timestamp=self.clock.now(),
            )
        )

    def send_ack(self, esiid: str, control_id: str) -> None:
        spec = self.profile.meter(esiid)
        self.send(
            device_event(
                acknowledgement_for(controls.REMOTE_DISCONNECT, "processed"),
                tracking=control_id,
                created=self.clock.now().isoformat(),
                issuer=self.system,
                meter=spec.meter,
                esiid=esiid,
                details={"ContactorStatus": "Opened"},
                source=self.system,
                timestamp=self.clock.now(),
            )
        )


class Recorder(Simulator):
    """A test system subscribed to created MeterReadings (in place of, and beside, SMT)."""

    name = "recorder"
    system = "SUB"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.events: list[Incoming] = []

    def on_event(self, incoming: Incoming) -> None:
        self.events.append(incoming)


class Asker(Simulator):
    name = "asker"
    system = "CIS"


def _get(esiid: str, start: str, end: str) -> bytes:
    return request(
        "get",
        "MeterReadings",
        source="CIS",
        get_filter=E.gmr("GetMeterReadings", usage_point_el(esiid, prefix="gmr")),
        start=start,
        end=end,
    )


def test_mdms_serves_get_meter_readings_through_cimbus(sim_world) -> None:
    world = sim_world(
        routes=ROUTES,
        subscriptions=[{"verb": "created", "noun": "MeterReadings", "subscribers": ["SUB"]}],
        systems=SYSTEMS,
    )
    hes = world.attach(StubHes("demo"))
    mdms = world.attach(Mdms("demo"))
    sub = world.attach(Recorder("demo"))
    cis = world.attach(Asker("demo"))
    ends = interval_ends(
        parse_time("2026-05-11T00:00:00-05:00"), parse_time("2026-05-12T00:00:00-05:00")
    )
    mdms.ingest(GOLDEN, [(t, 0.3) for t in ends[:40]] + [(ends[5], -1.0)])

    posting = mdms.post_daily_vee(date(2026, 5, 11), [GOLDEN])
    assert posting.fetched == 56 and len(hes.received("get", "MeterReadings")) == 1  # the gaps
    assert posting.estimated == 1 and posting.validated == 95

    answer = cis.request(
        _get(GOLDEN, "2026-05-11T00:00:00-05:00", "2026-05-11T02:00:00-05:00"), timeout=20
    )
    assert answer.result == "OK", answer.errors
    assert answer.source == "MDMS"
    data = readings_of(answer)[GOLDEN]
    assert len(data) == 8 and data[5][2] == MDM_ESTIMATED
    assert {q for i, (_, _, q) in enumerate(data) if i != 5} == {VEE_VALIDATED}
    late = cis.request(
        _get(GOLDEN, "2026-05-11T23:00:00-05:00", "2026-05-12T00:00:00-05:00"), timeout=20
    )
    assert [v for _, v, _ in readings_of(late)[GOLDEN]] == ["0.250"] * 4  # filled from the head-end

    unknown = cis.request(
        _get("99999999999999999", "2026-05-11T00:00:00-05:00", "2026-05-11T02:00:00-05:00"),
        timeout=20,
    )
    assert unknown.result == "FAILED" and unknown.errors[0]["code"] == "2.12"
    wait_for(lambda: len(sub.events) == 1)


def test_daily_posting_reaches_subscribers_and_moves_smt_last_vee_end(sim_world) -> None:
    world = sim_world(
        routes=ROUTES,
        subscriptions=[{"verb": "created", "noun": "MeterReadings", "subscribers": ["SUB", "SMT"]}],
        systems=SYSTEMS,
    )
    hes = world.attach(StubHes("demo"))
    mdms = world.attach(Mdms("demo", batch_size=20))
    sub = world.attach(Recorder("demo"))
    mdms.schedule_daily_vee("02:00")
    mdms.clock.advance(timedelta(hours=17))  # 2026-05-13 02:00: post 2026-05-12
    posting = mdms.postings[-1]
    assert posting.day == "2026-05-12" and len(posting.messages) == 2  # 37 meters, 20 per message
    wait_for(lambda: len(sub.events) == 2)
    assert sorted(e.message_id for e in sub.events) == sorted(posting.messages)
    posted = {k: v for e in sub.events for k, v in readings_of(e).items()}
    assert len(posted) == 37 and len(posted[GOLDEN]) == 96  # every AMS, provisioned meter
    assert {q for _, _, q in posted[GOLDEN]} == {VEE_VALIDATED}
    vee_end = parse_time("2026-05-13T00:00:00-05:00")
    assert mdms.last_vee_end(GOLDEN) == vee_end
    wait_for(lambda: world.store.last_vee_end(GOLDEN) is not None)
    assert _same_instant(world.store.last_vee_end(GOLDEN), vee_end)

    # fault knobs: a meter that does not answer the head-end is estimated ...
    hes.faults.set(OTHER, disconnect=True)
    mdms.clock.advance(timedelta(days=1))
    wait_for(lambda: len(sub.events) == 4)
    posted = {k: v for e in sub.events[2:] for k, v in readings_of(e).items()}
    assert {q for _, _, q in posted[OTHER]} == {MDM_ESTIMATED}
    assert {q for _, _, q in posted[GOLDEN]} == {VEE_VALIDATED}
    # ... and an MDMS whose outgoing messages are dropped posts nothing: last VEE end stays
    mdms.faults.set(drop=1.0)
    mdms.clock.advance(timedelta(days=1))
    assert mdms.postings[-1].unsent == 2 and mdms.postings[-1].messages == []
    time.sleep(0.3)
    assert len(sub.events) == 4
    assert mdms.last_vee_end(GOLDEN) == parse_time("2026-05-14T00:00:00-05:00")
    assert _same_instant(world.store.last_vee_end(GOLDEN), parse_time("2026-05-14T00:00:00-05:00"))


def test_mdms_logs_switch_reads_and_acknowledgements(sim_world) -> None:
    world = sim_world(
        subscriptions=[
            {"verb": "created", "noun": "MeterReadings", "subscribers": ["MDMS"]},
            {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["MDMS"]},
        ],
        systems=SYSTEMS,
    )
    hes = world.attach(StubHes("demo"))
    mdms = world.attach(Mdms("demo"))
    hes.send_switch_read(GOLDEN, 50869.874)
    hes.send_ack(GOLDEN, "control-1")
    wait_for(lambda: mdms.on_demand_reads(GOLDEN) and mdms.events_for(GOLDEN))
    assert mdms.on_demand_reads(GOLDEN)[0]["register"] == 50869.874
    assert mdms.registers(GOLDEN)[0].value == 50869.874
    entry = mdms.events_for(GOLDEN)[0]
    assert (
        entry["issuerTrackingID"] == "control-1" and entry["details"]["ContactorStatus"] == "Opened"
    )


def _same_instant(a: datetime | None, b: datetime) -> bool:
    """Store timestamps may come back naive (UTC) from SQLite."""
    assert a is not None
    return parse_time(a) == b
