"""Retention (routing/store/_retention.py), written once and run on SQLite
(test_retention_sqlite.py) and PostgreSQL (tests/integration/test_store_postgres.py): what is
old enough goes, what is young, unfinished or still open stays, in chunks, and a dry run
deletes nothing."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from routing.store import Retention, Store
from routing.store.models import (
    AuditRow,
    CorrelationRow,
    OutboxPayloadRow,
    OutboxRow,
    ProcessedMessage,
)

from .contract import T0 as NOW
from .contract import MakeStore, correlation, entry, item

OLD = NOW - timedelta(days=40)
YOUNG = NOW - timedelta(days=2)


def _age(store: Store, model, column: str, when, **where) -> None:
    """Set ``column`` of the rows matching ``where`` (all rows without) to ``when``."""
    table = model.__table__
    stmt = sa.update(table).values({column: when})
    for key, value in where.items():
        stmt = stmt.where(table.c[key] == value)
    with store._engine.begin() as conn:
        conn.execute(stmt)


def _count(store: Store, model) -> int:
    with store._engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model.__table__)).scalar_one()


class RetentionContract:
    def test_zero_keeps_everything(self, make_store: MakeStore) -> None:
        store = make_store()
        store.record(entry(received_at=OLD))
        assert not Retention().active
        assert store.prune(Retention(), now=NOW) == {
            "audit": 0,
            "outbox": 0,
            "processed_messages": 0,
            "correlations": 0,
            "dead_letters": 0,
        }
        assert _count(store, AuditRow) == 1

    def test_audit_rows_older_than_the_retention_go(self, make_store: MakeStore) -> None:
        store = make_store()
        for i in range(7):
            store.record(entry(message_id=f"old-{i}", received_at=OLD))
        for i in range(3):
            store.record(entry(message_id=f"young-{i}", received_at=YOUNG))
        keep = Retention(audit_days=30)
        assert store.prune(keep, now=NOW, dry_run=True)["audit"] == 7
        assert _count(store, AuditRow) == 10  # a dry run deletes nothing
        assert store.prune(keep, now=NOW, chunk=3)["audit"] == 7  # in chunks of 3
        left = {r.message_id for r in store.audit(limit=100)}
        assert left == {f"young-{i}" for i in range(3)}
        assert store.prune(keep, now=NOW)["audit"] == 0

    def test_only_finished_outbox_entries_go(self, make_store: MakeStore) -> None:
        store = make_store()
        delivered = store.enqueue(item(message_id="delivered"))
        dead = store.enqueue(item(message_id="dead"))
        pending = store.enqueue(item(message_id="pending"))
        young = store.enqueue(item(message_id="young"))
        store.mark_delivered_many([delivered, young])
        dl_id = store.to_dead_letter(dead, "gave up")
        _age(store, OutboxRow, "created_at", OLD)
        _age(store, OutboxRow, "created_at", YOUNG, id=young)
        counts = store.prune(Retention(outbox_days=30), now=NOW)
        assert counts["outbox"] == 2
        with store._engine.connect() as conn:
            ids = set(conn.execute(sa.select(OutboxRow.__table__.c.id)).scalars())
        assert ids == {pending, young}  # never an entry that is still to be delivered
        assert store.get_dead_letter(dl_id) is not None  # the dead letter keeps the message
        with store._engine.connect() as conn:  # payloads go with their entries (0006)
            kept = set(conn.execute(sa.select(OutboxPayloadRow.__table__.c.id)).scalars())
        assert kept == {pending, young}
        assert store.outbox_item(young).payload == item().payload

    def test_replayed_dead_letters_go_unreplayed_stay(self, make_store: MakeStore) -> None:
        store = make_store()
        first = store.to_dead_letter(store.enqueue(item(message_id="a")), "x")
        second = store.to_dead_letter(store.enqueue(item(message_id="b")), "x")
        store.mark_replayed(first)
        from routing.store.models import DeadLetterRow

        _age(store, DeadLetterRow, "replayed_at", OLD, id=first)
        assert store.prune(Retention(outbox_days=30), now=NOW)["dead_letters"] == 1
        assert store.get_dead_letter(first) is None
        assert store.get_dead_letter(second) is not None

    def test_the_dedupe_window(self, make_store: MakeStore) -> None:
        """REL-1: a MessageID is a duplicate while it is kept; after ``dedupe_days`` the same
        MessageID is new again (the documented window)."""
        store = make_store()
        assert store.claim_message_id("m-old", "CIS")
        assert store.claim_message_id("m-young", "CIS")
        assert not store.claim_message_id("m-old", "CIS")
        _age(store, ProcessedMessage, "received_at", OLD, message_id="m-old")
        assert store.prune(Retention(dedupe_days=30), now=NOW)["processed_messages"] == 1
        assert store.claim_message_id("m-old", "CIS")  # forgotten: processed again
        assert not store.claim_message_id("m-young", "CIS")  # still inside the window

    def test_closed_correlations_go_open_ones_stay(self, make_store: MakeStore) -> None:
        store = make_store()
        store.open_correlation(correlation("closed"))
        store.open_correlation(correlation("open"))
        store.complete_correlation("closed", status="replied", reply=b"<r/>")
        _age(store, CorrelationRow, "created_at", OLD)
        assert store.prune(Retention(dedupe_days=30), now=NOW)["correlations"] == 1
        assert store.correlation("closed") is None
        assert store.correlation("open") is not None

    def test_the_scan_stops_at_young_rows(self, make_store: MakeStore) -> None:
        """Rows are walked from the oldest id; once a chunk reaches rows young enough to stay,
        the prune ends (a prune with nothing to delete reads one chunk)."""
        store = make_store()
        for i in range(4):
            store.record(entry(message_id=f"old-{i}", received_at=OLD))
        for i in range(4):
            store.record(entry(message_id=f"young-{i}", received_at=YOUNG))
        store.record(entry(message_id="late-old", received_at=OLD))  # out of order, behind
        counts = store.prune(Retention(audit_days=30), now=NOW, chunk=2)
        assert counts["audit"] == 4  # the four before the young ones; "late-old" next time
        assert "late-old" in {r.message_id for r in store.audit(limit=100)}
