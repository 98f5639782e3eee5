"""Outages, pings and switch-status reads (D11-1, D11-7, B2-15, ODR-5's ping).

* :meth:`OutageMixin.power_down` de-energises meters (a list, a transformer or a feeder): each
  sends its last gasp (``events.LAST_GASP``) and then falls silent: no interval data, no
  answers, pings fail (after the head-end's ``no_answer_seconds``). A meter with the
  ``disconnect`` knob cannot even send its last gasp.
* :meth:`OutageMixin.power_up` restores them: ``events.POWER_RESTORED`` with the outage start
  and duration, then whatever the meter logged while it was dark (local operations, alarms).
* ``POWER_STATUS_PING`` (or :meth:`OutageMixin.ping`): an energised, reachable meter answers
  at once (acknowledgement ``processed``, ``PowerStatus`` = ``Energised``); otherwise the
  head-end reports ``error`` with ``PowerStatus`` = ``NotResponding`` after the timeout.
* ``SWITCH_STATUS_READ``: the switch position, contactor, limit level and energised status as
  event details (B2-15).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cim_models.codes import events
from simulators._core import MeterSpec

from .controls import Job
from .core import HeadEndCore
from .meters import MeterState

__all__ = ["OutageMixin"]


class OutageMixin(HeadEndCore):
    """Power down / up, last gasp and restoration, pings, switch-status reads."""

    def _select(
        self, meters: Iterable[str] | str | None, transformer: str | None, feeder: str | None
    ) -> list[MeterSpec]:
        if isinstance(meters, str):
            meters = [meters]
        chosen: dict[str, MeterSpec] = {}
        for key in meters or ():
            spec = self.spec(key)
            chosen[spec.meter] = spec
        if transformer is not None or feeder is not None:
            for spec in self.profile.meters_of(transformer=transformer, feeder=feeder):
                chosen[spec.meter] = spec
        if not chosen:
            raise ValueError("name meters, a transformer or a feeder")
        return [s for s in chosen.values() if s.ams]

    def power_down(
        self,
        meters: Iterable[str] | str | None = None,
        *,
        transformer: str | None = None,
        feeder: str | None = None,
        cause: str | None = None,
    ) -> list[str]:
        """De-energise meters; each energised one sends its last gasp (D11-1). Returns the
        meter numbers that lost power."""
        with self.atomic():
            now = self.now()
            out, evs = [], []
            for spec in self._select(meters, transformer, feeder):
                st = self.state(spec.meter)
                if not st.energised:
                    continue
                can_talk = self.reachable(spec)
                st.power_off(now)
                st.note(now, "power_down", cause=cause, last_gasp=can_talk)
                out.append(spec.meter)
                if can_talk:
                    evs.append(
                        self.new_event(
                            spec,
                            events.LAST_GASP,
                            reason="Last gasp: power lost at the meter",
                            severity="major",
                            details={
                                "Transformer": spec.transformer,
                                "Feeder": spec.feeder,
                                "Cause": cause,
                            },
                            status="de-energised",
                        )
                    )
            self.publish_events(evs, comment=f"Last gasp from {len(evs)} meter(s)")
            return out

    def power_up(
        self,
        meters: Iterable[str] | str | None = None,
        *,
        transformer: str | None = None,
        feeder: str | None = None,
    ) -> list[str]:
        """Re-energise meters: ``POWER_RESTORED`` per meter, then the events each meter held
        while it was dark. Returns the meter numbers restored."""
        with self.atomic():
            now = self.now()
            out, evs, held = [], [], []
            for spec in self._select(meters, transformer, feeder):
                st = self._states.get(spec.meter)
                if st is None or st.energised:
                    continue
                since = st.off_periods[-1].start if st.off_periods else now
                st.power_on(now)
                minutes = round((now - since).total_seconds() / 60.0, 1)
                st.note(now, "power_up", outage_minutes=minutes)
                out.append(spec.meter)
                if not self.reachable(spec):
                    st.held.clear()
                    continue
                evs.append(
                    self.new_event(
                        spec,
                        events.POWER_RESTORED,
                        reason="Power restored at the meter",
                        details={
                            "OutageStart": since,
                            "OutageMinutes": minutes,
                            "Transformer": spec.transformer,
                            "Feeder": spec.feeder,
                        },
                        status="energised",
                    )
                )
                held.append(st)
            self.publish_events(evs, comment=f"Power restored at {len(evs)} meter(s)")
            for st in held:
                pending, st.held = st.held, []
                for group, read_reason in pending:
                    self.publish_events(
                        group, comment=f"Event held by meter {st.meter} during the outage"
                    )
                    if read_reason is not None:
                        self.publish_read(st.spec, read_reason)
            return out

    def ping(self, meter: str) -> bool:
        """Is the meter energised and answering? (no message; the control path is
        ``POWER_STATUS_PING``)."""
        return self.reachable(self.spec(meter))

    def energised(self, meter: str) -> bool:
        st = self._states.get(self.spec(meter).meter)
        return st is None or st.energised

    # ------------------------------------------------------------------ controls
    def execute_ping(self, job: Job) -> None:
        self._answer_status(
            job,
            "power status ping",
            lambda st: (
                "energised",
                "Ping: meter answered, energised",
                {"PowerStatus": "Energised", "ContactorStatus": st.contactor},
            ),
            "Ping result for",
        )

    def execute_status_read(self, job: Job) -> None:
        self._answer_status(
            job,
            "switch status read",
            lambda st: (
                st.switch_label,
                f"Switch status: {st.switch_label}, energised",
                {
                    "SwitchPosition": st.switch_label,
                    "ContactorStatus": st.contactor,
                    "LimitLevel": st.limit_pct,
                    "Energised": True,
                    "Armed": st.armed,
                },
            ),
            "Switch status of",
        )

    def _answer_status(
        self,
        job: Job,
        what: str,
        answer: Callable[[MeterState], tuple[str, str, dict[str, object]]],
        comment: str,
    ) -> None:
        """A reachable meter answers ``job`` (status = result, reason, details from its state);
        an unreachable one does not (:meth:`no_answer`)."""
        spec = self.spec(job.meter)
        if not self.reachable(spec):
            self.no_answer(job, what)
            return
        status, reason, details = answer(self.state(job.meter))
        job.status = "done"
        self.note_job(job, status)
        self.publish_events(
            self.ack_events(
                spec, job, True, reason=reason, details=details, semantic=False, status=status
            ),
            comment=f"{comment} {spec.meter}",
        )
