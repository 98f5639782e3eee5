"""Fixtures for the SMT service tests: a migrated SQLite store, and a Bus whose head-end (HES)
answers in the same call through a fake transport (so the service runs end to end through
``Bus.handle`` without threads or brokers)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from routing.bus import Bus
from routing.config import Config
from routing.services import SmtService
from routing.store import Store, UsagePoint
from routing.transport import Delivery

from .odr_messages import CT, ESIID, METER, ROR, Clock, FakeHeadEnd

T0 = datetime(2026, 5, 12, 9, 41, tzinfo=CT)  # a Tuesday morning in Texas


@pytest.fixture(scope="session")
def smt_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("smt-template") / "template.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.close()
    return path


@pytest.fixture
def make_store(tmp_path: Path, smt_template: Path) -> Iterator[Callable[..., Store]]:
    """A migrated Store; every call opens another Store on the same database (like another
    cimbus worker)."""
    path = tmp_path / "smt.db"
    shutil.copyfile(smt_template, path)
    opened: list[Store] = []

    def make(**options: Any) -> Store:
        store = Store(f"sqlite:///{path}", **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    return make_store(payload_policy="all")


class HeadEndTransport:
    """The ``embedded`` transport of the test bus: the head-end answers in the same call;
    other deliveries are recorded (``delivered``)."""

    name = "embedded"

    def __init__(self, headend: FakeHeadEnd) -> None:
        self.headend = headend
        self.delivered: list[Delivery] = []
        self.fail: Exception | None = None
        self.silent = False  # the head-end never answers (timeout)

    def deliver(self, delivery: Delivery) -> bytes | None:
        if self.fail is not None:
            raise self.fail
        self.delivered.append(delivery)
        if delivery.system.name == "HES" and delivery.sync and not self.silent:
            return self.headend(delivery.body)
        return None

    def reply_address(self, *, sync: bool) -> str | None:
        return "cimbus.reply.test" if sync else "cimbus.in"


def smt_config(*, edc_mode: str = "async", **smt: Any) -> dict[str, Any]:
    """Systems CIS (a ROR's CIS), CIS2 (acts for REP-LONESTAR only), HES, MDMS, TDSP and the
    local SMT; ROR requests from CIS / CIS2 go to SMT, everyone else's to HES."""
    return {
        "bus": {"retry_base": 0.01, "retry_max": 0.02, "max_attempts": 3},
        "smt": {"timeout": 0.5, **smt},
        "systems": {
            "CIS": {"transport": "embedded"},
            "CIS2": {"transport": "embedded", "organizations": ["REP-LONESTAR"]},
            "HES": {"transport": "embedded"},
            "MDMS": {"transport": "embedded"},
            "TDSP": {"transport": "embedded"},
            "SMT": {"transport": "local", "address": "smt"},
        },
        "routes": [
            {"verb": "get", "noun": "MeterReadings", "source": "CIS", "target": "SMT"},
            {"verb": "get", "noun": "MeterReadings", "source": "CIS2", "target": "SMT"},
            {"verb": "get", "noun": "MeterReadings", "target": "HES", "timeout": 0.5},
            {"verb": "create", "noun": "EndDeviceControls", "source": "CIS", "target": "SMT"},
            {
                "verb": "create",
                "noun": "EndDeviceControls",
                "target": "HES",
                "mode": edc_mode,
                "timeout": 0.5,
            },
        ],
        "subscriptions": [
            {"verb": "created", "noun": "MeterReadings", "subscribers": ["MDMS", "SMT"]}
        ],
    }


@dataclass
class Odr:
    """The SMT service on a test bus: ``handle(body)`` runs one message through the pipeline."""

    bus: Bus
    smt: SmtService
    clock: Clock
    headend: FakeHeadEnd
    transport: HeadEndTransport

    def handle(self, body: bytes, source_transport: str = "test") -> Any:
        return self.bus.handle(body, transport=source_transport)

    def provision(self, esiid: str = ESIID, **kw: Any) -> UsagePoint:
        kw.setdefault("ror", ROR)
        kw.setdefault("meter_number", METER)
        return self.smt.provision(esiid, **kw)


@pytest.fixture
def make_odr(tmp_path: Path, smt_template: Path) -> Iterator[Callable[..., Odr]]:
    made: list[Odr] = []

    def make(**smt: Any) -> Odr:
        path = tmp_path / f"bus-{len(made)}.db"
        shutil.copyfile(smt_template, path)
        bus = Bus(
            Config.from_mapping(smt_config(**smt)),
            Store(f"sqlite:///{path}", payload_policy="all"),
        )
        bus.store.migrate()
        headend = FakeHeadEnd()
        transport = HeadEndTransport(headend)
        bus.register_transport(transport)
        clock = Clock(T0)
        service = SmtService(bus, bus.config.smt, clock=clock)
        bus.register_local("smt", service)
        odr = Odr(bus, service, clock, headend, transport)
        made.append(odr)
        return odr

    yield make
    for odr in made:
        odr.bus.stop()
        odr.bus.store.close()


@pytest.fixture
def odr(make_odr: Callable[..., Odr]) -> Odr:
    return make_odr()
