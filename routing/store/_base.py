"""What every part of :class:`~routing.store.Store` shares: the engine, the session factory
and the per-thread unit of work that ``Store.transaction()`` opens."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ._checkpoint import CHECKPOINTER
from ._engine import READ_ONLY, SQLITE_BUSY_TIMEOUT

#: one writer lock per SQLite database file in this process, shared by every Store on it
_WRITE_LOCKS: dict[str, WriterLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


class WriterLock:
    """The writer lock of one SQLite database file (see :meth:`StoreBase._writing`): a
    re-entrant lock for the threads of this process, and while a thread holds it, an exclusive
    ``flock`` on ``<database>-cimbus.lock`` for the other processes (several cimbus workers on
    one file). The kernel wakes a process waiting on it the moment the holder lets go, and
    drops it if the holder dies. Where ``flock`` is unavailable only the threads queue."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0  # re-entries of the holding thread: flock only at the outermost
        self._fd: int | None = None
        self._pid = 0

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            return False
        self._depth += 1
        if self._depth == 1 and not self._lock_file(deadline):
            self._depth -= 1
            self._lock.release()
            return False
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._lock.release()

    def _lock_file(self, deadline: float) -> bool:
        if fcntl is None:
            return True
        try:
            if self._fd is None or self._pid != os.getpid():  # not an fd inherited by fork
                self._fd = os.open(self.path + "-cimbus.lock", os.O_RDWR | os.O_CREAT, 0o644)
                self._pid = os.getpid()
            fd = self._fd
        except OSError:  # e.g. a read-only folder: SQLite's own locking still applies
            return True
        pause = 0.00005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                pass
            except OSError:
                return True
            if time.monotonic() >= deadline:
                return False
            # another process writes: poll finely (SQLite's own handler sleeps 1, 2, 5,
            # 10 ... ms); a blocking flock would have no timeout
            time.sleep(pause)
            pause = min(pause * 2, 0.001)


def sqlite_write_lock(path: str) -> WriterLock:
    """The writer lock of a SQLite database file (see :meth:`StoreBase._writing`)."""
    key = os.path.realpath(path)
    with _WRITE_LOCKS_GUARD:
        lock = _WRITE_LOCKS.get(key)
        if lock is None:
            lock = _WRITE_LOCKS[key] = WriterLock(key)
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
    #: SQLite file: the writer lock (None: PostgreSQL, in-memory SQLite)
    _write_lock: WriterLock | None = None
    #: SQLite file whose WAL the background thread checkpoints (``_checkpoint``), else None
    _checkpoint_path: str | None = None

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the SQLite file's writer lock for one write transaction.

        SQLite lets one writer in at a time; a second ``BEGIN IMMEDIATE`` waits in SQLite's
        busy handler, which polls by sleeping 1, 2, 5, 10, 15, 20, 25 ... ms however soon the
        lock is free (seen with strace: the batch thread sleeping while the outbox thread
        marked deliveries for a few hundred microseconds). Threads of one process queue on
        :class:`WriterLock` instead and are woken the moment the writer commits; other
        processes on the same file wait on its ``flock``, polled every 50 us to 1 ms. Taken
        with SQLite's busy timeout: past it the transaction goes ahead and SQLite's own
        timeout decides, as before."""
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
            if self._checkpoint_path is not None:
                CHECKPOINTER.note(lock)

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
