"""``create`` / ``change`` / ``cancel EndDeviceControls``: the head-end's command book
(B2-1, B2-2, B2-3, B2-8, B2-11, B2-12; D11-7 pings; DCC-4 firmware; B2-6 IHD text).

The reply to a ``create`` says whether each control was accepted (Result OK; an INFORM entry per
control telling when it runs) or refused (FAILED / PARTIAL with IEC 61968-100 codes: 2.12
unknown meter, 2.7 business rule: not AMS, instrument-rated meter for a switch command, a load
limit off the configured steps, no firmware version, no IHD text, unsupported control). What
the meter did comes later (or at once, for on-demand commands) as ``created EndDeviceEvents``.

* On demand (no ``primaryDeviceTiming/interval/start``): executed at once, so the
  acknowledgement is out before the reply (B2-3: well within 1 minute), except the remote
  disconnect, which completes at the next 15-minute boundary (B2-8).
* Scheduled: executed at the start time (a disconnect at the boundary at or after it); several
  controls may wait for one meter (B2-1).
* The control ``mRID`` is the command id: the same mRID again is answered OK as a duplicate and
  does nothing (B2-11). ``cancel`` stops a pending control, ``change`` moves its start time
  and/or its limit level (B2-2); both refuse what has already completed (2.7) or is unknown
  (2.12). A cancel is acknowledged with ``acknowledgement_for(control, "cancelled")``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cim_models.build import ReplyError
from cim_models.codes import acknowledgement_for, controls
from simulators._core import Incoming, MeterSpec, SimError, handles, next_boundary, reply

from .controls import ControlRequest, Job, parse_controls
from .device import DeviceMixin
from .meters import floor_boundary
from .outage import OutageMixin
from .switch import SWITCH_CONTROLS, SwitchMixin

__all__ = ["CONTROL_NAMES", "CommandsMixin"]

CONTROL_NAMES = {
    controls.REMOTE_CONNECT: "remote connect",
    controls.REMOTE_DISCONNECT: "remote disconnect",
    controls.LOAD_LIMIT_ENABLE: "load limit",
    controls.LOAD_LIMIT_DISABLE: "load limit removal",
    controls.ARM_FOR_CLOSURE: "arm for closure",
    controls.POWER_STATUS_PING: "power status ping",
    controls.SWITCH_STATUS_READ: "switch status read",
    controls.FIRMWARE_UPDATE: "firmware update",
    controls.IHD_TEXT_MESSAGE: "in-home display message",
}


class CommandsMixin(SwitchMixin, OutageMixin, DeviceMixin):
    """The EndDeviceControls handlers and the book of pending controls."""

    # ------------------------------------------------------------------ handlers
    @handles("create", "EndDeviceControls")
    def create_end_device_controls(self, msg: Incoming) -> bytes:
        """Accept, schedule or run each EndDeviceControl (B2-1, B2-3)."""
        return self._per_control(msg, self._accept)

    @handles("change", "EndDeviceControls")
    def change_end_device_controls(self, msg: Incoming) -> bytes:
        """Reschedule a pending control and/or change its limit level (B2-2)."""
        return self._per_control(msg, self._change)

    @handles("cancel", "EndDeviceControls")
    def cancel_end_device_controls(self, msg: Incoming) -> bytes:
        """Cancel a pending control before it completes (B2-2)."""
        return self._per_control(msg, self._cancel)

    def _per_control(
        self, msg: Incoming, action: Callable[[ControlRequest, Incoming], str | list[ReplyError]]
    ) -> bytes:
        """Run ``action`` for each control; the reply has one entry per control (or per meter
        for on-demand pings and status reads): OK when all succeeded, PARTIAL, FAILED."""
        requests = parse_controls(msg)
        if not requests:
            raise SimError("2.7", "the payload holds no EndDeviceControl")
        infos: list[ReplyError] = []
        errors: list[ReplyError] = []
        with self.atomic():
            for c in requests:
                try:
                    outcome = action(c, msg)
                except SimError as err:
                    errors.append(
                        ReplyError(
                            err.code,
                            "FATAL",
                            f"control {c.mrid}: {err.reason}",
                            object_id=err.object_id or c.mrid,
                            object_type=err.object_type or "EndDeviceControl",
                        )
                    )
                    continue
                if isinstance(outcome, str):
                    outcome = [_inform(outcome, c.mrid)]
                for entry in outcome:
                    (infos if entry.level == "INFORM" else errors).append(entry)
        result = "OK" if not errors else "PARTIAL" if infos else "FAILED"
        return reply(
            msg,
            source=self.system,
            result=result,
            errors=[*errors, *infos],
            timestamp=self.local_now(),
        )

    # ------------------------------------------------------------------ create
    def _accept(self, c: ControlRequest, msg: Incoming) -> str | list[ReplyError]:
        now = self.now()
        if c.mrid in self._controls:
            self.counters["duplicates"] += 1
            for job in self._controls[c.mrid]:
                self.state(job.meter).note(
                    now, "command", control=c.mrid, code=c.code, result="duplicate: no action"
                )
            return f"duplicate of control {c.mrid} (already received): no second action"
        name = CONTROL_NAMES.get(c.code)
        if name is None:
            raise SimError(
                "2.7",
                f"control type {c.code or '(none)'} is not supported by the head-end; supported: "
                + ", ".join(f"{k} {v}" for k, v in CONTROL_NAMES.items()),
            )
        specs = self._targets(c)
        self._validate(c, specs)
        due = self._due(c.code, c.start or now)
        jobs = [Job(c, s.meter, due, now, msg.source) for s in specs]
        self._controls[c.mrid] = jobs
        self.counters["controls"] += 1
        for job in jobs:
            self.state(job.meter).note(
                now,
                "command",
                control=c.mrid,
                code=c.code,
                result=f"accepted, due {self.fmt(due)}",
                issuer=c.issuer,
            )
        for job in jobs:
            self._schedule(job)
        meters = ", ".join(s.meter for s in specs)
        if due <= now and c.code in (controls.POWER_STATUS_PING, controls.SWITCH_STATUS_READ):
            return [self._answered(job, name) for job in jobs]
        if due <= now:
            return f"{name} for {meters} executed on demand; the acknowledgement follows as EndDeviceEvents"
        if c.code == controls.REMOTE_DISCONNECT and c.start is None:
            return f"accepted: {name} for {meters} completes at {self.fmt(due)} (end of the billing interval, B2-8)"
        return f"accepted: {name} for {meters} scheduled for {self.fmt(due)}"

    def _answered(self, job: Job, name: str) -> ReplyError:
        """The reply entry of an on-demand ping / status read: the meter's answer, or 4.1 when
        it does not answer (the event with Outcome NoAnswer follows after the timeout)."""
        spec = self.spec(job.meter)
        if job.status == "done":
            st = self.switch_status(job.meter)
            what = "energised" if job.control.code == controls.POWER_STATUS_PING else st["switch"]
            return _inform(
                f"{name} for {spec.meter} (ESIID {spec.esiid}): {what}", job.control.mrid
            )
        why = self.unreachable_reason(spec) or "not answering"
        return ReplyError(
            "4.1",
            "FATAL",
            f"{name} for {spec.meter} (ESIID {spec.esiid}): the meter does not answer ({why})",
            object_id=spec.meter,
            object_type="EndDevice",
        )

    def _targets(self, c: ControlRequest) -> list[MeterSpec]:
        devices = [self.spec(k) for k in c.devices]
        points = [self.spec(k) for k in c.usage_points]
        if devices and points and {d.meter for d in devices} != {p.meter for p in points}:
            raise SimError(
                "2.7",
                "EndDevices ("
                + ", ".join(d.meter for d in devices)
                + ") and UsagePoints ("
                + ", ".join(p.esiid for p in points)
                + ") name different meters",
            )
        out: dict[str, MeterSpec] = {}
        for s in devices or points:
            out[s.meter] = s
        if not out:
            raise SimError(
                "2.7", "the control names no meter (EndDevices) and no usage point (UsagePoints)"
            )
        return list(out.values())

    def _validate(self, c: ControlRequest, specs: list[MeterSpec]) -> None:
        for s in specs:
            if not s.ams:
                raise SimError(
                    "2.7",
                    f"meter {s.meter} (ESIID {s.esiid}) is not an AMS meter: the head-end cannot reach it",
                    object_id=s.meter,
                    object_type="EndDevice",
                )
            if c.code in SWITCH_CONTROLS and not s.self_contained:
                raise SimError(
                    "2.7",
                    f"meter {s.meter} is instrument-rated: it has no service switch",
                    object_id=s.meter,
                    object_type="EndDevice",
                )
        if c.code == controls.LOAD_LIMIT_ENABLE:
            self._check_level(c.level, c.raw_level)
        elif c.code == controls.FIRMWARE_UPDATE and not c.version:
            raise SimError(
                "2.7",
                "firmware update without a target version (give EndDevices/Names with NameType "
                "'FirmwareVersion', a header Property 'FirmwareVersion', or the version in reason)",
            )
        elif c.code == controls.IHD_TEXT_MESSAGE and not c.text:
            raise SimError("2.7", "in-home display message without text (PanDisplay/textMessage)")

    def _check_level(self, level: int | None, raw: str | None) -> None:
        if level not in self.limit_steps:
            allowed = ", ".join(f"{x}%" for x in self.limit_steps)
            given = f"{raw}%" if raw else "no drProgramLevel"
            raise SimError(
                "2.7", f"load limit {given} is not a configured step (allowed: {allowed}; B2-12)"
            )

    def _due(self, code: str, when: datetime) -> datetime:
        now = self.now()
        when = max(when, now)
        if code == controls.REMOTE_DISCONNECT:
            minutes = 15
            return when if floor_boundary(when, minutes) == when else next_boundary(when, minutes)
        return when

    def _schedule(self, job: Job) -> None:
        if job.due <= self.now():
            self._run(job)
            return

        def fire() -> None:
            with self.atomic():
                if job.status == "pending":
                    self._run(job)

        job.timer = self.clock.call_at(
            job.due,
            fire,
            name=f"{CONTROL_NAMES.get(job.control.code, 'control')} {job.control.mrid} {job.meter}",
        )

    def _run(self, job: Job) -> None:
        job.status = "running"
        job.timer = None
        code = job.control.code
        if code in SWITCH_CONTROLS:
            self.execute_switch(job)
        elif code == controls.POWER_STATUS_PING:
            self.execute_ping(job)
        elif code == controls.SWITCH_STATUS_READ:
            self.execute_status_read(job)
        elif code == controls.FIRMWARE_UPDATE:
            self.execute_firmware(job)
        elif code == controls.IHD_TEXT_MESSAGE:
            self.execute_ihd(job)

    # ------------------------------------------------------------------ cancel / change
    def _pending(self, c: ControlRequest, verb: str) -> list[Job]:
        jobs = self._controls.get(c.mrid)
        if jobs is None:
            raise SimError(
                "2.12",
                f"no control {c.mrid} is known to the head-end",
                object_id=c.mrid,
                object_type="EndDeviceControl",
            )
        original = jobs[0].control.code
        if c.code and c.code != original:
            raise SimError(
                "2.7",
                f"control {c.mrid} is a {CONTROL_NAMES.get(original, original)} ({original}); {verb} cannot make it {c.code}",
            )
        wanted = {self.spec(k).meter for k in (*c.devices, *c.usage_points)}
        chosen = [j for j in jobs if not wanted or j.meter in wanted]
        pending = [j for j in chosen if j.status == "pending"]
        if not pending:
            states = ", ".join(sorted({j.status for j in chosen})) or "no such meter in it"
            raise SimError("2.7", f"control {c.mrid} can no longer be {verb}ed: {states}")
        return pending

    def _cancel(self, c: ControlRequest, msg: Incoming) -> str:
        pending = self._pending(c, "cancel")
        now = self.now()
        evs = []
        for job in pending:
            if job.timer is not None:
                job.timer.cancel()
            job.status = "cancelled"
            self.note_job(job, "cancelled", at=now, by=msg.source)
            evs.append(
                self.new_event(
                    self.spec(job.meter),
                    acknowledgement_for(job.control.code, "cancelled"),
                    tracking=job.control.mrid,
                    reason=f"{CONTROL_NAMES.get(job.control.code, 'control').capitalize()} cancelled before completion",
                    details={
                        "ControlType": job.control.code,
                        "Outcome": "Cancelled",
                        "WasDue": job.due,
                    },
                    status="cancelled",
                )
            )
        self.publish_events(evs, comment=f"Control {c.mrid} cancelled")
        return f"control {c.mrid} cancelled for {', '.join(j.meter for j in pending)}"

    def _change(self, c: ControlRequest, msg: Incoming) -> str:
        pending = self._pending(c, "change")
        original = pending[0].control
        if c.start is None and c.level is None and c.text is None:
            raise SimError(
                "2.7",
                "nothing to change: give primaryDeviceTiming/interval/start, drProgramLevel or PanDisplay/textMessage",
            )
        if c.level is not None:
            if original.code != controls.LOAD_LIMIT_ENABLE:
                raise SimError(
                    "2.7",
                    f"drProgramLevel applies to load limits, not to a {CONTROL_NAMES.get(original.code)}",
                )
            self._check_level(c.level, c.raw_level)
            original.level = c.level
        if c.text is not None:
            original.text = c.text
        now = self.now()
        changes = []
        for job in pending:
            if c.start is not None:
                if job.timer is not None:
                    job.timer.cancel()
                    job.timer = None
                job.due = self._due(original.code, c.start)
                original.start = c.start
            self.note_job(
                job,
                f"changed: due {self.fmt(job.due)}, level {original.level}",
                at=now,
                by=msg.source,
            )
            changes.append(job)
        for job in changes:
            if c.start is not None:
                self._schedule(job)
        what = []
        if c.start is not None:
            what.append(f"rescheduled to {self.fmt(pending[0].due)}")
        if c.level is not None:
            what.append(f"limit level {c.level}%")
        if c.text is not None:
            what.append("text changed")
        return f"control {c.mrid} changed: {', '.join(what)}"

    # ------------------------------------------------------------------ inspection
    def jobs(self, meter: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """The controls in the book (per meter), optionally one meter / one status."""
        m = self.spec(meter).meter if meter is not None else None
        return [
            {**j.describe(), "due": self.fmt(j.due)}
            for jobs in self._controls.values()
            for j in jobs
            if (m is None or j.meter == m) and (status is None or j.status == status)
        ]


def _inform(reason: str, mrid: str) -> ReplyError:
    return ReplyError("0.0", "INFORM", reason, object_id=mrid, object_type="EndDeviceControl")
