"""The inbound path as an ordered list of small steps (STYLE practice 4; BUS-1, BUS-9, SEC-3).

::

    parse -> header -> validate -> authorise -> dedupe -> route  |  reply -> record
    (each may stop the exchange with a BusError)                 |  (always run)

Every step is a small callable in its own module with its own unit test. A step that raises a
:class:`~routing.errors.BusError` ends the forward part; ``reply`` then renders the FAILED
reply carrying the error's IEC 61968-100 code, and ``record`` writes the audit rows. The list
is data: :func:`default_steps` builds it, and a deployment can insert its own step (for
example an authorisation policy) without touching the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from cim_models.codec import CimMessage

from ..envelope import Envelope, utcnow
from ..errors import BusError, DuplicateMessage, InternalError
from ..routes import Route

if TYPE_CHECKING:
    from ..bus import Bus


@dataclass
class Exchange:
    """Everything one inbound message goes through, step by step."""

    raw: bytes
    transport: str
    reply_to: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    received_at: datetime = field(default_factory=utcnow)
    started: float = field(default_factory=time.perf_counter)
    message: CimMessage | None = None
    envelope: Envelope | None = None
    principal: str | None = None
    route: Route | None = None
    reply: bytes | None = None  # what goes back to the caller (None: nothing to send)
    result: str | None = None  # OK | PARTIAL | FAILED | ACCEPTED | DUPLICATE
    error: BusError | None = None
    answer: bool = (
        True  # False: nobody can receive a reply (no reply address on a messaging transport)
    )
    outcome: str = ""  # one readable line: what happened
    done: bool = False  # a step finished the exchange early (duplicate, reply consumed)
    #: durable effects (MessageID claim, correlation, outbox entries) a step asks for; they run
    #: in the same store transaction as the reply and the audit rows, before anyone is answered
    effects: list[Callable[[], None]] = field(default_factory=list)
    #: what must happen only once those are committed (e.g. waking the request that waits for
    #: this reply: it must find the reply in the audit trail)
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def finish(
        self, outcome: str, *, result: str | None = None, reply: bytes | None = None
    ) -> None:
        self.outcome = outcome
        if result is not None:
            self.result = result
        if reply is not None:
            self.reply = reply
        self.done = True

    @property
    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


class DuplicateClaim(Exception):
    """Raised by an effect when the MessageID was claimed by someone else meanwhile."""


class Step(Protocol):
    name: str
    always: bool

    def __call__(self, ex: Exchange, bus: Bus) -> None: ...


class Pipeline:
    """Runs the steps in order; ``always`` steps run even after an error."""

    def __init__(self, steps: Sequence[Step]) -> None:
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate pipeline step names: {names}")
        self.steps = list(steps)

    def run(self, ex: Exchange, bus: Bus) -> Exchange:
        """Forward steps one by one; then, in ONE store transaction, the durable effects they
        asked for plus the ``always`` steps (reply, record): one commit per message, and
        nothing is acknowledged before it is durable. A sync request waits for its reply in
        the route step, outside any transaction."""
        final = [s for s in self.steps if s.always]
        for step in self.steps:
            if step.always or ex.error is not None or ex.done:
                continue
            self._step(step, ex, bus)
        try:
            with bus.store.transaction():
                for effect in ex.effects:
                    effect()
                for step in final:
                    self._step(step, ex, bus)
        except DuplicateClaim as dup:
            # the MessageID was processed before (or by another worker meanwhile): answer with
            # the stored reply, or refuse if the first processing has not answered yet
            ex.effects.clear()
            env = ex.envelope
            stored = bus.store.stored_reply(env.message_id, env.source) if env else None
            ex.error = None if stored is not None else DuplicateMessage(str(dup))
            ex.reply, ex.result = stored, ("DUPLICATE" if stored is not None else None)
            ex.outcome = f"duplicate of {env.message_id if env else '?'}" + (
                ": answered with the stored reply" if stored is not None else ""
            )
            with bus.store.transaction():
                for step in final:
                    self._step(step, ex, bus)
        except Exception as exc:  # the store itself failed: answer, and say nothing was kept
            bus.log.exception("store transaction failed")
            ex.effects.clear()
            ex.reply, ex.result = None, None
            ex.error = InternalError(
                f"the message could not be stored ({type(exc).__name__}); it was not accepted, send it again"
            )
            for step in final:
                if step.name != "record":
                    self._step(step, ex, bus)
        for action in ex.after_commit:
            action()
        if ex.effects:
            bus.kick()
        bus.on_exchange(ex)
        return ex

    @staticmethod
    def _step(step: Step, ex: Exchange, bus: Bus) -> None:
        try:
            step(ex, bus)
        except BusError as exc:
            if ex.error is None:
                ex.error = exc
        except DuplicateClaim:
            raise
        except Exception as exc:  # a fault in cimbus must still answer the caller
            bus.log.exception("pipeline step %s failed", step.name)
            if ex.error is None:
                ex.error = InternalError(
                    f"internal error in step {step.name}: {type(exc).__name__}: {exc}"
                )

    def insert_before(self, name: str, step: Step) -> None:
        index = next(i for i, s in enumerate(self.steps) if s.name == name)
        self.steps.insert(index, step)


def default_steps() -> list[Step]:
    from .authorise import Authorise
    from .dedupe import Dedupe
    from .header import CheckHeader
    from .parse import SafeParse
    from .record import Record
    from .reply import RenderReply
    from .route import RouteMessage
    from .validate import Validate

    return [
        SafeParse(),
        CheckHeader(),
        Validate(),
        Authorise(),
        Dedupe(),
        RouteMessage(),
        RenderReply(),
        Record(),
    ]


__all__ = ["DuplicateClaim", "Exchange", "Pipeline", "Step", "default_steps"]
