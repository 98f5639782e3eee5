"""SMT on-demand read (ODR-1..ODR-7, SEC-2) on the running system: a ``cimbus.runtime.Runtime``
with the embedded bus, a fake TDSP head-end (``EmbeddedClient(broker, "HES").serve``), the TDSP
posting its daily VEE data and a ROR's CIS asking over the wire, on SQLite and on PostgreSQL
(BUS-10: the same flow on both). Two runtimes sharing one database stand for two cimbus
workers: the per-ESIID per-day throttle holds across them (ODR-5).

The PostgreSQL runs are marked ``broker`` (they skip on a machine without PostgreSQL, never
in CI) and also run the SMT store contract there.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from cim_models.codes import NON_VEE
from cimbus.runtime import Runtime
from endpoints.embedded import EmbeddedClient
from routing.config import Config
from routing.store import Store
from tests.unit.routing.services.odr_messages import (
    CT,
    ESIID,
    GET_WRAPPER,
    OTHER_ESIID,
    OTHER_ROR,
    Clock,
    FakeHeadEnd,
    get_request,
    ping_request,
    reply_of,
    vee_posting,
)
from tests.unit.routing.services.smt_store_contract import SmtStoreContract

NOW = datetime(2026, 5, 12, 9, 41, tzinfo=CT)
LAST_VEE = datetime(2026, 5, 11, 0, 0, tzinfo=CT)

REGISTRY = f"""esiid,meter_number,ror,ams,provisioned,interval_minutes,daily_read
{ESIID},118822734,REP-BLUEBONNET,true,true,15,true
10443720005555555,118800000,REP-BLUEBONNET,false,true,15,true
"""


def odr_config(store_url: str, registry: Path) -> Config:
    """What docs/smt.md tells an operator to configure."""
    return Config.from_mapping(
        {
            "bus": {"retry_base": 0.05, "retry_max": 0.5},
            "store": {"url": store_url, "payload_policy": "all"},
            "smt": {"registry": str(registry), "timeout": 5},
            "systems": {
                "CIS": {"transport": "embedded", "description": "Rep of Record's CIS"},
                "HES": {"transport": "embedded", "description": "TDSP head-end"},
                "MDMS": {"transport": "embedded"},
                "TDSP": {"transport": "embedded", "description": "TDSP daily VEE posting"},
                "SMT": {"transport": "local", "address": "smt"},
            },
            "routes": [
                {"verb": "get", "noun": "MeterReadings", "source": "CIS", "target": "SMT"},
                {"verb": "get", "noun": "MeterReadings", "target": "HES", "timeout": 5},
                {"verb": "create", "noun": "EndDeviceControls", "source": "CIS", "target": "SMT"},
                {
                    "verb": "create",
                    "noun": "EndDeviceControls",
                    "target": "HES",
                    "mode": "async",
                    "timeout": 5,
                },
            ],
            "subscriptions": [
                {"verb": "created", "noun": "MeterReadings", "subscribers": ["MDMS", "SMT"]}
            ],
        }
    )


class Worker:
    """One cimbus worker (Runtime + its embedded broker) with a fake head-end, the ROR's CIS
    and the TDSP attached."""

    def __init__(self, config: Config, clock: Clock) -> None:
        self.runtime = Runtime(config, clock=clock).start()
        self.headend = FakeHeadEnd()
        self.hes = EmbeddedClient(self.runtime.broker, "HES")
        self.hes.serve(self.headend)
        self.cis = EmbeddedClient(self.runtime.broker, "CIS")
        self.tdsp = EmbeddedClient(self.runtime.broker, "TDSP")

    def ask(self, body: bytes) -> dict[str, Any]:
        return reply_of(self.cis.request(body, timeout=15))

    def post_vee(self, esiid: str, end: datetime) -> dict[str, Any]:
        return reply_of(self.tdsp.request(vee_posting(esiid, end), timeout=15))

    def close(self) -> None:
        for client in (self.hes, self.cis, self.tdsp):
            client.close()
        self.runtime.stop()
        self.runtime.bus.store.close()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.broker)],
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/odr.db"
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    schema = f"cimbus_odr_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, poolclass=NullPool)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        # the schema of its own, and a lock wait that should not happen fails instead of hanging
        yield f"{postgres_url}?options=-csearch_path%3D{schema}%20-clock_timeout%3D10s"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def make_worker(store_url: str, tmp_path: Path, clock: Clock) -> Iterator[Callable[[], Worker]]:
    registry = tmp_path / "usage_points.csv"
    registry.write_text(REGISTRY, encoding="utf-8")
    workers: list[Worker] = []

    def make() -> Worker:
        worker = Worker(odr_config(store_url, registry), clock)
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.close()


@pytest.fixture
def worker(make_worker: Callable[[], Worker]) -> Worker:
    return make_worker()


# ---------------------------------------------------------------------------- the flow
def test_vee_posting_read_throttle_next_day(worker: Worker, clock: Clock) -> None:
    """ODR-7 -> ODR-1..ODR-3 -> ODR-5: the TDSP posts VEE data, the ROR reads the non-VEE gap
    since then, a second read the same day is refused, the next day it is allowed again."""
    assert worker.post_vee(ESIID, LAST_VEE)["result"] == "OK"
    assert worker.runtime.bus.store.last_vee_end(ESIID) == LAST_VEE

    first = worker.ask(get_request())
    assert first["result"] == "OK", first["reasons"]
    assert first["namespace"] == GET_WRAPPER
    assert first["reasons"][0] == "134 interval readings and 1 register read returned"
    assert first["intervals"][0] == LAST_VEE + timedelta(minutes=15)
    assert first["intervals"][-1] == datetime(2026, 5, 12, 9, 30, tzinfo=CT)
    assert set(first["qualities"]) == {NON_VEE}

    second = worker.ask(get_request())
    assert (second["result"], second["codes"]) == ("FAILED", ["2.7"])
    assert "limit of 1 successful meter read per ESIID per day reached" in second["reasons"][0]
    assert "next allowed from 2026-05-13T00:00:00-05:00" in second["reasons"][0]
    assert worker.headend.kinds() == ["GetMeterReadings"]

    clock.now = datetime(2026, 5, 13, 8, 0, tzinfo=CT)
    assert worker.post_vee(ESIID, datetime(2026, 5, 12, 0, 0, tzinfo=CT))["result"] == "OK"
    third = worker.ask(get_request())
    assert third["result"] == "OK"
    assert third["intervals"][0] == datetime(2026, 5, 12, 0, 15, tzinfo=CT)
    assert worker.headend.kinds() == ["GetMeterReadings", "GetMeterReadings"]


def test_the_exchange_is_followed_end_to_end_by_correlation_id(worker: Worker) -> None:
    """BUS-9: ROR request -> SMT's request to the head-end -> its reply -> the answer."""
    worker.post_vee(ESIID, LAST_VEE)
    body = get_request(message_id="ror-odr-1")
    worker.ask(body)
    rows = worker.runtime.bus.store.trail("ror-odr-1")
    assert [(r.direction, r.verb, r.target) for r in rows] == [
        ("in", "get", "SMT"),
        ("out", "get", "HES"),
        ("in", "reply", "CIMBUS"),
        ("out", "reply", "CIS"),
    ]


def test_non_ror_is_refused_and_nothing_is_read(worker: Worker) -> None:
    """ODR-4 / SEC-2."""
    worker.post_vee(ESIID, LAST_VEE)
    seen = worker.ask(get_request(organization=OTHER_ROR))
    assert (seen["result"], seen["codes"]) == ("FAILED", ["3.2"])
    assert "REP-BLUEBONNET" not in seen["reasons"][0]
    assert worker.headend.kinds() == []


def test_unknown_and_ineligible_esiids(worker: Worker) -> None:
    """ODR-6: unknown -> 2.12 naming it; a non-AMS meter (from the registry file) -> 2.7."""
    unknown = worker.ask(get_request(OTHER_ESIID))
    assert unknown["codes"] == ["2.12"] and OTHER_ESIID in unknown["reasons"][0]
    not_ams = worker.ask(get_request("10443720005555555"))
    assert not_ams["codes"] == ["2.7"] and "is not an AMS meter" in not_ams["reasons"][0]
    assert worker.headend.kinds() == []


def test_window_longer_than_48_hours_is_refused(worker: Worker) -> None:
    """ODR-2."""
    worker.post_vee(ESIID, LAST_VEE)
    seen = worker.ask(get_request(start=LAST_VEE, end=LAST_VEE + timedelta(hours=49)))
    assert seen["codes"] == ["2.7"]
    assert "longer than 48 h" in seen["reasons"][0]
    assert (
        "the last VEE data for ESIID 10443720001234567 ends at 2026-05-11T00:00:00-05:00"
        in (seen["reasons"][0])
    )
    assert worker.headend.kinds() == []


def test_ping_throttle(worker: Worker, clock: Clock) -> None:
    """ODR-5: one successful power-status ping per ESIID per day, separate from reads."""
    first = worker.ask(ping_request())
    assert first["result"] == "OK" and first["element"] == "EndDeviceControlsResponseMessage"
    second = worker.ask(ping_request())
    assert second["codes"] == ["2.7"]
    assert "1 successful power status request (ping) per ESIID per day" in second["reasons"][0]
    clock.advance(days=1)
    assert worker.ask(ping_request())["result"] == "OK"
    assert worker.headend.kinds() == ["CreateEndDeviceControls", "CreateEndDeviceControls"]


def test_two_workers_share_the_daily_limit(make_worker: Callable[[], Worker]) -> None:
    """ODR-5 across cimbus workers sharing the store: the ROR asks both at once; exactly one
    read is made."""
    workers = [make_worker(), make_worker()]
    workers[0].post_vee(ESIID, LAST_VEE)
    barrier = threading.Barrier(len(workers))
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()

    def ask(w: Worker) -> None:
        barrier.wait()
        seen = w.ask(get_request())
        with lock:
            answers.append(seen)

    threads = [threading.Thread(target=ask, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(a["result"] for a in answers) == ["FAILED", "OK"]
    assert sum(len(w.headend.kinds()) for w in workers) == 1


# ---------------------------------------------------------------------------- store contract
@pytest.fixture
def make_store(store_url: str) -> Iterator[Callable[..., Store]]:
    opened: list[Store] = []
    migrated = False

    def make(**options: Any) -> Store:
        nonlocal migrated
        store = Store(store_url, **options)
        opened.append(store)
        if not migrated:
            store.migrate()
            migrated = True
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    return make_store(payload_policy="all")


class TestSmtStoreOnEveryBackend(SmtStoreContract):
    """ODR-2, ODR-4..ODR-7 store behaviours on SQLite and PostgreSQL (BUS-10)."""
