"""AmqpClient(message_ttl=...) publishes requests that expire with their reply timeout, so a
target that is not consuming is not left with stale requests (the conformance clients use it);
without it, nothing expires (other users of AmqpClient are unchanged)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from endpoints.amqp import AmqpClient
from endpoints.client import ReplyTimeout
from tests.unit.endpoints.soap.support import golden

pytest_plugins = ["tests.integration.amqp_fixtures"]

pytestmark = pytest.mark.broker


def _request_nobody_answers(names: Any, **kwargs: Any) -> int:
    client = AmqpClient(
        names.url, "CIS", queue=names.system("CIS"), **names.client_kwargs(), **kwargs
    )
    try:
        with pytest.raises(ReplyTimeout):
            client.request(golden("GetMeterReadings.xml"), timeout=1.0)
        time.sleep(1.5)
        return names.depth(names.inbound)
    finally:
        client.close()


def test_requests_expire_with_their_reply_timeout(amqp_names: Any) -> None:
    assert _request_nobody_answers(amqp_names, message_ttl=30.0) == 0


def test_without_a_ttl_nothing_expires(amqp_names: Any) -> None:
    assert _request_nobody_answers(amqp_names) == 1
