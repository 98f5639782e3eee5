"""What every part of :class:`~routing.store.Store` shares: the engine, the session factory
and the per-thread unit of work that ``Store.transaction()`` opens."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ._engine import READ_ONLY, SQLITE_BUSY_TIMEOUT

#: one lock per SQLite database file in this process, shared by every Store on that file
_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def sqlite_write_lock(path: str) -> threading.RLock:
    """The in-process writer lock of a SQLite database file (see :meth:`StoreBase._writing`)."""
    key = os.path.realpath(path)
    with _WRITE_LOCKS_GUARD:
        lock = _WRITE_LOCKS.get(key)
        if lock is None:
            lock = _WRITE_LOCKS[key] = threading.RLock()
        return lock


class StoreLocal(threading.local):
    """A Store's per-thread state: the open ``transaction()`` and ``batch()``. Class-level
    defaults, so asking "is there one?" is an attribute hit, not a caught AttributeError
    (whose message CPython formats every time: ~0.7 us, several times per message)."""

    session: Session | None = None
    pending: Any = None


class StoreBase:
    _engine: Engine
    _sessions: sessionmaker[Session]
    _local: StoreLocal
    #: SQLite file: the in-process writer lock (None: PostgreSQL, in-memory SQLite)
    _write_lock: threading.RLock | None = None

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold this process's writer lock of the SQLite file for one write transaction.

        SQLite lets one writer in at a time; a second ``BEGIN IMMEDIATE`` waits in SQLite's
        busy handler, which polls by sleeping 1, 2, 5, 10, 15, 20, 25 ... ms however soon the
        lock is free (seen with strace: the batch thread sleeping while the outbox thread
        marked deliveries for a few hundred microseconds). Threads of one process queue here
        instead and are woken the moment the writer commits; other processes on the same
        file still meet in SQLite's busy handler. Taken with SQLite's busy timeout: past it
        the transaction goes ahead and SQLite's own timeout decides, as before."""
        lock = self._write_lock
        if lock is None:
            yield
            return
        got = lock.acquire(timeout=SQLITE_BUSY_TIMEOUT)
        try:
            yield
        finally:
            if got:
                lock.release()

    @contextmanager
    def _session(self, *, read: bool = False) -> Iterator[Session]:
        """The open ``transaction()`` of this thread if there is one (its writes commit with
        it), else a new session committed on exit and rolled back on an exception."""
        current = self._local.session
        if current is not None:
            yield current
            return
        if read:
            with self._sessions() as session, session.begin():
                session.connection(execution_options={READ_ONLY: True})
                yield session
            return
        with self._writing(), self._sessions() as session, session.begin():
            yield session

    def _pending(self) -> Any:
        """The writes a ``batch()`` open in this thread collects (None: no batch), see
        ``_batch.PendingWrites``."""
        return self._local.pending

    def _insert(self, model: Any) -> Any:
        """INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` for the backend."""
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(model)
