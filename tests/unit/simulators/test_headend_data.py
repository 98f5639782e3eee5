"""The head-end's meter data: deterministic load shapes, registers consistent with intervals,
``get MeterReadings`` per the contract (ODR-3, ODR-6, B2-14), start-up of the ``load`` profile."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from statistics import mean

import pytest

from cim_models.codes import (
    DEVICE_VALID,
    INTERVAL_15MIN_KWH_DELIVERED,
    REGISTER_KWH_DELIVERED,
    controls,
)
from simulators._core import E, Incoming, load_profile, parse_time, request, text, texts
from simulators.headend import HeadEnd
from simulators.headend.payloads import get_meter_readings_filter
from tests.unit.simulators.test_headend import CODEC, M1, M2, at, create, make_hes


def _hourly(hes: HeadEnd, meter: str, day: int) -> dict[int, float]:
    """Mean kWh per local hour of one day (by interval end)."""
    r = hes.readings(meter, at("00:00", day), at("00:00", day + 1))
    out: dict[int, list[float]] = {}
    for t, v in r["intervals"]:
        out.setdefault((t - timedelta(minutes=15)).astimezone(at("00:00").tzinfo).hour, []).append(
            v
        )
    return {h: mean(vs) for h, vs in out.items()}


def _get(hes: HeadEnd, *, esiids=(), meters=(), start=None, end=None, types=()) -> Incoming:
    body = request(
        "get",
        "MeterReadings",
        source="CIS",
        organization="REP-BLUEBONNET",
        get_filter=get_meter_readings_filter(esiids=esiids, meters=meters, reading_types=types),
        start=start,
        end=end,
    )
    answer = hes.handle(body)
    assert answer is not None
    CODEC.decode(answer)
    return Incoming.parse(answer, hes.codec)


# ---------------------------------------------------------------------- deterministic data
def test_same_seed_same_values_other_seed_other_values() -> None:
    a, b = make_hes(), make_hes()
    a.clock.advance(timedelta(days=2))
    b.clock.advance(timedelta(days=2))
    ra, rb = (
        a.readings(M1, at("00:00", 12), at("00:00", 14)),
        b.readings(M1, at("00:00", 12), at("00:00", 14)),
    )
    assert ra == rb and len(ra["intervals"]) == 192
    other = HeadEnd(replace(load_profile("demo"), seed=43))
    other.clock.advance(timedelta(days=2))
    assert other.readings(M1, at("00:00", 12), at("00:00", 14))["intervals"] != ra["intervals"]
    assert a.readings(M2, at("00:00", 12), at("00:00", 14))["intervals"] != ra["intervals"]


def test_load_shapes_have_a_daily_pattern() -> None:
    """Residential: night base, morning and larger evening peaks; small commercial: business
    hours on weekdays, little at weekends."""
    hes = make_hes()
    hes.clock.advance(timedelta(days=6))
    residential = next(
        m.meter for m in hes.profile.meters if m.ams and m.load_shape == "residential"
    )
    commercial = next(
        m.meter for m in hes.profile.meters if m.ams and m.load_shape == "small_commercial"
    )
    r = _hourly(hes, residential, 12)  # Tuesday
    night = mean(r[h] for h in (1, 2, 3, 4))
    assert mean(r[h] for h in (18, 19, 20)) > 3 * night
    assert r[7] > 2 * night and r[7] < mean(r[h] for h in (18, 19, 20))
    c = _hourly(hes, commercial, 12)
    c_weekend = _hourly(hes, commercial, 16)  # Saturday
    assert mean(c[h] for h in (10, 11, 12, 13, 14)) > 3 * mean(c[h] for h in (1, 2, 3, 4))
    assert mean(c_weekend[h] for h in (10, 11, 12, 13, 14)) < 0.5 * mean(
        c[h] for h in (10, 11, 12, 13, 14)
    )


def test_register_is_the_sum_of_the_recorded_intervals() -> None:
    """Register reads are consistent with the intervals, across an open-switch period and before
    the simulator's start."""
    hes = make_hes()
    hes.clock.advance(timedelta(hours=1))
    create(hes, controls.REMOTE_DISCONNECT, "d-1")
    hes.clock.advance(timedelta(hours=2))
    create(hes, controls.REMOTE_CONNECT, "c-1")
    hes.clock.advance(timedelta(hours=5))
    for start, end in (
        (at("00:00", 11), at("09:00")),
        (at("09:00"), at("17:00")),
        (at("06:00"), at("16:45")),
    ):
        r = hes.readings(M1, start, end)
        wh = round(sum(v for _, v in r["intervals"]) * 1000)
        assert (
            round(r["register"][1] * 1000)
            - round(hes.readings(M1, end=start)["register"][1] * 1000)
            == wh
        )
    zeros = [v for t, v in hes.readings(M1, at("10:00"), at("12:00"))["intervals"]]
    assert zeros == [0.0] * 8


# ---------------------------------------------------------------------- get MeterReadings (ODR-3)
def test_get_meter_readings_by_esiid_answers_the_contract_shape() -> None:
    """ODR-3: one MeterReading per meter: 15-minute kWh (timeStamp = interval end, 3 decimals,
    DEVICE_VALID), the meter by number, the register, the usage point by ESIID."""
    hes = make_hes()
    spec = hes.spec("AMS-GOLDEN")
    answer = _get(
        hes, esiids=[spec.esiid], start="2026-05-11T00:00:00-05:00", end="2026-05-12T00:00:00-05:00"
    )
    assert answer.result == "OK", answer.errors
    assert answer.element == "MeterReadingsResponseMessage"
    (mrs,) = answer.payload
    (mr,) = mrs.findall("mr:MeterReading", {"mr": "http://iec.ch/TC57/2011/MeterReadings#"})
    ns = {"mr": "http://iec.ch/TC57/2011/MeterReadings#"}
    stamps = texts(mr, "mr:IntervalBlocks/mr:IntervalReadings/mr:timeStamp")
    assert (
        len(stamps) == 96
        and stamps[0] == "2026-05-11T00:15:00-05:00"
        and stamps[-1] == "2026-05-12T00:00:00-05:00"
    )
    values = texts(mr, "mr:IntervalBlocks/mr:IntervalReadings/mr:value")
    assert all(len(v.split(".")[1]) == 3 for v in values)
    assert (
        mr.find("mr:IntervalBlocks/mr:ReadingType", ns).get("ref") == INTERVAL_15MIN_KWH_DELIVERED
    )
    assert {q.get("ref") for q in mr.iter(f"{{{ns['mr']}}}ReadingQualityType")} == {DEVICE_VALID}
    assert text(mr, "mr:Meter/mr:mRID") == "AMS-GOLDEN"
    assert text(mr, "mr:Meter/mr:Names/mr:NameType/mr:name") == "MeterNumber"
    assert mr.find("mr:Readings/mr:ReadingType", ns).get("ref") == REGISTER_KWH_DELIVERED
    assert text(mr, "mr:Readings/mr:timeStamp") == "2026-05-12T00:00:00-05:00"
    assert text(mr, "mr:UsagePoint/mr:Names/mr:name") == spec.esiid
    assert text(mr, "mr:UsagePoint/mr:Names/mr:NameType/mr:NameTypeAuthority/mr:name") == "ERCOT"
    expected = hes.readings("AMS-GOLDEN", "2026-05-11T00:00:00-05:00", "2026-05-12T00:00:00-05:00")
    assert [float(v) for v in values] == [v for _, v in expected["intervals"]]
    assert float(text(mr, "mr:Readings/mr:value")) == expected["register"][1]


def test_get_honours_the_window_and_never_returns_the_future() -> None:
    hes = make_hes()
    hes.clock.advance(timedelta(minutes=40))  # 09:40
    default = _get(hes, meters=[M1])  # no window: the day so far
    stamps = texts(default.payload[0], ".//mr:IntervalReadings/mr:timeStamp")
    assert stamps[0] == "2026-05-12T00:15:00-05:00" and stamps[-1] == "2026-05-12T09:30:00-05:00"
    clipped = _get(
        hes, meters=[M1], start="2026-05-12T08:00:00-05:00", end="2026-05-13T00:00:00-05:00"
    )
    assert len(texts(clipped.payload[0], ".//mr:IntervalReadings/mr:timeStamp")) == 6
    future = _get(
        hes, meters=[M1], start="2026-05-13T00:00:00-05:00", end="2026-05-14T00:00:00-05:00"
    )
    assert future.result == "FAILED" and "future" in future.errors[0]["reason"]
    only_register = _get(hes, meters=[M1], types=[REGISTER_KWH_DELIVERED])
    assert texts(only_register.payload[0], ".//mr:IntervalReadings/mr:value") == []
    assert texts(only_register.payload[0], ".//mr:Readings/mr:value")


def test_zero_readings_while_the_switch_is_open() -> None:
    """B2-14 over the bus contract: the meter still answers, with zeros."""
    hes = make_hes()
    create(hes, controls.REMOTE_DISCONNECT, "d-1")  # 09:00
    hes.clock.advance(timedelta(hours=1))
    answer = _get(
        hes, meters=[M1], start="2026-05-12T09:00:00-05:00", end="2026-05-12T10:00:00-05:00"
    )
    assert answer.result == "OK"
    assert texts(answer.payload[0], ".//mr:IntervalReadings/mr:value") == ["0.000"] * 4


def test_meters_that_do_not_answer_give_partial_or_failed_4_1() -> None:
    """A de-energised meter, or one with the disconnect knob, answers nothing."""
    hes = make_hes()
    hes.power_down([M2])
    partial = _get(hes, meters=[M1, M2])
    assert partial.result == "PARTIAL" and len(partial.payload[0]) == 1
    assert partial.errors[0]["code"] == "4.1" and M2 in partial.errors[0]["reason"]
    assert _get(hes, meters=[M2]).result == "FAILED"
    hes.faults.set(hes.spec(M1).esiid, disconnect=True)  # knob by ESIID works too
    failed = _get(hes, esiids=[hes.spec(M1).esiid])
    assert (
        failed.result == "FAILED"
        and failed.errors[0]["code"] == "4.1"
        and "not answering" in failed.errors[0]["reason"]
    )


def test_odr_6_meters_the_head_end_cannot_read() -> None:
    hes = make_hes()
    assert _get(hes, meters=["LEGACY-01"]).errors[0]["code"] == "2.7"
    notprov = _get(hes, meters=["AMS-NOTPROV"])
    assert notprov.result == "FAILED" and "not provisioned" in notprov.errors[0]["reason"]
    assert _get(hes, esiids=["99999999999999999"]).errors[0]["code"] == "2.12"
    empty = hes.handle(
        request("get", "MeterReadings", source="CIS", get_filter=E.gmr("GetMeterReadings"))
    )
    assert Incoming.parse(empty, CODEC).errors[0]["code"] == "2.7"


def test_named_twice_answered_once() -> None:
    hes = make_hes()
    answer = _get(hes, meters=[M1], esiids=[hes.spec(M1).esiid])
    assert answer.result == "OK" and len(answer.payload[0]) == 1


# ---------------------------------------------------------------------- the load profile
@pytest.fixture(scope="module")
def load_profile_100k():
    t0 = time.perf_counter()
    profile = load_profile("load")
    return profile, time.perf_counter() - t0


def test_load_profile_start_up_is_lazy(load_profile_100k) -> None:
    """100,002 meters (100,000 generated, 2 listed for ODR-6): the head-end creates nothing
    per meter until one is touched."""
    profile, profile_seconds = load_profile_100k
    t0 = time.perf_counter()
    hes = HeadEnd(profile)
    startup = time.perf_counter() - t0
    stats = hes.stats()
    print(
        f"\nload profile: {stats['meters']} meters, profile {profile_seconds:.2f} s, head-end start-up {startup * 1000:.1f} ms, max RSS {stats['max_rss_mb']} MB"
    )
    assert stats["meters"] == 100_002 and stats["meters_touched"] == 0 and hes._states == {}
    assert startup < 1.0 and profile_seconds + startup < 5.0
    last = next(m.meter for m in reversed(profile.meters) if m.ams and m.provisioned)
    assert (
        hes.readings(last)["intervals"] and hes.stats()["meters_touched"] == 0
    )  # reading is no touch
    create(hes, controls.REMOTE_DISCONNECT, "d-load", meter=last)
    assert (
        hes.stats()["meters_touched"] == 1 and hes.switch_status(last)["switch"] == "disconnected"
    )
    feeder = profile.meter(last).feeder
    t0 = time.perf_counter()
    down = hes.power_down(feeder=feeder)
    # 2,500 generated + the listed AMS meter not provisioned; the legacy meter is no AMS meter
    assert len(down) == 2501 and time.perf_counter() - t0 < 10
    assert hes.stats()["meters_touched"] == 2501
    assert parse_time(hes.events()[-1]["at"]) == hes.now()
