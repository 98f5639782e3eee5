"""The common shape of every simulator (issue 4; STYLE practice 10).

A :class:`Simulator` is a counterpart system (head-end, MDMS, CIS, OMS, CRM, DCC, field) that
speaks CIM to cimbus over the wire through any :class:`endpoints.client.BusClient` (embedded,
AMQP, MQTT). It:

* answers what cimbus routes to it: methods decorated with :func:`handles` ``(verb, noun)``
  return the reply bytes (or None); events it subscribes to reach :meth:`on_event`, replies to
  its own async requests :meth:`on_reply`;
* sends on its own (:meth:`request`, :meth:`send`): unsolicited events, requests;
* reads time from its :class:`~simulators._core.clock.SimClock` and schedules on it;
* misbehaves on purpose through its :class:`~simulators._core.faults.Faults`;
* keeps a journal of every message in and out (what the CIS "records", what tests inspect);
* offers a small REST API (:meth:`api`): status, journal, faults, clock, plus its own routes.

Run in-process (tests, ``cimbus demo``) with :meth:`attach`, or alone with ``cimbus simulate``.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, TypeVar

from cim_models.codec import Codec

from .cim import Incoming, SimError, failed, iso
from .clock import SimClock
from .faults import Faults
from .profile import Profile, load_profile

__all__ = ["JournalEntry", "Simulator", "SimulatorError", "by_key", "handles"]

log = logging.getLogger("cimbus.sim")

#: one process-wide order of journal entries, so the journals of several simulators merge into
#: the sequence of messages a conformance report shows
_SEQ = itertools.count(1)


_T = TypeVar("_T")


def by_key(items: Mapping[str, _T], key: str, what: str) -> _T:
    """The item of ``items`` (by mRID) with mRID or ``number`` ``key`` (KeyError otherwise)."""
    found = items.get(key) or next(
        (o for o in items.values() if getattr(o, "number", None) == key), None
    )
    if found is None:
        raise KeyError(f"unknown {what} {key!r}")
    return found


class SimulatorError(RuntimeError):
    """A simulator cannot do what it was asked (not attached, disconnected, no answer)."""


def handles(
    verb: str, noun: str
) -> Callable[[Callable[..., bytes | None]], Callable[..., bytes | None]]:
    """Mark a method as the handler of ``verb`` ``noun`` messages routed to the simulator."""

    def mark(fn: Callable[..., bytes | None]) -> Callable[..., bytes | None]:
        keys = getattr(fn, "_sim_handles", ())
        fn._sim_handles = (*keys, (verb, noun))  # type: ignore[attr-defined]
        return fn

    return mark


@dataclass(frozen=True)
class JournalEntry:
    """One message in or out, at simulated time."""

    at: str
    direction: str  # in | out | fault
    verb: str
    noun: str
    message_id: str | None
    correlation_id: str | None
    result: str | None
    summary: str
    system: str = ""
    seq: int = 0

    def line(self) -> str:
        ids = f"id={self.message_id or '-'}" + (
            f" corr={self.correlation_id}" if self.correlation_id else ""
        )
        res = f" {self.result}" if self.result else ""
        return f"{self.at} {self.direction:5} {self.verb} {self.noun} {ids}{res} {self.summary}".rstrip()


class Simulator:
    """Base class of the simulators. Subclasses set the class attributes and add handlers."""

    name: ClassVar[str] = "base"
    system: str = "SIM"  # default bus system name (overridable per instance)
    title: ClassVar[str] = ""
    requirements: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        profile: Profile | str | None = None,
        *,
        clock: SimClock | None = None,
        faults: Faults | None = None,
        system: str | None = None,
        codec: Codec | None = None,
        journal_size: int = 10_000,
    ) -> None:
        self.profile = (
            load_profile(profile) if isinstance(profile, str) or profile is None else profile
        )
        self.clock = clock or SimClock(self.profile.start)
        self.faults = faults or Faults(seed=self.profile.seed)
        self.system = system or type(self).system
        self.codec = codec or Codec()
        self.client: Any = None
        self.journal: deque[JournalEntry] = deque(maxlen=journal_size)
        self._lock = threading.RLock()
        self._handlers: dict[tuple[str, str], Callable[[Incoming], bytes | None]] = {}
        for attr in dir(type(self)):
            fn = getattr(type(self), attr, None)
            for key in getattr(fn, "_sim_handles", ()):
                self._handlers[key] = getattr(self, attr)
        self.log = log.getChild(self.name)

    # ------------------------------------------------------------------ wiring
    def attach(self, client: Any) -> Simulator:
        """Serve what cimbus routes to this system through ``client`` (a BusClient)."""
        self.client = client
        client.serve(self.handle)
        return self

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            finally:
                self.client = None

    @property
    def serves(self) -> list[tuple[str, str]]:
        return sorted(self._handlers)

    # ------------------------------------------------------------------ inbound
    def handle(self, body: bytes, *, key: str | None = None) -> bytes | None:
        """What the transport calls for every message routed to this simulator; applies the
        fault knobs, dispatches, journals. Never raises."""
        if self.faults.roll("disconnect", key):
            self._remark("disconnected: message ignored", direction="fault")
            return None
        if self.faults.roll("drop", key):
            self._remark("dropped: message ignored", direction="fault")
            return None
        latency = self.faults.knobs(key).latency
        if latency > 0:
            self.faults.roll("latency", key)
            time.sleep(latency)
        try:
            incoming = Incoming.parse(body, self.codec)
        except Exception as exc:  # cimbus sent something we cannot read: record, do not crash
            self._remark(
                f"unreadable message: {exc}", direction="in", verb="?", noun="?", result="FAILED"
            )
            return None
        self._journal_in(incoming)
        try:
            answer = self.dispatch(incoming)
        except SimError as err:
            answer = failed(incoming, err, source=self.system, timestamp=iso(self.clock.now()))
        except Exception as exc:
            self.log.exception("%s failed on %s", self.name, incoming.summary())
            answer = failed(
                incoming,
                SimError("5.0", f"{self.name} simulator error: {type(exc).__name__}: {exc}"),
                source=self.system,
            )
        return self._answer(incoming, answer, key)

    def dispatch(self, incoming: Incoming) -> bytes | None:
        handler = self._handlers.get((incoming.verb, incoming.noun))
        if handler is not None:
            return handler(incoming)
        if incoming.is_reply:
            self.on_reply(incoming)
            return None
        if incoming.is_event:
            self.on_event(incoming)
            return None
        raise SimError(
            "2.5",
            f"the {self.name} simulator does not serve '{incoming.verb} {incoming.noun}' "
            f"(it serves: {', '.join(f'{v} {n}' for v, n in self.serves) or 'nothing'})",
        )

    def on_event(self, incoming: Incoming) -> None:
        """An event this system subscribes to (journaled already); subclasses act on it."""

    def on_reply(self, incoming: Incoming) -> None:
        """A reply to one of this system's async requests (journaled already)."""

    def _answer(self, incoming: Incoming, answer: bytes | None, key: str | None) -> bytes | None:
        if answer is None:
            return None
        if self.faults.roll("no_reply", key):
            self._remark(
                "no reply sent (fault)",
                direction="fault",
                verb=incoming.verb,
                noun=incoming.noun,
                message_id=incoming.message_id,
            )
            return None
        if self.faults.roll("malformed_reply", key):
            self._reply_fault(incoming, "malformed reply sent (fault)")
            return answer[: max(1, len(answer) // 2)]
        self._journal_out(answer)
        if self.faults.roll("duplicate", key) and self.client is not None:
            self._reply_fault(incoming, "reply sent twice (fault)")
            self.client.send(answer)
        return answer

    # ------------------------------------------------------------------ outbound
    def request(self, body: bytes, *, timeout: float = 30.0, key: str | None = None) -> Incoming:
        """Send a request to cimbus and wait for its answer (parsed)."""
        client = self._client()
        if self.faults.roll("disconnect", key):
            raise SimulatorError(f"{self.name} is disconnected (fault knob)")
        self._journal_out(body)
        answer = client.request(body, timeout=timeout)
        incoming = Incoming.parse(answer, self.codec)
        with contextlib.suppress(Exception):  # what the answer must be (Incoming.reply_problems)
            sent = Incoming.parse(body, self.codec)
            incoming.request_id = sent.message_id
            incoming.expected_root = sent.expected_answer()
        self._journal_in(incoming)
        return incoming

    def send(self, body: bytes, *, key: str | None = None) -> bool:
        """Send an event (or any message) to cimbus without waiting; False when a fault
        swallowed it."""
        client = self._client()
        if self.faults.roll("disconnect", key) or self.faults.roll("drop", key):
            self._remark("outgoing message not sent (fault)", direction="fault")
            return False
        self._journal_out(body)
        client.send(body)
        if self.faults.roll("duplicate", key):
            self._remark("message sent twice (fault)", direction="fault")
            client.send(body)
        return True

    def _client(self) -> Any:
        if self.client is None:
            raise SimulatorError(
                f"the {self.name} simulator is not attached to a bus (call attach())"
            )
        return self.client

    # ------------------------------------------------------------------ journal
    def _journal_in(self, incoming: Incoming) -> None:
        self._note(
            "in",
            incoming.verb,
            incoming.noun,
            incoming.message_id,
            incoming.correlation_id,
            incoming.result,
            "",
        )

    def _journal_out(self, body: bytes) -> None:
        try:
            out = Incoming.parse(body, self.codec)
            self._note(
                "out", out.verb, out.noun, out.message_id, out.correlation_id, out.result, ""
            )
        except Exception:
            self._remark("unparsable outgoing message", direction="out", verb="?", noun="?")

    def _note(
        self,
        direction: str,
        verb: str,
        noun: str,
        mid: str | None,
        corr: str | None,
        result: str | None,
        summary: str,
    ) -> None:
        self.journal.append(
            JournalEntry(
                iso(self.clock.now()),
                direction,
                verb,
                noun,
                mid,
                corr,
                result,
                summary,
                system=self.system,
                seq=next(_SEQ),
            )
        )

    def _remark(
        self,
        summary: str,
        *,
        direction: str = "note",
        verb: str = "",
        noun: str = "",
        message_id: str | None = None,
        correlation_id: str | None = None,
        result: str | None = None,
    ) -> None:
        """Journal a line that is not a message in or out (a note, a fault, a decision)."""
        self._note(direction, verb, noun, message_id, correlation_id, result, summary)

    def _reply_fault(self, incoming: Incoming, summary: str) -> None:
        self._remark(
            summary,
            direction="fault",
            verb="reply",
            noun=incoming.noun,
            correlation_id=incoming.message_id,
        )

    def received(self, verb: str | None = None, noun: str | None = None) -> list[JournalEntry]:
        return [
            e
            for e in self.journal
            if e.direction == "in"
            and (verb is None or e.verb == verb)
            and (noun is None or e.noun == noun)
        ]

    # ------------------------------------------------------------------ inspection
    def status(self) -> dict[str, Any]:
        """A summary for the REST API and the CLI; subclasses extend it."""
        return {
            "simulator": self.name,
            "system": self.system,
            "title": self.title,
            "requirements": list(self.requirements),
            "profile": self.profile.name,
            "clock": self.clock.describe(),
            "serves": [f"{v} {n}" for v, n in self.serves],
            "attached": self.client is not None,
            "journal": len(self.journal),
            "faults": self.faults.describe(),
        }

    def api(self) -> Any:
        """A FastAPI app to drive and inspect the simulator."""
        from .api import build_api

        return build_api(self)

    def add_routes(self, app: Any) -> None:
        """Subclasses add their own REST routes here."""

    def journal_dicts(self, limit: int = 100) -> list[dict[str, Any]]:
        return [asdict(e) for e in list(self.journal)[-limit:]]
