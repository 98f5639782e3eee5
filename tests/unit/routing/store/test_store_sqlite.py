"""The store contract on SQLite, the embedded default (BUS-10). Each class runs the
behaviours of tests/unit/routing/store/contract.py; PostgreSQL runs the same ones in
tests/integration/test_store_postgres.py."""

from __future__ import annotations

from .contract import (
    AuditContract,
    CorrelationContract,
    DeadLetterContract,
    DedupeContract,
    OutboxContract,
    PersistenceContract,
    TransactionContract,
)


class TestAudit(AuditContract):
    """BUS-9: audit ledger and payload policies."""


class TestDedupe(DedupeContract):
    """REL-1: de-duplication by MessageID."""


class TestOutbox(OutboxContract):
    """REL-1: transactional outbox with retries, leases and dead letters."""


class TestCorrelation(CorrelationContract):
    """BUS-7: correlation table, timeouts and late replies."""


class TestDeadLetters(DeadLetterContract):
    """REL-2: dead letters, inspect and replay."""


class TestTransaction(TransactionContract):
    """REL-1: several writes in one unit of work."""


class TestPersistence(PersistenceContract):
    """REL-1 / BUS-10: restart and schema migrations."""
