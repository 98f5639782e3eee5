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

pytest_plugins = ["tests.integration.amqp_fixtures"]

pytestmark = pytest.mark.broker


@pytest.fixture
def deployed(tmp_path: Path, rabbitmq: str):
    registry = tmp_path / "registry.toml"
    registry.write_text(registry_toml(load_profile("demo")))
    cfg = cimbus_config(
        "amqp",
        store_url=f"sqlite:///{tmp_path / 'staging.db'}",
        amqp={"url": rabbitmq},
        registry=registry,
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
