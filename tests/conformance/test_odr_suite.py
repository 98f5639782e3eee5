"""`cimbus conformance --suite ODR` passes on the embedded bus and, in CI, over RabbitMQ (and
Mosquitto); its JUnit file has one test case per ODR-1..ODR-7 (issue 5)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cimbus.cli import app
from conformance.suite import SCENARIOS, scenarios_for

pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.mqtt_fixtures"]

runner = CliRunner()
ODR = [f"ODR-{i}" for i in range(1, 8)]


def test_every_odr_requirement_has_one_scenario_with_its_text() -> None:
    scenarios = scenarios_for(["ODR"])
    assert [s.id for s in scenarios] == ODR
    for s in scenarios:
        assert s.run.__name__.startswith(s.id.lower().replace("-", "_") + "_")
        assert len(s.requirement) > 40  # the requirement text, from the docstring
    assert "48 hours" in SCENARIOS["ODR-2"].requirement


def _run(tmp_path: Path, *args: str) -> tuple[int, str, ET.Element, str]:
    junit, html = tmp_path / "odr.xml", tmp_path / "odr.html"
    result = runner.invoke(
        app, ["conformance", "--suite", "ODR", "--junit", str(junit), "--html", str(html), *args]
    )
    root = ET.parse(junit).getroot() if junit.exists() else ET.Element("none")
    return result.exit_code, result.output, root, html.read_text() if html.exists() else ""


def _check_report(code: int, output: str, root: ET.Element, html: str) -> None:
    assert code == 0, output
    cases = root.findall(".//testcase")
    assert [c.get("name", "").split()[0] for c in cases] == ODR
    assert not root.findall(".//failure") and not root.findall(".//error")
    for req in ODR:
        assert f"id='{req}'" in html
    assert "CIS -&gt; cimbus" in html and "get MeterReadings" in html  # the observed sequence
    assert "7 passed, 0 failed" in output


def test_odr_suite_passes_on_the_embedded_bus(tmp_path: Path) -> None:
    _check_report(*_run(tmp_path))


def test_odr_suite_passes_with_the_ror_on_soap(tmp_path: Path) -> None:
    _check_report(*_run(tmp_path, "--transport", "soap"))


@pytest.mark.broker
def test_odr_suite_passes_over_rabbitmq(tmp_path: Path, rabbitmq: str) -> None:
    _check_report(*_run(tmp_path, "--transport", "amqp", "--amqp", rabbitmq))


@pytest.mark.broker
def test_odr_suite_passes_over_mosquitto(tmp_path: Path, mqtt_url: str) -> None:
    _check_report(*_run(tmp_path, "--transport", "mqtt", "--mqtt", mqtt_url))


def test_a_failing_scenario_makes_the_run_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The harness is not a rubber stamp: break SMT's non-VEE marking and ODR-3 must fail."""
    from cim_models import codes

    monkeypatch.setattr("routing.services.smt.messages.NON_VEE", codes.DEVICE_VALID)
    code, output, root, _ = _run(tmp_path)
    assert code == 1
    failed = [
        c.get("name", "").split()[0]
        for c in root.findall(".//testcase")
        if c.find("failure") is not None
    ]
    assert "ODR-3" in failed, output


def test_unknown_suite_and_transport_are_usage_errors() -> None:
    bad = runner.invoke(app, ["conformance", "--suite", "NOPE"])
    assert bad.exit_code == 2 and "unknown suite" in bad.output
    bad = runner.invoke(app, ["conformance", "--transport", "carrier-pigeon"])
    assert bad.exit_code == 2 and "--transport" in bad.output
    bad = runner.invoke(app, ["conformance", "--profile", "no-such-profile"])
    assert bad.exit_code == 2 and "profile no-such-profile not found" in bad.output


def test_a_round_the_profile_has_no_esiids_for_is_a_usage_error() -> None:
    bad = runner.invoke(app, ["conformance", "--suite", "ODR", "--round", "1"])
    assert bad.exit_code == 2
    assert "profile 'demo' has ESIIDs for 1 round(s)" in bad.output
    assert "--profile load" in bad.output
    bad = runner.invoke(app, ["conformance", "--suite", "ODR", "--round", "-1"])
    assert bad.exit_code == 2


def test_deployed_target_without_a_broker_is_a_clear_error() -> None:
    bad = runner.invoke(app, ["conformance", "--suite", "ODR", "--target", "http://127.0.0.1:9"])
    assert bad.exit_code == 2 and "--amqp" in bad.output
