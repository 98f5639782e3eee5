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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from cim_models.codec import CimMessage

from ..envelope import Envelope, utcnow
from ..errors import BusError, InternalError
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
    outcome: str = ""  # one readable line: what happened
    done: bool = False  # a step finished the exchange early (duplicate, reply consumed)

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
        for step in self.steps:
            if (ex.error is not None or ex.done) and not step.always:
                continue
            try:
                step(ex, bus)
            except BusError as exc:
                if ex.error is None:
                    ex.error = exc
            except Exception as exc:  # a fault in cimbus must still answer the caller
                bus.log.exception("pipeline step %s failed", step.name)
                if ex.error is None:
                    ex.error = InternalError(
                        f"internal error in step {step.name}: {type(exc).__name__}: {exc}"
                    )
        return ex

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


__all__ = ["Exchange", "Pipeline", "Step", "default_steps"]
