"""``get MeterReadings``: the head-end reads its meters (ODR-3, ODR-6, B2-10, B2-14).

Filter (``GetMeterReadings``): the meters by ``UsagePoint`` (ESIID) and/or ``EndDevice`` (meter
number), as ``mRID`` or ``Names/name`` (``MeterReadings/Meter`` and ``MeterReadings/UsagePoint``
are read too); the window from ``Request/StartTime`` / ``EndTime`` (else
``Reading/timePeriod``, else ``TimeSchedule/scheduleInterval``, else the local day so far); the
``ReadingType`` mRIDs wanted (none = interval data and register). The window end is clipped to
the last interval boundary before now (no future data); at most ``max_window_days``.

Answer: one ``MeterReading`` per meter that answered (15-minute kWh, register, quality
DEVICE_VALID; zeros while the switch was open, nothing while de-energised). A meter that does
not answer (de-energised, ``disconnect`` knob) gives Result PARTIAL (others answered) or FAILED
with code 4.1 naming it; an unknown meter 2.12; a non-AMS or unprovisioned meter 2.7 (ODR-6).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lxml import etree

from cim_models.build import ReplyError
from cim_models.codes import (
    INTERVAL_15MIN_KWH_DELIVERED,
    INTERVAL_60MIN_KWH_DELIVERED,
    REGISTER_KWH_DELIVERED,
)
from simulators._core import NS, E, Incoming, MeterSpec, SimError, handles, parse_time, reply, text

from .core import HeadEndCore
from .meters import floor_boundary

__all__ = ["ReadingsMixin"]


def _ids(el: etree._Element, prefer: str) -> list[str]:
    ids = []
    for n in el.findall("gmr:Names", NS):
        kind = text(n, "gmr:NameType/gmr:name")
        value = text(n, "gmr:name")
        if value:
            ids.append((0 if kind == prefer else 1, value))
    out = [v for _, v in sorted(ids, key=lambda x: x[0])]
    mrid = text(el, "gmr:mRID")
    if mrid:
        out.append(mrid)
    return out[:1]


class ReadingsMixin(HeadEndCore):
    """Reading the meters' interval data and registers."""

    def readings(
        self, meter: str, start: datetime | str | None = None, end: datetime | str | None = None
    ) -> dict[str, Any]:
        """What the meter recorded in (start, end] (default: the local day so far): interval
        values (end of interval, kWh) and the register read at the window end. This is the
        meter's memory; whether it can answer right now is :meth:`reachable`."""
        spec = self.spec(meter)
        e = min(
            parse_time(end) if end else self.now(),
            floor_boundary(self.now(), spec.interval_minutes or 15),
        )
        s = parse_time(start) if start else self.day_start(e)
        reg_at, reg = self.register(spec, e)
        return {
            "meter": spec.meter,
            "esiid": spec.esiid,
            "intervals": [(t, wh / 1000.0) for t, wh in self.recorded(spec, s, e)],
            "register": (reg_at, reg / 1000.0),
        }

    @handles("get", "MeterReadings")
    def get_meter_readings(self, msg: Incoming) -> bytes:
        """Answer a GetMeterReadings from the deterministic data (ODR-3)."""
        f = msg.get_filter
        keys = self._wanted_meters(f)
        if not keys:
            raise SimError("2.7", "GetMeterReadings names no usage point (ESIID) and no meter")
        start, end = self._window(msg, f)
        want_intervals, want_register = self._wanted_types(f)
        readings, errors = [], []
        n_values = n_registers = 0
        with self._lock:  # a consistent view while timers and other threads change meters
            for key in keys:
                try:
                    spec = self._readable(key)
                except SimError as err:
                    errors.append(
                        ReplyError(
                            err.code,
                            "FATAL",
                            err.reason,
                            object_id=err.object_id or key,
                            object_type=err.object_type or "UsagePoint",
                        )
                    )
                    continue
                el, n = self.reading_element(
                    spec,
                    start,
                    end,
                    reason="inquiry",
                    intervals=want_intervals,
                    register=want_register,
                )
                readings.append(el)
                n_values += n
                n_registers += 1 if want_register else 0
        self.counters["reads"] += len(readings)
        if not readings:
            return reply(
                msg, source=self.system, result="FAILED", errors=errors, timestamp=self.local_now()
            )
        summary = ReplyError(
            "0.0",
            "INFORM",
            f"{n_values} interval readings and {n_registers} register reads returned for {len(readings)} meter(s)",
        )
        return reply(
            msg,
            source=self.system,
            result="PARTIAL" if errors else "OK",
            errors=[*errors, summary],
            payload=[E.mr("MeterReadings", *readings)],
            timestamp=self.local_now(),
        )

    # ------------------------------------------------------------------ filter
    def _wanted_meters(self, f: etree._Element | None) -> list[str]:
        if f is None:
            return []
        keys: list[str] = []
        for path, prefer in (
            ("gmr:UsagePoint", "ESIID"),
            ("gmr:EndDevice", "MeterNumber"),
            ("gmr:MeterReadings/gmr:Meter", "MeterNumber"),
            ("gmr:MeterReadings/gmr:UsagePoint", "ESIID"),
        ):
            for el in f.findall(path, NS):
                keys += _ids(el, prefer)
        seen: dict[str, str] = {}
        for k in keys:  # one answer per meter even if named by ESIID and meter number
            spec = self.profile.find_meter(k)
            seen.setdefault(spec.meter if spec else k, k)
        return list(seen.values())

    def _window(self, msg: Incoming, f: etree._Element | None) -> tuple[datetime, datetime]:
        start_s, end_s = msg.window()
        if not (start_s or end_s) and f is not None:
            start_s = text(f, "gmr:Reading/gmr:timePeriod/gmr:start") or text(
                f, "gmr:TimeSchedule/gmr:scheduleInterval/gmr:start"
            )
            end_s = text(f, "gmr:Reading/gmr:timePeriod/gmr:end") or text(
                f, "gmr:TimeSchedule/gmr:scheduleInterval/gmr:end"
            )
        try:
            end = parse_time(end_s) if end_s else self.now()
            start = (
                parse_time(start_s)
                if start_s
                else self.day_start(min(end, self.now()) - timedelta(microseconds=1))
            )
        except ValueError as exc:
            raise SimError("2.7", f"the time window is not valid: {exc}") from None
        if start >= end:
            raise SimError(
                "2.7",
                f"the time window is empty: start {self.fmt(start)} is not before end {self.fmt(end)}",
            )
        if start >= self.now():
            raise SimError(
                "2.7",
                f"the time window starts in the future ({self.fmt(start)}; now {self.fmt(self.now())})",
            )
        if end - start > self.max_window:
            raise SimError(
                "2.7",
                f"the time window is longer than the head-end serves ({self.max_window.days} days)",
            )
        return start, end

    def _wanted_types(self, f: etree._Element | None) -> tuple[bool, bool]:
        types = [
            t
            for t in (
                [text(rt, "gmr:mRID") for rt in f.findall("gmr:ReadingType", NS)]
                if f is not None
                else []
            )
            if t
        ]
        if not types:
            return True, True
        intervals = any(
            t in (INTERVAL_15MIN_KWH_DELIVERED, INTERVAL_60MIN_KWH_DELIVERED) for t in types
        )
        register = REGISTER_KWH_DELIVERED in types
        if not (intervals or register):
            raise SimError(
                "2.7",
                "none of the reading types asked for is recorded by the meters (15-minute kWh delivered, register kWh delivered)",
            )
        return intervals, register

    def _readable(self, key: str) -> MeterSpec:
        spec = self.spec(key)
        if not spec.ams or not spec.interval_minutes:
            raise SimError(
                "2.7",
                f"ESIID {spec.esiid} (meter {spec.meter}) has no AMS meter with interval data (ODR-6)",
                object_id=spec.esiid,
                object_type="UsagePoint",
            )
        if not spec.provisioned:
            raise SimError(
                "2.7",
                f"the AMS meter {spec.meter} at ESIID {spec.esiid} is installed but not provisioned (ODR-6)",
                object_id=spec.esiid,
                object_type="UsagePoint",
            )
        why = self.unreachable_reason(spec)
        if why is not None:
            raise SimError(
                "4.1",
                f"meter {spec.meter} (ESIID {spec.esiid}) did not answer: {why}",
                object_id=spec.meter,
                object_type="EndDevice",
            )
        return spec
