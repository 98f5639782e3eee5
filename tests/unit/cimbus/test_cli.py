"""The ``cimbus`` command line: explain, demo, version (exit codes 0 / 1 / 2)."""

from __future__ import annotations

from typer.testing import CliRunner

from cimbus import __version__
from cimbus.cli import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"cimbus {__version__}"


def test_explain_decodes_each_kind_of_code() -> None:
    result = runner.invoke(
        app,
        ["explain", "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0", "3.31.0.23", "3.26.136.47", "2.0.0"],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "15-minute" in lines[0] and "kWh" in lines[0]
    assert "Disconnect" in lines[1] and "REMOTE_DISCONNECT" in lines[1]
    assert "last_gasp" in lines[2]
    assert lines[3].startswith("2.0.0: ReadingQuality:")


def test_explain_refuses_bad_codes_with_exit_1() -> None:
    result = runner.invoke(app, ["explain", "0.0.99.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0", "1.2"])
    assert result.exit_code == 1
    assert "measuringPeriod" in result.output and "has 2 fields" in result.output
    assert "Traceback" not in result.output


def test_demo_plays_every_golden_exchange() -> None:
    result = runner.invoke(app, ["demo", "--once"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    passed = int(last.split()[0])
    assert last.endswith("passed, 0 failed") and passed >= 60


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [])
    assert "validate" in result.output and "explain" in result.output
