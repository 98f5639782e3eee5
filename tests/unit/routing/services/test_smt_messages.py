"""Reading the ROR's requests and the VEE posting, writing the head-end request and the non-VEE
answer (ODR-1, ODR-3, ODR-5, ODR-7), on the lxml tree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from cim_models.build import build_message
from cim_models.codec import Codec
from cim_models.codes import (
    INTERVAL_15MIN_KWH_DELIVERED,
    INTERVAL_60MIN_KWH_DELIVERED,
    MDM_ESTIMATED,
    NON_VEE,
    REGISTER_KWH_DELIVERED,
    VEE_VALIDATED,
    controls,
)
from routing.services.smt import OdrRequestInvalid
from routing.services.smt.messages import (
    non_vee_payload,
    parse_ping,
    parse_read_request,
    read_filter,
    readings_reason,
    vee_ends,
)

from .odr_messages import (
    CT,
    ESIID,
    GET_WRAPPER,
    OTHER_ESIID,
    control,
    every_15_minutes,
    get_request,
    meter_readings,
    reply_of,
)
from .odr_messages import read_filter as ror_filter

CODEC = Codec()
START = datetime(2026, 5, 11, 0, 0, tzinfo=CT)
END = datetime(2026, 5, 12, 0, 0, tzinfo=CT)


def root(body: bytes) -> etree._Element:
    return CODEC.decode(body).root


# ---------------------------------------------------------------------------- read request
def test_golden_ror_request_is_read(exchanges) -> None:
    """ODR-1: the conformance golden GetMeterReadings (ESIID name, window, two ReadingTypes)."""
    body = (exchanges / "MeterReadings" / "get" / "GetMeterReadings.xml").read_bytes()
    req = parse_read_request(root(body), CT)
    assert req.esiid == ESIID
    assert (req.start, req.end) == (START, END)
    assert req.reading_types == (INTERVAL_15MIN_KWH_DELIVERED, REGISTER_KWH_DELIVERED)


def test_esiid_from_usage_point_mrid_and_no_window() -> None:
    req = parse_read_request(root(get_request(by_mrid=True)), CT)
    assert (req.esiid, req.start, req.end, req.reading_types) == (ESIID, None, None, ())


def test_window_falls_back_to_reading_time_period() -> None:
    body = get_request(period=(START, END))
    req = parse_read_request(root(body), CT)
    assert (req.start, req.end) == (START, END)


def test_time_without_offset_is_local_time() -> None:
    body = get_request(start=datetime(2026, 5, 11, 0, 0), end=datetime(2026, 5, 11, 6, 0))
    req = parse_read_request(root(body), CT)
    assert req.start == START and req.start.utcoffset() == timedelta(hours=-5)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (get_request(esiid=""), "names no ESIID"),
        (
            build_message(
                "get",
                "MeterReadings",
                source="CIS",
                request=None,
                message_id="m",
            ),
            "names no ESIID",
        ),
        (
            get_request(reading_types=[INTERVAL_60MIN_KWH_DELIVERED]),
            "60-minute data; an on-demand read returns 15-minute",
        ),
        (get_request(reading_types=["1.2.3"]), "not a ReadingType code"),
    ],
)
def test_unusable_requests_are_2_7(body: bytes, match: str) -> None:
    with pytest.raises(OdrRequestInvalid, match=match) as info:
        parse_read_request(root(body), CT)
    assert info.value.code == "2.7"


def test_several_esiids_are_refused() -> None:
    from cim_models.build import RequestPart

    body = build_message(
        "get",
        "MeterReadings",
        source="CIS",
        request=RequestPart(filter=ror_filter([ESIID])),
    )
    tree = root(body)
    flt = tree.find(".//{*}GetMeterReadings")
    other = ror_filter([OTHER_ESIID]).find("{*}UsagePoint")
    flt.append(other)
    with pytest.raises(OdrRequestInvalid, match="one ESIID; the request names 2"):
        parse_read_request(tree, CT)


# ---------------------------------------------------------------------------- ping
def test_ping_is_recognised_by_its_control_type() -> None:
    assert parse_ping([control(controls.POWER_STATUS_PING)]).esiid == ESIID


def test_other_controls_are_not_pings() -> None:
    assert parse_ping([control(controls.REMOTE_DISCONNECT)]) is None
    assert parse_ping([]) is None


def test_ping_mixed_with_other_controls_or_without_esiid_is_refused() -> None:
    mixed = control(controls.POWER_STATUS_PING)
    mixed.append(control(controls.REMOTE_DISCONNECT)[0])
    with pytest.raises(OdrRequestInvalid, match="on its own"):
        parse_ping([mixed])
    with pytest.raises(OdrRequestInvalid, match="exactly one ESIID"):
        parse_ping([control(controls.POWER_STATUS_PING, esiid=None)])


# ---------------------------------------------------------------------------- head-end request
def test_headend_request_validates_and_carries_esiid_window_and_types() -> None:
    from cim_models.build import RequestPart

    flt = read_filter(ESIID, START, END, [INTERVAL_15MIN_KWH_DELIVERED], CT)
    body = build_message(
        "get", "MeterReadings", source="CIMBUS", request=RequestPart("a", "b", filter=flt)
    )
    body = body.replace(b">a<", b">2026-05-11T00:00:00-05:00<").replace(
        b">b<", b">2026-05-12T00:00:00-05:00<"
    )
    req = parse_read_request(root(body), CT)  # what the head-end reads back
    assert (req.esiid, req.reading_types) == (ESIID, (INTERVAL_15MIN_KWH_DELIVERED,))
    assert flt.findtext("{*}Reading/{*}timePeriod/{*}start") == "2026-05-11T00:00:00-05:00"


# ---------------------------------------------------------------------------- the answer
def headend_payload(quality: str = "1.0.0") -> list[etree._Element]:
    readings = every_15_minutes(START - timedelta(hours=1), END + timedelta(hours=1))
    return [
        meter_readings(ESIID, readings, quality=quality, register=(END, 1.0), descriptor=quality)
    ]


def test_answer_keeps_the_window_and_marks_every_reading_non_vee() -> None:
    """ODR-3: intervals ending in (start, end] only; every IntervalReading and Reading gets
    exactly ReadingQualityType 2.0.0, whatever the head-end said."""
    odr = non_vee_payload(headend_payload(VEE_VALIDATED), esiid=ESIID, start=START, end=END, tz=CT)
    assert (odr.intervals, odr.registers) == (96, 1)
    assert odr.dropped_outside == len(every_15_minutes(START - timedelta(hours=1), START)) + 4
    body = build_message(
        "reply",
        "MeterReadings",
        correlation_id="c",
        source="CIMBUS",
        result="OK",
        payload=odr.elements,
        namespace=GET_WRAPPER,
        element="MeterReadingsResponseMessage",
    )
    assert CODEC.validate(CODEC.parse(body)) == []
    seen = reply_of(body)
    assert seen["intervals"][0] == START + timedelta(minutes=15)
    assert seen["intervals"][-1] == END
    assert set(seen["qualities"]) == {NON_VEE}
    assert len(seen["qualities"]) == 96 + 1  # one per reading; the descriptor has no ref
    tree = etree.fromstring(body)
    descriptors = [d for d in tree.iter("{*}ReadingQualityType") if d.get("ref") is None]
    assert [d.findtext("{*}mRID") for d in descriptors] == [NON_VEE]
    assert tree.findtext(".//{*}valuesInterval/{*}start") == "2026-05-11T00:00:00-05:00"


def test_answer_drops_readings_of_another_usage_point() -> None:
    """SEC-2: never another meter's data, whatever the head-end sent."""
    payload = headend_payload()
    payload[0].append(meter_readings(OTHER_ESIID, [(END, 9.0)])[0])
    odr = non_vee_payload(payload, esiid=ESIID, start=START, end=END, tz=CT)
    assert odr.dropped_foreign == 1 and odr.intervals == 96


def test_readings_reason_counts() -> None:
    assert readings_reason(96, 1) == "96 interval readings and 1 register read returned"
    assert readings_reason(1, 0) == "1 interval reading and 0 register reads returned"


# ---------------------------------------------------------------------------- VEE posting
def posting(*blocks: etree._Element) -> etree._Element:
    """One MeterReadings with the MeterReading of every block."""
    first = blocks[0]
    for other in blocks[1:]:
        first.extend(other.findall("{*}MeterReading"))
    body = build_message("created", "MeterReadings", source="TDSP", payload=[first])
    return root(body)


def test_vee_end_is_the_latest_vee_processed_interval_per_esiid() -> None:
    """ODR-7: only readings VEE went through count (3.0.1 validated, 3.8.0 estimated ...)."""
    vee = meter_readings(ESIID, every_15_minutes(START, END), quality=VEE_VALIDATED)
    estimated = meter_readings(
        OTHER_ESIID, every_15_minutes(START, START + timedelta(hours=2)), quality=MDM_ESTIMATED
    )
    later_non_vee = meter_readings(ESIID, [(END + timedelta(hours=5), 1.0)], quality=NON_VEE)
    unqualified = meter_readings(ESIID, [(END + timedelta(hours=6), 1.0)])
    no_usage_point = meter_readings(None, [(END + timedelta(hours=7), 1.0)], quality=VEE_VALIDATED)
    ends = vee_ends(posting(vee, estimated, later_non_vee, unqualified, no_usage_point), CT)
    assert ends == {ESIID: END, OTHER_ESIID: START + timedelta(hours=2)}
    assert ends[ESIID].astimezone(UTC) == datetime(2026, 5, 12, 5, 0, tzinfo=UTC)


def test_vee_posting_without_vee_readings_moves_nothing() -> None:
    only_headend = meter_readings(ESIID, every_15_minutes(START, END), quality=NON_VEE)
    assert vee_ends(posting(only_headend), CT) == {}
