"""The store's behaviour, written once and run on every backend (BUS-10: the same tests pass
on SQLite and PostgreSQL).

Each ``*Contract`` class is collected through a ``Test...`` subclass: on SQLite in this folder,
on PostgreSQL in tests/integration/test_store_postgres.py. They need two fixtures:
``make_store(**options) -> Store`` (a migrated Store on the test's own database; every call
opens another Store on the *same* database, like another process) and ``store``
(``make_store(payload_policy="all")``), plus ``make_empty_store()`` for the migration test: a
Store on a database of its own that nothing migrated yet (every call: the same database).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from routing.store import (
    AuditEntry,
    Correlation,
    DeadLetter,
    OutboxItem,
    Store,
    UsagePoint,
)
from routing.store._migrate import (
    EXPRESSION_INDEXES,
    alembic_config,
    expression_index_warnings_muted,
    head_revision,
)
from routing.store._types import UTCDateTime
from routing.store.models import Base

MakeStore = Callable[..., Store]
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def index_names(store: Store, table: str) -> set[str]:
    """The indexes of ``table`` read from the catalogue (SQLAlchemy's inspector skips
    expression indexes on SQLite)."""
    with store._engine.connect() as connection:
        if store._engine.dialect.name == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
        else:
            sql = "SELECT indexname FROM pg_indexes WHERE tablename = :t"
        return {r[0] for r in connection.execute(sa.text(sql), {"t": table})}


def entry(**kw) -> AuditEntry:
    values = {
        "direction": "in",
        "transport": "soap",
        "message_id": "m-1",
        "verb": "get",
        "noun": "MeterReadings",
        "source": "CIS",
        "target": "HES",
        "result": "OK",
        "received_at": T0,
        "payload": b"<RequestMessage/>",
    }
    values.update(kw)
    return AuditEntry(**values)


def item(**kw) -> OutboxItem:
    values = {
        "target": "HES",
        "transport": "amqp",
        "address": "cimbus.system.HES",
        "message_id": "m-1",
        "correlation_id": "c-1",
        "verb": "create",
        "noun": "EndDeviceControls",
        "payload": b"<CreateEndDeviceControls/>",
        "headers": {"verb": "create", "noun": "EndDeviceControls", "source": "CIS"},
        "max_attempts": 3,
        "next_attempt_at": T0,
    }
    values.update(kw)
    return OutboxItem(**values)


def enqueue_before_0006(
    store: Store, message_id: str, payload: bytes = b"<old/>", *, attempts: int = 0, **kw
) -> None:
    """An outbox entry as a cimbus before revision 0006 wrote it (any revision from 0001 on):
    the payload in the outbox row (the store's own ``enqueue`` now writes
    ``outbox_payloads``); ``kw`` as for :func:`item`."""
    old = item(message_id=message_id, payload=payload, **kw)
    outbox = sa.table(
        "outbox",
        *(sa.column(c) for c in ("status", "target", "transport", "address", "message_id")),
        *(sa.column(c) for c in ("correlation_id", "verb", "noun", "payload")),
        *(sa.column(c) for c in ("attempts", "max_attempts")),
        sa.column("headers", sa.JSON()),
        sa.column("next_attempt_at", UTCDateTime()),
        sa.column("created_at", UTCDateTime()),
    )
    with store._engine.begin() as connection:
        connection.execute(
            outbox.insert().values(
                status="pending",
                target=old.target,
                transport=old.transport,
                address=old.address,
                message_id=old.message_id,
                correlation_id=old.correlation_id,
                verb=old.verb,
                noun=old.noun,
                payload=old.payload,
                attempts=attempts,
                max_attempts=old.max_attempts,
                headers=old.headers,
                next_attempt_at=old.next_attempt_at,
                created_at=T0,
            )
        )


def correlation(cid: str = "c-1", **kw) -> Correlation:
    values = {
        "correlation_id": cid,
        "request_message_id": cid,
        "requester": "CIS",
        "reply_address": "http://cis.example/replies",
        "reply_transport": "soap",
        "mode": "async",
        "deadline": at(10),
        "noun": "EndDeviceControls",
    }
    values.update(kw)
    return Correlation(**values)


def dead(**kw) -> DeadLetter:
    values = {
        "message_id": "m-9",
        "source": "HES",
        "target": "MDMS",
        "transport": "amqp",
        "address": "cimbus.system.MDMS",
        "reason": "refused by MDMS: 2.2 invalid payload",
        "payload": b"<CreatedEndDeviceEvents/>",
        "headers": {"verb": "created", "noun": "EndDeviceEvents"},
        "attempts": 1,
    }
    values.update(kw)
    return DeadLetter(**values)


# ====================================================================== audit (BUS-9)
class AuditContract:
    def test_record_round_trips_every_field_as_aware_utc(self, store: Store) -> None:
        cet = timezone(timedelta(hours=1))
        rid = store.record(
            entry(
                correlation_id="c-0",
                user="alice",
                organization="REP-1",
                result="FAILED",
                error_code="2.12",
                error_reason="unknown meter",
                received_at=datetime(2025, 3, 1, 13, 0, tzinfo=cet),  # = T0
                completed_at=datetime(2025, 3, 1, 13, 0, 0, 250_000, tzinfo=cet),
            )
        )
        [r] = store.audit()
        assert r.id == rid
        assert (r.direction, r.transport, r.message_id, r.correlation_id) == (
            "in",
            "soap",
            "m-1",
            "c-0",
        )
        assert (r.verb, r.noun, r.source, r.target) == ("get", "MeterReadings", "CIS", "HES")
        assert (r.user, r.organization) == ("alice", "REP-1")
        assert (r.result, r.error_code, r.error_reason) == ("FAILED", "2.12", "unknown meter")
        assert r.received_at == T0 and r.received_at.tzinfo == UTC
        assert r.completed_at is not None and r.completed_at.tzinfo == UTC
        assert r.duration_ms == pytest.approx(250.0)
        assert r.payload == b"<RequestMessage/>" and r.size == len(b"<RequestMessage/>")
        assert r.payload_truncated is False

    def test_record_refuses_naive_datetimes_and_unknown_directions(self, store: Store) -> None:
        with pytest.raises(ValueError, match="naive"):
            store.record(entry(received_at=datetime(2025, 3, 1, 12)))
        with pytest.raises(ValueError, match="direction"):
            store.record(entry(direction="sideways"))
        assert store.audit() == []

    def test_payload_policy_all_keeps_every_payload(self, make_store: MakeStore) -> None:
        store = make_store(payload_policy="all")
        store.record(entry(result="OK", payload=b"ok"))
        store.record(entry(result="FAILED", payload=b"bad"))
        assert sorted(r.payload for r in store.audit()) == [b"bad", b"ok"]

    def test_payload_policy_failed_keeps_only_failures(self, make_store: MakeStore) -> None:
        store = make_store(payload_policy="failed")
        for i, (result, code) in enumerate(
            [("OK", None), ("ACCEPTED", None), ("FAILED", "2.2"), ("PARTIAL", None), (None, "5.0")]
        ):
            store.record(
                entry(message_id=f"m-{i}", result=result, error_code=code, payload=b"x" * 7)
            )
        kept = {r.message_id: r.payload for r in store.audit()}
        assert kept == {"m-0": None, "m-1": None, "m-2": b"x" * 7, "m-3": b"x" * 7, "m-4": b"x" * 7}
        assert {r.size for r in store.audit()} == {7}  # the size is always recorded

    def test_payload_policy_none_keeps_no_payload(self, make_store: MakeStore) -> None:
        store = make_store(payload_policy="none")
        store.record(entry(result="FAILED", payload=b"bad"))
        [r] = store.audit()
        assert r.payload is None and r.size == 3

    def test_payload_is_truncated_to_max_bytes_with_a_flag(self, make_store: MakeStore) -> None:
        store = make_store(payload_policy="all", max_payload_bytes=10)
        store.record(entry(message_id="big", payload=b"0123456789ABCDEF"))
        store.record(entry(message_id="small", payload=b"0123456789"))
        records = {r.message_id: r for r in store.audit()}
        assert records["big"].payload == b"0123456789" and records["big"].payload_truncated
        assert records["big"].size == 16
        assert records["small"].payload == b"0123456789" and not records["small"].payload_truncated

    def test_trail_follows_request_reply_and_async_reply(self, store: Store) -> None:
        rows = [
            # (seconds, direction, message_id, correlation_id, verb, source)
            (0, "in", "M1", None, "create", "CIS"),  # async request from CIS
            (1, "out", "ACK1", "M1", "reply", "cimbus"),  # immediate acknowledgement
            (5, "in", "R1", "M1", "reply", "HES"),  # HES's reply
            (6, "out", "R1", "M1", "reply", "cimbus"),  # forwarded to CIS's ReplyAddress
            (7, "in", "A1", "R1", "reply", "CIS"),  # CIS acknowledges the forwarded reply
            (3, "in", "OTHER", None, "get", "CIS"),  # unrelated
            (4, "out", "X", "OTHER", "reply", "cimbus"),  # unrelated
        ]
        for seconds, direction, mid, cid, verb, source in rows:
            store.record(
                entry(
                    direction=direction,
                    message_id=mid,
                    correlation_id=cid,
                    verb=verb,
                    source=source,
                    received_at=at(seconds),
                )
            )
        trail = store.trail("M1")
        assert [(r.direction, r.message_id, r.source) for r in trail] == [
            ("in", "M1", "CIS"),
            ("out", "ACK1", "cimbus"),
            ("in", "R1", "HES"),
            ("out", "R1", "cimbus"),
            ("in", "A1", "CIS"),
        ]
        assert store.trail("nothing-like-it") == []

    def test_audit_filters_newest_first(self, store: Store) -> None:
        store.record(entry(message_id="a", verb="get", source="CIS", received_at=at(0)))
        store.record(entry(message_id="b", verb="create", source="CIS", received_at=at(1)))
        store.record(
            entry(message_id="c", verb="create", noun="EndDeviceControls", received_at=at(2))
        )
        store.record(entry(message_id="d", source="HES", result="FAILED", received_at=at(3)))
        assert [r.message_id for r in store.audit()] == ["d", "c", "b", "a"]
        assert [r.message_id for r in store.audit(limit=2)] == ["d", "c"]
        assert [r.message_id for r in store.audit(verb="create")] == ["c", "b"]
        assert [r.message_id for r in store.audit(noun="EndDeviceControls")] == ["c"]
        assert [r.message_id for r in store.audit(source="HES")] == ["d"]
        assert [r.message_id for r in store.audit(result="FAILED")] == ["d"]
        assert [r.message_id for r in store.audit(since=at(1))] == ["d", "c", "b"]
        assert [r.message_id for r in store.audit(verb="create", since=at(2))] == ["c"]


# ====================================================================== de-duplication (REL-1)
class DedupeContract:
    def test_claim_is_true_once_then_false(self, store: Store) -> None:
        assert store.claim_message_id("m-1", "CIS") is True
        assert store.claim_message_id("m-1", "CIS") is False
        assert store.claim_message_id("m-1", "MDMS") is True  # another source's m-1
        assert store.claim_message_id("m-2", None) is True
        assert store.claim_message_id("m-2", None) is False  # no Source still collides

    def test_reply_is_stored_for_duplicates(self, store: Store) -> None:
        assert store.is_known_message("m-1", "CIS") is False
        assert store.claim_message_id("m-1", "CIS")
        assert store.is_known_message("m-1", "CIS") is True
        assert store.stored_reply("m-1", "CIS") is None  # still being processed
        store.remember_reply("m-1", "CIS", b"<Reply>OK</Reply>")
        assert store.stored_reply("m-1", "CIS") == b"<Reply>OK</Reply>"
        assert store.stored_reply("m-1", "MDMS") is None
        store.remember_reply("m-1", "CIS", b"<Reply>final</Reply>")
        assert store.stored_reply("m-1", "CIS") == b"<Reply>final</Reply>"

    def test_reply_without_claim_marks_the_message_known(self, store: Store) -> None:
        store.remember_reply("m-7", None, b"<Reply>FAILED 2.3</Reply>")
        assert store.is_known_message("m-7", None)
        assert store.claim_message_id("m-7", None) is False
        assert store.stored_reply("m-7", None) == b"<Reply>FAILED 2.3</Reply>"

    def test_claim_in_a_rolled_back_transaction_is_released(self, store: Store) -> None:
        with pytest.raises(RuntimeError), store.transaction():
            assert store.claim_message_id("m-1", "CIS")
            raise RuntimeError("crash before the outbox entry was written")
        assert store.claim_message_id("m-1", "CIS") is True

    def test_concurrent_claims_from_several_stores_have_one_winner(
        self, make_store: MakeStore
    ) -> None:
        stores = [make_store() for _ in range(6)]
        barrier = threading.Barrier(len(stores))
        results: list[bool] = []

        def claim(s: Store) -> None:
            barrier.wait()
            results.append(s.claim_message_id("race", "CIS"))

        threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert sorted(results) == [False] * 5 + [True]


# ====================================================================== outbox (REL-1)
class OutboxContract:
    def test_enqueue_then_claim_returns_the_whole_entry(self, store: Store) -> None:
        item_id = store.enqueue(item())
        [r] = store.claim_due("w1", now=at(0), lease_seconds=30)
        assert r.id == item_id and r.status == "claimed" and r.claimed_by == "w1"
        assert r.lease_until == at(30)
        assert (r.target, r.transport, r.address) == ("HES", "amqp", "cimbus.system.HES")
        assert (r.message_id, r.correlation_id, r.verb, r.noun) == (
            "m-1",
            "c-1",
            "create",
            "EndDeviceControls",
        )
        assert r.payload == b"<CreateEndDeviceControls/>"
        assert r.headers == {"verb": "create", "noun": "EndDeviceControls", "source": "CIS"}
        assert (r.attempts, r.max_attempts, r.last_error) == (0, 3, None)
        assert r.next_attempt_at == T0 and r.created_at.tzinfo == UTC
        assert store.claim_due("w2", now=at(1)) == []  # claimed: nobody else gets it

    def test_enqueue_without_a_time_is_due_now(self, store: Store) -> None:
        store.enqueue(item(next_attempt_at=None))
        assert len(store.claim_due("w1")) == 1

    def test_failed_delivery_waits_for_retry_at_then_is_delivered(self, store: Store) -> None:
        item_id = store.enqueue(item())
        [r] = store.claim_due("w1", now=at(0))
        store.mark_failed(r.id, "ConnectionError: broker down", retry_at=at(10))
        r = store.outbox_item(item_id)
        assert r is not None
        assert (r.status, r.attempts, r.last_error) == (
            "pending",
            1,
            "ConnectionError: broker down",
        )
        assert r.claimed_by is None and r.lease_until is None and r.next_attempt_at == at(10)
        assert store.claim_due("w1", now=at(9.9)) == []  # not due before retry_at
        [again] = store.claim_due("w1", now=at(10))
        assert again.id == item_id and again.attempts == 1
        store.mark_delivered(item_id)
        done = store.outbox_item(item_id)
        assert done is not None and done.status == "delivered" and done.attempts == 2
        assert done.delivered_at is not None and done.delivered_at.tzinfo == UTC
        assert store.claim_due("w1", now=at(3600)) == []
        assert store.outbox_counts() == {"pending": 0, "claimed": 0, "delivered": 1, "dead": 0}

    def test_defer_many_puts_claimed_entries_back_without_an_attempt(self, store: Store) -> None:
        """The transport was not connected (TransportUnavailable): no attempt of the message,
        one statement for the batch, only entries this worker still holds."""
        ids = [store.enqueue(item(message_id=f"d-{i}")) for i in range(3)]
        claimed = store.claim_due("w1", now=at(0))
        assert {c.id for c in claimed} == set(ids)
        store.mark_delivered(ids[2])  # settled meanwhile: left alone
        n = store.defer_many(ids, "w1", "NotConnected: broker down", retry_at=at(5))
        assert n == 2
        for item_id in ids[:2]:
            r = store.outbox_item(item_id)
            assert r is not None
            assert (r.status, r.attempts, r.last_error) == (
                "pending",
                0,
                "NotConnected: broker down",
            )
            assert r.claimed_by is None and r.lease_until is None and r.next_attempt_at == at(5)
        assert store.outbox_item(ids[2]).status == "delivered"  # type: ignore[union-attr]
        assert store.claim_due("w1", now=at(4.9)) == []
        again = store.claim_due("w2", now=at(5))
        assert sorted(c.id for c in again) == ids[:2]
        assert store.defer_many([c.id for c in again], "w1", "x", retry_at=at(9)) == 0  # w2's

    def test_expired_lease_makes_the_entry_claimable_by_another_worker(
        self, make_store: MakeStore
    ) -> None:
        worker1, worker2 = make_store(), make_store()
        item_id = worker1.enqueue(item())
        [r] = worker1.claim_due("w1", now=at(0), lease_seconds=30)
        assert worker2.claim_due("w2", now=at(29)) == []  # w1 still holds it
        [r] = worker2.claim_due("w2", now=at(30), lease_seconds=30)  # w1 died: lease expired
        assert r.id == item_id and r.claimed_by == "w2" and r.lease_until == at(60)
        worker2.mark_delivered(item_id)
        worker1.mark_failed(item_id, "late failure report from w1", retry_at=at(31))
        after = worker1.outbox_item(item_id)
        assert after is not None and after.status == "delivered"  # not resurrected

    def test_claim_due_oldest_first_up_to_limit(self, store: Store) -> None:
        ids = [store.enqueue(item(message_id=f"m-{i}", next_attempt_at=at(i))) for i in range(5)]
        store.enqueue(item(message_id="future", next_attempt_at=at(100)))
        first = store.claim_due("w1", limit=2, now=at(10))
        assert [r.id for r in first] == ids[:2]
        rest = store.claim_due("w1", limit=10, now=at(10))
        assert [r.id for r in rest] == ids[2:]
        assert store.outbox_counts() == {"pending": 1, "claimed": 5, "delivered": 0, "dead": 0}

    def test_claim_due_merges_expired_leases_and_pending_oldest_first(self, store: Store) -> None:
        """Entries whose worker died (lease expired) and pending ones are claimed together,
        by next_attempt_at, up to the limit."""
        old = store.enqueue(item(message_id="old", next_attempt_at=at(0)))
        late = store.enqueue(item(message_id="late", next_attempt_at=at(5)))
        assert {r.id for r in store.claim_due("w-dead", now=at(5), lease_seconds=1)} == {old, late}
        pending = [
            store.enqueue(item(message_id=f"p-{i}", next_attempt_at=at(i + 1))) for i in range(3)
        ]
        first = store.claim_due("w1", limit=3, now=at(10))  # both leases expired at 6
        assert [r.id for r in first] == [old, pending[0], pending[1]]
        rest = store.claim_due("w1", limit=3, now=at(10))
        assert [r.id for r in rest] == [pending[2], late]
        assert all(r.claimed_by == "w1" and r.payload == item().payload for r in first + rest)
        assert store.claim_due("w1", limit=3, now=at(10)) == []

    def test_backlog_counts_what_is_still_to_deliver(self, store: Store) -> None:
        delivered, dead, claimed, pending = (
            store.enqueue(item(message_id=f"m-{i}", next_attempt_at=at(i))) for i in range(4)
        )
        assert pending > claimed  # oldest first below
        store.mark_delivered_many([delivered])
        store.to_dead_letter(dead, "refused")
        [c] = store.claim_due("w1", limit=1, now=at(10))
        assert c.id == claimed
        assert store.outbox_backlog() == {"pending": 1, "claimed": 1}
        assert store.outbox_counts() == {"pending": 1, "claimed": 1, "delivered": 1, "dead": 1}

    def test_max_attempts_then_dead_letter(self, store: Store) -> None:
        item_id = store.enqueue(item(max_attempts=3))
        now = 0.0
        for attempt in range(1, 3):
            [r] = store.claim_due("w1", now=at(now))
            assert r.attempts == attempt - 1
            store.mark_failed(r.id, f"timeout #{attempt}", retry_at=at(now + 1))
            now += 1
        [r] = store.claim_due("w1", now=at(now))
        assert r.attempts + 1 >= r.max_attempts  # the worker's rule: give up now
        dl_id = store.to_dead_letter(r.id, "gave up after 3 attempts: timeout #3")
        out = store.outbox_item(item_id)
        assert out is not None and out.status == "dead" and out.attempts == 3
        assert store.claim_due("w1", now=at(10_000)) == []
        dl = store.get_dead_letter(dl_id)
        assert dl is not None
        assert dl.reason == "gave up after 3 attempts: timeout #3" and dl.attempts == 3
        assert (dl.message_id, dl.correlation_id, dl.verb, dl.noun) == (
            "m-1",
            "c-1",
            "create",
            "EndDeviceControls",
        )
        assert (dl.source, dl.target, dl.transport, dl.address) == (
            "CIS",
            "HES",
            "amqp",
            "cimbus.system.HES",
        )
        assert dl.payload == b"<CreateEndDeviceControls/>" and dl.headers["noun"] == (
            "EndDeviceControls"
        )
        assert dl.outbox_id == item_id and dl.replayed_at is None
        assert store.to_dead_letter(item_id, "again") == dl_id  # idempotent
        assert store.outbox_counts()["dead"] == 1

    def test_unknown_outbox_ids_raise(self, store: Store) -> None:
        for call in (
            lambda: store.mark_delivered(999),
            lambda: store.mark_failed(999, "x", retry_at=T0),
            lambda: store.to_dead_letter(999, "x"),
        ):
            with pytest.raises(KeyError):
                call()
        assert store.outbox_item(999) is None

    def test_outbox_counts_every_status(self, store: Store) -> None:
        assert store.outbox_counts() == {"pending": 0, "claimed": 0, "delivered": 0, "dead": 0}
        a, b, c = (store.enqueue(item(message_id=m)) for m in "abc")
        store.enqueue(item(message_id="d"))
        store.claim_due("w1", limit=3, now=at(0))
        store.mark_delivered(a)
        store.to_dead_letter(b, "refused")
        assert store.outbox_counts() == {"pending": 1, "claimed": 1, "delivered": 1, "dead": 1}
        assert c > b > a

    def test_two_workers_never_claim_the_same_entry(self, make_store: MakeStore) -> None:
        setup = make_store()
        ids = {setup.enqueue(item(message_id=f"m-{i}")) for i in range(40)}
        workers = [make_store(), make_store()]
        claimed: dict[str, list[int]] = {"w0": [], "w1": []}
        barrier = threading.Barrier(2)

        def work(name: str, s: Store) -> None:
            barrier.wait()
            while batch := s.claim_due(name, limit=3, now=at(0)):
                claimed[name].extend(r.id for r in batch)

        threads = [threading.Thread(target=work, args=(f"w{i}", s)) for i, s in enumerate(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        everything = claimed["w0"] + claimed["w1"]
        assert len(everything) == len(set(everything)) == 40
        assert set(everything) == ids


# ====================================================================== correlation (BUS-7)
class CorrelationContract:
    def test_open_and_read_back(self, store: Store) -> None:
        store.open_correlation(correlation("c-1"))
        r = store.correlation("c-1")
        assert r is not None
        assert (r.correlation_id, r.request_message_id, r.requester) == ("c-1", "c-1", "CIS")
        assert (r.reply_address, r.reply_transport, r.mode) == (
            "http://cis.example/replies",
            "soap",
            "async",
        )
        assert r.deadline == at(10) and r.deadline.tzinfo == UTC
        assert (r.status, r.reply, r.closed_at, r.noun) == ("open", None, None, "EndDeviceControls")
        assert store.correlation("unknown") is None

    def test_reply_closes_the_exchange(self, store: Store) -> None:
        store.open_correlation(correlation("c-1"))
        r = store.complete_correlation("c-1", status="replied", reply=b"<Reply>OK</Reply>")
        assert r is not None and r.status == "replied" and r.reply == b"<Reply>OK</Reply>"
        assert r.closed_at is not None
        stored = store.correlation("c-1")
        assert stored is not None and stored.status == "replied"
        assert store.complete_correlation("unknown", status="replied", reply=b"x") is None

    def test_timeout_then_late_reply_is_kept(self, store: Store) -> None:
        store.open_correlation(correlation("c-1", deadline=at(10)))
        [expired] = store.expired_correlations(now=at(10))
        assert expired.correlation_id == "c-1"
        timed_out = store.complete_correlation("c-1", status="timed_out", reply=None)
        assert timed_out is not None and timed_out.status == "timed_out"
        assert store.expired_correlations(now=at(20)) == []
        late = store.complete_correlation("c-1", status="replied", reply=b"<Reply>late</Reply>")
        assert late is not None and late.status == "late" and late.reply == b"<Reply>late</Reply>"
        assert late.closed_at == timed_out.closed_at
        stored = store.correlation("c-1")
        assert stored is not None and (stored.status, stored.reply) == (
            "late",
            b"<Reply>late</Reply>",
        )

    def test_a_timeout_after_the_reply_changes_nothing(self, store: Store) -> None:
        store.open_correlation(correlation("c-1"))
        store.complete_correlation("c-1", status="replied", reply=b"first")
        store.complete_correlation("c-1", status="timed_out", reply=None)
        again = store.complete_correlation("c-1", status="replied", reply=b"second")
        assert again is not None and again.status == "late" and again.reply == b"first"

    def test_expired_lists_only_open_exchanges_past_their_deadline(self, store: Store) -> None:
        store.open_correlation(correlation("soon", deadline=at(5)))
        store.open_correlation(correlation("sync", deadline=at(1), mode="sync"))
        store.open_correlation(correlation("later", deadline=at(60)))
        store.open_correlation(correlation("done", deadline=at(2)))
        store.complete_correlation("done", status="replied", reply=b"r")
        assert [r.correlation_id for r in store.expired_correlations(now=at(5))] == ["sync", "soon"]
        assert store.expired_correlations(now=at(0)) == []
        assert len(store.expired_correlations()) == 3  # real now is long after T0

    def test_invalid_status_and_mode_are_refused(self, store: Store) -> None:
        store.open_correlation(correlation("c-1"))
        with pytest.raises(ValueError):
            store.complete_correlation("c-1", status="open", reply=None)
        with pytest.raises(ValueError):
            store.open_correlation(correlation("c-2", mode="sometimes"))


# ====================================================================== dead letters (REL-2)
class DeadLetterContract:
    def test_dead_letters_list_get_and_replay(self, store: Store) -> None:
        first = store.dead_letter(dead(message_id="m-1"))
        second = store.dead_letter(dead(message_id="m-2", reason="no route", attempts=0))
        listed = store.dead_letters()
        assert [d.id for d in listed] == [first, second]  # oldest first
        d = store.get_dead_letter(first)
        assert d is not None
        assert (d.message_id, d.source, d.target, d.transport, d.address) == (
            "m-1",
            "HES",
            "MDMS",
            "amqp",
            "cimbus.system.MDMS",
        )
        assert d.reason == "refused by MDMS: 2.2 invalid payload" and d.attempts == 1
        assert d.payload == b"<CreatedEndDeviceEvents/>"
        assert d.headers == {"verb": "created", "noun": "EndDeviceEvents"}
        assert d.created_at.tzinfo == UTC and d.replayed_at is None
        store.mark_replayed(first)
        assert [d.id for d in store.dead_letters()] == [second]
        assert [d.id for d in store.dead_letters(include_replayed=True)] == [first, second]
        replayed = store.get_dead_letter(first)
        assert replayed is not None and replayed.replayed_at is not None
        assert [d.id for d in store.dead_letters(limit=1, include_replayed=True)] == [first]
        assert store.get_dead_letter(10_000) is None
        with pytest.raises(KeyError):
            store.mark_replayed(10_000)


# ====================================================================== unit of work
class TransactionContract:
    def test_writes_commit_together(self, make_store: MakeStore) -> None:
        store, other = make_store(), make_store()
        with store.transaction() as tx:
            assert tx is store
            store.record(entry())
            store.enqueue(item())
            assert other.outbox_counts()["pending"] == 0  # not visible before the commit
            assert store.outbox_counts()["pending"] == 1  # but inside the transaction
        assert other.outbox_counts()["pending"] == 1
        assert len(other.audit()) == 1

    def test_exception_rolls_back_every_write(self, store: Store) -> None:
        with pytest.raises(RuntimeError), store.transaction():
            store.record(entry())
            store.enqueue(item())
            store.open_correlation(correlation())
            store.dead_letter(dead())
            raise RuntimeError("boom")
        assert store.audit() == []
        assert store.outbox_counts()["pending"] == 0
        assert store.correlation("c-1") is None
        assert store.dead_letters() == []

    def test_nested_transaction_joins_the_outer_one(self, store: Store) -> None:
        with pytest.raises(RuntimeError), store.transaction():
            with store.transaction():
                store.enqueue(item())
            raise RuntimeError("outer fails after the inner block ended")
        assert store.outbox_counts()["pending"] == 0

    def test_read_then_write_is_not_broken_by_a_concurrent_writer(
        self, make_store: MakeStore
    ) -> None:
        """SQLite: a transaction takes the write lock up front (BEGIN IMMEDIATE); a deferred
        one would fail with "database is locked" when it writes after another writer
        committed since its first read."""
        store, other = make_store(), make_store()
        errors: list[BaseException] = []

        def concurrent_writer() -> None:
            try:
                other.enqueue(item(message_id="other"))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        t = threading.Thread(target=concurrent_writer)
        with store.transaction():
            assert store.outbox_counts()["pending"] == 0  # read first
            t.start()
            t.join(0.2)  # SQLite: blocked until this transaction ends; PostgreSQL: done
            store.enqueue(item(message_id="mine"))  # then write
        t.join(30)
        assert errors == []
        assert store.outbox_counts()["pending"] == 2

    def test_transaction_belongs_to_its_thread(self, store: Store) -> None:
        started = threading.Event()

        def other_thread() -> None:
            started.set()
            store.record(entry(message_id="from-another-thread"))

        t = threading.Thread(target=other_thread)
        with pytest.raises(RuntimeError), store.transaction():
            store.record(entry(message_id="rolled-back"))
            t.start()
            started.wait(5)
            raise RuntimeError("roll back this thread's work only")
        t.join(30)
        assert [r.message_id for r in store.audit()] == ["from-another-thread"]


# ====================================================================== restart and schema
class PersistenceContract:
    def test_everything_survives_closing_and_reopening(self, make_store: MakeStore) -> None:
        before = make_store()
        before.record(entry())
        before.claim_message_id("m-1", "CIS")
        before.remember_reply("m-1", "CIS", b"<Reply/>")
        in_flight = before.enqueue(item(message_id="in-flight"))
        waiting = before.enqueue(item(message_id="waiting"))
        [r] = before.claim_due("w-dead", limit=1, now=at(0), lease_seconds=30)
        assert r.id == in_flight
        before.open_correlation(correlation())
        before.dead_letter(dead())
        before.close()  # the process is killed here

        after = make_store()
        assert [r.message_id for r in after.audit()] == ["m-1"]
        assert after.claim_message_id("m-1", "CIS") is False
        assert after.stored_reply("m-1", "CIS") == b"<Reply/>"
        assert [r.id for r in after.claim_due("w-new", now=at(1))] == [waiting]
        # the entry the dead worker held comes back once its lease expires
        assert [r.id for r in after.claim_due("w-new", now=at(30))] == [in_flight]
        stored = after.correlation("c-1")
        assert stored is not None and stored.status == "open"
        assert len(after.dead_letters()) == 1

    def test_upgrade_from_the_first_revision_keeps_the_data(
        self, make_empty_store: MakeStore
    ) -> None:
        old = make_empty_store()
        assert old.schema_revision() is None
        old.migrate("0001")
        assert old.schema_revision() == "0001"
        # rows written by a 0001-era cimbus, described with the 0001 columns only
        audit = sa.table(
            "audit",
            *(sa.column(c) for c in ("direction", "transport", "message_id", "payload_truncated")),
            sa.column("received_at", UTCDateTime()),
        )
        with old._engine.begin() as connection:
            connection.execute(
                audit.insert().values(
                    direction="in",
                    transport="soap",
                    message_id="old-1",
                    payload_truncated=False,
                    received_at=T0,
                )
            )
        enqueue_before_0006(old, "old-2", attempts=2, headers={"verb": "create"})
        old.close()

        new = make_empty_store()  # the upgraded cimbus starts on the same database
        new.migrate()
        assert new.schema_revision() == head_revision() != "0001"
        [a] = new.audit()
        assert (a.message_id, a.received_at) == ("old-1", T0)
        [o] = new.claim_due("w1", now=at(0))
        assert (o.message_id, o.payload, o.attempts, o.headers) == (
            "old-2",
            b"<old/>",
            2,
            {"verb": "create"},
        )
        assert "ix_audit_received_at" in index_names(new, "audit")  # added by 0002

    def test_upgrade_from_0002_adds_the_smt_tables_and_keeps_the_data(
        self, make_empty_store: MakeStore
    ) -> None:
        """0003 (SMT on-demand read, ODR-2/4..7) only adds tables: a 0002 database keeps
        every row and gets a working registry, VEE state and throttle."""
        old = make_empty_store()
        old.migrate("0002")
        old.record(entry(message_id="before-0003"))
        old.claim_message_id("before-0003", "CIS")
        enqueue_before_0006(old, "queued-before-0003")
        assert "smt_usage_points" not in sa.inspect(old._engine).get_table_names()
        old.close()

        new = make_empty_store()
        new.migrate()
        assert new.schema_revision() == head_revision()
        assert [r.message_id for r in new.audit()] == ["before-0003"]
        assert new.claim_message_id("before-0003", "CIS") is False
        assert [r.message_id for r in new.claim_due("w1", now=at(0))] == ["queued-before-0003"]
        tables = set(sa.inspect(new._engine).get_table_names())
        assert {"smt_usage_points", "smt_vee_postings", "smt_requests"} <= tables
        new.upsert_usage_points([UsagePoint(esiid="E1", ror="REP-A")])
        assert new.record_vee_end("E1", T0) and new.last_vee_end("E1") == T0
        assert new.odr_reserve("E1", "read", "2025-03-01", limit=1, now=T0, expires_at=at(60))

    def test_upgrade_from_0003_drops_the_unused_outbox_index_and_keeps_the_queue(
        self, make_empty_store: MakeStore
    ) -> None:
        """0004 drops ix_outbox_message_id (no query used it; it cost an index page per
        outbox entry): entries queued before the upgrade are still claimed and delivered."""
        old = make_empty_store()
        old.migrate("0003")
        enqueue_before_0006(old, "queued-before-0004")
        assert "ix_outbox_message_id" in {
            i["name"] for i in sa.inspect(old._engine).get_indexes("outbox")
        }
        old.close()

        new = make_empty_store()
        new.migrate()
        assert new.schema_revision() == head_revision()
        indexes = {i["name"] for i in sa.inspect(new._engine).get_indexes("outbox")}
        assert "ix_outbox_message_id" not in indexes
        assert {"ix_outbox_status_next_attempt_at", "ix_outbox_status_lease_until"} <= indexes
        [o] = new.claim_due("w1", now=at(0))
        assert o.message_id == "queued-before-0004"
        new.mark_delivered(o.id)
        assert new.claim_due("w1", now=at(60)) == []

    def test_upgrade_from_0005_moves_outbox_payloads_and_downgrade_puts_them_back(
        self, make_empty_store: MakeStore
    ) -> None:
        """0006 moves every outbox payload into ``outbox_payloads`` (same id): entries queued,
        delivered or dead before the upgrade keep their bytes; entries written after it are
        delivered too; a downgrade to 0005 puts the payloads back into the outbox rows."""
        old = make_empty_store()
        old.migrate("0005")
        enqueue_before_0006(old, "queued", b"<q/>")
        enqueue_before_0006(old, "delivered", b"<d/>")
        enqueue_before_0006(old, "dead", b"<x/>")
        old.close()

        new = make_empty_store()
        new.migrate()
        assert new.schema_revision() == head_revision()
        columns = {c["name"] for c in sa.inspect(new._engine).get_columns("outbox")}
        assert "payload" not in columns
        claimed = {o.message_id: o for o in new.claim_due("w1", now=at(0))}
        assert {m: o.payload for m, o in claimed.items()} == {
            "queued": b"<q/>",
            "delivered": b"<d/>",
            "dead": b"<x/>",
        }
        new.mark_delivered(claimed["delivered"].id)
        dl = new.to_dead_letter(claimed["dead"].id, "refused")
        assert new.get_dead_letter(dl).payload == b"<x/>"
        assert new.outbox_item(claimed["delivered"].id).payload == b"<d/>"
        assert new.enqueue(item(message_id="after", payload=b"<a/>")) > 0
        with new.batch():
            new.enqueue(item(message_id="batched", payload=b"<b/>"))
        later = {o.message_id: o.payload for o in new.claim_due("w1", now=at(0))}
        assert later == {"after": b"<a/>", "batched": b"<b/>"}
        new.close()

        with new._engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0005")
        back = make_empty_store()
        assert back.schema_revision() == "0005"
        with back._engine.connect() as connection:
            rows = dict(connection.execute(sa.text("SELECT message_id, payload FROM outbox")).all())
            tables = sa.inspect(connection).get_table_names()
        assert {k: bytes(v) for k, v in rows.items()} == {
            "queued": b"<q/>",
            "delivered": b"<d/>",
            "dead": b"<x/>",
            "after": b"<a/>",
            "batched": b"<b/>",
        }
        assert "outbox_payloads" not in tables

    def test_migrate_twice_is_harmless(self, store: Store) -> None:
        store.record(entry())
        store.migrate()
        store.migrate()
        assert store.schema_revision() == head_revision()
        assert len(store.audit()) == 1

    def test_models_match_the_migrations(self, store: Store) -> None:
        with store._engine.connect() as connection, expression_index_warnings_muted():
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        # what SQLite's reflection cannot compare is at least there, on both backends
        assert set(EXPRESSION_INDEXES) <= index_names(store, "audit")

    def test_upgrade_from_0004_rebuilds_the_audit_id_indexes_and_trails_stay_whole(
        self, make_empty_store: MakeStore
    ) -> None:
        """0005 replaces ix_audit_message_id / ix_audit_correlation_id by ix_audit_thread
        (coalesce(correlation_id, message_id)) and ix_audit_message_id_answered: a trail
        recorded before the upgrade reads back the same after it."""
        old = make_empty_store()
        old.migrate("0004")
        exchange = [
            entry(message_id="req", correlation_id=None, received_at=at(0)),
            entry(message_id="ack-1", correlation_id="req", direction="out", received_at=at(1)),
            entry(message_id="rep", correlation_id="req", received_at=at(2)),
            entry(message_id="ack-2", correlation_id="rep", direction="out", received_at=at(3)),
            entry(message_id="own", correlation_id="biz-7", received_at=at(4)),  # its own corr.
            entry(message_id="other", received_at=at(5)),
        ]
        for e in exchange:
            old.record(e)
        before = [r.message_id for r in old.trail("req")]
        assert before == ["req", "ack-1", "rep", "ack-2"]
        assert {"ix_audit_message_id", "ix_audit_correlation_id"} <= index_names(old, "audit")
        old.close()

        new = make_empty_store()
        new.migrate()
        indexes = index_names(new, "audit")
        assert {"ix_audit_thread", "ix_audit_message_id_answered"} <= indexes
        assert not {"ix_audit_message_id", "ix_audit_correlation_id"} & indexes
        assert [r.message_id for r in new.trail("req")] == before
        assert [r.message_id for r in new.trail("own")] == ["own"]  # by MessageID
        assert [r.message_id for r in new.trail("biz-7")] == ["own"]  # by CorrelationID
        assert [r.message_id for r in new.trail("rep")] == ["rep", "ack-2"]
