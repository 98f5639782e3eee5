"""``Store.batch()`` and ``claim_many`` (issue 3), written once and run on every backend like
the contracts in contract.py: on SQLite in test_batch_sqlite.py, on PostgreSQL in
tests/integration/test_store_postgres.py. What a batch writes must read back exactly like
what the per-call path writes; nothing of it may be visible before the commit."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from routing.store import Store

from .contract import MakeStore, at, entry, item


def _audit_fields(store: Store) -> list[dict]:
    return [
        {k: v for k, v in dataclasses.asdict(r).items() if k != "id"}
        for r in sorted(store.audit(limit=100), key=lambda r: r.message_id or "")
    ]


class BatchContract:
    def test_batch_writes_read_back_like_single_writes(self, store: Store) -> None:
        rows = [
            entry(message_id="m-1", result="FAILED", error_code="2.2", error_reason="bad"),
            entry(message_id="m-2", direction="out", completed_at=at(1), payload=None),
            entry(message_id="m-3", payload=b"x" * 3, user="alice", organization="REP"),
        ]
        for r in rows:
            store.record(r)
        with store.batch():
            for r in rows:
                assert store.record(r) == 0  # the id is only known at commit
        got = _audit_fields(store)
        assert len(got) == 6
        for k in range(0, 6, 2):
            assert got[k] == got[k + 1]  # the per-call row == the batch row

    def test_outbox_entries_of_a_batch_are_claimable_as_usual(self, store: Store) -> None:
        with store.batch():
            store.enqueue(item(message_id="b-1", headers={"verb": "created", "noun": "X"}))
            store.enqueue(item(message_id="b-2"))
        claimed = store.claim_due("w1", now=at(0))
        assert [c.message_id for c in claimed] == ["b-1", "b-2"]
        assert claimed[0].headers == {"verb": "created", "noun": "X"}
        assert claimed[0].next_attempt_at == at(0) and claimed[0].payload == item().payload

    def test_stored_replies_of_a_batch_answer_duplicates(self, store: Store) -> None:
        with store.batch():
            assert store.claim_many([("r-1", "CIS")]) == {("r-1", "CIS")}
            assert store.claim_message_id("r-1", "CIS") is True  # won by claim_many
            store.remember_reply("r-1", "CIS", b"<reply/>")
            store.remember_reply("r-2", None, b"<refused/>")  # never claimed
        assert store.stored_reply("r-1", "CIS") == b"<reply/>"
        assert store.stored_reply("r-2", None) == b"<refused/>"
        assert store.claim_message_id("r-1", "CIS") is False
        assert store.is_known_message("r-2", None)

    def test_a_key_claimed_in_a_batch_is_taken_for_the_rest_of_it(self, store: Store) -> None:
        """On SQLite the row of a key won by claim_many is only written at the batch's end
        (with its reply); inside the batch it must already count as claimed."""
        with store.batch():
            assert store.claim_many([("k-1", "CIS"), ("k-2", "CIS")]) == {
                ("k-1", "CIS"),
                ("k-2", "CIS"),
            }
            assert store.claim_many([("k-1", "CIS")]) == set()  # again in the same batch
            assert store.claim_message_id("k-1", "CIS") is True  # the pipeline's own claim
            assert store.claim_message_id("k-1", "CIS") is False  # any other: a duplicate
            assert store.is_known_message("k-2", "CIS") is True
            store.remember_reply("k-1", "CIS", b"<first/>")
            store.remember_reply("k-1", "CIS", b"<last/>")  # the last one wins
        assert store.stored_reply("k-1", "CIS") == b"<last/>"
        assert store.is_known_message("k-2", "CIS") and store.stored_reply("k-2", "CIS") is None
        assert store.claim_message_id("k-2", "CIS") is False
        assert store.claim_many([("k-1", "CIS"), ("k-2", "CIS"), ("k-3", "CIS")]) == {
            ("k-3", "CIS")
        }

    def test_a_batch_and_another_store_never_both_win_a_key(self, make_store: MakeStore) -> None:
        """Two stores on one database (two workers): whoever claims a key second loses it,
        whether the first claim is still in an open batch or committed."""
        import threading

        first, second = make_store(), make_store()
        results: dict[str, object] = {}
        in_batch = threading.Event()
        release = threading.Event()

        def batch_claim() -> None:
            with first.batch():
                results["batch"] = first.claim_many([("shared", "CIS")])
                in_batch.set()
                release.wait(10)

        def other_claim() -> None:
            in_batch.wait(10)
            results["other"] = second.claim_message_id("shared", "CIS")

        t1 = threading.Thread(target=batch_claim)
        t2 = threading.Thread(target=other_claim)
        t1.start()
        t2.start()
        in_batch.wait(10)
        t2.join(0.3)  # the other claim waits for the batch's transaction
        release.set()
        t1.join(20)
        t2.join(20)
        assert results == {"batch": {("shared", "CIS")}, "other": False}

    def test_claim_many_reports_only_the_keys_it_won(self, store: Store) -> None:
        assert store.claim_message_id("old", "HES") is True
        won = store.claim_many([("old", "HES"), ("new", "HES"), ("new", "HES"), ("x", None)])
        assert won == {("new", "HES"), ("x", None)}
        assert store.claim_many([("new", "HES"), ("x", None)]) == set()
        assert store.claim_message_id("x", "") is False  # None and "" are the same source

    def test_a_failed_batch_keeps_nothing(self, store: Store) -> None:
        with pytest.raises(RuntimeError), store.batch():
            store.claim_many([("gone", "HES")])
            store.record(entry(message_id="gone"))
            store.enqueue(item(message_id="gone"))
            store.remember_reply("gone", "HES", b"<r/>")
            raise RuntimeError("boom")
        assert store.audit() == []
        assert store.claim_due("w1", now=at(0)) == []
        assert store.claim_message_id("gone", "HES") is True

    def test_nothing_is_visible_before_the_batch_commits(self, make_store: MakeStore) -> None:
        writer, reader = make_store(), make_store()
        with writer.batch():
            writer.record(entry(message_id="later"))
            writer.enqueue(item(message_id="later"))
            assert reader.audit() == [] and reader.outbox_counts()["pending"] == 0
        assert [r.message_id for r in reader.audit()] == ["later"]

    def test_claimed_batch_hands_its_entries_to_the_worker(self, store: Store) -> None:
        with store.batch(claim_for="w1", lease_seconds=60) as pending:
            store.enqueue(item(message_id="e-1"))
            store.enqueue(item(message_id="e-2"))
            assert pending.created == []  # only once committed
        created = pending.created
        assert [c.message_id for c in created] == ["e-1", "e-2"]
        for c in created:
            stored = store.outbox_item(c.id)
            assert stored is not None and stored.message_id == c.message_id
            assert (stored.status, stored.claimed_by) == ("claimed", "w1")
            assert stored.lease_until == c.lease_until
        assert store.claim_due("w2") == []  # leased to w1: nobody else sends them
        store.mark_delivered_many([created[0].id])
        store.release_claims([c.id for c in created], "w1")  # e.g. w1 stops before sending
        assert store.outbox_item(created[0].id).status == "delivered"  # type: ignore[union-attr]
        again = store.claim_due("w2")
        assert [c.message_id for c in again] == ["e-2"] and again[0].attempts == 0

    def test_claimed_entries_come_back_when_the_lease_expires(self, store: Store) -> None:
        with store.batch(claim_for="w1", lease_seconds=1) as pending:
            store.enqueue(item(message_id="crash"))
        [c] = pending.created
        assert c.lease_until is not None
        [again] = store.claim_due("w2", now=c.lease_until + timedelta(seconds=1))
        assert (again.id, again.claimed_by) == (c.id, "w2")

    def test_claim_due_finds_nothing_without_opening_a_write(self, store: Store) -> None:
        assert store.claim_due("w1") == []
        store.enqueue(item(message_id="due", next_attempt_at=at(0)))
        assert [c.message_id for c in store.claim_due("w1", now=at(0))] == ["due"]

    def test_a_batch_inside_a_transaction_keeps_its_claims_and_waits_for_the_commit(
        self, store: Store
    ) -> None:
        """Joining a caller's ``transaction()``: a key ``claim_many`` won is still the batch's
        (not answered as a duplicate of itself), and nothing is handed to a worker before the
        caller's transaction commits (``claim_for`` does not apply then)."""
        with store.transaction():
            with store.batch(claim_for="w1") as pending:
                assert store.claim_many([("t-1", "CIS")]) == {("t-1", "CIS")}
                assert store.claim_message_id("t-1", "CIS") is True
                store.enqueue(item(message_id="t-1"))
                store.record(entry(message_id="t-1"))
            assert pending.created == []  # the caller has not committed yet
        assert [c.message_id for c in store.claim_due("w2", now=at(0))] == ["t-1"]
        assert [r.message_id for r in store.audit()] == ["t-1"]
        assert store.claim_message_id("t-1", "CIS") is False
