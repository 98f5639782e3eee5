"""Firmware / software update campaigns (DCC-4).

A campaign sends one FIRMWARE_UPDATE ``EndDeviceControl`` per meter to the metering system and
follows each meter through the states below, from cimbus's and the head-end's answers and from
the firmware progress events (``created EndDeviceEvents``) the head-end publishes:

``refused`` (the requesting supplier is not registered for the meter) · ``pending`` (not sent
yet) · ``queued`` (cimbus accepted the async control) · ``accepted`` (the head-end took it) ·
``started`` · ``in_progress`` · ``succeeded`` (with the final version) · ``failed``.

A state never moves backwards (a late "in progress" after "succeeded" is recorded in the
meter's history but does not change its state).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RANK", "TERMINAL", "Campaign", "CampaignMeter"]

RANK = {
    "pending": 0,
    "queued": 1,
    "accepted": 2,
    "started": 3,
    "in_progress": 4,
    "succeeded": 5,
    "failed": 5,
    "refused": 5,
}
TERMINAL = frozenset({"succeeded", "failed", "refused"})


@dataclass
class CampaignMeter:
    meter: str
    esiid: str
    control: str
    state: str = "pending"
    version: str | None = None  # the version the meter reports at the end
    detail: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def move(self, state: str, at: str, detail: str | None = None) -> bool:
        """Record ``state``; returns True when the meter's state changed."""
        self.history.append({"at": at, "state": state, "detail": detail})
        if self.state in TERMINAL or RANK[state] < RANK[self.state]:
            return False
        changed = state != self.state
        self.state = state
        if detail:
            self.detail = detail
        return changed

    def to_dict(self) -> dict[str, Any]:
        return {
            "meter": self.meter,
            "esiid": self.esiid,
            "control": self.control,
            "state": self.state,
            "version": self.version,
            "detail": self.detail,
            "history": list(self.history),
        }


@dataclass
class Campaign:
    id: str
    version: str
    requested_by: str | None
    created: str
    meters: dict[str, CampaignMeter] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return all(m.state in TERMINAL for m in self.meters.values())

    def summary(self, *, meters: bool = True) -> dict[str, Any]:
        counts = Counter(m.state for m in self.meters.values())
        out: dict[str, Any] = {
            "campaign": self.id,
            "version": self.version,
            "requested_by": self.requested_by,
            "created": self.created,
            "total": len(self.meters),
            "counts": dict(sorted(counts.items())),
            "complete": self.complete,
            "versions": dict(
                sorted(Counter(m.version for m in self.meters.values() if m.version).items())
            ),
        }
        if meters:
            out["meters"] = [m.to_dict() for m in self.meters.values()]
        return out
