"""Column types shared by the tables: timezone-aware UTC datetimes on every backend.

PostgreSQL has ``timestamptz``; SQLite has no time zone at all. :class:`UTCDateTime` makes both
behave the same (BUS-10: the same tests pass on both): it refuses naive datetimes, stores UTC
(naive UTC text on SQLite, so string order is time order) and always returns aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer
from sqlalchemy.types import TypeDecorator

# A 64-bit key on PostgreSQL; on SQLite only ``INTEGER PRIMARY KEY`` is an auto-incrementing rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` converted to UTC; a naive datetime is a programming error (ambiguous time)."""
    if value.tzinfo is UTC:  # already (the common case: utcnow())
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware datetimes")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and returned as an aware UTC datetime on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
