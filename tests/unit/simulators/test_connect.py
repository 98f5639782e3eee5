"""``simulators._core.connect``: a broker URL is checked before a client is made (a wrong one
is a ValueError naming it with the password hidden, not a client that retries forever), and
options that do not apply to a transport are refused."""

from __future__ import annotations

import pytest

from simulators._core import connect
from simulators._core.connect import broker_url, masked


@pytest.mark.parametrize(
    ("transport", "url", "message"),
    [
        ("amqp", "notaurl", "'notaurl' is not an AMQP URL"),
        ("amqp", "mqtt://h", "must start with amqp:// or amqps://"),
        ("amqp", "amqp://u:pw@:5672/", r"'amqp://u:\*\*\*@:5672/' names no host"),
        ("amqp", "amqp://h:65536/", "port must be a whole number from 1 to 65535"),
        ("amqp", "amqp://h/?heartbeat=abc", "not a usable AMQP URL: Invalid heartbeat"),
        ("mqtt", "amqp://h", "must start with mqtt:// or mqtts://"),
        ("mqtt", "mqtt://h:-1", "port must be"),
        ("embedded", "amqp://h", "takes no broker URL"),
    ],
)
def test_bad_broker_urls(transport: str, url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        broker_url(transport, url)
    assert "pw" not in str(info.value)


def test_good_broker_urls_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert broker_url("amqp", "amqps://u:p@h:5671/vh") == "amqps://u:p@h:5671/vh"
    assert broker_url("mqtt", "mqtts://h") == "mqtts://h"
    monkeypatch.delenv("CIMBUS_AMQP_URL", raising=False)
    assert broker_url("amqp").startswith("amqp://guest:guest@127.0.0.1:5672")
    monkeypatch.setenv("CIMBUS_MQTT_URL", "mqtt://u:secret@h:0")
    with pytest.raises(ValueError, match=r"^CIMBUS_MQTT_URL 'mqtt://u:\*\*\*@h:0'"):
        broker_url("mqtt")


def test_masked() -> None:
    assert masked("amqp://guest:guest@h:5672/%2F") == "amqp://guest:***@h:5672/%2F"
    assert masked("amqp://h/") == "amqp://h/"
    assert masked("amqp://user@h/") == "amqp://user@h/"
    assert masked("amqp://u:p@ss@h/") == "amqp://u:***@h/"


def test_connect_checks_before_making_a_client() -> None:
    with pytest.raises(ValueError, match="not an AMQP URL"):
        connect("amqp", "HES", url="notaurl")
    with pytest.raises(ValueError, match="takes no url"):
        connect("embedded", "HES", broker=object(), url="amqp://x")
    with pytest.raises(ValueError, match="the name is empty"):
        connect("embedded", " ", broker=object())
    with pytest.raises(ValueError, match="unknown transport"):
        connect("pigeon", "HES")
