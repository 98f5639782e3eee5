"""MQTT 5 Message Expiry on what a client publishes to cimbus (BUS-6, BUS-7): a request whose
answer nobody waits for any more must not be executed later. While cimbus's persistent session
is offline, Mosquitto queues what is published to it; a client made with ``message_expiry``
(``cimbus send``, the conformance clients) publishes requests that expire with their reply
timeout, so cimbus does not receive them after it comes back. The AMQP counterpart is
AmqpClient's ``message_ttl`` (tests/integration/test_amqp_bus.py)."""

from __future__ import annotations

import time
import uuid

import pytest

from endpoints.client import ReplyTimeout
from endpoints.embedded import message_id_of
from endpoints.mqtt import MqttClient, MqttTransport
from routing.config import Config
from tests.integration import mqtt_fixtures
from tests.integration.mqtt_fixtures import TEMPLATE_ID, TEST_SESSION_EXPIRY, FakeBus, mqtt_config

pytestmark = pytest.mark.broker

mqtt_prefix = mqtt_fixtures.mqtt_prefix
mqtt_url = mqtt_fixtures.mqtt_url


def _message() -> bytes:
    return mqtt_fixtures.last_gasp_template().replace(
        TEMPLATE_ID.encode(), str(uuid.uuid4()).encode()
    )


def _cimbus(url: str, prefix: str, bus: FakeBus) -> MqttTransport:
    """cimbus's MQTT transport with the same persistent session each time (same client id)."""
    cfg = Config.from_mapping({"mqtt": mqtt_config(url, prefix)})
    return MqttTransport(bus, cfg.mqtt, session_expiry=TEST_SESSION_EXPIRY).start()


def test_requests_expire_with_their_timeout_while_cimbus_is_away(
    mqtt_url: str, mqtt_prefix: str
) -> None:
    first = _cimbus(mqtt_url, mqtt_prefix, FakeBus())  # makes the persistent session
    first.stop()
    expiring = MqttClient(mqtt_url, "CIS", topic_prefix=mqtt_prefix, message_expiry=30)
    lasting = MqttClient(mqtt_url, "CIS", topic_prefix=mqtt_prefix)
    bodies = {"expiring request": _message(), "lasting request": _message()}
    bodies["expiring send"] = _message()
    try:
        with pytest.raises(ReplyTimeout):
            expiring.request(bodies["expiring request"], timeout=1)
        with pytest.raises(ReplyTimeout):
            lasting.request(bodies["lasting request"], timeout=1)
        short = MqttClient(mqtt_url, "CIS", topic_prefix=mqtt_prefix, message_expiry=1)
        try:
            short.send(bodies["expiring send"])
        finally:
            short.close()
        time.sleep(2.5)  # past the 1 s expiry of both expiring messages
        bus = FakeBus()
        back = _cimbus(mqtt_url, mqtt_prefix, bus)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not bus.handled:
                time.sleep(0.05)
            time.sleep(0.5)  # anything else queued arrives with it
        finally:
            back.stop()
    finally:
        expiring.close()
        lasting.close()
    got = {message_id_of(raw) for raw, *_ in bus.handled}
    assert got == {message_id_of(bodies["lasting request"])}
