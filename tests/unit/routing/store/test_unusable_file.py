"""A SQLite file that is not a database (BUS-9; bad input gets a clear error, never a
traceback): opening the store is :class:`StoreUnavailable` naming the file, whatever asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.store import Store, StoreUnavailable


@pytest.fixture
def corrupt(tmp_path: Path) -> Path:
    path = tmp_path / "corrupt.db"
    path.write_bytes(bytes(range(256)) * 32)  # 8 KB of not-SQLite
    return path


def test_migrate_names_a_file_that_is_not_a_database(corrupt: Path) -> None:
    with Store(f"sqlite:///{corrupt}") as store, pytest.raises(StoreUnavailable) as info:
        store.migrate()
    text = str(info.value)
    assert text.startswith(f"cannot open the store sqlite:///{corrupt}: file is not a database")
    assert "\n" not in text and "restore it from a backup" in text


def test_schema_revision_names_a_file_that_is_not_a_database(corrupt: Path) -> None:
    with (
        Store(f"sqlite:///{corrupt}") as store,
        pytest.raises(StoreUnavailable, match="file is not a database"),
    ):
        store.schema_revision()


def test_file_is_the_sqlite_database_file(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path}/a.db") as store:
        assert store.file == tmp_path / "a.db"
    with Store("sqlite://") as store:
        assert store.file is None


def test_python_m_routing_store_says_it_in_one_line(corrupt: Path, capsys) -> None:
    from routing.store.__main__ import main

    assert main(["current", "--url", f"sqlite:///{corrupt}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot open the store sqlite:///{corrupt}: file is not a")
    assert "Traceback" not in err
