"""Deterministic interval consumption of the simulated AMS meters (ODR-3, B2-10, B2-14).

Every value is a pure function of (meter number, interval end, seed): the same profile seed gives
the same kWh on every run, on every machine, without storing anything per meter. A meter's
nominal consumption follows a daily load shape in the profile's local time zone:

* ``residential``: a night base load, a morning peak (~07:15 on weekdays, later and flatter at
  weekends), a small midday bump and the larger evening peak (~19:00);
* ``small_commercial``: a low base load and a business-hours plateau (08:00-18:00 on weekdays,
  a short late morning at weekends).

The shape is scaled by the meter's rated capacity (``rated_kw``; 12 kW gives an evening peak of
about 4.5 kW), by a per-day factor (0.85-1.15, weather) and a per-interval factor (0.9-1.1).
Values are whole watt-hours, so that the register read (a sum of intervals) is exactly
consistent with the interval readings printed with three decimals of kWh.

What the switch and the outages do to these nominal values is the business of
:mod:`simulators.headend.meters`.
"""

from __future__ import annotations

import math
import zlib
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["SHAPES", "day_intervals", "demand_kw", "nominal_wh", "unit"]

SHAPES = ("residential", "small_commercial")

_MASK = (1 << 64) - 1


def unit(*parts: int) -> float:
    """A deterministic number in [0, 1) from integers (splitmix64 over the parts)."""
    h = 0x9E3779B97F4A7C15
    for p in parts:
        h = (h ^ (p & _MASK)) & _MASK
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK
        h ^= h >> 31
    return (h >> 11) / float(1 << 53)


@lru_cache(maxsize=65536)
def meter_key(meter: str) -> int:
    return zlib.crc32(meter.encode("utf-8"))


def _bump(hour: float, centre: float, width: float) -> float:
    d = abs(hour - centre)
    d = min(d, 24.0 - d)  # the day wraps around midnight
    return math.exp(-0.5 * (d / width) ** 2)


def _plateau(hour: float, start: float, end: float) -> float:
    return 1.0 / (1.0 + math.exp(-(hour - start) * 3.0)) / (1.0 + math.exp((hour - end) * 3.0))


def shape_kw(shape: str, hour: float, weekend: bool, rated_kw: float) -> float:
    """Mean demand (kW) of the load shape at local ``hour`` (0-24), before the random factors."""
    scale = rated_kw / 12.0
    if shape == "small_commercial":
        if weekend:
            return scale * (0.5 + 0.9 * _plateau(hour, 9.5, 13.5))
        return scale * (0.5 + 4.0 * _plateau(hour, 8.0, 18.0))
    if weekend:
        return scale * (
            0.4
            + 1.3 * _bump(hour, 9.0, 1.5)
            + 0.9 * _bump(hour, 13.5, 2.5)
            + 2.9 * _bump(hour, 19.0, 1.8)
        )
    return scale * (
        0.35
        + 1.6 * _bump(hour, 7.25, 1.0)
        + 0.5 * _bump(hour, 13.0, 3.0)
        + 2.9 * _bump(hour, 19.0, 1.8)
    )


@lru_cache(maxsize=8192)
def day_intervals(
    meter: str, shape: str, rated_kw: float, seed: int, day: date, tz: str, minutes: int = 15
) -> tuple[tuple[datetime, int], ...]:
    """The nominal interval values of one local day: ``(interval end (UTC), Wh)`` for every
    interval whose end falls in (local midnight, next local midnight]. 96 intervals on a normal
    day at 15 minutes, 92 / 100 on the daylight-saving days."""
    zone = ZoneInfo(tz)
    start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(UTC)
    key = meter_key(meter)
    day_factor = 0.85 + 0.3 * unit(key, seed, day.toordinal())
    weekend = day.weekday() >= 5
    step = timedelta(minutes=minutes)
    out: list[tuple[datetime, int]] = []
    t = start + step
    while t <= end:
        mid = (t - step / 2).astimezone(zone)
        hour = mid.hour + mid.minute / 60.0 + mid.second / 3600.0
        noise = 0.9 + 0.2 * unit(key, seed, int(t.timestamp()))
        kw = shape_kw(shape, hour, weekend, rated_kw) * day_factor * noise
        out.append((t, round(kw * 1000.0 * minutes / 60.0)))
        t += step
    return tuple(out)


def _local_day_of_end(end: datetime, tz: str, minutes: int) -> date:
    return (end - timedelta(minutes=minutes)).astimezone(ZoneInfo(tz)).date()


def nominal_wh(
    meter: str, shape: str, rated_kw: float, seed: int, end: datetime, tz: str, minutes: int = 15
) -> int:
    """Nominal Wh of the interval ending at ``end`` (an interval boundary)."""
    end_utc = end.astimezone(UTC)
    for t, wh in day_intervals(
        meter, shape, rated_kw, seed, _local_day_of_end(end_utc, tz, minutes), tz, minutes
    ):
        if t == end_utc:
            return wh
    raise ValueError(f"{end.isoformat()} is not the end of a {minutes}-minute interval")


def demand_kw(
    meter: str, shape: str, rated_kw: float, seed: int, at: datetime, tz: str, minutes: int = 15
) -> float:
    """The load-shape demand at ``at``: the mean kW of the interval that contains it."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    step = timedelta(minutes=minutes)
    end = epoch + ((at.astimezone(UTC) - epoch) // step + 1) * step
    return nominal_wh(meter, shape, rated_kw, seed, end, tz, minutes) * 60.0 / minutes / 1000.0
