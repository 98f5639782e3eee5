"""The harness is black-box: pointed at a *deployed* target (its SOAP URL plus its broker), it
runs the ODR suite without touching the target's insides (issue 5). Here the "deployed" target
is a cimbus started separately (its own runtime and SOAP server, default AMQP names), as an
integrator's staging system would be; the harness cannot move its clock, so ODR-5's next-day
check is reported as not run and everything else must pass."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cimbus.cli import app
from cimbus.runtime import Runtime
from conformance.harness import _amqp_cleanup, cimbus_config, registry_toml
from endpoints.soap.app import create_app
from endpoints.soap.server import ServerThread
from simulators._core import load_profile
from simulators._core.profile import PROFILES_DIR

pytest_plugins = ["tests.integration.amqp_fixtures"]

pytestmark = pytest.mark.broker


def _two_rounds_profile(tmp_path: Path) -> Path:
    """The demo profile with 60 generated meters instead of 36 (the demo's meters and more):
    ESIIDs for two rounds of the ODR suite (``--round 0`` and ``--round 1``)."""
    text = (PROFILES_DIR / "demo.toml").read_text(encoding="utf-8")
    assert "\nmeters = 36\n" in text
    path = tmp_path / "demo60.toml"
    path.write_text(text.replace("\nmeters = 36\n", "\nmeters = 60\n"), encoding="utf-8")
    return path


@pytest.fixture
def deployed(tmp_path: Path, rabbitmq: str):
    profile = load_profile(_two_rounds_profile(tmp_path))
    registry = tmp_path / "registry.toml"
    registry.write_text(registry_toml(profile))
    cfg = cimbus_config(
        "amqp",
        store_url=f"sqlite:///{tmp_path / 'staging.db'}",
        amqp={"url": rabbitmq},
        registry=registry,
        profile=profile,
    )
    _amqp_cleanup(rabbitmq, "cimbus", cfg)  # default names: start from empty queues
    runtime = Runtime(cfg).start()
    server = ServerThread(create_app(runtime.bus, cfg.soap)).start()
    yield server.url, rabbitmq
    server.stop()
    runtime.stop()
    _amqp_cleanup(rabbitmq, "cimbus", cfg)


def test_odr_suite_against_a_deployed_target(deployed, tmp_path: Path) -> None:
    url, broker = deployed
    junit = tmp_path / "odr.xml"
    result = CliRunner().invoke(
        app,
        ["conformance", "--suite", "ODR", "--target", url, "--amqp", broker, "--junit", str(junit)],
    )
    assert result.exit_code == 0, result.output
    assert f"deployed target {url}" in result.output
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert len(cases) == 7
    assert "the target's clock cannot be moved" in junit.read_text()


def test_the_next_round_checks_the_same_target_again_the_same_day(deployed, tmp_path: Path) -> None:
    """ODR-5 allows one successful read per ESIID per day, so a second run against the same
    deployed target the same day fails with the same ESIIDs; ``--round 1`` uses the next set
    of the profile's usage points and passes."""
    url, broker = deployed
    profile = str(tmp_path / "demo60.toml")
    base = ["conformance", "--suite", "ODR", "--target", url, "--amqp", broker]
    first = CliRunner().invoke(app, [*base, "--profile", profile])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(app, [*base, "--profile", profile])
    assert again.exit_code == 1 and "FAILED" in again.output
    next_round = CliRunner().invoke(app, [*base, "--profile", profile, "--round", "1"])
    assert next_round.exit_code == 0, next_round.output
