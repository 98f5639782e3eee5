"""``cimbus send --to amqp://... / mqtt://...`` (BUS-5, BUS-6, BUS-7): golden messages published
to a real cimbus on RabbitMQ and on Mosquitto, as the sending system, with the answer
correlated by MessageID; broker names from ``--config``; brokers that cannot be used are one
line and exit 2. Marked ``broker``: in CI they run, never skip."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pika
import pytest
from lxml import etree
from typer.testing import CliRunner

from cim_models import namespaces as ns
from cim_models.build import build_message
from cimbus.cli import app

pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.mqtt_fixtures"]
pytestmark = pytest.mark.broker

EXCHANGES = Path(__file__).resolve().parents[2] / "conformance" / "exchanges"
MSG = ns.MSG_NS
runner = CliRunner()


def _field(data: bytes, name: str) -> str | None:
    return etree.fromstring(data).findtext(f".//{{{MSG}}}{name}")


def golden(tmp_path: Path, relative: str) -> Path:
    root = etree.parse(str(EXCHANGES / relative)).getroot()
    root.find(f".//{{{MSG}}}MessageID").text = str(uuid.uuid4())
    path = tmp_path / Path(relative).name
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return path


class Target:
    """A cimbus on one broker (the transport harness of test_bus_transports.py), its HES
    answering requests and MDMS collecting events, and the TOML ``--config`` naming its
    broker objects."""

    def __init__(self, kind: str, harness: Any, url: str, config: Path) -> None:
        self.kind = kind
        self.harness = harness
        self.url = url
        self.config = config
        self.mdms: list[bytes] = []
        harness.client("HES").serve(self._hes)
        harness.client("MDMS").serve(self.mdms.append)
        harness.client("OMS").serve(lambda _body: None)

    @staticmethod
    def _hes(body: bytes) -> bytes:
        return build_message(
            "reply",
            _field(body, "Noun") or "MeterReadings",
            correlation_id=_field(body, "MessageID"),
            source="HES",
            result="OK",
        )

    def wait_mdms(self, message_id: str, limit: float = 15.0) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if any(_field(m, "MessageID") == message_id for m in self.mdms):
                return True
            time.sleep(0.05)
        return False

    def send(self, *args: str):
        return runner.invoke(app, ["send", "--to", self.url, "--config", str(self.config), *args])


@pytest.fixture(params=["amqp", "mqtt"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    config = tmp_path / "cimbus.toml"
    if request.param == "amqp":
        from tests.integration.amqp_fixtures import make_amqp_harness

        names = request.getfixturevalue("amqp_names")
        harness = make_amqp_harness(names, tmp_path)
        config.write_text(
            "[amqp]\n"
            f'exchange = "{names.exchange}"\n'
            f'inbound_queue = "{names.inbound}"\n'
            f'dead_letter_exchange = "{names.dlx}"\n'
        )
        url = names.url
    else:
        from tests.integration.mqtt_fixtures import make_mqtt_harness

        url = request.getfixturevalue("mqtt_url")
        prefix = request.getfixturevalue("mqtt_prefix")
        harness = make_mqtt_harness(url, prefix, tmp_path)
        config.write_text(f'[mqtt]\ntopic_prefix = "{prefix}"\n')
    try:
        yield Target(request.param, harness, url, config)
    finally:
        harness.close()


def test_an_event_is_acknowledged_and_delivered(target: Target, tmp_path: Path) -> None:
    path = golden(tmp_path, "EndDeviceEvents/CreatedEndDeviceEvents.xml")
    mid = _field(path.read_bytes(), "MessageID")
    result = target.send("--timeout", "20", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(f"OK       {path}: created EndDeviceEvents {mid} -> reply OK")
    assert _field(result.stdout.encode(), "CorrelationID") == mid
    assert target.wait_mdms(mid)


def test_a_request_gets_the_served_systems_reply(target: Target, tmp_path: Path) -> None:
    path = golden(tmp_path, "MeterReadings/get/GetMeterReadings.xml")
    result = target.send("--timeout", "20", "--as", "CIS", str(path))
    assert result.exit_code == 0, result.stderr
    reply = result.stdout.encode()
    assert _field(reply, "Source") == "HES"
    assert _field(reply, "CorrelationID") == _field(path.read_bytes(), "MessageID")


def test_a_refusal_exits_1(target: Target, tmp_path: Path) -> None:
    path = golden(tmp_path, "OutageRecords/CreatedOutageRecords.xml")  # nobody subscribes
    result = target.send("--timeout", "20", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("FAILED ")
    assert "cimbus does not serve 'created OutageRecords'" in result.stderr


def test_a_reply_is_published_not_awaited(target: Target, tmp_path: Path) -> None:
    """cimbus never answers a reply; send reports it published (confirmed / PUBACK) at once."""
    path = golden(tmp_path, "MeterReadings/MeterReadingsResponseMessage.xml")
    started = time.monotonic()
    result = target.send("--timeout", "20", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("SENT ")
    assert "cimbus does not answer a reply" in result.stderr
    assert time.monotonic() - started < 15


def test_amqp_send_leaves_no_queue_of_its_own(amqp_names: Any, tmp_path: Path) -> None:
    """A send-only client declares no durable queue for the system it sends as."""
    from tests.integration.amqp_fixtures import make_amqp_harness

    harness = make_amqp_harness(amqp_names, tmp_path)
    config = tmp_path / "c.toml"
    config.write_text(
        f'[amqp]\nexchange = "{amqp_names.exchange}"\ninbound_queue = "{amqp_names.inbound}"\n'
        f'dead_letter_exchange = "{amqp_names.dlx}"\n'
    )
    system = f"sender-{uuid.uuid4().hex[:8]}"
    path = golden(tmp_path, "OutageRecords/CreatedOutageRecords.xml")
    try:
        result = runner.invoke(
            app,
            ["send", "--to", amqp_names.url, "-c", str(config), "--as", system, str(path)],
        )
        assert result.exit_code == 1, result.stderr  # refused: nobody subscribes
    finally:
        harness.close()
    conn = pika.BlockingConnection(pika.URLParameters(amqp_names.url))
    try:
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as info:
            conn.channel().queue_declare(f"cimbus.system.{system}", passive=True)
        assert info.value.reply_code == 404
    finally:
        if conn.is_open:
            conn.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("scheme", ["amqp", "mqtt"])
def test_a_broker_that_does_not_answer_is_one_line_exit_2(scheme: str, tmp_path: Path) -> None:
    path = golden(tmp_path, "EndDeviceEvents/CreatedEndDeviceEvents.xml")
    url = f"{scheme}://127.0.0.1:{_closed_port()}"
    result = runner.invoke(app, ["send", "--to", url, "--timeout", "3", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: broker "), result.stderr
    assert "unreachable" in lines[0]


def test_wrong_amqp_credentials_are_one_line_exit_2(rabbitmq: str, tmp_path: Path) -> None:
    path = golden(tmp_path, "EndDeviceEvents/CreatedEndDeviceEvents.xml")
    url = "amqp://guest:not-the-password@127.0.0.1:5672/%2F"
    result = runner.invoke(app, ["send", "--to", url, str(path)])
    assert result.exit_code == 2
    assert "login refused" in result.stderr
    assert "not-the-password" not in result.stderr  # masked


def _amqp_config(names: Any, tmp_path: Path) -> Path:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[amqp]\nexchange = "{names.exchange}"\ninbound_queue = "{names.inbound}"\n'
        f'dead_letter_exchange = "{names.dlx}"\n'
    )
    return config


def test_amqp_without_cimbus_queue_creates_nothing(amqp_names: Any, tmp_path: Path) -> None:
    """No cimbus ever ran with these names: one line, exit 2, and no exchange or queue made."""
    path = golden(tmp_path, "EndDeviceEvents/CreatedEndDeviceEvents.xml")
    config = _amqp_config(amqp_names, tmp_path)
    result = runner.invoke(app, ["send", "--to", amqp_names.url, "-c", str(config), str(path)])
    assert result.exit_code == 2
    assert f"has no queue '{amqp_names.inbound}'" in result.stderr
    assert "nothing was sent or created" in result.stderr
    conn = pika.BlockingConnection(pika.URLParameters(amqp_names.url))
    try:
        with pytest.raises(pika.exceptions.ChannelClosedByBroker):
            conn.channel().exchange_declare(amqp_names.exchange, passive=True)
    finally:
        if conn.is_open:
            conn.close()


def test_amqp_while_nobody_consumes(amqp_names: Any, tmp_path: Path) -> None:
    """cimbus's queue exists but cimbus is not consuming: a warning first; a request times out
    saying nobody took it and carries the TTL; a reply is published without one (a late reply
    is still recorded when cimbus comes back)."""
    from endpoints.amqp.topology import Topology

    conn = amqp_names.connection()
    try:
        topology = Topology.build(
            exchange=amqp_names.exchange,
            dead_letter_exchange=amqp_names.dlx,
            inbound=amqp_names.inbound,
        )
        topology.declare(conn.channel())  # as a cimbus that has stopped left it
    finally:
        conn.close()
    config = _amqp_config(amqp_names, tmp_path)
    request = golden(tmp_path, "EndDeviceEvents/CreatedEndDeviceEvents.xml")
    reply = golden(tmp_path, "MeterReadings/MeterReadingsResponseMessage.xml")
    result = runner.invoke(
        app,
        ["send", "--to", amqp_names.url, "-c", str(config), "--timeout", "1", str(request)],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"warning: nobody consumes '{amqp_names.inbound}' now")
    assert "TIMEOUT" in result.stderr and "nobody consumed it" in result.stderr
    result = runner.invoke(app, ["send", "--to", amqp_names.url, "-c", str(config), str(reply)])
    assert result.exit_code == 0, result.stderr
    waiting = {
        _field(body, "MessageID"): props
        for _, props, body in amqp_names.get_all(amqp_names.inbound)
    }
    reply_id = _field(reply.read_bytes(), "MessageID")
    assert reply_id in waiting and waiting[reply_id].expiration is None
    request_id = _field(request.read_bytes(), "MessageID")
    if request_id in waiting:  # not expired yet: it carries the TTL
        assert waiting[request_id].expiration == "1000"


def test_a_source_that_is_not_a_system_name(target: Target, tmp_path: Path) -> None:
    path = golden(tmp_path, "EndDeviceEvents/CreatedEndDeviceEvents.xml")
    path.write_bytes(
        path.read_bytes().replace(
            b"<msg:Source>"
            + (_field(path.read_bytes(), "Source") or "").encode()
            + b"</msg:Source>",
            b"<msg:Source>HES/with#wildcards</msg:Source>",
        )
    )
    result = target.send(str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("UNSENT ")
    assert "give one with --as" in result.stderr
    assert target.send("--as", "x" * 300, str(path)).exit_code == 2
