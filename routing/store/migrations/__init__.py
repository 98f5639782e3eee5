"""Alembic migration environment of the store (run through ``routing.store._migrate``)."""
