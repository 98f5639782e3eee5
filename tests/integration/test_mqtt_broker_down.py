"""cimbus starts while its MQTT broker is down (REL-1): nothing fails, nothing is lost.

The auditor's case: ``cimbus serve`` with ``[mqtt] enabled`` and nothing listening at the
broker's address used to die after 10 s with ``ConnectionError: no MQTT connection``. Here a
private Mosquitto (project settings, a free port, its own run directory) is *not yet running*
when cimbus starts:

* ``MqttTransport.start()`` returns after its ``connect_timeout`` without raising, having
  logged why ("Connection refused"); the connections keep trying with backoff;
* messages cimbus accepts meanwhile (here over SOAP's path, ``Bus.handle``) wait in the
  durable outbox; a delivery to an MQTT system fails at once with ``MqttUnavailable``
  instead of waiting for a PUBACK, and nothing is dead-lettered;
* once the broker runs, cimbus connects, subscribes its persistent inbound session, delivers
  every outbox entry to the subscriber, and consumes what a system then sends.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from endpoints.mqtt import MqttClient, MqttTransport, MqttUnavailable
from routing.bus import Bus
from routing.config import Config
from routing.routes import System
from routing.store import Store
from routing.transport import Delivery
from tests.integration import mqtt_fixtures
from tests.integration.mqtt_fixtures import (
    TEMPLATE_ID,
    TEST_SESSION_EXPIRY,
    Counter,
    last_gasp_template,
    mqtt_config,
    port_open,
)
from tests.integration.test_mqtt_restart import PrivateBroker

pytestmark = pytest.mark.broker

mqtt_prefix = mqtt_fixtures.mqtt_prefix
mqtt_url = mqtt_fixtures.mqtt_url  # Mosquitto must be installed (skip/fail like the others)

ACCEPTED_WHILE_DOWN = 50
CONNECT_TIMEOUT = 1.0


@pytest.fixture
def down_broker(mqtt_url: str) -> Iterator[PrivateBroker]:
    """A private Mosquitto's port and run directory, not started."""
    b = PrivateBroker()
    assert not port_open(b.port)
    yield b
    b.remove()


def _event(mid: str) -> bytes:
    return last_gasp_template().replace(TEMPLATE_ID.encode(), mid.encode())


@pytest.mark.slow
def test_cimbus_starts_without_its_broker_and_catches_up_once_it_runs(
    down_broker: PrivateBroker,
    mqtt_prefix: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slow = System("SLOW", "mqtt", address=f"{mqtt_prefix}/system/SLOW")
    config = Config.from_mapping(
        {
            # attempts are not what this test is about: the outbox must not give up meanwhile
            "bus": {"retry_base": 0.05, "retry_max": 0.5, "max_attempts": 1000},
            "mqtt": mqtt_config(down_broker.url, mqtt_prefix),
            "systems": {
                "HES": {"transport": "mqtt", "address": f"{mqtt_prefix}/system/HES"},
                "SLOW": {"transport": "mqtt", "address": slow.address},
            },
            "subscriptions": [
                {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["SLOW"]}
            ],
        }
    )
    bus = Bus(config, Store(f"sqlite:///{tmp_path}/bus.db")).start()
    transport = MqttTransport(
        bus, config.mqtt, session_expiry=TEST_SESSION_EXPIRY, connect_timeout=CONNECT_TIMEOUT
    )
    counter = Counter()
    clients: list[MqttClient] = []
    try:
        with caplog.at_level(logging.WARNING, logger="cimbus.mqtt"):
            t0 = time.monotonic()
            transport.start()  # used to raise ConnectionError: no MQTT connection within 10 s
            took = time.monotonic() - t0
        assert took < CONNECT_TIMEOUT + 2.0, f"start() took {took:.1f} s"
        assert not transport.ready
        said = " | ".join(r.getMessage() for r in caplog.records)
        assert "Connection refused" in said and "not ready after" in said, said

        # accepted while the broker is down: stored and fanned out to the outbox
        ids = [str(uuid.uuid4()) for _ in range(ACCEPTED_WHILE_DOWN)]
        for mid in ids:
            ex = bus.handle(_event(mid), transport="soap")
            assert ex.store_failure is None and ex.result != "FAILED", ex.outcome
        t0 = time.monotonic()
        with pytest.raises(MqttUnavailable, match="not connected"):
            transport.deliver(Delivery(slow, slow.address, _event("direct"), noun="X"))
        assert time.monotonic() - t0 < 1.0, "a delivery while disconnected must fail fast"
        time.sleep(1.0)  # the outbox worker tries them meanwhile
        counts = bus.store.outbox_counts()
        assert counts["delivered"] == 0 and counts["dead"] == 0, counts

        # the broker comes (the subscriber first: "no matching subscribers" is retried anyway)
        down_broker.start()
        sub = MqttClient(
            down_broker.url,
            "SLOW",
            client_id=f"slow-{uuid.uuid4().hex[:8]}",
            session_expiry=TEST_SESSION_EXPIRY,
            topic_prefix=mqtt_prefix,
        )
        clients.append(sub)
        sub.serve(counter)
        assert transport.wait_ready(15.0), "cimbus did not connect once the broker ran"
        assert transport.inbound.session_present is False  # a fresh broker: a new session

        deadline = time.monotonic() + 40
        while bus.store.outbox_counts()["delivered"] < ACCEPTED_WHILE_DOWN:
            assert time.monotonic() < deadline, bus.store.outbox_counts()
            time.sleep(0.1)
        assert bus.store.outbox_counts()["dead"] == 0
        assert counter.wait(ACCEPTED_WHILE_DOWN, quiet=5.0, limit=20.0) == ACCEPTED_WHILE_DOWN
        assert counter.ids == set(ids)

        # and the inbound session consumes what a system sends now
        hes = MqttClient(down_broker.url, "HES", topic_prefix=mqtt_prefix)
        clients.append(hes)
        later = str(uuid.uuid4())
        hes.send(_event(later), device="MTR1")
        assert counter.wait(ACCEPTED_WHILE_DOWN + 1, quiet=5.0, limit=20.0) == (
            ACCEPTED_WHILE_DOWN + 1
        )
        assert later in counter.ids
    finally:
        for c in clients:
            c.close()
        transport.stop()
        bus.stop()
