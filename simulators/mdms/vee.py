"""VEE (validation, estimation, editing) of 15-minute interval data, as pure functions.

What an MDM does with raw head-end data before it becomes billing-grade (ODR-7):

* **validation**: every expected interval of the period must be present, not negative and not a
  spike. A spike is more energy than the meter can pass in the interval at ``spike_factor``
  times its rated capacity: ``value > spike_factor * rated_kw * minutes / 60`` kWh;
* **estimation**: an interval that failed is replaced by linear interpolation between the
  nearest valid intervals of the period (the nearest one alone at either end; 0 when none is
  valid) and marked ``MDM_ESTIMATED`` (3.8.0); valid ones are marked ``VEE_VALIDATED`` (3.0.1).

Timestamps are interval *ends* (the CIM convention used on the bus); a local day in the
profile's time zone has 96 intervals (92 / 100 on daylight-saving change days).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from cim_models.codes import MDM_ESTIMATED, VEE_VALIDATED

__all__ = [
    "ESTIMATED",
    "RAW",
    "VALIDATED",
    "VeeReading",
    "day_window",
    "interval_ends",
    "run_vee",
    "spike_limit",
]

RAW = "raw"
VALIDATED = "validated"
ESTIMATED = "estimated"


@dataclass(frozen=True)
class VeeReading:
    """The VEE outcome of one interval."""

    end: datetime
    value: float
    quality: str  # VEE_VALIDATED or MDM_ESTIMATED
    status: str  # validated | estimated
    raw: float | None  # what the head-end gave (None: missing)
    reason: str | None = None  # why it was estimated: missing | negative | spike


def day_window(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The local ``day`` in ``tz`` as [start, end) in UTC (23 or 25 hours on DST days)."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def interval_ends(start: datetime, end: datetime, minutes: int = 15) -> list[datetime]:
    """The interval end timestamps in (start, end]."""
    step = timedelta(minutes=minutes)
    out = []
    t = start + step
    while t <= end:
        out.append(t)
        t += step
    return out


def spike_limit(rated_kw: float, spike_factor: float, minutes: int = 15) -> float:
    """The largest believable kWh in one interval."""
    return spike_factor * rated_kw * minutes / 60.0


def run_vee(
    raw: Mapping[datetime, float | None],
    ends: Sequence[datetime],
    *,
    rated_kw: float,
    spike_factor: float,
    minutes: int = 15,
) -> list[VeeReading]:
    """Validate and estimate the intervals ``ends`` from the raw values (missing keys and None
    are missing intervals). Returns one :class:`VeeReading` per end, in order."""
    limit = spike_limit(rated_kw, spike_factor, minutes)
    values: list[float | None] = []
    reasons: list[str | None] = []
    for ts in ends:
        v = raw.get(ts)
        if v is None:
            values.append(None)
            reasons.append("missing")
        elif v < 0:
            values.append(None)
            reasons.append("negative")
        elif v > limit:
            values.append(None)
            reasons.append("spike")
        else:
            values.append(v)
            reasons.append(None)
    valid = [i for i, v in enumerate(values) if v is not None]
    out: list[VeeReading] = []
    for i, ts in enumerate(ends):
        v = values[i]
        if v is not None:
            out.append(VeeReading(ts, round(v, 3), VEE_VALIDATED, VALIDATED, raw.get(ts)))
            continue
        out.append(
            VeeReading(
                ts, _estimate(i, values, valid), MDM_ESTIMATED, ESTIMATED, raw.get(ts), reasons[i]
            )
        )
    return out


def _estimate(i: int, values: Sequence[float | None], valid: Sequence[int]) -> float:
    k = bisect_left(valid, i)  # valid[k - 1] < i < valid[k]: i itself is not valid
    before = valid[k - 1] if k > 0 else None
    after = valid[k] if k < len(valid) else None
    if before is not None and after is not None:
        a, b = values[before], values[after]
        assert a is not None and b is not None
        return round(a + (b - a) * (i - before) / (after - before), 3)
    if before is not None:
        return round(values[before] or 0.0, 3)
    if after is not None:
        return round(values[after] or 0.0, 3)
    return 0.0
