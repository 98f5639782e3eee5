"""One MQTT 5 connection with the guarantees cimbus needs (BUS-6, REL-1, REL-3).

Both sides (``MqttTransport`` for cimbus, ``MqttClient`` for the systems) use it:

* **paho's network loop** runs in its own thread (``loop_start``) and only moves bytes: its
  ``on_message`` puts the message into a bounded :class:`_Inbox` and returns.
* **manual acks, after processing**: paho runs with ``manual_ack=True``; a worker thread
  takes the message from the inbox, runs the handler (``Bus.handle``), and only then sends the
  PUBACK (``client.ack``). A crash before that leaves the message unacknowledged in the
  broker's session, which delivers it again when the client reconnects (de-duplicated by
  MessageID). A message received on an earlier connection is not acked on a later one: the
  broker has already re-sent it.
* **receive-side back-pressure**: the client announces a *Receive Maximum* (CONNECT property)
  and the inbox holds that many messages. A broker that honours it never has more
  unacknowledged messages in flight to this client, and keeps the rest queued in the session
  (which is why the broker must not cap its queues, see deploy/mosquitto/cimbus.conf). A broker
  that overruns it (Mosquitto 2.0.11 does under continuous flow) finds the inbox full:
  ``on_message`` then waits, paho stops reading the socket and TCP flow control holds the
  broker back. Memory stays bounded either way and nothing is dropped. Because a waiting
  network thread also delays that connection's PUBACKs, a connection that receives work never
  publishes anything that must be confirmed: the transport and the client publish on a
  connection of their own.
* **send-side flow control**: at most ``max_inflight`` publishes wait for their PUBACK (a
  window, also capped by the broker's Receive Maximum from CONNACK); a publisher blocks when
  it is full and gets :class:`~routing.transport.DeliveryError` if it stays full.
* **PUBACK reason codes** are checked: failures (>= 0x80) and "no matching subscribers" (the
  broker would discard the message) are delivery errors, so the outbox retries them.
* **connecting never gives up**: paho's network thread tries the first connection, and every
  reconnection after a drop, with backoff (0.1 s doubling up to 5 s) until the broker answers;
  each successful CONNACK subscribes again what :meth:`Connection.on` registered (a persistent
  session also keeps them). A series of failed attempts is logged once, with its reason
  ("Connection refused", "Name or service not known", the broker's CONNACK refusal), and the
  connection that ends it once more. :meth:`Connection.open` (a system's client) still fails
  after ``connect_timeout``; :meth:`Connection.start` (cimbus's transport) does not wait at all.
  While not connected, :meth:`Connection.check_connected` raises :class:`MqttUnavailable`.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from routing.transport import DeliveryError, PermanentDeliveryError, TransportUnavailable

log = logging.getLogger("cimbus.mqtt")
SESSION_TAKEN_OVER = 0x8E  # MQTT 5 DISCONNECT reason: another connection took the session

Handler = Callable[[mqtt.MQTTMessage], None]

#: PUBACK reason codes that will never succeed as sent (dead-letter at once)
PERMANENT = {0x87, 0x90, 0x99}  # not authorised, topic name invalid, payload format invalid
NO_MATCHING_SUBSCRIBERS = 0x10
RETRY_DELAYS = (0.2, 1.0, 3.0)  # a failing handler is retried, then left unacknowledged
#: a handler failing with an exception marked ``transient = True`` (cimbus's store is down: not
#: the message's fault) is retried until it works or the connection stops, with this backoff:
#: leaving it unacknowledged would hold it until the next reconnect, however long that is
TRANSIENT_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)
#: waits between connection attempts: the first, doubled after each failure up to the second
#: (paho's reconnect_delay_set; reset by a successful CONNACK), as the AMQP transport does
RECONNECT_DELAYS = (0.1, 5.0)


class MqttUnavailable(TransportUnavailable):
    """Not connected to the MQTT broker (the connection keeps trying to reconnect): the
    delivery was not attempted and nothing was sent, so it is no attempt of the message; the
    outbox keeps it and tries again (REL-1)."""


def describe_error(exc: BaseException | None) -> str:
    """Why a connection attempt failed, never an empty string ("Connection refused",
    "Name or service not known", "TimeoutError")."""
    if exc is None:
        return "no answer"
    text = getattr(exc, "strerror", None) or str(exc)
    return text if text else type(exc).__name__


def set_tcp_nodelay(client: mqtt.Client, userdata: object, sock: object) -> None:
    """paho's ``on_socket_open``, before the CONNECT is written: TCP_NODELAY on the socket.

    Under Nagle's algorithm a packet written while the connection's previous one (a PUBACK) is
    not yet acknowledged by TCP waits for the peer's delayed ACK, 40 ms on Linux: a request and
    its answer took ~88 ms, ~4 ms with TCP_NODELAY here and on the broker (Mosquitto
    ``set_tcp_nodelay true``; bench/bench_mqtt_latency.py, docs/mqtt.md "Latency"). pika sets
    it for AMQP."""
    setsockopt = getattr(sock, "setsockopt", None)  # a TCP socket, or TLS over one
    if setsockopt is not None:
        with contextlib.suppress(OSError):  # not TCP (a Unix socket): nothing to switch off
            setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Client(mqtt.Client):
    """paho's client, remembering why its last connection attempt failed: paho's own retry
    loop (``loop_forever(retry_first_connection=True)``) swallows the ``OSError`` and calls
    ``on_connect_fail`` without it."""

    last_error: OSError | None = None

    def reconnect(self) -> mqtt.MQTTErrorCode:
        try:
            return super().reconnect()
        except OSError as exc:
            self.last_error = exc
            raise


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> BrokerAddress:
        """``mqtt://[user[:password]@]host[:port]`` (1883), ``mqtts://...`` (TLS, 8883)."""
        u = urlparse(url)
        if u.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"MQTT url {url!r} must start with mqtt:// or mqtts://")
        tls = u.scheme in ("mqtts", "ssl")
        return cls(
            host=u.hostname or "127.0.0.1",
            port=u.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(u.username) if u.username else None,
            password=unquote(u.password) if u.password else None,
        )

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


class _Window:
    """At most ``limit`` publishes awaiting their PUBACK."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._cond = threading.Condition()

    def acquire(self, timeout: float) -> bool:
        with self._cond:
            if not self._cond.wait_for(lambda: self.used < self.limit, timeout):
                return False
            self.used += 1
            return True

    def release(self) -> None:
        with self._cond:
            self.used = max(0, self.used - 1)
            self._cond.notify()

    def resize(self, limit: int) -> None:
        with self._cond:
            self.limit = max(1, limit)
            self._cond.notify_all()


class _Inbox:
    """The bounded hand-off from paho's network thread to the worker threads."""

    def __init__(self, conn: Connection, capacity: int, workers: int) -> None:
        self.conn = conn
        self.queue: queue.Queue[tuple[int, mqtt.MQTTMessage, Handler] | None] = queue.Queue(
            maxsize=capacity
        )
        self.threads = [  # none for a connection that only publishes
            threading.Thread(target=self._run, name=f"{conn.name}-worker-{i}", daemon=True)
            for i in range(workers)
        ]
        self.stopping = threading.Event()

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def put(self, item: tuple[int, mqtt.MQTTMessage, Handler]) -> None:
        # Never drop: the Receive Maximum keeps this from blocking; if a broker ignores it,
        # waiting here stops paho reading the socket, which is back-pressure too.
        warned = False
        while True:
            try:
                self.queue.put(item, timeout=1.0)
                return
            except queue.Full:
                if self.stopping.is_set():
                    return  # not acked: redelivered on the next connection
                if not warned:
                    log.warning("%s: inbox full; holding the network thread", self.conn.name)
                    warned = True

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            generation, message, handler = item
            if self.stopping.is_set():
                continue  # not handled, not acked: the broker delivers it again
            if self._handle(message, handler):
                self.conn.ack(generation, message)

    def _handle(self, message: mqtt.MQTTMessage, handler: Handler) -> bool:
        attempt = transient = 0
        while True:
            try:
                handler(message)
                return True
            except Exception as exc:
                if getattr(exc, "transient", False):
                    delay: float | None = TRANSIENT_DELAYS[
                        min(transient, len(TRANSIENT_DELAYS) - 1)
                    ]
                    if transient == 0:
                        log.warning("%s: %s; retrying until it works", self.conn.name, exc)
                    transient += 1
                else:
                    log.exception(
                        "%s: handling a message from %s failed (attempt %d)",
                        self.conn.name,
                        message.topic,
                        attempt + 1,
                    )
                    delay = RETRY_DELAYS[attempt] if attempt < len(RETRY_DELAYS) else None
                    attempt += 1
            if delay is None or self.stopping.wait(delay):
                break
        log.error(
            "%s: message %d from %s left unacknowledged; the broker redelivers it on the "
            "next connection",
            self.conn.name,
            message.mid,
            message.topic,
        )
        return False

    def stop(self) -> None:
        self.stopping.set()
        for _ in self.threads:  # workers skip what is left, so there is room soon
            with contextlib.suppress(queue.Full):
                self.queue.put(None, timeout=2.0)
        for t in self.threads:
            t.join(timeout=5)


class Connection:
    """A paho MQTT 5 client with manual acks, a bounded inbox and a publish window."""

    def __init__(
        self,
        url: str,
        client_id: str,
        *,
        name: str | None = None,
        session_expiry: int = 0,
        receive_maximum: int = 100,
        max_inflight: int = 100,
        workers: int = 1,
        keepalive: int = 60,
        connect_timeout: float = 10.0,
    ) -> None:
        self.address = BrokerAddress.from_url(url)
        self.client_id = client_id
        self.name = name or client_id
        self.session_expiry = session_expiry
        self.persistent = session_expiry > 0
        self.receive_maximum = receive_maximum
        self.max_inflight = max_inflight
        self.keepalive = keepalive
        self.connect_timeout = connect_timeout
        self.generation = 0  # bumped on every CONNACK
        self.session_present = False
        self.subscriptions: dict[str, tuple[int, Handler]] = {}
        self._window = _Window(max_inflight)
        self._lock = threading.Lock()
        self._held: set[int] = set()  # mids holding a window slot
        self._early: set[int] = set()  # PUBACKed before publish() returned
        self._results: dict[int, ReasonCode] = {}
        self._suback: dict[int, tuple[threading.Event, list[ReasonCode]]] = {}
        self._parked: list[tuple[int, mqtt.MQTTMessage]] = []
        self._connected = threading.Event()
        self._ready = threading.Event()  # connected and every subscription SUBACKed
        self._pending: tuple[int, list[tuple[str, int, threading.Event, list[ReasonCode]]]] = (
            0,
            [],
        )
        self.subscribe_error: str | None = None  # the broker refused a subscription
        self.last_error: str | None = None  # why the last connection attempt failed
        self._failing: str | None = None  # the reason logged for the current series
        self._failures = 0  # failed attempts in the current series
        self._down_since: float | None = None
        self._refusal: str | None = None  # a CONNACK refusal, until paho's on_disconnect
        self._started = False
        self._closing = False
        self._inbox = _Inbox(self, receive_maximum, workers)
        self.client = self._make_client()

    # ------------------------------------------------------------------ setup
    def _make_client(self) -> mqtt.Client:
        c = _Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        # paho's own limit stays >= our window, so paho never holds publishes back itself.
        c.max_inflight_messages_set(self.max_inflight)
        c.max_queued_messages_set(0)
        c.reconnect_delay_set(*RECONNECT_DELAYS)  # type: ignore[arg-type]  # floats work
        if self.address.tls:
            c.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        if self.address.username:
            c.username_pw_set(self.address.username, self.address.password)
        c.on_connect = self._on_connect
        c.on_connect_fail = self._on_connect_fail
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_publish = self._on_publish
        c.on_subscribe = self._on_subscribe
        c.on_socket_open = set_tcp_nodelay
        return c

    def _connect_properties(self) -> Properties:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry
        props.ReceiveMaximum = self.receive_maximum
        return props

    def on(self, topic: str, handler: Handler, *, qos: int = 1) -> None:
        """Register the handler of a subscription before :meth:`open`: a persistent session's
        queued messages arrive right after the CONNACK, before any later subscribe call."""
        self.subscriptions[topic] = (qos, handler)

    def start(self) -> Connection:
        """Start connecting in the background and return at once: paho's network thread tries
        until the broker answers (backoff :data:`RECONNECT_DELAYS`), then subscribes what
        :meth:`on` registered (persistent session: clean_start False), and does the same after
        every drop. :meth:`wait_ready` waits for it."""
        if self._started:
            return self
        self._started = True
        self._down_since = time.monotonic()
        self._inbox.start()
        self.client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=self.keepalive,
            clean_start=not self.persistent,
            properties=self._connect_properties(),
        )
        self.client.loop_start()
        return self

    def wait_ready(self, timeout: float) -> bool:
        """Wait until connected with every subscription acknowledged; False after
        ``timeout`` or as soon as the broker refused a subscription (:attr:`subscribe_error`)."""
        deadline = time.monotonic() + timeout
        while not self._ready.is_set():
            remaining = deadline - time.monotonic()
            if self.subscribe_error is not None or remaining <= 0:
                return False
            self._ready.wait(min(remaining, 0.05))
        return True

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def open(self) -> Connection:
        """Connect and wait (``connect_timeout``) for the CONNACK and the SUBACKs of what
        :meth:`on` registered; ConnectionError (and closed) if that does not happen."""
        self.start()
        if not self.wait_ready(self.connect_timeout):
            why = self.subscribe_error or (
                f"no MQTT connection to {self.address} within {self.connect_timeout:g} s "
                f"({self.last_error or 'no answer'})"
            )
            self.close(drain=0)
            raise ConnectionError(f"{self.name}: {why}")
        return self

    def check_connected(self) -> None:
        """:class:`MqttUnavailable` at once while not connected (instead of a publish that
        paho would hold until it reconnects)."""
        if not self._connected.is_set():
            raise MqttUnavailable(
                f"{self.name}: MQTT transport unavailable: not connected to {self.address} "
                f"({self.last_error or 'connecting'}); reconnecting"
            )

    def drain(self, timeout: float) -> bool:
        """Wait until no publish waits for its PUBACK any more."""
        deadline = time.monotonic() + timeout
        while self._window.used and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._window.used

    def stop_connecting(self) -> None:
        """Stop trying to (re)connect; :meth:`close` then ends the network thread."""
        self._closing = True
        if self._started:
            with contextlib.suppress(Exception):
                self.client.disconnect()

    def close(self, *, drain: float = 2.0) -> None:
        self._closing = True
        if not self._started:
            return
        if self._connected.is_set() and drain > 0:
            self.drain(drain)
        with contextlib.suppress(Exception):
            self.client.disconnect()
        self.client.loop_stop()
        self._inbox.stop()
        self._connected.clear()
        self._ready.clear()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # ------------------------------------------------------------------ callbacks (network thread)
    def _attempt_failed(self, reason: str, level: int = logging.WARNING) -> None:
        """One failed connection attempt: logged once per series (again if the reason
        changes), the rest at DEBUG; paho tries again after its backoff."""
        self._failures += 1
        self.last_error = reason
        if self._down_since is None:
            self._down_since = time.monotonic()
        if reason == self._failing:
            log.debug("%s: attempt %d failed: %s", self.name, self._failures, reason)
            return
        self._failing = reason
        log.log(
            level,
            "%s: cannot connect to %s: %s; retrying with backoff (%g s up to %g s)",
            self.name,
            self.address,
            reason,
            *RECONNECT_DELAYS,
        )

    def _on_connect_fail(self, client, userdata) -> None:
        if not self._closing:  # the TCP/TLS connection could not be made
            self._attempt_failed(describe_error(getattr(client, "last_error", None)))

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            # counted when paho closes the socket (on_disconnect, which always follows)
            self._refusal = f"the broker refused the connection: {reason_code}"
            return
        self.generation += 1
        self.session_present = bool(flags.session_present)
        self.subscribe_error = None
        server_max = getattr(properties, "ReceiveMaximum", None) if properties else None
        self._window.resize(min(self.max_inflight, server_max or self.max_inflight))
        after = ""
        if self._failures and self._down_since is not None:
            after = (
                f" after {self._failures} failed attempt{'s' if self._failures > 1 else ''} "
                f"({time.monotonic() - self._down_since:.1f} s)"
            )
        log.info(
            "%s: connected to %s (session present: %s)%s",
            self.name,
            self.address,
            self.session_present,
            after,
        )
        self._failures, self._failing, self._down_since = 0, None, None
        self.last_error = None
        self._connected.set()
        self._subscribe_all(client)

    def _subscribe_all(self, client) -> None:
        """(network thread, on every CONNACK) Subscribe what :meth:`on` registered; the
        connection is ready once every SUBACK granted its QoS (:meth:`_on_subscribe`)."""
        pending: list[tuple[str, int, threading.Event, list[ReasonCode]]] = []
        with self._lock:  # the SUBACK callbacks take this lock: they cannot overtake us
            for topic, (qos, _handler) in list(self.subscriptions.items()):
                rc, mid = client.subscribe(topic, options=SubscribeOptions(qos=qos))
                if rc != mqtt.MQTT_ERR_SUCCESS or mid is None:
                    log.warning(
                        "%s: subscribe %s: %s", self.name, topic, mqtt.error_string(rc)
                    )  # the connection went away: the next CONNACK subscribes again
                    return
                event, codes = threading.Event(), []
                self._suback[mid] = (event, codes)
                pending.append((topic, qos, event, codes))
            self._pending = (self.generation, pending)
        self._check_subscribed()

    def _check_subscribed(self) -> None:
        with self._lock:
            generation, pending = self._pending
        if generation != self.generation or not all(p[2].is_set() for p in pending):
            return
        refused = [
            f"{topic}: {codes}"
            for topic, qos, _event, codes in pending
            if not codes or codes[0].is_failure or codes[0].value < qos
        ]
        if refused:
            self.subscribe_error = f"broker {self.address} refused subscription " + "; ".join(
                refused
            )
            log.error("%s: %s", self.name, self.subscribe_error)
            return
        self._ready.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        self._ready.clear()
        if self._closing:
            return
        if not was_connected:  # an attempt that got no successful CONNACK
            refusal, self._refusal = self._refusal, None
            self._attempt_failed(
                refusal or f"the broker closed the connection ({reason_code})",
                logging.ERROR if refusal else logging.WARNING,
            )
            return
        self._down_since = time.monotonic()
        if getattr(reason_code, "value", reason_code) == SESSION_TAKEN_OVER:
            # another client connected with our client id: two cimbus processes (or a system)
            # sharing one; they would take the session from each other for ever
            log.error(
                "%s: the broker %s gave this client's session (client id %r) to another "
                "connection with the same client id; every process needs its own [mqtt] "
                "client_id, and cimbus's MQTT inbound runs in one process "
                "(docs/operations.md); reconnecting",
                self.name,
                self.address,
                self.client_id,
            )
            return
        log.warning(
            "%s: disconnected from %s (%s); reconnecting", self.name, self.address, reason_code
        )

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        handler = self._handler_for(message.topic)
        if handler is None:
            # A subscription this persistent session kept from an earlier run, not (yet)
            # registered now: park it unacknowledged (never drop what the broker handed over).
            log.warning("%s: no handler for %s yet; message parked", self.name, message.topic)
            with self._lock:
                self._parked.append((self.generation, message))
            return
        self._inbox.put((self.generation, message, handler))

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            self._results[mid] = reason_code
            if mid in self._held:
                self._held.discard(mid)
            else:
                self._early.add(mid)
                return
        self._window.release()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        with self._lock:
            waiting = self._suback.pop(mid, None)
        if waiting is not None:
            waiting[1].extend(reason_codes)
            waiting[0].set()
            self._check_subscribed()

    def _handler_for(self, topic: str) -> Handler | None:
        for pattern, (_qos, handler) in list(self.subscriptions.items()):
            if mqtt.topic_matches_sub(pattern, topic):
                return handler
        return None

    # ------------------------------------------------------------------ subscribe / ack
    def subscribe(
        self, topic: str, handler: Handler, *, qos: int = 1, timeout: float = 10.0
    ) -> None:
        """Subscribe (again after every reconnect) and wait for the SUBACK."""
        self.subscriptions[topic] = (qos, handler)
        self._subscribe(topic, qos, timeout)
        with self._lock:
            parked = [p for p in self._parked if mqtt.topic_matches_sub(topic, p[1].topic)]
            self._parked = [p for p in self._parked if p not in parked]
        for generation, message in parked:
            self._inbox.put((generation, message, handler))

    def _subscribe(self, topic: str, qos: int, timeout: float) -> None:
        event, codes = threading.Event(), []
        with self._lock:  # the SUBACK callback takes this lock: it cannot overtake us
            rc, mid = self.client.subscribe(topic, options=SubscribeOptions(qos=qos))
            if rc == mqtt.MQTT_ERR_SUCCESS and mid is not None:
                self._suback[mid] = (event, codes)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"{self.name}: subscribe {topic}: {mqtt.error_string(rc)}")
        if not event.wait(timeout):
            raise ConnectionError(f"{self.name}: no SUBACK for {topic} within {timeout:g} s")
        if not codes or codes[0].is_failure or codes[0].value < qos:
            raise ConnectionError(f"{self.name}: broker refused subscription {topic}: {codes}")

    def ack(self, generation: int, message: mqtt.MQTTMessage) -> None:
        """PUBACK a processed message, on the connection that delivered it."""
        if message.qos == 0:
            return
        if generation != self.generation:
            log.info(
                "%s: message %d came on an earlier connection; the broker re-sends it",
                self.name,
                message.mid,
            )
            return
        self.client.ack(message.mid, message.qos)

    # ------------------------------------------------------------------ publish
    def publish(
        self, topic: str, body: bytes, properties: Properties, *, qos: int, timeout: float
    ) -> mqtt.MQTTMessageInfo:
        """Queue one publish; blocks while the window is full (then DeliveryError)."""
        if not self._window.acquire(timeout):
            raise DeliveryError(
                f"{self.name}: {self._window.used} publishes to {self.address} still wait for "
                f"their PUBACK after {timeout:g} s (broker slow or unreachable)"
            )
        try:
            info = self.client.publish(topic, body, qos=qos, properties=properties)
        except ValueError as exc:  # bad topic, payload too large
            self._window.release()
            raise PermanentDeliveryError(f"cannot publish to {topic!r}: {exc}") from exc
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            self._window.release()
            raise DeliveryError(f"publish to {topic!r} failed: {mqtt.error_string(info.rc)}")
        # NO_CONN: paho keeps the message and sends it after reconnecting; the slot stays held.
        with self._lock:
            if info.mid in self._early:
                self._early.discard(info.mid)
                release = True
            else:
                self._held.add(info.mid)
                release = False
        if release:
            self._window.release()
        return info

    def confirm(
        self,
        info: mqtt.MQTTMessageInfo,
        topic: str,
        *,
        timeout: float,
        require_subscriber: bool = True,
    ) -> None:
        """Wait for the PUBACK of ``info`` and check its reason code."""
        try:
            info.wait_for_publish(max(timeout, 0.0))
            published = info.is_published()
        except (ValueError, RuntimeError) as exc:
            raise DeliveryError(f"publish to {topic!r} failed: {exc}") from exc
        if not published:
            raise DeliveryError(
                f"no PUBACK from {self.address} for {topic!r} within {timeout:g} s"
                + ("" if self.connected else " (not connected)")
            )
        with self._lock:
            reason = self._results.pop(info.mid, None)
        check_puback(reason, topic, require_subscriber=require_subscriber)

    def publish_and_confirm(
        self,
        topic: str,
        body: bytes,
        properties: Properties,
        *,
        qos: int,
        timeout: float,
        require_subscriber: bool = True,
    ) -> None:
        deadline = time.monotonic() + timeout
        info = self.publish(topic, body, properties, qos=qos, timeout=timeout)
        self.confirm(
            info,
            topic,
            timeout=deadline - time.monotonic(),
            require_subscriber=require_subscriber,
        )

    @property
    def in_flight(self) -> int:
        """Publishes waiting for their PUBACK now."""
        return self._window.used

    @property
    def window(self) -> int:
        return self._window.limit


def check_puback(reason: ReasonCode | None, topic: str, *, require_subscriber: bool) -> None:
    """Raise for a PUBACK that does not mean "the broker has it for a subscriber"."""
    if reason is None:
        return
    code = reason.value
    if code >= 0x80:
        error = PermanentDeliveryError if code in PERMANENT else DeliveryError
        raise error(f"broker refused the publish to {topic!r}: {reason} (0x{code:02x})")
    if code == NO_MATCHING_SUBSCRIBERS and require_subscriber:
        raise DeliveryError(
            f"nobody subscribes to {topic!r}: the broker would discard the message (0x10); "
            "is the receiving system connected with a persistent session?"
        )


def confirm_all(
    conn: Connection,
    published: Sequence[tuple[mqtt.MQTTMessageInfo, str] | Exception],
    *,
    timeout: float,
    require_subscriber: bool = True,
) -> list[Exception | None]:
    """Wait for every PUBACK of a batch (one shared deadline)."""
    deadline = time.monotonic() + timeout
    out: list[Exception | None] = []
    for item in published:
        if isinstance(item, Exception):
            out.append(item)
            continue
        info, topic = item
        try:
            conn.confirm(
                info,
                topic,
                timeout=deadline - time.monotonic(),
                require_subscriber=require_subscriber,
            )
            out.append(None)
        except DeliveryError as exc:
            out.append(exc)
    return out
