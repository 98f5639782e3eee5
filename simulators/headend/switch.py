"""The service switch of an AMS meter and its load limiter (B2-8, B2-11..B2-16).

State machine (per meter, :class:`~simulators.headend.meters.MeterState`)::

    closed ──remote disconnect (at the 15-minute boundary, B2-8)──> open (remote)
    closed ──local toggle by an authorised employee (B2-16)──────> open (local)
    closed + limit ──demand > limit──> open (limit_trip) ──2 min──> closed   (B2-13, once / 24 h)
                                        │ second trip within 24 h: stays open (locked)
                                        └──customer_reconnect──> closed
    open ──remote connect / authorised local toggle / limit disable (trip)──> closed
    open (remote) ──ARM_FOR_CLOSURE──> armed ──customer_reconnect──> closed

Rules: a new meter is closed (B2-14); while open the meter stays energised and records zero
(:mod:`~simulators.headend.meters`); a command that finds the switch already where it is asked
to go is acknowledged as a success without toggling (B2-11); a disconnect that finds a connect
scheduled for the same meter later the same day logs both, reads, and does not toggle (B2-9);
limits are accepted only at the configured steps (B2-12). Every switch event (remote, trip,
automatic reconnection, local, customer) is acknowledged with EndDeviceEvents and followed by
an on-demand read (B2-4, B2-10). Unauthorised local attempts are refused and reported
(LOCAL_SWITCH_NOT_AUTHORIZED); every attempt is in the meter's log (B2-16).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cim_models.codes import controls, events
from simulators._core import SimError, next_boundary, parse_time

from .controls import Job
from .core import HeadEndCore
from .loadshape import demand_kw
from .meters import MeterState

__all__ = ["SWITCH_CONTROLS", "SwitchMixin"]

SWITCH_CONTROLS = (
    controls.REMOTE_CONNECT,
    controls.REMOTE_DISCONNECT,
    controls.LOAD_LIMIT_ENABLE,
    controls.LOAD_LIMIT_DISABLE,
    controls.ARM_FOR_CLOSURE,
)

_READ_REASON = {
    controls.REMOTE_CONNECT: "serviceConnect",
    controls.REMOTE_DISCONNECT: "serviceDisconnect",
    controls.ARM_FOR_CLOSURE: "serviceConnect",
    controls.LOAD_LIMIT_ENABLE: "loadManagement",
    controls.LOAD_LIMIT_DISABLE: "loadManagement",
}

_NAMES = {
    controls.REMOTE_CONNECT: "remote connect",
    controls.REMOTE_DISCONNECT: "remote disconnect",
    controls.LOAD_LIMIT_ENABLE: "load limit",
    controls.LOAD_LIMIT_DISABLE: "load limit removal",
    controls.ARM_FOR_CLOSURE: "arm for closure",
}


class SwitchMixin(HeadEndCore):
    """Remote, automatic and local operation of the service switch."""

    # ------------------------------------------------------------------ public API
    def switch_status(self, meter: str) -> dict[str, Any]:
        """Switch position (connected / disconnected / limited N% / tripped / armed), contactor,
        limit and energised status (B2-15). Does not create state for an untouched meter."""
        spec = self.spec(meter)
        st = self._states.get(spec.meter) or MeterState(spec, firmware=spec.firmware)
        return {**st.describe(), "reachable": self.reachable(spec)}

    def set_demand(self, meter: str, kw: float | None) -> dict[str, Any]:
        """Force the meter's demand (kW; None: back to the load shape) and check the limiter at
        once: a demand above an active limit trips the switch (B2-13)."""
        with self.atomic():
            st = self.state(meter)
            st.forced_kw = None if kw is None else float(kw)
            st.note(self.now(), "demand", kw=st.forced_kw)
            self._check_limit(st)
            return self.switch_status(meter)

    def demand(self, meter: str, at: datetime | None = None) -> float:
        """The demand the limiter compares with the limit: forced, else the load shape's."""
        spec = self.spec(meter)
        st = self._states.get(spec.meter)
        if st is not None and st.forced_kw is not None:
            return st.forced_kw
        return demand_kw(
            spec.meter,
            spec.load_shape,
            spec.rated_kw,
            self.seed,
            at or self.now(),
            self.tz,
            spec.interval_minutes or 15,
        )

    def set_switch_stuck(self, meter: str, stuck: bool = True) -> None:
        """Make the contactor refuse to move: remote operations are acknowledged as failed, with
        the on-demand read (B2-4 5.1, failure with data)."""
        with self.atomic():
            self.state(meter).switch_stuck = stuck

    def customer_reconnect(self, meter: str, user: str = "customer") -> dict[str, Any]:
        """The customer presses the button at the meter: closes a limiter trip (B2-13) or a
        switch armed for closure; refused otherwise (e.g. after a remote disconnect)."""
        with self.atomic():
            st = self.state(meter)
            now = self.now()
            if st.closed or not (st.tripped or st.armed):
                why = (
                    "switch is closed"
                    if st.closed
                    else "switch was opened remotely or locally, not by the limiter"
                )
                st.note(now, "customer", user=user, result=f"refused: {why}")
                return {"result": "refused", "reason": why, **self.switch_status(meter)}
            before = st.switch_label
            self._cancel_reconnect(st)
            st.close(now)
            st.note(now, "customer", user=user, status=before, result="closed")
            self.tell(
                st,
                [
                    self.new_event(
                        st.spec,
                        events.LOCAL_CONNECT,
                        reason=f"Customer reconnected the meter at the premises ({before})",
                        user=user,
                        details={
                            "Trigger": "CustomerReconnect",
                            "UserID": user,
                            "ContactorStatus": st.contactor,
                            "LimitLevel": st.limit_pct,
                        },
                        status=st.switch_label,
                    )
                ],
                read_reason="serviceConnect",
            )
            self._after_close(st)
            return {"result": "closed", **self.switch_status(meter)}

    def local_toggle(
        self,
        meter: str,
        user: str,
        authorized: bool,
        at: datetime | str | None = None,
        action: str = "toggle",
    ) -> dict[str, Any]:
        """A field employee operates the switch at the meter (B2-16): ``action`` toggle,
        connect or disconnect; immediately (regardless of the interval) or at ``at`` (a later
        time). Every attempt goes to the meter's log with time, switch status, user, the
        authorised flag and the result; an unauthorised attempt is refused and reported
        (LOCAL_SWITCH_NOT_AUTHORIZED)."""
        if action not in ("toggle", "connect", "disconnect"):
            raise ValueError(f"action is toggle, connect or disconnect, not {action!r}")
        when = parse_time(at) if at is not None else None
        with self.atomic():
            st = self.state(meter)
            now = self.now()
            self.counters["local_attempts"] += 1
            if not authorized:
                st.note(
                    now,
                    "local",
                    user=user,
                    authorized=False,
                    action=action,
                    status=st.switch_label,
                    result="refused: not authorised",
                )
                self.tell(
                    st,
                    [
                        self.new_event(
                            st.spec,
                            events.LOCAL_SWITCH_NOT_AUTHORIZED,
                            reason=f"Local switch operation by {user} refused: not authorised",
                            severity="warning",
                            user=user,
                            details={
                                "UserID": user,
                                "Authorized": False,
                                "Action": action,
                                "ContactorStatus": st.contactor,
                            },
                            status=st.switch_label,
                        )
                    ],
                    read_reason=None,
                )
                return {
                    "result": "refused",
                    "reason": "not authorised",
                    **self.switch_status(meter),
                }
            if when is not None and when > now:
                st.note(
                    now,
                    "local",
                    user=user,
                    authorized=True,
                    action=action,
                    status=st.switch_label,
                    result=f"scheduled for {self.fmt(when)}",
                )
                self.clock.call_at(
                    when,
                    lambda: self._local_operate(meter, user, action, scheduled=True),
                    name=f"local {action} {meter}",
                )
                return {"result": "scheduled", "at": self.fmt(when), **self.switch_status(meter)}
            return self._local_operate(meter, user, action)

    # ------------------------------------------------------------------ local operation
    def _local_operate(
        self, meter: str, user: str, action: str, scheduled: bool = False
    ) -> dict[str, Any]:
        with self.atomic():
            st = self.state(meter)
            now = self.now()
            before = st.switch_label
            target = (
                ("open" if st.closed else "closed")
                if action == "toggle"
                else ("closed" if action == "connect" else "open")
            )
            code = events.LOCAL_CONNECT if target == "closed" else events.LOCAL_DISCONNECT
            details: dict[str, object] = {
                "UserID": user,
                "Authorized": True,
                "Action": action,
                "Scheduled": scheduled,
            }
            if st.position == target:
                result, toggled = "no change: switch already there", False
            elif st.switch_stuck:
                result, toggled = "failed: contactor did not move", False
            else:
                self._cancel_reconnect(st)
                if target == "open":
                    st.open(now, "local")
                else:
                    st.close(now)
                result, toggled = ("opened" if target == "open" else "closed"), True
            st.note(
                now,
                "local",
                user=user,
                authorized=True,
                action=action,
                status=before,
                result=result,
            )
            details.update({"Toggled": toggled, "Result": result, "ContactorStatus": st.contactor})
            self.tell(
                st,
                [
                    self.new_event(
                        st.spec,
                        code,
                        reason=f"Local {'connect' if target == 'closed' else 'disconnect'} by {user}: {result}",
                        severity="info" if not result.startswith("failed") else "major",
                        user=user,
                        details=details,
                        status=st.switch_label,
                    )
                ],
                read_reason="serviceConnect" if target == "closed" else "serviceDisconnect",
            )
            if toggled and target == "closed":
                self._after_close(st)
            return {"result": result, **self.switch_status(meter)}

    # ------------------------------------------------------------------ remote commands
    def execute_switch(self, job: Job) -> None:
        """Carry out a switch control for one meter (called at the job's due time)."""
        spec = self.spec(job.meter)
        if not self.reachable(spec):
            self.no_answer(job, _NAMES.get(job.control.code, "switch command"))
            return
        st = self.state(job.meter)
        code = job.control.code
        if code == controls.REMOTE_CONNECT:
            self._remote_connect(st, job)
        elif code == controls.REMOTE_DISCONNECT:
            self._remote_disconnect(st, job)
        elif code == controls.LOAD_LIMIT_ENABLE:
            self._limit_enable(st, job)
        elif code == controls.LOAD_LIMIT_DISABLE:
            self._limit_disable(st, job)
        elif code == controls.ARM_FOR_CLOSURE:
            self._arm(st, job)
        else:  # pragma: no cover - the command book only routes switch codes here
            raise SimError("2.7", f"not a switch control: {code}")

    def _finish(
        self, st: MeterState, job: Job, success: bool, reason: str, toggled: bool, **details: object
    ) -> None:
        job.status = "done" if success else "failed"
        self.note_job(job, reason, toggled=toggled)
        info: dict[str, object] = {
            "ContactorStatus": st.contactor,
            "Toggled": toggled,
            "LimitLevel": st.limit_pct,
            **details,
        }
        self.publish_events(
            self.ack_events(
                st.spec, job, success, reason=reason, details=info, status=st.switch_label
            ),
            comment=f"Acknowledgement of {_NAMES.get(job.control.code, 'control')} {job.control.mrid}",
        )
        self.publish_read(st.spec, _READ_REASON.get(job.control.code))

    def _remote_connect(self, st: MeterState, job: Job) -> None:
        if st.closed:
            self._finish(
                st,
                job,
                True,
                "Remote connect: meter already connected, no action (duplicate, B2-11)",
                False,
            )
            return
        if st.switch_stuck:
            self._finish(
                st, job, False, "Remote connect failed: the contactor did not close", False
            )
            return
        self._cancel_reconnect(st)
        st.close(self.now())
        self._finish(st, job, True, "Remote connect processed: service switch closed", True)
        self._after_close(st)

    def _remote_disconnect(self, st: MeterState, job: Job) -> None:
        now = self.now()
        later_connect = self._connect_later_today(st, job)
        if later_connect is not None:
            self._finish(
                st,
                job,
                True,
                f"Remote disconnect logged without toggling: a connect is scheduled the same day at {self.fmt(later_connect)} (B2-9)",
                False,
                SameDayConnect=later_connect,
            )
            return
        if not st.closed:
            if st.open_reason == "limit_trip":  # a remote disconnect supersedes the limiter's trip
                self._cancel_reconnect(st)
                st.open_reason, st.limit_locked = "remote", False
            st.armed = False
            self._finish(
                st,
                job,
                True,
                "Remote disconnect: meter already disconnected, no action (duplicate, B2-11)",
                False,
            )
            return
        if st.switch_stuck:
            self._finish(
                st, job, False, "Remote disconnect failed: the contactor did not open", False
            )
            return
        st.open(now, "remote")
        self._finish(
            st,
            job,
            True,
            "Remote disconnect processed at the end of the billing interval: service switch open",
            True,
        )

    def _connect_later_today(self, st: MeterState, job: Job) -> datetime | None:
        today = self.day_start(self.now()).date()
        for jobs in self._controls.values():
            for other in jobs:
                if (
                    other is not job
                    and other.meter == st.meter
                    and other.status == "pending"
                    and other.control.code == controls.REMOTE_CONNECT
                    and other.due >= self.now()
                    and self.day_start(other.due).date() == today
                ):
                    return other.due
        return None

    def _limit_enable(self, st: MeterState, job: Job) -> None:
        level = job.control.level
        if st.limit_pct == level:
            self._finish(
                st,
                job,
                True,
                f"Load limit already at {level}%: no action (duplicate, B2-11)",
                False,
            )
            return
        before = st.limit_pct
        st.limit_pct = level
        self._finish(
            st,
            job,
            True,
            f"Load limit set to {level}% of rated capacity ({st.spec.rated_kw * level / 100:.1f} kW)"
            + (f", was {before}%" if before else ""),
            False,
            LimitKW=round(st.spec.rated_kw * (level or 0) / 100.0, 3),
            PreviousLimitLevel=before,
        )
        self._check_limit(st)
        self._watch(st)

    def _limit_disable(self, st: MeterState, job: Job) -> None:
        if st.limit_pct is None:
            self._finish(st, job, True, "No load limit active: no action (duplicate, B2-11)", False)
            return
        before = st.limit_pct
        st.limit_pct = None
        st.limit_locked = False
        toggled = False
        if st.tripped and not st.switch_stuck:
            self._cancel_reconnect(st)
            st.close(self.now())
            toggled = True
        self._finish(
            st,
            job,
            True,
            f"Load limit ({before}%) removed: service restored to 100%",
            toggled,
            PreviousLimitLevel=before,
        )

    def _arm(self, st: MeterState, job: Job) -> None:
        if st.closed:
            self._finish(
                st, job, True, "Arm for closure: meter already connected, no action (B2-11)", False
            )
            return
        st.armed = True
        self._finish(
            st,
            job,
            True,
            "Switch armed for closure: the customer may reconnect at the meter",
            False,
        )

    # ------------------------------------------------------------------ the limiter (B2-13)
    def _check_limit(self, st: MeterState) -> None:
        if st.limit_pct is None or not st.closed or not st.energised:
            return
        limit_kw = st.spec.rated_kw * st.limit_pct / 100.0
        kw = self.demand(st.meter)
        if kw > limit_kw:
            self._trip(st, kw, limit_kw)

    def _trip(self, st: MeterState, kw: float, limit_kw: float) -> None:
        now = self.now()
        st.open(now, "limit_trip")
        st.last_trip = now
        self.counters["trips"] += 1
        auto = (
            st.last_auto_reconnect is None
            or now - st.last_auto_reconnect >= self.auto_reconnect_window
        )
        if auto:
            meter = st.meter
            st.reconnect_timer = self.clock.call_later(
                self.auto_reconnect_delay,
                lambda: self._auto_reconnect(meter),
                name=f"auto-reconnect {meter}",
            )
            st.limit_locked = False
        else:
            st.limit_locked = True
        reconnect_at = now + self.auto_reconnect_delay if auto else None
        reason = (
            f"Load limit {st.limit_pct}% ({limit_kw:.1f} kW) exceeded by {kw:.1f} kW: switch opened; "
            + (
                f"automatic reconnection at {self.fmt(reconnect_at)}"
                if reconnect_at
                else "second trip within 24 h: stays open until the customer or a remote connect closes it"
            )
        )
        st.note(
            now, "trip", demand_kw=round(kw, 3), limit_kw=round(limit_kw, 3), auto_reconnect=auto
        )
        self.tell(
            st,
            [
                self.new_event(
                    st.spec,
                    events.LOAD_LIMIT_TRIPPED,
                    reason=reason,
                    severity="warning",
                    details={
                        "LimitLevel": st.limit_pct,
                        "LimitKW": round(limit_kw, 3),
                        "DemandKW": round(kw, 3),
                        "ContactorStatus": st.contactor,
                        "AutoReconnect": auto,
                        "AutoReconnectAt": reconnect_at,
                    },
                    status=st.switch_label,
                )
            ],
            read_reason="loadManagement",
        )

    def _auto_reconnect(self, meter: str) -> None:
        with self.atomic():
            st = self.state(meter)
            st.reconnect_timer = None
            if not st.tripped:
                return
            now = self.now()
            st.close(now)
            st.last_auto_reconnect = now
            self.counters["auto_reconnects"] += 1
            st.note(now, "auto_reconnect", limit=st.limit_pct)
            self.tell(
                st,
                [
                    self.new_event(
                        st.spec,
                        events.LOAD_LIMIT_AUTO_RECONNECTED,
                        reason=f"Limiter reconnected automatically after {int(self.auto_reconnect_delay.total_seconds())} s at the configured level ({st.limit_pct}%)",
                        details={
                            "LimitLevel": st.limit_pct,
                            "ContactorStatus": st.contactor,
                            "NextAutoReconnectNotBefore": now + self.auto_reconnect_window,
                        },
                        status=st.switch_label,
                    )
                ],
                read_reason="loadManagement",
            )
            self._after_close(st)

    def _after_close(self, st: MeterState) -> None:
        """The switch just closed: with a limit active, check the demand now and then at every
        interval boundary."""
        self._check_limit(st)
        self._watch(st)

    def _watch(self, st: MeterState) -> None:
        if st.limit_pct is None or not st.closed:
            return
        if st.watch_timer is not None and not st.watch_timer.cancelled:
            return
        meter = st.meter

        def check() -> None:
            with self.atomic():
                s = self.state(meter)
                s.watch_timer = None
                self._check_limit(s)
                self._watch(s)

        st.watch_timer = self.clock.call_at(
            next_boundary(self.now(), st.spec.interval_minutes or 15),
            check,
            name=f"limit-watch {meter}",
        )

    def _cancel_reconnect(self, st: MeterState) -> None:
        if st.reconnect_timer is not None:
            st.reconnect_timer.cancel()
            st.reconnect_timer = None
