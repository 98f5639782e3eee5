"""Fault knobs shared by every simulator (issue 4; STYLE practice 10).

A simulator misbehaves on purpose so that cimbus's timeouts, retries, de-duplication and dead
letters can be exercised. Knobs are set per simulator (key ``None``) and overridden per meter
(or any other key the simulator chooses, e.g. a usage point):

==================  ===================================================================
``latency``         seconds to wait before answering (real time: it tests timeouts)
``drop``            probability (0..1) that a received message is ignored: no effect, no answer
``duplicate``       probability that every answer or event is sent twice (same MessageID)
``malformed_reply`` probability that the answer is replaced by broken XML
``no_reply``        probability that the message takes effect but no answer is sent
``disconnect``      true: unreachable; receives nothing, sends nothing (per meter: the meter
                    does not answer the head-end, which reports it, B2-4 5.2 / 6.1)
==================  ===================================================================

Randomness comes from a seeded generator, so a run with the same knobs and seed behaves the
same. Probabilities 0 and 1 are exact (no randomness involved).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

__all__ = ["FAULT_KINDS", "FaultKnobs", "Faults"]

FAULT_KINDS = ("latency", "drop", "duplicate", "malformed_reply", "no_reply", "disconnect")


@dataclass(frozen=True)
class FaultKnobs:
    latency: float = 0.0
    drop: float = 0.0
    duplicate: float = 0.0
    malformed_reply: float = 0.0
    no_reply: float = 0.0
    disconnect: bool = False

    def __post_init__(self) -> None:
        # checked here, where knobs are made (Python or the REST API), so that a bad value is
        # refused when it is set, not met later by roll() while a message is being handled
        if not isinstance(self.disconnect, bool):
            raise ValueError(f"fault disconnect is true or false, not {self.disconnect!r}")
        for name in ("latency", "drop", "duplicate", "malformed_reply", "no_reply"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"fault {name} is a number, not {value!r}")
            if name == "latency":
                if value < 0:
                    raise ValueError(f"fault latency must be >= 0 seconds, not {value!r}")
            elif not 0.0 <= value <= 1.0:
                raise ValueError(f"fault {name} is a probability between 0 and 1, not {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    """The knobs of one simulator: defaults plus per-key overrides."""

    def __init__(self, *, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._default = FaultKnobs()
        self._per_key: dict[str, FaultKnobs] = {}
        self._random = random.Random(seed)
        self.counts: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)

    def knobs(self, key: str | None = None) -> FaultKnobs:
        """The knobs in force for ``key`` (its override, else the simulator's)."""
        with self._lock:
            if key is not None and key in self._per_key:
                return self._per_key[key]
            return self._default

    def set(self, key: str | None = None, **values: Any) -> FaultKnobs:
        """Set some knobs (others keep their value); unknown names are a ValueError."""
        unknown = set(values) - {f.name for f in fields(FaultKnobs)}
        if unknown:
            raise ValueError(
                f"unknown fault knob(s) {', '.join(sorted(unknown))}; known: {', '.join(FAULT_KINDS)}"
            )
        with self._lock:
            base = self._per_key.get(key, self._default) if key is not None else self._default
            knobs = replace(base, **values)
            if key is None:
                self._default = knobs
            else:
                self._per_key[key] = knobs
            return knobs

    def clear(self, key: str | None = None) -> None:
        """Back to normal behaviour (for ``key``, or everything when ``key`` is None)."""
        with self._lock:
            if key is None:
                self._default = FaultKnobs()
                self._per_key.clear()
            else:
                self._per_key.pop(key, None)

    def roll(self, kind: str, key: str | None = None) -> bool:
        """Does fault ``kind`` strike now (for ``key``)? Counts the strikes."""
        knobs = self.knobs(key)
        value = getattr(knobs, kind)
        if kind == "disconnect":
            hit = bool(value)
        elif kind == "latency":
            hit = value > 0
        elif value <= 0:
            hit = False
        elif value >= 1:
            hit = True
        else:
            with self._lock:
                hit = self._random.random() < value
        if hit:
            with self._lock:
                self.counts[kind] += 1
        return hit

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "default": self._default.to_dict(),
                "overrides": {k: v.to_dict() for k, v in sorted(self._per_key.items())},
                "counts": dict(self.counts),
            }
