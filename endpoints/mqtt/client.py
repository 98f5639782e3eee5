"""A counterpart system on MQTT: ``MqttClient(url, system)`` (the ``BusClient`` surface).

* ``request(body)`` publishes to ``<prefix>/in/<system>/<noun>[/<device>]`` with Response Topic
  ``<prefix>/client/<client_id>/reply`` and Correlation Data = the Header MessageID, and waits
  for the answer whose Correlation Data (or ``correlation_id``) is that MessageID; answers to
  other concurrent requests are kept for them.
* ``send(body)`` publishes and waits only for the broker's PUBACK.
* ``serve(handler)`` subscribes ``<prefix>/system/<system>/#`` on a session of its own (persistent
  when ``session_expiry`` > 0: reconnecting with the same ``client_id`` receives what was
  published meanwhile) and answers each message to its Response Topic; a message is
  acknowledged only after the handler ran and its answer was PUBACKed.

Requests, answers and sends are published on one connection, served messages arrive on
another: a handler that is slow (whose connection stops reading) never delays a PUBACK, and it
may itself call ``request``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from dataclasses import replace

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties

from cim_models.ids import new_message_id

from ..client import Handler, ReplyTimeout
from ..embedded import message_id_of
from ._connection import Connection
from .properties import MessageProperties
from .topics import TopicScheme

log = logging.getLogger("cimbus.mqtt.client")

KEEP_UNCLAIMED = 10_000  # answers nobody waits for (any more) kept for a late request()


class MqttClient:
    """How a system (simulator, test, script) talks to cimbus over MQTT 5."""

    def __init__(
        self,
        url: str,
        system: str,
        *,
        client_id: str | None = None,
        session_expiry: int = 0,
        topic_prefix: str = "cimbus",
        qos: int = 1,
        workers: int = 1,
        receive_maximum: int = 50,
        max_inflight: int = 100,
        timeout: float = 10.0,
        message_expiry: float | None = None,
    ) -> None:
        self.url = url
        self.system = system
        #: seconds a message this client publishes to cimbus may wait undelivered on the broker
        #: (MQTT 5 Message Expiry Interval, e.g. while cimbus's persistent session is offline):
        #: a request expires with its own reply timeout, since nobody waits for its answer
        #: afterwards (as AmqpClient's ``message_ttl``); None (default): messages never expire
        self.message_expiry = message_expiry
        self.client_id = client_id or f"{system}-{uuid.uuid4().hex[:8]}"
        self.session_expiry = session_expiry
        self.topics = TopicScheme(topic_prefix)
        self.qos = qos
        self.workers = workers
        self.receive_maximum = receive_maximum
        self.max_inflight = max_inflight
        self.timeout = timeout
        self.reply_topic = self.topics.client_reply(self.client_id)
        self._lock = threading.Lock()
        self._answers: dict[str, bytes] = {}
        self._arrived = threading.Condition(self._lock)
        self._requests: Connection | None = None
        self._serving: Connection | None = None

    # ---------------------------------------------------------------- connections
    def _request_connection(self) -> Connection:
        with self._lock:
            conn = self._requests
        if conn is not None:
            return conn
        conn = Connection(
            self.url,
            f"{self.client_id}-rq-{uuid.uuid4().hex[:6]}",
            name=f"mqtt-client-{self.client_id}",
            session_expiry=0,
            receive_maximum=self.receive_maximum,
            max_inflight=self.max_inflight,
            workers=1,
        )
        conn.on(self.reply_topic, self._on_answer, qos=self.qos)
        conn.open()
        with self._lock:
            if self._requests is None:
                self._requests = conn
                return conn
            existing = self._requests
        conn.close(drain=0)
        return existing

    def reply_address(self, noun: str) -> str:
        """A topic this client's ``serve`` handler receives: use it as Header ReplyAddress for
        asynchronous replies (cimbus publishes the reply there)."""
        return self.topics.system(self.system, noun)

    # ---------------------------------------------------------------- BusClient
    def request(self, body: bytes, timeout: float = 30.0, *, device: str | None = None) -> bytes:
        """Send to cimbus and wait for the answer correlated to this message's MessageID."""
        conn = self._request_connection()
        message_id = message_id_of(body) or new_message_id()
        props = MessageProperties.from_body(
            body, response_topic=self.reply_topic, correlation_data=message_id.encode()
        )
        topic = self.topics.inbound(self.system, props.noun or "Unknown", device)
        deadline = time.monotonic() + timeout
        conn.publish_and_confirm(
            topic,
            body,
            self._expiring(props.to_mqtt(), timeout if self.message_expiry is not None else None),
            qos=self.qos,
            timeout=min(timeout, self.timeout),
        )
        with self._arrived:
            if not self._arrived.wait_for(
                lambda: message_id in self._answers, deadline - time.monotonic()
            ):
                raise ReplyTimeout(f"no answer from cimbus to {message_id} within {timeout:g} s")
            return self._answers.pop(message_id)

    def send(self, body: bytes, *, device: str | None = None, expires: bool = True) -> None:
        """Publish to cimbus; returns once the broker has it (PUBACK). ``expires`` False: no
        ``message_expiry`` for this one (as AmqpClient.send)."""
        conn = self._request_connection()
        props = MessageProperties.from_body(body)
        topic = self.topics.inbound(self.system, props.noun or "Unknown", device)
        conn.publish_and_confirm(
            topic,
            body,
            self._expiring(props.to_mqtt(), self.message_expiry if expires else None),
            qos=self.qos,
            timeout=self.timeout,
        )

    @staticmethod
    def _expiring(props: Properties, seconds: float | None) -> Properties:
        """``props`` with a Message Expiry Interval of ``seconds`` (whole seconds, at least 1)."""
        if seconds is not None:
            props.MessageExpiryInterval = max(1, math.ceil(seconds))
        return props

    def serve(self, handler: Handler) -> None:
        """Answer what cimbus sends to this system (requests, events, async replies). Calling
        it again replaces the handler."""
        topic = self.topics.system_filter(self.system)
        with self._lock:
            conn = self._serving
        if conn is not None:
            conn.subscribe(topic, lambda m: self._serve_one(handler, m), qos=self.qos)
            return
        conn = Connection(
            self.url,
            self.client_id,
            name=f"mqtt-system-{self.system}",
            session_expiry=self.session_expiry,
            receive_maximum=self.receive_maximum,
            max_inflight=self.max_inflight,
            workers=self.workers,
        )
        conn.on(topic, lambda m: self._serve_one(handler, m), qos=self.qos)
        conn.open()
        with self._lock:
            self._serving = conn

    def close(self) -> None:
        with self._lock:
            conns = [c for c in (self._serving, self._requests) if c is not None]
            self._serving = self._requests = None
        for conn in conns:
            conn.close()

    def __enter__(self) -> MqttClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- internals
    def _on_answer(self, message: mqtt.MQTTMessage) -> None:
        props = MessageProperties.from_mqtt(message.properties)
        key = props.correlation_key
        if key is None:
            key = MessageProperties.from_body(message.payload).correlation_id
        if key is None:
            log.warning("%s: answer without correlation on %s dropped", self.system, message.topic)
            return
        with self._arrived:
            self._answers[key] = message.payload
            while len(self._answers) > KEEP_UNCLAIMED:
                self._answers.pop(next(iter(self._answers)))
            self._arrived.notify_all()

    def _serve_one(self, handler: Handler, message: mqtt.MQTTMessage) -> None:
        reply = handler(message.payload)
        if reply is None:
            return
        asked = MessageProperties.from_mqtt(message.properties)
        request_id = asked.message_id or message_id_of(message.payload)
        answer = MessageProperties.from_body(reply)
        answer = replace(
            answer,
            correlation_data=asked.correlation_data
            if asked.correlation_data is not None
            else (request_id.encode() if request_id else None),
        )
        topic = asked.response_topic or self.topics.inbound(
            self.system, answer.noun or asked.noun or "Unknown"
        )
        # PUBACKed before the request is acknowledged: a crash in between re-delivers the
        # request (answered again, de-duplicated by cimbus) instead of losing the answer.
        self._request_connection().publish_and_confirm(
            topic,
            reply,
            answer.to_mqtt(),
            qos=self.qos,
            timeout=self.timeout,
            require_subscriber=False,
        )
