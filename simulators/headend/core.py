"""The head-end's shared machinery: lazy meter state, configuration, emitting events and reads.

Everything the head-end says on its own (acknowledgements, trips, local toggles, last gasps,
firmware progress, alarms, on-demand reads) goes through :meth:`HeadEndCore._emit`: recorded in
:attr:`HeadEndCore.published` (what unit tests inspect) and, when the simulator is attached to a
bus, sent to cimbus as ``created EndDeviceEvents`` / ``created MeterReadings``. State changes run
under one lock; the messages they produce are sent after the lock is released, in order.
"""

from __future__ import annotations

import itertools
import resource
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from cim_models.codes import acknowledgement_for, semantic_result
from simulators import SIMULATORS
from simulators._core import E, MeterSpec, SimClock, SimError, Simulator, event
from simulators._core.faults import Faults
from simulators._core.profile import Profile, load_profile

from .controls import Job
from .meters import MeterState, floor_boundary, recorded_intervals, register_wh
from .payloads import end_device_event, event_dicts, local_iso, meter_reading

__all__ = ["HeadEndCore"]

_EVENT_NS = uuid.UUID("6f1e4a57-2b0c-4d39-9a7e-3c5b8d2f1a60")


class HeadEndCore(Simulator):
    """State and plumbing shared by the head-end's parts (see :class:`~simulators.headend.HeadEnd`)."""

    name = "headend"
    system = "HES"
    title = "The TDSP's AMI head-end and its AMS meters"
    requirements = SIMULATORS["headend"].requirements

    def __init__(
        self,
        profile: Profile | str | None = None,
        *,
        clock: SimClock | None = None,
        faults: Faults | None = None,
        system: str | None = None,
        codec: Any = None,
        journal_size: int = 10_000,
        published_size: int = 10_000,
    ) -> None:
        t0 = time.perf_counter()
        if not isinstance(profile, Profile):
            profile = load_profile(profile or "demo")
        #: seconds spent loading the profile (the ``load`` profile generates 100,000 meters)
        self.profile_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        super().__init__(
            profile,
            clock=clock,
            faults=faults,
            system=system,
            codec=codec,
            journal_size=journal_size,
        )
        cfg: Mapping[str, Any] = self.profile.section("headend")
        self.tz = self.profile.timezone
        self._zone = ZoneInfo(self.tz)
        self.seed = self.profile.seed
        #: allowed load-limit levels, percent of rated capacity (B2-12)
        self.limit_steps: tuple[int, ...] = tuple(int(x) for x in cfg.get("limit_steps", [90, 75]))
        #: how long the head-end waits for a meter before reporting "no answer" (B2-4 5.2)
        self.no_answer_after = timedelta(seconds=float(cfg.get("no_answer_seconds", 45)))
        #: limiter: reconnect delay after a trip and the window of "at most once" (B2-13)
        self.auto_reconnect_delay = timedelta(seconds=float(cfg.get("auto_reconnect_seconds", 120)))
        self.auto_reconnect_window = timedelta(
            hours=float(cfg.get("auto_reconnect_window_hours", 24))
        )
        #: firmware transfer: seconds per 25 % step; versions that always fail (DCC-4)
        self.firmware_step = timedelta(seconds=float(cfg.get("firmware_step_seconds", 60)))
        self.firmware_bad_versions = {str(v) for v in cfg.get("firmware_bad_versions", [])}
        self.events_per_message = max(1, int(cfg.get("events_per_message", 200)))
        self.max_window = timedelta(days=float(cfg.get("max_window_days", 31)))
        tdsp = self.profile.organizations_with("TDSP")
        #: NameTypeAuthority of meter numbers: the TDSP that owns the meters
        self.owner = (tdsp[0].name or tdsp[0].id) if tdsp else "TDSP"
        start = self.clock.now().astimezone(ZoneInfo(self.tz))
        #: the register reads are counted from here (local midnight of the start day)
        self.epoch = start.replace(hour=0, minute=0, second=0, microsecond=0)
        self._states: dict[str, MeterState] = {}
        self._controls: dict[str, list[Job]] = {}
        self.published: deque[bytes] = deque(maxlen=published_size)
        self._event_seq = itertools.count(1)
        self._tl = threading.local()
        self.counters: dict[str, int] = {
            "controls": 0,
            "duplicates": 0,
            "no_answer": 0,
            "trips": 0,
            "auto_reconnects": 0,
            "local_attempts": 0,
            "reads": 0,
            "events": 0,
        }
        self.startup_seconds = time.perf_counter() - t0

    # ------------------------------------------------------------------ meters (lazy)
    def spec(self, key: str) -> MeterSpec:
        """The profile meter with this meter number or ESIID (SimError 2.12 otherwise)."""
        found = self.profile.find_meter(str(key).strip())
        if found is None:
            raise SimError(
                "2.12",
                f"unknown meter or ESIID {key!r}",
                object_id=str(key),
                object_type="EndDevice",
            )
        return found

    def state(self, key: str) -> MeterState:
        """The meter's state, created on first touch (B2-14: closed, energised)."""
        spec = self.spec(key)
        st = self._states.get(spec.meter)
        if st is None:
            with self._lock:
                st = self._states.get(spec.meter)
                if st is None:
                    st = self._states[spec.meter] = MeterState(spec, firmware=spec.firmware)
        return st

    def peek(self, key: str) -> MeterState | None:
        """The meter's state if it was ever touched (no creation)."""
        return self._states.get(self.spec(key).meter)

    def reachable(self, spec: MeterSpec) -> bool:
        """Does the meter answer the head-end? Not while de-energised, not with the per-meter
        ``disconnect`` fault knob (key: meter number or ESIID)."""
        return self.unreachable_reason(spec) is None

    def unreachable_reason(self, spec: MeterSpec) -> str | None:
        st = self._states.get(spec.meter)
        if st is not None and not st.energised:
            return "de-energised (no power at the meter)"
        if self.faults.knobs(spec.meter).disconnect or self.faults.knobs(spec.esiid).disconnect:
            return "not answering (communication failure)"
        return None

    # ------------------------------------------------------------------ time
    def now(self) -> datetime:
        """Simulated now, in the profile's time zone."""
        return self.clock.now().astimezone(self._zone)

    def local_now(self) -> str:
        return local_iso(self.clock.now(), self.tz)

    def fmt(self, when: datetime) -> str:
        """A time as messages and logs print it: ISO 8601 in the profile's time zone."""
        return local_iso(when, self.tz)

    def day_start(self, at: datetime) -> datetime:
        local = at.astimezone(ZoneInfo(self.tz))
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    # ------------------------------------------------------------------ readings
    def recorded(
        self, spec: MeterSpec, start: datetime, end: datetime
    ) -> list[tuple[datetime, int]]:
        return recorded_intervals(
            spec, self._states.get(spec.meter), self.seed, self.tz, start, end
        )

    def register(self, spec: MeterSpec, at: datetime) -> tuple[datetime, int]:
        return register_wh(spec, self._states.get(spec.meter), self.seed, self.tz, at, self.epoch)

    def reading_element(
        self,
        spec: MeterSpec,
        start: datetime,
        end: datetime,
        *,
        reason: str | None,
        intervals: bool = True,
        register: bool = True,
    ) -> tuple[etree._Element, int]:
        """A ``MeterReading`` for (start, end] (end clipped to the last interval boundary
        before now) and how many interval values it holds."""
        minutes = spec.interval_minutes or 15
        end = min(end, floor_boundary(self.now(), minutes))
        values = self.recorded(spec, start, end) if intervals else None
        el = meter_reading(
            spec,
            intervals=values,
            register=self.register(spec, end) if register else None,
            start=start,
            end=max(end, start),
            reported=self.now(),
            source=self.system,
            owner=self.owner,
            tz=self.tz,
            reason=reason,
        )
        return el, len(values or ())

    # ------------------------------------------------------------------ emitting
    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Run a state change under the lock; messages it emits are sent when the outermost
        block ends (outside the lock)."""
        tl = self._tl
        depth = getattr(tl, "depth", 0)
        if depth == 0:
            tl.out = []
        tl.depth = depth + 1
        try:
            with self._lock:
                yield
        finally:
            tl.depth -= 1
            if tl.depth == 0:
                out, tl.out = tl.out, []
                for body in out:
                    self._send_now(body)

    def _emit(self, body: bytes) -> None:
        self.published.append(body)
        if getattr(self._tl, "depth", 0) > 0:
            self._tl.out.append(body)
        else:
            self._send_now(body)

    def _send_now(self, body: bytes) -> None:
        if self.client is None:
            return
        try:
            self.send(body)
        except Exception as exc:  # the bus is gone: keep simulating, note it
            self._note("fault", "created", "?", None, None, None, f"could not send: {exc}")

    def new_event(self, spec: MeterSpec, code: str, **kw: Any) -> etree._Element:
        """An ``EndDeviceEvent`` about ``spec`` at simulated now (mRID deterministic per run)."""
        n = next(self._event_seq)
        mrid = str(uuid.uuid5(_EVENT_NS, f"{self.profile.name}:{self.seed}:{self.system}:{n}"))
        at = kw.pop("at", None) or self.now()
        return end_device_event(
            spec, code, at, mrid=mrid, issuer=self.system, tz=self.tz, owner=self.owner, **kw
        )

    def publish_events(self, events: list[etree._Element], comment: str | None = None) -> None:
        """``created EndDeviceEvents`` (at most ``events_per_message`` per message)."""
        for i in range(0, len(events), self.events_per_message):
            chunk = events[i : i + self.events_per_message]
            self.counters["events"] += len(chunk)
            self._emit(
                event(
                    "created",
                    "EndDeviceEvents",
                    [E.ede("EndDeviceEvents", *chunk)],
                    source=self.system,
                    timestamp=self.local_now(),
                    comment=comment,
                )
            )

    def publish_read(self, spec: MeterSpec, reason: str | None, comment: str | None = None) -> None:
        """The on-demand read taken at a switch event (B2-10): the interval data of the day so
        far and the register read, as ``created MeterReadings``."""
        now = self.now()
        el, _ = self.reading_element(spec, self.day_start(now), now, reason=reason)
        self.counters["reads"] += 1
        self._emit(
            event(
                "created",
                "MeterReadings",
                [E.mr("MeterReadings", el)],
                source=self.system,
                timestamp=self.local_now(),
                comment=comment or f"On-demand read of {spec.meter} at a switch event",
            )
        )

    # ------------------------------------------------------------------ telling the head-end
    def tell(self, st: MeterState, evs: list[etree._Element], read_reason: str | None) -> None:
        """The meter reports an event it originated (trip, local operation, alarm): sent now,
        or held while the meter is de-energised (delivered at restoration), or lost while the
        meter does not answer (``disconnect`` knob; noted in the meter's log)."""
        if not st.energised:
            st.held.append((evs, read_reason))
            return
        if not self.reachable(st.spec):
            st.note(self.now(), "lost", result="event not delivered: meter not answering")
            return
        self.publish_events(evs, comment=f"Event from meter {st.meter}")
        if read_reason is not None:
            self.publish_read(st.spec, read_reason)

    # ------------------------------------------------------------------ acknowledgements (B2-4)
    def ack_events(
        self,
        spec: MeterSpec,
        job: Job,
        success: bool,
        *,
        reason: str,
        details: Mapping[str, object] | None = None,
        semantic: bool = True,
        status: str | None = None,
    ) -> list[etree._Element]:
        """The acknowledgement of ``job``: ``acknowledgement_for(control, processed|error)``
        with ``issuerTrackingID`` = the control mRID, followed (``semantic``) by the standard's
        own result (Connected, Disconnected, Enabled, ... or the ...Failed literal)."""
        code = job.control.code
        info = {"ControlType": code, "ControlID": job.control.mrid, **(details or {})}
        if job.control.tracking:
            info["OrderNumber"] = job.control.tracking
        evs = [
            self.new_event(
                spec,
                acknowledgement_for(code, "processed" if success else "error"),
                tracking=job.control.mrid,
                reason=reason,
                severity="info" if success else "major",
                details=info,
                status=status,
            )
        ]
        if semantic:
            evs.append(
                self.new_event(
                    spec,
                    semantic_result(code, success),
                    tracking=job.control.mrid,
                    reason=reason,
                    severity="info" if success else "major",
                    details={
                        k: v for k, v in info.items() if k not in ("ControlID", "OrderNumber")
                    },
                    status=status,
                )
            )
        return evs

    def note_job(
        self, job: Job, result: str, *, at: datetime | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Note in the meter's history what became of the control ``job``."""
        return self.state(job.meter).note(
            at or self.now(),
            "command",
            control=job.control.mrid,
            code=job.control.code,
            result=result,
            **fields,
        )

    def no_answer(self, job: Job, what: str) -> None:
        """The meter does not answer (de-energised, or the per-meter ``disconnect`` knob): the
        head-end waits ``no_answer_seconds`` and then reports the failure itself, as an
        ``error`` acknowledgement with ``Outcome`` = ``NoAnswer`` and no read (B2-4 5.2)."""
        spec = self.spec(job.meter)
        why = self.unreachable_reason(spec) or "not answering"
        job.status = "waiting"
        self.note_job(job, f"sent; meter {why}")

        def report() -> None:
            with self.atomic():
                if job.status != "waiting":
                    return
                job.status = "failed"
                self.counters["no_answer"] += 1
                seconds = int(self.no_answer_after.total_seconds())
                reason = f"{what}: meter {spec.meter} did not answer within {seconds} s ({why})"
                self.note_job(job, "no answer")
                self.publish_events(
                    self.ack_events(
                        spec,
                        job,
                        False,
                        reason=reason,
                        details={"Outcome": "NoAnswer", "WaitedSeconds": seconds},
                        semantic=False,
                        status="no answer",
                    ),
                    comment=f"No answer from meter {spec.meter} to control {job.control.mrid}",
                )

        job.timer = self.clock.call_later(
            self.no_answer_after, report, name=f"no-answer {job.control.mrid} {job.meter}"
        )

    # ------------------------------------------------------------------ inspection helpers
    def sent(self, noun: str | None = None) -> list[bytes]:
        """Bodies of what the head-end published (``created <noun>``), oldest first."""
        if noun is None:
            return list(self.published)
        marker = f"<msg:Noun>{noun}</msg:Noun>".encode()
        return [b for b in self.published if marker in b]

    def events(self, code: str | None = None, meter: str | None = None) -> list[dict[str, Any]]:
        """The EndDeviceEvents published so far as dicts (code, meter, esiid, tracking, reason,
        severity, user, at, status, details), optionally only one code / one meter."""
        out = []
        for body in self.sent("EndDeviceEvents"):
            for ev in event_dicts(body):
                if code is not None and ev["code"] != code:
                    continue
                if meter is not None and meter not in (ev["meter"], ev["esiid"]):
                    continue
                out.append(ev)
        return out

    def stats(self) -> dict[str, Any]:
        """Start-up cost and population (the ``load`` profile has 100,000 meters)."""
        return {
            "profile": self.profile.name,
            "meters": len(self.profile.meters),
            "meters_touched": len(self._states),
            "profile_seconds": round(self.profile_seconds, 3),
            "startup_seconds": round(self.startup_seconds, 4),
            "pending_jobs": sum(
                1 for jobs in self._controls.values() for j in jobs if j.status == "pending"
            ),
            "controls_known": len(self._controls),
            "timers": len(self.clock.pending()),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
            **self.counters,
        }

    def status(self) -> dict[str, Any]:
        return {**super().status(), "headend": self.stats(), "limit_steps": list(self.limit_steps)}
