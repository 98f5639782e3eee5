"""A conformance run ends in bounded time with a verdict per scenario and its reports: time
limits per scenario and per run, the target probed before the first scenario (exit 2, one line
naming the URL), report paths checked before the run and written without a traceback."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cimbus.cli import app
from conformance.harness import masked, probe
from conformance.runner import run_scenarios
from conformance.suite import Scenario, ScenarioResult
from tests.conformance.probe_support import free_port, run_conformance

pytest_plugins = ["tests.integration.amqp_fixtures"]

runner = CliRunner()


class _World:
    clock = profile = None
    round = 0

    def mark(self) -> int:
        return 0

    def observed_since(self, mark: int) -> list[Any]:
        return []

    def close(self) -> None:
        pass


def _sc(req: str, seconds: float) -> Scenario:
    return Scenario(req, "T", f"sleeps {seconds}", "a requirement", lambda ctx: time.sleep(seconds))


def test_a_scenario_past_its_time_limit_is_an_error_naming_it() -> None:
    started = time.monotonic()
    results = run_scenarios(
        [_sc("T-1", 60), _sc("T-2", 0)], lambda sc: _World(), settle=0, scenario_timeout=0.5
    )
    assert time.monotonic() - started < 5
    assert [r.status for r in results] == ["error", "passed"]
    assert "T-1 did not finish within its time limit of 0.5 s" in results[0].error


def test_scenarios_left_at_the_run_limit_are_errors_not_run() -> None:
    results = run_scenarios(
        [_sc("T-1", 60), _sc("T-2", 0), _sc("T-3", 0)],
        lambda sc: _World(),
        settle=0,
        scenario_timeout=30,
        run_timeout=0.5,
    )
    assert [r.status for r in results] == ["error"] * 3
    assert "the run's time limit of 0.5 s" in results[0].error
    assert results[1].error == "T-2 not run: the run's time limit of 0.5 s was reached"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("http://", "target http://: malformed URL (no host)"),
        ("http://bad host:80", "target http://bad host:80: malformed URL"),
        ("http://127.0.0.1:{port}", "target http://127.0.0.1:{port} is unreachable: "),
        ("amqp://u:secret@127.0.0.1:{port}/%2F", "broker amqp://u:***@127.0.0.1:{port}/%2F is "),
        ("amqp://u:secret@127.0.0.1:notaport/", "malformed URL"),
    ],
)
def test_an_unreachable_or_malformed_target_is_exit_2_in_one_line(
    target: str, expected: str, tmp_path: Path
) -> None:
    port = free_port()
    amqp = f"amqp://guest:guest@127.0.0.1:{port}/%2F"
    result, junit, elapsed = run_conformance(
        tmp_path, "--target", target.format(port=port), "--amqp", amqp
    )
    assert result.exit_code == 2, result.output
    assert elapsed < 20
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert expected.format(port=port) in lines[0]
    assert "secret" not in result.output
    assert not junit.exists()


def test_masked_hides_the_password() -> None:
    assert masked("amqp://u:pw@h:5672/v") == "amqp://u:***@h:5672/v"
    assert masked("http://h:8080") == "http://h:8080"


@pytest.mark.parametrize("bad", ["{tmp}", "{file}/x.xml", "/proc/x/y.xml"])
@pytest.mark.parametrize("option", ["--junit", "--html"])
def test_unwritable_report_paths_are_refused_before_the_run(
    bad: str, option: str, tmp_path: Path
) -> None:
    (tmp_path / "f").write_text("x")
    path = bad.format(tmp=tmp_path, file=tmp_path / "f")
    result = runner.invoke(app, ["conformance", "--suite", "ODR", option, path])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option} {path}: "), result.output


def test_a_report_that_fails_late_is_one_line_and_the_other_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import conformance.report
    import conformance.runner

    def fake_run(scenarios: Any, make_world: Any, **kw: Any) -> list[ScenarioResult]:
        return [ScenarioResult(sc) for sc in scenarios]

    def broken(*a: Any, **kw: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(conformance.runner, "run_scenarios", fake_run)
    monkeypatch.setattr(conformance.report, "junit_xml", broken)
    html = tmp_path / "r.html"
    result = runner.invoke(
        app,
        ["conformance", "--suite", "ODR", "--junit", str(tmp_path / "j.xml"), "--html", str(html)],
    )
    assert result.exit_code == 2, result.output
    assert "error: cannot write the JUnit XML to" in result.output
    assert "Traceback" not in result.output
    assert html.exists()


def test_a_timed_out_scenario_still_gets_its_junit_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import conformance.runner

    real = conformance.runner.run_scenarios

    def slow_odr_1(scenarios: Any, make_world: Any, **kw: Any) -> Any:
        first = scenarios[0]
        stuck = Scenario(
            first.id, first.suite, first.title, first.requirement, lambda c: time.sleep(60)
        )
        return real([stuck, *scenarios[1:2]], make_world, **{**kw, "scenario_timeout": 1})

    monkeypatch.setattr(conformance.runner, "run_scenarios", slow_odr_1)
    junit, html = tmp_path / "j.xml", tmp_path / "r.html"
    result = runner.invoke(
        app, ["conformance", "--suite", "ODR", "--junit", str(junit), "--html", str(html)]
    )
    assert result.exit_code == 1, result.output
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert len(cases) == 2
    assert "time limit of 1 s" in cases[0].find("error").get("message")
    assert "ERROR" in html.read_text()


@pytest.mark.broker
def test_the_broker_is_probed_with_its_credentials_and_vhost(rabbitmq: str) -> None:
    from conformance.harness import HarnessError

    probe("embedded", target=rabbitmq)  # reachable: no error
    base = rabbitmq.rsplit("/", 1)[0]
    with pytest.raises(HarnessError, match=r"virtual host 'conf-no-such-vhost' refused"):
        probe("embedded", target=f"{base}/conf-no-such-vhost")
    user_host = base.split("://", 1)[1].split("@", 1)[1]
    with pytest.raises(HarnessError, match=r"u:\*\*\*@.*login refused"):
        probe("embedded", target=f"amqp://u:wrong@{user_host}/%2F")
