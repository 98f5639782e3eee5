"""A message cimbus could not store is not acknowledged (REL-1: nothing accepted is lost).

When the store transaction of an inbound message fails, the pipeline answers FAILED ("it was
not accepted, send it again") and marks the exchange (``store_failure``; ``store_down`` when
the database is unreachable or busy). The transports that can leave a message with the
sender's broker do so instead of acking it: the embedded bus and AMQP requeue (after a pause
while the database is down; a message the store refuses twice is dead-lettered with its
FAILED reply), MQTT withholds the PUBACK. The AMQP side is in amqp/test_transport.py."""

from __future__ import annotations

from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy.exc import OperationalError

from endpoints.embedded import INBOUND, EmbeddedBroker, EmbeddedTransport, Message
from endpoints.mqtt.transport import MqttTransport, NotKept
from routing.bus import Bus
from routing.config import Config
from tests.messages import end_device_event
from tests.waiting import wait_until


def _db_down() -> OperationalError:
    return OperationalError("INSERT ...", {}, ConnectionRefusedError("connection refused"))


@pytest.fixture
def bus(tmp_path: Path):
    b = Bus(
        Config.from_mapping(
            {
                "store": {"url": f"sqlite:///{tmp_path}/cimbus.db"},
                "systems": {
                    "HES": {"transport": "embedded"},
                    "MDMS": {"transport": "embedded"},
                },
                "subscriptions": [
                    {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["MDMS"]}
                ],
            }
        )
    )
    b.store.migrate()
    yield b
    b.stop()


def _failing(bus: Bus, monkeypatch, failures: list[Exception]) -> list[int]:
    """The store's transactions fail with ``failures`` in turn, then work again."""
    real = bus.store.batch
    calls = [0]

    def batch(*args, **kwargs):
        calls[0] += 1
        if failures:
            raise failures.pop(0)
        return real(*args, **kwargs)

    monkeypatch.setattr(bus.store, "batch", batch)
    return calls


def test_the_pipeline_marks_an_exchange_the_store_did_not_keep(bus: Bus, monkeypatch) -> None:
    EmbeddedTransport(bus, EmbeddedBroker())  # registered: the subscriber's transport runs
    _failing(bus, monkeypatch, [_db_down(), ValueError("value too long")])
    down = bus.handle(end_device_event(), transport="test")
    assert down.result == "FAILED" and down.store_down
    assert "could not be stored" in str(down.error)
    refused = bus.handle(end_device_event(), transport="test")
    assert refused.store_failure is not None and not refused.store_down
    kept = bus.handle(end_device_event(), transport="test")
    assert kept.store_failure is None and not kept.store_down


def test_embedded_requeues_while_the_database_is_down_then_delivers_once(
    bus: Bus, monkeypatch
) -> None:
    broker = EmbeddedBroker()
    broker.declare("cimbus.system.MDMS")
    calls = _failing(bus, monkeypatch, [_db_down(), _db_down(), _db_down()])
    transport = EmbeddedTransport(bus, broker, store_retry=0.01).start()
    try:
        body = end_device_event()
        broker.publish(INBOUND, Message(body=body, message_id="e-1"))
        wait_until(lambda: bus.run_outbox_once() or broker.depth("cimbus.system.MDMS"), "delivery")
        assert calls[0] == 4  # three times refused by the store, kept the fourth time
        assert broker.depth("cimbus.system.MDMS") == 1
        assert broker.depth(f"{INBOUND}.dead") == 0
        delivered = broker.get("cimbus.system.MDMS", timeout=1)
        assert delivered is not None and delivered.message.body == body
    finally:
        transport.stop()


def test_embedded_dead_letters_what_the_store_refuses_twice_and_answers_failed(
    bus: Bus, monkeypatch
) -> None:
    broker = EmbeddedBroker()
    broker.declare("client.HES.reply", dead_letter=None)
    _failing(bus, monkeypatch, [ValueError("value too long"), ValueError("value too long")])
    transport = EmbeddedTransport(bus, broker, store_retry=0.01).start()
    try:
        broker.publish(
            INBOUND, Message(body=end_device_event(), message_id="e-2", reply_to="client.HES.reply")
        )
        wait_until(lambda: broker.depth(f"{INBOUND}.dead"), "the dead letter")
        dead = broker.get(f"{INBOUND}.dead", timeout=1)
        assert "the store failed again" in dead.message.headers["x-death-reason"]
        assert "value too long" in dead.message.headers["x-death-reason"]
        reply = broker.get("client.HES.reply", timeout=1)
        assert reply is not None and b"<msg:Result>FAILED</msg:Result>" in reply.message.body
    finally:
        transport.stop()


def test_mqtt_withholds_the_puback_while_the_database_is_down(bus: Bus, monkeypatch) -> None:
    cfg = Config.from_mapping({"mqtt": {"enabled": True}}).mqtt
    transport = MqttTransport(bus, cfg)
    EmbeddedTransport(bus, EmbeddedBroker())  # the subscriber MDMS is on the embedded bus
    message = mqtt.MQTTMessage(
        mid=7, topic=transport.topics.inbound("HES", "EndDeviceEvents").encode()
    )
    message.payload = end_device_event()
    message.qos = 1
    _failing(bus, monkeypatch, [_db_down()])
    with pytest.raises(NotKept, match="store is unavailable"):
        transport._on_message(message)  # the connection's worker retries, then leaves it unacked
    transport._on_message(message)  # the store is back: handled (then PUBACKed by the worker)
    assert bus.store.outbox_counts().get("pending") == 1  # kept once: for the subscriber


def test_an_effect_refusing_the_message_is_answered_with_its_code_not_as_a_store_failure(
    bus: Bus,
) -> None:
    """The subscriber's transport does not run in this process: the fan-out refuses the event
    with 2.5 inside the store transaction. That is the message's answer (FAILED 2.5, audited),
    not a store failure to retry."""
    ex = bus.handle(end_device_event(), transport="test")
    assert ex.result == "FAILED" and ex.store_failure is None
    assert ex.error is not None and ex.error.code == "2.5"
    assert "transport 'embedded' is not running" in str(ex.error)
    (row,) = bus.store.audit(verb="created", noun="EndDeviceEvents")
    assert (row.result, row.error_code) == ("FAILED", "2.5")
