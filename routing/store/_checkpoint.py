"""Background WAL checkpoints for SQLite stores (BUS-10, issue 3 speed).

In WAL mode every commit appends pages to ``<database>-wal``; a *checkpoint* copies them back
into the database file and syncs it. By default SQLite runs that checkpoint inside whichever
commit takes the WAL past 1,000 pages, so every ~200 messages one of cimbus's inbound batches
stopped to read back, copy and ``fsync`` ~4 MB: ~10 % of the AMQP batch thread's wall time
(py-spy, bench/README.md sixth round), and that thread is what bounds the throughput.

Here, one daemon thread per process does the checkpoints instead: a store notes each write
transaction it commits (:meth:`Checkpointer.note`, a dictionary entry under a lock), and the
thread, ``DELAY`` seconds after the first commit it has not checkpointed yet, looks at the WAL's
backlog (frames not yet copied, read from the wal-index header in ``<database>-shm``): from
``MIN_BACKLOG`` pages on (SQLite's own threshold), or once the oldest uncopied commit is
``IDLE_FLUSH`` seconds old, it runs ``PRAGMA wal_checkpoint(PASSIVE)`` on a connection of its
own; below that it looks again every ``CHECK_EVERY`` seconds, so a quiet store does not sync
its files after every commit. A PASSIVE checkpoint takes no lock a writer or reader needs, and
the sqlite3 driver releases the GIL while it runs, so the copy and the ``fsync`` overlap with
the next batch on the other core. Once everything is copied, the next writer starts the WAL
from its beginning again, so the file stays as small as before.

The store's own connections keep an automatic checkpoint as a backstop, at
``FALLBACK_PAGES`` (~40 MB) instead of 1,000: should this thread fall behind or be stopped,
commits checkpoint as they always did. Durability is unchanged: a committed transaction is in
the WAL whatever happens to the checkpoint (REL-1), and an interrupted checkpoint is simply
done again.

Several processes on one file (workers) each run their own thread; two checkpoints at once
cost one of them a no-op. The thread opens the file read-write without creating it (a
database deleted meanwhile is not recreated), and closes a connection that has been idle
for ``IDLE_CLOSE`` seconds.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import struct
import threading
import time
import weakref
from typing import Any
from urllib.parse import quote

log = logging.getLogger("cimbus.store")

#: wal_autocheckpoint of a store's connections while the background thread checkpoints
FALLBACK_PAGES = 10_000
#: seconds between the first unchecked commit and the checkpoint (commits meanwhile join it)
DELAY = 0.05
#: seconds after which the thread closes its connection to a database nobody writes to
IDLE_CLOSE = 10.0
#: WAL pages past which a checkpoint finishes under the writer lock, so that the WAL restarts
RESTART_PAGES = 2_000
#: uncopied WAL pages worth a checkpoint (SQLite's own threshold): a quiet store is not synced
#: after every commit
MIN_BACKLOG = 1_000
#: seconds between looks at a smaller backlog, and after which it is copied all the same
CHECK_EVERY = 0.1
IDLE_FLUSH = 30.0


class Checkpointer:
    """The process's background WAL checkpointer (see the module docstring)."""

    def __init__(
        self,
        *,
        delay: float = DELAY,
        idle_close: float = IDLE_CLOSE,
        restart_pages: int = RESTART_PAGES,
        min_backlog: int = MIN_BACKLOG,
        check_every: float = CHECK_EVERY,
        idle_flush: float = IDLE_FLUSH,
    ) -> None:
        self.delay = delay
        self.idle_close = idle_close
        self.restart_pages = restart_pages
        self.min_backlog = min_backlog
        self.check_every = check_every
        self.idle_flush = idle_flush
        self._locks: dict[str, Any] = {}  # path -> its WriterLock (``_base``)
        self._cond = threading.Condition()
        # path -> [when its first unchecked commit was noted, when to look at it next]
        self._dirty: dict[str, list[float]] = {}
        self._connections: dict[str, tuple[sqlite3.Connection, float]] = {}  # under _io
        self._io = threading.Lock()  # held while a connection is used, opened or closed
        self._thread: threading.Thread | None = None
        self._running = False  # the thread is checkpointing what it took from _dirty
        self.checkpoints = 0  # PASSIVE checkpoints run (tests, metrics)
        self.restarts = 0  # of them, finished under the writer lock so the WAL restarts
        # a forked child has none of the parent's threads, and a lock the thread held at the
        # fork stays held in the child: start again from scratch there
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _reset(ref))

    def note(self, lock: Any) -> None:
        """A write transaction on the database file of ``lock`` (its ``WriterLock``, whose
        ``path`` names the file) has ended: checkpoint it soon."""
        path = lock.path
        with self._cond:
            self._locks[path] = lock
            if path not in self._dirty:
                now = time.monotonic()
                self._dirty[path] = [now, now + self.delay]
                self._cond.notify()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="cimbus-wal-checkpoint", daemon=True
                )
                self._thread.start()

    def forget(self, path: str) -> None:
        """A store on ``path`` closes: drop its pending checkpoint and close this thread's
        connection to it, so that the store's last connection is the file's last one (SQLite
        then checkpoints and removes the WAL itself). A later :meth:`note` reopens it."""
        with self._cond:
            self._dirty.pop(path, None)
            self._locks.pop(path, None)
        with self._io:
            entry = self._connections.pop(path, None)
        if entry is not None:
            _close(entry[0])

    def pending(self) -> bool:
        """Whether a noted commit is still waiting for its checkpoint (or in one)."""
        with self._cond:
            return bool(self._dirty) or self._running

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no noted commit waits for a checkpoint (tests); False on timeout."""
        deadline = time.monotonic() + timeout
        while self.pending():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def _reset_after_fork(self) -> None:
        self._cond = threading.Condition()
        self._io = threading.Lock()
        self._dirty = {}
        self._running = False
        self._locks = {}
        self._connections = {}  # the parent's connections must not be used or closed here
        self._thread = None

    # ---------------------------------------------------------------- the thread
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._dirty:
                    if not self._cond.wait(self.idle_close if self._connections else None):
                        self._close_idle()  # (this lock, then _io: nobody takes them reversed)
                now = time.monotonic()
                due = [p for p, (_first, look) in self._dirty.items() if look <= now]
                if not due:
                    self._cond.wait(min(look for _first, look in self._dirty.values()) - now)
                    continue
                self._running = True
            try:
                for path in due:
                    try:
                        if not self._worth_it(path, now):
                            continue
                    except Exception:  # checkpoint anyway: the thread must outlive a surprise
                        log.exception("WAL checkpoint of %s: looking at the backlog failed", path)
                    with self._cond:
                        self._dirty.pop(path, None)
                    self._checkpoint(path)
            finally:
                with self._cond:
                    self._running = False

    def _worth_it(self, path: str, now: float) -> bool:
        """Checkpoint now: the WAL holds ``min_backlog`` uncopied pages, or the first commit
        not copied is ``idle_flush`` seconds old, or the backlog cannot be read. Otherwise look
        again in ``check_every`` seconds (SQLite itself copies every 1,000 pages: a store with
        a commit now and then must not sync its files after each one)."""
        backlog = wal_backlog(path)
        with self._cond:
            entry = self._dirty.get(path)
            if entry is None:  # forgotten meanwhile (the store closed)
                return False
            if backlog is None or backlog >= self.min_backlog or now - entry[0] >= self.idle_flush:
                return True
            entry[1] = now + self.check_every
            return False

    def _checkpoint(self, path: str) -> None:
        """PASSIVE: copy what the WAL holds without taking a lock a writer needs. Writers keep
        appending meanwhile, so the WAL may never be copied completely at one instant, and
        SQLite starts it from its beginning again only then (a writer finding every frame
        copied): once it holds ``restart_pages``, the few frames appended during the copy are
        copied once more under the writer lock (``WriterLock``: this process's writers queue
        for it, other processes' wait on its flock), which lets the next writer restart it."""
        with self._io:
            try:
                entry = self._connections.get(path)
                conn = entry[0] if entry else self._connect(path)
                self._connections[path] = (conn, time.monotonic())
                _busy, frames, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.checkpoints += 1
                lock = self._locks.get(path)
                restart = frames >= self.restart_pages and lock is not None
                if restart and lock.acquire(timeout=1.0):
                    try:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                        self.restarts += 1
                    finally:
                        lock.release()
            except Exception as exc:  # a deleted or unreadable file: commits checkpoint instead
                log.debug("WAL checkpoint of %s failed: %s", path, exc)
                entry = self._connections.pop(path, None)
                if entry is not None:
                    _close(entry[0])

    @staticmethod
    def _connect(path: str) -> sqlite3.Connection:
        # mode=rw: never create a database that has been removed meanwhile
        uri = f"file:{quote(os.path.abspath(path))}?mode=rw"
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)

    def _close_idle(self) -> None:
        now = time.monotonic()
        with self._io:
            for path, (conn, used) in list(self._connections.items()):
                if now - used >= self.idle_close:
                    del self._connections[path]
                    _close(conn)


#: the wal-index header at the start of ``<database>-shm`` (https://www.sqlite.org/walformat.html,
#: "The WAL-Index Header"), in the machine's byte order: iVersion (u32, 3007000) at 0, isInit
#: (u8) at 12, mxFrame (u32, frames in the WAL) at 16; then, after the header's two copies,
#: the checkpoint information with nBackfill (u32, frames copied) at 96.
_SHM_HEADER = struct.Struct("=I8xB3xI")
_SHM_BACKFILL = struct.Struct("=I")


def wal_backlog(path: str) -> int | None:
    """WAL frames of the database file ``path`` not yet copied into it, read from the
    wal-index (``-shm``) without opening the database; None when it cannot be read."""
    try:
        with open(f"{path}-shm", "rb") as fh:
            head = fh.read(100)
    except OSError:
        return None
    if len(head) < 100:
        return None
    version, is_init, frames = _SHM_HEADER.unpack_from(head, 0)
    if version != 3007000 or not is_init:
        return None
    (copied,) = _SHM_BACKFILL.unpack_from(head, 96)
    return max(0, frames - copied)


def _reset(ref: weakref.ref[Checkpointer]) -> None:
    checkpointer = ref()
    if checkpointer is not None:
        checkpointer._reset_after_fork()


def _close(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except Exception:
        log.debug("closing a checkpoint connection failed", exc_info=True)


#: the one checkpointer of this process
CHECKPOINTER = Checkpointer()

__all__ = [
    "CHECKPOINTER",
    "DELAY",
    "FALLBACK_PAGES",
    "MIN_BACKLOG",
    "RESTART_PAGES",
    "Checkpointer",
    "wal_backlog",
]
