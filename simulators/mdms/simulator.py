"""The MDMS simulator: the TDSP's meter data management system.

What it simulates, with the requirement each rule serves:

* **Storage with VEE status** (ODR-2, ODR-7): 15-minute interval readings per usage point
  (ESIID), each ``raw`` (as the head-end gave it), ``validated`` (VEE passed, quality
  ``VEE_VALIDATED`` 3.0.1) or ``estimated`` (VEE failed, quality ``MDM_ESTIMATED`` 3.8.0), plus
  register reads. Per-meter state is created on first touch, so the 100,000-meter ``load``
  profile starts instantly.
* **Daily VEE posting** (ODR-7): :meth:`Mdms.post_daily_vee` takes the raw data of one local day
  (profile time zone) for each ESIID, asks the head-end (``get MeterReadings`` through cimbus)
  for what it does not have, runs VEE (:mod:`simulators.mdms.vee`) and sends ``created
  MeterReadings`` to cimbus, ``batch_size`` usage points per message; cimbus's SMT service
  takes the latest interval timestamp as the ESIID's "last VEE end" (ODR-2).
  :meth:`Mdms.schedule_daily_vee` runs it every day on the simulated clock for the previous
  local day; :meth:`Mdms.last_vee_end` says what was posted.
* **get MeterReadings** (sync) for whoever cimbus routes to it: stored readings for the
  ESIID(s) / meter(s) and window, with their qualities; an unknown ESIID is FAILED 2.12.
* **On-demand reads at switch events** (B2-9, B2-10): ``created MeterReadings`` from the head-end
  are stored raw and logged per usage point (:meth:`Mdms.on_demand_reads`).
* **Meter event log** (B2-4, B2-9): every ``created EndDeviceEvents`` (switch acknowledgements,
  trips, last gasps, alarms ...) and OutageRecords event is logged per usage point
  (:meth:`Mdms.events_for`).

Profile keys (``[mdms]``, all optional): ``spike_factor`` (1.5), ``batch_size`` (50),
``fetch_from_headend`` (true), ``headend_timeout`` (30 s), ``vee_at`` ("02:00").
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cim_models.build import ReplyError
from cim_models.codes import (
    DEVICE_VALID,
    INTERVAL_15MIN_KWH_DELIVERED,
    MDM_ESTIMATED,
    REGISTER_KWH_DELIVERED,
    VEE_VALIDATED,
    EndDeviceCode,
    controls,
    events,
    results,
)
from simulators._core import (
    E,
    Incoming,
    MeterSpec,
    SimError,
    Simulator,
    SimulatorError,
    Timer,
    event,
    handles,
    iso,
    parse_time,
    reply,
    request,
)
from simulators._core.cim import outage_entries

from .messages import (
    children,
    daily_reading,
    esiid_of,
    interval_block,
    local_iso,
    meter_of,
    meter_reading,
    parse_end_device_events,
    parse_meter_readings,
    quality_dictionary,
    register_reading,
    text_at,
    usage_point_el,
)
from .vee import ESTIMATED, RAW, VALIDATED, day_window, interval_ends, run_vee

__all__ = ["Mdms", "RegisterRead", "StoredReading", "VeePosting"]

SUCCESS = ("OK", "PARTIAL")


@dataclass(frozen=True)
class StoredReading:
    """One 15-minute interval as the MDMS holds it."""

    end: datetime  # end of the interval (UTC)
    value: float | None
    quality: str
    status: str  # raw | validated | estimated
    raw: float | None  # the head-end's value (None: it never came)
    source: str = ""
    reason: str | None = None  # why VEE estimated it

    def to_dict(self, tz: Any = None) -> dict[str, Any]:
        return {
            "timeStamp": local_iso(self.end, tz) if tz else self.end.isoformat(),
            "value": self.value,
            "quality": self.quality,
            "status": self.status,
            "raw": self.raw,
            "source": self.source,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RegisterRead:
    at: datetime
    value: float
    quality: str
    source: str = ""
    reason: str | None = None


@dataclass
class _Point:
    """Per usage point state (created on first touch)."""

    spec: MeterSpec
    intervals: dict[datetime, StoredReading] = field(default_factory=dict)
    registers: list[RegisterRead] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    vee_end: datetime | None = None


@dataclass
class VeePosting:
    """What one :meth:`Mdms.post_daily_vee` did."""

    day: str
    start: str
    end: str
    esiids: list[str] = field(default_factory=list)
    validated: int = 0
    estimated: int = 0
    fetched: int = 0  # interval readings obtained from the head-end for gaps
    messages: list[str] = field(default_factory=list)  # MessageIDs of the created MeterReadings
    unsent: int = 0  # messages built but not sent (not attached, or a fault swallowed them)
    skipped: dict[str, str] = field(default_factory=dict)  # ESIID -> why it was not posted
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Mdms(Simulator):
    """Meter data management: VEE, daily posting, reading store, meter event log."""

    name = "mdms"
    system = "MDMS"
    title = (
        "Meter data management: readings per usage point with VEE status, daily VEE posting "
        "(created MeterReadings), get MeterReadings, on-demand reads and switch events"
    )
    requirements = ("ODR-2", "ODR-7", "B2-4", "B2-9", "B2-10")

    def __init__(
        self,
        profile: Any = None,
        *,
        spike_factor: float | None = None,
        batch_size: int | None = None,
        fetch_from_headend: bool | None = None,
        headend_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(profile, **kwargs)
        section = self.profile.section("mdms")
        self.spike_factor = float(
            spike_factor if spike_factor is not None else section.get("spike_factor", 1.5)
        )
        self.batch_size = int(
            batch_size if batch_size is not None else section.get("batch_size", 50)
        )
        self.fetch_from_headend = bool(
            fetch_from_headend
            if fetch_from_headend is not None
            else section.get("fetch_from_headend", True)
        )
        self.headend_timeout = float(
            headend_timeout if headend_timeout is not None else section.get("headend_timeout", 30.0)
        )
        self.vee_at = str(section.get("vee_at", "02:00"))
        if self.spike_factor <= 0 or self.batch_size < 1 or self.headend_timeout <= 0:
            raise ValueError(
                "mdms: spike_factor and headend_timeout must be positive and batch_size at least 1"
            )
        self.tz = ZoneInfo(self.profile.timezone)
        tdsp = self.profile.organizations_with("TDSP")
        self.authority = (tdsp[0].name or tdsp[0].id) if tdsp else None
        self._points: dict[str, _Point] = {}
        self.postings: deque[VeePosting] = deque(maxlen=100)
        self.unknown_events: deque[dict[str, Any]] = deque(maxlen=1000)
        self._vee_timer: Timer | None = None
        self._vee_time: time | None = None

    # ------------------------------------------------------------------ state
    def _spec(self, key: str | None) -> MeterSpec | None:
        return self.profile.find_meter(key) if key else None

    def _point(self, key: str) -> _Point:
        """The state of the usage point with this ESIID or meter number (KeyError if the
        profile does not know it)."""
        spec = self._spec(key)
        if spec is None:
            raise KeyError(f"ESIID or meter {key!r} is not known to the MDMS")
        with self._lock:
            point = self._points.get(spec.esiid)
            if point is None:
                point = self._points[spec.esiid] = _Point(spec)
            return point

    def ingest(
        self,
        esiid: str,
        readings: Iterable[tuple[Any, ...]],
        *,
        source: str = "HES",
        quality: str = DEVICE_VALID,
        only_missing: bool = False,
    ) -> int:
        """Store raw interval readings ``(end, kWh[, quality])`` for a usage point (what the
        head-end delivers). A value VEE has already settled is kept; with ``only_missing``
        (gap filling) so is any raw value already stored. Returns how many were stored."""
        point = self._point(esiid)
        n = 0
        with self._lock:
            for item in readings:
                end = parse_time(item[0])
                value = None if item[1] is None else float(item[1])
                q = item[2] if len(item) > 2 and item[2] else quality
                old = point.intervals.get(end)
                if old is not None and (
                    old.status != RAW or (only_missing and old.raw is not None)
                ):
                    continue
                point.intervals[end] = StoredReading(end, value, q, RAW, value, source)
                n += 1
        return n

    def readings(self, esiid: str, start: Any = None, end: Any = None) -> list[StoredReading]:
        """Stored intervals of a usage point whose end is in (start, end], in time order."""
        point = self._point(esiid)
        lo = parse_time(start) if start is not None else None
        hi = parse_time(end) if end is not None else None
        with self._lock:
            items = sorted(point.intervals.values(), key=lambda r: r.end)
        return [r for r in items if (lo is None or r.end > lo) and (hi is None or r.end <= hi)]

    def registers(self, esiid: str) -> list[RegisterRead]:
        with self._lock:
            return list(self._point(esiid).registers)

    def last_vee_end(self, esiid: str) -> datetime | None:
        """The end of the last interval posted (validated or estimated) for ``esiid``
        (ODR-2: where an on-demand read window may start)."""
        with self._lock:
            return self._point(esiid).vee_end

    def events_for(self, esiid: str) -> list[dict[str, Any]]:
        """The usage point's event log (B2-4): device events and outage records, in arrival
        order."""
        with self._lock:
            return list(self._point(esiid).events)

    def on_demand_reads(self, esiid: str) -> list[dict[str, Any]]:
        """The on-demand reads received for the usage point (B2-10: one per switch event)."""
        with self._lock:
            return list(self._point(esiid).reads)

    # ------------------------------------------------------------------ ODR-7 daily posting
    def post_daily_vee(self, day: date | str, esiids: Sequence[str] | None = None) -> VeePosting:
        """Validate and post the 15-minute data of the local ``day`` (ODR-7).

        For each ESIID (default: every AMS, provisioned interval meter of the profile): take the
        stored raw data, ask the head-end for the intervals missing (``get MeterReadings``, one
        request per ``batch_size`` usage points), run VEE, store the result and send it as
        ``created MeterReadings`` (``batch_size`` usage points per message). The last VEE end
        of an ESIID moves only when its message was sent."""
        if isinstance(day, str):
            day = date.fromisoformat(day)
        start, end = day_window(day, self.tz)
        posting = VeePosting(day.isoformat(), local_iso(start, self.tz), local_iso(end, self.tz))
        targets = self._targets(esiids, posting)
        # batch by batch (read the gaps, VEE, send), so memory stays bounded for any population
        for n, first in enumerate(range(0, len(targets), self.batch_size), start=1):
            batch = targets[first : first + self.batch_size]
            posting.fetched += self._fill_gaps(batch, start, end, posting)
            chunk = [self._vee_element(spec, start, end, posting) for spec in batch]
            self._send_posting(day, n, chunk, start, end, posting)
        with self._lock:
            self.postings.append(posting)
        self.log.info(
            "VEE posting %s: %d ESIID(s), %d validated, %d estimated, %d message(s) sent",
            posting.day,
            len(posting.esiids),
            posting.validated,
            posting.estimated,
            len(posting.messages),
        )
        return posting

    def _vee_element(
        self, spec: MeterSpec, start: datetime, end: datetime, posting: VeePosting
    ) -> tuple[str, Any, set[str]]:
        """VEE of one usage point's day; its MeterReading and the qualities it uses."""
        vee_readings = self._run_vee(spec, start, end)
        used = {r.quality for r in vee_readings}
        posting.validated += sum(r.status == VALIDATED for r in vee_readings)
        posting.estimated += sum(r.status == ESTIMATED for r in vee_readings)
        posting.esiids.append(spec.esiid)
        total = sum(r.value for r in vee_readings)
        daily_quality = MDM_ESTIMATED if MDM_ESTIMATED in used else VEE_VALIDATED
        element = meter_reading(
            spec.esiid,
            spec.meter,
            blocks=[interval_block(((r.end, r.value, r.quality) for r in vee_readings), self.tz)],
            readings=[daily_reading(total, start, end, daily_quality, self.tz, source=self.system)],
            start=start,
            end=end,
            tz=self.tz,
            authority=self.authority,
        )
        return spec.esiid, element, used

    def _targets(self, esiids: Sequence[str] | None, posting: VeePosting) -> list[MeterSpec]:
        if esiids is None:
            candidates: Iterable[MeterSpec] = self.profile.meters
        else:
            candidates = []
            for key in esiids:
                spec = self._spec(key)
                if spec is None:
                    raise KeyError(f"ESIID or meter {key!r} is not known to the MDMS")
                candidates.append(spec)
        out: list[MeterSpec] = []
        seen: set[str] = set()
        for spec in candidates:
            if spec.esiid in seen:
                continue
            seen.add(spec.esiid)
            if not spec.ams or spec.interval_minutes <= 0:
                posting.skipped[spec.esiid] = "not an AMS interval meter"
            elif not spec.provisioned:
                posting.skipped[spec.esiid] = "not provisioned"
            else:
                out.append(spec)
        return out

    def _missing(self, spec: MeterSpec, start: datetime, end: datetime) -> bool:
        point = self._point(spec.esiid)
        with self._lock:
            for ts in interval_ends(start, end, spec.interval_minutes):
                r = point.intervals.get(ts)
                if r is None or r.raw is None:
                    return True
        return False

    def _fill_gaps(
        self, targets: Sequence[MeterSpec], start: datetime, end: datetime, posting: VeePosting
    ) -> int:
        if not self.fetch_from_headend:
            return 0
        gaps = [s.esiid for s in targets if self._missing(s, start, end)]
        if not gaps:
            return 0
        if self.client is None:
            posting.notes.append(
                f"{len(gaps)} ESIID(s) with gaps: not attached, head-end not asked"
            )
            return 0
        fetched = 0
        for first in range(0, len(gaps), self.batch_size):
            fetched += self._fetch(gaps[first : first + self.batch_size], start, end, posting)
        return fetched

    def _fetch(
        self, esiids: Sequence[str], start: datetime, end: datetime, posting: VeePosting
    ) -> int:
        """Ask the head-end for the raw intervals of ``esiids`` in (start, end]; store them."""
        body = request(
            "get",
            "MeterReadings",
            source=self.system,
            get_filter=E.gmr(
                "GetMeterReadings",
                E.gmr("ReadingType", E.gmr("mRID", INTERVAL_15MIN_KWH_DELIVERED)),
                [usage_point_el(e, prefix="gmr") for e in esiids],
            ),
            start=local_iso(start, self.tz),
            end=local_iso(end, self.tz),
            timestamp=self.clock.now(),
            comment=f"MDMS daily VEE: raw 15-minute data for {len(esiids)} usage point(s)",
        )
        try:
            answer = self.request(body, timeout=self.headend_timeout)
        except (SimulatorError, TimeoutError) as exc:
            posting.notes.append(f"head-end not reached for {len(esiids)} ESIID(s): {exc}")
            return 0
        if answer.result not in SUCCESS:
            codes = {e.get("code") or "" for e in answer.errors}
            reason = "; ".join(e.get("reason") or "" for e in answer.errors)
            if len(esiids) > 1 and not any(c.startswith("4.") for c in codes):
                # maybe the head-end reads one usage point per request: ask one by one
                return sum(self._fetch([e], start, end, posting) for e in esiids)
            posting.notes.append(
                f"head-end answered {answer.result} for {', '.join(esiids)}: {reason}"
            )
            return 0
        return self._store(
            parse_meter_readings(answer.payload, self.tz), answer.source or "HES", only_missing=True
        )

    def _store(
        self,
        items: Iterable[Any],
        source: str,
        reads_log: dict[str, Any] | None = None,
        *,
        only_missing: bool = False,
    ) -> int:
        n = 0
        for item in items:
            spec = self._spec(item.esiid) or self._spec(item.meter)
            if spec is None:
                self.log.warning(
                    "readings for unknown usage point %s / meter %s ignored", item.esiid, item.meter
                )
                continue
            n += self.ingest(spec.esiid, item.intervals, source=source, only_missing=only_missing)
            point = self._point(spec.esiid)
            with self._lock:
                for ts, value, quality, reason in item.registers:
                    if value is not None:
                        point.registers.append(
                            RegisterRead(
                                ts or self.clock.now(),
                                value,
                                quality or DEVICE_VALID,
                                source,
                                reason,
                            )
                        )
                if reads_log is not None:
                    point.reads.append(
                        {
                            **reads_log,
                            "intervals": len(item.intervals),
                            "register": next(
                                (v for _, v, _, _ in item.registers if v is not None), None
                            ),
                            "reason": next((r for _, _, _, r in item.registers if r), None),
                        }
                    )
        return n

    def _run_vee(self, spec: MeterSpec, start: datetime, end: datetime) -> list[Any]:
        point = self._point(spec.esiid)
        ends = interval_ends(start, end, spec.interval_minutes)
        with self._lock:
            raw = {ts: r.raw for ts in ends if (r := point.intervals.get(ts)) is not None}
        vee_readings = run_vee(
            raw,
            ends,
            rated_kw=spec.rated_kw,
            spike_factor=self.spike_factor,
            minutes=spec.interval_minutes,
        )
        with self._lock:
            for r in vee_readings:
                old = point.intervals.get(r.end)
                point.intervals[r.end] = StoredReading(
                    r.end,
                    r.value,
                    r.quality,
                    r.status,
                    r.raw,
                    old.source if old else self.system,
                    r.reason,
                )
        return vee_readings

    def _send_posting(
        self,
        day: date,
        n: int,
        chunk: Sequence[tuple[str, Any, set[str]]],
        start: datetime,
        end: datetime,
        posting: VeePosting,
    ) -> None:
        used: set[str] = set()
        for _, _, q in chunk:
            used |= q
        message_id = str(uuid.uuid4())
        body = event(
            "created",
            "MeterReadings",
            [E.mr("MeterReadings", [el for _, el, _ in chunk], quality_dictionary(used))],
            source=self.system,
            timestamp=self.clock.now(),
            comment=(
                f"Daily VEE posting: validated 15-minute data for {day.isoformat()} "
                f"({len(chunk)} usage point(s), part {n})"
            ),
            properties={"LseFileName": f"LSE_{self.system}_{day:%Y%m%d}_{n:04d}.xml"},
            message_id=message_id,
        )
        # The posting waits for cimbus's acknowledgement: once it is OK, every subscriber (the
        # SMT service moving "last VEE", ODR-7) has it, so a read right after sees the new window.
        sent = False
        if self.faults.roll("drop"):
            posting.notes.append(f"part {n} not sent (drop fault)")
        elif self.client is not None:
            try:
                answer = self.request(body, timeout=self.headend_timeout)
                sent = answer.result == "OK"
                if not sent:
                    posting.notes.append(f"part {n} refused by cimbus: {answer.errors}")
            except (SimulatorError, TimeoutError) as exc:
                posting.notes.append(f"part {n} not acknowledged: {exc}")
        if not sent:
            posting.unsent += 1
            return
        posting.messages.append(message_id)
        with self._lock:
            for esiid, _, _ in chunk:
                point = self._point(esiid)
                if point.vee_end is None or end > point.vee_end:
                    point.vee_end = end

    # ------------------------------------------------------------------ scheduling
    def schedule_daily_vee(self, at: str | None = None) -> Timer:
        """Post the previous local day every day at local ``at`` ("HH:MM", default the
        profile's ``[mdms] vee_at`` or 02:00) on the simulated clock. Replaces an earlier
        schedule."""
        text_value = at or self.vee_at
        try:
            hh, mm = (int(x) for x in text_value.split(":"))
            when = time(hh, mm)
        except ValueError:
            raise ValueError(f"vee time {text_value!r} is not HH:MM") from None
        self.unschedule_daily_vee()
        self._vee_time = when
        self._vee_timer = self.clock.call_at(
            self._next_vee_run(), self._scheduled_vee, name="mdms-daily-vee"
        )
        return self._vee_timer

    def unschedule_daily_vee(self) -> None:
        if self._vee_timer is not None:
            self._vee_timer.cancel()
        self._vee_timer = None
        self._vee_time = None

    def _next_vee_run(self) -> datetime:
        assert self._vee_time is not None
        now = self.clock.now().astimezone(self.tz)
        candidate = datetime.combine(now.date(), self._vee_time, tzinfo=self.tz)
        if candidate <= now:
            candidate = datetime.combine(
                now.date() + timedelta(days=1), self._vee_time, tzinfo=self.tz
            )
        return candidate

    def _scheduled_vee(self) -> None:
        timer = self._vee_timer
        day = self.clock.now().astimezone(self.tz).date() - timedelta(days=1)
        try:
            self.post_daily_vee(day)
        except Exception as exc:  # a failing posting must not stop the clock or the schedule
            self.log.exception("scheduled VEE posting for %s failed", day)
            self._remark(
                f"VEE posting {day} failed: {exc}",
                direction="fault",
                verb="created",
                noun="MeterReadings",
            )
        if self._vee_timer is timer and self._vee_time is not None:
            self._vee_timer = self.clock.call_at(
                self._next_vee_run(), self._scheduled_vee, name="mdms-daily-vee"
            )

    # ------------------------------------------------------------------ get MeterReadings
    @handles("get", "MeterReadings")
    def get_meter_readings(self, msg: Incoming) -> bytes:
        """``get MeterReadings`` (sync): the stored readings of the usage points / meters named
        in the filter, inside the Request window (interval ends in (StartTime, EndTime]), with
        their VEE qualities. An unknown ESIID or meter is FAILED 2.12."""
        flt = msg.get_filter
        keys: list[str] = []
        for up in children(flt, "UsagePoint"):
            keys.append(esiid_of(up) or "")
        for tag in ("EndDevice", "Meter"):
            keys.extend(meter_of(d) or "" for d in children(flt, tag))
        keys = [k for k in dict.fromkeys(keys) if k]
        if not keys:
            raise SimError(
                "2.7",
                "the request names no usage point or meter (GetMeterReadings/UsagePoint/Names "
                "with NameType ESIID, or EndDevice/Names MeterNumber)",
            )
        specs: list[MeterSpec] = []
        for key in keys:
            spec = self._spec(key)
            if spec is None:
                raise SimError(
                    "2.12",
                    f"usage point or meter {key} is not known to the MDMS",
                    object_id=key,
                    object_type="UsagePoint",
                )
            if spec not in specs:
                specs.append(spec)
        start, end = self._window(msg)
        types = [t for rt in children(flt, "ReadingType") if (t := text_at(rt, "mRID"))]
        want_intervals = not types or INTERVAL_15MIN_KWH_DELIVERED in types
        want_registers = not types or REGISTER_KWH_DELIVERED in types
        elements = []
        used: set[str] = set()
        n_intervals = n_registers = 0
        for spec in specs:
            blocks = []
            if want_intervals:
                stored = [r for r in self.readings(spec.esiid, start, end) if r.value is not None]
                used |= {r.quality for r in stored}
                n_intervals += len(stored)
                blocks.append(
                    interval_block(((r.end, r.value, r.quality) for r in stored), self.tz)
                )
            regs = []
            if want_registers:
                for rr in self.registers(spec.esiid):
                    if (start is None or rr.at > start) and (end is None or rr.at <= end):
                        regs.append(register_reading(rr.at, rr.value, rr.quality, self.tz))
                        used.add(rr.quality)
                n_registers += len(regs)
            elements.append(
                meter_reading(
                    spec.esiid,
                    spec.meter,
                    blocks=blocks,
                    readings=regs,
                    start=start,
                    end=end,
                    tz=self.tz,
                    authority=self.authority,
                )
            )
        return reply(
            msg,
            source=self.system,
            payload=[E.mr("MeterReadings", elements, quality_dictionary(used))],
            errors=[
                ReplyError(
                    "0.0",
                    "INFORM",
                    f"{n_intervals} interval reading(s) and {n_registers} register read(s) "
                    f"from the MDMS for {len(specs)} usage point(s)",
                )
            ],
            timestamp=iso(self.clock.now()),
        )

    def _window(self, msg: Incoming) -> tuple[datetime | None, datetime | None]:
        start_text, end_text = msg.window()
        if start_text is None and end_text is None:
            for reading in children(msg.get_filter, "Reading"):
                start_text = text_at(reading, "timePeriod", "start") or start_text
                end_text = text_at(reading, "timePeriod", "end") or end_text
        try:
            start = parse_time(start_text) if start_text else None
            end = parse_time(end_text) if end_text else None
        except ValueError as exc:
            raise SimError("2.7", f"the request window is not readable: {exc}") from None
        if start is not None and end is not None and end <= start:
            raise SimError(
                "2.7", f"the request window ends ({end_text}) before it starts ({start_text})"
            )
        return start, end

    # ------------------------------------------------------------------ events
    def on_event(self, incoming: Incoming) -> None:
        """created MeterReadings (on-demand reads, B2-10), created EndDeviceEvents (B2-4) and
        OutageRecords events are stored / logged per usage point."""
        if incoming.source == self.system:
            return
        if incoming.noun == "MeterReadings":
            self._store(
                parse_meter_readings(incoming.payload, self.tz),
                incoming.source or "HES",
                reads_log={
                    "received": iso(self.clock.now()),
                    "message_id": incoming.message_id,
                    "source": incoming.source,
                    "verb": incoming.verb,
                },
            )
        elif incoming.noun == "EndDeviceEvents":
            self._log_device_events(incoming)
        elif incoming.noun == "OutageRecords":
            self._log_outages(incoming)

    def _log_device_events(self, incoming: Incoming) -> None:
        for ev in parse_end_device_events(incoming.payload, self.tz):
            entry = {
                "kind": "device",
                "received": iso(self.clock.now()),
                "message_id": incoming.message_id,
                "source": incoming.source,
                "name": _describe(ev.code),
                **ev.to_dict(),
            }
            spec = self._spec(ev.esiid) or self._spec(ev.meter)
            if spec is None:
                with self._lock:
                    self.unknown_events.append(entry)
                continue
            point = self._point(spec.esiid)
            with self._lock:
                point.events.append(entry)

    def _log_outages(self, incoming: Incoming) -> None:
        for entry, esiids in outage_entries(incoming, iso(self.clock.now()), source=True):
            for esiid in esiids:
                spec = self._spec(esiid)
                if spec is not None:
                    point = self._point(spec.esiid)
                    with self._lock:
                        point.events.append(dict(entry))

    # ------------------------------------------------------------------ inspection
    def status(self) -> dict[str, Any]:
        out = super().status()
        with self._lock:
            last = self.postings[-1].to_dict() if self.postings else None
            tracked = len(self._points)
        out.update(
            {
                "usage_points_tracked": tracked,
                "spike_factor": self.spike_factor,
                "batch_size": self.batch_size,
                "daily_vee": (
                    {
                        "at": self._vee_time.strftime("%H:%M"),
                        "next": self._vee_timer.when.isoformat(),
                    }
                    if self._vee_timer is not None and self._vee_time is not None
                    else None
                ),
                "last_posting": last,
            }
        )
        return out

    def add_routes(self, app: Any) -> None:
        """``GET /usage-points/{esiid}/readings?start&end``, ``GET
        /usage-points/{esiid}/events``, ``POST /vee/{day}`` (JSON body optional:
        ``{"esiids": [...]}``)."""
        from fastapi import HTTPException

        def point_or_404(esiid: str) -> MeterSpec:
            spec = self._spec(esiid)
            if spec is None:
                raise HTTPException(404, f"ESIID or meter {esiid} is not known to the MDMS")
            return spec

        @app.get("/usage-points/{esiid}/readings")
        def get_readings(
            esiid: str, start: str | None = None, end: str | None = None
        ) -> dict[str, Any]:
            spec = point_or_404(esiid)
            try:
                stored = self.readings(spec.esiid, start, end)
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None
            vee_end = self.last_vee_end(spec.esiid)
            return {
                "esiid": spec.esiid,
                "meter": spec.meter,
                "last_vee_end": local_iso(vee_end, self.tz) if vee_end else None,
                "readings": [r.to_dict(self.tz) for r in stored],
            }

        @app.get("/usage-points/{esiid}/events")
        def get_events(esiid: str) -> dict[str, Any]:
            spec = point_or_404(esiid)
            return {
                "esiid": spec.esiid,
                "events": self.events_for(spec.esiid),
                "on_demand_reads": self.on_demand_reads(spec.esiid),
            }

        @app.post("/vee/{day}")
        def post_vee(day: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
            try:
                parsed = date.fromisoformat(day)
            except ValueError:
                raise HTTPException(422, f"day {day!r} is not YYYY-MM-DD") from None
            esiids = (body or {}).get("esiids")
            try:
                return self.post_daily_vee(parsed, esiids).to_dict()
            except KeyError as exc:
                raise HTTPException(
                    404, str(exc.args[0]) if exc.args else "unknown ESIID"
                ) from None


def _describe(code: str) -> str | None:
    """A name for an event code: the project's named code, else the decoded parts."""
    try:
        for group in (results, events, controls):
            name = group.name_of(code)
            if name:
                return name
        return EndDeviceCode.parse(code, strict=False).describe()
    except (ValueError, TypeError):
        return None
