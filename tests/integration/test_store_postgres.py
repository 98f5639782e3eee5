"""The store on PostgreSQL (BUS-10: the same behaviours as on SQLite), plus what only a
server shows: concurrent workers claiming the outbox with SKIP LOCKED, concurrent MessageID
claims and concurrent migrations (REL-1).

Each test gets schemas of its own (``search_path`` set through the connection options),
dropped at the end, so runs never collide. ``lock_timeout`` turns a lock wait that should not
happen into an error instead of a hang.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from routing.store import Store
from routing.store._migrate import head_revision
from tests.unit.routing.store.contract import (
    AuditContract,
    CorrelationContract,
    DeadLetterContract,
    DedupeContract,
    OutboxContract,
    PersistenceContract,
    TransactionContract,
    at,
    item,
)
from tests.unit.routing.store.contract_batch import BatchContract
from tests.unit.routing.store.contract_retention import RetentionContract

pytestmark = pytest.mark.broker

MakeStore = Callable[..., Store]


def open_store(url: str, schema: str, **options) -> Store:
    args = {"options": f"-csearch_path={schema} -clock_timeout=5s"}
    return Store(url, connect_args=args, **options)


@pytest.fixture
def new_schema(postgres_url: str) -> Iterator[Callable[[], str]]:
    admin = sa.create_engine(postgres_url, poolclass=NullPool)
    created: list[str] = []

    def make() -> str:
        name = f"cimbus_t_{uuid.uuid4().hex[:12]}"
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        created.append(name)
        return name

    yield make
    with admin.begin() as connection:
        for name in created:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    admin.dispose()


def _factory(url: str, schema: str, opened: list[Store], *, migrate: bool) -> MakeStore:
    migrated = not migrate

    def make(**options) -> Store:
        nonlocal migrated
        store = open_store(url, schema, **options)
        opened.append(store)
        if not migrated:
            store.migrate()
            migrated = True
        return store

    return make


@pytest.fixture
def make_store(postgres_url: str, new_schema: Callable[[], str]) -> Iterator[MakeStore]:
    opened: list[Store] = []
    yield _factory(postgres_url, new_schema(), opened, migrate=True)
    for store in opened:
        store.close()


@pytest.fixture
def make_empty_store(postgres_url: str, new_schema: Callable[[], str]) -> Iterator[MakeStore]:
    opened: list[Store] = []
    yield _factory(postgres_url, new_schema(), opened, migrate=False)
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: MakeStore) -> Store:
    return make_store(payload_policy="all")


class TestAuditPostgres(AuditContract):
    """BUS-9 on PostgreSQL."""


class TestDedupePostgres(DedupeContract):
    """REL-1 de-duplication on PostgreSQL."""


class TestOutboxPostgres(OutboxContract):
    """REL-1 outbox on PostgreSQL."""


class TestRetentionPostgres(RetentionContract):
    """Retention (BUS-9, REL-1 de-duplication window) on PostgreSQL."""


class TestCorrelationPostgres(CorrelationContract):
    """BUS-7 correlation table on PostgreSQL."""


class TestDeadLettersPostgres(DeadLetterContract):
    """REL-2 dead letters on PostgreSQL."""


class TestTransactionPostgres(TransactionContract):
    """Unit of work on PostgreSQL."""


class TestPersistencePostgres(PersistenceContract):
    """Restart and migrations on PostgreSQL."""


class TestBatchPostgres(BatchContract):
    """Batched writes (issue 3) on PostgreSQL."""


# ---------------------------------------------------------------------- PostgreSQL only


def test_claim_skips_rows_another_worker_holds(make_store: MakeStore) -> None:
    """SKIP LOCKED: while worker A's claim is uncommitted, worker B neither waits for A nor
    gets A's rows; it takes the others."""
    a, b = make_store(), make_store()
    ids = [a.enqueue(item(message_id=f"m-{i}")) for i in range(5)]
    with a.transaction():
        held = [r.id for r in a.claim_due("A", limit=3, now=at(0))]
        t0 = time.monotonic()
        taken = [r.id for r in b.claim_due("B", limit=10, now=at(0))]
        assert time.monotonic() - t0 < 2  # did not wait for A's locks
    assert held == ids[:3] and taken == ids[3:]
    assert b.claim_due("B", now=at(1)) == []  # A's claims committed, leases running
    assert b.outbox_counts()["claimed"] == 5


def test_many_workers_drain_the_outbox_exactly_once(make_store: MakeStore) -> None:
    setup = make_store()
    ids = {setup.enqueue(item(message_id=f"m-{i}")) for i in range(120)}
    workers = [make_store() for _ in range(4)]
    claimed: list[tuple[str, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(workers))

    def work(name: str, s: Store) -> None:
        barrier.wait()
        while batch := s.claim_due(name, limit=7, now=at(0)):
            for r in batch:
                s.mark_delivered(r.id)
            with lock:
                claimed.extend((name, r.id) for r in batch)

    threads = [threading.Thread(target=work, args=(f"w{i}", s)) for i, s in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    got = [i for _, i in claimed]
    assert len(got) == len(set(got)) == 120 and set(got) == ids
    assert setup.outbox_counts()["delivered"] == 120


@pytest.mark.parametrize(("first_commits", "second_wins"), [(True, False), (False, True)])
def test_a_second_claim_waits_for_the_first_claimers_outcome(
    make_store: MakeStore, first_commits: bool, second_wins: bool
) -> None:
    first, second = make_store(), make_store()
    result: list[bool] = []
    with pytest.raises(RuntimeError) if not first_commits else _nothing(), first.transaction():
        assert first.claim_message_id("m-1", "CIS")
        t = threading.Thread(target=lambda: result.append(second.claim_message_id("m-1", "CIS")))
        t.start()
        time.sleep(0.2)
        assert result == []  # blocked on the uncommitted claim
        if not first_commits:
            raise RuntimeError("the first claimer crashed")
    t.join(10)
    assert result == [second_wins]


def test_concurrent_migrations_are_serialised(
    postgres_url: str, new_schema: Callable[[], str]
) -> None:
    schema = new_schema()
    stores = [open_store(postgres_url, schema) for _ in range(3)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(stores))

    def migrate(s: Store) -> None:
        barrier.wait()
        try:
            s.migrate()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        assert {s.schema_revision() for s in stores} == {head_revision()}
    finally:
        for s in stores:
            s.close()


def test_timestamps_are_timestamptz(store: Store) -> None:
    columns = {c["name"]: c["type"] for c in sa.inspect(store._engine).get_columns("outbox")}
    for name in ("next_attempt_at", "lease_until", "created_at", "delivered_at"):
        assert getattr(columns[name], "timezone", False) is True, name
    assert store.backend == "postgresql"


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
