"""Batched writes (issue 3) on SQLite: the contract in contract_batch.py; PostgreSQL runs the
same in tests/integration/test_store_postgres.py."""

from __future__ import annotations

from .contract_batch import BatchContract


class TestBatch(BatchContract):
    """One transaction, bulk inserts, claims in one statement, outbox hand-off."""
