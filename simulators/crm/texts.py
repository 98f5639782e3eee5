"""The wording of the customer notifications (D11-2, D11-4, D11-8, D11-9, B2-6).

Plain functions from facts to text, so the rules the use case sets for each message are visible
in one place and checked by the unit tests:

* new outage: acknowledgement, qualitative magnitude, a phone number for more information
  (D11 req. 2-4), the ERT when known (req. 10);
* ERT update: the new ERT (and the one told before);
* trouble-order status: dispatched / en route / on site (D11 scenario 1 steps 5, 7);
* power restored: outage cause, duration and an apology, plus the number to call if the power
  is still off (D11-8, scenario 1 step 17);
* planned outage: advance notice with date, time and reason (D11-9, req. 6-8); its start;
* scheduled turn-off or limit: date and time of the event (B2-6).

Times are shown in the profile's time zone (``[profile] timezone``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "cause_text",
    "duration_text",
    "etr_text",
    "outage_text",
    "planned_cancelled_text",
    "planned_text",
    "restored_text",
    "status_text",
    "switch_text",
    "when_text",
    "zone",
]

MAGNITUDE = {
    "isolated": "an isolated outage (your premises or a few premises)",
    "neighbourhood": "a neighbourhood outage",
    "area": "an area-wide outage",
}
CAUSE_KIND = {
    "animal": "an animal in contact with the lines",
    "lightingStrike": "a lightning strike",
    "lineDown": "a power line down",
    "poleDown": "a pole down",
    "treeDown": "a fallen tree",
}
STATUS = {
    "dispatched": "A trouble worker has been dispatched to your outage.",
    "acknowledged": "A trouble worker has been dispatched to your outage.",
    "enRoute": "The crew is on the way to the outage site.",
    "onSite": "The crew has arrived at the outage site and is working on it.",
}
APOLOGY = "We apologise for the inconvenience."


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        from datetime import UTC

        return UTC


def when_text(at: datetime, tz: tzinfo) -> str:
    """``Tue 12 May 2026 14:00 CDT``."""
    local = at.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} {local.tzname() or ''}".rstrip()


def time_text(at: datetime, tz: tzinfo) -> str:
    local = at.astimezone(tz)
    return f"{local:%H:%M} {local.tzname() or ''}".rstrip()


def duration_text(delta: timedelta) -> str:
    """``2 h 15 min``, ``45 min``, ``1 day 3 h``."""
    minutes = max(0, round(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days > 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if mins or not parts:
        parts.append(f"{mins} min")
    return " ".join(parts)


def cause_text(cause: str | None, cause_kind: str | None) -> str:
    if cause:
        return cause
    if cause_kind:
        return CAUSE_KIND.get(cause_kind, cause_kind)
    return "not yet determined"


def _where(place: str) -> str:
    return f" at {place}" if place else ""


def outage_text(
    *,
    utility: str,
    place: str,
    magnitude: str,
    phone: str,
    ert: datetime | None,
    tz: tzinfo,
    planned: bool = False,
    community: str | None = None,
    crew_dispatched: bool = False,
) -> str:
    """The first notice of an outage (D11-2) or of the start of a planned one (D11-9)."""
    size = MAGNITUDE.get(magnitude, f"a {magnitude} outage")
    head = (
        f"{utility}: the planned outage{_where(place)} has started"
        if planned
        else f"{utility}: we are aware of a power outage{_where(place)}"
    )
    text = f"{head}. It is {size}" + (f" ({community})" if community else "") + "."
    if crew_dispatched:
        text += " A crew has been dispatched."
    if ert is not None:
        text += f" Estimated restoration: {when_text(ert, tz)}."
    return text + f" For more information call {phone}."


def etr_text(
    *, utility: str, place: str, ert: datetime, previous: datetime | None, tz: tzinfo, phone: str
) -> str:
    """An ERT update (D11-4: only sent when it moved by more than 30 minutes)."""
    text = f"{utility}: outage update{_where(place)}. Estimated restoration is now {when_text(ert, tz)}"
    if previous is not None:
        text += f" (previously {time_text(previous, tz)})"
    return text + f". For more information call {phone}."


def status_text(*, utility: str, place: str, status: str, phone: str) -> str:
    """A trouble-order status change (dispatched / en route / on site)."""
    what = STATUS.get(status, f"Outage status: {status}.")
    return f"{utility}: outage update{_where(place)}. {what} For more information call {phone}."


def restored_text(
    *,
    utility: str,
    place: str,
    cause: str,
    duration: timedelta | None,
    phone: str,
    planned: bool = False,
) -> str:
    """ "Power restored" with cause, duration and an apology (D11-8)."""
    text = f"{utility}: power has been restored{_where(place)}."
    text += f" Cause: {cause}." if not planned else f" Planned work: {cause}."
    if duration is not None:
        text += f" The outage lasted {duration_text(duration)}."
    return text + f" {APOLOGY} If you are still without power, call {phone}."


def planned_text(
    *,
    utility: str,
    place: str,
    start: datetime | None,
    end: datetime | None,
    reason: str,
    phone: str,
    tz: tzinfo,
) -> str:
    """Advance notice of a planned outage: date, time and reason (D11-9)."""
    if start is None:
        when = "on a date still to be announced"
    elif end is None:
        when = f"from {when_text(start, tz)}"
    elif start.astimezone(tz).date() == end.astimezone(tz).date():
        when = f"on {when_text(start, tz)} until {time_text(end, tz)}"
    else:
        when = f"from {when_text(start, tz)} until {when_text(end, tz)}"
    return (
        f"{utility}: planned power outage{_where(place)} {when}. Reason: {reason}. "
        f"For more information call {phone}."
    )


def planned_cancelled_text(
    *, utility: str, place: str, start: datetime | None, tz: tzinfo, phone: str
) -> str:
    when = f" on {when_text(start, tz)}" if start is not None else ""
    return (
        f"{utility}: the planned power outage{_where(place)}{when} has been cancelled. "
        f"For more information call {phone}."
    )


def switch_text(
    *, utility: str, place: str, kind: str, at: datetime, tz: tzinfo, level: int | None = None
) -> str:
    """The in-home display notice before a scheduled turn-off or limit (B2-6)."""
    if kind == "limit":
        how = f"limited to {level} % of its rated capacity" if level else "limited"
        return (
            f"{utility}: your electricity supply{_where(place)} will be {how} from "
            f"{when_text(at, tz)}."
        )
    return (
        f"{utility}: your electricity service{_where(place)} is scheduled to be turned off on "
        f"{when_text(at, tz)}."
    )
