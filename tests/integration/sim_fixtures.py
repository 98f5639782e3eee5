"""A running cimbus (embedded or RabbitMQ) that simulators attach to over the wire (issue 4).

``sim_world`` is parametrized: ``embedded`` (in-process bus) and ``amqp`` (RabbitMQ, marked
``broker``: skipped on a machine without it, mandatory in CI). A test builds the world with its
own routes and attaches simulators with ``world.attach(sim)``; both cases run the same body::

    pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.sim_fixtures"]

    def test_x(sim_world):
        world = sim_world(routes=[...], subscriptions=[...])
        hes = world.attach(HeadEnd("demo"))
        cis = world.attach(Cis("demo"))
        ...
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cimbus.runtime import Runtime
from routing.config import Config


@dataclass
class SimWorld:
    """cimbus plus attached simulators on one transport."""

    kind: str
    runtime: Runtime
    names: Any = None  # AmqpNames for the amqp case
    sims: list[Any] = field(default_factory=list)

    def client(self, system: str) -> Any:
        if self.kind == "embedded":
            from endpoints.embedded import EmbeddedClient

            return EmbeddedClient(self.runtime.broker, system)
        from endpoints.amqp import AmqpClient

        return AmqpClient(
            self.names.url, system, queue=self.names.system(system), **self.names.client_kwargs()
        )

    def attach(self, sim: Any, system: str | None = None) -> Any:
        """Connect ``sim`` as ``system`` (default: its own system name) and return it."""
        if system is not None:
            sim.system = system
        sim.attach(self.client(sim.system))
        self.sims.append(sim)
        return sim

    @property
    def store(self) -> Any:
        return self.runtime.bus.store

    def close(self) -> None:
        for sim in self.sims:
            with contextlib.suppress(Exception):
                sim.close()
        self.runtime.stop()


SYSTEMS = ("HES", "MDMS", "CIS", "OMS", "CRM", "DCC", "FIELD")


@pytest.fixture(params=["embedded", pytest.param("amqp", marks=pytest.mark.broker)])
def sim_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A factory ``sim_world(routes=..., subscriptions=..., systems=..., **sections)``."""
    worlds: list[SimWorld] = []
    kind = request.param
    names = request.getfixturevalue("amqp_names") if kind == "amqp" else None

    def make(
        *,
        routes: list[dict[str, Any]] | None = None,
        subscriptions: list[dict[str, Any]] | None = None,
        systems: tuple[str, ...] | dict[str, dict[str, Any]] = SYSTEMS,
        **sections: Any,
    ) -> SimWorld:
        spec: dict[str, dict[str, Any]] = {}
        items = systems.items() if isinstance(systems, dict) else ((s, {}) for s in systems)
        for name, extra in items:
            entry = {"transport": kind, **extra}
            if kind == "amqp" and entry["transport"] == "amqp":
                entry.setdefault("address", names.system(name))
            spec[name] = entry
        mapping: dict[str, Any] = {
            "bus": {"retry_base": 0.05, "retry_max": 0.5, **sections.pop("bus", {})},
            "store": {
                "url": f"sqlite:///{tmp_path}/cimbus-{uuid.uuid4().hex[:6]}.db",
                "payload_policy": "all",
            },
            "systems": spec,
            "routes": routes or [],
            "subscriptions": subscriptions or [],
            **sections,
        }
        if kind == "amqp":
            mapping["amqp"] = names.amqp_section(**mapping.get("amqp", {}))
        world = SimWorld(kind, Runtime(Config.from_mapping(mapping)).start(), names)
        if kind == "amqp":
            ready = [t for t in world.runtime.transports if getattr(t, "name", "") == "amqp"]
            assert ready and ready[0].ready, "AmqpTransport did not connect"
        worlds.append(world)
        return world

    yield make
    for w in worlds:
        w.close()


__all__ = ["SYSTEMS", "SimWorld", "sim_world"]
