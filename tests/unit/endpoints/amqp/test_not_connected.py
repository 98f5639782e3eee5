"""BUS-5, REL-1: while cimbus is not connected to RabbitMQ, a publish fails at once with
``NotConnected`` (a ``TransportUnavailable``: the outbox keeps the message without counting an
attempt), the reason says why (pika's own ``str()`` of a refused connection is empty), and
the retries are logged once, not once per attempt per thread. No broker needed: the port is
closed."""

from __future__ import annotations

import logging
import socket
import time

import pika
from pika.exceptions import AMQPConnectionError, ProbableAuthenticationError

from endpoints.amqp import NotConnected
from endpoints.amqp._publisher import Publish, Publisher
from endpoints.amqp._reasons import RetryLog, describe
from routing.transport import TransportUnavailable
from tests.waiting import wait_until


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nobody listens once the socket is closed


def test_publishing_while_not_connected_is_no_attempt_and_says_why(caplog) -> None:
    port = _closed_port()
    pub = Publisher(f"amqp://guest:guest@127.0.0.1:{port}/", backoff_cap=0.2, name="t-pub")
    with caplog.at_level(logging.INFO, logger="cimbus.amqp"):
        pub.start()
        try:
            wait_until(lambda: pub._retry_log.failing, "a failed connection attempt", timeout=10)
            started = time.monotonic()
            [outcome] = pub.publish_many(
                [Publish("x", "y", b"<m/>", pika.BasicProperties())], timeout=10
            )
            assert time.monotonic() - started < 1  # at once, not after the confirm timeout
            assert isinstance(outcome, NotConnected)
            assert isinstance(outcome, TransportUnavailable)
            assert "not connected to RabbitMQ (reconnecting; cannot connect" in str(outcome)
            assert "Connection refused" in str(outcome)
            time.sleep(1.0)  # several retries at backoff_cap = 0.2 s
        finally:
            pub.stop()
    warnings = [r.getMessage() for r in caplog.records if r.name == "cimbus.amqp"]
    assert len(warnings) == 1, warnings  # the first failure; the rest within the minute
    assert warnings[0] == "t-pub: cannot connect to RabbitMQ: Connection refused (retrying)"


def test_describe_finds_the_reason_pika_wrapped() -> None:
    from pika.adapters.utils.connection_workflow import (
        AMQPConnectionWorkflowFailed,
        AMQPConnectorSocketConnectError,
    )

    # what pika hands the open-error callback when the port is closed: str() is empty
    refused = AMQPConnectionError(
        AMQPConnectionWorkflowFailed(
            [AMQPConnectorSocketConnectError(ConnectionRefusedError(111, "Connection refused"))]
        )
    )
    assert str(refused) == ""
    assert describe(refused) == "Connection refused"
    auth = ProbableAuthenticationError("ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - Login'")
    assert describe(auth) == "ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - Login'"
    assert describe(RuntimeError()) == "RuntimeError"


def test_retry_log_warns_on_start_change_and_every_minute(caplog) -> None:
    log = logging.getLogger("test.retry")
    retry = RetryLog(log, "c1", every=60.0)
    with caplog.at_level(logging.INFO, logger="test.retry"):
        for _ in range(5):
            retry.failed("Connection refused")
        retry.failed("ACCESS_REFUSED")  # a new reason is worth a line
        retry._last -= 61  # a minute later
        retry.failed("ACCESS_REFUSED")
        retry.connected()
        retry.connected()  # nothing more to say
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "c1: Connection refused (reconnecting)"
    assert lines[1].startswith("c1: ACCESS_REFUSED (reconnecting; failing for 0 s, 6 attempts")
    assert lines[2].startswith("c1: ACCESS_REFUSED (reconnecting; failing for")
    assert lines[3].startswith("c1: connected to RabbitMQ again after")
    assert len(lines) == 4
