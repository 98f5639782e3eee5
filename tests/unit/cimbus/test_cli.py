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


def test_routes_prints_the_example_table() -> None:
    result = runner.invoke(app, ["routes", "--config", "config/cimbus.example.toml"])
    assert result.exit_code == 0, result.output
    assert "EndDeviceControls" in result.output and "MDMS, OMS, CIS" in result.output


def test_routes_with_a_bad_config_exits_2_naming_it(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[routes]]\nverb = 'get'\nnoun = 'MeterReadings'\ntarget = 'NOPE'\n")
    result = runner.invoke(app, ["routes", "--config", str(bad)])
    assert result.exit_code == 2
    assert "unknown system 'NOPE'" in result.output and str(bad) in result.output


def test_dlq_commands_on_an_empty_store(tmp_path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/s.db"\n')
    listing = runner.invoke(app, ["dlq", "list", "--config", str(cfg)])
    assert listing.exit_code == 0 and "no dead letters" in listing.output
    shown = runner.invoke(app, ["dlq", "show", "42", "--config", str(cfg)])
    assert shown.exit_code == 1 and "no dead letter 42" in shown.output
    replay = runner.invoke(app, ["dlq", "replay", "42", "--config", str(cfg)])
    assert replay.exit_code == 1
