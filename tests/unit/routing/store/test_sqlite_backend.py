"""What is specific to the embedded SQLite backend (BUS-10) and to running migrations from
code: file creation, pragmas, UTC storage, the CLI and writing a new revision."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from routing.store import DEFAULT_URL, AuditEntry, OutboxItem, Store, _migrate, models
from routing.store.__main__ import main
from routing.store._types import UTCDateTime

from .contract import T0, entry


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = Store()
    assert DEFAULT_URL == "sqlite:///cimbus.db" and store.url.database == "cimbus.db"
    assert store.payload_policy == "failed" and store.max_payload_bytes == 1_000_000
    assert store.backend == "sqlite"
    store.close()


def test_migrate_creates_the_folder_of_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "lib" / "cimbus" / "bus.db"
    with Store(f"sqlite:///{path}") as store:
        assert store.schema_revision() is None and not path.exists()
        store.migrate()
        assert path.is_file() and store.schema_revision() == _migrate.head_revision()


def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    with store._engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_datetimes_are_stored_as_utc_text(store: Store) -> None:
    plus_two = timezone(timedelta(hours=2))
    store.record(entry(received_at=datetime(2025, 3, 1, 14, 0, tzinfo=plus_two)))
    path = store.url.database
    assert path is not None
    raw = sqlite3.connect(path).execute("SELECT received_at FROM audit").fetchone()[0]
    assert raw.startswith("2025-03-01 12:00:00")  # UTC, so text order is time order
    assert store.audit()[0].received_at == T0


def test_naive_datetimes_are_refused_everywhere(store: Store) -> None:
    naive = datetime(2025, 3, 1, 12)
    with pytest.raises(ValueError, match="naive"):
        store.claim_due("w1", now=naive)
    with pytest.raises(ValueError, match="naive"):
        store.enqueue(
            OutboxItem(target="t", transport="x", address="a", payload=b"", next_attempt_at=naive)
        )
    with pytest.raises(ValueError, match="naive"):
        store.expired_correlations(now=naive)


def test_in_memory_database_for_tests() -> None:
    with Store("sqlite://", payload_policy="all") as store:
        store.migrate()
        store.record(AuditEntry(direction="in", transport="embedded", message_id="m", payload=b"x"))
        seen: list[int] = []
        t = threading.Thread(target=lambda: seen.append(len(store.audit())))
        t.start()
        t.join(5)
        assert seen == [1]


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("mysql://u@h/db", {}, "use sqlite"),
        ("sqlite:///x.db", {"payload_policy": "some"}, "payload_policy"),
        ("sqlite:///x.db", {"max_payload_bytes": -1}, "max_payload_bytes"),
    ],
)
def test_bad_configuration_is_refused(url: str, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Store(url, **options)


def test_repr_hides_the_password() -> None:
    store = Store("postgresql+psycopg://cimbus:s3cret@db.example:5432/cimbus")
    assert "s3cret" not in repr(store) and "db.example" in repr(store)
    assert store.backend == "postgresql"
    store.close()


def test_cli_upgrade_and_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/cli/cimbus.db"
    assert main(["current", "--url", url]) == 0
    assert "revision none" in capsys.readouterr().out
    assert main(["upgrade", "--url", url, "--revision", "0001"]) == 0
    assert "revision 0001" in capsys.readouterr().out
    assert main(["upgrade", "--url", url]) == 0
    head = _migrate.head_revision()
    assert f"revision {head} (head {head})" in capsys.readouterr().out


@pytest.fixture
def migrations_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "migrations"
    shutil.copytree(_migrate.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(_migrate, "MIGRATIONS", copy)
    return copy


def test_new_revision_is_numbered_and_finds_no_drift(migrations_copy: Path) -> None:
    path = _migrate.new_revision("nothing changed")
    assert path.parent == migrations_copy / "versions"
    number = int(_migrate.head_revision())
    assert path.name == f"{number:04d}_nothing_changed.py"
    text = path.read_text()
    assert f"revision: str = '{number:04d}'" in text
    assert f"down_revision: str | Sequence[str] | None = '{number - 1:04d}'" in text
    # the models and the existing revisions agree, so autogenerate finds nothing to do
    assert "def upgrade() -> None:\n    # ### commands auto generated by Alembic" in text
    assert "op." not in text.split("def upgrade")[1].split("def downgrade")[0]


def test_new_empty_revision_and_upgrade_through_it(tmp_path: Path, migrations_copy: Path) -> None:
    path = _migrate.new_revision("hand written", autogenerate=False)
    assert "def upgrade() -> None:\n    pass" in path.read_text()
    with Store(f"sqlite:///{tmp_path}/db/x.db") as store:
        store.migrate()
        assert store.schema_revision() == path.name.split("_")[0]


def test_new_revision_autogenerates_a_model_change_without_cimbus_types(
    tmp_path: Path, migrations_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metadata = sa.MetaData()
    for table in models.Base.metadata.tables.values():
        table.to_metadata(metadata)
    metadata.tables["audit"].append_column(sa.Column("archived_at", UTCDateTime()))
    monkeypatch.setattr(models, "Base", SimpleNamespace(metadata=metadata))

    path = _migrate.new_revision("audit archived_at")
    text = path.read_text()
    assert "add_column(sa.Column('archived_at', sa.DateTime(timezone=True)" in text
    assert "UTCDateTime" not in text and "routing" not in text
    with Store(f"sqlite:///{tmp_path}/db/x.db") as store:
        store.migrate()
        columns = {c["name"] for c in sa.inspect(store._engine).get_columns("audit")}
        assert "archived_at" in columns


def test_writers_of_one_process_queue_on_the_writer_lock_not_in_sqlites_busy_handler(
    tmp_path: Path,
) -> None:
    """Two threads (and two Store objects) writing one SQLite file in one process: the
    second waits on the process's writer lock and goes in the moment the first commits,
    instead of polling in SQLite's busy handler (sleeps of 1, 2, 5, 10 ... ms). With SQLite's
    busy timeout at 0 the second writer would fail with "database is locked" without it."""
    url = f"sqlite:///{tmp_path / 'bus.db'}"
    first = Store(url, connect_args={"timeout": 0})
    first.migrate()
    second = Store(url, connect_args={"timeout": 0})  # another Store, same file
    holding, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    read_while_held: list[int] = []

    def writer_a() -> None:
        with first.transaction():
            first.record(entry(message_id="a"))
            holding.set()
            done.wait(0.3)  # hold the write transaction a while
        done.set()

    def writer_b() -> None:
        holding.wait(5)
        try:
            read_while_held.append(len(second.audit()))  # readers never wait (WAL)
            second.record(entry(message_id="b"))  # waits for a's commit, then writes
        except BaseException as exc:  # pragma: no cover - the failure this test is about
            errors.append(exc)

    threads = [threading.Thread(target=writer_a), threading.Thread(target=writer_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert read_while_held == [0]  # a's row was not committed yet, and the read did not wait
    assert sorted(r.message_id for r in first.audit()) == ["a", "b"]
    first.close()
    second.close()


def test_writers_of_two_processes_queue_on_the_lock_file(tmp_path: Path) -> None:
    """Several cimbus workers on one SQLite file: a writer in another process holds its
    transaction a while; this process's writer waits on ``<db>-cimbus.lock`` and goes in when
    the other commits, where SQLite alone (busy timeout 0 here) would refuse it at once."""
    import subprocess
    import sys
    import textwrap

    db = tmp_path / "bus.db"
    url = f"sqlite:///{db}"
    Store(url).migrate()
    holder = textwrap.dedent(
        f"""
        import sys, time
        from routing.store import Store
        from tests.unit.routing.store.contract import entry
        store = Store({url!r})
        with store.transaction():
            store.record(entry(message_id="other-process"))
            print("holding", flush=True)
            time.sleep(0.5)
        print("committed", flush=True)
        """
    )
    root = Path(__file__).resolve().parents[4]
    child = subprocess.Popen(
        [sys.executable, "-c", holder], cwd=root, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"
        assert (db.parent / "bus.db-cimbus.lock").exists()
        store = Store(url, connect_args={"timeout": 0})
        store.record(entry(message_id="this-process"))  # waits for the other's commit
        assert sorted(r.message_id for r in store.audit()) == ["other-process", "this-process"]
        store.close()
    finally:
        child.wait(20)


def test_trail_finds_its_rows_through_the_indexes_not_a_scan(store: Store) -> None:
    """trail() (revision 0005) is written so that SQLite answers it from ix_audit_thread and
    ix_audit_message_id_answered: a ledger of millions of rows is never read whole."""
    store.record(entry(message_id="req"))
    store.record(entry(message_id="ack", correlation_id="req", direction="out"))
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM audit" in statement:
            statements.append((statement, parameters))

    sa.event.listen(store._engine, "before_cursor_execute", capture)
    try:
        assert [r.message_id for r in store.trail("req")] == ["req", "ack"]
    finally:
        sa.event.remove(store._engine, "before_cursor_execute", capture)
    assert len(statements) == 2  # the exchange, then the rows answering its messages
    with store._engine.connect() as connection:
        for statement, parameters in statements:
            plan = " | ".join(
                row[-1]
                for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            )
            assert "ix_audit_thread" in plan, plan
            assert "SCAN audit" not in plan, plan
