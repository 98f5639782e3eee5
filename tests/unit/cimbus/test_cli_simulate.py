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
from simulators._core.profile import PROFILES_DIR

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


def _one_error_line(result, code: int = 2) -> str:
    """A refused command: exit ``code``, exactly one ``error:`` line, no traceback."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize("speed", ["inf", "-inf", "nan", "0", "-1", "1e9", "86401"])
def test_speed_must_be_finite_and_sensible(speed: str) -> None:
    result = runner.invoke(app, ["simulate", "headend", "--stats", "--speed", speed])
    assert "--speed must be a number from 0.001 to 86400" in _one_error_line(result)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-t", "amqp", "--url", "notaurl"], "--url 'notaurl' is not an AMQP URL: it must start"),
        (["-t", "amqp", "--url", "http://h/"], "must start with amqp:// or amqps://"),
        (["-t", "amqp", "--url", "amqp://:5672/"], "names no host"),
        (["-t", "amqp", "--url", "amqp://h:0/"], "the port must be a whole number from 1 to 65535"),
        (["-t", "amqp", "--url", "amqp://h:x/"], "the port must be a whole number"),
        (["-t", "amqp", "--url", "amqp://h/?heartbeat=abc"], "is not a usable AMQP URL"),
        (["-t", "amqp", "--url", ""], "--url '' is not an AMQP URL"),
        (["-t", "mqtt", "--url", "notaurl"], "--url 'notaurl' is not an MQTT URL"),
        (["-t", "mqtt", "--url", "mqtt://[::1"], "is not a URL"),
        (["-t", "embedded", "--url", "amqp://x"], "--url is for --transport amqp or mqtt"),
        (["--url", "mqtt://x"], "--url is for --transport amqp or mqtt"),
        (["-t", "mqtt", "--config", "cimbus.toml"], "--config is for --transport embedded"),
        (["--system", ""], "--system must name a bus system"),
        (["--system", "  "], "--system must name a bus system"),
        (["--system", "HES 2"], "--system must name a bus system"),
    ],
)
def test_options_are_checked_before_anything_starts(argv: list[str], message: str) -> None:
    """Each wrong option is one line and exit 2, not a client retrying forever
    (``IndexError ... (reconnecting)``) or an option silently ignored."""
    result = runner.invoke(app, ["simulate", "headend", *argv, "--port", "1"])
    assert message in _one_error_line(result)


def test_a_broker_password_is_never_shown() -> None:
    for argv in (
        ["-t", "amqp", "--url", "amqp://guest:s3cret@broker:99999/%2F"],
        ["-t", "mqtt", "--url", "mqtt://user:s3cret@broker:0"],
        ["-t", "amqp", "--url", "amqp://guest:s3cret@broker/?heartbeat=soon"],
    ):
        line = _one_error_line(runner.invoke(app, ["simulate", "headend", *argv]))
        assert "s3cret" not in line and ":***@broker" in line


def test_the_broker_url_from_the_environment_is_checked_and_named() -> None:
    result = runner.invoke(
        app, ["simulate", "headend", "-t", "amqp"], env={"CIMBUS_AMQP_URL": "amqp://u:pw@h:70000"}
    )
    line = _one_error_line(result)
    assert line.startswith("error: CIMBUS_AMQP_URL 'amqp://u:***@h:70000'") and "pw" not in line


def test_smt_load_refuses_what_it_would_drop_or_overwrite(tmp_path) -> None:
    cfg = tmp_path / "cimbus.toml"
    cfg.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "c.db"}"\n')
    esiid = "10443720001234567"
    cases = {
        "extra.csv": (f"esiid,meter_number,ror\n{esiid},M1,REP-A,EXTRA,MORE\n", "line 2 has 5"),
        "twice.csv": (f"esiid,ror\n{esiid},REP-A\n{esiid},REP-B\n", "appears twice"),
        "header.csv": (f"esiid,esiid\n{esiid},10443720009876543\n", "column 'esiid' appears"),
        "interval.toml": (
            f"[[usage_points]]\nesiid = '{esiid}'\ninterval_minutes = -15\n",
            "interval_minutes -15 is not",
        ),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = runner.invoke(app, ["smt", "load", str(tmp_path / name), "-c", str(cfg)])
        line = _one_error_line(result, 1)
        assert str(tmp_path / name) in line and message in line
    (tmp_path / "u16.csv").write_text(f"esiid\n{esiid}\n", encoding="utf-16")
    (tmp_path / "dir.csv").mkdir()
    for name, message in (("u16.csv", "UTF-16"), ("dir.csv", "is a directory")):
        result = runner.invoke(app, ["smt", "load", str(tmp_path / name), "-c", str(cfg)])
        assert message in _one_error_line(result, 1)
    assert not (tmp_path / "c.db").exists()  # nothing was loaded, no store was created


def test_smt_registry_refuses_a_profile_that_would_give_an_empty_registry(tmp_path) -> None:
    demo = (PROFILES_DIR / "demo.toml").read_text(encoding="utf-8")
    typo = tmp_path / "typo.toml"
    typo.write_text(demo.replace("[[meters]]", "[[meterz]]"), encoding="utf-8")
    config = tmp_path / "cimbus.toml"
    config.write_text('[store]\nurl = "sqlite:////tmp/x/x.db"\n[bus]\nsystem_name = "CIMBUS"\n')
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)))
    out = tmp_path / "registry.toml"
    for profile, message in (
        (typo, "unknown section(s) meterz"),
        (config, "looks like a cimbus configuration"),
        (binary, "is not UTF-8 text"),
        (tmp_path, "is a directory"),
    ):
        result = runner.invoke(app, ["smt", "registry", "--profile", str(profile), "-o", str(out)])
        assert message in _one_error_line(result)
    assert not out.exists()
