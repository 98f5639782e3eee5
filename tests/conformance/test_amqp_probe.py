"""The AMQP probe before a conformance run (and before ``cimbus send --to amqp://...``) names
every failure in one line, the URL's password masked, within the probe timeout: a port that is
no AMQP 0-9-1 broker (silent, closing at once, an HTTP server, an SSH banner, an AMQP 1.0
broker, Mosquitto's MQTT port), a broker that stops half-way through the handshake, a TLS
handshake that fails. pika raises ``AMQPConnectorStackTimeout`` for a silent peer, which is
neither an ``AMQPError`` nor an ``OSError``: it used to end the run in a traceback.

Plain socket servers play the impostors; the real RabbitMQ and Mosquitto (``broker`` tests)
play themselves."""

from __future__ import annotations

import time
from pathlib import Path

import pika
import pytest
from pika import frame, spec
from pika.adapters.utils.connection_workflow import AMQPConnectorAborted

from conformance.harness import masked, probe_amqp
from tests.conformance import probe_support
from tests.conformance.probe_support import Impostor, free_port, probe_error

pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.mqtt_fixtures"]

#: what a RabbitMQ answers the protocol header with: a Connection.Start method frame
CONNECTION_START = frame.Method(
    0, spec.Connection.Start(server_properties={}, mechanisms="PLAIN", locales="en_US")
).marshal()

# the fixtures this module uses (tests/conformance/probe_support.py)
impostor = probe_support.impostor
no_thread_left_behind = probe_support.thread_check()


def _probe_error(url: str, timeout: float = 5.0) -> str:
    message = probe_error(probe_amqp, url, timeout)
    assert "secret" not in message
    return message


# ---------------------------------------------------------------------------- impostors
def test_a_server_that_never_speaks_amqp_is_named_within_the_timeout(impostor: Impostor) -> None:
    port = impostor(None)
    started = time.monotonic()
    message = _probe_error(f"amqp://u:secret@127.0.0.1:{port}/%2F", timeout=1.0)
    assert 0.9 < time.monotonic() - started < 2.5
    assert message == (
        f"broker amqp://u:***@127.0.0.1:{port}/%2F did not answer the AMQP handshake within "
        "1 s (is it RabbitMQ?)"
    )


def test_a_server_closing_the_connection_fails_the_handshake(impostor: Impostor) -> None:
    port = impostor(b"")
    assert _probe_error(f"amqp://u:secret@127.0.0.1:{port}/%2F") == (
        f"broker amqp://u:***@127.0.0.1:{port}/%2F closed the connection during the AMQP "
        "handshake (is it RabbitMQ?)"
    )


@pytest.mark.parametrize(
    ("answer", "greet", "hold", "quoted"),
    [
        (
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
            False,
            False,
            "'HTTP/1.1 400 Bad Request', not a Connection.Start",
        ),
        (  # a banner, the connection held: quoted when the time is up
            b"SSH-2.0-OpenSSH_9.6\r\n",
            True,
            True,
            "'SSH-2.0-OpenSSH_9.6', not a Connection.Start",
        ),
        (  # an AMQP 1.0 broker answers our 0-9-1 header with its own, and closes
            b"AMQP\x00\x01\x00\x00",
            False,
            False,
            r"'AMQP\x00\x01\x00\x00', not a Connection.Start (cimbus speaks AMQP 0-9-1)",
        ),
        (  # a method frame pika cannot read (no such class/method)
            b"\x01\x00\x00\x00\x00\x00\x04abcd\xce",
            False,
            True,
            r"'\x01\x00\x00\x00\x00\x00\x04abcdÎ', not a Connection.Start",
        ),
    ],
    ids=["http", "ssh-banner", "amqp-1.0", "bad-frame"],
)
def test_a_server_answering_something_else_is_quoted(
    impostor: Impostor, answer: bytes, greet: bool, hold: bool, quoted: str
) -> None:
    port = impostor(answer, greet=greet, hold=hold)
    started = time.monotonic()
    assert _probe_error(f"amqp://u:secret@127.0.0.1:{port}/%2F", timeout=1.0) == (
        f"broker amqp://u:***@127.0.0.1:{port}/%2F answered the AMQP handshake with {quoted} "
        "(is it RabbitMQ?)"
    )
    assert time.monotonic() - started < 2.5


def test_a_broker_stopping_half_way_through_the_handshake_is_named(impostor: Impostor) -> None:
    port = impostor(CONNECTION_START, hold=True)  # then never a Connection.Tune
    assert _probe_error(f"amqp://u:secret@127.0.0.1:{port}/%2F", timeout=1.0) == (
        f"broker amqp://u:***@127.0.0.1:{port}/%2F did not complete the AMQP handshake within 1 s"
    )


def test_a_closed_port_is_unreachable() -> None:
    port = free_port()
    assert _probe_error(f"amqp://u:secret@127.0.0.1:{port}/%2F") == (
        f"broker amqp://u:***@127.0.0.1:{port}/%2F is unreachable: Connection refused"
    )


def test_a_tls_handshake_without_answer_is_bounded_by_the_timeout(impostor: Impostor) -> None:
    port = impostor(None)
    started = time.monotonic()
    assert _probe_error(f"amqps://u:secret@127.0.0.1:{port}/%2F", timeout=1.0) == (
        f"broker amqps://u:***@127.0.0.1:{port}/%2F: TLS handshake failed: no answer within 1 s"
    )
    assert time.monotonic() - started < 2.5


def test_tls_to_a_server_that_is_not_tls_is_a_failed_tls_handshake(impostor: Impostor) -> None:
    port = impostor(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    assert _probe_error(f"amqps://u:secret@127.0.0.1:{port}/%2F").startswith(
        f"broker amqps://u:***@127.0.0.1:{port}/%2F: TLS handshake failed: "
    )


def test_any_other_pika_failure_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """pika's connection-workflow errors (``AMQPConnectorException`` and its kin) are neither
    ``AMQPError`` nor ``OSError``."""

    def aborted(*args: object, **kwargs: object) -> None:
        raise AMQPConnectorAborted()

    monkeypatch.setattr(pika, "BlockingConnection", aborted)
    assert _probe_error("amqp://u:secret@127.0.0.1:5672/%2F") == (
        "broker amqp://u:***@127.0.0.1:5672/%2F: the AMQP handshake failed: AMQPConnectorAborted"
    )


# ---------------------------------------------------------------------------- real brokers
@pytest.mark.broker
def test_a_running_rabbitmq_passes(rabbitmq: str) -> None:
    probe_support.probe_passes(probe_amqp, "amqp", rabbitmq)


@pytest.mark.broker
def test_mosquittos_mqtt_port_is_not_an_amqp_broker(mqtt_url: str) -> None:
    host = mqtt_url.split("://", 1)[1]
    assert _probe_error(f"amqp://u:secret@{host}/%2F") == (
        f"broker amqp://u:***@{host}/%2F closed the connection during the AMQP handshake "
        "(is it RabbitMQ?)"
    )


@pytest.mark.broker
def test_tls_to_rabbitmqs_plain_port_is_a_failed_tls_handshake(rabbitmq: str) -> None:
    url = rabbitmq.replace("amqp://", "amqps://", 1)
    assert _probe_error(url).startswith(f"broker {masked(url)}: TLS handshake failed: ")


# ---------------------------------------------------------------------------- through the CLI
def test_the_cli_stops_at_a_port_that_is_not_an_amqp_broker(
    impostor: Impostor, tmp_path: Path
) -> None:
    port = impostor(None)
    url = f"amqp://guest:guest@127.0.0.1:{port}/%2F"
    result, junit, elapsed = probe_support.run_conformance(
        tmp_path, "--transport", "amqp", "--amqp", url, "--probe-timeout", "1"
    )
    assert result.exit_code == 2, result.output
    assert elapsed < 10
    assert result.output.strip().splitlines() == [
        f"error: broker amqp://guest:***@127.0.0.1:{port}/%2F did not answer the AMQP "
        "handshake within 1 s (is it RabbitMQ?)"
    ]
    assert not junit.exists()
