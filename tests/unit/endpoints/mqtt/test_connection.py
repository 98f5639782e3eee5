"""The MQTT transport's logic without a broker: where deliveries go, what they carry, how
PUBACKs are judged, the publish window and ack-after-processing (BUS-6, REL-1, REL-3)."""

from __future__ import annotations

import socket
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from cim_models.build import build_message
from endpoints.mqtt import MqttTransport
from endpoints.mqtt._connection import (
    BrokerAddress,
    Connection,
    _Window,
    check_puback,
    set_tcp_nodelay,
)
from endpoints.mqtt.properties import MessageProperties
from routing.config import MqttConfig
from routing.routes import System
from routing.transport import Delivery, DeliveryError, PermanentDeliveryError

from .support import FakeBus


@pytest.fixture
def transport() -> MqttTransport:
    return MqttTransport(FakeBus(), MqttConfig(enabled=True, topic_prefix="cimbus"))


HES = System("HES", "mqtt")


def test_registers_as_the_mqtt_outbound(transport: MqttTransport) -> None:
    assert transport.bus.outbound["mqtt"] is transport
    assert transport.reply_address(sync=True) == "cimbus/reply/host-1-abcdef"
    assert transport.reply_address(sync=False) == "cimbus/in"


def test_requests_and_events_go_to_the_system_noun_topic(transport: MqttTransport) -> None:
    d = Delivery(system=HES, address=HES.address, body=b"", verb="create", noun="EndDeviceControls")
    assert transport.topic_for(d) == "cimbus/system/HES/EndDeviceControls"
    d = Delivery(
        system=HES,
        address=HES.address,
        body=b"",
        verb="created",
        noun="X",
        headers={"device": "M/1"},
    )
    assert transport.topic_for(d) == "cimbus/system/HES/X/M%2F1"


def test_replies_go_exactly_to_their_address(transport: MqttTransport) -> None:
    d = Delivery(system=HES, address="cimbus/client/CIS-1/reply", body=b"", verb="reply", noun="X")
    assert transport.topic_for(d) == "cimbus/client/CIS-1/reply"
    # a ReplyAddress equal to a system's address (its topic prefix) is taken as it is
    d = Delivery(system=HES, address=HES.address, body=b"", verb="reply", noun="X")
    assert transport.topic_for(d) == "cimbus/system/HES"
    d = Delivery(system=HES, address="mqtt://broker:1883/acme/replies", body=b"", verb="reply")
    assert transport.topic_for(d) == "acme/replies"


def test_delivery_properties(transport: MqttTransport) -> None:
    request = transport._properties(
        Delivery(
            system=HES,
            address=HES.address,
            body=b"",
            message_id="m1",
            verb="get",
            noun="MeterReadings",
            reply_to="cimbus/reply/w",
            headers={"source": "CIS"},
        )
    )
    assert request.response_topic == "cimbus/reply/w"
    assert request.correlation_data == b"m1"  # the system echoes it on its reply
    assert request.source == "CIS"
    body = build_message(
        "reply", "MeterReadings", correlation_id="m1", source="HES", result="PARTIAL"
    )
    reply = transport._properties(
        Delivery(
            system=HES, address="t", body=body, message_id="r1", correlation_id="m1", verb="reply"
        )
    )
    assert reply.response_topic is None
    assert reply.correlation_data == b"m1" and reply.result == "PARTIAL"
    assert reply.source == "HES" and reply.noun == "MeterReadings"  # its own Header


def _rc(code: int) -> ReasonCode:
    return ReasonCode(PacketTypes.PUBACK, identifier=code)


def test_puback_reason_codes() -> None:
    check_puback(None, "t", require_subscriber=True)  # MQTT 3.1.1: no reason code
    check_puback(_rc(0), "t", require_subscriber=True)
    check_puback(_rc(0x10), "t", require_subscriber=False)
    with pytest.raises(DeliveryError, match="nobody subscribes"):
        check_puback(_rc(0x10), "t", require_subscriber=True)
    with pytest.raises(DeliveryError) as exc:
        check_puback(_rc(0x97), "t", require_subscriber=True)  # quota exceeded: retry
    assert not isinstance(exc.value, PermanentDeliveryError)
    for code in (0x87, 0x90, 0x99):
        with pytest.raises(PermanentDeliveryError):
            check_puback(_rc(code), "t", require_subscriber=True)


def test_broker_urls() -> None:
    assert BrokerAddress.from_url("mqtt://127.0.0.1:1884") == BrokerAddress("127.0.0.1", 1884)
    a = BrokerAddress.from_url("mqtts://user:p%40ss@broker.example")
    assert (a.host, a.port, a.tls, a.username, a.password) == (
        "broker.example",
        8883,
        True,
        "user",
        "p@ss",
    )
    with pytest.raises(ValueError):
        BrokerAddress.from_url("amqp://x")


def test_window_blocks_when_full_and_follows_the_broker_limit() -> None:
    w = _Window(2)
    assert w.acquire(0.01) and w.acquire(0.01)
    assert not w.acquire(0.05)
    threading.Timer(0.05, w.release).start()
    assert w.acquire(1.0)
    w.resize(5)
    assert w.acquire(0.01)
    assert w.used == 3


# ---------------------------------------------------------------------------- fake paho client
class FakeClient:
    """Records acks; answers publishes with an immediate PUBACK (as a fast broker can, before
    paho's publish() even returns)."""

    def __init__(self, conn: Connection, *, puback: int | None = 0) -> None:
        self.conn = conn
        self.puback = puback
        self.acked: list[int] = []
        self.mid = 0

    def publish(self, topic, body, qos, properties):
        self.mid += 1
        info = mqtt.MQTTMessageInfo(self.mid)
        if self.puback is not None:
            self.conn._on_publish(self, None, self.mid, _rc(self.puback), None)
            info._set_as_published()
        return info

    def ack(self, mid, qos):
        self.acked.append(mid)


def _conn(**kw) -> Connection:
    conn = Connection("mqtt://127.0.0.1:1", "unit", **kw)
    conn.client = FakeClient(conn)
    conn.generation = 1
    return conn


def test_a_puback_before_publish_returns_still_frees_the_window() -> None:
    conn = _conn(max_inflight=3)
    for _ in range(10):  # more than the window: each slot came back
        info = conn.publish("t", b"x", MessageProperties().to_mqtt(), qos=1, timeout=0.1)
        conn.confirm(info, "t", timeout=0.1, require_subscriber=True)
    assert conn.in_flight == 0


def test_without_pubacks_the_window_fills_and_publishing_fails_instead_of_growing() -> None:
    conn = _conn(max_inflight=3)
    conn.client.puback = None
    for _ in range(3):
        conn.publish("t", b"x", MessageProperties().to_mqtt(), qos=1, timeout=0.1)
    t0 = time.monotonic()
    with pytest.raises(DeliveryError, match="still wait for their PUBACK"):
        conn.publish("t", b"x", MessageProperties().to_mqtt(), qos=1, timeout=0.2)
    assert time.monotonic() - t0 >= 0.19
    assert conn.in_flight == 3


def _message(mid: int, topic: str = "cimbus/in/HES/X") -> mqtt.MQTTMessage:
    m = mqtt.MQTTMessage(mid, topic.encode())
    m.qos = 1
    m.payload = b"<x/>"
    return m


def _wait(pred, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not pred() and time.monotonic() < deadline:
        time.sleep(0.005)
    return pred()


def test_ack_only_after_the_handler_ran() -> None:
    conn = _conn()
    gate = threading.Event()
    handled: list[int] = []

    def handler(m):
        gate.wait(2)
        handled.append(m.mid)

    conn.on("cimbus/in/#", handler)
    conn._inbox.start()
    try:
        conn._on_message(None, None, _message(7))
        time.sleep(0.05)
        assert conn.client.acked == []  # received, not yet handled: not acknowledged
        gate.set()
        assert _wait(lambda: conn.client.acked == [7])
        assert handled == [7]
    finally:
        conn._inbox.stop()


def test_a_failing_handler_leaves_the_message_unacknowledged(monkeypatch) -> None:
    monkeypatch.setattr("endpoints.mqtt._connection.RETRY_DELAYS", (0.01,))
    conn = _conn()
    calls: list[int] = []

    def handler(m):
        calls.append(m.mid)
        raise RuntimeError("store down")

    conn.on("cimbus/in/#", handler)
    conn._inbox.start()
    try:
        conn._on_message(None, None, _message(3))
        assert _wait(lambda: len(calls) == 2)  # tried, retried
        time.sleep(0.05)
        assert conn.client.acked == []
    finally:
        conn._inbox.stop()


def test_a_transient_failure_is_retried_until_it_works_then_acked(monkeypatch) -> None:
    """REL-1: cimbus's store being down is not the message's fault (``transient``): the worker
    keeps trying, beyond the ordinary retries, and acknowledges once the handler succeeds
    (instead of leaving the message until the next reconnect)."""
    monkeypatch.setattr("endpoints.mqtt._connection.RETRY_DELAYS", (0.01,))
    monkeypatch.setattr("endpoints.mqtt._connection.TRANSIENT_DELAYS", (0.01, 0.02))

    class StoreDown(RuntimeError):
        transient = True

    conn = _conn()
    calls: list[int] = []

    def handler(m):
        calls.append(m.mid)
        if len(calls) < 6:  # more failures than the ordinary retries allow
            raise StoreDown("the store is unavailable")

    conn.on("cimbus/in/#", handler)
    conn._inbox.start()
    try:
        conn._on_message(None, None, _message(4))
        assert _wait(lambda: conn.client.acked == [4])
        assert calls == [4] * 6
    finally:
        conn._inbox.stop()


def test_a_message_from_an_earlier_connection_is_not_acked_on_a_later_one() -> None:
    conn = _conn()
    gate = threading.Event()
    conn.on("cimbus/in/#", lambda m: gate.wait(2))
    conn._inbox.start()
    try:
        conn._on_message(None, None, _message(5))
        conn.generation += 1  # reconnected meanwhile: the broker re-sends message 5
        gate.set()
        time.sleep(0.1)
        assert conn.client.acked == []
    finally:
        conn._inbox.stop()


def test_messages_of_a_not_yet_registered_subscription_are_parked_not_dropped() -> None:
    conn = _conn()
    conn._inbox.start()
    subscribed = []

    def subscribe(topic, options):
        subscribed.append(topic)
        conn._suback[1] = (threading.Event(), [])  # replaced below by the real registration
        return (mqtt.MQTT_ERR_SUCCESS, 1)

    conn.client.subscribe = subscribe
    try:
        conn._on_message(None, None, _message(9, "cimbus/system/HES/X"))
        assert conn.client.acked == []
        got: list[int] = []
        threading.Timer(0.05, lambda: conn._on_subscribe(None, None, 1, [_rc_sub(1)], None)).start()
        conn.subscribe("cimbus/system/HES/#", lambda m: got.append(m.mid), timeout=2)
        assert _wait(lambda: conn.client.acked == [9])
        assert got == [9]
    finally:
        conn._inbox.stop()


def _rc_sub(code: int) -> ReasonCode:
    return ReasonCode(PacketTypes.SUBACK, identifier=code)


def test_inbox_capacity_is_the_receive_maximum() -> None:
    conn = Connection("mqtt://127.0.0.1:1", "unit", receive_maximum=7)
    assert conn.receive_maximum == 7 and conn._inbox.queue.maxsize == 7
    props = conn._connect_properties()
    assert props.ReceiveMaximum == 7 and props.SessionExpiryInterval == 0
    persistent = Connection("mqtt://127.0.0.1:1", "unit", session_expiry=3600)
    assert persistent.persistent and persistent._connect_properties().SessionExpiryInterval == 3600


def test_a_session_taken_over_names_the_client_id_clash(caplog: pytest.LogCaptureFixture) -> None:
    """Two processes with one client id take the session from each other for ever: the
    disconnect says so (0x8E Session taken over), not just "disconnected"."""
    conn = _conn()
    taken = ReasonCode(PacketTypes.DISCONNECT, identifier=0x8E)
    with caplog.at_level("WARNING", logger="cimbus.mqtt"):
        conn._connected.set()  # a session that was up
        conn._on_disconnect(None, None, None, taken, None)
        conn._connected.set()
        conn._on_disconnect(
            None, None, None, ReasonCode(PacketTypes.DISCONNECT, identifier=0x8B), None
        )
    clash, other = caplog.records
    assert clash.levelname == "ERROR"
    assert "same client id" in clash.getMessage() and "'unit'" in clash.getMessage()
    assert other.levelname == "WARNING" and "reconnecting" in other.getMessage()


def test_the_connections_sockets_do_without_nagles_algorithm() -> None:
    """TCP_NODELAY is set before the CONNECT is written: under Nagle's algorithm a PUBLISH
    waits for the TCP ACK of the PUBACK before it, i.e. the peer's delayed ACK (40 ms per hop;
    a request/answer took ~88 ms instead of ~4, bench/bench_mqtt_latency.py). No broker: a
    listener that reads the CONNECT and says nothing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(5)
    conn = Connection(f"mqtt://127.0.0.1:{listener.getsockname()[1]}", "unit-nodelay")
    try:
        conn.start()
        peer, _ = listener.accept()
        with peer:
            peer.settimeout(5)
            assert peer.recv(1)[0] >> 4 == 1  # the CONNECT: written after on_socket_open
            sock = conn.client.socket()
            assert sock is not None
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        conn.close(drain=0)
        listener.close()


def test_tcp_nodelay_is_skipped_where_it_does_not_apply() -> None:
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        set_tcp_nodelay(None, None, a)  # a Unix socket: no TCP option, no error
    set_tcp_nodelay(None, None, object())  # no setsockopt at all (a wrapper): no error
