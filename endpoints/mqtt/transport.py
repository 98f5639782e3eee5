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
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from routing.config import MqttConfig
from routing.transport import Delivery, DeliveryError, PermanentDeliveryError

from ._connection import Connection, confirm_all
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
    def start(self) -> MqttTransport:
        """Connect; the inbound session last, once everything it needs is there."""
        opened: list[Connection] = []
        try:
            for conn in (self.outbound, self.replies, self.inbound):
                conn.open()
                opened.append(conn)
        except Exception:
            for conn in reversed(opened):
                conn.close(drain=0)
            raise
        return self

    def stop(self) -> None:
        """Stop taking messages first, then let the last answers and deliveries be PUBACKed."""
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
        refuses; PermanentDeliveryError for a publish that can never succeed)."""
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
        then collect the PUBACKs. Per delivery: None (delivered) or the exception."""
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
