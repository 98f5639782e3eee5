"""Connect a simulator to cimbus over a transport (embedded, AMQP, MQTT).

Simulators reach cimbus only over the wire: through the endpoint *clients* (the same ones an
integrator's script would use), never through the routing core.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["TRANSPORTS", "connect"]

TRANSPORTS = ("embedded", "amqp", "mqtt")


def connect(
    transport: str, system: str, *, broker: Any = None, url: str | None = None, **options: Any
) -> Any:
    """A BusClient for ``system``: ``embedded`` needs the in-process ``broker``; ``amqp`` and
    ``mqtt`` take ``url`` (default CIMBUS_AMQP_URL / CIMBUS_MQTT_URL or the local broker)."""
    if transport == "embedded":
        if broker is None:
            raise ValueError(
                "the embedded transport needs the in-process broker of a running cimbus"
            )
        from endpoints.embedded import EmbeddedClient

        return EmbeddedClient(broker, system, **options)
    if transport == "amqp":
        from endpoints.amqp import AmqpClient

        return AmqpClient(
            url or os.environ.get("CIMBUS_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
            system,
            **options,
        )
    if transport == "mqtt":
        from endpoints.mqtt import MqttClient

        return MqttClient(
            url or os.environ.get("CIMBUS_MQTT_URL", "mqtt://127.0.0.1:1884"), system, **options
        )
    raise ValueError(
        f"unknown transport {transport!r}; simulators connect over {', '.join(TRANSPORTS)}"
    )
