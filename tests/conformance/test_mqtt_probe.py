"""The MQTT probe before a conformance run makes a real MQTT 5 handshake (CONNECT, CONNACK,
DISCONNECT) with the URL's credentials, so that a wrong ``--mqtt`` target is one line and exit 2
instead of every scenario failing: a port that is no MQTT broker (silent, an HTTP server,
RabbitMQ's AMQP port), a broker refusing the login, a TLS handshake that fails. Bounded by the
probe timeout; no paho thread and no probe thread is left behind.

Plain socket servers play the impostors; a throwaway Mosquitto (``allow_anonymous false``, a
password file from ``mosquitto_passwd``) plays the broker refusing the login. Without the
Mosquitto binaries those tests skip on a developer machine and fail in CI (CI=true)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench._mosquitto import mosquitto_binary, throwaway_mosquitto
from conformance.harness import probe_mqtt
from tests.conformance import probe_support
from tests.conformance.probe_support import Impostor, free_port, probe_error
from tests.conftest import in_ci

pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.mqtt_fixtures"]

USER, PASSWORD = "probe-user", "s3cret-pw"

# the fixtures this module uses (tests/conformance/probe_support.py)
impostor = probe_support.impostor
no_thread_left_behind = probe_support.thread_check("paho")


@pytest.fixture(scope="module")
def locked_broker() -> Iterator[str]:
    """A throwaway Mosquitto on a free port that refuses anonymous clients and knows one user
    (``USER``/``PASSWORD``); its URL without credentials."""
    mosquitto = mosquitto_binary()
    passwd = shutil.which("mosquitto_passwd")
    if not (mosquitto and passwd):
        msg = "mosquitto and mosquitto_passwd are needed for the login-refusal tests"
        if in_ci():
            pytest.fail(f"{msg}: CI must run them (see .ci/run)")
        pytest.skip(f"{msg} (developer machine without Mosquitto)")
    # Not pytest's tmp_path: started as root, Mosquitto runs as `mosquitto`, which cannot
    # enter pytest's private /tmp/pytest-of-root.
    run = Path(tempfile.mkdtemp(prefix="cimbus-mosquitto-probe-"))
    port = free_port()
    subprocess.run(
        [passwd, "-b", "-c", str(run / "passwords"), USER, PASSWORD],
        check=True,
        capture_output=True,
        timeout=30,
    )
    config = (
        f"per_listener_settings false\n"
        f"listener {port} 127.0.0.1\n"
        f"allow_anonymous false\n"
        f"password_file {run / 'passwords'}\n"
        f"persistence false\n"
        f"log_dest file {run / 'mosquitto.log'}\n"
    )
    try:
        with throwaway_mosquitto(run, config, port, binary=mosquitto) as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))
    finally:
        shutil.rmtree(run, ignore_errors=True)


def _probe_error(url: str, timeout: float = 5.0) -> str:
    return probe_error(probe_mqtt, url, timeout)


# ---------------------------------------------------------------------------- a real broker
@pytest.mark.broker
def test_a_running_broker_passes_the_mqtt_handshake(mqtt_url: str) -> None:
    probe_support.probe_passes(probe_mqtt, "mqtt", mqtt_url)


@pytest.mark.broker
def test_the_login_is_checked_with_the_urls_credentials(locked_broker: str) -> None:
    host = locked_broker.split("://", 1)[1]
    probe_mqtt(f"mqtt://{USER}:{PASSWORD}@{host}", 5.0)  # the right password: no error

    message = _probe_error(f"mqtt://{USER}:wrong-pw@{host}")
    assert message.startswith(f"broker mqtt://{USER}:***@{host}: login refused (")
    assert "wrong-pw" not in message

    message = _probe_error(locked_broker)
    assert message == (
        f"broker {locked_broker}: login refused (not authorised: the broker refuses anonymous "
        "clients: give user:password in the URL)"
    )


@pytest.mark.broker
def test_rabbitmqs_amqp_port_is_not_an_mqtt_broker(rabbitmq: str) -> None:
    host = rabbitmq.split("@", 1)[1].split("/", 1)[0]
    message = _probe_error(f"mqtt://{host}")
    assert message.startswith(f"broker mqtt://{host} answered the MQTT handshake with 'AMQP")
    assert message.endswith("not a CONNACK (is it an MQTT broker?)")


@pytest.mark.broker
def test_tls_to_a_plain_mqtt_port_is_a_failed_tls_handshake(mqtt_url: str) -> None:
    host = mqtt_url.split("://", 1)[1]
    assert _probe_error(f"mqtts://{host}").startswith(
        f"broker mqtts://{host}: TLS handshake failed: "
    )


# ---------------------------------------------------------------------------- impostors
def test_a_server_that_never_speaks_mqtt_is_named_within_the_timeout(
    impostor: Impostor,
) -> None:
    port = impostor(None)
    started = time.monotonic()
    message = _probe_error(f"mqtt://127.0.0.1:{port}", timeout=1.0)
    assert 0.9 < time.monotonic() - started < 2.5
    assert message == (
        f"broker mqtt://127.0.0.1:{port} did not answer the MQTT handshake within 1 s "
        "(is it an MQTT broker?)"
    )


@pytest.mark.parametrize(
    ("answer", "quoted"),
    [
        (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "'HTTP/1.1 400 Bad Request'"),
        (b"AMQP\x00\x00\x09\x01", r"'AMQP\x00\x00\t\x01'"),
    ],
    ids=["http", "amqp"],
)
def test_a_server_answering_something_else_is_quoted(
    impostor: Impostor, answer: bytes, quoted: str
) -> None:
    port = impostor(answer)
    assert _probe_error(f"mqtt://u:secret@127.0.0.1:{port}") == (
        f"broker mqtt://u:***@127.0.0.1:{port} answered the MQTT handshake with {quoted}, "
        "not a CONNACK (is it an MQTT broker?)"
    )


def test_a_server_closing_the_connection_fails_the_handshake(
    impostor: Impostor,
) -> None:
    port = impostor(b"")
    assert _probe_error(f"mqtt://127.0.0.1:{port}") == (
        f"broker mqtt://127.0.0.1:{port} closed the connection during the MQTT handshake "
        "(is it an MQTT broker?)"
    )


@pytest.mark.parametrize(
    ("connack", "reason"),
    [
        (bytes([0x20, 3, 0, 0x86, 0]), ": login refused (bad user name or password)"),
        (
            bytes([0x20, 3, 0, 0x87, 0]),
            ": login refused (not authorised: wrong password, or user 'u' may not connect)",
        ),
        (
            bytes([0x20, 3, 0, 0x9F, 0]),
            ": the broker refused the connection: Connection rate exceeded (CONNACK 0x9f)",
        ),
        (  # an MQTT 3.1.1 broker's CONNACK: unacceptable protocol version
            bytes([0x20, 2, 0, 1]),
            ": the broker refused the connection: Unsupported protocol version "
            "(cimbus speaks MQTT 5)",
        ),
    ],
    ids=["bad-login", "not-authorised", "rate-exceeded", "mqtt-3-broker"],
)
def test_a_refusing_connack_is_named_by_its_reason(
    impostor: Impostor, connack: bytes, reason: str
) -> None:
    port = impostor(connack)
    assert _probe_error(f"mqtt://u:secret@127.0.0.1:{port}") == (
        f"broker mqtt://u:***@127.0.0.1:{port}{reason}"
    )


def test_a_closed_port_is_unreachable() -> None:
    port = free_port()
    assert _probe_error(f"mqtt://u:secret@127.0.0.1:{port}") == (
        f"broker mqtt://u:***@127.0.0.1:{port} is unreachable: Connection refused"
    )


def test_a_tls_handshake_without_answer_is_bounded_by_the_timeout(
    impostor: Impostor,
) -> None:
    port = impostor(None)
    started = time.monotonic()
    assert _probe_error(f"mqtts://127.0.0.1:{port}", timeout=1.0) == (
        f"broker mqtts://127.0.0.1:{port}: TLS handshake failed: no answer within 1 s"
    )
    assert time.monotonic() - started < 2.5


def test_tls_to_a_server_that_is_not_tls_is_a_failed_tls_handshake(
    impostor: Impostor,
) -> None:
    port = impostor(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    assert _probe_error(f"mqtts://127.0.0.1:{port}").startswith(
        f"broker mqtts://127.0.0.1:{port}: TLS handshake failed: "
    )


# ---------------------------------------------------------------------------- through the CLI
def _conformance_mqtt(url: str, tmp_path: Path) -> tuple[str, float]:
    result, junit, elapsed = probe_support.run_conformance(
        tmp_path, "--transport", "mqtt", "--mqtt", url, "--probe-timeout", "1"
    )
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: broker "), result.output
    assert not junit.exists()
    return lines[0], elapsed


def test_the_cli_stops_at_a_port_that_is_not_an_mqtt_broker(
    impostor: Impostor, tmp_path: Path
) -> None:
    port = impostor(None)
    line, elapsed = _conformance_mqtt(f"mqtt://u:secret@127.0.0.1:{port}", tmp_path)
    assert line == (
        f"error: broker mqtt://u:***@127.0.0.1:{port} did not answer the MQTT handshake "
        "within 1 s (is it an MQTT broker?)"
    )
    assert elapsed < 10


@pytest.mark.broker
def test_the_cli_stops_at_a_refused_login(locked_broker: str, tmp_path: Path) -> None:
    host = locked_broker.split("://", 1)[1]
    line, _ = _conformance_mqtt(f"mqtt://{USER}:wrong-pw@{host}", tmp_path)
    assert line.startswith(f"error: broker mqtt://{USER}:***@{host}: login refused (")
    assert "wrong-pw" not in line
