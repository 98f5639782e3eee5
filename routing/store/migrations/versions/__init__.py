"""Alembic revisions of the store schema, numbered 0001, 0002, ... (docs/store.md)."""
