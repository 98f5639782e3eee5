"""A Bus with a real SQLite store and a recording fake transport, for step tests."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from cim_models.build import build_message
from routing.bus import Bus
from routing.config import Config
from routing.store import Store
from routing.transport import Delivery


class FakeOutbound:
    """Records deliveries; optionally answers synchronously or fails."""

    name = "embedded"

    def __init__(self) -> None:
        self.delivered: list[Delivery] = []
        self.answer = None  # callable(Delivery) -> bytes | None
        self.fail: Exception | None = None

    def deliver(self, delivery: Delivery) -> bytes | None:
        if self.fail is not None:
            raise self.fail
        self.delivered.append(delivery)
        return self.answer(delivery) if self.answer else None

    def reply_address(self, *, sync: bool) -> str | None:
        return "cimbus.reply.test" if sync else "cimbus.in"


CONFIG = {
    "bus": {"retry_base": 0.01, "retry_max": 0.02, "max_attempts": 3},
    "systems": {
        "CIS": {"transport": "embedded"},
        "HES": {"transport": "embedded"},
        "MDMS": {"transport": "embedded"},
        "ODR": {"transport": "local"},
    },
    "routes": [
        {"verb": "get", "noun": "MeterReadings", "target": "HES", "timeout": 0.5},
        {
            "verb": "create",
            "noun": "EndDeviceControls",
            "target": "HES",
            "mode": "async",
            "timeout": 0.3,
        },
        {"verb": "get", "noun": "EndDeviceEvents", "target": "ODR"},
    ],
    "subscriptions": [
        {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["MDMS", "CIS"]}
    ],
}


@pytest.fixture
def bus(tmp_path: Path) -> Bus:
    b = Bus(Config.from_mapping(CONFIG), Store(f"sqlite:///{tmp_path}/t.db", payload_policy="all"))
    b.store.migrate()
    b.fake = FakeOutbound()
    b.register_transport(b.fake)
    yield b
    b.stop()


def msg(verb: str, noun: str, **kw) -> bytes:
    kw.setdefault("message_id", str(uuid.uuid4()))
    kw.setdefault("source", "CIS")
    return build_message(verb, noun, **kw)
