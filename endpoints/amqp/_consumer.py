"""Consumers with manual acks, prefetch, worker threads and reconnect (BUS-5, REL-1..REL-3).

One :class:`ConsumerLoop` = one thread owning one ``BlockingConnection`` and one channel, and a
small pool of worker threads. The connection's thread only does I/O: it receives deliveries
(at most ``prefetch`` unacknowledged ones, ``basic_qos``: back-pressure, REL-3) and hands them
to the workers; a worker runs the handler (which may block, e.g. a sync request waiting for
its reply) and marshals the ack / nack / reject back onto the connection's thread with
``add_callback_threadsafe``. pika connections are not thread-safe: nothing but the loop's own
thread touches its channel, and the connection keeps answering heartbeats while a handler
blocks.

If RabbitMQ goes away the loop reconnects with exponential backoff (capped at ``backoff_cap``
seconds), redeclares the topology and consumes again. Deliveries that were being handled when
the connection died cannot be acked any more; RabbitMQ redelivers them (``redelivered`` set)
and the bus answers a redelivered MessageID from its de-duplication store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import pika

from ._reasons import RetryLog, describe
from .policy import DEAD_LETTER, DROP, REQUEUE, FailurePolicy
from .properties import WireFields, header_field
from .topology import Topology

log = logging.getLogger("cimbus.amqp")

ACK = "ack"
REJECT = "reject"  # basic_reject(requeue=False): RabbitMQ dead-letters it (x-death header)


@dataclass(frozen=True)
class Inbound:
    """One delivery, as the handler sees it."""

    queue: str
    body: bytes
    fields: WireFields
    properties: pika.BasicProperties
    redelivered: bool
    exchange: str
    routing_key: str
    delivery_tag: int


#: A delivery -> how to settle it: "ack", "requeue" or "reject".
Handler = Callable[[Inbound], str]
#: Several deliveries -> how to settle each (same order).
BatchHandler = Callable[[list[Inbound]], list[str]]


class ConsumerLoop:
    """Consume ``queues`` with ``handler`` on ``workers`` threads; reconnect when needed.

    With a ``batch_handler``, deliveries for which ``batchable`` says yes (all when it is
    None) are not handed to the workers one by one: they queue for one batch thread, which
    takes everything that arrived meanwhile (at most ``max_batch``), runs the batch handler on
    it and settles the whole batch in one callback on the connection's thread (one
    ``basic_ack(multiple=True)`` where the tags allow). Under load the batches grow by
    themselves (up to ``prefetch``); a lone delivery is handled at once, without waiting.
    """

    def __init__(
        self,
        url: str,
        queues: Sequence[str],
        handler: Handler,
        *,
        topology: Topology | None = None,
        declare_exclusive: bool = False,
        prefetch: int = 50,
        workers: int = 1,
        name: str = "cimbus-amqp-consumer",
        backoff_cap: float = 5.0,
        drain_timeout: float = 5.0,
        batch_handler: BatchHandler | None = None,
        batchable: Callable[[Inbound], bool] | None = None,
        max_batch: int = 100,
    ) -> None:
        self.url = url
        self.queues = list(queues)
        self.handler = handler
        self.topology = topology
        self.declare_exclusive = declare_exclusive
        self.prefetch = prefetch
        self.workers = max(1, workers)
        self.name = name
        self.backoff_cap = backoff_cap
        self.drain_timeout = drain_timeout
        self.connects = 0
        self._retry_log = RetryLog(log, self.name)
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._inflight = 0  # deliveries of the current connection not settled yet
        self._generation = 0  # which connection: settlements of a dead one do not count
        self.batch_handler = batch_handler
        self.batchable = batchable
        self.max_batch = max(1, max_batch)
        self.batches = 0  # batches handled (for tests and metrics)
        self._cond = threading.Condition(self._lock)
        self._buffer: list[tuple[Any, int, Any, Inbound]] = []  # waiting for the batch thread
        self._batch_thread: threading.Thread | None = None
        self._batch_stop = False
        self._unsettled: set[int] = set()  # delivery tags of the channel (connection thread)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def start(self) -> ConsumerLoop:
        if self._thread is None:
            self._stop.clear()
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=self.name)
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
            if self.batch_handler is not None:
                self._batch_stop = False
                self._batch_thread = threading.Thread(
                    target=self._batch_run, name=f"{self.name} batch", daemon=True
                )
                self._batch_thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop consuming, let in-flight handlers settle (``drain_timeout``), disconnect."""
        self.signal_stop()
        self.join(timeout)

    def signal_stop(self) -> None:
        """Ask the loop to stop without waiting (stop several loops at once, then join)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout if timeout is not None else self.drain_timeout + 2)
        batcher, self._batch_thread = self._batch_thread, None
        if batcher is not None:
            with self._cond:
                self._batch_stop = True
                self._buffer.clear()  # not settled: RabbitMQ redelivers them
                self._cond.notify_all()
            batcher.join(self.drain_timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # ---------------------------------------------------------------- connection thread
    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            conn = None
            try:
                params = pika.URLParameters(self.url)
                params.client_properties = {"connection_name": self.name}
                conn = pika.BlockingConnection(params)
                channel = conn.channel()
                with self._lock:
                    self._generation += 1
                    self._inflight = 0
                    self._buffer.clear()  # from the dead connection: redelivered
                    generation = self._generation
                self._unsettled = set()
                if self.topology is not None:
                    self.topology.declare(channel, exclusive=self.declare_exclusive)
                channel.basic_qos(prefetch_count=self.prefetch)
                for queue in self.queues:
                    channel.basic_consume(
                        queue, partial(self._on_message, conn, generation, queue), auto_ack=False
                    )
                self.connects += 1
                if self._retry_log.failing:
                    self._retry_log.connected()
                elif self.connects > 1:
                    log.info("%s: reconnected to RabbitMQ", self.name)
                self._ready.set()
                backoff = 0.1
                while not self._stop.is_set():
                    conn.process_data_events(time_limit=0.1)
                self._drain(conn, channel)
            except Exception as exc:  # AMQPError, OSError: reconnect
                if not self._stop.is_set():
                    self._retry_log.failed(f"{type(exc).__name__}: {describe(exc)}")
            finally:
                self._ready.clear()
                if conn is not None and conn.is_open:
                    try:
                        conn.close()
                    except Exception:
                        log.debug("%s: closing the connection failed", self.name, exc_info=True)
            if not self._stop.is_set():
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.backoff_cap)

    def _drain(self, conn: pika.BlockingConnection, channel: Any) -> None:
        """Stop taking deliveries, let the workers finish and settle theirs (bounded)."""
        try:
            channel.stop_consuming()  # cancels; undispatched deliveries are requeued
        except Exception:
            log.debug("%s: cancelling consumers failed", self.name, exc_info=True)
        deadline = time.monotonic() + self.drain_timeout
        while self._inflight and time.monotonic() < deadline and conn.is_open:
            conn.process_data_events(time_limit=0.05)

    def _on_message(
        self,
        conn: pika.BlockingConnection,
        generation: int,
        queue: str,
        channel: Any,
        method: Any,
        properties: pika.BasicProperties,
        body: bytes,
    ) -> None:
        m = Inbound(
            queue=queue,
            body=body,
            fields=WireFields.from_properties(properties),
            properties=properties,
            redelivered=bool(method.redelivered),
            exchange=method.exchange,
            routing_key=method.routing_key,
            delivery_tag=method.delivery_tag,
        )
        self._unsettled.add(m.delivery_tag)
        if self.batch_handler is not None and (self.batchable is None or self.batchable(m)):
            with self._cond:
                self._inflight += 1
                self._buffer.append((conn, generation, channel, m))
                self._cond.notify()
            return
        with self._lock:
            self._inflight += 1
        assert self._pool is not None
        self._pool.submit(self._work, conn, generation, channel, m)

    # ---------------------------------------------------------------- worker threads
    def _work(
        self, conn: pika.BlockingConnection, generation: int, channel: Any, m: Inbound
    ) -> None:
        try:
            action = self.handler(m)
        except Exception:  # handlers apply the policy themselves; this is a last resort
            log.exception("%s: handler failed on %s", self.name, m.fields.message_id)
            action = REQUEUE
        try:
            conn.add_callback_threadsafe(
                partial(self._settle, generation, channel, m.delivery_tag, action)
            )
        except Exception:  # the connection is gone: RabbitMQ redelivers the message
            self._done(generation)

    # ---------------------------------------------------------------- batch thread
    def _batch_run(self) -> None:
        assert self.batch_handler is not None
        while True:
            with self._cond:
                while not self._buffer and not self._batch_stop:
                    self._cond.wait(0.5)
                if self._batch_stop:
                    return
                taken = self._buffer[: self.max_batch]
                del self._buffer[: self.max_batch]
            # one connection's deliveries per batch (normally all of them)
            conn, generation, channel, _ = taken[0]
            same = [t for t in taken if t[1] == generation]
            if len(same) < len(taken):
                with self._cond:
                    self._buffer[:0] = [t for t in taken if t[1] != generation]
            ms = [t[3] for t in same]
            try:
                actions = self.batch_handler(ms)
                if len(actions) != len(ms):
                    raise RuntimeError(f"batch handler settled {len(actions)} of {len(ms)}")
            except Exception:  # handlers apply the policy themselves; this is a last resort
                log.exception("%s: batch handler failed on %d deliveries", self.name, len(ms))
                actions = [REQUEUE] * len(ms)
            self.batches += 1
            settlements = [(m.delivery_tag, a) for m, a in zip(ms, actions, strict=True)]
            try:
                conn.add_callback_threadsafe(
                    partial(self._settle_many, generation, channel, settlements)
                )
            except Exception:  # the connection is gone: RabbitMQ redelivers the messages
                self._done(generation, len(settlements))

    def _settle_many(
        self, generation: int, channel: Any, settlements: list[tuple[int, str]]
    ) -> None:
        """Settle a batch on the connection's thread: the acks whose tags cover every
        unsettled tag up to the highest of them go as one ``multiple=True`` ack."""
        try:
            if channel.is_open and generation == self._generation:
                acks = sorted(tag for tag, action in settlements if action == ACK)
                if acks:
                    ackset = set(acks)
                    upto = None
                    for tag in sorted(t for t in self._unsettled if t <= acks[-1]):
                        if tag not in ackset:
                            break
                        upto = tag
                    if upto is not None:
                        channel.basic_ack(upto, multiple=True)
                    for tag in acks:
                        if upto is None or tag > upto:
                            channel.basic_ack(tag)
                for tag, action in settlements:
                    if action == REJECT:
                        channel.basic_reject(tag, requeue=False)
                    elif action != ACK:
                        channel.basic_nack(tag, requeue=True)
                self._unsettled.difference_update(tag for tag, _ in settlements)
        except Exception:
            log.debug("%s: settling a batch failed", self.name, exc_info=True)
        finally:
            self._done(generation, len(settlements))

    def _settle(self, generation: int, channel: Any, tag: int, action: str) -> None:
        if generation == self._generation:
            self._unsettled.discard(tag)
        try:
            if channel.is_open:
                if action == ACK:
                    channel.basic_ack(tag)
                elif action == REJECT:
                    channel.basic_reject(tag, requeue=False)
                else:
                    channel.basic_nack(tag, requeue=True)
        except Exception:
            log.debug("%s: settling delivery %s failed", self.name, tag, exc_info=True)
        finally:
            self._done(generation)

    def _done(self, generation: int, n: int = 1) -> None:
        with self._lock:
            if generation == self._generation:
                self._inflight -= n


def settle_failure(
    m: Inbound,
    exc: BaseException,
    *,
    policy: FailurePolicy,
    dead_letter: Callable[[Inbound, str], None],
    who: str,
) -> str:
    """Apply the failure policy to a delivery whose handling raised ``exc`` (see
    :mod:`endpoints.amqp.policy`); returns how to settle it."""
    verb = m.fields.verb or header_field(m.body, "Verb")
    noun = m.fields.noun or header_field(m.body, "Noun")
    action = policy.decide(verb, noun, redelivered=m.redelivered)
    what = f"{verb or '?'} {noun or '?'} {m.fields.message_id or '(no message_id)'} in {m.queue}"
    reason = f"{who} failed{' again' if m.redelivered else ''}: {type(exc).__name__}: {exc}"
    if action == REQUEUE:
        log.warning("%s: %s; requeued", what, reason)
        return REQUEUE
    if action == DROP:
        log.warning("%s: %s; dropped (policy)", what, reason)
        return ACK
    assert action == DEAD_LETTER
    try:
        dead_letter(m, reason)
    except Exception as dl_exc:
        log.error(
            "%s: %s; republishing to the dead letters failed (%s): rejected", what, reason, dl_exc
        )
        return REJECT
    log.error("%s: %s; dead-lettered", what, reason)
    return ACK


def dead_letter_properties(m: Inbound, reason: str) -> pika.BasicProperties:
    """The original properties plus ``x-death-reason`` / ``x-death-queue`` headers."""
    p = m.properties
    headers = dict(p.headers or {})
    headers["x-death-reason"] = reason[:1000]
    headers["x-death-queue"] = m.queue
    return pika.BasicProperties(
        content_type=p.content_type,
        content_encoding=p.content_encoding,
        headers=headers,
        delivery_mode=2,
        priority=p.priority,
        correlation_id=p.correlation_id,
        reply_to=p.reply_to,
        message_id=p.message_id,
        timestamp=p.timestamp,
        type=p.type,
        app_id=p.app_id,
    )


__all__ = [
    "ACK",
    "REJECT",
    "REQUEUE",
    "BatchHandler",
    "ConsumerLoop",
    "Handler",
    "Inbound",
    "dead_letter_properties",
    "settle_failure",
]


def publish_dead_letter(
    publisher: Any, topology: Any, m: Inbound, reason: str, *, timeout: float
) -> None:
    """Republish ``m`` to the dead-letter exchange with its reason (REL-2): the one place both
    cimbus's transport and a system's client dead-letter a delivery."""
    from ._publisher import Publish

    publisher.publish(
        Publish(
            topology.dead_letter_exchange,
            topology.dead_letter_key(m.queue),
            m.body,
            dead_letter_properties(m, reason),
        ),
        timeout=timeout,
    )
