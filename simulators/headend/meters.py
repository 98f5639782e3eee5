"""The state of one simulated AMS meter and what it records (B2-14, B2-15, B2-16, D11-1, ODR-3).

A :class:`MeterState` exists only for meters something happened to (lazy: the ``load`` profile
has 100,000 meters and starts with none). An untouched meter is closed, energised, unlimited
and records its nominal load shape.

What the meter records is derived, not stored: the nominal values of
:mod:`~simulators.headend.loadshape`, reduced by the periods in which the service switch was
open (the meter stays energised and records **zero** consumption, B2-14) and the periods in
which it was de-energised (an outage: it records **nothing**; an interval that lies entirely in
an outage is missing from the data, one that lies partly in it holds the energy of the powered
part). The register read is the meter's base reading plus the sum of the recorded intervals, so
it is exactly consistent with them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simulators._core import MeterSpec, Timer, iso

from .loadshape import day_intervals, meter_key, unit

__all__ = ["MeterState", "Period", "floor_boundary", "recorded_intervals", "register_wh"]

LOG_SIZE = 500
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def floor_boundary(when: datetime, minutes: int = 15) -> datetime:
    """The interval boundary at or before ``when`` (UTC)."""
    step = timedelta(minutes=minutes)
    return _EPOCH + ((when.astimezone(UTC) - _EPOCH) // step) * step


@dataclass
class Period:
    """A period in which the meter did not record its load: the switch open or no power."""

    start: datetime
    end: datetime | None = None  # None: still going on

    def overlap(self, a: datetime, b: datetime) -> tuple[datetime, datetime] | None:
        s = max(self.start, a)
        e = min(self.end or b, b)
        return (s, e) if s < e else None


@dataclass
class MeterState:
    """One meter's switch, power and firmware state, its pending timers and its own log."""

    spec: MeterSpec
    firmware: str
    position: str = "closed"  # closed | open: the service switch (B2-14: closed on installation)
    open_reason: str | None = None  # remote | local | limit_trip
    armed: bool = False  # armed for closure: the customer may close it (ARM_FOR_CLOSURE)
    limit_pct: int | None = None  # active load limit, percent of rated capacity (B2-12)
    limit_locked: bool = False  # tripped a second time within 24 h: stays open (B2-13)
    energised: bool = True  # line side powered (False during an outage)
    forced_kw: float | None = None  # demand forced by set_demand (else the load shape)
    last_trip: datetime | None = None
    last_auto_reconnect: datetime | None = None
    switch_stuck: bool = False  # the contactor does not move (B2-4 5.1: failure with data)
    firmware_fault: bool = False  # the next firmware transfer fails (DCC-4)
    firmware_job: str | None = None  # control mRID of the transfer in progress
    open_periods: list[Period] = field(default_factory=list)
    off_periods: list[Period] = field(default_factory=list)
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=LOG_SIZE))
    #: events the meter originated while de-energised, delivered at restoration
    held: list[tuple[list[Any], str | None]] = field(default_factory=list)
    reconnect_timer: Timer | None = None
    watch_timer: Timer | None = None

    # ------------------------------------------------------------------ switch and power
    @property
    def meter(self) -> str:
        return self.spec.meter

    @property
    def closed(self) -> bool:
        return self.position == "closed"

    @property
    def tripped(self) -> bool:
        return self.position == "open" and self.open_reason == "limit_trip"

    @property
    def contactor(self) -> str:
        """ContactorStatus as the acknowledgement events spell it."""
        return "Closed" if self.closed else "Opened"

    @property
    def switch_label(self) -> str:
        """The switch position for the customer representative (B2-15)."""
        if self.closed:
            return f"limited {self.limit_pct}%" if self.limit_pct else "connected"
        if self.tripped:
            return "tripped (locked open)" if self.limit_locked else "tripped"
        if self.armed:
            return "armed for closure"
        return "disconnected"

    def open(self, at: datetime, reason: str) -> None:
        if self.closed:
            self.open_periods.append(Period(at))
        self.position = "open"
        self.open_reason = reason

    def close(self, at: datetime) -> None:
        if not self.closed and self.open_periods and self.open_periods[-1].end is None:
            self.open_periods[-1].end = at
        self.position = "closed"
        self.open_reason = None
        self.armed = False
        self.limit_locked = False

    def power_off(self, at: datetime) -> None:
        if self.energised:
            self.off_periods.append(Period(at))
        self.energised = False

    def power_on(self, at: datetime) -> None:
        if not self.energised and self.off_periods and self.off_periods[-1].end is None:
            self.off_periods[-1].end = at
        self.energised = True

    def note(self, at: datetime, kind: str, **fields: Any) -> dict[str, Any]:
        """Append to the meter's own log (B2-16: every local attempt with time, status, user,
        authorisation and result; commands, trips, outages, firmware)."""
        entry = {"at": iso(at), "kind": kind, "switch": self.switch_label, **fields}
        self.log.append(entry)
        return entry

    def describe(self) -> dict[str, Any]:
        return {
            "meter": self.spec.meter,
            "esiid": self.spec.esiid,
            "switch": self.switch_label,
            "contactor": self.contactor,
            "open_reason": self.open_reason,
            "armed": self.armed,
            "limit_pct": self.limit_pct,
            "limit_kw": round(self.spec.rated_kw * self.limit_pct / 100.0, 3)
            if self.limit_pct
            else None,
            "energised": self.energised,
            "firmware": self.firmware,
            "forced_kw": self.forced_kw,
            "last_trip": iso(self.last_trip) if self.last_trip else None,
            "last_auto_reconnect": iso(self.last_auto_reconnect)
            if self.last_auto_reconnect
            else None,
            "switch_stuck": self.switch_stuck,
        }


# ---------------------------------------------------------------------- what a meter records
def _covered(periods: list[Period], a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
    return [o for p in periods if (o := p.overlap(a, b)) is not None]


def _union_seconds(spans: list[tuple[datetime, datetime]]) -> float:
    total = 0.0
    end: datetime | None = None
    for s, e in sorted(spans):
        if end is None or s > end:
            total += (e - s).total_seconds()
            end = e
        elif e > end:
            total += (e - end).total_seconds()
            end = e
    return total


def _days(start: datetime, end: datetime, tz: str, minutes: int) -> list[date]:
    zone = ZoneInfo(tz)
    first = (start + timedelta(minutes=minutes)).astimezone(zone).date()
    last = (end - timedelta(minutes=minutes)).astimezone(zone).date()
    out = []
    d = first - timedelta(days=1)
    while d <= last + timedelta(days=1):
        out.append(d)
        d += timedelta(days=1)
    return out


def recorded_intervals(
    spec: MeterSpec, state: MeterState | None, seed: int, tz: str, start: datetime, end: datetime
) -> list[tuple[datetime, int]]:
    """``(interval end (UTC), Wh)`` for the intervals ending in (start, end] that the meter
    recorded: nominal values, zero while the switch was open, missing while de-energised."""
    minutes = spec.interval_minutes or 15
    start_u, end_u = start.astimezone(UTC), end.astimezone(UTC)
    if end_u <= start_u:
        return []
    step = timedelta(minutes=minutes)
    periods_open = state.open_periods if state else []
    periods_off = state.off_periods if state else []
    out: list[tuple[datetime, int]] = []
    for day in _days(start_u, end_u, tz, minutes):
        for t, wh in day_intervals(
            spec.meter, spec.load_shape, spec.rated_kw, seed, day, tz, minutes
        ):
            if not start_u < t <= end_u:
                continue
            a = t - step
            if periods_open or periods_off:
                off = _covered(periods_off, a, t)
                off_s = _union_seconds(off)
                if off_s >= step.total_seconds():
                    continue  # de-energised the whole interval: nothing recorded
                dead = _union_seconds(off + _covered(periods_open, a, t))
                if dead:
                    wh = round(wh * (1.0 - dead / step.total_seconds()))
            out.append((t, wh))
    return out


def base_register_wh(meter: str, seed: int) -> int:
    """The register reading at the simulator's epoch: 5,000 to 60,000 kWh, per meter."""
    return 5_000_000 + int(unit(meter_key(meter), seed, 1) * 55_000_000)


def register_wh(
    spec: MeterSpec, state: MeterState | None, seed: int, tz: str, at: datetime, epoch: datetime
) -> tuple[datetime, int]:
    """The cumulative register (Wh) as of the last interval boundary at or before ``at``:
    the base reading at ``epoch`` plus (or minus, before it) the recorded intervals between."""
    minutes = spec.interval_minutes or 15
    when = floor_boundary(at, minutes)
    base = base_register_wh(spec.meter, seed)
    if when >= epoch:
        return when, base + sum(
            wh for _, wh in recorded_intervals(spec, state, seed, tz, epoch, when)
        )
    return when, base - sum(wh for _, wh in recorded_intervals(spec, state, seed, tz, when, epoch))
