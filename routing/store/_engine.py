"""Engines for the two supported backends (BUS-10): SQLite (embedded default) and PostgreSQL.

SQLite is made safe for several threads and processes sharing one file:

* WAL journal, so readers never wait for the writer; ``synchronous=NORMAL`` (with WAL a
  committed transaction survives a killed process, REL-1; use PostgreSQL for power-loss
  durability guarantees of a server);
* WAL checkpoints in a background thread (``_checkpoint``), not inside whichever commit
  takes the WAL past 1,000 pages;
* the driver's own transaction handling is off and every write transaction starts with
  ``BEGIN IMMEDIATE``: the write lock is taken up front, so two writers queue on the busy
  timeout instead of failing with "database is locked" when a read upgrades to a write.
  Pure reads (see :data:`READ_ONLY`) start with a plain ``BEGIN``.

PostgreSQL runs at READ COMMITTED; the outbox claims rows with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

#: Execution option marking a session that only reads (SQLite: deferred ``BEGIN``).
READ_ONLY = "cimbus_read_only"
SQLITE_BUSY_TIMEOUT = 30.0  # seconds a writer waits for the lock before giving up
SUPPORTED = ("sqlite", "postgresql")


def parse_url(url: str | URL) -> URL:
    u = make_url(url)
    if u.get_backend_name() not in SUPPORTED:
        raise ValueError(
            f"store url {u.render_as_string(hide_password=True)!r}: use sqlite:///FILE or "
            "postgresql+psycopg://USER@HOST:PORT/DB"
        )
    return u


def is_sqlite_memory(u: URL) -> bool:
    return u.get_backend_name() == "sqlite" and u.database in (None, "", ":memory:")


def sqlite_file(u: URL) -> Path | None:
    """The database file of a SQLite URL (None for in-memory / URI databases)."""
    if u.get_backend_name() != "sqlite" or is_sqlite_memory(u):
        return None
    assert u.database is not None
    if u.database.startswith("file:"):
        return None
    return Path(u.database)


def make_engine(
    url: str | URL,
    *,
    echo: bool = False,
    connect_args: dict[str, Any] | None = None,
    wal_autocheckpoint: int | None = None,
) -> Engine:
    """An engine for ``url``. SQLite: ``wal_autocheckpoint`` pages (None: SQLite's 1,000) after
    which a commit checkpoints the WAL itself; a store whose WAL a background thread
    checkpoints (``_checkpoint``) raises it so that commits do not."""
    u = parse_url(url)
    args = dict(connect_args or {})
    if u.get_backend_name() == "postgresql":
        return create_engine(u, echo=echo, connect_args=args, pool_pre_ping=True)
    memory = is_sqlite_memory(u)
    args.setdefault("timeout", SQLITE_BUSY_TIMEOUT)
    kwargs: dict[str, Any] = {}
    if memory:  # one shared connection, or every connection would see its own empty database
        args.setdefault("check_same_thread", False)
        kwargs["poolclass"] = StaticPool
    engine = create_engine(u, echo=echo, connect_args=args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            if wal_autocheckpoint is not None:
                cursor.execute(f"PRAGMA wal_autocheckpoint={int(wal_autocheckpoint)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        # straight to the driver: a BEGIN needs no result, parameters or statement events
        # (through exec_driver_sql it cost as much as a whole bulk insert)
        connection.connection.driver_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
