"""cimbus's side of MQTT (BUS-6, BUS-7, REL-1, REL-3): ``MqttTransport(bus, config)``.

Three MQTT 5 connections, each with its own paho network thread:

* **inbound** (client id ``[mqtt] client_id``, persistent session: clean start off, Session
  Expiry 7 days): subscribes ``<prefix>/in/#`` at QoS 1. Each message goes through
  :meth:`routing.bus.Bus.handle` on a worker thread (``consumers`` of them); the answer
  (reply, acknowledgement or FAILED) is published to the message's Response Topic with its
  Correlation Data echoed; then, and only then, the message is acknowledged (PUBACK). While
  cimbus is down, the broker keeps what systems send in this session.
* **sync replies** (client id ``<client_id>-<worker_id>-r``, clean session): subscribes
  ``<prefix>/reply/<worker_id>``, where systems answer requests this process waits for. It is
  separate so that those replies get through even when every inbound slot is taken by
  requests waiting for exactly those replies.
* **outbound** (client id ``<client_id>-<worker_id>-o``, clean session, receives nothing):
  publishes what the core delivers to systems (``deliver`` / ``deliver_batch``: QoS 1, at most
  ``[mqtt] max_inflight`` unacknowledged, each confirmed by its PUBACK) and the answers to
  inbound messages. Its network thread never waits for slow consumers, so PUBACKs always get
  through.

The receiving connections stop reading when their workers fall behind (bounded inbox): the
broker keeps the rest. See ``_connection`` and docs/mqtt.md.

A broker that is not there is not an error (REL-1), at start as later: :meth:`MqttTransport.start`
waits up to ``connect_timeout`` seconds, logs a warning if the connections are not ready by then
and returns; paho's network threads keep trying with backoff (0.1 s up to 5 s), subscribe once
connected (the inbound session is persistent) and after every reconnect. Meanwhile a delivery
fails at once with :class:`MqttUnavailable` (a :class:`~routing.transport.TransportUnavailable`:
nothing was sent, no attempt of the message), so the outbox keeps it until the broker is back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from routing.config import MqttConfig
from routing.transport import Delivery, DeliveryError, PermanentDeliveryError

from ._connection import RECONNECT_DELAYS, Connection, MqttUnavailable, confirm_all
from .properties import MessageProperties
from .topics import TopicScheme

if TYPE_CHECKING:
    from routing.bus import Bus


class NotKept(RuntimeError):
    """cimbus could not store an inbound message because the database is unavailable: it is
    not acknowledged; the connection's worker tries it again, with backoff, until the store
    is back (``transient``) or cimbus stops (then the broker delivers it again)."""

    transient = True


log = logging.getLogger("cimbus.mqtt")

SESSION_EXPIRY = 7 * 24 * 3600  # seconds the broker keeps cimbus's session while it is away


class MqttTransport:
    """cimbus's MQTT endpoint: inbound ``<prefix>/in/#`` into the bus, outbound to system topics."""

    name = "mqtt"

    def __init__(
        self,
        bus: Bus,
        config: MqttConfig,
        *,
        consumers: int = 4,
        receive_maximum: int | None = None,
        session_expiry: int = SESSION_EXPIRY,
        publish_timeout: float = 10.0,
        require_subscriber: bool = True,
        connect_timeout: float = 10.0,
    ) -> None:
        self.bus = bus
        self.config = config
        self.topics = TopicScheme(config.topic_prefix)
        self.qos = config.qos
        self.publish_timeout = publish_timeout
        self.require_subscriber = require_subscriber
        self.connect_timeout = connect_timeout
        self.sync_reply_topic = self.topics.reply(bus.worker_id)
        self.inbound = Connection(
            config.url,
            config.client_id,
            name=f"mqtt-{config.client_id}",
            session_expiry=session_expiry,
            receive_maximum=receive_maximum or config.max_inflight,
            max_inflight=config.max_inflight,
            workers=consumers,
            connect_timeout=connect_timeout,
        )
        self.replies = Connection(
            config.url,
            f"{config.client_id}-{bus.worker_id}-r",
            name=f"mqtt-{config.client_id}-reply",
            session_expiry=0,
            receive_maximum=config.max_inflight,
            max_inflight=config.max_inflight,
            workers=2,
            connect_timeout=connect_timeout,
        )
        self.outbound = Connection(
            config.url,
            f"{config.client_id}-{bus.worker_id}-o",
            name=f"mqtt-{config.client_id}-out",
            session_expiry=0,
            receive_maximum=1,
            max_inflight=config.max_inflight,
            workers=0,
            connect_timeout=connect_timeout,
        )
        self.inbound.on(self.topics.inbound_filter, self._on_message, qos=self.qos)
        self.replies.on(self.sync_reply_topic, self._on_message, qos=self.qos)
        bus.register_transport(self)

    # ---------------------------------------------------------------- lifecycle
    @property
    def connections(self) -> tuple[Connection, Connection, Connection]:
        return (self.outbound, self.replies, self.inbound)

    def start(self, *, wait: float | None = None) -> MqttTransport:
        """Connect, the inbound session last (once what it needs is there, or ``wait`` is
        over). Waits up to ``wait`` seconds (default ``connect_timeout``) in all; a broker
        that is not reachable by then is logged and the connections keep trying in the
        background. Only a broker that answers and refuses a subscription (an ACL) fails."""
        wait = self.connect_timeout if wait is None else wait
        deadline = time.monotonic() + wait
        self.outbound.start()
        self.replies.start()
        # the inbound session once what it needs is there, or at once when the broker is down
        while not (self.outbound.ready and self.replies.ready) and time.monotonic() < deadline:
            if self.outbound.last_error or self.replies.last_error:
                break
            time.sleep(0.02)
        self.inbound.start()
        if not self.wait_ready(max(0.0, deadline - time.monotonic())):
            refused = [c.subscribe_error for c in self.connections if c.subscribe_error]
            if refused:
                self.stop()
                raise ConnectionError(f"MQTT: {'; '.join(refused)}")
            why = next((c.last_error for c in self.connections if c.last_error), None)
            log.warning(
                "MQTT: broker %s not ready after %g s (%s); starting anyway, reconnecting in "
                "the background with backoff (%g s up to %g s); deliveries to MQTT systems wait "
                "in the outbox, systems' messages in cimbus's session on the broker",
                self.inbound.address,
                wait,
                why or "connecting",
                *RECONNECT_DELAYS,
            )
        return self

    @property
    def ready(self) -> bool:
        """All three connections are up and subscribed."""
        return all(c.ready for c in self.connections)

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        return all(c.wait_ready(max(0.0, deadline - time.monotonic())) for c in self.connections)

    def stop(self) -> None:
        """Stop taking messages first, then let the last answers and deliveries be PUBACKed."""
        for conn in self.connections:
            if not conn.connected:  # still trying to connect: all of them stop at once
                conn.stop_connecting()
        self.inbound.close(drain=0)
        self.replies.close(drain=0)
        self.outbound.close()

    def __enter__(self) -> MqttTransport:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- inbound
    def _on_message(self, message: mqtt.MQTTMessage) -> None:
        """One message from a system (worker thread): bus, answer, then (caller) PUBACK."""
        props = MessageProperties.from_mqtt(message.properties)
        where = self.topics.parse(message.topic)
        meta = {
            "raw": message,
            "mqtt": {
                "topic": message.topic,
                "qos": message.qos,
                "redelivered": bool(message.dup),
                "kind": where.kind,
                "party": where.party,
                "noun": where.noun,
                "device": where.device,
                **props.as_meta(),
            },
        }
        ex = self.bus.handle(
            message.payload, transport=self.name, reply_to=props.response_topic, meta=meta
        )
        if ex.store_down:
            # not kept (REL-1): no PUBACK, so the broker keeps the message; the worker tries it
            # again with backoff until the database is back
            raise NotKept(
                f"the store is unavailable ({type(ex.store_failure).__name__}); "
                f"message on {message.topic} not acknowledged"
            )
        if ex.reply is None:
            return
        if not props.response_topic:
            if ex.result == "FAILED":
                log.warning(
                    "FAILED answer to a message on %s has no Response Topic to go to: %s",
                    message.topic,
                    ex.outcome,
                )
            return
        env = ex.envelope
        request_id = (env.message_id if env else None) or props.message_id
        answer = MessageProperties.from_body(ex.reply)
        answer = replace(
            answer,  # the properties repeat the answer's Header; a FaultMessage has none
            verb=answer.verb or "reply",
            noun=answer.noun or (env.noun if env else None) or None,
            correlation_id=answer.correlation_id or request_id,
            correlation_data=props.correlation_data
            if props.correlation_data is not None
            else (request_id.encode() if request_id else None),
        )
        try:
            # Not waiting for this PUBACK: paho re-sends it after a reconnect, and a caller
            # that never sees it retries and gets the stored reply (de-duplication).
            self.outbound.publish(
                props.response_topic,
                ex.reply,
                answer.to_mqtt(),
                qos=self.qos,
                timeout=self.publish_timeout,
            )
        except DeliveryError as exc:
            log.warning("answer to %s not sent to %s: %s", request_id, props.response_topic, exc)

    # ---------------------------------------------------------------- outbound
    def topic_for(self, delivery: Delivery) -> str:
        """Where a delivery goes: ``<system address>/<noun>[/<device>]`` for requests and
        events sent to a system (its address is a topic prefix, default
        ``<prefix>/system/<name>``); an exact topic for replies (a Response Topic or an MQTT
        ReplyAddress, also written ``mqtt://host/topic``)."""
        address = delivery.address
        if address.startswith(("mqtt://", "mqtts://")):
            return urlparse(address).path.lstrip("/")
        if delivery.verb == "reply" or address != delivery.system.address:
            return address
        return self.topics.under(address, delivery.noun, delivery.headers.get("device"))

    def _properties(self, delivery: Delivery) -> MessageProperties:
        """The properties of a delivery: a request or event asks for its answer at
        ``reply_to`` and sends its MessageID as Correlation Data; a reply (forwarded unchanged)
        repeats its own Header and echoes its CorrelationID."""
        if delivery.verb == "reply":
            header = MessageProperties.from_body(delivery.body)
            correlation_id = header.correlation_id or delivery.correlation_id
            return replace(
                header,
                message_id=header.message_id or delivery.message_id,
                correlation_id=correlation_id,
                verb="reply",
                noun=header.noun or delivery.noun or None,
                correlation_data=correlation_id.encode() if correlation_id else None,
            )
        return MessageProperties(
            message_id=delivery.message_id,
            correlation_id=delivery.correlation_id,
            verb=delivery.verb or None,
            noun=delivery.noun or None,
            source=delivery.headers.get("source"),
            response_topic=delivery.reply_to,
            correlation_data=delivery.message_id.encode() if delivery.message_id else None,
        )

    def deliver(self, delivery: Delivery) -> bytes | None:
        """Publish at QoS 1 and wait for the PUBACK (DeliveryError if it does not come or
        refuses; PermanentDeliveryError for a publish that can never succeed; MqttUnavailable
        at once, nothing sent, while not connected to the broker)."""
        self.outbound.check_connected()
        topic = self.topic_for(delivery)
        self.outbound.publish_and_confirm(
            topic,
            delivery.body,
            self._properties(delivery).to_mqtt(),
            qos=self.qos,
            timeout=self.publish_timeout,
            require_subscriber=self.require_subscriber,
        )
        return None

    def deliver_batch(self, deliveries: Sequence[Delivery]) -> list[Exception | bytes | None]:
        """Pipelined: publish them all (at most ``max_inflight`` unacknowledged at a time),
        then collect the PUBACKs. Per delivery: None (delivered) or the exception (all
        :class:`MqttUnavailable` while not connected: nothing is sent)."""
        try:
            self.outbound.check_connected()
        except MqttUnavailable as exc:
            return [MqttUnavailable(str(exc)) for _ in deliveries]
        published: list[tuple[mqtt.MQTTMessageInfo, str] | Exception] = []
        stalled: DeliveryError | None = None
        for d in deliveries:
            if stalled is not None:
                published.append(DeliveryError(f"not sent: {stalled}"))
                continue
            topic = self.topic_for(d)
            try:
                info = self.outbound.publish(
                    topic,
                    d.body,
                    self._properties(d).to_mqtt(),
                    qos=self.qos,
                    timeout=self.publish_timeout,
                )
                published.append((info, topic))
            except PermanentDeliveryError as exc:
                published.append(exc)
            except DeliveryError as exc:
                stalled = exc
                published.append(exc)
        outcomes = confirm_all(
            self.outbound,
            published,
            timeout=self.publish_timeout,
            require_subscriber=self.require_subscriber,
        )
        return list(outcomes)

    def reply_address(self, *, sync: bool) -> str | None:
        """``<prefix>/reply/<worker_id>`` for a reply this process waits for, else
        ``<prefix>/in`` (any cimbus process takes it from its persistent session)."""
        return self.sync_reply_topic if sync else self.topics.inbound_root
