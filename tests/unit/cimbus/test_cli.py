"""The ``cimbus`` command line: explain, demo, version (exit codes 0 / 1 / 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
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


def test_demo_once_plays_the_scenarios_and_exits_0() -> None:
    """`cimbus demo --once` (what `make demo` runs, then keeps serving): cimbus and every
    simulator on the embedded bus, the ODR scenarios played, one line per exchange."""
    result = runner.invoke(app, ["demo", "--once", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "7 passed, 0 failed"
    for req in (f"ODR-{i}" for i in range(1, 8)):
        assert f"PASS {req}" in result.output
    # exchanges as readable lines: time, from -> to, verb noun, IDs, result
    assert re.search(r"CIS -> SMT +get MeterReadings +id=\w{8} +OK", result.output), result.output
    assert re.search(r"CIS -> SMT +get MeterReadings +id=\w{8} +FAILED 2\.12", result.output)
    assert "MDMS -> subscribers created MeterReadings" in result.output


def test_demo_once_fails_when_a_scenario_fails(monkeypatch) -> None:
    from cim_models import codes

    monkeypatch.setattr("routing.services.smt.messages.NON_VEE", codes.DEVICE_VALID)
    result = runner.invoke(app, ["demo", "--once", "--port", "0", "--quiet"])
    assert result.exit_code == 1
    assert "FAIL ODR-3" in result.output


def test_demo_keeps_serving_soap_with_the_wsdl_list_and_a_try_it() -> None:
    import subprocess
    import sys
    import time

    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "cimbus.cli", "demo", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops" in line:
                break
        out = "".join(lines)
        assert "cimbus is serving" in out, out
        url = re.search(r"SOAP at (http://[\d.:]+)/ws", out).group(1)
        assert f"{url}/ws/GetMeterReadings?wsdl" in out
        assert "curl -s" in out and "from zeep import Client" in out
        assert httpx.get(f"{url}/ws/GetMeterReadings?wsdl").status_code == 200
        curl = re.search(r"--data-binary @(\S+)", out).group(1)
        body = Path(curl).read_bytes()
        answer = httpx.post(
            f"{url}/ws/GetMeterReadings",
            content=body,
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": '"http://iec.ch/TC57/2011/MeterReadings/GetMeterReadings"',
            },
        )
        assert answer.status_code == 200 and b"<msg:Result>OK</msg:Result>" in answer.content
        assert b'ReadingQualityType ref="2.0.0"' in answer.content
        # the printed cimbus send command works as printed (the same MessageID: the stored reply)
        command = re.search(r"^\s+(cimbus send --to \S+ \S+)$", out, re.M).group(1).split()
        sent = subprocess.run(
            [sys.executable, "-m", "cimbus.cli", *command[1:]],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sent.returncode == 0, sent.stderr
        assert sent.stderr.startswith(f"OK       {curl}: get MeterReadings ")
        assert "<msg:Result>OK</msg:Result>" in sent.stdout
        assert 'ReadingQualityType ref="2.0.0"' in sent.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_no_arguments_shows_help() -> None:
    result = runner.invoke(app, [])
    assert "validate" in result.output and "explain" in result.output


def test_routes_prints_the_example_table() -> None:
    result = runner.invoke(app, ["routes", "--config", "config/cimbus.example.toml"])
    assert result.exit_code == 0, result.output
    assert "EndDeviceControls" in result.output and "MDMS, OMS, CIS" in result.output


def test_routes_prints_the_amqp_failure_policy(tmp_path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[amqp]\nenabled = true\n[amqp.on_failure]\n"* EndDeviceEvents" = { first = "drop" }\n'
    )
    result = runner.invoke(app, ["routes", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "AMQP failure policy ([amqp.on_failure];" in result.output  # not eaten as markup
    row = next(line for line in result.output.splitlines() if "EndDeviceEvents" in line)
    assert "drop" in row and "dead_letter" in row and "configured" in row


def test_routes_with_a_bad_config_exits_2_naming_it(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[routes]]\nverb = 'get'\nnoun = 'MeterReadings'\ntarget = 'NOPE'\n")
    result = runner.invoke(app, ["routes", "--config", str(bad)])
    assert result.exit_code == 2
    assert "unknown system 'NOPE'" in result.output and str(bad) in result.output


def test_dlq_commands_on_an_empty_store(tmp_path) -> None:
    from routing.store import Store

    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/s.db"\n')
    with Store(f"sqlite:///{tmp_path}/s.db") as store:
        store.migrate()  # made by `cimbus serve`: the dlq commands open an existing store
    listing = runner.invoke(app, ["dlq", "list", "--config", str(cfg)])
    assert listing.exit_code == 0 and "no dead letters" in listing.output
    shown = runner.invoke(app, ["dlq", "show", "42", "--config", str(cfg)])
    assert shown.exit_code == 1 and "no dead letter 42" in shown.output
    replay = runner.invoke(app, ["dlq", "replay", "42", "--config", str(cfg)])
    assert replay.exit_code == 1


def test_try_it_says_when_the_demo_could_not_post_a_vee() -> None:
    """The "try it" snippet needs a VEE posting for its meter (ODR-2): when the demo cannot
    make one, the snippet says so instead of hiding the failure."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from cimbus.cli_conformance import _try_it

    class Mdms:
        def post_daily_vee(self, day, esiids):
            raise RuntimeError("MDMS is down")

    meter = SimpleNamespace(ams=True, provisioned=True, ror="REP-A", esiid="10443720000000001")
    world = SimpleNamespace(
        profile=SimpleNamespace(meters=[meter], timezone="America/Chicago"),
        clock=SimpleNamespace(now=lambda: datetime(2026, 12, 3, 12, tzinfo=UTC)),
        sim=lambda name: Mdms(),
    )
    text = _try_it("http://127.0.0.1:1", world)
    assert "could not post yesterday's VEE for 10443720000000001: MDMS is down" in text
    assert "ESIID 10443720000000001" in text


@pytest.mark.parametrize("mode", ["background", "commit"])
def test_cli_store_follows_the_store_settings(tmp_path, mode) -> None:
    """`cimbus dlq ...` / `cimbus store ...` open the store as `cimbus serve` does: the same
    payload cut and WAL checkpoint mode ([store] wal_checkpoint)."""
    from cimbus.cli_common import open_store

    config = tmp_path / "cimbus.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path}/c.db"\nmax_payload_bytes = 123\n'
        f'wal_checkpoint = "{mode}"\n'
    )
    _cfg, store = open_store(config, create=True)
    try:
        assert store.max_payload_bytes == 123
        assert (store._checkpoint_path is not None) is (mode == "background")
    finally:
        store.close()
