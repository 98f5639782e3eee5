"""The broker restarts mid-stream (REL-1): nothing cimbus accepted is lost.

A private Mosquitto with the project settings (deploy/mosquitto/start.sh on a free port, its
own run directory) carries 5,000 events from cimbus's outbox to a subscriber with a persistent
session. While they flow, the broker is stopped and started again on the same persistence
file. cimbus's connections reconnect by themselves; publishes that were not PUBACKed are sent
again by paho or retried by the outbox; the subscriber's session (subscription and queue) comes
back from the broker's store. Every one of the 5,000 arrives (duplicates allowed: QoS 1).

Mosquitto writes its store at a clean stop (SIGTERM, used here) and every ``autosave_interval``
seconds; a ``kill -9`` can lose what it accepted since the last save (docs/mqtt.md).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from endpoints.mqtt import MqttClient
from tests.integration import mqtt_fixtures
from tests.integration.mqtt_fixtures import (
    START,
    TEST_SESSION_EXPIRY,
    Counter,
    OutboxCimbus,
    port_open,
)

pytestmark = pytest.mark.broker

mqtt_prefix = mqtt_fixtures.mqtt_prefix
mqtt_url = mqtt_fixtures.mqtt_url  # ensures Mosquitto is there (skip/fail like the others)

TOTAL = 5_000


class PrivateBroker:
    """A Mosquitto of our own (project settings) that the test may stop and start."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.run_dir = Path(tempfile.mkdtemp(prefix="cimbus-mosquitto-restart-"))
        self.url = f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        result = subprocess.run(
            ["bash", str(START), str(self.run_dir), str(self.port)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr or result.stdout

    def stop(self) -> None:
        """SIGTERM: Mosquitto saves its store and exits."""
        pid_file = self.run_dir / "mosquitto.pid"
        if not pid_file.exists():
            return
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + 10
        while port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # the pid file goes last
        assert not port_open(self.port), "the broker did not stop"

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)


@pytest.fixture
def broker(mqtt_url: str) -> Iterator[PrivateBroker]:
    b = PrivateBroker()
    b.start()
    yield b
    b.remove()


@pytest.mark.slow
def test_a_broker_restart_mid_stream_loses_nothing(
    broker: PrivateBroker, mqtt_prefix: str, tmp_path: Path
) -> None:
    client_id = f"oms-{uuid.uuid4().hex[:8]}"
    counter = Counter()
    sub = MqttClient(
        broker.url,
        "SLOW",
        client_id=client_id,
        session_expiry=TEST_SESSION_EXPIRY,
        topic_prefix=mqtt_prefix,
    )
    sub.serve(counter)
    cimbus = OutboxCimbus(broker.url, mqtt_prefix, tmp_path / "bus.db")
    try:
        ids = [str(uuid.uuid4()) for _ in range(TOTAL)]
        cimbus.put(ids)
        cimbus.wait_delivered(TOTAL // 5)  # flowing
        broker.stop()
        stopped_at = cimbus.bus.store.outbox_counts()
        time.sleep(1.0)  # cimbus and the subscriber notice, publishes fail and are retried
        broker.start()
        cimbus.wait_delivered(TOTAL, limit=60)
        got = counter.wait(TOTAL, quiet=5.0, limit=40.0)
        print(
            f"\nbroker restarted with {stopped_at['delivered']} of {TOTAL} delivered: "
            f"{got} distinct arrived, {counter.received} with duplicates"
        )
        assert stopped_at["delivered"] < TOTAL, "the restart came too late to be mid-stream"
        assert got == TOTAL, f"lost {TOTAL - got} of {TOTAL} across the broker restart"
        assert counter.ids == set(ids)
    finally:
        sub.close()
        cimbus.close()
