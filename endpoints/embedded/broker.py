"""An in-process message broker with the semantics cimbus relies on from RabbitMQ (BUS-10).

Named queues; persistent-style publish (a message stays queued until a consumer acks it);
consumers with manual ack, prefetch (bounded unacknowledged deliveries: back-pressure, REL-3),
``nack(requeue=True)`` puts a message back at the head, ``reject`` dead-letters it with a reason
(each queue has a dead-letter queue, ``<queue>.dead`` by default). Bounded queues block (or
time out) publishers when full instead of growing without limit.

It lives in memory: it is the embedded default for one machine and for tests. What must
survive a crash is in cimbus's store (outbox, correlation), not here.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Message:
    """A message with AMQP-like properties."""

    body: bytes
    message_id: str | None = None
    correlation_id: str | None = None
    reply_to: str | None = None
    type: str | None = None
    timestamp: float = field(default_factory=time.time)
    headers: dict[str, Any] = field(default_factory=dict)
    redelivered: bool = False


@dataclass
class Delivery:
    tag: int
    queue: str
    message: Message


class QueueFull(Exception):
    """A bounded queue stayed full for the whole publish timeout."""


class _Queue:
    def __init__(self, name: str, max_length: int, dead_letter: str | None) -> None:
        self.name = name
        self.max_length = max_length
        self.dead_letter = dead_letter
        self.ready: deque[Message] = deque()
        self.unacked: dict[int, Message] = {}
        self.cond = threading.Condition()


class EmbeddedBroker:
    """Queues by name; thread-safe; many producers and consumers."""

    def __init__(self, *, max_length: int = 100_000) -> None:
        self._queues: dict[str, _Queue] = {}
        self._lock = threading.Lock()
        self._tags = itertools.count(1)
        self._owner: dict[int, _Queue] = {}
        self.max_length = max_length

    # ---------------------------------------------------------------- topology
    def declare(
        self, name: str, *, dead_letter: str | None = "", max_length: int | None = None
    ) -> None:
        """Declare a queue (idempotent). ``dead_letter`` "" means ``<name>.dead``; None none."""
        with self._lock:
            if name in self._queues:
                return
            dl = (
                f"{name}.dead"
                if dead_letter == "" and not name.endswith(".dead")
                else dead_letter or None
            )
            self._queues[name] = _Queue(name, max_length or self.max_length, dl)
        if dl:
            self.declare(dl, dead_letter=None)

    def _queue(self, name: str) -> _Queue:
        q = self._queues.get(name)
        if q is None:
            self.declare(name)
            q = self._queues[name]
        return q

    # ---------------------------------------------------------------- produce
    def publish(self, queue: str, message: Message, *, timeout: float = 30.0) -> None:
        q = self._queue(queue)
        deadline = time.monotonic() + timeout
        with q.cond:
            while len(q.ready) + len(q.unacked) >= q.max_length:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise QueueFull(
                        f"queue {queue} stayed full ({q.max_length} messages) for {timeout:g} s"
                    )
                q.cond.wait(left)
            q.ready.append(message)
            q.cond.notify_all()

    # ---------------------------------------------------------------- consume
    def get(
        self, queue: str, *, timeout: float = 0.0, prefetch: int | None = None
    ) -> Delivery | None:
        """Take the next message (it stays unacked until ack/nack/reject)."""
        q = self._queue(queue)
        deadline = time.monotonic() + timeout
        with q.cond:
            while not q.ready or (prefetch is not None and len(q.unacked) >= prefetch):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                q.cond.wait(left)
            message = q.ready.popleft()
            tag = next(self._tags)
            q.unacked[tag] = message
            self._owner[tag] = q
            return Delivery(tag, queue, message)

    def ack(self, tag: int) -> None:
        q = self._owner.pop(tag)
        with q.cond:
            q.unacked.pop(tag, None)
            q.cond.notify_all()

    def nack(self, tag: int, *, requeue: bool = True) -> None:
        q = self._owner.pop(tag)
        with q.cond:
            message = q.unacked.pop(tag)
            if requeue:
                message.redelivered = True
                q.ready.appendleft(message)
            q.cond.notify_all()
        if not requeue:
            self._dead_letter(q, message, "rejected without requeue")

    def reject(self, tag: int, reason: str) -> None:
        """Dead-letter the message with ``reason`` (header ``x-death-reason``)."""
        q = self._owner.pop(tag)
        with q.cond:
            message = q.unacked.pop(tag)
            q.cond.notify_all()
        self._dead_letter(q, message, reason)

    def _dead_letter(self, q: _Queue, message: Message, reason: str) -> None:
        if q.dead_letter:
            message.headers = {**message.headers, "x-death-reason": reason, "x-death-queue": q.name}
            self.publish(q.dead_letter, message)

    def consume(
        self,
        queue: str,
        callback: Callable[[Delivery], None],
        *,
        prefetch: int = 50,
        name: str | None = None,
    ) -> Consumer:
        """Start a consumer thread calling ``callback`` per delivery; the callback acks."""
        consumer = Consumer(self, queue, callback, prefetch, name or f"consumer-{queue}")
        consumer.start()
        return consumer

    # ---------------------------------------------------------------- inspection
    def depth(self, queue: str) -> int:
        q = self._queue(queue)
        with q.cond:
            return len(q.ready)

    def unacked(self, queue: str) -> int:
        q = self._queue(queue)
        with q.cond:
            return len(q.unacked)

    def queues(self) -> list[str]:
        return sorted(self._queues)


class Consumer:
    def __init__(
        self,
        broker: EmbeddedBroker,
        queue: str,
        callback: Callable[[Delivery], None],
        prefetch: int,
        name: str,
    ) -> None:
        self.broker = broker
        self.queue = queue
        self.callback = callback
        self.prefetch = prefetch
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            delivery = self.broker.get(self.queue, timeout=0.1, prefetch=self.prefetch)
            if delivery is None:
                continue
            try:
                self.callback(delivery)
            except Exception as exc:  # a crashing handler: requeue once, then dead-letter
                if delivery.message.redelivered:
                    self.broker.reject(
                        delivery.tag, f"consumer failed twice: {type(exc).__name__}: {exc}"
                    )
                else:
                    self.broker.nack(delivery.tag, requeue=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
