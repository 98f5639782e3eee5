"""Batched writes (issue 3): many messages in ONE transaction with bulk statements.

``Store.batch()`` is a :meth:`~routing.store.Store.transaction` in which the hot-path writes
(``record`` audit rows, ``enqueue`` outbox entries, ``remember_reply`` stored replies) are
collected and written when the block ends, with one executemany per table, before the commit.
``claim_many`` claims many MessageIDs with one ``INSERT ... ON CONFLICT DO NOTHING RETURNING``;
a key it won is remembered, so the ``claim_message_id`` that the pipeline makes for that message
inside the batch answers True without another statement. Everything else (correlations, reads)
runs at once as usual. Nothing is committed before the block ends, and nothing at all if it
raises: the durability guarantees are those of one ``transaction()``.

Inside a batch ``record`` and ``enqueue`` return 0 (the row id is only known at commit).

On SQLite a batch holds the database's write lock from its first statement (``BEGIN
IMMEDIATE``) to its commit, so nobody else can insert a MessageID in between: there
``claim_many`` only looks the keys up, and the rows of the keys it won are inserted at the end,
each with its stored reply, in one executemany. Inserting a small row at the start and growing
it by a 1 KB reply at the end split the table's last page nearly every batch (3.7 of the 35 WAL
pages a batch of 4 wrote; bench/README.md, fourth round). PostgreSQL has no such lock: there the
claim is the ``INSERT .. ON CONFLICT DO NOTHING RETURNING`` itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON

from ._base import StoreBase
from ._dedupe import _key
from ._types import UTCDateTime, as_utc, utcnow
from .models import AuditRow, OutboxPayloadRow, OutboxRow
from .records import OutboxRecord


@dataclass
class PendingWrites:
    """What a ``batch()`` writes when it ends (per thread)."""

    audit: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    claimed: set[tuple[str, str]] = field(default_factory=set)
    #: SQLite: keys won by ``claim_many`` whose row is inserted when the batch ends (with
    #: the reply, if one is remembered meanwhile) -> the claim time
    deferred: dict[tuple[str, str], datetime] = field(default_factory=dict)
    #: ``batch(claim_for=worker)``: the outbox entries are written already claimed by that
    #: worker (lease ``lease_seconds``) and, once committed, listed in ``created``
    claim_for: str | None = None
    lease_seconds: float = 30.0
    created: list[OutboxRecord] = field(default_factory=list)


_AUDIT_INSERT = AuditRow.__table__.insert()
_OUTBOX_INSERT_RETURNING = OutboxRow.__table__.insert().returning(
    OutboxRow.__table__.c.id, sort_by_parameter_order=True
)
_PAYLOAD_INSERT = OutboxPayloadRow.__table__.insert()


def _record(values: dict[str, Any], item_id: int) -> OutboxRecord:
    return OutboxRecord(
        id=item_id,
        status=values["status"],
        target=values["target"],
        transport=values["transport"],
        address=values["address"],
        message_id=values["message_id"],
        correlation_id=values["correlation_id"],
        verb=values["verb"],
        noun=values["noun"],
        payload=values["payload"],
        headers=values["headers"],  # the batch's own dict (enqueue copied the caller's)
        max_attempts=values["max_attempts"],
        next_attempt_at=values["next_attempt_at"],
        attempts=values["attempts"],
        claimed_by=values.get("claimed_by"),
        lease_until=values.get("lease_until"),
        created_at=values["created_at"],
    )


class BatchMixin(StoreBase):
    @contextmanager
    def batch(
        self, *, claim_for: str | None = None, lease_seconds: float = 30.0
    ) -> Iterator[PendingWrites]:
        """One transaction for many messages; its audit rows, outbox entries and stored
        replies are written with one executemany each when the block ends (see the module
        docstring). Inside an open ``transaction()`` or ``batch()`` it joins that one (and
        ``claim_for`` does not apply: the commit is the caller's).

        ``claim_for``: write the outbox entries already claimed by that worker until now +
        ``lease_seconds`` (as ``claim_due`` would leave them), so the worker can deliver them
        straight from memory without claiming them again: after the block,
        ``pending.created`` holds them (with their ids). If the worker dies first, the lease
        expires and any worker claims them as usual."""
        current = self._pending()
        if current is not None:  # an outer batch(): it writes and commits everything
            yield current
            return
        if self._local.session is not None:
            # a caller's transaction(): collect and write as usual, but the commit (and so
            # any hand-off to a worker) is the caller's: no claim_for
            pending = PendingWrites(lease_seconds=lease_seconds)
            self._local.pending = pending
            try:
                yield pending
                self._flush_pending(pending)
            finally:
                self._local.pending = None
            return
        pending = PendingWrites(claim_for=claim_for, lease_seconds=lease_seconds)
        created: list[OutboxRecord] = []
        with self.transaction():  # type: ignore[attr-defined]
            self._local.pending = pending
            try:
                yield pending
                created = self._flush_pending(pending)
            finally:
                self._local.pending = None
        pending.created = created  # only once committed

    def _flush_pending(self, pending: PendingWrites) -> list[OutboxRecord]:
        """Write what the batch collected; returns the outbox entries claimed for
        ``pending.claim_for`` (empty without it)."""
        if not (pending.audit or pending.outbox or pending.replies or pending.deferred):
            return []
        if pending.claim_for is not None and pending.outbox:
            lease = utcnow() + timedelta(seconds=pending.lease_seconds)
            for values in pending.outbox:
                values.update(status="claimed", claimed_by=pending.claim_for, lease_until=lease)
        with self._session() as s:
            conn = s.connection()
            if self._engine.dialect.name == "sqlite":
                ids = _sqlite_flush(conn, pending)
            else:
                ids = self._core_flush(conn, pending)
        created: list[OutboxRecord] = []
        if pending.claim_for is not None and ids is not None:
            created = [_record(values, i) for values, i in zip(pending.outbox, ids, strict=True)]
        pending.audit, pending.outbox, pending.replies = [], [], []
        pending.deferred = {}
        return created

    def _core_flush(self, conn: Any, pending: PendingWrites) -> list[int] | None:
        ids: list[int] | None = None
        if pending.outbox:
            rows = [
                {k: v for k, v in values.items() if k != "payload"} for values in pending.outbox
            ]
            ids = [r[0] for r in conn.execute(_OUTBOX_INSERT_RETURNING, rows).all()]
            conn.execute(
                _PAYLOAD_INSERT,
                [
                    {"id": i, "payload": v["payload"]}
                    for i, v in zip(ids, pending.outbox, strict=True)
                ],
            )
        if pending.replies:
            _claim, remember = self._dedupe_statements()  # type: ignore[attr-defined]
            conn.execute(remember, pending.replies)
        if pending.audit:
            conn.execute(_AUDIT_INSERT, pending.audit)
        return ids

    def claim_many(self, keys: Iterable[tuple[str, str | None]]) -> set[tuple[str, str | None]]:
        """Claim many (MessageID, Source) at once; returns the keys this call won (the others
        were claimed before: duplicates). Atomic like ``claim_message_id``; inside a
        ``batch()`` the claims commit with it and a won key's later ``claim_message_id`` in the
        same batch returns True without a statement."""
        wanted: dict[tuple[str, str], tuple[str, str | None]] = {}
        for mid, source in keys:
            wanted.setdefault((mid, _key(source)), (mid, source))
        if not wanted:
            return set()
        now = utcnow()
        pending = self._pending()
        with self._session() as s:
            conn = s.connection()
            if self._engine.dialect.name == "sqlite" and pending is not None:
                # under the batch's write lock: look up now, insert when the batch ends
                taken = _sqlite_known(conn, list(wanted)) | set(pending.deferred)
                rows = [k for k in wanted if k not in taken]
                for k in rows:
                    pending.deferred[k] = now
            elif self._engine.dialect.name == "sqlite":
                rows = _sqlite_claim(conn, list(wanted), now)
            else:
                params = [{"mid": mid, "src": src, "now": now} for mid, src in wanted]
                claim, _remember = self._dedupe_statements()  # type: ignore[attr-defined]
                rows = conn.execute(claim, params).all()
        won = {(r[0], r[1]) for r in rows}
        if pending is not None:
            pending.claimed |= won
        return {wanted[k] for k in won if k in wanted}


# ---------------------------------------------------------------------------- SQLite fast path
# The bulk statements of a batch go straight to the driver connection (the sqlite3 connection
# of the batch's open transaction) as plain SQL with positional parameters: SQLAlchemy's per-row
# parameter processing cost more than SQLite's own executemany, and its per-statement execution
# context about as much as a whole bulk insert of a few rows. The values are converted exactly as the column types would (UTCDateTime: naive
# UTC text in SQLAlchemy's SQLite DATETIME format; JSON: json.dumps), so what is read back
# through the models is the same (a test compares both paths).


#: the last two datetimes converted and their text, newest first: a new outbox row's
#: next_attempt_at and created_at are one object, and a batch's claimed rows share one
#: lease_until (one tuple, replaced whole: safe to read from any thread)
_RECENT_DATETIMES: tuple[tuple[datetime | None, str | None], ...] = ((None, None), (None, None))


def _sqlite_datetime(value: datetime | None) -> str | None:
    global _RECENT_DATETIMES
    if value is None:
        return None
    recent = _RECENT_DATETIMES
    # identity, not equality: the tuple holds the objects, so no other can have their address
    if value is recent[0][0]:
        return recent[0][1]
    if value is recent[1][0]:
        return recent[1][1]
    original = value
    if value.tzinfo is not UTC:
        value = as_utc(value)  # refuses naive datetimes like UTCDateTime does
    # "YYYY-MM-DD HH:MM:SS.ffffff" is always the first 26 characters (without "+00:00"):
    # cheaper than a naive copy of the datetime
    text = value.isoformat(" ", "microseconds")[:26]
    _RECENT_DATETIMES = ((original, text), recent[0])
    return text


_JSON_SEEN: dict[tuple[Any, ...], str] = {}


def _sqlite_json(value: Any) -> str | None:
    """``json.dumps`` as the JSON column type does it; the outbox headers of a route repeat
    for every message (verb, noun, source, reply address), so flat dicts of strings are
    remembered (bounded)."""
    if value is None:
        return None
    if type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items()):
        key = tuple(value.items())
        text = _JSON_SEEN.get(key)
        if text is None:
            text = json.dumps(value)
            if len(_JSON_SEEN) < 1024:
                _JSON_SEEN[key] = text
        return text
    return json.dumps(value)


def _sqlite_insert(table: Any, columns: Sequence[str]) -> tuple[str, Callable[[dict], tuple]]:
    """INSERT SQL for ``columns`` of ``table`` and a function turning a values dict into its
    parameter tuple."""
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    converters: list[Callable[[Any], Any] | None] = []
    for name in columns:
        col_type = table.c[name].type
        if isinstance(col_type, UTCDateTime):
            converters.append(_sqlite_datetime)
        elif isinstance(col_type, JSON):
            converters.append(_sqlite_json)
        else:
            converters.append(None)
    # One function with the columns spelled out (a tuple display, no generator per row): the
    # rows of every batch go through it, and the generic loop cost ~2 us per column.
    env: dict[str, Any] = {}
    items = []
    for i, (name, conv) in enumerate(zip(columns, converters, strict=True)):
        get = f"values.get({name!r})"
        if conv is None:
            items.append(get)
        else:
            env[f"c{i}"] = conv
            items.append(f"c{i}({get})")
    source = f"def row(values):\n    return ({', '.join(items)},)\n"
    exec(compile(source, f"<{table.name} row>", "exec"), env)  # column names of our own models
    return sql, env["row"]


_AUDIT_COLUMNS = (
    "direction",
    "transport",
    "message_id",
    "correlation_id",
    "verb",
    "noun",
    "source",
    "target",
    "user_id",
    "organization",
    "result",
    "error_code",
    "error_reason",
    "received_at",
    "completed_at",
    "size",
    "payload",
    "payload_truncated",
)
_OUTBOX_COLUMNS = (
    "status",
    "target",
    "transport",
    "address",
    "message_id",
    "correlation_id",
    "verb",
    "noun",
    "headers",
    "attempts",
    "max_attempts",
    "next_attempt_at",
    "created_at",
)
_SQLITE_AUDIT = _sqlite_insert(AuditRow.__table__, _AUDIT_COLUMNS)
_SQLITE_OUTBOX = _sqlite_insert(OutboxRow.__table__, ("id", *_OUTBOX_COLUMNS))
_SQLITE_OUTBOX_CLAIMED = _sqlite_insert(
    OutboxRow.__table__, ("id", *_OUTBOX_COLUMNS, "claimed_by", "lease_until")
)
# OR REPLACE: ids are the outbox's next ones, so a payload row with such an id could only be
# one left behind by an entry deleted without it (not done by cimbus; never delivered again)
_SQLITE_PAYLOADS = "INSERT OR REPLACE INTO outbox_payloads (id, payload) VALUES (?, ?)"
_SQLITE_REMEMBER = (
    "INSERT INTO processed_messages (message_id, source, received_at, reply, replied_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (message_id, source) "
    "DO UPDATE SET reply = excluded.reply, replied_at = excluded.replied_at"
)


_SQLITE_CLAIMED = (
    "INSERT INTO processed_messages (message_id, source, received_at, reply, replied_at) "
    "VALUES (?, ?, ?, ?, ?)"
)


def _driver(conn: Any) -> Any:
    """The sqlite3 connection under a SQLAlchemy Connection (in its open transaction)."""
    return conn.connection.driver_connection


def _sqlite_flush(conn: Any, pending: PendingWrites) -> list[int] | None:
    """Returns the ids of the outbox entries written (None: none)."""
    ids: list[int] | None = None
    db = _driver(conn)
    if pending.outbox:
        # The batch holds the write lock (BEGIN IMMEDIATE): nobody else inserts meanwhile, so
        # the ids after the largest one are free; given explicitly, the payloads (a table of
        # their own, same id) need no read-back of the ids SQLite chose.
        last = db.execute("SELECT max(id) FROM outbox").fetchone()[0] or 0
        ids = list(range(last + 1, last + 1 + len(pending.outbox)))
        for values, i in zip(pending.outbox, ids, strict=True):
            values["id"] = i
        sql, row = _SQLITE_OUTBOX_CLAIMED if pending.claim_for is not None else _SQLITE_OUTBOX
        db.executemany(sql, [row(v) for v in pending.outbox])
        db.executemany(_SQLITE_PAYLOADS, [(v["id"], v["payload"]) for v in pending.outbox])
    if pending.replies or pending.deferred:
        # a deferred claim's row is inserted whole: with its reply (the last one remembered
        # wins, as with the upsert) or without one
        deferred: dict[tuple[str, str], list[Any]] = {
            k: [k[0], k[1], _sqlite_datetime(at), None, None] for k, at in pending.deferred.items()
        }
        upserts = []
        for p in pending.replies:
            row = deferred.get((p["mid"], p["src"]))
            if row is not None:
                row[3], row[4] = p["reply"], _sqlite_datetime(p["now"])
            else:
                stamp = _sqlite_datetime(p["now"])
                upserts.append((p["mid"], p["src"], stamp, p["reply"], stamp))
        if deferred:
            db.executemany(_SQLITE_CLAIMED, list(deferred.values()))
        if upserts:
            db.executemany(_SQLITE_REMEMBER, upserts)
    if pending.audit:
        sql, row = _SQLITE_AUDIT
        db.executemany(sql, [row(v) for v in pending.audit])
    return ids


def _sqlite_known(conn: Any, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of ``keys`` are in ``processed_messages`` already."""
    # "message_id IN (...)" searches the unique index once per ID; a row-value
    # "(message_id, source) IN (VALUES ...)" would scan the whole index (query plan checked)
    wanted = set(keys)
    found: set[tuple[str, str]] = set()
    ids = list({mid for mid, _src in keys})
    for i in range(0, len(ids), 500):  # well under SQLite's limit of bound variables
        chunk = ids[i : i + 500]
        sql = (
            "SELECT message_id, source FROM processed_messages WHERE message_id IN ("
            + ", ".join("?" for _ in chunk)
            + ")"
        )
        for row in _driver(conn).execute(sql, chunk).fetchall():
            if (row[0], row[1]) in wanted:
                found.add((row[0], row[1]))
    return found


def _sqlite_claim(conn: Any, keys: list[tuple[str, str]], now: datetime) -> list[Any]:
    stamp = _sqlite_datetime(now)
    rows: list[Any] = []
    for i in range(0, len(keys), 500):  # well under SQLite's limit of bound variables
        chunk = keys[i : i + 500]
        sql = (
            "INSERT INTO processed_messages (message_id, source, received_at) VALUES "
            + ", ".join("(?, ?, ?)" for _ in chunk)
            + " ON CONFLICT (message_id, source) DO NOTHING RETURNING message_id, source"
        )
        params = tuple(v for mid, src in chunk for v in (mid, src, stamp))
        rows.extend(_driver(conn).execute(sql, params).fetchall())
    return rows
