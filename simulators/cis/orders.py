"""Service orders of the CIS and their life cycle (B2-1, B2-2, B2-4, B2-15, B2-17).

An order is one ``create EndDeviceControls`` the CIS sent (connect, disconnect, limit, restore,
switch status read), identified by the control's mRID; its service-order number travels as
``issuerTrackingID``. Its state only moves forward::

    sent ──(cimbus: Result OK, code 0.1)──> accepted
      │                                        │
      │   (head-end reply, via ReplyAddress)   │
      ├──── OK ─────────────────────────> replied (accepted / scheduled by the head-end)
      ├──── FAILED (incl. 4.1 timeout) ───> failed
      │
      └─ EndDeviceEvents with issuerTrackingID = mRID (the meter's acknowledgement, B2-4):
           processed / succeeded  -> completed
           error / failed / expired -> failed
           cancelled                -> cancelled
       cancel EndDeviceControls answered OK -> cancelled (B2-2)
       change EndDeviceControls answered OK -> new scheduled time (B2-2)

``completed``, ``failed`` and ``cancelled`` are final: a late reply or a duplicate event is
recorded on the order but changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cim_models.codes import CodeError, acknowledgement_outcome

__all__ = [
    "ACCEPTED",
    "CANCELLED",
    "COMPLETED",
    "FAILED",
    "FINAL",
    "REPLIED",
    "SENT",
    "Order",
]

SENT = "sent"
ACCEPTED = "accepted"
REPLIED = "replied"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
FINAL = frozenset({COMPLETED, FAILED, CANCELLED})
_RANK = {SENT: 0, ACCEPTED: 1, REPLIED: 2, COMPLETED: 3, FAILED: 3, CANCELLED: 3}
ACCEPTED_CODE = "0.1"  # cimbus accepted an async request; the reply follows at ReplyAddress


@dataclass
class Order:
    """One switch order and everything heard about it."""

    id: str  # the EndDeviceControl mRID
    number: str  # the CIS service-order number (issuerTrackingID)
    kind: str  # connect | disconnect | limit | restore | switch_status
    control: str  # EndDeviceControlType code
    esiid: str
    meter: str
    customer: str
    organization: str
    user: str
    created: str
    reason: str = ""
    level: int | None = None
    scheduled_at: datetime | None = None
    state: str = SENT
    outcome: str | None = None  # how the meter acknowledged: processed, succeeded, error ...
    cancel_requested: bool = False
    credit: bool = False  # issued by the credit flow (B2-17)
    history: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    switch: dict[str, str] = field(default_factory=dict)  # details of the acknowledgement
    pending_change: datetime | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL

    @property
    def pending(self) -> bool:
        return not self.final

    def move(self, state: str, at: str, note: str = "") -> bool:
        """Go to ``state`` if that is forward; always records the note. Returns whether the
        state changed."""
        changed = not self.final and _RANK[state] > _RANK[self.state]
        if changed:
            self.state = state
        self.history.append({"at": at, "state": self.state, "note": note, "changed": changed})
        return changed

    # ------------------------------------------------------------------ answers
    def on_answer(
        self, action: str, result: str | None, errors: list[dict[str, Any]], at: str
    ) -> None:
        """What cimbus answered to the request itself: the 0.1 acknowledgement of an async
        request, or directly the reply (sync route), or a refusal."""
        if any(e.get("code") == ACCEPTED_CODE for e in errors):
            if action == "create":
                self.move(
                    ACCEPTED, at, "accepted by cimbus (0.1); the reply follows at ReplyAddress"
                )
            else:
                self.move(self.state, at, f"{action} accepted by cimbus (0.1)")
            return
        self.on_reply(action, result, errors, at)

    def on_reply(
        self, action: str, result: str | None, errors: list[dict[str, Any]], at: str
    ) -> None:
        """A reply to the create / cancel / change (from the head-end through cimbus, or
        cimbus's own FAILED, e.g. 4.1 when the head-end never answered)."""
        reason = "; ".join(f"{e.get('code')}: {e.get('reason')}" for e in errors if e.get("reason"))
        self.replies.append({"at": at, "action": action, "result": result, "errors": errors})
        ok = result in ("OK", "PARTIAL")
        if action == "create":
            if ok:
                self.move(
                    REPLIED, at, f"head-end replied {result}" + (f" ({reason})" if reason else "")
                )
            else:
                self.move(FAILED, at, f"{result or 'no result'}: {reason}")
        elif action == "cancel":
            if ok:
                self.move(CANCELLED, at, "cancel confirmed")
            else:
                self.cancel_requested = False
                self.move(self.state, at, f"cancel refused: {reason}")
        elif action == "change":
            if ok and self.pending_change is not None:
                self.scheduled_at = self.pending_change
                self.move(self.state, at, f"rescheduled to {self.pending_change.isoformat()}")
            elif not ok:
                self.move(self.state, at, f"reschedule refused: {reason}")
            self.pending_change = None

    def on_event(self, event: dict[str, Any], at: str) -> str | None:
        """An EndDeviceEvent naming this order (issuerTrackingID = mRID). Returns how it
        answers the control (acknowledgement_outcome) or None."""
        self.events.append(event)
        details = event.get("details") or {}
        self.switch.update({k: v for k, v in details.items() if k != "ControlType"})
        try:
            outcome = acknowledgement_outcome(self.control, event.get("code") or "")
        except (CodeError, TypeError):
            outcome = None
        if outcome is None:
            self.move(self.state, at, f"event {event.get('code')} recorded")
            return None
        self.outcome = outcome
        if outcome in ("processed", "succeeded"):
            self.move(COMPLETED, at, f"meter acknowledged: {outcome} ({event.get('code')})")
        elif outcome == "cancelled":
            self.move(CANCELLED, at, f"meter acknowledged: cancelled ({event.get('code')})")
        else:
            self.move(FAILED, at, f"meter acknowledged: {outcome} ({event.get('code')})")
        return outcome

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "kind": self.kind,
            "control": self.control,
            "esiid": self.esiid,
            "meter": self.meter,
            "customer": self.customer,
            "organization": self.organization,
            "user": self.user,
            "created": self.created,
            "reason": self.reason,
            "level": self.level,
            "scheduled_at": self.scheduled_at.isoformat() if self.scheduled_at else None,
            "state": self.state,
            "outcome": self.outcome,
            "cancel_requested": self.cancel_requested,
            "credit": self.credit,
            "switch": dict(self.switch),
            "history": list(self.history),
            "replies": list(self.replies),
            "events": list(self.events),
        }
