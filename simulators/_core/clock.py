"""A simulated clock that tests can advance (issue 4).

Every simulator reads time from a :class:`SimClock` and schedules its future work on it (a
remote turn-off at the next 15-minute boundary, the automatic reconnection 2 minutes after a
limit trip, the 24-hour trip window, the 30-day expiry of an invitation). In tests the clock is
*manual*: it stands still until :meth:`SimClock.advance` moves it, firing every timer that falls
due on the way, in time order, so a 24-hour rule is checked in milliseconds. For the demo and
standalone runs it can follow the wall clock (optionally faster: ``speed``); a background thread
then fires due timers.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["SimClock", "Timer", "next_boundary", "parse_time", "parse_time_or_none"]


def parse_time(value: str | datetime) -> datetime:
    """An ISO 8601 timestamp (``Z`` allowed) as an aware datetime (naive means UTC)."""
    if isinstance(value, datetime):
        dt = value
    else:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def parse_time_or_none(value: str | None) -> datetime | None:
    """:func:`parse_time` of a timestamp read from a message: None when absent or unreadable."""
    if not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def next_boundary(when: datetime, minutes: int = 15) -> datetime:
    """The next interval boundary strictly after ``when`` (B2-8: end of the billing interval).
    A time exactly on a boundary maps to the following one."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    step = timedelta(minutes=minutes)
    n = (when - epoch) // step + 1
    return epoch + n * step


@dataclass(order=True)
class Timer:
    """A callback due at ``when``; :meth:`cancel` stops it from firing."""

    when: datetime
    seq: int
    fn: Callable[[], object] = field(compare=False)
    name: str = field(default="", compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class SimClock:
    """Simulated time: manual (tests) or following the wall clock (demo, standalone).

    Thread-safe. Timer callbacks run in the thread that advances the clock (or the realtime
    thread), outside the clock's lock, so a callback may schedule further timers.
    """

    def __init__(
        self, start: datetime | str | None = None, *, realtime: bool = False, speed: float = 1.0
    ) -> None:
        self._base = parse_time(start) if start is not None else datetime.now(UTC)
        self._offset = timedelta(0)
        self.realtime = realtime
        self.speed = speed
        self._t0 = time.monotonic()
        self._lock = threading.RLock()
        self._timers: list[Timer] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.fired = 0

    # ------------------------------------------------------------------ reading
    def now(self) -> datetime:
        with self._lock:
            if self.realtime:
                elapsed = (time.monotonic() - self._t0) * self.speed
                return self._base + timedelta(seconds=elapsed) + self._offset
            return self._base + self._offset

    def __call__(self) -> datetime:
        return self.now()

    # ------------------------------------------------------------------ scheduling
    def call_at(self, when: datetime, fn: Callable[[], object], *, name: str = "") -> Timer:
        timer = Timer(parse_time(when), next(self._seq), fn, name)
        with self._lock:
            heapq.heappush(self._timers, timer)
        return timer

    def call_later(
        self, delay: timedelta | float, fn: Callable[[], object], *, name: str = ""
    ) -> Timer:
        if not isinstance(delay, timedelta):
            delay = timedelta(seconds=delay)
        return self.call_at(self.now() + delay, fn, name=name)

    def pending(self) -> list[Timer]:
        with self._lock:
            return sorted(t for t in self._timers if not t.cancelled)

    # ------------------------------------------------------------------ moving
    def advance(self, delta: timedelta | float) -> int:
        """Move time forward by ``delta`` (seconds or a timedelta), firing every timer that
        falls due, in order, with :meth:`now` equal to each timer's time while it runs.
        Returns how many timers fired."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        if delta < timedelta(0):
            raise ValueError("the simulated clock only moves forward")
        target = self.now() + delta
        fired = 0
        while True:
            with self._lock:
                while self._timers and self._timers[0].cancelled:
                    heapq.heappop(self._timers)
                if not self._timers or self._timers[0].when > target:
                    self._set(target)
                    break
                timer = heapq.heappop(self._timers)
                if timer.when > self.now():
                    self._set(timer.when)
            timer.fn()
            fired += 1
        self.fired += fired
        return fired

    def advance_to(self, when: datetime | str) -> int:
        when = parse_time(when)
        now = self.now()
        return self.advance(when - now if when > now else timedelta(0))

    def _set(self, when: datetime) -> None:
        # caller holds the lock
        self._offset += when - self.now()

    def fire_due(self) -> int:
        """Fire the timers due at the current time (realtime mode calls this in a loop)."""
        return self.advance(timedelta(0))

    # ------------------------------------------------------------------ realtime thread
    def start(self, poll: float = 0.05) -> SimClock:
        """In realtime mode, fire due timers from a background thread."""
        if self._thread is None:
            self._stop.clear()

            def loop() -> None:
                while not self._stop.wait(poll):
                    try:
                        self.fire_due()
                    except Exception:  # a failing timer must not stop the clock
                        import logging

                        logging.getLogger("cimbus.sim.clock").exception("timer failed")

            self._thread = threading.Thread(target=loop, name="sim-clock", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def describe(self) -> dict[str, object]:
        return {
            "now": self.now().isoformat(),
            "mode": "realtime" if self.realtime else "manual",
            "speed": self.speed,
            "pending_timers": len(self.pending()),
        }
