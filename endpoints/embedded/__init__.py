"""The embedded transport (BUS-10): cimbus and its counterpart systems in one process, over an
in-process broker with the same semantics as the AMQP transport (same queue names, same
properties, manual acks, dead letters). It is the default, so everything runs with nothing
installed.

Queues: ``cimbus.in`` (everything sent to cimbus: requests, events, replies),
``cimbus.reply.<worker>`` (replies to requests this cimbus process waits for),
``cimbus.system.<name>`` (what cimbus routes to a system), ``<client>.reply`` (a client's
answers). Properties: message_id, correlation_id, reply_to, type = verb + noun, timestamp,
headers verb / noun / source.
"""

from __future__ import annotations

import re
import threading
import time
import uuid

from cim_models.ids import new_message_id
from routing.bus import Bus
from routing.transport import Delivery as OutDelivery
from routing.transport import DeliveryError

from ..client import Handler, ReplyTimeout
from .broker import Consumer, Delivery, EmbeddedBroker, Message, QueueFull

INBOUND = "cimbus.in"

__all__ = ["INBOUND", "EmbeddedBroker", "EmbeddedClient", "EmbeddedTransport", "Message"]


class EmbeddedTransport:
    """cimbus's side of the embedded bus: consumes ``cimbus.in``, delivers to system queues."""

    name = "embedded"

    def __init__(
        self,
        bus: Bus,
        broker: EmbeddedBroker,
        *,
        prefetch: int = 50,
        consumers: int = 1,
        store_retry: float = 1.0,
    ) -> None:
        self.bus = bus
        self.broker = broker
        #: seconds to wait before a message the store could not keep (database down) is
        #: delivered again
        self.store_retry = store_retry
        self.prefetch = prefetch
        self.n_consumers = consumers
        self.sync_reply_queue = f"cimbus.reply.{bus.worker_id}"
        self._consumers: list[Consumer] = []
        bus.register_transport(self)

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> EmbeddedTransport:
        self.broker.declare(INBOUND)
        self.broker.declare(self.sync_reply_queue)
        for i in range(self.n_consumers):
            self._consumers.append(
                self.broker.consume(
                    INBOUND, self._on_message, prefetch=self.prefetch, name=f"cimbus-in-{i}"
                )
            )
        self._consumers.append(
            self.broker.consume(
                self.sync_reply_queue, self._on_message, prefetch=self.prefetch, name="cimbus-reply"
            )
        )
        return self

    def stop(self) -> None:
        for c in self._consumers:
            c.stop()
        self._consumers.clear()

    # ---------------------------------------------------------------- inbound
    def _on_message(self, d: Delivery) -> None:
        m = d.message
        ex = self.bus.handle(
            m.body, transport=self.name, reply_to=m.reply_to, meta={"headers": m.headers}
        )
        if ex.store_failure is not None and (ex.store_down or not m.redelivered):
            # not kept (REL-1): the broker keeps it and delivers it again, after a pause when
            # the database is unreachable (not the message's fault), at once otherwise; a
            # message the store refuses twice is dead-lettered below with its FAILED reply
            if ex.store_down:
                time.sleep(self.store_retry)
            self.broker.nack(d.tag, requeue=True)
            return
        if ex.reply is not None and m.reply_to:
            env = ex.envelope
            self.broker.publish(
                m.reply_to,
                Message(
                    body=ex.reply,
                    message_id=new_message_id(),
                    correlation_id=(env.message_id if env else None) or m.message_id,
                    type=f"reply{env.noun if env else ''}",
                    headers={
                        "verb": "reply",
                        "noun": env.noun if env else "",
                        "source": self.bus.name,
                        "result": ex.result or "",
                    },
                ),
            )
        if ex.store_failure is not None:
            self.broker.reject(d.tag, f"the store failed again: {ex.store_failure}")
            return
        self.broker.ack(d.tag)

    # ---------------------------------------------------------------- outbound
    def deliver(self, delivery: OutDelivery) -> bytes | None:
        try:
            self.broker.publish(
                delivery.address,
                Message(
                    body=delivery.body,
                    message_id=delivery.message_id,
                    correlation_id=delivery.correlation_id,
                    reply_to=delivery.reply_to,
                    type=f"{delivery.verb}{delivery.noun}",
                    headers={**delivery.headers, "verb": delivery.verb, "noun": delivery.noun},
                ),
                timeout=5.0,
            )
        except QueueFull as exc:
            raise DeliveryError(str(exc)) from exc
        return None

    def reply_address(self, *, sync: bool) -> str | None:
        return self.sync_reply_queue if sync else INBOUND


class EmbeddedClient:
    """A counterpart system on the embedded bus (simulators, tests)."""

    def __init__(self, broker: EmbeddedBroker, system: str, *, queue: str | None = None) -> None:
        self.broker = broker
        self.system = system
        self.queue = queue or f"cimbus.system.{system}"
        self.reply_queue = f"client.{system}.{uuid.uuid4().hex[:8]}.reply"
        broker.declare(self.queue)
        broker.declare(self.reply_queue, dead_letter=None)
        self._lock = threading.Lock()
        self._pending: dict[str, Message] = {}
        self._consumers: list[Consumer] = []

    def request(self, body: bytes, timeout: float = 30.0) -> bytes:
        """Send to cimbus and wait for the answer whose correlation_id is this message's
        MessageID (answers to other concurrent requests of this client are kept for them)."""
        message_id = message_id_of(body) or new_message_id()
        self.broker.publish(
            INBOUND,
            Message(
                body=body,
                message_id=message_id,
                reply_to=self.reply_queue,
                headers={"source": self.system},
            ),
        )
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = self._pending.pop(message_id, None)
            if found is not None:
                return found.body
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReplyTimeout(f"no answer from cimbus to {message_id} within {timeout:g} s")
            d = self.broker.get(self.reply_queue, timeout=min(left, 0.05))
            if d is None:
                continue
            self.broker.ack(d.tag)
            if d.message.correlation_id in (message_id, None):
                return d.message.body
            with self._lock:
                self._pending[d.message.correlation_id] = d.message

    def send(self, body: bytes) -> None:
        self.broker.publish(
            INBOUND,
            Message(body=body, message_id=new_message_id(), headers={"source": self.system}),
        )

    def serve(self, handler: Handler) -> None:
        def on_message(d: Delivery) -> None:
            reply = handler(d.message.body)
            if reply is not None:
                self.broker.publish(
                    d.message.reply_to or INBOUND,
                    Message(
                        body=reply,
                        message_id=new_message_id(),
                        correlation_id=d.message.message_id,
                        headers={"source": self.system},
                    ),
                )
            self.broker.ack(d.tag)

        self._consumers.append(
            self.broker.consume(self.queue, on_message, name=f"system-{self.system}")
        )

    def close(self) -> None:
        for c in self._consumers:
            c.stop()
        self._consumers.clear()


_MESSAGE_ID = re.compile(rb"<(?:\w+:)?MessageID>\s*([^<\s]+)\s*</")


def message_id_of(body: bytes) -> str | None:
    """The Header MessageID of a message, read without parsing (first occurrence)."""
    m = _MESSAGE_ID.search(body, 0, 8192)
    return m.group(1).decode("utf-8", "replace") if m else None
