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

import threading
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
    #: one of ``effects`` claims the MessageID (``run_many`` makes the claims of a batch in
    #: one statement up front)
    claims: bool = False
    #: what must happen only once those are committed (e.g. waking the request that waits for
    #: this reply: it must find the reply in the audit trail)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    #: the store transaction failed: nothing of this message was kept and ``error`` says
    #: "send it again". Transports that can leave the message with its sender's broker do so
    #: (``store_down``: requeue and retry later; else their failure policy) rather than
    #: acknowledge a message cimbus did not keep (REL-1).
    store_failure: Exception | None = None

    @property
    def store_down(self) -> bool:
        """The store failed because the database is unreachable or busy (not this message's
        fault: try the same message again later)."""
        from ..store import unavailable

        return self.store_failure is not None and unavailable(self.store_failure)

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
        self._group = GroupCommit(self)

    def run(self, ex: Exchange, bus: Bus) -> Exchange:
        """Forward steps one by one; then, in ONE store transaction, the durable effects they
        asked for plus the ``always`` steps (reply, record): one commit per message, and
        nothing is acknowledged before it is durable. A sync request waits for its reply in
        the route step, outside any transaction."""
        self._forward(self.steps, ex, bus)
        if bus.store.in_transaction():  # the caller's open transaction: join it
            self._commit(ex, bus)
        else:  # group commit with the messages other threads are committing right now
            self._group.commit(ex, bus)
        self._finish(ex, bus)
        return ex

    def run_many(self, exchanges: Sequence[Exchange], bus: Bus) -> list[Exchange]:
        """Run several messages with ONE store transaction for all of them (issue 3): the
        forward steps per message, then one ``store.batch()`` with the MessageID claims made
        in one statement, every effect and the ``always`` steps, and bulk inserts of the
        outbox entries, stored replies and audit rows. Same outcome per message as
        :meth:`run` one after the other, and nothing is durable before the commit:

        * a message whose forward part might depend on what an earlier one in the batch
          writes (a sync or local request, a repeated MessageID or CorrelationID) commits
          the batch so far first, then runs on its own;
        * a message whose claim loses (a duplicate of an earlier message) is answered after
          the commit through the per-message path (stored reply or DuplicateMessage);
        * if the batch transaction fails, every message of it runs again on its own, so one
          bad message does not fail the others.

        Returns the exchanges in the order given."""
        exchanges = list(exchanges)
        split = self._split()
        if split is None or len(exchanges) < 2:
            return [self.run(ex, bus) for ex in exchanges]
        pre, post = self.steps[:split], self.steps[split:]
        batch: list[Exchange] = []
        keys: set[tuple[str, str]] = set()
        for ex in exchanges:
            self._forward(pre, ex, bus)
            key = _batch_key(ex)
            if key is None or key in keys or not _batchable(ex, bus):
                self._commit_many(batch, bus)
                batch, keys = [], set()
                self._forward(post, ex, bus)
                self._commit(ex, bus)
                self._finish(ex, bus)
                continue
            self._forward(post, ex, bus)
            batch.append(ex)
            keys.update(key)
        self._commit_many(batch, bus)
        return exchanges

    def _split(self) -> int | None:
        """Where the steps that read or change the bus's state begin (dedupe, else route)."""
        names = [s.name for s in self.steps]
        for name in ("dedupe", "route"):
            if name in names:
                return names.index(name)
        return None

    def _forward(self, steps: Sequence[Step], ex: Exchange, bus: Bus) -> None:
        for step in steps:
            if step.always or ex.error is not None or ex.done:
                continue
            self._step(step, ex, bus)

    def _commit(self, ex: Exchange, bus: Bus) -> None:
        """The durable effects + ``always`` steps of one message in one transaction."""
        final = [s for s in self.steps if s.always]
        try:
            # store.batch: one transaction, its rows written in bulk at the end, the outbox
            # entries claimed for this worker's outbox thread (handed off once committed)
            with bus.store.batch(claim_for=bus.outbox_claimer()) as pending:
                for effect in ex.effects:
                    effect()
                for step in final:
                    self._step(step, ex, bus)
        except DuplicateClaim as dup:
            self._duplicate(ex, bus, dup)
        except BusError as exc:  # an effect refused the message (e.g. its transport is down)
            self._refused(ex, bus, exc)
        except Exception as exc:  # the store itself failed: answer, and say nothing was kept
            self._store_failed(ex, bus, exc)
        else:
            bus.hand_off(pending.created)

    def _commit_many(self, batch: list[Exchange], bus: Bus) -> None:
        """Commit and finish several messages (see :meth:`_commit_group`)."""
        self._commit_group(batch, bus)
        for ex in batch:
            self._finish(ex, bus)

    def _commit_group(self, batch: list[Exchange], bus: Bus) -> None:
        """The durable effects + ``always`` steps of several messages in ONE transaction:
        MessageID claims in one statement, bulk inserts (``store.batch``). A message whose
        claim loses, or whose claim repeats one of the group, is committed after it on its
        own (the duplicate path); if the transaction fails, every message is committed on its
        own. Does not finish the exchanges (``after_commit``, listeners)."""
        if len(batch) < 2:
            for ex in batch:
                self._commit(ex, bus)
            return
        final = [s for s in self.steps if s.always]
        saved = [(ex.reply, ex.result, ex.error, ex.outcome) for ex in batch]
        claims: dict[int, tuple[str, str | None]] = {}
        seen: set[tuple[str, str]] = set()
        later: list[Exchange] = []  # after the group: lost claims, repeated keys
        for ex in batch:
            key = _claim_key(ex, bus)
            if key is None:
                continue
            norm = (key[0], key[1] or "")
            if norm in seen:
                later.append(ex)
            else:
                seen.add(norm)
                claims[id(ex)] = key
        claimer = bus.outbox_claimer()
        try:
            with bus.store.batch(claim_for=claimer) as pending:
                won = bus.store.claim_many(claims.values()) if claims else set()
                for ex in batch:
                    key = claims.get(id(ex))
                    if (key is not None and key not in won) or any(ex is x for x in later):
                        if key is not None:
                            later.append(ex)  # claimed before: answered after the commit
                        continue
                    for effect in ex.effects:
                        effect()
                    for step in final:
                        self._step(step, ex, bus)
        except Exception as exc:
            # DuplicateClaim from an effect the batch did not foresee, or a store failure:
            # nothing of the batch was kept; every message runs again on its own
            if not isinstance(exc, DuplicateClaim):
                bus.log.warning(
                    "batch of %d failed (%s: %s); running its messages one by one",
                    len(batch),
                    type(exc).__name__,
                    exc,
                )
            for ex, (reply, result, error, outcome) in zip(batch, saved, strict=True):
                ex.reply, ex.result, ex.error, ex.outcome = reply, result, error, outcome
                self._commit(ex, bus)
            return
        bus.hand_off(pending.created)  # committed, claimed for this worker: send from memory
        for ex in later:
            self._commit(ex, bus)  # a duplicate of a committed claim: the duplicate path

    def _duplicate(self, ex: Exchange, bus: Bus, dup: DuplicateClaim) -> None:
        """The MessageID was processed before (or by another worker meanwhile): answer with
        the stored reply, or refuse if the first processing has not answered yet."""
        ex.effects.clear()
        env = ex.envelope
        stored = bus.store.stored_reply(env.message_id, env.source) if env else None
        ex.error = None if stored is not None else DuplicateMessage(str(dup))
        ex.reply, ex.result = stored, ("DUPLICATE" if stored is not None else None)
        ex.outcome = f"duplicate of {env.message_id if env else '?'}" + (
            ": answered with the stored reply" if stored is not None else ""
        )
        self._answer_alone(ex, bus)

    def _refused(self, ex: Exchange, bus: Bus, error: BusError) -> None:
        """A durable effect refused the message with a reply code (e.g. 2.5: the transport
        of its target does not run in this process): its transaction was rolled back, so the
        message is answered and audited with that error in a transaction of its own."""
        ex.effects.clear()
        ex.reply, ex.result, ex.error = None, None, error
        self._answer_alone(ex, bus)

    def _answer_alone(self, ex: Exchange, bus: Bus) -> None:
        """The ``always`` steps (record, reply) of an exchange whose effects were dropped, in
        a transaction of their own."""
        try:
            with bus.store.transaction():
                for step in self.steps:
                    if step.always:
                        self._step(step, ex, bus)
        except Exception as exc:
            self._store_failed(ex, bus, exc)

    def _store_failed(self, ex: Exchange, bus: Bus, exc: Exception) -> None:
        bus.log.exception("store transaction failed", exc_info=exc)
        ex.store_failure = exc
        ex.effects.clear()
        ex.reply, ex.result = None, None
        ex.error = InternalError(
            f"the message could not be stored ({type(exc).__name__}); it was not accepted, send it again"
        )
        for step in self.steps:
            if step.always and step.name != "record":
                self._step(step, ex, bus)

    @staticmethod
    def _finish(ex: Exchange, bus: Bus) -> None:
        for action in ex.after_commit:
            action()
        if ex.effects:
            bus.kick()
        bus.on_exchange(ex)

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


class _Ticket:
    __slots__ = ("event", "ex", "lead")

    def __init__(self, ex: Exchange) -> None:
        self.ex = ex
        self.event = threading.Event()
        self.lead = False


class GroupCommit:
    """Group commit for messages handled on several threads at once (SOAP requests, AMQP and
    MQTT workers): a thread whose message is ready to commit while another thread is
    committing queues it; when that commit ends, the first queued thread becomes the leader
    and commits everything queued meanwhile in ONE transaction
    (:meth:`Pipeline._commit_group`), then wakes the others. A message alone commits at once,
    so there is no added latency without concurrency; every message is still durable before
    its thread returns (and the caller is answered)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._busy = False  # a leader is committing
        self.groups = 0  # commits made (for tests and metrics)
        self.grouped = 0  # messages committed in a group of more than one

    def commit(self, ex: Exchange, bus: Bus) -> None:
        me = _Ticket(ex)
        with self._lock:
            self._queue.append(me)
            lead = not self._busy
            self._busy = True
        if not lead:
            me.event.wait()
            if not me.lead:
                return  # a leader committed it
        group: list[_Ticket] = []
        try:
            with self._lock:
                group, self._queue = self._queue, []
            self.groups += 1
            if len(group) > 1:
                self.grouped += len(group)
            self.pipeline._commit_group([t.ex for t in group], bus)
        finally:
            with self._lock:
                if self._queue:  # arrived meanwhile: the first of them leads the next group
                    nxt = self._queue[0]
                    nxt.lead = True
                    nxt.event.set()
                else:
                    self._busy = False
            for t in group:
                if t is not me:
                    t.event.set()


def _batch_key(ex: Exchange) -> set[tuple[str, str]] | None:
    """What must not repeat inside one batch: the MessageID (with Source) and, for a reply,
    the CorrelationID it answers. None: the message cannot go into a batch (no envelope)."""
    env = ex.envelope
    if env is None:
        return None
    key = {("mid", f"{env.message_id}\x00{env.source or ''}")} if env.message_id else set()
    if env.correlation_id and env.is_reply:
        key.add(("corr", env.correlation_id))
    return key


def _batchable(ex: Exchange, bus: Bus) -> bool:
    """Whether the rest of the forward steps of ``ex`` neither read what an earlier message of
    the batch writes nor act outside the store: events, replies, async requests to remote
    systems, and anything already refused. Sync and local requests run on their own."""
    env = ex.envelope
    if ex.error is not None or ex.done or env is None:
        return True
    if env.is_event or env.is_reply:
        return True
    try:
        route = bus.routes.route_for(env.verb, env.noun, env.source)
        target = bus.routes.system(route.target)
    except Exception:  # no route: the route step refuses it on its own
        return False
    return (env.async_reply or route.mode == "async") and target.transport != "local"


def _claim_key(ex: Exchange, bus: Bus) -> tuple[str, str | None] | None:
    """The MessageID claim an exchange's effects will make (the batch makes them in one
    statement first), None when they make none."""
    env = ex.envelope
    if not ex.claims or not ex.effects or env is None or not env.message_id:
        return None
    if not bus.config.bus.dedupe:
        return None
    return (env.message_id, env.source)


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
