"""The bus core (BUS-1..BUS-10, REL-1..REL-3): one object that every transport feeds.

``Bus.handle(raw, transport=...)`` runs the inbound pipeline (routing/pipeline) and returns the
finished :class:`~routing.pipeline.Exchange`, whose ``reply`` the transport sends back and
whose ``error`` tells it how (a SOAP Fault for a broken envelope). Around it:

* **outbox worker**: a thread that claims due outbox entries from the store and delivers them
  through the registered transports, retrying with exponential backoff until the receiver
  accepts (broker confirm, HTTP 200, PUBACK), and moving a message that keeps failing to the
  dead letters with the reason (REL-1, REL-2). Several cimbus processes may share one store.
* **waiters**: a sync request waits in this process for its reply (matched by CorrelationID).
* **async timeouts**: an async request whose reply does not come in time gets a FAILED reply
  (4.1) at its ReplyAddress; a reply arriving after that is recorded as late.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cim_models.build import ReplyError, build_message
from cim_models.codec import Codec
from cim_models.safexml import Limits

from .config import Config
from .envelope import Envelope, utcnow
from .errors import TargetTimeout, UnsupportedRequest
from .pipeline import Exchange, Pipeline, default_steps
from .routes import System
from .store import Correlation, OutboxItem, OutboxRecord, Retention, Store
from .transport import (
    Delivery,
    Outbound,
    PermanentDeliveryError,
    TransportUnavailable,
    deliver_all,
)

LocalHandler = Callable[[Envelope, "Bus"], bytes | None]
MESSAGING_TRANSPORTS = frozenset({"embedded", "amqp", "mqtt"})
HANDOFF_MAX = 5000  # outbox entries waiting in memory before batches leave them pending
HANDOFF_MARGIN = 5.0  # seconds of lease an entry in memory must have left to be sent
#: seconds until an entry whose transport was not connected is tried again (no attempt is
#: counted; the AMQP and MQTT transports reconnect with backoff capped at 5 s meanwhile)
UNAVAILABLE_RETRY = 5.0
#: seconds between two warnings that a transport's outbox entries are waiting for it
UNAVAILABLE_LOG_EVERY = 60.0
#: outbox entries one delivery lane may hold (queued + in flight) before new ones wait
LANE_MAX = 1000
#: seconds until entries that found their lane full are tried again (no attempt counted)
LANE_BUSY_RETRY = 2.0
#: seconds Bus.stop waits for each lane's batch in flight
LANE_STOP_WAIT = 5.0
#: transports reached one receiver at a time (a request/response per message): one lane per
#: system, so a receiver that hangs holds up only its own messages
PER_SYSTEM_LANES = frozenset({"soap", "local"})


def lane_key(transport: str, target: str | None) -> str:
    """The delivery lane of an outbox entry: its transport (one broker link carries every
    system's messages, published and confirmed in batches), or ``transport:system`` for the
    transports that call each receiver directly (SOAP over HTTP, local handlers)."""
    return f"{transport}:{target}" if transport in PER_SYSTEM_LANES else transport


DELIVERED_FLUSH = 0.2  # seconds the outbox thread may defer marking confirmed entries delivered
Authoriser = Callable[[Envelope, str | None], None]


def allow_all(envelope: Envelope, principal: str | None) -> None:
    """The default authoriser: every caller may do everything (SEC-1/SEC-2 add real policy)."""


@dataclass
class _Waiter:
    event: threading.Event = field(default_factory=threading.Event)
    reply: Envelope | None = None


class Waiters:
    """Requests waiting in this process for their reply, by MessageID (= the reply's
    CorrelationID)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, _Waiter] = {}

    def register(self, key: str) -> _WaitHandle:
        with self._lock:
            waiter = self._waiting.setdefault(key, _Waiter())
        return _WaitHandle(waiter)

    def resolve(self, key: str, reply: Envelope) -> bool:
        with self._lock:
            waiter = self._waiting.get(key)
        if waiter is None or waiter.event.is_set():
            return False
        waiter.reply = reply
        waiter.event.set()
        return True

    def is_waiting(self, key: str) -> bool:
        with self._lock:
            waiter = self._waiting.get(key)
        return waiter is not None and not waiter.event.is_set()

    def discard(self, key: str) -> None:
        with self._lock:
            self._waiting.pop(key, None)

    def __len__(self) -> int:
        return len(self._waiting)


class _WaitHandle:
    def __init__(self, waiter: _Waiter) -> None:
        self._waiter = waiter

    def wait(self, timeout: float) -> Envelope | None:
        self._waiter.event.wait(timeout)
        return self._waiter.reply


class _Lane:
    """One delivery lane of the outbox thread (REL-1): a thread of its own that delivers the
    batches handed to it one after the other, so a slow or hung receiver (a SOAP system that
    times out after 30 s per message, a broker link not yet known to be lost) holds up only
    the messages of its lane, never another transport's or system's. The outbox thread
    claims and hands over (:meth:`submit`); the lane delivers and settles each entry
    (``Bus._deliver_batch``). An entry whose lease (nearly) ran out while it waited here is
    not sent: it is claimed again once the lease has expired (by any worker)."""

    def __init__(self, bus: Bus, key: str) -> None:
        self.bus, self.key = bus, key
        self._cond = threading.Condition()
        self._queue: deque[list[OutboxRecord]] = deque()
        self._held = 0  # entries queued or in flight
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"cimbus-outbox-{key}", daemon=True)
        self._thread.start()

    @property
    def held(self) -> int:
        return self._held

    def submit(self, batch: list[OutboxRecord]) -> bool:
        """Queue a batch; False when the lane already holds ``LANE_MAX`` entries (or stops)."""
        with self._cond:
            if self._stopping or (self._held and self._held + len(batch) > LANE_MAX):
                return False
            self._queue.append(batch)
            self._held += len(batch)
            self._cond.notify()
            return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                batch = self._queue.popleft()
            try:
                soon = utcnow() + timedelta(seconds=HANDOFF_MARGIN)
                fresh = [i for i in batch if i.lease_until is None or i.lease_until > soon]
                if fresh:
                    self.bus._deliver_batch(self.key, fresh, defer_marks=True)
            except Exception:  # a store failure: the entries come back after their lease
                self.bus.log.exception("outbox lane %s: delivering a batch failed", self.key)
            finally:
                with self._cond:
                    self._held -= len(batch)

    def stop(self, timeout: float) -> list[OutboxRecord]:
        """Stop after the batch in flight (waiting at most ``timeout`` seconds for it);
        returns the entries that were queued but not started."""
        with self._cond:
            self._stopping = True
            left = [item for batch in self._queue for item in batch]
            self._queue.clear()
            self._held -= len(left)
            self._cond.notify_all()
        self._thread.join(timeout)
        return left


class Bus:
    """The transport-neutral core. Transports register themselves and call :meth:`handle`."""

    def __init__(
        self,
        config: Config | None = None,
        store: Store | None = None,
        *,
        codec: Codec | None = None,
        pipeline: Pipeline | None = None,
        authoriser: Authoriser | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self.config = config or Config()
        self.routes = self.config.routes
        self.name = self.config.bus.system_name
        self.log = log or logging.getLogger("cimbus.bus")
        self.codec = codec or Codec(
            limits=Limits(max_bytes=self.config.bus.max_bytes, max_depth=self.config.bus.max_depth)
        )
        self.store = store or Store(
            self.config.store.url,
            payload_policy=self.config.store.payload_policy,
            max_payload_bytes=self.config.store.max_payload_bytes,
            background_checkpoints=self.config.store.wal_checkpoint == "background",
        )
        self.pipeline = pipeline or Pipeline(default_steps())
        self.authoriser: Authoriser = authoriser or allow_all
        self.outbound: dict[str, Outbound] = {}
        self.local: dict[str, LocalHandler] = {}
        self.waiters = Waiters()
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._listeners: list[Callable[[Exchange], None]] = []
        self._kick = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_sweep = 0.0
        # outbox entries a batch wrote already claimed for this worker: delivered from memory
        self._handoff: deque[OutboxRecord] = deque()
        self._last_claim = 0.0
        # confirmed outbox entries the outbox thread has not marked delivered yet
        self._delivered: list[int] = []
        self._delivered_since = 0.0
        self._delivered_lock = threading.Lock()  # lanes add to it, the outbox thread flushes
        # lane -> (when its entries started waiting for it, when that was last logged)
        self._unavailable_since: dict[str, tuple[float, float]] = {}
        # delivery lanes of the outbox thread (lane_key -> _Lane), started on first use
        self._lanes: dict[str, _Lane] = {}
        self._lanes_lock = threading.Lock()
        store_cfg = self.config.store
        self.retention = Retention(
            audit_days=store_cfg.audit_days,
            outbox_days=store_cfg.outbox_days,
            dedupe_days=store_cfg.dedupe_days,
        )

    # ------------------------------------------------------------------ wiring
    def register_transport(self, outbound: Outbound) -> None:
        self.outbound[outbound.name] = outbound

    def transport_links(self) -> dict[str, str]:
        """Each broker transport's link, for ``/readyz``: ``connected``, or ``reconnecting``
        while it is not (its messages wait in the outbox meanwhile, no attempts counted).
        Transports without a link of their own (embedded, SOAP, local) are not listed."""
        links = {}
        for name, outbound in sorted(self.outbound.items()):
            ready = getattr(outbound, "ready", None)
            if isinstance(ready, bool):
                links[name] = "connected" if ready else "reconnecting"
        return links

    def register_local(self, name: str, handler: LocalHandler) -> None:
        """Serve requests routed to the ``local`` system ``name`` inside cimbus (business
        logic such as the SMT on-demand read lands here in later issues)."""
        self.local[name] = handler

    def add_listener(self, listener: Callable[[Exchange], None]) -> None:
        """Called after every exchange (demo output, metrics, tests)."""
        self._listeners.append(listener)

    def on_exchange(self, ex: Exchange) -> None:
        for listener in self._listeners:
            try:
                listener(ex)
            except Exception:  # a listener must never break the bus
                self.log.exception("exchange listener failed")

    # ------------------------------------------------------------------ inbound
    def handle(
        self,
        raw: bytes,
        *,
        transport: str,
        reply_to: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Exchange:
        """Run one inbound message through the pipeline; never raises for bad input."""
        ex = Exchange(raw=raw, transport=transport, reply_to=reply_to, meta=dict(meta or {}))
        # On a messaging transport a message without a reply address cannot be answered: no
        # reply is built, stored or recorded as sent. SOAP (and direct calls) always answer.
        ex.answer = transport not in MESSAGING_TRANSPORTS or reply_to is not None
        return self.pipeline.run(ex, self)

    def handle_many(
        self, items: Sequence[tuple[bytes, str | None, dict[str, Any] | None]], *, transport: str
    ) -> list[Exchange]:
        """Run several inbound messages (``(raw, reply_to, meta)`` each) with ONE store
        transaction for the batch (``Pipeline.run_many``): the per-message outcome is that of
        :meth:`handle` one after the other, at a fraction of the store cost. Returns the
        exchanges in the order given; never raises for bad input. A transport acknowledges
        the batch only after this returns (everything in it is durable then)."""
        exchanges = []
        for raw, reply_to, meta in items:
            ex = Exchange(raw=raw, transport=transport, reply_to=reply_to, meta=dict(meta or {}))
            ex.answer = transport not in MESSAGING_TRANSPORTS or reply_to is not None
            exchanges.append(ex)
        return self.pipeline.run_many(exchanges, self)

    # ------------------------------------------------------------------ used by steps
    def claim(self, env: Envelope) -> bool:
        """Claim the MessageID (REL-1): True the first time, False for a duplicate."""
        if not self.config.bus.dedupe or not env.message_id:
            return True
        return self.store.claim_message_id(env.message_id, env.source)

    def open_correlation(
        self,
        env: Envelope,
        *,
        requester: str | None,
        reply_address: str | None,
        transport: str,
        mode: str,
        timeout: float,
    ) -> None:
        reply_transport = (
            "soap"
            if reply_address and reply_address.startswith(("http://", "https://"))
            else transport
        )
        self.store.open_correlation(
            Correlation(
                correlation_id=env.message_id or "",
                request_message_id=env.message_id or "",
                requester=requester,
                reply_address=reply_address,
                reply_transport=reply_transport,
                mode=mode,
                deadline=utcnow() + timedelta(seconds=timeout),
                verb=env.verb,
                noun=env.noun,
            )
        )

    def _outbound_for(self, transport: str) -> Outbound:
        outbound = self.outbound.get(transport)
        if outbound is None:
            raise UnsupportedRequest(
                f"transport {transport!r} is not running in this cimbus process "
                f"(running: {', '.join(sorted(self.outbound)) or 'none'})"
            )
        return outbound

    def enqueue(self, system: System, env: Envelope, *, sync: bool) -> int:
        outbound = self._outbound_for(system.transport)
        return self.store.enqueue(
            OutboxItem(
                target=system.name,
                transport=system.transport,
                address=system.address,
                message_id=env.message_id,
                correlation_id=env.correlation_id,
                verb=env.verb,
                noun=env.noun,
                payload=env.body,
                headers=_headers(env, outbound.reply_address(sync=sync)),
                max_attempts=self.config.bus.max_attempts,
                # next_attempt_at None: due now, the same instant as the entry's created_at
            )
        )

    def enqueue_reply(self, record: Any, env: Envelope) -> int:
        """Forward an async reply to the requester's reply address."""
        item = self.store.enqueue(
            OutboxItem(
                target=record.requester or "requester",
                transport=record.reply_transport,
                address=record.reply_address,
                message_id=env.message_id,
                correlation_id=env.correlation_id,
                verb=env.verb,
                noun=env.noun,
                payload=env.body,
                headers={"verb": env.verb, "noun": env.noun},
                max_attempts=self.config.bus.max_attempts,
            )
        )
        return item

    def deliver_now(self, system: System, env: Envelope, *, sync: bool) -> bytes | None:
        outbound = self._outbound_for(system.transport)
        delivery = Delivery(
            system=system,
            address=system.address,
            body=env.body,
            message_id=env.message_id,
            correlation_id=env.correlation_id,
            verb=env.verb,
            noun=env.noun,
            reply_to=outbound.reply_address(sync=sync),
            headers=_headers(env, None),
            sync=sync,
        )
        return outbound.deliver(delivery)

    def serve_local(self, system: System, env: Envelope) -> bytes | None:
        handler = self.local.get(system.address)
        if handler is None:
            raise UnsupportedRequest(
                f"no local handler {system.address!r} is registered for {system.name}"
            )
        return handler(env, self)

    def accept_reply_bytes(
        self, body: bytes, *, transport: str, correlation_id: str | None
    ) -> Exchange:
        """A reply that came back in the same call (SOAP, local): run it through the pipeline
        like any inbound reply, so it is validated, matched and recorded."""
        return self.handle(body, transport=transport, meta={"in_reply_to": correlation_id})

    # ------------------------------------------------------------------ outbox worker
    def outbox_claimer(self) -> str | None:
        """Who a batch (``Pipeline.run_many``) claims its new outbox entries for: this worker
        while its outbox thread runs and has not much handed off yet (they are then
        delivered straight from memory, without a claim query), else None (they stay
        pending for any worker's ``claim_due``)."""
        if not self._threads or self._stop.is_set() or len(self._handoff) >= HANDOFF_MAX:
            return None
        # the delivery lanes hold as many again (receivers slower than the intake): new
        # entries stay pending, written once, instead of piling up in memory (one hung lane
        # holds at most LANE_MAX, so it alone never stops the hand-off to the others)
        if sum(lane.held for lane in list(self._lanes.values())) >= HANDOFF_MAX:
            return None
        return self.worker_id

    def hand_off(self, items: Sequence[OutboxRecord]) -> None:
        """Committed outbox entries claimed for this worker (see :meth:`outbox_claimer`)."""
        if items:
            self._handoff.extend(items)
            self._kick.set()

    def _take_handoff(self, limit: int) -> list[OutboxRecord]:
        taken: list[OutboxRecord] = []
        soon = utcnow() + timedelta(seconds=HANDOFF_MARGIN)
        while self._handoff and len(taken) < limit:
            item = self._handoff.popleft()
            if item.lease_until is not None and item.lease_until <= soon:
                continue  # its lease (nearly) ran out: left to claim_due, never sent twice
            taken.append(item)
        return taken

    def run_outbox_once(self, limit: int = 200, *, defer_marks: bool = False) -> int:
        """Deliver what is due now; returns the number of entries handled. ``defer_marks``
        (the outbox thread): each lane's batch is handed to its delivery lane (:class:`_Lane`,
        one thread per transport, per system for SOAP and local) instead of being delivered
        here, and confirmed entries are marked delivered in one transaction every few
        batches (:meth:`_flush_delivered`) instead of one per batch; until then they stay
        claimed under their lease, so a crash in between only sends them once more (the
        receiver de-duplicates by MessageID), as a crash between confirm and mark always
        could. Without it (tests, tools) everything is delivered and marked before it
        returns."""
        items = self._take_handoff(limit)
        now = time.monotonic()
        # entries in the database (retries, other workers' expired leases, the per-message
        # path): the outbox thread looks every poll interval, also while the hand-off keeps
        # it busy, but not after every hand-off (that made it per-message bound again)
        if len(items) < limit and (
            (not items and not defer_marks) or now - self._last_claim >= self.config.bus.outbox_poll
        ):
            self._last_claim = now
            items += self.store.claim_due(self.worker_id, limit=limit - len(items))
        if not items:
            return 0
        groups: dict[str, list[Any]] = {}
        for item in items:
            groups.setdefault(lane_key(item.transport, item.target), []).append(item)
        for key, batch in groups.items():
            if not defer_marks:  # a direct call (tests, tools): deliver here and now
                self._deliver_batch(key, batch, defer_marks=False)
            elif not self._lane(key).submit(batch):
                # its lane is still busy with earlier messages (a slow receiver): they wait
                # a little, without an attempt, instead of piling up in memory
                self.store.defer_many(
                    [item.id for item in batch],
                    self.worker_id,
                    f"not tried: earlier messages to {key} are still being delivered",
                    retry_at=utcnow() + timedelta(seconds=LANE_BUSY_RETRY),
                )
        return len(items)

    def _lane(self, key: str) -> _Lane:
        with self._lanes_lock:
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = _Lane(self, key)
            return lane

    def _deliver_batch(self, key: str, batch: list[Any], *, defer_marks: bool) -> None:
        """Deliver one lane's entries (one transport, or one system of it) and settle each:
        delivered, retried (an attempt), waiting for the transport (no attempt), or dead."""
        transport = batch[0].transport
        outbound = self.outbound.get(transport)
        if outbound is None:
            for item in batch:
                self._failed(item, f"transport {transport!r} is not running in this process")
            return
        deliveries = [self._delivery(item) for item in batch]
        outcomes = deliver_all(outbound, deliveries)
        delivered: list[int] = []
        replies: list[tuple[Any, bytes]] = []
        waiting: list[int] = []  # the transport could not try: not an attempt
        unavailable: Exception | None = None
        for item, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, PermanentDeliveryError):
                self.store.to_dead_letter(item.id, f"refused by {item.target}: {outcome}")
            elif isinstance(outcome, TransportUnavailable):
                waiting.append(item.id)
                unavailable = outcome
            elif isinstance(outcome, Exception):
                self._failed(item, f"{type(outcome).__name__}: {outcome}")
            else:
                delivered.append(item.id)
                if outcome:
                    replies.append((item, outcome))
        if waiting:
            self._wait_for_transport(key, waiting, unavailable)
        elif delivered:
            self._unavailable_since.pop(key, None)
        if defer_marks:
            with self._delivered_lock:
                self._delivered.extend(delivered)
        else:
            self.store.mark_delivered_many(delivered)  # one transaction per confirmed batch
        for item, reply in replies:  # a synchronous transport answered: process that too
            self.handle(reply, transport=transport, meta={"in_reply_to": item.message_id})

    def _delivery(self, item: Any) -> Delivery:
        system = self.routes.systems.get(item.target) or System(
            name=item.target, transport=item.transport, address=item.address
        )
        headers = dict(item.headers or {})
        return Delivery(
            system=system,
            address=item.address,
            body=item.payload,
            message_id=item.message_id,
            correlation_id=item.correlation_id,
            verb=item.verb or "",
            noun=item.noun or "",
            reply_to=headers.pop("reply_to", None),
            headers=headers,
        )

    def _wait_for_transport(self, lane: str, ids: list[int], error: Any) -> None:
        """Entries whose transport is not connected (``TransportUnavailable``): back to
        pending for ``UNAVAILABLE_RETRY`` seconds, no attempt counted (REL-1: a broker outage
        of any length must not turn accepted messages into dead letters), in one statement;
        a warning when the outage starts and every ``UNAVAILABLE_LOG_EVERY`` seconds."""
        reason = f"{type(error).__name__}: {error}"
        delay = UNAVAILABLE_RETRY * (0.8 + 0.4 * random.random())
        self.store.defer_many(
            ids, self.worker_id, reason, retry_at=utcnow() + timedelta(seconds=delay)
        )
        now = time.monotonic()
        since, logged = self._unavailable_since.get(lane, (now, 0.0))
        if now - logged >= UNAVAILABLE_LOG_EVERY:
            self.log.warning(
                "outbox: transport %s unavailable for %.0f s (%s); %d message(s) wait for it, "
                "no attempts counted",
                lane,
                now - since,
                reason,
                len(ids),
            )
            logged = now
        self._unavailable_since[lane] = (since, logged)

    def _failed(self, item: Any, error: str) -> None:
        attempts = item.attempts + 1
        if attempts >= (item.max_attempts or self.config.bus.max_attempts):
            self.store.to_dead_letter(item.id, f"gave up after {attempts} attempts: {error}")
            self.log.warning(
                "outbox %s -> %s dead-lettered: %s", item.message_id, item.target, error
            )
            return
        delay = min(self.config.bus.retry_max, self.config.bus.retry_base * (2 ** (attempts - 1)))
        delay *= 0.8 + 0.4 * random.random()  # jitter so retries of many messages spread out
        self.store.mark_failed(item.id, error, retry_at=utcnow() + timedelta(seconds=delay))

    def sweep_timeouts(self) -> int:
        """Async requests whose reply is overdue: mark them timed out and send the requester a
        FAILED reply (4.1). Returns how many."""
        n = 0
        for record in self.store.expired_correlations():
            if record.mode != "async":
                continue
            self.store.complete_correlation(record.correlation_id, status="timed_out", reply=None)
            if record.reply_address:
                err = TargetTimeout(
                    f"no reply to {record.request_message_id} within the route timeout; a later reply "
                    "will be recorded but not forwarded"
                )
                noun = getattr(record, "noun", None) or "Unknown"
                body = build_message(
                    "reply",
                    noun,
                    correlation_id=record.request_message_id,
                    source=self.name,
                    result="FAILED",
                    errors=[ReplyError(err.code, err.level, err.reason)],
                )
                env = Envelope(
                    verb="reply", noun=noun, body=body, correlation_id=record.request_message_id
                )
                self.enqueue_reply(record, env)
            n += 1
        return n

    def prune(self, *, dry_run: bool = False) -> dict[str, int]:
        """Delete what ``[store] audit_days / outbox_days / dedupe_days`` let go (a running
        bus does it in its retention thread every ``prune_every`` seconds; ``cimbus store
        prune`` on demand). Returns the rows deleted per table."""
        counts = self.store.prune(self.retention, dry_run=dry_run)
        if any(counts.values()) and not dry_run:
            self.log.info(
                "retention: deleted %s",
                ", ".join(f"{n} {table}" for table, n in counts.items() if n),
            )
        return counts

    def _retention_loop(self) -> None:
        """Prune at start-up, then every ``prune_every`` seconds, in a thread of its own: a
        first prune of a large backlog (many chunks) must not hold up the outbox worker's
        deliveries."""
        while not self._stop.is_set():
            try:
                self.prune()
            except Exception:
                self.log.exception("retention: prune failed; trying again later")
            self._stop.wait(self.config.store.prune_every)

    def _flush_delivered(self, *, force: bool = False) -> None:
        """Mark the deferred confirmed entries delivered (one statement): when there are
        many, when the oldest waited ``DELIVERED_FLUSH`` seconds, or when forced (idle, stop)."""
        if not self._delivered:
            self._delivered_since = time.monotonic()
            return
        now = time.monotonic()
        if (
            not force
            and len(self._delivered) < 2000
            and now - self._delivered_since < DELIVERED_FLUSH
        ):
            return
        with self._delivered_lock:
            ids, self._delivered = self._delivered, []
        self._delivered_since = now
        self.store.mark_delivered_many(ids)

    def _outbox_loop(self) -> None:
        poll = self.config.bus.outbox_poll
        while not self._stop.is_set():
            try:
                handled = self.run_outbox_once(defer_marks=True)
                self._flush_delivered()
                now = time.monotonic()
                if now - self._last_sweep > 1.0:
                    self._last_sweep = now
                    self.sweep_timeouts()
            except Exception:
                self.log.exception("outbox worker error; retrying")
                handled = 0
            if not handled:
                woke = self._kick.wait(poll)
                self._kick.clear()
                if not woke:  # idle for a poll interval: mark what was confirmed
                    try:
                        self._flush_delivered(force=True)
                    except Exception:
                        self.log.exception("outbox worker error; retrying")

    def kick(self) -> None:
        """Wake the outbox worker (after enqueueing)."""
        self._kick.set()

    # ------------------------------------------------------------------ lifecycle
    def start(self, *, outbox: bool = True) -> Bus:
        self.store.migrate()
        # compile the XSD profiles now, not on the first message (BUS-3): ~60-200 ms that a
        # caller's first request would otherwise wait, and a broken schema set fails start-up
        self.codec.schemas  # noqa: B018
        if outbox and not self._threads:
            self._stop.clear()
            t = threading.Thread(target=self._outbox_loop, name="cimbus-outbox", daemon=True)
            t.start()
            self._threads.append(t)
            if self.retention.active:
                r = threading.Thread(
                    target=self._retention_loop, name="cimbus-retention", daemon=True
                )
                r.start()
                self._threads.append(r)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        for t in self._threads:
            t.join(timeout=5)
        self._threads.clear()
        with self._lanes_lock:
            lanes, self._lanes = list(self._lanes.values()), {}
        for lane in lanes:  # the batch in flight finishes; what waited is handed back below
            self._handoff.extend(lane.stop(timeout=LANE_STOP_WAIT))
        try:
            self._flush_delivered(force=True)
        except Exception:  # they stay claimed: sent once more after their lease
            self.log.exception("marking %d delivered outbox entries failed", len(self._delivered))
        left = [item.id for item in self._handoff]
        self._handoff.clear()
        if left:  # claimed for this worker but not sent: back to pending for any worker
            try:
                self.store.release_claims(left, self.worker_id)
            except Exception:  # their lease expires anyway
                self.log.exception("releasing %d claimed outbox entries failed", len(left))

    def __enter__(self) -> Bus:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ dead letters
    def replay_dead_letter(self, dl_id: int, *, again: bool = False) -> int:
        """Put a dead letter back into the outbox (after the cause was fixed); REL-2.
        Marking it replayed and queueing its message are one transaction, so it is queued
        once: a second replay raises ``AlreadyReplayed`` (``again``: queue it once more on
        purpose). KeyError for an unknown id. Returns the new outbox entry's id."""
        with self.store.transaction():
            dl = self.store.take_for_replay(dl_id, again=again)
            item = self.store.enqueue(
                OutboxItem(
                    target=dl.target or "unknown",
                    transport=dl.transport or "embedded",
                    address=dl.address or "",
                    message_id=dl.message_id,
                    correlation_id=None,
                    verb=(dl.headers or {}).get("verb", ""),
                    noun=(dl.headers or {}).get("noun", ""),
                    payload=dl.payload,
                    headers=dict(dl.headers or {}),
                    max_attempts=self.config.bus.max_attempts,
                )
            )
        self._kick.set()
        return item


def _headers(env: Envelope, reply_to: str | None) -> dict[str, str]:
    h = {"verb": env.verb, "noun": env.noun}
    if env.source:
        h["source"] = env.source
    if reply_to:
        h["reply_to"] = reply_to
    return h


__all__ = ["Bus", "Waiters", "allow_all"]
