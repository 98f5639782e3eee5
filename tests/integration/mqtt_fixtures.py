"""Fixtures for the MQTT integration tests (tests/integration/test_mqtt_*.py).

* ``mqtt_url``: the project's Mosquitto instance (deploy/mosquitto/cimbus.conf, port 1884),
  started with deploy/mosquitto/start.sh when nothing answers there (and stopped again at the
  end of the session if the tests started it).
* ``mqtt_default_url``: the system Mosquitto on 1883 with the distribution's default settings
  (used to show the default queue limit losing messages).
* ``mqtt_prefix``: a topic prefix unique to one test, so runs and tests never see each other.

Helpers: ``FakeBus`` (the transport without pipeline or store), ``Counter`` (a system handler
counting distinct MessageIDs), ``OutboxCimbus`` (a Bus whose outbox worker delivers over MQTT).

Without a broker the tests skip on a developer machine and fail in CI (CI=true).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from lxml import etree

from cim_models.build import build_message
from endpoints.embedded import message_id_of
from endpoints.mqtt import MqttTransport
from routing.bus import Bus
from routing.config import Config
from routing.routes import System
from routing.store import OutboxItem, Store
from tests.conftest import REPO, in_ci

HOST = "127.0.0.1"
PROJECT_PORT = int(os.environ.get("CIMBUS_MQTT_PROJECT_PORT", "1884"))
DEFAULT_PORT = int(os.environ.get("CIMBUS_MQTT_DEFAULT_PORT", "1883"))
START = REPO / "deploy" / "mosquitto" / "start.sh"
TEST_SESSION_EXPIRY = 120  # persistent sessions made by tests do not linger on the broker


def port_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _unavailable(what: str) -> None:
    if in_ci():
        pytest.fail(f"{what}: CI must run the MQTT broker tests (see .ci/run)")
    pytest.skip(f"{what} (developer machine without Mosquitto)")


@pytest.fixture(scope="session")
def mqtt_url() -> Iterator[str]:
    """``mqtt://127.0.0.1:1884``: the project-configured Mosquitto (no queue limits)."""
    started: Path | None = None
    if not port_open(PROJECT_PORT):
        # Not pytest's tmp_path: started as root, Mosquitto runs as `mosquitto`, which cannot
        # enter pytest's private /tmp/pytest-of-root.
        run_dir = Path(tempfile.mkdtemp(prefix="cimbus-mosquitto-"))
        result = subprocess.run(
            ["bash", str(START), str(run_dir), str(PROJECT_PORT)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode == 0 and port_open(PROJECT_PORT):
            started = run_dir
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
            _unavailable(
                f"the project Mosquitto on {HOST}:{PROJECT_PORT} could not be started: "
                f"{(result.stderr or result.stdout).strip()[-500:]}"
            )
    yield f"mqtt://{HOST}:{PROJECT_PORT}"
    if started is not None:
        pid_file = started / "mosquitto.pid"
        if pid_file.exists():
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
                for _ in range(50):  # SIGTERM: it saves its store, then exits
                    if not port_open(PROJECT_PORT):
                        break
                    time.sleep(0.1)
        shutil.rmtree(started, ignore_errors=True)


@pytest.fixture(scope="session")
def mqtt_default_url() -> str:
    """``mqtt://127.0.0.1:1883``: the system Mosquitto, Debian's default configuration."""
    if not port_open(DEFAULT_PORT):
        _unavailable(f"no Mosquitto answers on {HOST}:{DEFAULT_PORT}")
    return f"mqtt://{HOST}:{DEFAULT_PORT}"


@pytest.fixture
def mqtt_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}/cimbus"


class FakeBus:
    """Just enough of ``routing.bus.Bus`` to run the transport on its own (broker-level tests
    that do not need the pipeline or a store)."""

    name = "CIMBUS"

    def __init__(self) -> None:
        self.worker_id = f"test-{uuid.uuid4().hex[:8]}"
        self.outbound: dict[str, Any] = {}
        self.handled: list[tuple[bytes, str | None, dict[str, Any]]] = []

    def register_transport(self, transport: Any) -> None:
        self.outbound[transport.name] = transport

    def handle(self, raw: bytes, *, transport: str, reply_to=None, meta=None) -> Any:
        self.handled.append((raw, reply_to, meta or {}))
        return SimpleNamespace(
            reply=None, envelope=None, result="OK", outcome="", store_down=False, store_failure=None
        )


def mqtt_config(url: str, prefix: str, **overrides: Any) -> dict[str, Any]:
    """The ``[mqtt]`` section for a test: a client id and topic prefix of its own."""
    return {
        "enabled": True,
        "url": url,
        "client_id": "cimbus-" + prefix.split("/")[0],
        "topic_prefix": prefix,
        **overrides,
    }


# ---------------------------------------------------------------------------- helpers
EDE = "http://iec.ch/TC57/2011/EndDeviceEvents#"
TEMPLATE_ID = "00000000-0000-0000-0000-000000000000"


def last_gasp_template() -> bytes:
    event = etree.fromstring(
        f'<EndDeviceEvents xmlns="{EDE}"><EndDeviceEvent><createdDateTime>2026-11-01T10:00:00Z'
        f'</createdDateTime><Assets><mRID>MTR1</mRID></Assets><EndDeviceEventType ref="3.26.0.85"/>'
        f"</EndDeviceEvent></EndDeviceEvents>".encode()
    )
    return build_message(
        "created", "EndDeviceEvents", message_id=TEMPLATE_ID, source="HES", payload=[event]
    )


class Counter:
    """A system's handler that counts distinct MessageIDs (duplicates are allowed: QoS 1)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.ids: set[str] = set()
        self.received = 0
        self.last = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, body: bytes) -> None:
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.ids.add(message_id_of(body) or "")
            self.received += 1
            self.last = time.monotonic()

    def wait(self, expected: int, *, quiet: float, limit: float) -> int:
        """Until ``expected`` distinct arrived, or nothing came for ``quiet`` seconds."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.ids) >= expected or time.monotonic() - self.last > quiet:
                    break
            time.sleep(0.05)
        return len(self.ids)


class OutboxCimbus:
    """A cimbus process whose outbox worker delivers over MQTT: a real Bus and SQLite store.
    Entries are put in the outbox exactly as the route step does for a fanned-out event."""

    def __init__(self, url: str, prefix: str, db: Path) -> None:
        self.system = System("SLOW", "mqtt", address=f"{prefix}/system/SLOW")
        config = Config.from_mapping(
            {
                "bus": {"retry_base": 0.05, "retry_max": 0.5},
                "mqtt": mqtt_config(url, prefix, max_inflight=100),
                "systems": {"SLOW": {"transport": "mqtt", "address": self.system.address}},
            }
        )
        self.bus = Bus(config, Store(f"sqlite:///{db}"))
        self.transport = MqttTransport(
            self.bus, config.mqtt, session_expiry=TEST_SESSION_EXPIRY
        ).start()
        self.bus.start()

    def put(self, ids: list[str]) -> None:
        template = last_gasp_template()
        store = self.bus.store
        with store.transaction():
            for mid in ids:
                store.enqueue(
                    OutboxItem(
                        target="SLOW",
                        transport="mqtt",
                        address=self.system.address,
                        payload=template.replace(TEMPLATE_ID.encode(), mid.encode()),
                        message_id=mid,
                        verb="created",
                        noun="EndDeviceEvents",
                        headers={"source": "HES"},
                    )
                )
        self.bus.kick()

    def wait_delivered(self, n: int, limit: float = 40.0) -> None:
        """Until the broker has PUBACKed ``n`` entries (the outbox marks them delivered)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            counts = self.bus.store.outbox_counts()
            assert counts["dead"] == 0, counts
            if counts["delivered"] >= n:
                return
            time.sleep(0.1)
        raise AssertionError(f"outbox still {self.bus.store.outbox_counts()} after {limit:g} s")

    def close(self) -> None:
        self.transport.stop()
        self.bus.stop()


__all__ = [
    "DEFAULT_PORT",
    "EDE",
    "PROJECT_PORT",
    "TEMPLATE_ID",
    "TEST_SESSION_EXPIRY",
    "Counter",
    "FakeBus",
    "OutboxCimbus",
    "last_gasp_template",
    "mqtt_config",
    "mqtt_default_url",
    "mqtt_prefix",
    "mqtt_url",
    "port_open",
]


# ---------------------------------------------------------------------------- shared scenarios
@pytest.fixture
def mqtt_harness(mqtt_url: str, mqtt_prefix: str, tmp_path: Path) -> Iterator[Any]:
    """test_bus_transports.py's Harness on MQTT (closed at the end)."""
    h = make_mqtt_harness(mqtt_url, mqtt_prefix, tmp_path)
    yield h
    h.close()


def make_mqtt_harness(url: str, prefix: str, tmp_path: Path) -> Any:
    """The harness of test_bus_transports.py with MqttTransport and MqttClient; every system's
    topic under the test's own prefix."""
    from endpoints.mqtt import MqttClient, MqttTransport
    from routing.bus import Bus
    from routing.store import Store
    from tests.integration import harness

    cfg = harness.config_for(
        "mqtt",
        addresses={name: f"{prefix}/system/{name}" for name in harness.SYSTEMS},
        mqtt=mqtt_config(url, prefix),
    )
    bus = Bus(cfg, Store(f"sqlite:///{tmp_path}/bus-mqtt.db", payload_policy="all")).start()
    transport = MqttTransport(bus, cfg.mqtt).start()
    tag = prefix.split("/")[0]

    def client(name: str) -> Any:
        return MqttClient(
            url, name, client_id=f"{tag}-{name}", session_expiry=300, topic_prefix=prefix
        )

    return harness.Harness("mqtt", bus, transport, client)
