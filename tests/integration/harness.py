"""A Bus with a real store and one transport, plus clients for the test systems; the same
scenarios run on every transport (tests/integration/test_bus_transports.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from endpoints.embedded import EmbeddedBroker, EmbeddedClient, EmbeddedTransport
from routing.bus import Bus
from routing.config import Config
from routing.store import Store

SYSTEMS = ("CIS", "HES", "MDMS", "OMS", "SLOW")


def harness_params() -> list[Any]:
    """The transports the scenarios run on: the embedded bus, RabbitMQ and Mosquitto (the
    broker runs are marked ``broker``: they skip on a machine without brokers, never in CI)."""
    return [
        "embedded",
        pytest.param("amqp", marks=pytest.mark.broker),
        pytest.param("mqtt", marks=pytest.mark.broker),
    ]


def config_for(kind: str, *, addresses: dict[str, str] | None = None, **sections: Any) -> Config:
    """The scenarios' configuration on one transport; ``addresses`` gives systems their own
    queue/topic names (broker tests use a unique prefix per test)."""
    systems: dict[str, dict[str, str]] = {}
    for name in SYSTEMS:
        systems[name] = {"transport": kind}
        if addresses and name in addresses:
            systems[name]["address"] = addresses[name]
    return Config.from_mapping(
        {
            **sections,
            "bus": {"retry_base": 0.05, "retry_max": 0.5},
            "systems": systems,
            "routes": [
                {"verb": "get", "noun": "MeterReadings", "target": "HES", "timeout": 10},
                {
                    "verb": "create",
                    "noun": "EndDeviceControls",
                    "target": "HES",
                    "mode": "async",
                    "timeout": 10,
                },
                {"verb": "get", "noun": "EndDeviceEvents", "target": "SLOW", "timeout": 1.5},
            ],
            "subscriptions": [
                {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["MDMS", "OMS"]},
            ],
        }
    )


@dataclass
class Harness:
    kind: str
    bus: Bus
    transport: Any
    make_client: Any
    clients: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, kind: str, tmp_path: Path) -> Harness:
        store = Store(f"sqlite:///{tmp_path}/bus-{uuid.uuid4().hex[:6]}.db", payload_policy="all")
        if kind == "embedded":
            cfg = config_for(kind)
            bus = Bus(cfg, store).start()
            broker = EmbeddedBroker()
            transport = EmbeddedTransport(bus, broker).start()
            return cls(kind, bus, transport, lambda name: EmbeddedClient(broker, name))
        raise pytest.fail(f"unknown transport {kind}")

    def client(self, name: str) -> Any:
        if name not in self.clients:
            self.clients[name] = self.make_client(name)
        return self.clients[name]

    def address_of(self, name: str) -> str:
        return self.bus.routes.systems[name].address

    def close(self) -> None:
        for c in self.clients.values():
            c.close()
        self.transport.stop()
        self.bus.stop()
