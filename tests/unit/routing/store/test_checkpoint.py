"""Background WAL checkpoints of SQLite stores (routing/store/_checkpoint.py, BUS-10, issue 3).

Commits no longer copy the WAL into the database file themselves (the commit that took the WAL
past 1,000 pages used to stop for the copy and its fsync); one thread per process does it, and
makes the WAL start from its beginning again once it is large. Each test runs its own
:class:`Checkpointer` in place of the process's one.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

import routing.store._base as store_base
import routing.store.store as store_module
from routing.config import Config, ConfigError
from routing.store import OutboxItem, Store
from routing.store._base import sqlite_write_lock
from routing.store._checkpoint import FALLBACK_PAGES, Checkpointer, wal_backlog

PAGE = 4096
PAYLOAD = b"x" * 100_000  # ~25 WAL pages per commit


@pytest.fixture
def checkpointer(monkeypatch: pytest.MonkeyPatch):
    """Install a Checkpointer for the test (returned unstarted: set its knobs, then write)."""
    cp = Checkpointer(delay=0.01, idle_close=60.0, min_backlog=0)
    monkeypatch.setattr(store_base, "CHECKPOINTER", cp)
    monkeypatch.setattr(store_module, "CHECKPOINTER", cp)
    return cp


def _write(store: Store, commits: int) -> None:
    for i in range(commits):
        store.enqueue(OutboxItem(target="MDMS", transport="embedded", address="q", payload=PAYLOAD))
        assert i >= 0


def _wal_frames(db: Path) -> int:
    """Frames in the WAL now (a PASSIVE checkpoint reports them; it copies nothing new when
    everything is copied already)."""
    with sqlite3.connect(db) as c:
        return c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]


def _wal_size(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_commits_leave_the_copy_to_the_background_thread(make_store, checkpointer, tmp_path):
    checkpointer.delay = 3600.0  # the thread sees the commits but does not copy yet
    store = make_store()
    db = tmp_path / "cimbus.db"
    with store._engine.connect() as conn:  # the store's connections: the backstop, not 1,000
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == FALLBACK_PAGES
    _write(store, 80)  # ~2,000 pages, twice SQLite's own checkpoint threshold
    # no commit checkpointed: with SQLite's default, the WAL restarts after 1,000 pages
    assert _wal_size(db) > 1_600 * PAGE
    assert checkpointer.pending() and checkpointer.checkpoints == 0


def test_the_thread_checkpoints_and_the_wal_restarts(make_store, checkpointer, tmp_path):
    checkpointer.restart_pages = 500
    store = make_store()
    db = tmp_path / "cimbus.db"
    _write(store, 60)  # ~1,500 pages
    assert checkpointer.wait_idle(10.0)
    assert checkpointer.checkpoints >= 1 and checkpointer.restarts >= 1
    _write(store, 1)  # the first writer after a complete copy starts the WAL again
    assert _wal_frames(db) < 100
    assert store.outbox_counts()["pending"] == 61  # nothing lost on the way


def test_a_closing_store_closes_the_threads_connection(make_store, checkpointer, tmp_path):
    store = make_store()
    db = tmp_path / "cimbus.db"
    _write(store, 3)
    assert checkpointer.wait_idle(10.0) and checkpointer.checkpoints >= 1
    store.close()
    # the store's last connection was the file's last: SQLite copied and removed the WAL
    assert not Path(f"{db}-wal").exists()
    reopened = make_store()
    assert reopened.outbox_counts()["pending"] == 3


def test_idle_connections_are_closed(make_store, checkpointer):
    checkpointer.idle_close = 0.05
    store = make_store()
    _write(store, 1)
    assert checkpointer.wait_idle(10.0)
    deadline = time.monotonic() + 10.0
    while checkpointer._connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not checkpointer._connections


def test_a_removed_database_is_not_recreated(tmp_path, checkpointer):
    db = tmp_path / "gone.db"
    checkpointer.note(sqlite_write_lock(str(db)))
    assert checkpointer.wait_idle(10.0)
    assert not db.exists()


def test_commit_mode_keeps_sqlites_own_checkpoints(make_store, checkpointer, tmp_path):
    store = make_store(background_checkpoints=False)
    db = tmp_path / "cimbus.db"
    with store._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    _write(store, 80)
    assert not checkpointer.pending() and checkpointer.checkpoints == 0
    assert _wal_size(db) < 1_200 * PAGE  # SQLite restarted it after 1,000 pages


def test_wal_checkpoint_setting(tmp_path):
    cfg = Config.from_mapping({"store": {"wal_checkpoint": "commit"}})
    assert cfg.store.wal_checkpoint == "commit"
    assert Config().store.wal_checkpoint == "background"
    with pytest.raises(ConfigError, match="wal_checkpoint must be background or commit"):
        Config.from_mapping({"store": {"wal_checkpoint": "never"}})


def test_a_forked_child_starts_its_own_thread(make_store, checkpointer, tmp_path):
    """A worker forked from a process whose checkpointer ran has none of its threads (and a
    lock the thread held at the fork would stay held): the child starts from scratch."""
    store = make_store()
    _write(store, 2)
    assert checkpointer.wait_idle(10.0) and checkpointer._thread is not None
    lock = sqlite_write_lock(str(tmp_path / "cimbus.db"))
    pid = os.fork()
    if pid == 0:  # the child: only the checkpointer, then leave without pytest's teardown
        code = 1
        try:
            fresh = checkpointer._thread is None and not checkpointer._connections
            before = checkpointer.checkpoints
            checkpointer.note(lock)
            ran = checkpointer.wait_idle(10.0) and checkpointer.checkpoints > before
            code = 0 if fresh and ran else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_small_backlog_waits_for_more_or_for_time(make_store, checkpointer, tmp_path):
    """Like SQLite's own policy, a WAL with fewer than min_backlog uncopied pages is not
    checkpointed after every commit (a quiet store would sync its files each time), only once
    it has grown or its oldest commit has waited idle_flush seconds."""
    checkpointer.min_backlog = 1_000
    checkpointer.check_every = 0.01
    checkpointer.idle_flush = 3600.0
    store = make_store()
    db = tmp_path / "cimbus.db"
    _write(store, 2)  # ~50 pages
    time.sleep(0.2)
    assert checkpointer.checkpoints == 0 and checkpointer.pending()
    assert 0 < wal_backlog(str(db)) < 1_000
    _write(store, 40)  # past 1,000 pages: copied soon after
    deadline = time.monotonic() + 10.0
    while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert checkpointer.checkpoints >= 1
    assert wal_backlog(str(db)) < 1_000  # (commits after that checkpoint wait for the next)
    _write(store, 1)
    checkpointer.idle_flush = 0.1  # a small backlog is copied once it has waited that long
    assert checkpointer.wait_idle(10.0)
    assert wal_backlog(str(db)) == 0


def test_wal_backlog_reads_the_wal_index(tmp_path):
    db = tmp_path / "plain.db"
    assert wal_backlog(str(db)) is None  # no database, no -shm
    c = sqlite3.connect(db, isolation_level=None)
    try:
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA wal_autocheckpoint=0")
        c.execute("CREATE TABLE t (x BLOB)")
        for _ in range(20):
            c.execute("INSERT INTO t VALUES (?)", (b"x" * 3000,))
        frames = c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        assert frames > 20
        c.execute("INSERT INTO t VALUES (?)", (b"x" * 3000,))
        assert 0 < wal_backlog(str(db)) <= 3  # copied up to the last commit, then one more
    finally:
        c.close()


def test_the_thread_survives_a_failure_looking_at_the_backlog(
    make_store, checkpointer, monkeypatch
):
    """An unexpected error while deciding is logged and the checkpoint runs anyway: the
    thread keeps serving later commits (else commits would fall back to the 40 MB backstop)."""
    from routing.store import _checkpoint

    calls = []

    def broken(path: str) -> int:
        calls.append(path)
        if len(calls) == 1:
            raise RuntimeError("surprise")
        return 10**6

    monkeypatch.setattr(_checkpoint, "wal_backlog", broken)
    store = make_store()
    _write(store, 1)
    assert checkpointer.wait_idle(10.0) and checkpointer.checkpoints == 1
    _write(store, 1)
    assert checkpointer.wait_idle(10.0) and checkpointer.checkpoints == 2
    assert checkpointer._thread is not None and checkpointer._thread.is_alive()
