"""Composition root: build the bus and the configured transports from a Config (BUS-10).

The embedded transport always runs (in-process systems such as the simulators attach to it);
AMQP and MQTT run when enabled; SOAP is served by ``cimbus serve``. Each cimbus process is one
worker; several workers share the store (PostgreSQL) and the durable broker queues.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from endpoints.embedded import EmbeddedBroker, EmbeddedTransport
from routing.bus import Bus
from routing.config import Config

log = logging.getLogger("cimbus")


@dataclass
class Runtime:
    config: Config
    bus: Bus = field(init=False)
    broker: EmbeddedBroker = field(init=False)
    transports: list[Any] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.bus = Bus(self.config)
        self.broker = EmbeddedBroker()
        self.transports.append(EmbeddedTransport(self.bus, self.broker))
        if self.config.amqp.enabled:
            from endpoints.amqp import AmqpTransport

            self.transports.append(
                AmqpTransport(self.bus, self.config.amqp, workers=self.config.amqp.workers)
            )
        if self.config.mqtt.enabled:
            from endpoints.mqtt import MqttTransport

            self.transports.append(
                MqttTransport(self.bus, self.config.mqtt, consumers=self.config.mqtt.consumers)
            )

    def start(self) -> Runtime:
        self.bus.start()
        for t in self.transports:
            t.start()
        return self

    def stop(self) -> None:
        for t in reversed(self.transports):
            try:
                t.stop()
            except Exception:  # stopping must not hide the other transports' shutdown
                log.exception("stopping %s failed", getattr(t, "name", t))
        self.bus.stop()

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def describe(self) -> list[str]:
        names = ", ".join(getattr(t, "name", type(t).__name__) for t in self.transports)
        return [
            f"config: {self.config.source}",
            f"store: {self.config.store.url}",
            f"transports: {names}" + (", soap" if self.config.soap.enabled else ""),
            f"routes: {len(self.config.routes.routes)} request routes, "
            f"{len(self.config.routes.subscriptions)} subscriptions, {len(self.config.routes.systems)} systems",
        ]
