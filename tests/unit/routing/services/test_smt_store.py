"""The SMT store behaviours on SQLite, the embedded default (BUS-10); PostgreSQL runs the same
ones in tests/integration/test_odr_service.py."""

from __future__ import annotations

from .smt_store_contract import SmtStoreContract


class TestSmtStore(SmtStoreContract):
    """ODR-2, ODR-4..ODR-7: registry, last VEE end, per-ESIID per-day throttle slots."""
