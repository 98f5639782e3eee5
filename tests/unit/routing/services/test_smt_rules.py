"""The SMT business rules one by one: the ODR window (ODR-2), the throttle day (ODR-5), the ROR
and caller checks (ODR-4, SEC-2) and the meter checks (ODR-6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing.errors import NotAuthorised
from routing.services.smt import MeterNotEligible, NoVeePosting, WindowRefused
from routing.services.smt.rules import (
    check_caller,
    check_eligible,
    check_ror,
    limit_reason,
    next_day_start,
    resolve_window,
    throttle_day,
)
from routing.store import UsagePoint

from .odr_messages import CT, ESIID, ROR

LAST = datetime(2026, 5, 11, 0, 0, tzinfo=CT)  # the last VEE data ends at midnight
H48 = timedelta(hours=48)


def window(start=None, end=None, *, now=LAST + timedelta(hours=33), last=LAST, length=H48):
    return resolve_window(ESIID, start, end, last_vee_end=last, now=now, max_length=length, tz=CT)


# ---------------------------------------------------------------------------- ODR-2 window
def test_no_window_reads_from_the_last_vee_end_to_now() -> None:
    assert window() == (LAST, LAST + timedelta(hours=33))


def test_no_window_stops_at_48_hours_after_the_last_vee_end() -> None:
    assert window(now=LAST + timedelta(days=5)) == (LAST, LAST + H48)


def test_one_end_given_the_other_is_filled() -> None:
    assert window(start=LAST + timedelta(hours=2)) == (
        LAST + timedelta(hours=2),
        LAST + timedelta(hours=33),
    )
    assert window(end=LAST + timedelta(hours=6)) == (LAST, LAST + timedelta(hours=6))


def test_the_whole_allowed_window_is_allowed() -> None:
    assert window(LAST, LAST + H48) == (LAST, LAST + H48)


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        (LAST, LAST + timedelta(hours=49), "is longer than 48 h"),
        (LAST - timedelta(hours=1), LAST + timedelta(hours=4), "starts before the last VEE"),
        (
            LAST + timedelta(hours=1),
            LAST + timedelta(hours=48, minutes=15),
            "ends after the allowed",
        ),
        (LAST + timedelta(hours=5), LAST + timedelta(hours=5), "is empty"),
        (LAST + timedelta(hours=5), LAST + timedelta(hours=4), "is empty"),
    ],
)
def test_windows_outside_the_rule_are_refused_with_the_allowed_window(start, end, problem) -> None:
    with pytest.raises(WindowRefused) as info:
        window(start, end)
    err = info.value
    assert err.code == "2.7" and problem in err.reason
    assert (
        "last VEE data for ESIID 10443720001234567 ends at 2026-05-11T00:00:00-05:00" in err.reason
    )
    assert "allowed window is 2026-05-11T00:00:00-05:00 to 2026-05-13T00:00:00-05:00" in err.reason


def test_window_length_is_configurable() -> None:
    with pytest.raises(WindowRefused, match="longer than 24 h"):
        window(LAST, LAST + timedelta(hours=25), length=timedelta(hours=24))


def test_no_vee_posting_yet_is_refused() -> None:
    with pytest.raises(NoVeePosting, match=r"no VEE .* posted for ESIID 10443720001234567 yet"):
        window(last=None)


# ---------------------------------------------------------------------------- ODR-5 day
def test_the_throttle_day_is_the_local_day() -> None:
    # 04:59 UTC on 13 May is still 12 May in Texas (CDT, UTC-5); 05:00 UTC is the 13th
    assert throttle_day(datetime(2026, 5, 13, 4, 59, tzinfo=UTC), CT) == "2026-05-12"
    assert throttle_day(datetime(2026, 5, 13, 5, 0, tzinfo=UTC), CT) == "2026-05-13"
    # in winter (CST, UTC-6)
    assert throttle_day(datetime(2026, 1, 13, 5, 30, tzinfo=UTC), CT) == "2026-01-12"


def test_next_day_start_is_local_midnight() -> None:
    at = datetime(2026, 5, 12, 23, 59, tzinfo=CT)
    assert next_day_start(at, CT) == datetime(2026, 5, 13, 0, 0, tzinfo=CT)
    # across the DST change (8 March 2026): midnight of the 9th is CDT
    assert next_day_start(datetime(2026, 3, 8, 1, 0, tzinfo=CT), CT).utcoffset() == timedelta(
        hours=-5
    )


def test_limit_reasons() -> None:
    at = datetime(2026, 5, 12, 9, 41, tzinfo=CT)
    assert limit_reason("read", 1, ESIID, at, CT) == (
        "limit of 1 successful meter read per ESIID per day reached for 10443720001234567 "
        "(next allowed from 2026-05-13T00:00:00-05:00)"
    )
    assert "limit of 2 successful power status requests (pings) per ESIID per day" in (
        limit_reason("ping", 2, ESIID, at, CT)
    )


# ---------------------------------------------------------------------------- ODR-4, SEC-2
POINT = UsagePoint(esiid=ESIID, ror=ROR)


def test_the_ror_of_record_may_ask() -> None:
    check_caller(ROR, system="CIS")
    check_caller(ROR, system="CIS", system_organizations=(ROR, "REP-X"))
    check_ror(ROR, POINT)


def test_another_organisation_is_refused_without_learning_about_the_meter() -> None:
    with pytest.raises(NotAuthorised) as info:
        check_ror("REP-LONESTAR", UsagePoint(esiid=ESIID, ror=ROR, ams=False))
    err = info.value
    assert err.code == "3.2"
    assert ROR not in err.reason  # who the ROR is stays secret
    assert "AMS" not in err.reason and "provision" not in err.reason


def test_no_organisation_or_one_the_system_does_not_act_for_is_refused() -> None:
    with pytest.raises(NotAuthorised, match="names no organisation"):
        check_caller(None, system="CIS")
    with pytest.raises(NotAuthorised, match="does not act for organisation 'REP-BLUEBONNET'"):
        check_caller(ROR, system="CIS2", system_organizations=("REP-LONESTAR",))
    with pytest.raises(NotAuthorised):
        check_ror(ROR, UsagePoint(esiid=ESIID, ror=None))  # no ROR of record: nobody may ask


# ---------------------------------------------------------------------------- ODR-6
def test_an_ams_15_minute_provisioned_meter_is_eligible() -> None:
    check_eligible(POINT)
    check_eligible(POINT, kind="ping")


@pytest.mark.parametrize(
    ("point", "says"),
    [
        (UsagePoint(esiid=ESIID, ams=False), "is not an AMS meter"),
        (UsagePoint(esiid=ESIID, provisioned=False), "not installed and provisioned"),
        (UsagePoint(esiid=ESIID, interval_minutes=60), "records 60-minute interval data"),
        (UsagePoint(esiid=ESIID, interval_minutes=None), "records no interval data"),
        (UsagePoint(esiid=ESIID, daily_read=False), "no daily read capability"),
    ],
)
def test_meters_that_are_not_eligible_are_refused_with_the_reason(point, says) -> None:
    with pytest.raises(MeterNotEligible) as info:
        check_eligible(point)
    assert info.value.code == "2.7" and says in info.value.reason
    assert info.value.object_id == ESIID
