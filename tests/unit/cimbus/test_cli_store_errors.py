"""A store that cannot be opened (BUS-9; the brief: bad input gets a clear error, never a
traceback): ``Store.migrate`` raises :class:`StoreUnavailable` naming the URL (password
hidden) and the reason, and every ``cimbus`` sub-command prints it as one line, exit 1."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from routing.store import Store, StoreUnavailable


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_migrate_names_an_unusable_sqlite_path(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    store = Store(f"sqlite:///{blocker}/cimbus.db")
    with pytest.raises(StoreUnavailable, match=r"cannot open the store sqlite:///.*afile"):
        store.migrate()


def test_migrate_names_an_unreachable_database_and_hides_the_password() -> None:
    store = Store(f"postgresql+psycopg://bob:s3cret@127.0.0.1:{_closed_port()}/nothing")
    with pytest.raises(StoreUnavailable) as caught:
        store.migrate()
    text = str(caught.value)
    assert "bob:***@127.0.0.1" in text and "s3cret" not in text
    assert "CIMBUS_DB_URL" in text


@pytest.mark.parametrize("argv", [["dlq", "list"], ["serve", "--port", str(_closed_port())]])
def test_cli_reports_an_unreachable_store_in_one_line(argv: list[str], tmp_path: Path) -> None:
    url = f"postgresql+psycopg://127.0.0.1:{_closed_port()}/nothing"
    done = subprocess.run(
        [sys.executable, "-c", "from cimbus.cli import main; main()", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "CIMBUS_DB_URL": url},
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("error: cannot open the store postgresql"), done.stderr
