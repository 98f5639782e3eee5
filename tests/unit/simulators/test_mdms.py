"""The MDMS simulator: VEE, daily posting (ODR-7), last VEE end (ODR-2), scheduling on the
simulated clock, get MeterReadings, on-demand reads (B2-10) and the meter event log (B2-4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from cim_models.codec import Codec
from cim_models.codes import (
    DAILY_KWH_DELIVERED,
    DEVICE_VALID,
    INTERVAL_15MIN_KWH_DELIVERED,
    MDM_ESTIMATED,
    REGISTER_KWH_DELIVERED,
    VEE_VALIDATED,
    acknowledgement_for,
    controls,
    events,
)
from simulators import SIMULATORS
from simulators._core import E, Incoming, event, parse_time, reply, request
from simulators.mdms import Mdms, day_window, interval_ends, run_vee, spike_limit
from simulators.mdms.messages import meter_el, usage_point_el
from tests.unit.simulators.stubs import device_event, readings_of

TZ = ZoneInfo("America/Chicago")
GOLDEN = "10443720001234567"  # AMS-GOLDEN, rated 18 kW
OTHER = "10443720000000001"  # AMS-0001, rated 12 kW
DAY = date(2026, 5, 11)
CODEC = Codec()
MR = "{http://iec.ch/TC57/2011/MeterReadings#}"


class FakeClient:
    """Stands in for the bus: records what is sent, answers requests with ``respond``."""

    queue = "cimbus.system.MDMS"

    def __init__(self, respond: Callable[[Incoming], bytes] | None = None) -> None:
        self.sent: list[bytes] = []
        self.requests: list[Incoming] = []
        self.respond = respond
        self.ack: str | None = "OK"

    def serve(self, handler: object) -> None:
        pass

    def send(self, body: bytes) -> None:
        CODEC.decode(body)  # everything the MDMS sends validates against the XSDs
        self.sent.append(body)

    def request(self, body: bytes, timeout: float = 30.0) -> bytes:
        CODEC.decode(body)
        msg = Incoming.parse(body, CODEC)
        if msg.is_event:  # the daily posting waits for cimbus's acknowledgement
            self.sent.append(body)
            if self.ack is None:
                raise TimeoutError("cimbus did not acknowledge")
            return reply(msg, source="CIMBUS", result=self.ack)
        self.requests.append(msg)
        if self.respond is None:
            raise TimeoutError("no head-end here")
        return self.respond(msg)

    def close(self) -> None:
        pass


def hes_answer(
    values: Callable[[str, datetime], float | None] = lambda e, t: 0.25,
) -> Callable[[Incoming], bytes]:
    """A head-end that answers get MeterReadings for every ESIID named, over the window."""

    def respond(msg: Incoming) -> bytes:
        start_text, end_text = msg.window()
        start, end = parse_time(start_text), parse_time(end_text)
        readings = []
        for up in msg.get_filter.findall("{*}UsagePoint"):
            esiid = up.findtext("{*}Names/{*}name")
            ivs = []
            for ts in interval_ends(start, end):
                v = values(esiid, ts)
                if v is not None:
                    ivs.append(
                        E.mr(
                            "IntervalReadings",
                            E.mr("timeStamp", ts.isoformat()),
                            E.mr("value", f"{v:.3f}"),
                            E.mr("ReadingQualities", E.mr("ReadingQualityType", ref=DEVICE_VALID)),
                        )
                    )
            readings.append(
                E.mr(
                    "MeterReading",
                    E.mr(
                        "IntervalBlocks", ivs, E.mr("ReadingType", ref=INTERVAL_15MIN_KWH_DELIVERED)
                    ),
                    usage_point_el(esiid),
                )
            )
        return reply(msg, source="HES", payload=[E.mr("MeterReadings", readings)])

    return respond


def posted(body: bytes) -> dict[str, list[tuple[str, str, str]]]:
    """ESIID -> [(timeStamp, value, quality)] of a created MeterReadings."""
    return readings_of(Incoming.parse(body, CODEC))


def day_ends(day: date = DAY) -> list[datetime]:
    return interval_ends(*day_window(day, TZ))


# ---------------------------------------------------------------- VEE rules (pure)
def test_catalogue_points_at_the_class() -> None:
    assert SIMULATORS["mdms"].load() is Mdms
    assert Mdms.system == "MDMS" and Mdms.name == "mdms"


def test_vee_validates_good_intervals_and_estimates_missing_negative_and_spikes() -> None:
    ends = day_ends()[:8]
    limit = spike_limit(12.0, 1.5)  # 1.5 x 12 kW x 0.25 h = 4.5 kWh
    assert limit == pytest.approx(4.5)
    raw = {
        ends[0]: 0.2,
        ends[1]: 0.4,
        ends[3]: -0.1,
        ends[4]: 4.5,
        ends[5]: 4.51,
        ends[6]: 1.0,
        ends[7]: 1.2,
    }
    out = run_vee(raw, ends, rated_kw=12.0, spike_factor=1.5)
    assert [r.status for r in out] == [
        "validated",
        "validated",
        "estimated",
        "estimated",
        "validated",
        "estimated",
        "validated",
        "validated",
    ]
    assert [r.reason for r in out] == [None, None, "missing", "negative", None, "spike", None, None]
    assert {r.quality for r in out if r.status == "validated"} == {VEE_VALIDATED}
    assert {r.quality for r in out if r.status == "estimated"} == {MDM_ESTIMATED}
    # linear interpolation between the nearest valid neighbours
    assert out[2].value == pytest.approx(0.4 + (4.5 - 0.4) / 3, abs=1e-3)
    assert out[3].value == pytest.approx(0.4 + 2 * (4.5 - 0.4) / 3, abs=1e-3)
    assert out[5].value == pytest.approx((4.5 + 1.0) / 2, abs=1e-3)
    assert out[3].raw == -0.1 and out[2].raw is None


def test_vee_estimates_at_the_edges_and_with_nothing_valid() -> None:
    ends = day_ends()[:4]
    out = run_vee({ends[1]: 0.5, ends[2]: 0.7}, ends, rated_kw=12, spike_factor=1.5)
    assert [r.value for r in out] == [0.5, 0.5, 0.7, 0.7]
    assert [r.status for r in run_vee({}, ends, rated_kw=12, spike_factor=1.5)] == ["estimated"] * 4
    assert {r.value for r in run_vee({}, ends, rated_kw=12, spike_factor=1.5)} == {0.0}


def test_spike_factor_is_configurable() -> None:
    ends = day_ends()[:1]
    assert run_vee({ends[0]: 3.5}, ends, rated_kw=12, spike_factor=1.0)[0].reason == "spike"
    assert run_vee({ends[0]: 3.5}, ends, rated_kw=12, spike_factor=1.5)[0].status == "validated"
    m = Mdms("demo", spike_factor=1.0)
    assert m.spike_factor == 1.0 and Mdms("demo").spike_factor == 1.5


def test_local_day_has_96_intervals_or_92_100_on_dst_days() -> None:
    assert len(day_ends(date(2026, 5, 11))) == 96
    assert len(day_ends(date(2026, 3, 8))) == 92
    assert len(day_ends(date(2026, 11, 1))) == 100
    start, end = day_window(DAY, TZ)
    assert start == datetime(2026, 5, 11, 5, tzinfo=ZoneInfo("UTC"))
    assert day_ends()[0] == start + timedelta(minutes=15) and day_ends()[-1] == end


# ---------------------------------------------------------------- daily posting (ODR-7)
def test_daily_posting_content_validates_and_marks_qualities() -> None:
    m = Mdms("demo")
    ends = day_ends()
    m.ingest(GOLDEN, [(t, 0.3) for t in ends])
    m.ingest(GOLDEN, [(ends[10], None), (ends[20], -2.0), (ends[30], 50.0)])  # 50 kWh: spike
    client = FakeClient()
    m.attach(client)
    result = m.post_daily_vee(DAY, [GOLDEN])
    assert result.esiids == [GOLDEN] and result.validated == 93 and result.estimated == 3
    assert len(client.sent) == 1 and result.messages and result.unsent == 0
    assert len(client.requests) == 1  # the missing interval was asked for (no head-end here)
    msg = Incoming.parse(client.sent[0], CODEC)
    assert (msg.verb, msg.noun, msg.source) == ("created", "MeterReadings", "MDMS")
    readings = posted(client.sent[0])[GOLDEN]
    assert len(readings) == 96
    assert (
        readings[0][0] == "2026-05-11T00:15:00-05:00"
        and readings[-1][0] == "2026-05-12T00:00:00-05:00"
    )
    qualities = [q for _, _, q in readings]
    assert qualities.count(MDM_ESTIMATED) == 3 and qualities.count(VEE_VALIDATED) == 93
    assert readings[10] == ("2026-05-11T02:45:00-05:00", "0.300", MDM_ESTIMATED)
    mr = msg.payload[0].find(f"{MR}MeterReading")
    assert mr.findtext(f"{MR}Meter/{MR}mRID") == "AMS-GOLDEN"
    assert mr.find(f"{MR}Meter/{MR}Names/{MR}NameType/{MR}name").text == "MeterNumber"
    assert (
        mr.find(f"{MR}UsagePoint/{MR}Names/{MR}NameType/{MR}NameTypeAuthority/{MR}name").text
        == "ERCOT"
    )
    daily = mr.find(f"{MR}Readings")
    assert daily.find(f"{MR}ReadingType").get("ref") == DAILY_KWH_DELIVERED
    assert float(daily.findtext(f"{MR}value")) == pytest.approx(96 * 0.3, abs=0.01)
    # what the MDMS stores now carries the VEE status
    stored = m.readings(GOLDEN)
    assert {r.status for r in stored} == {"validated", "estimated"}
    assert stored[20].status == "estimated" and stored[20].raw == -2.0


def test_gaps_are_read_from_the_head_end_through_cimbus() -> None:
    m = Mdms("demo")
    ends = day_ends()
    m.ingest(GOLDEN, [(t, 0.3) for t in ends[:50]])
    client = FakeClient(hes_answer(lambda e, t: None if t == ends[60] else 0.5))
    m.attach(client)
    result = m.post_daily_vee("2026-05-11", [GOLDEN, OTHER])
    assert len(client.requests) == 1
    ask = client.requests[0]
    assert (ask.verb, ask.noun) == ("get", "MeterReadings")
    assert ask.window() == ("2026-05-11T00:00:00-05:00", "2026-05-12T00:00:00-05:00")
    assert sorted(
        up.findtext("{*}Names/{*}name") for up in ask.get_filter.findall("{*}UsagePoint")
    ) == sorted([GOLDEN, OTHER])
    assert result.fetched == 45 + 95  # only the gaps are taken from the answer
    data = posted(client.sent[0])
    assert [v for _, v, _ in data[GOLDEN][:50]] == ["0.300"] * 50  # stored raw data kept
    assert data[GOLDEN][51][1:] == ("0.500", VEE_VALIDATED)  # fetched from the head-end
    assert data[GOLDEN][60][2] == MDM_ESTIMATED  # the head-end did not have it either
    assert result.estimated == 2


def test_complete_stored_data_is_not_asked_again() -> None:
    m = Mdms("demo")
    m.ingest(GOLDEN, [(t, 0.3) for t in day_ends()])
    client = FakeClient(hes_answer())
    m.attach(client)
    assert m.post_daily_vee(DAY, [GOLDEN]).fetched == 0
    assert client.requests == []


def test_unreachable_head_end_means_estimated_data() -> None:
    m = Mdms("demo")
    client = FakeClient()  # every request times out
    m.attach(client)
    result = m.post_daily_vee(DAY, [OTHER])
    assert result.estimated == 96 and result.validated == 0
    assert any("head-end not reached" in n for n in result.notes)
    assert {q for _, _, q in posted(client.sent[0])[OTHER]} == {MDM_ESTIMATED}


def test_posting_is_batched_and_gap_requests_too() -> None:
    m = Mdms("demo", batch_size=2)
    client = FakeClient(hes_answer())
    m.attach(client)
    esiids = [f"1044372000000000{i}" for i in range(1, 6)]
    result = m.post_daily_vee(DAY, esiids)
    assert len(client.sent) == 3 and len(result.messages) == 3
    assert [len(posted(b)) for b in client.sent] == [2, 2, 1]
    assert [len(r.get_filter.findall("{*}UsagePoint")) for r in client.requests] == [2, 2, 1]
    names = [Incoming.parse(b, CODEC).header for b in client.sent]
    assert all(h["Source"] == "MDMS" for h in names)
    assert Mdms("demo").batch_size == 50


def test_failed_batch_read_falls_back_to_one_usage_point_per_request() -> None:
    def respond(msg: Incoming) -> bytes:
        if len(msg.get_filter.findall("{*}UsagePoint")) > 1:
            from simulators._core import SimError, failed

            return failed(msg, SimError("2.7", "one usage point per request"), source="HES")
        return hes_answer()(msg)

    m = Mdms("demo")
    client = FakeClient(respond)
    m.attach(client)
    result = m.post_daily_vee(DAY, [GOLDEN, OTHER])
    assert len(client.requests) == 3 and result.estimated == 0 and result.validated == 192


def test_not_eligible_meters_are_skipped() -> None:
    m = Mdms("demo")
    m.attach(FakeClient(hes_answer()))
    result = m.post_daily_vee(DAY, ["LEGACY-01", "AMS-NOTPROV", GOLDEN])
    assert result.esiids == [GOLDEN]
    assert result.skipped == {
        "10443720009999902": "not an AMS interval meter",
        "10443720009999901": "not provisioned",
    }
    with pytest.raises(KeyError):
        m.post_daily_vee(DAY, ["nope"])


def test_default_posting_covers_every_eligible_meter() -> None:
    m = Mdms("demo")
    client = FakeClient(hes_answer())
    m.attach(client)
    result = m.post_daily_vee(DAY)
    eligible = [s for s in m.profile.meters if s.ams and s.provisioned and s.interval_minutes > 0]
    assert sorted(result.esiids) == sorted(s.esiid for s in eligible)
    assert sum(len(posted(b)) for b in client.sent) == len(eligible)


# ---------------------------------------------------------------- last VEE end (ODR-2)
def test_last_vee_end_tells_what_was_posted() -> None:
    m = Mdms("demo")
    client = FakeClient(hes_answer())
    m.attach(client)
    assert m.last_vee_end(GOLDEN) is None
    m.post_daily_vee(DAY, [GOLDEN])
    assert m.last_vee_end(GOLDEN) == parse_time("2026-05-12T00:00:00-05:00")
    assert m.last_vee_end("AMS-GOLDEN") == m.last_vee_end(GOLDEN)
    m.post_daily_vee(date(2026, 5, 9), [GOLDEN])  # an older day does not move it back
    assert m.last_vee_end(GOLDEN) == parse_time("2026-05-12T00:00:00-05:00")
    assert m.last_vee_end(OTHER) is None


def test_last_vee_end_does_not_move_when_the_posting_is_not_sent() -> None:
    m = Mdms("demo")
    client = FakeClient(hes_answer())
    m.attach(client)
    m.faults.set(drop=1.0)  # outgoing messages swallowed
    result = m.post_daily_vee(DAY, [GOLDEN])
    assert result.unsent == 1 and result.messages == [] and client.sent == []
    assert m.last_vee_end(GOLDEN) is None
    unattached = Mdms("demo")
    assert unattached.post_daily_vee(DAY, [GOLDEN]).unsent == 1
    assert unattached.last_vee_end(GOLDEN) is None


# ---------------------------------------------------------------- scheduling
def test_daily_posting_runs_on_the_simulated_clock() -> None:
    m = Mdms("demo")  # clock: 2026-05-12 09:00 local
    client = FakeClient(hes_answer())
    m.attach(client)
    timer = m.schedule_daily_vee("02:00")
    assert timer.when == parse_time("2026-05-13T02:00:00-05:00")
    m.clock.advance(timedelta(hours=16, minutes=59))
    assert client.sent == []
    m.clock.advance(timedelta(minutes=1))
    assert m.postings[-1].day == "2026-05-12"
    assert m.last_vee_end(GOLDEN) == parse_time("2026-05-13T00:00:00-05:00")
    sent_first = len(client.sent)
    assert sent_first == 1  # 37 eligible meters, one batch
    m.clock.advance(timedelta(days=1))
    assert m.postings[-1].day == "2026-05-13" and len(client.sent) == 2
    assert m.last_vee_end(GOLDEN) == parse_time("2026-05-14T00:00:00-05:00")
    assert m.status()["daily_vee"]["at"] == "02:00"
    m.unschedule_daily_vee()
    m.clock.advance(timedelta(days=2))
    assert len(client.sent) == 2 and m.status()["daily_vee"] is None


def test_scheduled_posting_survives_a_failure_and_keeps_its_schedule() -> None:
    m = Mdms("demo")  # not attached: nothing can be sent, the schedule goes on
    m.schedule_daily_vee("01:30")
    m.clock.advance(timedelta(days=2))
    assert [p.day for p in m.postings] == ["2026-05-12", "2026-05-13"]
    assert all(p.unsent == 1 for p in m.postings)
    with pytest.raises(ValueError):
        m.schedule_daily_vee("2am")


# ---------------------------------------------------------------- get MeterReadings
def _get(*filters: etree._Element, start: str | None = None, end: str | None = None) -> bytes:
    return request(
        "get",
        "MeterReadings",
        source="CIS",
        get_filter=E.gmr("GetMeterReadings", *filters),
        start=start,
        end=end,
    )


def test_get_meter_readings_serves_stored_data_with_vee_qualities() -> None:
    m = Mdms("demo")
    ends = day_ends()
    m.ingest(GOLDEN, [(t, 0.3) for t in ends])
    m.ingest(GOLDEN, [(ends[4], -1.0)])
    m.post_daily_vee(DAY, [GOLDEN])
    m.ingest(GOLDEN, [(ends[-1] + timedelta(minutes=15), 0.7)])  # raw, after the posting
    answer = m.handle(
        _get(
            usage_point_el(GOLDEN, prefix="gmr"),
            start="2026-05-11T00:00:00-05:00",
            end="2026-05-11T02:00:00-05:00",
        )
    )
    CODEC.decode(answer)
    msg = Incoming.parse(answer, CODEC)
    assert msg.result == "OK"
    data = posted(answer)[GOLDEN]
    assert len(data) == 8 and data[4][2] == MDM_ESTIMATED and data[0][2] == VEE_VALIDATED
    # the raw interval after the posting keeps the head-end's quality; by meter number too
    answer = m.handle(
        _get(
            meter_el("AMS-GOLDEN", prefix="gmr", tag="EndDevice"), start="2026-05-11T23:45:00-05:00"
        )
    )
    assert [(v, q) for _, v, q in posted(answer)[GOLDEN]] == [
        ("0.300", VEE_VALIDATED),
        ("0.700", DEVICE_VALID),
    ]


def test_get_meter_readings_refuses_unknown_and_empty_requests() -> None:
    m = Mdms("demo")
    unknown = Incoming.parse(
        m.handle(_get(usage_point_el("99999999999999999", prefix="gmr"))), CODEC
    )
    assert unknown.result == "FAILED" and unknown.errors[0]["code"] == "2.12"
    assert "99999999999999999" in unknown.errors[0]["reason"]
    empty = Incoming.parse(m.handle(_get()), CODEC)
    assert empty.result == "FAILED" and empty.errors[0]["code"] == "2.7"
    backwards = Incoming.parse(
        m.handle(
            _get(
                usage_point_el(GOLDEN, prefix="gmr"),
                start="2026-05-12T00:00:00Z",
                end="2026-05-11T00:00:00Z",
            )
        ),
        CODEC,
    )
    assert backwards.errors[0]["code"] == "2.7"


def test_get_meter_readings_registers_and_reading_type_filter() -> None:
    m = Mdms("demo")
    m.ingest(GOLDEN, [(day_ends()[0], 0.3)])
    m.on_event(Incoming.parse(_hes_read_event(register=1234.5), CODEC))
    both = m.handle(_get(usage_point_el(GOLDEN, prefix="gmr")))
    regs = Incoming.parse(both, CODEC).payload[0].findall(f"{MR}MeterReading/{MR}Readings")
    assert [r.findtext(f"{MR}value") for r in regs] == ["1234.500"]
    only_registers = m.handle(
        _get(
            E.gmr("ReadingType", E.gmr("mRID", REGISTER_KWH_DELIVERED)),
            usage_point_el(GOLDEN, prefix="gmr"),
        )
    )
    assert posted(only_registers)[GOLDEN] == []


# ---------------------------------------------------------------- events (B2-4, B2-9, B2-10)
def _hes_read_event(register: float = 50869.874, esiid: str = GOLDEN) -> bytes:
    ts = "2026-05-12T10:00:00-05:00"
    return event(
        "created",
        "MeterReadings",
        [
            E.mr(
                "MeterReadings",
                E.mr(
                    "MeterReading",
                    E.mr(
                        "IntervalBlocks",
                        E.mr(
                            "IntervalReadings",
                            E.mr("timeStamp", ts),
                            E.mr("value", "0.412"),
                            E.mr("ReadingQualities", E.mr("ReadingQualityType", ref=DEVICE_VALID)),
                        ),
                        E.mr("ReadingType", ref=INTERVAL_15MIN_KWH_DELIVERED),
                    ),
                    meter_el("AMS-GOLDEN"),
                    E.mr(
                        "Readings",
                        E.mr("reason", "serviceDisconnect"),
                        E.mr("timeStamp", ts),
                        E.mr("value", f"{register:.3f}"),
                        E.mr("ReadingType", ref=REGISTER_KWH_DELIVERED),
                    ),
                    usage_point_el(esiid),
                ),
            )
        ],
        source="HES",
    )


def _ack_event(
    code: str, tracking: str, meter: str = "AMS-GOLDEN", esiid: str | None = GOLDEN
) -> bytes:
    return device_event(
        code,
        tracking=tracking,
        created="2026-05-12T10:00:03-05:00",
        mrid="ev-1",
        issuer="HES",
        meter=meter,
        esiid=esiid,
        details={"ContactorStatus": "Opened"},
    )


def test_on_demand_read_at_a_switch_event_is_stored_raw_and_logged() -> None:
    m = Mdms("demo")
    assert m.handle(_hes_read_event()) is None  # an event: no answer
    stored = m.readings(GOLDEN)
    assert [(r.value, r.status, r.quality) for r in stored] == [(0.412, "raw", DEVICE_VALID)]
    reads = m.on_demand_reads(GOLDEN)
    assert (
        len(reads) == 1
        and reads[0]["register"] == 50869.874
        and reads[0]["reason"] == "serviceDisconnect"
    )
    assert m.registers(GOLDEN)[0].value == 50869.874


def test_switch_acknowledgements_are_logged_per_meter() -> None:
    m = Mdms("demo")
    ack = acknowledgement_for(controls.REMOTE_DISCONNECT, "processed")
    m.handle(_ack_event(ack, "ctl-1"))
    m.handle(_ack_event(events.LAST_GASP, "", esiid=None))  # meter number only
    log = m.events_for(GOLDEN)
    assert [e["code"] for e in log] == [ack, events.LAST_GASP]
    assert log[0]["issuerTrackingID"] == "ctl-1" and log[0]["details"] == {
        "ContactorStatus": "Opened"
    }
    assert log[1]["name"] == "LAST_GASP"
    m.handle(_ack_event(events.LAST_GASP, "", meter="NO-SUCH-METER", esiid=None))
    assert len(m.unknown_events) == 1


def test_outage_records_are_logged_per_usage_point() -> None:
    m = Mdms("demo")
    body = event(
        "created",
        "OutageRecords",
        [
            E.__getattr__("or")(
                "OutageRecords",
                E.__getattr__("or")(
                    "OutageRecord",
                    E.__getattr__("or")("mRID", "OUT-1"),
                    E.__getattr__("or")("magnitude", "isolated"),
                    E.__getattr__("or")("statusKind", "confirmed"),
                    E.__getattr__("or")("UnplannedOutage", E.__getattr__("or")("cause", "unknown")),
                    usage_point_el(GOLDEN, prefix="or", tag="UsagePoints"),
                ),
            )
        ],
        source="OMS",
    )
    CODEC.decode(body)
    m.handle(body)
    assert (
        m.events_for(GOLDEN)[0]["mRID"] == "OUT-1" and m.events_for(GOLDEN)[0]["kind"] == "outage"
    )


def test_state_is_created_lazily() -> None:
    m = Mdms("demo")
    assert m.status()["usage_points_tracked"] == 0
    m.readings(GOLDEN)
    assert m.status()["usage_points_tracked"] == 1
    with pytest.raises(KeyError):
        m.readings("nope")


# ---------------------------------------------------------------- REST
def test_rest_readings_and_vee_posting() -> None:
    m = Mdms("demo")
    m.attach(FakeClient(hes_answer()))
    api = TestClient(m.api())
    posting = api.post("/vee/2026-05-11", json={"esiids": [GOLDEN]})
    assert posting.status_code == 200 and posting.json()["validated"] == 96
    body = api.get(
        f"/usage-points/{GOLDEN}/readings",
        params={"start": "2026-05-11T00:00:00-05:00", "end": "2026-05-11T01:00:00-05:00"},
    ).json()
    assert body["last_vee_end"] == "2026-05-12T00:00:00-05:00"
    assert [r["status"] for r in body["readings"]] == ["validated"] * 4
    assert api.get("/usage-points/nope/readings").status_code == 404
    assert api.post("/vee/yesterday").status_code == 422
    assert api.post("/vee/2026-05-11", json={"esiids": ["nope"]}).status_code == 404
    assert api.get(f"/usage-points/{GOLDEN}/events").json()["events"] == []
    assert api.get("/").json()["last_posting"]["day"] == "2026-05-11"
