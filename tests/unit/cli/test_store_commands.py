"""The ``cimbus`` commands that open the store (BUS-9, BUS-10, REL-2) and the configuration
they read (BUS-8): bad input is one line and a non-zero exit, never a traceback, and a command
that only inspects or maintains a store never creates one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cimbus.cli import app

runner = CliRunner()

#: the commands that open an existing store (``cimbus serve`` and ``cimbus smt load``, a set-up
#: step that may come first, create it)
STORE_COMMANDS = [
    ["dlq", "list"],
    ["dlq", "show", "1"],
    ["dlq", "replay", "1"],
    ["store", "prune", "--audit-days", "1"],
    ["smt", "show", "10443720001234567"],
]
NO_CONFIG_ENV = {"CIMBUS_CONFIG": None, "CIMBUS_DB_URL": None}


def _argv(argv: list[str], tmp_path: Path) -> list[str]:
    registry = tmp_path / "registry.toml"
    registry.write_text("[[usage_points]]\nesiid = '10443720001234567'\nror = 'X'\n")
    return [str(registry) if a == "REGISTRY" else a for a in argv]


@pytest.mark.parametrize("argv", STORE_COMMANDS, ids=" ".join)
def test_a_missing_sqlite_store_is_an_error_and_nothing_is_created(
    argv: list[str], tmp_path: Path
) -> None:
    """A typo in [store] url must not answer "no dead letters" from a fresh empty store."""
    path = tmp_path / "typo" / "cimbus.db"
    cfg = tmp_path / "cimbus.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{path}"\n')
    result = runner.invoke(app, [*_argv(argv, tmp_path), "--config", str(cfg)], env=NO_CONFIG_ENV)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines == [
        f"error: no store at {path} ({cfg}: [store] url): the file does not exist and nothing "
        "was created (fix the path; cimbus serve creates a new store)"
    ]
    assert not (tmp_path / "typo").exists()


def test_without_a_configuration_no_cimbus_db_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["dlq", "list"], env=NO_CONFIG_ENV)
    assert result.exit_code == 1
    assert f"no store at {tmp_path / 'cimbus.db'} (<defaults>: [store] url)" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_missing_store_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    result = runner.invoke(
        app, ["dlq", "list"], env={"CIMBUS_CONFIG": None, "CIMBUS_DB_URL": f"sqlite:///{path}"}
    )
    assert result.exit_code == 1
    assert f"no store at {path} (environment CIMBUS_DB_URL)" in result.output
    assert not path.exists()


@pytest.mark.parametrize("argv", STORE_COMMANDS, ids=" ".join)
def test_a_file_that_is_not_a_database_is_one_line(argv: list[str], tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(bytes(range(256)) * 32)
    cfg = tmp_path / "cimbus.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{path}"\n')
    result = runner.invoke(app, [*_argv(argv, tmp_path), "--config", str(cfg)], env=NO_CONFIG_ENV)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(
        f"error: cannot open the store sqlite:///{path}: file is not a database"
    )


def test_serve_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    """``cimbus serve`` meets it in Store.migrate: one error line, exit 1 (log lines aside)."""
    path = tmp_path / "corrupt.db"
    path.write_bytes(bytes(range(256)) * 32)
    done = subprocess.run(
        [sys.executable, "-c", "from cimbus.cli import main; main()", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "CIMBUS_DB_URL": f"sqlite:///{path}"},
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [errors[0]] and "file is not a database" in errors[0], done.stderr
    assert str(path) in errors[0]


def test_open_store_creates_only_when_asked(tmp_path: Path) -> None:
    """``create=True`` is for commands that make a store (as ``cimbus serve`` does)."""
    from cimbus.cli_common import open_store

    path = tmp_path / "new" / "cimbus.db"
    cfg = tmp_path / "cimbus.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{path}"\n')
    _cfg, store = open_store(cfg, create=True)
    store.close()
    assert path.is_file()


@pytest.mark.parametrize("command", [["routes"], ["serve", "--port", "1"]], ids=" ".join)
@pytest.mark.parametrize(
    ("var", "url"),
    [
        ("CIMBUS_AMQP_URL", "amqp://guest:guest@[::1/"),
        ("CIMBUS_AMQP_URL", "amqp://guest:guest@127.0.0.1:notaport/"),
        ("CIMBUS_MQTT_URL", "mqtt://guest:guest@127.0.0.1:notaport"),
        ("CIMBUS_DB_URL", "postgresql://guest:guest@[x"),
    ],
)
def test_a_malformed_url_is_a_usage_error(command: list[str], var: str, url: str) -> None:
    """BUS-8: checked with the configuration, before anything starts: exit 2, one line naming
    the variable, the password hidden."""
    result = runner.invoke(app, command, env={"CIMBUS_CONFIG": None, var: url})
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: environment {var} "), result.output
    assert "guest:***@" in lines[0] and "guest:guest" not in lines[0]


def test_a_prefetch_beyond_the_protocol_field_is_a_usage_error(tmp_path: Path) -> None:
    cfg = tmp_path / "cimbus.toml"
    cfg.write_text("[amqp]\nenabled = true\nprefetch = 70000\n")
    result = runner.invoke(app, ["routes", "--config", str(cfg)], env=NO_CONFIG_ENV)
    assert result.exit_code == 2
    assert f"{cfg}: [amqp] prefetch = 70000: use 1 to 65535" in result.output
