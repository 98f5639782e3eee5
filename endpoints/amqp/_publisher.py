"""A thread-safe publisher with publisher confirms in batches (BUS-5, REL-1).

pika's ``BlockingChannel.basic_publish`` on a confirming channel waits for each message's
confirm before returning: one broker round trip (and, for persistent messages, one disk sync)
per message. Here one I/O thread owns a ``SelectConnection``; any thread hands it messages and
waits for the confirms of its batch (:meth:`Publisher.publish_many`). The I/O thread keeps up
to ``window`` messages unconfirmed on the wire and settles them as ``Basic.Ack`` / ``Basic.Nack`` frames
arrive; RabbitMQ confirms many messages with one ``multiple=True`` ack, so a batch costs about
one round trip, and concurrent callers (the outbox thread and every consumer worker) share the
same stream of confirms.

* ``mandatory=True`` on every publish: a message no queue takes comes back as ``Basic.Return``
  (before its ack) and it fails with :class:`Unroutable`.
* a nack (queue full with ``x-overflow=reject-publish``, broker error) fails with :class:`Nacked`.
* if the connection or channel goes away, every unconfirmed message fails with
  :class:`PublisherUnavailable` and the I/O thread reconnects with exponential backoff (capped
  at ``backoff_cap`` seconds), redeclares the topology and resumes. While it is down,
  publishing fails at once with :class:`NotConnected` (a ``TransportUnavailable``: the outbox
  keeps the messages and tries again without counting an attempt, however long the outage
  lasts); a message lost in flight counts as an attempt (nothing is lost; the receiver
  de-duplicates by MessageID).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pika
from pika.adapters.select_connection import IOLoop, SelectConnection

from routing.transport import DeliveryError, TransportUnavailable

from ._reasons import RetryLog, describe
from .topology import Topology

log = logging.getLogger("cimbus.amqp")


class PublisherUnavailable(DeliveryError):
    """Not connected to RabbitMQ (or the connection was lost before the confirm)."""


class NotConnected(PublisherUnavailable, TransportUnavailable):
    """The message was never sent: not connected to RabbitMQ (reconnecting), or the
    publisher is stopping. Not an attempt of the message (REL-1)."""


class Unroutable(DeliveryError):
    """Returned by RabbitMQ (mandatory flag): no queue is bound for the routing key."""


class Nacked(DeliveryError):
    """RabbitMQ refused the message (queue full with reject-publish, internal error)."""


@dataclass(frozen=True)
class Publish:
    """One message for :meth:`Publisher.publish_many`."""

    exchange: str
    routing_key: str
    body: bytes
    properties: pika.BasicProperties
    mandatory: bool = True


@dataclass
class _Entry:
    key: tuple[str, str, str | None]
    future: Future[None]
    returned: str | None = None


class ConfirmTracker:
    """Delivery tags of unconfirmed messages -> their futures (runs on the I/O thread only)."""

    def __init__(self) -> None:
        self._next = 1
        self._pending: OrderedDict[int, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pending)

    def reset(self) -> None:
        """A new channel: delivery tags start again at 1."""
        self._next = 1
        self._pending.clear()

    def published(self, item: Publish, future: Future[None]) -> int:
        tag = self._next
        self._next += 1
        key = (item.exchange, item.routing_key, item.properties.message_id)
        self._pending[tag] = _Entry(key, future)
        return tag

    def returned(
        self, exchange: str, routing_key: str, message_id: str | None, reason: str
    ) -> bool:
        """A ``Basic.Return``: mark the oldest unconfirmed matching message as unroutable (its
        ack follows)."""
        key = (exchange, routing_key, message_id)
        for entry in self._pending.values():
            if entry.key == key and entry.returned is None:
                entry.returned = reason
                return True
        return False

    def confirmed(
        self, tag: int, *, multiple: bool, ack: bool
    ) -> list[tuple[Future[None], Exception | None]]:
        if multiple:  # the pending tags are in ascending order: stop at the first above
            tags = []
            for t in self._pending:
                if t > tag:
                    break
                tags.append(t)
        else:
            tags = [tag] if tag in self._pending else []
        out: list[tuple[Future[None], Exception | None]] = []
        for t in tags:
            entry = self._pending.pop(t)
            if not ack:
                out.append((entry.future, Nacked("RabbitMQ nacked the message")))
            elif entry.returned is not None:
                out.append((entry.future, Unroutable(entry.returned)))
            else:
                out.append((entry.future, None))
        return out

    def fail_all(self, exc: Exception) -> list[tuple[Future[None], Exception | None]]:
        out: list[tuple[Future[None], Exception | None]] = [
            (e.future, exc) for e in self._pending.values()
        ]
        self._pending.clear()
        return out


class CoalescedOutput:
    """Mixin for a pika connection: inside :meth:`coalesced`, the frames pika marshals are
    joined and handed to the transport in buffers of up to ``COALESCE_BYTES``.

    pika hands its transport every frame separately (a publish is three: method, header,
    body), and the select-based transport sends each buffered chunk with its own ``send``
    call: three system calls per published message, each releasing and re-taking the GIL,
    and three TCP segments for RabbitMQ to read (strace of the AMQP benchmark: ~3 ``sendto``
    per message). The publisher's I/O thread publishes a whole window of messages in one go
    (``Publisher._pump``), so their frames now leave a few dozen messages per ``send``.
    Frames outside the block (heartbeats, acks, channel and connection methods) pass straight
    through; the order of frames is unchanged (nothing else writes while the block runs: a
    pika connection belongs to one thread)."""

    COALESCE_BYTES = 64 * 1024
    _held: list[bytes] | None = None
    _held_bytes = 0
    #: buffers handed to the transport from :meth:`coalesced` blocks (tests, metrics)
    coalesced_writes = 0

    def _adapter_emit_data(self, data: bytes) -> None:
        held = self._held
        if held is None:
            super()._adapter_emit_data(data)  # type: ignore[misc]
            return
        held.append(data)
        self._held_bytes += len(data)
        if self._held_bytes >= self.COALESCE_BYTES:
            self._emit_held()

    def _emit_held(self) -> None:
        held = self._held
        if not held:
            return
        self._held, self._held_bytes = [], 0
        if getattr(self, "_transport", None) is None:
            # the connection is gone: what was published in the block is never confirmed,
            # and the close callback fails it (PublisherUnavailable), as for any lost frame
            log.debug("connection closed: %d frames not written", len(held))
            return
        self.coalesced_writes += 1
        super()._adapter_emit_data(held[0] if len(held) == 1 else b"".join(held))  # type: ignore[misc]

    @contextmanager
    def coalesced(self) -> Iterator[None]:
        if self._held is not None:  # nested: the outer block writes
            yield
            return
        self._held, self._held_bytes = [], 0
        try:
            yield
        finally:
            try:
                self._emit_held()
            finally:
                self._held, self._held_bytes = None, 0


class _SelectConnection(CoalescedOutput, SelectConnection):
    """The publisher's connection: a ``SelectConnection`` with :class:`CoalescedOutput`."""


_PENDING: Any = object()


class _BatchWaiter:
    """The outcomes of one ``publish_many`` call; settled on the I/O thread only."""

    __slots__ = ("event", "left", "outcomes")

    def __init__(self, n: int) -> None:
        self.outcomes: list[Any] = [_PENDING] * n
        self.left = n
        self.event = threading.Event()

    def wait(self, timeout: float) -> list[Exception | None]:
        self.event.wait(timeout)
        out: list[Exception | None] = []
        for outcome in list(self.outcomes):
            if outcome is _PENDING:
                out.append(
                    DeliveryError(f"no publisher confirm from RabbitMQ within {timeout:g} s")
                )
            elif outcome is None or isinstance(outcome, DeliveryError):
                out.append(outcome)
            else:  # anything else is still a failed delivery for the outbox
                out.append(DeliveryError(f"{type(outcome).__name__}: {outcome}"))
        return out


class _Slot:
    """One message of a :class:`_BatchWaiter`, with the part of the Future API the
    tracker uses (``done``, ``set_result``, ``set_exception``)."""

    __slots__ = ("batch", "index")

    def __init__(self, batch: _BatchWaiter, index: int) -> None:
        self.batch = batch
        self.index = index

    def done(self) -> bool:
        return self.batch.outcomes[self.index] is not _PENDING

    def set_result(self, _result: None) -> None:
        self._set(None)

    def set_exception(self, exc: BaseException) -> None:
        self._set(exc)

    def _set(self, outcome: Any) -> None:
        batch = self.batch
        if batch.outcomes[self.index] is not _PENDING:
            return
        batch.outcomes[self.index] = outcome
        batch.left -= 1
        if batch.left == 0:
            batch.event.set()


def _settle(results: list[tuple[Future[None], Exception | None]]) -> None:
    for future, exc in results:
        if future.done():
            continue
        if exc is None:
            future.set_result(None)
        else:
            future.set_exception(exc)


class Publisher:
    """Publishes with confirms from any thread over one ``SelectConnection`` in its own thread."""

    def __init__(
        self,
        url: str,
        *,
        topology: Topology | None = None,
        window: int = 100,
        backoff_cap: float = 5.0,
        name: str = "cimbus-amqp-publisher",
    ) -> None:
        self.url = url
        self.topology = topology
        self.window = max(1, window)
        self.backoff_cap = backoff_cap
        self.name = name
        self._ready = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._ioloop: IOLoop | None = None
        self._connection: _SelectConnection | None = None
        self._channel: Any = None
        self._tracker = ConfirmTracker()
        self._waiting: deque[tuple[Publish, Future[None]]] = deque()
        self._backoff = 0.1
        self.connects = 0  # successful (re)connections, for tests and metrics
        self._retry_log = RetryLog(log, self.name)
        self.confirm_frames = 0  # Basic.Ack / Basic.Nack frames received (one may confirm many)
        self.max_in_flight = 0  # most messages unconfirmed at once (1 = one by one)

    # ---------------------------------------------------------------- caller side
    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def start(self) -> Publisher:
        if self._thread is None:
            self._stopping = False
            self._ioloop = IOLoop()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        thread, self._thread = self._thread, None
        if thread is None or self._ioloop is None:
            return
        self._stopping = True
        self._ioloop.add_callback_threadsafe(self._close)
        thread.join(timeout)

    def _hand_over(self, items: Sequence[Publish], futures: Sequence[Any]) -> None:
        """Hand messages to the I/O thread; each future (or ``_Slot``) settles on its
        confirm."""
        if not items:
            return
        if not self._ready.is_set() or self._ioloop is None or self._stopping:
            exc = NotConnected(self._not_connected_reason())
            for f in futures:
                f.set_exception(exc)
            return
        pairs = list(zip(items, futures, strict=True))
        try:
            self._ioloop.add_callback_threadsafe(lambda: self._enqueue(pairs))
        except Exception as exc:  # the loop is gone (stopping)
            for f in futures:
                if not f.done():
                    f.set_exception(NotConnected(f"publisher stopped: {exc}"))

    def publish_many(
        self, items: Sequence[Publish], *, timeout: float = 10.0
    ) -> list[Exception | None]:
        """Publish and wait for every confirm; per message None or the DeliveryError. One
        waiter for the whole batch (not a Future per message: that cost more than the
        publish itself on the outbox's hot path)."""
        if not items:
            return []
        batch = _BatchWaiter(len(items))
        self._hand_over(items, [_Slot(batch, i) for i in range(len(items))])
        return batch.wait(timeout)

    def publish(self, item: Publish, *, timeout: float = 10.0) -> None:
        (outcome,) = self.publish_many([item], timeout=timeout)
        if outcome is not None:
            raise outcome

    # ---------------------------------------------------------------- I/O thread
    def _run(self) -> None:
        assert self._ioloop is not None
        self._connect()
        try:
            self._ioloop.start()
        finally:
            self._ready.clear()
            _settle(self._tracker.fail_all(PublisherUnavailable("publisher stopped")))
            self._fail_waiting(NotConnected("publisher stopped"))  # never sent
            self._ioloop.close()

    def _connect(self) -> None:
        if self._stopping:
            assert self._ioloop is not None
            self._ioloop.stop()
            return
        params = pika.URLParameters(self.url)
        params.client_properties = {"connection_name": self.name}
        params.blocked_connection_timeout = 30
        self._connection = _SelectConnection(
            params,
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_open_error,
            on_close_callback=self._on_closed,
            custom_ioloop=self._ioloop,
        )

    def _schedule_reconnect(self) -> None:
        assert self._ioloop is not None
        if self._stopping:
            self._ioloop.stop()
            return
        delay = self._backoff
        self._backoff = min(self._backoff * 2, self.backoff_cap)
        self._ioloop.call_later(delay, self._connect)

    def _on_open(self, connection: SelectConnection) -> None:
        connection.channel(on_open_callback=self._on_channel)

    def _on_open_error(self, _connection: SelectConnection, error: Any) -> None:
        if not self._stopping:  # not the abort of our own stop()
            self._retry_log.failed(f"cannot connect to RabbitMQ: {describe(error)}", "retrying")
        self._schedule_reconnect()

    def _not_connected_reason(self) -> str:
        last = self._retry_log.last_reason()
        return "not connected to RabbitMQ (reconnecting" + (f"; {last})" if last else ")")

    def _on_channel(self, channel: Any) -> None:
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_return_callback(self._on_return)

        def confirm() -> None:
            channel.confirm_delivery(self._on_confirm, callback=lambda _f: self._on_ready(channel))

        if self.topology is not None:
            self.topology.declare_async(channel, confirm, exclusive=False)
        else:
            confirm()

    def _on_ready(self, channel: Any) -> None:
        self._channel = channel
        self._tracker.reset()
        self._backoff = 0.1
        self.connects += 1
        self._ready.set()
        if self._retry_log.failing:
            self._retry_log.connected()
        elif self.connects > 1:
            log.info("%s: reconnected to RabbitMQ", self.name)
        self._pump()

    def _on_channel_closed(self, channel: Any, reason: Any) -> None:
        # e.g. PRECONDITION_FAILED when a queue exists with other arguments: say so (the
        # connection's close that follows only says "Normal shutdown")
        if not self._stopping:
            self._retry_log.failed(f"channel closed: {describe(reason)}")
        self._lost(f"channel closed: {reason}")
        conn = self._connection
        if conn is not None and conn.is_open and not self._stopping:
            conn.close()  # reconnect from scratch (redeclare, new channel)

    def _on_closed(self, _connection: SelectConnection, reason: Any) -> None:
        self._lost(f"connection lost: {reason}")
        if self._stopping:
            assert self._ioloop is not None
            self._ioloop.stop()
        else:
            self._retry_log.failed(f"connection lost: {describe(reason)}")
            self._schedule_reconnect()

    def _lost(self, why: str) -> None:
        self._ready.clear()
        self._channel = None
        # sent, not confirmed: an attempt (the message itself may be what broke the link)
        _settle(self._tracker.fail_all(PublisherUnavailable(why)))
        self._fail_waiting(NotConnected(why))  # queued here, never sent

    def _fail_waiting(self, exc: Exception) -> None:
        while self._waiting:
            _, future = self._waiting.popleft()
            _settle([(future, exc)])

    def _close(self) -> None:
        self._stopping = True
        conn = self._connection
        assert self._ioloop is not None
        if conn is None or conn.is_closed:
            self._ioloop.stop()
            return
        if conn.is_closing:
            return  # _on_closed stops the loop
        try:
            conn.close()
        except Exception:  # wrong state while opening: just stop the loop
            self._ioloop.stop()

    def _enqueue(self, pairs: list[tuple[Publish, Future[None]]]) -> None:
        if self._channel is None:
            exc = NotConnected(self._not_connected_reason())
            _settle([(f, exc) for _, f in pairs])
            return
        self._waiting.extend(pairs)
        self._pump()

    def _pump(self) -> None:
        """Publish waiting messages while fewer than ``window`` are unconfirmed (their frames
        leave in one write: :class:`CoalescedOutput`)."""
        channel = self._channel
        conn = self._connection
        if not self._waiting or channel is None or conn is None:
            return
        with conn.coalesced():
            self._publish_waiting(channel)

    def _publish_waiting(self, channel: Any) -> None:
        while self._waiting and len(self._tracker) < self.window:
            item, future = self._waiting.popleft()
            if future.done():
                continue
            try:
                channel.basic_publish(
                    item.exchange,
                    item.routing_key,
                    item.body,
                    properties=item.properties,
                    mandatory=item.mandatory,
                )
            except Exception as exc:
                _settle([(future, PublisherUnavailable(f"publish failed: {exc}"))])
                continue
            self._tracker.published(item, future)
            self.max_in_flight = max(self.max_in_flight, len(self._tracker))

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        self.confirm_frames += 1
        ack = isinstance(method, pika.spec.Basic.Ack)
        _settle(self._tracker.confirmed(method.delivery_tag, multiple=method.multiple, ack=ack))
        self._pump()

    def _on_return(self, _channel: Any, method: Any, properties: Any, _body: bytes) -> None:
        where = f"{method.exchange or '(default exchange)'} / {method.routing_key}"
        reason = f"unroutable: {method.reply_code} {method.reply_text} for {where}"
        self._tracker.returned(method.exchange, method.routing_key, properties.message_id, reason)


__all__ = [
    "CoalescedOutput",
    "ConfirmTracker",
    "Nacked",
    "Publish",
    "Publisher",
    "PublisherUnavailable",
    "Unroutable",
]
