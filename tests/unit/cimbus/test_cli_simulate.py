"""`cimbus simulate` (issue 4): every simulator is listed with what it simulates and which
requirement IDs it serves, runs alone beside an in-process cimbus, and reports the start-up
cost of a profile."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from cimbus.cli import app
from simulators import SIMULATORS

runner = CliRunner()
NAMES = ("headend", "mdms", "cis", "oms", "dcc", "crm", "field")


def test_simulate_help_lists_every_simulator() -> None:
    result = runner.invoke(app, ["simulate", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for name in NAMES:
        assert re.search(rf"^\W*{name}\s", result.output, re.M), name


@pytest.mark.parametrize("name", NAMES)
def test_each_simulator_help_says_what_it_simulates_and_its_requirements(name: str) -> None:
    result = runner.invoke(app, ["simulate", name, "--help"], terminal_width=400)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    info = SIMULATORS[name]
    assert " ".join(info.summary.split()[:6]) in text
    assert info.requirements and all(req in text for req in info.requirements)
    assert "--profile" in text and "--transport" in text and "--stats" in text


def test_stats_prints_start_up_time_and_memory() -> None:
    result = runner.invoke(app, ["simulate", "headend", "--profile", "demo", "--stats"])
    assert result.exit_code == 0, result.output
    assert re.search(
        r"39 meters.*loaded in [\d.]+ s, started in [\d.]+ s; peak memory [\d,]+ MB", result.output
    )


@pytest.mark.slow
def test_stats_of_the_load_profile_with_100k_meters() -> None:
    result = runner.invoke(app, ["simulate", "headend", "--profile", "load", "--stats"])
    assert result.exit_code == 0, result.output
    assert "100,002 meters" in result.output  # 100,000 generated + 2 listed (ODR-6)


def test_bad_options_are_usage_errors() -> None:
    assert (
        runner.invoke(app, ["simulate", "headend", "--profile", "nope", "--stats"]).exit_code == 2
    )
    bad = runner.invoke(app, ["simulate", "headend", "--transport", "pigeon"])
    assert bad.exit_code == 2 and "--transport" in bad.output
    assert runner.invoke(app, ["simulate", "toaster"]).exit_code == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_simulator_runs_alone_and_serves_its_rest_api(tmp_path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cimbus.cli", "simulate", "headend", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,  # the in-process cimbus's SQLite file lands here
    )
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/", timeout=1).json()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert status is not None, proc.stdout.read() if proc.poll() is not None else "no answer"
        assert status["simulator"] == "headend" and status["system"] == "HES"
        assert status["attached"] is True
        assert "get MeterReadings" in status["serves"]
        knobs = httpx.put(f"http://127.0.0.1:{port}/faults", json={"latency": 0.5}).json()
        assert knobs["latency"] == 0.5
        meter = httpx.get(f"http://127.0.0.1:{port}/meters/AMS-0001")
        assert meter.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_smt_registry_export_load_and_show(tmp_path) -> None:
    """Provisioning a deployed target for the ODR suite: export the profile's usage points,
    load them into the configured store, look one up (docs/conformance.md)."""
    from routing.store import Store

    reg = tmp_path / "registry.toml"
    assert (
        runner.invoke(app, ["smt", "registry", "--profile", "demo", "-o", str(reg)]).exit_code == 0
    )
    cfg = tmp_path / "cimbus.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "c.db"}"\n')
    assert not (tmp_path / "c.db").exists()  # a set-up step: it may come before `serve`
    loaded = runner.invoke(app, ["smt", "load", str(reg), "-c", str(cfg)])
    assert loaded.exit_code == 0 and "39 usage point(s) loaded" in loaded.output
    with Store(f"sqlite:///{tmp_path / 'c.db'}") as store:
        assert store.schema_revision() is not None  # created and migrated
    shown = runner.invoke(app, ["smt", "show", "10443720001234567", "-c", str(cfg)])
    assert shown.exit_code == 0 and "ROR REP-BLUEBONNET" in shown.output
    assert "none posted" in shown.output
    assert runner.invoke(app, ["smt", "show", "1", "-c", str(cfg)]).exit_code == 1
    bad = tmp_path / "bad.toml"
    bad.write_text("[[usage_points]]\nror = 'X'\n")
    refused = runner.invoke(app, ["smt", "load", str(bad), "-c", str(cfg)])
    assert refused.exit_code == 1 and "esiid" in refused.output
    nowhere = tmp_path / "missing" / "registry.toml"
    unwritable = runner.invoke(app, ["smt", "registry", "-o", str(nowhere)])
    assert unwritable.exit_code == 2 and f"cannot write {nowhere}" in unwritable.output
    assert unwritable.exception is None or isinstance(unwritable.exception, SystemExit)
