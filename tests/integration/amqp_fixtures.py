"""RabbitMQ fixtures for the AMQP integration tests (BUS-5; marked ``broker``).

``rabbitmq``: the broker URL ($CIMBUS_TEST_AMQP_URL, default guest@127.0.0.1:5672); skips when
nothing answers on a developer machine, fails when CI is true. ``amqp_names``: unique exchange
and queue names for one test (prefix ``t<random>``), everything with that prefix deleted at the
end, so runs never collide. ``amqp_harness``: the transport-neutral harness of
test_bus_transports.py on AMQP.

A test module loads them with ``pytest_plugins = ["tests.integration.amqp_fixtures"]`` (and
imports names from here only under TYPE_CHECKING or inside tests, after pytest loaded it, so
its asserts are rewritten).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pika
import pytest

from tests.conftest import in_ci

AMQP_URL = os.environ.get("CIMBUS_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def rabbitmqctl(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str] | None:
    """Run rabbitmqctl when it is installed here (None otherwise)."""
    exe = shutil.which("rabbitmqctl")
    if exe is None:
        return None
    return subprocess.run(
        [exe, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="session")
def rabbitmq() -> str:
    params = pika.URLParameters(AMQP_URL)
    params.socket_timeout = 3
    params.connection_attempts = 1
    try:
        pika.BlockingConnection(params).close()
    except Exception as exc:
        msg = (
            f"RabbitMQ does not answer at {params.host}:{params.port}: {type(exc).__name__}: {exc}"
        )
        if in_ci():
            pytest.fail(f"{msg} (CI must run the broker tests)")
        pytest.skip(msg)
    return AMQP_URL


@dataclass
class AmqpNames:
    """Unique names for one test; ``cleanup`` deletes everything starting with ``prefix``."""

    url: str
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")
    extra: list[str] = field(default_factory=list)

    @property
    def exchange(self) -> str:
        return self.prefix

    @property
    def inbound(self) -> str:
        return f"{self.prefix}.in"

    @property
    def dlx(self) -> str:
        return f"{self.prefix}.dlx"

    def system(self, name: str) -> str:
        queue = f"{self.prefix}.system.{name}"
        if queue not in self.extra:
            self.extra.append(queue)
        return queue

    def amqp_section(self, **overrides: Any) -> dict[str, Any]:
        """The [amqp] section of a cimbus Config using these names."""
        return {
            "enabled": True,
            "url": self.url,
            "exchange": self.exchange,
            "inbound_queue": self.inbound,
            "dead_letter_exchange": self.dlx,
            **overrides,
        }

    def client_kwargs(self) -> dict[str, str]:
        return {
            "exchange": self.exchange,
            "inbound": self.inbound,
            "dead_letter_exchange": self.dlx,
        }

    def connection(self) -> pika.BlockingConnection:
        return pika.BlockingConnection(pika.URLParameters(self.url))

    def depth(self, queue: str) -> int:
        conn = self.connection()
        try:
            return conn.channel().queue_declare(queue, passive=True).method.message_count
        finally:
            conn.close()

    def get_all(self, queue: str, *, limit: int = 10_000) -> list[tuple[Any, Any, bytes]]:
        """Take every message now in ``queue`` (acked): (method, properties, body)."""
        conn = self.connection()
        out = []
        try:
            ch = conn.channel()
            while len(out) < limit:
                method, props, body = ch.basic_get(queue, auto_ack=True)
                if method is None:
                    break
                out.append((method, props, body))
        finally:
            conn.close()
        return out

    def cleanup(self) -> None:
        """Delete this test's queues (each with its ``.dead`` queue) and exchanges."""
        queues = [self.inbound, f"{self.exchange}.reply", *self.extra]
        conn = None
        for _ in range(20):  # the broker may be restarting (another run's reconnect test)
            try:
                conn = self.connection()
                break
            except pika.exceptions.AMQPConnectionError:
                time.sleep(0.5)
        if conn is None:
            return
        try:
            ch = conn.channel()
            for q in queues:
                for name in (q, f"{q}.dead"):
                    if ch.is_closed:
                        ch = conn.channel()
                    # (an exclusive queue of a connection still closing refuses: skip it)
                    with contextlib.suppress(pika.exceptions.ChannelClosedByBroker):
                        ch.queue_delete(name)
            for e in (self.exchange, self.dlx):
                if ch.is_closed:
                    ch = conn.channel()
                ch.exchange_delete(e)
        finally:
            if conn.is_open:
                conn.close()


@pytest.fixture
def amqp_names(rabbitmq: str) -> Iterator[AmqpNames]:
    names = AmqpNames(rabbitmq)
    yield names
    names.cleanup()


@pytest.fixture
def amqp_harness(amqp_names: AmqpNames, tmp_path: Path) -> Iterator[Any]:
    """test_bus_transports.py's Harness on AMQP (closed at the end)."""
    h = make_amqp_harness(amqp_names, tmp_path)
    yield h
    h.close()


def make_amqp_harness(names: AmqpNames, tmp_path: Path, **transport_kwargs: Any) -> Any:
    """The harness of test_bus_transports.py with AmqpTransport and AmqpClient (each system's
    queue named with the test's prefix)."""
    from endpoints.amqp import AmqpClient, AmqpTransport
    from routing.bus import Bus
    from routing.store import Store
    from tests.integration import harness

    cfg = harness.config_for(
        "amqp",
        addresses={name: names.system(name) for name in harness.SYSTEMS},
        amqp=names.amqp_section(),
    )
    store = Store(f"sqlite:///{tmp_path}/bus-{uuid.uuid4().hex[:6]}.db", payload_policy="all")
    bus = Bus(cfg, store).start()
    transport = AmqpTransport(bus, cfg.amqp, **transport_kwargs).start()
    assert transport.ready, "AmqpTransport did not connect"
    return harness.Harness(
        "amqp",
        bus,
        transport,
        lambda name: AmqpClient(names.url, name, queue=names.system(name), **names.client_kwargs()),
    )


__all__ = [
    "AMQP_URL",
    "AmqpNames",
    "amqp_harness",
    "amqp_names",
    "make_amqp_harness",
    "rabbitmq",
    "rabbitmqctl",
]
