"""Firmware updates, alarms and the in-home display (DCC-3, DCC-4, B2-6).

* ``FIRMWARE_UPDATE`` with a target version: ``FIRMWARE_UPDATE_STARTED`` (from / to version),
  ``FIRMWARE_UPDATE_IN_PROGRESS`` at 25, 50 and 75 % (one step every ``firmware_step_seconds``
  of simulated time), then ``FIRMWARE_UPDATE_SUCCEEDED`` (the meter now reports the new
  version) or ``FIRMWARE_UPDATE_FAILED`` (version in ``firmware_bad_versions``, the per-meter
  :meth:`DeviceMixin.set_firmware_fault`, or the meter lost during the transfer), each final
  event with its acknowledgement. Asking for the installed version succeeds at once.
* :meth:`DeviceMixin.raise_alarm`: tamper, cover removed, low battery (and their clearing) as
  EndDeviceEvents (DCC-3 routes them to the supplier and network operator).
* ``IHD_TEXT_MESSAGE``: a meter with a paired in-home display shows the text
  (``IHD_TEXT_MESSAGE_DISPLAYED``); without one the control fails (``IHD_TEXT_MESSAGE_FAILED``).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from cim_models.codes import events
from simulators._core import MeterSpec

from .controls import Job
from .core import HeadEndCore

__all__ = ["ALARMS", "DeviceMixin"]

#: alarm kind -> (event code, severity, reason)
ALARMS: dict[str, tuple[str, str, str]] = {
    "tamper": (events.TAMPER_DETECTED, "major", "Tamper detected at the meter"),
    "tamper_cleared": (events.TAMPER_CLEARED, "info", "Tamper condition cleared"),
    "cover_removed": (events.COVER_REMOVED, "major", "Meter cover removed"),
    "low_battery": (events.LOW_BATTERY, "minor", "Meter battery low"),
    "low_battery_cleared": (
        events.LOW_BATTERY_CLEARED,
        "info",
        "Meter battery low condition cleared",
    ),
}


class DeviceMixin(HeadEndCore):
    """Firmware, alarms, in-home display."""

    # ------------------------------------------------------------------ alarms (DCC-3)
    def raise_alarm(self, meter: str, kind: str, **details: Any) -> None:
        """The meter raises an alarm: ``tamper``, ``tamper_cleared``, ``cover_removed``,
        ``low_battery``, ``low_battery_cleared``."""
        try:
            code, severity, reason = ALARMS[kind]
        except KeyError:
            raise ValueError(f"unknown alarm {kind!r}; known: {', '.join(ALARMS)}") from None
        with self.atomic():
            st = self.state(meter)
            st.note(self.now(), "alarm", alarm=kind)
            self.tell(
                st,
                [
                    self.new_event(
                        st.spec,
                        code,
                        reason=reason,
                        severity=severity,
                        details={"Alarm": kind, **details},
                    )
                ],
                read_reason=None,
            )

    def set_firmware_fault(self, meter: str, fail: bool = True) -> None:
        """The meter's next firmware transfer fails."""
        with self.atomic():
            self.state(meter).firmware_fault = fail

    def firmware(self, meter: str) -> str:
        spec = self.spec(meter)
        st = self._states.get(spec.meter)
        return st.firmware if st else spec.firmware

    # ------------------------------------------------------------------ firmware (DCC-4)
    def execute_firmware(self, job: Job) -> None:
        spec = self.spec(job.meter)
        if not self.reachable(spec):
            self.no_answer(job, "firmware update")
            return
        st = self.state(job.meter)
        target = job.control.version or ""
        if st.firmware == target:
            job.status = "done"
            self._firmware_report(
                job,
                spec,
                f"{target} already installed",
                event=(
                    events.FIRMWARE_UPDATE_SUCCEEDED,
                    f"Firmware {target} already installed: no transfer",
                    {"FirmwareVersion": target, "AlreadyInstalled": True},
                ),
                ack=(True, f"Firmware {target} already installed", {"FirmwareVersion": target}),
            )
            return
        if st.firmware_job is not None:
            job.status = "failed"
            self._firmware_report(
                job,
                spec,
                "refused: another transfer in progress",
                ack=(
                    False,
                    f"Firmware update refused: transfer {st.firmware_job} still in progress",
                    {"FirmwareVersion": st.firmware},
                ),
            )
            return
        st.firmware_job = job.control.mrid
        job.status = "running"
        self._firmware_report(
            job,
            spec,
            f"transfer {st.firmware} -> {target} started",
            event=(
                events.FIRMWARE_UPDATE_STARTED,
                f"Firmware transfer started: {st.firmware} -> {target}",
                {"FromVersion": st.firmware, "ToVersion": target, "Progress": "0%"},
            ),
        )
        for k, pct in enumerate((25, 50, 75, 100), 1):
            self.clock.call_later(
                self.firmware_step * k,
                lambda pct=pct: self._firmware_step(job, pct),
                name=f"firmware {job.control.mrid} {job.meter} {pct}%",
            )

    def _firmware_step(self, job: Job, pct: int) -> None:
        with self.atomic():
            if job.status != "running":
                return
            spec = self.spec(job.meter)
            st = self.state(job.meter)
            target = job.control.version or ""
            if not self.reachable(spec):
                self._firmware_failed(
                    job,
                    f"transfer interrupted at {pct - 25}%: meter {self.unreachable_reason(spec)}",
                )
                return
            if pct < 100:
                self._firmware_report(
                    job,
                    spec,
                    None,
                    event=(
                        events.FIRMWARE_UPDATE_IN_PROGRESS,
                        f"Firmware transfer {pct}%",
                        {"FromVersion": st.firmware, "ToVersion": target, "Progress": f"{pct}%"},
                    ),
                )
                return
            if st.firmware_fault or target in self.firmware_bad_versions:
                st.firmware_fault = False
                self._firmware_failed(
                    job, f"image {target} rejected by the meter (verification failed)"
                )
                return
            old, st.firmware = st.firmware, target
            st.firmware_job = None
            job.status = "done"
            self._firmware_report(
                job,
                spec,
                f"{old} -> {target} succeeded",
                event=(
                    events.FIRMWARE_UPDATE_SUCCEEDED,
                    f"Firmware updated to {target}",
                    {"FromVersion": old, "FirmwareVersion": target, "Progress": "100%"},
                ),
                ack=(True, f"Firmware update to {target} succeeded", {"FirmwareVersion": target}),
            )

    def _firmware_failed(self, job: Job, why: str) -> None:
        spec = self.spec(job.meter)
        st = self.state(job.meter)
        st.firmware_job = None
        job.status = "failed"
        self._firmware_report(
            job,
            spec,
            f"failed: {why}",
            event=(
                events.FIRMWARE_UPDATE_FAILED,
                f"Firmware update failed: {why}",
                {"FirmwareVersion": st.firmware, "ToVersion": job.control.version},
            ),
            severity="major",
            ack=(False, f"Firmware update failed: {why}", {"FirmwareVersion": st.firmware}),
        )

    def _firmware_report(
        self,
        job: Job,
        spec: MeterSpec,
        result: str | None,
        *,
        event: tuple[str, str, dict[str, object]] | None = None,
        ack: tuple[bool, str, dict[str, object]] | None = None,
        severity: str | None = None,
    ) -> None:
        """Note ``result`` in the meter's history (unless None) and publish the firmware
        ``event`` (code, reason, details) and/or the acknowledgement ``ack`` (success, reason,
        details) of the FIRMWARE_UPDATE control ``job``."""
        if result is not None:
            self.state(job.meter).note(
                self.now(), "firmware", control=job.control.mrid, result=result
            )
        evs: list[etree._Element] = []
        if event is not None:
            code, reason, details = event
            extra = {"severity": severity} if severity else {}
            evs.append(
                self.new_event(
                    spec, code, tracking=job.control.mrid, reason=reason, details=details, **extra
                )
            )
        if ack is not None:
            success, reason, details = ack
            evs += self.ack_events(
                spec, job, success, reason=reason, details=details, semantic=False
            )
        self.publish_events(evs, comment=f"Firmware update {job.control.mrid}")

    # ------------------------------------------------------------------ in-home display (B2-6)
    def execute_ihd(self, job: Job) -> None:
        spec = self.spec(job.meter)
        if not self.reachable(spec):
            self.no_answer(job, "in-home display message")
            return
        st = self.state(job.meter)
        text = job.control.text or ""
        ok = spec.han_ihd
        job.status = "done" if ok else "failed"
        st.note(
            self.now(),
            "ihd",
            control=job.control.mrid,
            text=text,
            result="displayed" if ok else "failed: no in-home display",
        )
        reason = (
            f"In-home display shows: {text}"
            if ok
            else "No in-home display paired with this meter: message not shown"
        )
        self.publish_events(
            [
                self.new_event(
                    spec,
                    events.IHD_TEXT_MESSAGE_DISPLAYED if ok else events.IHD_TEXT_MESSAGE_FAILED,
                    tracking=job.control.mrid,
                    reason=reason,
                    severity="info" if ok else "minor",
                    details={"Text": text, "HanDevice": "IHD" if ok else "none"},
                ),
                *self.ack_events(
                    spec, job, ok, reason=reason, details={"Text": text}, semantic=False
                ),
            ],
            comment=f"In-home display message {job.control.mrid}",
        )
