"""The SMT store behaviours (ODR-2, ODR-4..ODR-7), written once and run on every backend
(BUS-10): on SQLite in tests/unit/routing/services/test_smt_store.py, on PostgreSQL in
tests/integration/test_odr_service.py. Fixtures: ``make_store(**options) -> Store`` (a migrated
Store; every call another Store on the same database, like another cimbus worker) and
``store``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from routing.store import Store, UsagePoint

MakeStore = Callable[..., Store]
T0 = datetime(2026, 5, 12, 14, 41, tzinfo=UTC)
DAY = "2026-05-12"


def slot(store: Store, *, kind: str = "read", limit: int = 1, at: datetime = T0, day: str = DAY):
    return store.odr_reserve(
        "E1", kind, day, limit=limit, now=at, expires_at=at + timedelta(seconds=90)
    )


class SmtStoreContract:
    # ------------------------------------------------------------------ registry
    def test_usage_points_are_upserted_by_esiid(self, store: Store) -> None:
        assert store.usage_point("E1") is None
        assert store.upsert_usage_points([]) == 0
        n = store.upsert_usage_points(
            [
                UsagePoint(esiid="E1", meter_number="M1", ror="REP-A"),
                UsagePoint(esiid="E2", ror="REP-B", ams=False, interval_minutes=None),
            ]
        )
        assert n == 2
        store.upsert_usage_points([UsagePoint(esiid="E1", meter_number="M9", ror="REP-C")])
        assert store.usage_point("E1") == UsagePoint(esiid="E1", meter_number="M9", ror="REP-C")
        assert store.usage_point("E2") == UsagePoint(
            esiid="E2", ror="REP-B", ams=False, interval_minutes=None
        )
        assert [p.esiid for p in store.usage_points()] == ["E1", "E2"]

    # ------------------------------------------------------------------ VEE postings
    def test_last_vee_end_never_moves_backwards(self, store: Store) -> None:
        assert store.last_vee_end("E1") is None
        assert store.record_vee_end("E1", T0, message_id="m1") is True
        assert store.record_vee_end("E1", T0 - timedelta(days=1), message_id="m0") is False
        assert store.record_vee_end("E1", T0, message_id="again") is False
        assert store.last_vee_end("E1") == T0
        assert store.record_vee_end("E1", T0 + timedelta(hours=24)) is True
        assert store.last_vee_end("E1") == T0 + timedelta(hours=24)
        assert store.last_vee_end("E2") is None

    def test_reloading_the_registry_keeps_the_vee_state(self, store: Store) -> None:
        store.upsert_usage_points([UsagePoint(esiid="E1", ror="REP-A")])
        store.record_vee_end("E1", T0)
        store.upsert_usage_points([UsagePoint(esiid="E1", ror="REP-B")])
        assert store.last_vee_end("E1") == T0

    # ------------------------------------------------------------------ throttle
    def test_one_slot_per_day_and_kind(self, store: Store) -> None:
        first = slot(store)
        assert first is not None
        assert slot(store) is None  # the reserved slot counts
        assert slot(store, kind="ping") is not None  # another kind, its own limit
        assert slot(store, day="2026-05-13") is not None  # another day
        store.odr_settle(first, succeeded=True)
        assert slot(store) is None
        assert store.odr_used("E1", "read", DAY, now=T0) == 1

    def test_a_released_slot_does_not_count(self, store: Store) -> None:
        first = slot(store)
        store.odr_settle(first, succeeded=False)
        assert store.odr_used("E1", "read", DAY, now=T0) == 0
        second = slot(store)
        assert second is not None
        store.odr_settle(second, succeeded=True)
        store.odr_settle(second, succeeded=False)  # settling twice changes nothing
        assert store.odr_used("E1", "read", DAY, now=T0) == 1

    def test_limit_zero_is_unlimited_and_limits_above_one(self, store: Store) -> None:
        assert all(slot(store, limit=0) is not None for _ in range(5))
        assert slot(store, kind="ping", limit=2) is not None
        assert slot(store, kind="ping", limit=2) is not None
        assert slot(store, kind="ping", limit=2) is None

    def test_a_reserved_slot_of_a_dead_worker_expires(self, store: Store) -> None:
        assert slot(store) is not None  # never settled: the worker died
        assert slot(store, at=T0 + timedelta(seconds=60)) is None
        assert slot(store, at=T0 + timedelta(seconds=91)) is not None

    def test_unknown_kind_is_refused(self, store: Store) -> None:
        import pytest

        with pytest.raises(ValueError, match="throttle kind"):
            slot(store, kind="bill")

    def test_concurrent_workers_take_exactly_the_limit(self, make_store: MakeStore) -> None:
        """ODR-5 across several cimbus workers sharing the database: the check and the
        increment are one step, so 8 workers racing for 2 slots get exactly 2."""
        stores = [make_store() for _ in range(8)]
        barrier = threading.Barrier(len(stores))
        won: list[int | None] = []
        lock = threading.Lock()

        def race(s: Store) -> None:
            barrier.wait()
            got = slot(s, limit=2)
            with lock:
                won.append(got)

        threads = [threading.Thread(target=race, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(won) == 8
        assert len([w for w in won if w is not None]) == 2
        assert stores[0].odr_used("E1", "read", DAY, now=T0) == 2
