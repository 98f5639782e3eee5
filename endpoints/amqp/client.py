"""A counterpart system on RabbitMQ (simulators, tests, integrators' scripts): the
:class:`endpoints.client.BusClient` surface over AMQP.

* ``request(body)`` publishes to ``cimbus.in`` (exchange ``cimbus``, routing key
  ``cimbus.in.<verb>.<noun>``) with ``reply_to`` = this client's exclusive reply queue and
  waits for the answer whose ``correlation_id`` is the message's Header MessageID;
* ``send(body)`` publishes without waiting;
* ``serve(handler)`` consumes ``cimbus.system.<system>`` and publishes each handler reply to the
  delivery's ``reply_to`` (``cimbus.in`` when there is none) with ``correlation_id`` = the
  request's ``message_id``, then acks. A handler that raises goes through the same
  :mod:`~endpoints.amqp.policy` as cimbus (requeue once, then dead-letter with the reason).

Every publish waits for RabbitMQ's confirm; a client declares the shared part of the topology
(same arguments as cimbus), so it can start before cimbus and nothing it sends is unroutable.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from cim_models.ids import new_message_id
from endpoints.embedded import message_id_of

from ..client import Handler, ReplyTimeout
from ._consumer import ACK, REQUEUE, ConsumerLoop, Inbound, publish_dead_letter, settle_failure
from ._publisher import Publish, Publisher, PublisherUnavailable, Unroutable
from .policy import FailurePolicy
from .properties import WireFields
from .topology import QueueSpec, Topology

if TYPE_CHECKING:
    from routing.config import AmqpConfig

log = logging.getLogger("cimbus.amqp.client")


class AmqpClient:
    """A system talking to cimbus over RabbitMQ."""

    def __init__(
        self,
        url: str,
        system: str,
        *,
        queue: str | None = None,
        exchange: str = "cimbus",
        inbound: str = "cimbus.in",
        dead_letter_exchange: str = "cimbus.dlx",
        prefetch: int = 50,
        workers: int = 1,
        policy: FailurePolicy | None = None,
        max_length: int | None = None,
        publish_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        message_ttl: float | None = None,
        serves: bool = True,
    ) -> None:
        self.url = url
        self.serves = serves
        #: seconds a message this client publishes to cimbus may wait unconsumed (RabbitMQ
        #: per-message ``expiration``): a request expires with its own reply timeout, since
        #: nobody waits for its answer afterwards; None (default): messages never expire
        self.message_ttl = message_ttl
        self.system = system
        self.queue = queue or f"cimbus.system.{system}"
        self.prefetch = prefetch
        self.workers = workers
        self.policy = policy or FailurePolicy()
        self.publish_timeout = publish_timeout
        self.topology = Topology.build(
            exchange=exchange,
            dead_letter_exchange=dead_letter_exchange,
            inbound=inbound,
            # a client that only sends (``serves=False``: ``cimbus send``) declares no durable
            # queue of its own: sending as a system cimbus does not know must not leave one
            systems=[(system, self.queue)] if serves else [],
            max_length=max_length,
        )
        self.reply_queue = f"client.{system}.{uuid.uuid4().hex[:8]}.reply"
        self.publisher = Publisher(
            url, topology=self.topology, name=f"cimbus-client {system} publish"
        ).start()
        self.publisher.wait_ready(connect_timeout)
        self._cond = threading.Condition()
        self._waiting: set[str] = set()
        self._answers: dict[str | None, bytes] = {}
        self._replies: ConsumerLoop | None = None
        self._start_lock = threading.Lock()
        self._loops: list[ConsumerLoop] = []

    @classmethod
    def for_config(cls, config: AmqpConfig, system: str, **kwargs: Any) -> AmqpClient:
        """A client using the names of a cimbus [amqp] configuration."""
        return cls(
            config.url,
            system,
            exchange=config.exchange,
            inbound=config.inbound_queue,
            dead_letter_exchange=config.dead_letter_exchange,
            **kwargs,
        )

    # ---------------------------------------------------------------- requests
    def request(self, body: bytes, timeout: float = 30.0) -> bytes:
        """Send to cimbus and wait for the answer correlated with this message's MessageID
        (answers to this client's other concurrent requests are kept for them)."""
        deadline = time.monotonic() + timeout
        self._ensure_replies(timeout)
        message_id = message_id_of(body) or new_message_id()
        with self._cond:
            self._waiting.add(message_id)
        try:
            self._publish_in(
                body,
                message_id=message_id,
                reply_to=self.reply_queue,
                ttl=timeout if self.message_ttl is not None else None,
            )
            with self._cond:
                while True:
                    for key in (message_id, None):
                        if key in self._answers:
                            return self._answers.pop(key)
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise ReplyTimeout(
                            f"no answer from cimbus to {message_id} within {timeout:g} s"
                        )
                    self._cond.wait(left)
        finally:
            with self._cond:
                self._waiting.discard(message_id)

    def send(self, body: bytes, *, expires: bool = True) -> None:
        """Publish to cimbus (confirmed by RabbitMQ) without waiting for cimbus's answer.
        ``expires`` False: no ``message_ttl`` for this one (a reply to cimbus is still useful
        when cimbus comes back: it is recorded as late, not lost)."""
        self._publish_in(
            body,
            message_id=message_id_of(body) or new_message_id(),
            reply_to=None,
            ttl=self.message_ttl if expires else None,
        )

    def _publish_in(
        self, body: bytes, *, message_id: str, reply_to: str | None, ttl: float | None = None
    ) -> None:
        fields = WireFields.from_body(body, message_id=message_id, reply_to=reply_to)
        if not fields.source:
            fields = replace(fields, source=self.system)
        self.publisher.wait_ready(self.publish_timeout)
        exchange, key = self.topology.route(self.topology.inbound, fields.verb, fields.noun)
        properties = fields.to_properties(app_id=self.system)
        if ttl is not None:
            properties.expiration = str(max(1, int(ttl * 1000)))
        self.publisher.publish(
            Publish(exchange, key, body, properties), timeout=self.publish_timeout
        )

    def _ensure_replies(self, timeout: float) -> None:
        with self._start_lock:
            if self._replies is None:
                self._replies = self._reply_loop().start()
        if not self._replies.wait_ready(timeout):
            raise PublisherUnavailable(f"cannot consume {self.reply_queue} on RabbitMQ")

    def _reply_loop(self) -> ConsumerLoop:
        spec = QueueSpec(
            self.reply_queue,
            f"answers to {self.system}'s requests",
            durable=False,
            exclusive=True,
            auto_delete=True,
            bound=False,
        )
        return ConsumerLoop(
            self.url,
            [self.reply_queue],
            self._on_answer,
            topology=Topology.build(
                exchange=self.topology.exchange,
                dead_letter_exchange=self.topology.dead_letter_exchange,
                inbound=self.topology.inbound,
            ).with_queue(spec),
            declare_exclusive=True,
            prefetch=self.prefetch,
            name=f"cimbus-client {self.system} replies",
        )

    def _on_answer(self, m: Inbound) -> str:
        key = m.fields.correlation_id
        with self._cond:
            if key is None or key in self._waiting:
                self._answers[key] = m.body
                self._cond.notify_all()
            else:
                log.debug("%s: answer to %s arrived after its request gave up", self.system, key)
        return ACK

    # ---------------------------------------------------------------- serving
    def serve(self, handler: Handler) -> None:
        """Answer what cimbus routes to this system, on ``workers`` threads."""
        if not self.serves:
            raise RuntimeError(f"{self.system}: this client only sends (made with serves=False)")
        loop = ConsumerLoop(
            self.url,
            [self.queue],
            partial(self._serve_one, handler),
            topology=self.topology,
            prefetch=self.prefetch,
            workers=self.workers,
            name=f"cimbus-client {self.system} serve",
        ).start()
        self._loops.append(loop)
        if not loop.wait_ready(self.publish_timeout):
            log.warning(
                "%s: not consuming %s yet (RabbitMQ not ready); retrying", self.system, self.queue
            )

    def _serve_one(self, handler: Handler, m: Inbound) -> str:
        try:
            reply = handler(m.body)
        except Exception as exc:
            return settle_failure(
                m, exc, policy=self.policy, dead_letter=self._dead_letter, who=self.system
            )
        if reply is None:
            return ACK
        to = m.fields.reply_to or self.topology.inbound
        fields = WireFields.from_body(reply, correlation_id=m.fields.message_id)
        fields = replace(
            fields,
            message_id=fields.message_id or new_message_id(),
            source=fields.source or self.system,
        )
        exchange, key = self.topology.route(to, fields.verb, fields.noun)
        try:
            self.publisher.publish(
                Publish(exchange, key, reply, fields.to_properties(app_id=self.system)),
                timeout=self.publish_timeout,
            )
        except Unroutable as exc:
            log.warning("%s: reply to %s not delivered: %s", self.system, to, exc)
        except PublisherUnavailable as exc:
            log.warning("%s: cannot reply now (%s); requeued", self.system, exc)
            self.publisher.wait_ready(5.0)
            return REQUEUE
        except Exception as exc:
            return settle_failure(
                m, exc, policy=self.policy, dead_letter=self._dead_letter, who=self.system
            )
        return ACK

    def _dead_letter(self, m: Inbound, reason: str) -> None:
        publish_dead_letter(self.publisher, self.topology, m, reason, timeout=self.publish_timeout)

    def close(self) -> None:
        loops = [*self._loops, *([self._replies] if self._replies else [])]
        for loop in loops:
            loop.signal_stop()
        for loop in loops:
            loop.join()
        self._loops.clear()
        self._replies = None
        self.publisher.stop()

    def __enter__(self) -> AmqpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["AmqpClient"]
