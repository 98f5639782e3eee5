"""Broker outage mid-stream (REL-1, B2-5): nothing accepted is lost, nothing is lost twice.

A stream of events goes through the Bus's outbox to a subscriber over RabbitMQ. In the middle,
RabbitMQ goes away:

* ``app``: ``rabbitmqctl stop_app`` / ``start_app`` (the broker itself restarts; durable queues
  and persistent messages survive, exclusive reply queues do not);
* ``connections``: ``rabbitmqctl close_all_connections`` (what a network cut or a broker
  failover looks like to the clients).

Publishes during the outage fail with DeliveryError and stay in the outbox, which retries them;
the publisher and every consumer reconnect with backoff and redeclare the topology. At the end
every event has reached the subscriber; it may have seen some twice (at-least-once: a confirm
lost with the connection), so it counts distinct MessageIDs, as a real system de-duplicates.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cim_models.build import build_message
from endpoints.amqp import AmqpClient, AmqpTransport
from endpoints.embedded import message_id_of
from routing.bus import Bus
from routing.config import Config
from routing.store import Store
from tests.conftest import in_ci
from tests.integration.test_bus_transports import _event

if TYPE_CHECKING:
    from tests.integration.amqp_fixtures import AmqpNames

pytest_plugins = ["tests.integration.amqp_fixtures"]
pytestmark = [pytest.mark.broker, pytest.mark.slow]

N = 300


def _outage(kind: str) -> None:
    from tests.integration.amqp_fixtures import rabbitmqctl

    steps = (
        [("stop_app",), ("start_app",)]
        if kind == "app"
        else [("close_all_connections", "cimbus reconnect test")]
    )
    for i, args in enumerate(steps):
        done = rabbitmqctl(*args, timeout=60)
        assert done is not None and done.returncode == 0, done and done.stderr
        if i == 0 and kind == "app":
            time.sleep(1.0)  # stay down for a while: publishes must fail and be retried


@pytest.mark.parametrize("kind", ["app", "connections"])
def test_outbox_stream_survives_a_broker_outage(
    kind: str, amqp_names: AmqpNames, tmp_path: Path
) -> None:
    from tests.integration.amqp_fixtures import rabbitmqctl

    if rabbitmqctl("status", timeout=30) is None:
        if in_ci():
            pytest.fail("rabbitmqctl is needed for the reconnect test in CI")
        pytest.skip("rabbitmqctl is not installed here")
    cfg = Config.from_mapping(
        {
            "amqp": amqp_names.amqp_section(),
            "bus": {"retry_base": 0.1, "retry_max": 1.0, "max_attempts": 1000},
            "systems": {
                "HES": {"transport": "amqp", "address": amqp_names.system("HES")},
                "MDMS": {"transport": "amqp", "address": amqp_names.system("MDMS")},
            },
            "subscriptions": [
                {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["MDMS"]}
            ],
        }
    )
    bus = Bus(cfg, Store(f"sqlite:///{tmp_path}/bus.db")).start()
    transport = AmqpTransport(bus, cfg.amqp).start()
    receiver = AmqpClient(
        amqp_names.url, "MDMS", queue=amqp_names.system("MDMS"), **amqp_names.client_kwargs()
    )
    lock = threading.Lock()
    seen: list[str] = []
    all_in = threading.Event()
    ids = [f"{kind}-{i}-{uuid.uuid4().hex[:8]}" for i in range(N)]

    def mdms(body: bytes) -> None:
        with lock:
            seen.append(message_id_of(body) or "?")
            if len(set(seen)) >= N:
                all_in.set()
        return None

    payload = _event()
    try:
        assert transport.ready
        receiver.serve(mdms)
        t0 = time.monotonic()
        for i, mid in enumerate(ids):
            ex = bus.handle(
                build_message(
                    "created", "EndDeviceEvents", message_id=mid, source="HES", payload=[payload]
                ),
                transport="test",
            )
            assert ex.result == "OK", ex.outcome
            bus.kick()
            if i == N // 3:
                _outage(kind)
            time.sleep(0.002)
        assert all_in.wait(45), f"{len(set(seen))} of {N} events arrived"
        elapsed = time.monotonic() - t0
    finally:
        receiver.close()
        transport.stop()
        bus.stop()
    distinct = set(seen)
    print(
        f"\n{kind}: {N} events, {len(distinct)} distinct received, {len(seen) - len(distinct)} "
        f"duplicates, publisher reconnected {transport.publisher.connects - 1}x, {elapsed:.1f} s"
    )
    assert distinct == set(ids)
    assert transport.publisher.connects >= 2  # it really reconnected
