"""Retention on SQLite (the embedded default); PostgreSQL runs the same contract in
tests/integration/test_store_postgres.py."""

from __future__ import annotations

from .contract_retention import RetentionContract


class TestRetention(RetentionContract):
    """BUS-9 / REL-1: pruning by age ([store] audit_days, outbox_days, dedupe_days)."""
