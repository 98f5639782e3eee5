"""Batched writes (issue 3) on SQLite: the contract in contract_batch.py; PostgreSQL runs the
same in tests/integration/test_store_postgres.py."""

from __future__ import annotations

from .contract_batch import BatchContract


class TestBatch(BatchContract):
    """One transaction, bulk inserts, claims in one statement, outbox hand-off."""


def test_datetimes_convert_to_sqlalchemys_text_whatever_came_before() -> None:
    """The bulk path's datetime conversion remembers its last two objects (issue 3: a new
    outbox row's created_at and next_attempt_at are one object, a batch's lease one more); a
    value equal to a remembered one but another object, or one in another time zone, is
    still converted on its own, and naive datetimes are refused as UTCDateTime refuses them."""
    from datetime import UTC, datetime, timedelta, timezone

    import pytest

    from routing.store._batch import _sqlite_datetime

    a = datetime(2026, 12, 3, 12, 0, 0, 0, tzinfo=UTC)
    b = datetime(2026, 12, 3, 12, 0, 0, 123456, tzinfo=UTC)
    plus_one = a.astimezone(timezone(timedelta(hours=1)))  # the same instant, another zone
    same_as_a = a.replace()  # equal, another object
    expected = {id(a): "2026-12-03 12:00:00.000000", id(b): "2026-12-03 12:00:00.123456"}
    for value in (a, a, b, a, b, b, a):
        assert _sqlite_datetime(value) == expected[id(value)]
    assert _sqlite_datetime(plus_one) == "2026-12-03 12:00:00.000000"
    assert _sqlite_datetime(same_as_a) == "2026-12-03 12:00:00.000000"
    c = datetime(2026, 12, 4, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5)))
    assert _sqlite_datetime(c) == "2026-12-04 05:00:01.000000"
    assert _sqlite_datetime(c) == "2026-12-04 05:00:01.000000"  # remembered: still UTC text
    assert _sqlite_datetime(None) is None
    with pytest.raises(ValueError):
        _sqlite_datetime(datetime(2026, 12, 3, 12, 0))
