"""The :class:`Store` facade: one object for the bus's persistent state (BUS-9, BUS-10,
REL-1, REL-2), on SQLite (default, embedded) or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DatabaseError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import sessionmaker

from . import _migrate
from ._audit import PAYLOAD_POLICIES, AuditMixin
from ._base import StoreLocal, sqlite_write_lock
from ._batch import BatchMixin
from ._checkpoint import CHECKPOINTER, FALLBACK_PAGES
from ._correlation import CorrelationMixin
from ._deadletters import DeadLetterMixin
from ._dedupe import DedupeMixin
from ._engine import make_engine, parse_url, sqlite_file
from ._outbox import OutboxMixin
from ._retention import RetentionMixin
from ._smt import SmtMixin

DEFAULT_URL = "sqlite:///cimbus.db"


class StoreUnavailable(RuntimeError):
    """The database could not be opened at start-up (not running, wrong host or port, no such
    database, a SQLite path that cannot be written, a file that is not a SQLite database): the
    message names the URL (password hidden), the driver's reason and what to check. The CLI
    prints it and exits 1."""


def _unusable(exc: BaseException) -> bool:
    """Whether opening or migrating the store failed because the database cannot be used at all
    (``StoreUnavailable``), not because of the data: unreachable (OperationalError), a SQLite
    path that cannot be created (OSError), or a file that is not a SQLite database or is
    damaged (the driver's plain DatabaseError: "file is not a database", "database disk image
    is malformed"). Integrity and programming errors stay what they are."""
    return isinstance(exc, (OperationalError, OSError)) or type(exc) is DatabaseError


def unavailable(exc: BaseException) -> bool:
    """Whether a store failure means the database cannot be reached or used right now (down,
    restarting, connection lost, pool exhausted, SQLite locked), as opposed to a failure caused
    by one message (a value the database refuses). The first is nobody's message's fault:
    brokered transports leave such a message with the broker and try it again later (REL-1)."""
    return isinstance(exc, (OperationalError, InterfaceError, PoolTimeout, StoreUnavailable))


class Store(
    AuditMixin,
    DedupeMixin,
    OutboxMixin,
    CorrelationMixin,
    DeadLetterMixin,
    SmtMixin,
    BatchMixin,
    RetentionMixin,
):
    """The audit ledger, MessageID de-duplication, outbox, correlation table and dead letters,
    plus the SMT on-demand-read state (registry, VEE postings, throttle: ``_smt.py``).

    ``url``: ``sqlite:///FILE`` (default ``sqlite:///cimbus.db``; ``sqlite://`` is in-memory,
    for tests) or ``postgresql+psycopg://USER[:PASSWORD]@HOST:PORT/DB``. ``payload_policy``:
    which audit payloads are kept (``all`` | ``failed`` | ``none``), cut to
    ``max_payload_bytes``. ``connect_args`` go to the database driver (e.g.
    ``{"options": "-csearch_path=cimbus"}`` or ``{"sslmode": "require"}`` for psycopg).
    ``background_checkpoints`` (SQLite file): a thread of this process copies the WAL into the
    database file shortly after commits (``_checkpoint``) instead of the commit that takes the
    WAL past 1,000 pages stopping to do it; False keeps SQLite's own behaviour.

    Call :meth:`migrate` once at start-up. A Store is safe to share between threads; several
    processes may share one database. Every method commits on its own, or joins the
    :meth:`transaction` open in the calling thread.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        payload_policy: str = "failed",
        max_payload_bytes: int = 1_000_000,
        echo: bool = False,
        connect_args: dict[str, Any] | None = None,
        background_checkpoints: bool = True,
    ) -> None:
        if payload_policy not in PAYLOAD_POLICIES:
            raise ValueError(
                f"payload_policy must be one of {', '.join(PAYLOAD_POLICIES)}, not {payload_policy!r}"
            )
        if max_payload_bytes < 0:
            raise ValueError("max_payload_bytes must be >= 0")
        self.url = parse_url(url)
        self.payload_policy = payload_policy
        self.max_payload_bytes = max_payload_bytes
        path = sqlite_file(self.url)
        background = background_checkpoints and path is not None
        self._engine = make_engine(
            self.url,
            echo=echo,
            connect_args=connect_args,
            wal_autocheckpoint=FALLBACK_PAGES if background else None,
        )
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self._local = StoreLocal()
        if path is not None:
            self._write_lock = sqlite_write_lock(str(path))
            if background:
                self._checkpoint_path = self._write_lock.path

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    @property
    def file(self) -> Path | None:
        """The SQLite database file (None: PostgreSQL, in-memory SQLite)."""
        return sqlite_file(self.url)

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    # ------------------------------------------------------------------ schema
    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` (default: the newest) with alembic, keeping the
        data. Idempotent, safe to call from several processes at once; creates the folder of
        a SQLite file when missing."""
        path = sqlite_file(self.url)
        with self._opening():
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            _migrate.upgrade(self._engine, revision)

    def schema_revision(self) -> str | None:
        """The alembic revision the database is at (None: not migrated yet)."""
        path = sqlite_file(self.url)
        if path is not None and not path.exists():
            return None  # asking must not create the file
        with self._opening():
            return _migrate.current_revision(self._engine)

    @contextmanager
    def _opening(self) -> Iterator[None]:
        """A database that cannot be used (:func:`_unusable`) is :class:`StoreUnavailable`,
        one line naming the URL (password hidden) and the reason (BUS-9)."""
        try:
            yield
        except Exception as exc:
            if not _unusable(exc):
                raise
            where = self.url.render_as_string(hide_password=True)
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            if isinstance(exc, DatabaseError) and not isinstance(exc, OperationalError):
                # "file is not a database", "database disk image is malformed"
                hint = (
                    "(check [store] url / CIMBUS_DB_URL: is it the store's file? if it is, "
                    "restore it from a backup)"
                )
            else:
                hint = "(check [store] url / CIMBUS_DB_URL and that the database is running)"
            raise StoreUnavailable(f"cannot open the store {where}: {reason} {hint}") from exc

    # ------------------------------------------------------------------ unit of work
    def in_transaction(self) -> bool:
        """Whether this thread has a ``transaction()`` (or ``batch()``) open."""
        return self._local.session is not None

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Group several calls into one database transaction, committed when the block ends
        and rolled back if it raises (e.g. claim a MessageID, open its correlation and enqueue
        its delivery: all or nothing, REL-1). Per thread; a nested ``transaction()`` joins the
        outer one."""
        if self._local.session is not None:
            yield self
            return
        with self._writing(), self._sessions() as session, session.begin():
            self._local.session = session
            try:
                yield self
            finally:
                self._local.session = None

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Release the database connections."""
        if self._checkpoint_path is not None:
            CHECKPOINTER.forget(self._checkpoint_path)
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
