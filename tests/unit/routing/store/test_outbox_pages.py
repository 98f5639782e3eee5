"""What the outbox costs SQLite's WAL (REL-1, issue 3 speed; revision 0006).

An outbox entry's row is rewritten when it is claimed and when it is marked delivered. With the
message inside the row (2 KB, one row per 4 KB page), marking a confirmed batch delivered
rewrote one table page per entry: a third of the WAL an AMQP-routed message cost, and the
longest hold of the writer lock. The payloads now live in ``outbox_payloads``, written once.
These tests count WAL frames (deterministic), not time.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.dialects import sqlite

import routing.store._base as store_base
import routing.store.store as store_module
from routing.store import OutboxItem, Store, _outbox
from routing.store._checkpoint import Checkpointer, wal_backlog

PAYLOAD = os.urandom(1974)  # the benchmark's CreatedMeterReadings, incompressible anyway


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A SQLite store whose WAL nobody copies during the test (so frames can be counted)."""
    cp = Checkpointer(delay=3600.0, idle_close=60.0)
    monkeypatch.setattr(store_base, "CHECKPOINTER", cp)
    monkeypatch.setattr(store_module, "CHECKPOINTER", cp)
    s = Store(f"sqlite:///{tmp_path}/cimbus.db")
    s.migrate()
    yield s
    s.close()


def _frames(store: Store) -> int:
    backlog = wal_backlog(str(store._checkpoint_path))
    assert backlog is not None
    return backlog


def _entries(store: Store, n: int, *, claim_for: str | None = "w1") -> list[int]:
    """``n`` entries in batches of 100; their ids when claimed for a worker."""
    ids: list[int] = []
    for start in range(0, n, 100):
        with store.batch(claim_for=claim_for) as pending:
            for i in range(start, min(n, start + 100)):
                store.enqueue(
                    OutboxItem(
                        target="MDMS",
                        transport="amqp",
                        address="cimbus.system.MDMS",
                        payload=PAYLOAD,
                        message_id=f"m-{i}",
                        headers={"verb": "created", "noun": "MeterReadings", "source": "HES"},
                    )
                )
        ids += [r.id for r in pending.created]
    return ids


def test_marking_entries_delivered_does_not_rewrite_their_payloads(store: Store) -> None:
    ids = _entries(store, 400)
    assert len(ids) == 400
    before = _frames(store)
    for i in range(0, len(ids), 200):
        store.mark_delivered_many(ids[i : i + 200])
    written = _frames(store) - before
    # the payloads' pages (~200 of them) are not touched: the small rows and the two status
    # indexes only (~0.12 pages per entry measured; one page per entry before revision 0006)
    assert written < len(ids) / 4, f"{written} WAL pages to mark {len(ids)} entries delivered"
    assert store.outbox_counts()["delivered"] == 400
    assert store.outbox_item(ids[-1]).payload == PAYLOAD


def test_two_payloads_share_a_page(store: Store) -> None:
    """Written by a batch, entry + payload cost ~half a page each (a 2 KB payload next to
    the entry's columns in one row took a page of its own)."""
    _entries(store, 100, claim_for=None)  # the first batch also creates the tables' pages
    before = _frames(store)
    _entries(store, 200, claim_for=None)
    written = _frames(store) - before
    assert written < 0.8 * 200, f"{written} WAL pages for 200 entries"
    claimed = store.claim_due("w2", limit=500)
    assert [c.payload for c in claimed] == [PAYLOAD] * 300


def test_a_claim_reads_the_limit_not_the_backlog(store: Store) -> None:
    """claim_due walks each due kind along its index and stops at the limit: no sort of every
    due entry (the query over both kinds ordered by next_attempt_at sorted the whole backlog,
    payloads included, for every claim: 68-190 ms per claim of 100 with 100,000 waiting)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with store._engine.connect() as conn:
        db = conn.connection.driver_connection
        statements = (
            _outbox._PENDING_DUE,
            _outbox._LEASE_EXPIRED,
            _outbox._CLAIM_ROWS,
            _outbox._COUNT_STATUS,  # outbox_backlog, the readiness probe's
        )
        for stmt in statements:
            bound = stmt.params(now=now, limit=100, ids=[1, 2], status="pending")
            sql = bound.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
            plan = " | ".join(r[3] for r in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
            assert "TEMP B-TREE" not in plan, plan  # no sort of all the matching rows
            assert "SCAN" not in plan, plan  # index or primary-key searches only


def test_an_entry_whose_payload_was_deleted_is_given_up_not_claimed_forever(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    kept = _entries(store, 2, claim_for=None)
    assert kept == []  # not claimed for a worker: ids read back from the claim below
    with store._engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM outbox_payloads WHERE id = 1")
    claimed = store.claim_due("w1")
    assert [c.id for c in claimed] == [2]
    orphan = store.outbox_item(1)
    assert orphan is not None and orphan.status == "dead"
    assert orphan.last_error == "its payload is missing"
    assert "have no payload" in caplog.text
    assert store.claim_due("w1") == []
