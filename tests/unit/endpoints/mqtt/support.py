"""Helpers for the MQTT endpoint's unit tests."""

from __future__ import annotations


class FakeBus:
    """What MqttTransport needs of routing.bus.Bus to be built (no store, no pipeline)."""

    name = "CIMBUS"
    worker_id = "host-1-abcdef"

    def __init__(self) -> None:
        self.outbound: dict[str, object] = {}

    def register_transport(self, t: object) -> None:
        self.outbound[t.name] = t
