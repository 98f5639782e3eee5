"""The SMT business rules as pure functions (no bus, no store): easy to test one by one.

* :func:`check_caller`: SEC-2, the request names its organisation and the requesting system
  acts for it.
* :func:`check_ror`: ODR-4, only the ROR of record may ask; the reason says nothing about the
  meter.
* :func:`check_eligible`: ODR-6, an AMS meter, installed and provisioned, with 15-minute
  interval data and a daily read.
* :func:`resolve_window`: ODR-2, the window is inside [last VEE end, last VEE end + 48 h].
* :func:`throttle_day`, :func:`next_day_start`, :func:`limit_reason`: ODR-5, the local day
  the per-ESIID limits count in, and the refusal text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta, tzinfo

from ...errors import NotAuthorised
from ...store import UsagePoint
from .errors import MeterNotEligible, NoVeePosting, WindowRefused
from .messages import INTERVAL_MINUTES, iso

KIND_TEXT = {
    "read": ("successful meter read", "successful meter reads"),
    "ping": ("successful power status request (ping)", "successful power status requests (pings)"),
}


def check_caller(
    organization: str | None, *, system: str | None, system_organizations: Sequence[str] = ()
) -> None:
    """SEC-2: the request must name its organisation (Header/User/Organization), and the
    requesting system must act for it when the system lists organisations
    (``[systems.X] organizations``). Checked before anything is looked up."""
    if not organization:
        raise NotAuthorised(
            "the request names no organisation (Header/User/Organization): only the Rep of "
            "Record of an ESIID may ask for its data",
            xpath="Header/User/Organization",
        )
    if system_organizations and organization not in system_organizations:
        raise NotAuthorised(
            f"system {system or '?'} does not act for organisation {organization!r}",
            xpath="Header/User/Organization",
        )


def check_ror(organization: str | None, point: UsagePoint) -> None:
    """ODR-4: only the Rep of Record of the usage point may ask. The refusal (3.2) says
    nothing about the meter (not who its ROR is, not whether it is provisioned)."""
    if not organization or point.ror is None or point.ror != organization:
        raise NotAuthorised(
            f"organisation {organization!r} is not the Rep of Record of ESIID {point.esiid}; "
            "nothing was read",
            object_id=point.esiid,
            object_type="UsagePoint",
        )


def check_eligible(point: UsagePoint, *, kind: str = "read") -> None:
    """ODR-6: the meter must be an AMS meter, installed and provisioned through the TDSP,
    recording 15-minute interval data and a daily read (checked after the ROR)."""
    problems = []
    if not point.ams:
        problems.append("is not an AMS meter")
    if not point.provisioned:
        problems.append("is not installed and provisioned by the TDSP")
    if point.interval_minutes != INTERVAL_MINUTES:
        what = f"{point.interval_minutes}-minute" if point.interval_minutes else "no"
        problems.append(f"records {what} interval data, not 15-minute")
    if not point.daily_read:
        problems.append("has no daily read capability")
    if problems:
        what = "an on-demand read" if kind == "read" else "a power status request"
        raise MeterNotEligible(
            f"ESIID {point.esiid} cannot be served {what}: its meter "
            + "; ".join(problems)
            + " (ODR needs an AMS meter, installed and provisioned, with 15-minute interval "
            "data and a daily read)",
            object_id=point.esiid,
            object_type="UsagePoint",
        )


def resolve_window(
    esiid: str,
    start: datetime | None,
    end: datetime | None,
    *,
    last_vee_end: datetime | None,
    now: datetime,
    max_length: timedelta,
    tz: tzinfo,
) -> tuple[datetime, datetime]:
    """ODR-2: the window to read. Allowed: [last VEE end, last VEE end + ``max_length``].
    Without a window: [last VEE end, min(now, allowed end)]; with only one end the other is
    filled the same way. Raises :class:`NoVeePosting` when nothing VEE-validated was posted
    for the ESIID yet, :class:`WindowRefused` otherwise, naming the last VEE end and the
    allowed window."""
    if last_vee_end is None:
        raise NoVeePosting(
            f"no VEE (validated) data has been posted for ESIID {esiid} yet: an on-demand read "
            "fills the gap after the last VEE posting, so there is no window to read",
            object_id=esiid,
            object_type="UsagePoint",
        )
    allowed_end = last_vee_end + max_length
    if start is None:
        start = last_vee_end
    if end is None:
        end = min(now, allowed_end)
    hours = f"{max_length.total_seconds() / 3600:g} h"
    allowed = (
        f"the last VEE data for ESIID {esiid} ends at {iso(last_vee_end, tz)}; the allowed "
        f"window is {iso(last_vee_end, tz)} to {iso(allowed_end, tz)} (at most {hours})"
    )
    asked = f"{iso(start, tz)} to {iso(end, tz)}"
    problem = None
    if end <= start:
        problem = f"the window {asked} is empty (it must end after it starts)"
    elif end - start > max_length:
        problem = f"the window {asked} is longer than {hours}"
    elif start < last_vee_end:
        problem = f"the window {asked} starts before the last VEE data ends"
    elif end > allowed_end:
        problem = f"the window {asked} ends after the allowed end"
    if problem is not None:
        raise WindowRefused(f"{problem}: {allowed}", object_id=esiid, object_type="UsagePoint")
    return start, end


def throttle_day(now: datetime, tz: tzinfo) -> str:
    """The local calendar day (YYYY-MM-DD in ``tz``) a request at ``now`` counts in."""
    return now.astimezone(tz).date().isoformat()


def next_day_start(now: datetime, tz: tzinfo) -> datetime:
    """Local midnight after ``now``: when the day's limits start again."""
    day = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=tz)


def limit_reason(kind: str, limit: int, esiid: str, now: datetime, tz: tzinfo) -> str:
    """e.g. ``limit of 1 successful meter read per ESIID per day reached for 1044...
    (next allowed from 2026-05-13T00:00:00-05:00)``."""
    one, many = KIND_TEXT[kind]
    return (
        f"limit of {limit} {one if limit == 1 else many} per ESIID per day reached for {esiid} "
        f"(next allowed from {iso(next_day_start(now, tz), tz)})"
    )
