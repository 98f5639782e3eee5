"""The broker is not there when cimbus starts (REL-1), without a broker: ``start()`` returns
instead of raising, the connections keep trying in the background, each series of failed
attempts is logged once with its reason, deliveries fail at once with ``MqttUnavailable`` (no
attempt of the message), and the connection subscribes once the broker answers."""

from __future__ import annotations

import logging
import socket
import time

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from endpoints.mqtt import MqttTransport, MqttUnavailable
from endpoints.mqtt._connection import Connection, describe_error
from routing.config import MqttConfig
from routing.routes import System
from routing.transport import (
    Delivery,
    DeliveryError,
    PermanentDeliveryError,
    TransportUnavailable,
)

from .support import FakeBus


def closed_port() -> int:
    """A local TCP port nothing listens on (connecting is refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


HES = System("HES", "mqtt")


def _delivery(i: int = 0) -> Delivery:
    return Delivery(
        system=HES, address=HES.address, body=b"<x/>", message_id=f"m{i}", verb="created", noun="X"
    )


def test_start_with_the_broker_down_returns_and_deliveries_fail_fast(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"mqtt://127.0.0.1:{closed_port()}"
    t = MqttTransport(FakeBus(), MqttConfig(enabled=True, url=url), connect_timeout=0.5)
    with caplog.at_level(logging.DEBUG, logger="cimbus.mqtt"):
        t0 = time.monotonic()
        t.start()  # used to raise ConnectionError after connect_timeout
        try:
            assert time.monotonic() - t0 < 3.0
            assert not t.ready and not t.outbound.connected
            time.sleep(0.5)  # several more attempts (backoff from 0.1 s)

            t0 = time.monotonic()
            with pytest.raises(MqttUnavailable, match=r"not connected.*Connection refused"):
                t.deliver(_delivery())
            outcomes = t.deliver_batch([_delivery(1), _delivery(2)])
            assert time.monotonic() - t0 < 0.5  # not the 10 s publish timeout
            assert all(isinstance(o, MqttUnavailable) for o in outcomes) and len(outcomes) == 2
            assert t.outbound.in_flight == 0  # nothing handed to paho to send later
        finally:
            t.stop()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    per_connection = [r for r in warnings if "cannot connect" in r.getMessage()]
    # one warning per connection for the whole series of attempts, with the reason
    assert sorted(r.getMessage().split(":")[0] for r in per_connection) == sorted(
        c.name for c in t.connections
    )
    assert all("Connection refused" in r.getMessage() for r in per_connection)
    later = [r for r in caplog.records if r.levelno == logging.DEBUG and "failed" in r.getMessage()]
    assert later, "the connections kept trying"
    started = [r for r in warnings if "not ready after" in r.getMessage()]
    assert len(started) == 1 and "Connection refused" in started[0].getMessage()
    assert "starting anyway" in started[0].getMessage()


def test_not_connected_is_a_transport_unavailable_delivery_error() -> None:
    """Nothing was sent: the core must not count it as an attempt (nor dead-letter it)."""
    assert issubclass(MqttUnavailable, TransportUnavailable)
    assert issubclass(MqttUnavailable, DeliveryError)
    assert not issubclass(MqttUnavailable, PermanentDeliveryError)


def test_a_systems_client_still_fails_to_open_with_the_reason() -> None:
    conn = Connection(f"mqtt://127.0.0.1:{closed_port()}", "unit", connect_timeout=0.3)
    with pytest.raises(ConnectionError, match=r"within 0.3 s \(Connection refused\)"):
        conn.open()


def test_failure_reasons_are_never_empty() -> None:
    assert describe_error(ConnectionRefusedError(111, "Connection refused")) == (
        "Connection refused"
    )
    assert describe_error(TimeoutError()) == "TimeoutError"
    assert describe_error(socket.gaierror(-2, "Name or service not known")) == (
        "Name or service not known"
    )
    assert describe_error(None) == "no answer"


def test_one_log_line_per_series_of_failed_attempts(caplog: pytest.LogCaptureFixture) -> None:
    conn = Connection("mqtt://127.0.0.1:1", "unit")
    refused = ReasonCode(PacketTypes.CONNACK, identifier=0x87)
    with caplog.at_level(logging.INFO, logger="cimbus.mqtt"):
        for _ in range(5):
            conn._attempt_failed("Connection refused")
        conn._attempt_failed("Name or service not known")  # a new reason: said once more
        for _ in range(3):  # the broker answers but refuses: ERROR, once
            conn._on_connect(conn.client, None, None, refused, None)
            conn._on_disconnect(conn.client, None, None, refused, None)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in lines] == ["WARNING", "WARNING", "ERROR"]
    assert "Connection refused" in lines[0][1] and "Name or service" in lines[1][1]
    assert "refused the connection: Not authorized" in lines[2][1]
    assert "retrying with backoff (0.1 s up to 5 s)" in lines[0][1]
    assert conn._failures == 9 and not conn.connected


class _Flags:
    session_present = True


class SubscribingClient:
    def __init__(self) -> None:
        self.subscribed: list[str] = []

    def subscribe(self, topic, options):
        self.subscribed.append(topic)
        return (0, len(self.subscribed))


def test_a_late_first_connack_subscribes_then_the_connection_is_ready(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No open() waits any more: the CONNACK itself subscribes (first connection or a
    reconnect alike), and SUBACKs granting the QoS make the connection ready."""
    conn = Connection("mqtt://127.0.0.1:1", "unit", session_expiry=60)
    conn.client = client = SubscribingClient()
    conn.on("cimbus/in/#", lambda m: None)
    conn.on("cimbus/reply/w", lambda m: None)
    ok = ReasonCode(PacketTypes.CONNACK, identifier=0)
    with caplog.at_level(logging.INFO, logger="cimbus.mqtt"):
        conn._attempt_failed("Connection refused")
        conn._on_connect(client, None, _Flags(), ok, None)
    assert conn.connected and not conn.ready
    assert client.subscribed == ["cimbus/in/#", "cimbus/reply/w"]
    assert "after 1 failed attempt" in caplog.records[-1].getMessage()
    granted = ReasonCode(PacketTypes.SUBACK, identifier=1)
    conn._on_subscribe(client, None, 1, [granted], None)
    assert not conn.ready
    conn._on_subscribe(client, None, 2, [granted], None)
    assert conn.ready and conn.wait_ready(0)
    conn.check_connected()  # no error

    # dropped: not ready, deliveries fail fast; the next CONNACK subscribes again
    conn._on_disconnect(
        client, None, None, ReasonCode(PacketTypes.DISCONNECT, identifier=0x8B), None
    )
    assert not conn.ready
    with pytest.raises(MqttUnavailable):
        conn.check_connected()
    conn._on_connect(client, None, _Flags(), ok, None)
    assert client.subscribed[2:] == ["cimbus/in/#", "cimbus/reply/w"]
    refused = ReasonCode(PacketTypes.SUBACK, identifier=0x87)
    conn._on_subscribe(client, None, 3, [granted], None)
    conn._on_subscribe(client, None, 4, [refused], None)
    assert not conn.ready and "cimbus/reply/w" in (conn.subscribe_error or "")
    assert not conn.wait_ready(5.0)  # at once: a refused subscription is not waited for


def test_a_refused_subscription_still_fails_start(monkeypatch) -> None:
    """A broker that answers and refuses (an ACL) is a configuration error, not an outage."""
    t = MqttTransport(FakeBus(), MqttConfig(enabled=True), connect_timeout=0.5)
    for conn in t.connections:
        monkeypatch.setattr(conn, "start", lambda: None)
        monkeypatch.setattr(conn, "close", lambda drain=0: None)
    t.inbound.subscribe_error = "broker refused subscription cimbus/in/#: [Not authorized]"
    with pytest.raises(ConnectionError, match="Not authorized"):
        t.start()


def test_stopping_a_transport_that_never_started() -> None:
    t = MqttTransport(FakeBus(), MqttConfig(enabled=True))
    t.stop()  # nothing to close, no error
