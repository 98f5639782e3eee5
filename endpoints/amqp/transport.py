"""cimbus's side of AMQP (BUS-5, BUS-7, REL-1..REL-3): consume ``cimbus.in`` and this worker's
sync reply queue, deliver to system queues with publisher confirms.

Connections and threads (pika connections are not thread-safe, so none is shared)::

    cimbus-amqp-in       BlockingConnection  consumes cimbus.in; `workers` threads run Bus.handle
    cimbus-amqp-reply    BlockingConnection  owns + consumes cimbus.reply.<worker> (exclusive)
    cimbus-amqp-publish  SelectConnection    every publish: deliveries, replies, dead letters;
                                             confirms tracked per delivery tag, in batches

Sync replies have their own connection and workers so that requests blocked waiting for their
reply (in ``cimbus-amqp-in`` workers) never stop the replies from coming in.

Per inbound delivery: ``Bus.handle`` (which records the outcome in the store; it never raises for
bad input), then the reply to the delivery's ``reply_to`` (persistent, correlation_id = the
request's MessageID) and its confirm, then ``basic_ack``. A fault inside cimbus goes through
the :mod:`~endpoints.amqp.policy` (requeue once, then dead-letter with the reason).

Batches (issue 3): events and replies on ``cimbus.in`` (which never wait for anything) go to
one batch thread instead: it takes every delivery that arrived meanwhile (at most ``batch``)
and runs them through ``Bus.handle_many`` (one store transaction for all), publishes their
replies and waits for those confirms together, then acks the batch at once. Requests, which
may be synchronous and wait for their reply, keep the per-message workers. ``batch=1`` turns
batching off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from cim_models.ids import new_message_id
from endpoints.embedded import message_id_of
from routing.envelope import EVENT_VERBS
from routing.transport import Delivery

from ._consumer import ACK, REQUEUE, ConsumerLoop, Inbound, publish_dead_letter, settle_failure
from ._publisher import Publish, Publisher, PublisherUnavailable, Unroutable
from .policy import FailurePolicy
from .properties import WireFields, header_field
from .topology import Topology

if TYPE_CHECKING:
    from routing.bus import Bus
    from routing.config import AmqpConfig

log = logging.getLogger("cimbus.amqp")


class AmqpTransport:
    """The AMQP endpoint of one cimbus worker; registers itself as the ``amqp`` Outbound."""

    name = "amqp"

    def __init__(
        self,
        bus: Bus,
        config: AmqpConfig,
        *,
        workers: int = 4,
        policy: FailurePolicy | None = None,
        max_length: int | None = None,
        publish_timeout: float = 10.0,
        backoff_cap: float = 5.0,
        batch: int = 100,
    ) -> None:
        self.bus = bus
        self.config = config
        # the policy given in code, else [amqp.on_failure] from the configuration
        self.policy = policy or FailurePolicy.from_config(config.on_failure)
        self.publish_timeout = publish_timeout
        self.backoff_cap = backoff_cap
        self.topology = Topology.for_config(
            config, bus.routes, worker_id=bus.worker_id, max_length=max_length
        )
        assert self.topology.reply_queue is not None
        self.sync_reply_queue: str = self.topology.reply_queue
        self.publisher = Publisher(
            config.url,
            topology=self.topology,
            window=config.confirm_batch,
            backoff_cap=backoff_cap,
            name=f"cimbus-amqp-publish {bus.worker_id}",
        )
        self._inbound = ConsumerLoop(
            config.url,
            [config.inbound_queue],
            self._on_message,
            topology=self.topology,
            prefetch=config.prefetch,
            workers=workers,
            name=f"cimbus-amqp-in {bus.worker_id}",
            backoff_cap=backoff_cap,
            batch_handler=self._on_batch if batch > 1 else None,
            batchable=_never_waits,
            max_batch=batch,
        )
        self._replies = ConsumerLoop(
            config.url,
            [self.sync_reply_queue],
            self._on_message,
            topology=self.topology,
            declare_exclusive=True,
            prefetch=config.prefetch,
            workers=2,
            name=f"cimbus-amqp-reply {bus.worker_id}",
            backoff_cap=backoff_cap,
        )
        bus.register_transport(self)

    # ---------------------------------------------------------------- lifecycle
    def start(self, *, wait: float = 10.0) -> AmqpTransport:
        """Connect, declare the topology, consume. Waits up to ``wait`` seconds for RabbitMQ;
        if it is not there yet, the connections keep retrying in the background."""
        self.publisher.start()
        self._replies.start()
        self._inbound.start()
        if not self.wait_ready(wait):
            log.warning("AMQP: RabbitMQ at %s not ready after %g s; retrying", self._where(), wait)
        return self

    def stop(self) -> None:
        for loop in (self._inbound, self._replies):
            loop.signal_stop()
        for loop in (self._inbound, self._replies):
            loop.join()  # drained: in-flight handlers still reply through the publisher
        self.publisher.stop()

    @property
    def ready(self) -> bool:
        return self.publisher.ready and self._inbound.ready and self._replies.ready

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for part in (self.publisher, self._replies, self._inbound):
            if not part.wait_ready(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def _where(self) -> str:
        u = urlparse(self.config.url)
        return f"{u.hostname}:{u.port or 5672}"

    # ---------------------------------------------------------------- inbound
    def _on_message(self, m: Inbound) -> str:
        meta = self._meta(m)
        try:
            ex = self.bus.handle(m.body, transport=self.name, reply_to=m.fields.reply_to, meta=meta)
            if ex.store_failure is not None:
                return self._not_kept(m, ex)
            if ex.reply is not None and m.fields.reply_to:
                self._send(m.fields.reply_to, ex.reply, self._reply_fields(m, ex))
        except PublisherUnavailable as exc:  # not the message's fault: try again later
            log.warning("AMQP: cannot answer %s now (%s); requeued", m.fields.message_id, exc)
            self.publisher.wait_ready(self.backoff_cap)
            return REQUEUE
        except Exception as exc:
            return settle_failure(
                m, exc, policy=self.policy, dead_letter=self._dead_letter, who="cimbus"
            )
        return ACK

    def _not_kept(self, m: Inbound, ex: Any) -> str:
        """cimbus could not store the message, so it must not be acked (REL-1: nothing
        accepted is lost; RabbitMQ keeps it). The database being unreachable or busy is not
        the message's fault: requeue after a pause, whatever the policy says (like the
        publisher reconnecting). Any other store failure goes through the failure policy
        (requeue once, then dead-letter with the reason); when the message is given up, the
        requester gets the FAILED reply."""
        if ex.store_down:
            log.warning(
                "AMQP: the store is unavailable (%s); %s requeued",
                type(ex.store_failure).__name__,
                m.fields.message_id,
            )
            time.sleep(min(1.0, self.backoff_cap))  # back-pressure: do not spin on requeues
            return REQUEUE
        action = settle_failure(
            m, ex.store_failure, policy=self.policy, dead_letter=self._dead_letter, who="the store"
        )
        if action != REQUEUE and ex.reply is not None and m.fields.reply_to:
            try:
                self._send(m.fields.reply_to, ex.reply, self._reply_fields(m, ex))
            except Exception as exc:  # the message itself is settled (dead-lettered)
                log.warning("AMQP: FAILED reply to %s not sent: %s", m.fields.message_id, exc)
        return action

    def _meta(self, m: Inbound) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "properties": m.fields.as_dict(),
            "redelivered": m.redelivered,
            "queue": m.queue,
            "raw": m,
        }
        if m.fields.user_id:  # RabbitMQ checked it against the connection's user
            meta["principal"] = m.fields.user_id
        return meta

    def _on_batch(self, ms: list[Inbound]) -> list[str]:
        """Several deliveries through ``Bus.handle_many`` (one store transaction), their
        replies published together; how to settle each."""
        if len(ms) == 1:  # nothing to share: the per-message path
            return [self._on_message(ms[0])]
        try:
            exs = self.bus.handle_many(
                [(m.body, m.fields.reply_to, self._meta(m)) for m in ms], transport=self.name
            )
        except Exception:  # a fault in cimbus: each delivery on its own (policy per message)
            log.exception("AMQP: batch of %d failed; handling one by one", len(ms))
            return [self._on_message(m) for m in ms]
        actions = [ACK] * len(ms)
        publishes: list[tuple[int, Publish]] = []
        paused = False
        for i, (m, ex) in enumerate(zip(ms, exs, strict=True)):
            if ex.store_failure is not None:
                if ex.store_down and paused:  # one pause per batch is enough
                    actions[i] = REQUEUE
                else:
                    actions[i] = self._not_kept(m, ex)
                    paused = paused or ex.store_down
                continue
            if ex.reply is None or not m.fields.reply_to:
                continue
            try:
                fields = self._reply_fields(m, ex)
                exchange, key = self.topology.route(m.fields.reply_to, fields.verb, fields.noun)
                props = fields.to_properties(app_id=self.bus.name)
                publishes.append((i, Publish(exchange, key, ex.reply, props)))
            except Exception as exc:
                actions[i] = settle_failure(
                    m, exc, policy=self.policy, dead_letter=self._dead_letter, who="cimbus"
                )
        if publishes:
            outcomes = self.publisher.publish_many(
                [p for _, p in publishes], timeout=self.publish_timeout
            )
            unavailable = False
            for (i, p), outcome in zip(publishes, outcomes, strict=True):
                if outcome is None:
                    continue
                if isinstance(outcome, Unroutable):  # the requester's reply queue is gone
                    log.warning(
                        "AMQP: reply %s not delivered: %s", p.properties.message_id, outcome
                    )
                elif isinstance(outcome, PublisherUnavailable):
                    log.warning(
                        "AMQP: cannot answer %s now (%s); requeued",
                        ms[i].fields.message_id,
                        outcome,
                    )
                    actions[i], unavailable = REQUEUE, True
                else:
                    actions[i] = settle_failure(
                        ms[i],
                        outcome,
                        policy=self.policy,
                        dead_letter=self._dead_letter,
                        who="cimbus",
                    )
            if unavailable:
                self.publisher.wait_ready(self.backoff_cap)
        return actions

    def _reply_fields(self, m: Inbound, ex: Any) -> WireFields:
        env = ex.envelope
        return WireFields(
            message_id=message_id_of(ex.reply) or new_message_id(),
            correlation_id=(env.message_id if env else None) or m.fields.message_id,
            verb="reply",
            noun=(env.noun if env else "") or m.fields.noun,
            source=self.bus.name,
            result=ex.result or "",
        )

    def _send(self, address: str, body: bytes, fields: WireFields) -> None:
        exchange, key = self.topology.route(address, fields.verb, fields.noun)
        try:
            self.publisher.publish(
                Publish(exchange, key, body, fields.to_properties(app_id=self.bus.name)),
                timeout=self.publish_timeout,
            )
        except Unroutable as exc:  # the requester's reply queue is gone: nobody to tell
            log.warning("AMQP: reply %s not delivered: %s", fields.message_id, exc)

    def _dead_letter(self, m: Inbound, reason: str) -> None:
        publish_dead_letter(self.publisher, self.topology, m, reason, timeout=self.publish_timeout)

    # ---------------------------------------------------------------- outbound
    def _publish_for(self, d: Delivery) -> Publish:
        fields = WireFields.from_delivery(d)
        exchange, key = self.topology.route(d.address, d.verb, d.noun)
        return Publish(exchange, key, d.body, fields.to_properties(app_id=self.bus.name))

    def deliver(self, delivery: Delivery) -> bytes | None:
        """Publish to the system's queue and wait for RabbitMQ's confirm (DeliveryError if it
        nacks, returns it as unroutable, or the connection is down)."""
        self.publisher.publish(self._publish_for(delivery), timeout=self.publish_timeout)
        return None

    def deliver_batch(self, deliveries: Sequence[Delivery]) -> list[Exception | bytes | None]:
        """Publish a batch, confirms collected in batches; per delivery None or the error."""
        outcomes = self.publisher.publish_many(
            [self._publish_for(d) for d in deliveries], timeout=self.publish_timeout
        )
        return list(outcomes)

    def reply_address(self, *, sync: bool) -> str | None:
        return self.sync_reply_queue if sync else self.config.inbound_queue


def _never_waits(m: Inbound) -> bool:
    """Events and replies go into batches; requests (which may wait for a reply) do not."""
    verb = m.fields.verb or header_field(m.body, "Verb") or ""
    return verb == "reply" or verb in EVENT_VERBS


__all__ = ["AmqpTransport"]
