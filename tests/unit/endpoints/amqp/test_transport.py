"""AmqpTransport's ack policy and wire rendering, with a fake bus and publisher (no broker).

Per delivery: Bus.handle, then the reply to reply_to (correlation_id = the request's MessageID),
then ack; a FAILED reply is still an ack; the publisher reconnecting -> requeue; a fault inside
cimbus -> requeue once, then dead-letter with the reason (REL-2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from cim_models.build import build_message
from endpoints.amqp import AmqpTransport, PublisherUnavailable, Unroutable
from endpoints.amqp._consumer import ACK, REJECT, REQUEUE, Inbound
from endpoints.amqp._publisher import Publish
from endpoints.amqp.properties import WireFields
from routing.config import Config
from routing.transport import Delivery, DeliveryError


@dataclass
class FakeEnvelope:
    message_id: str | None
    noun: str


@dataclass
class FakeExchange:
    reply: bytes | None
    envelope: FakeEnvelope | None
    result: str | None = "OK"
    store_failure: Exception | None = None

    @property
    def store_down(self) -> bool:
        from routing.store import unavailable

        return self.store_failure is not None and unavailable(self.store_failure)


@dataclass
class FakeBus:
    config: Config
    fail_with: Exception | None = None
    reply: bytes | None = None
    store_failure: Exception | None = None
    handled: list[dict[str, Any]] = field(default_factory=list)
    name: str = "CIMBUS"
    worker_id: str = "w1"
    outbound: dict[str, Any] = field(default_factory=dict)

    @property
    def routes(self):
        return self.config.routes

    def register_transport(self, t: Any) -> None:
        self.outbound[t.name] = t

    def handle(self, raw: bytes, **kw: Any) -> FakeExchange:
        self.handled.append(kw)
        if self.fail_with is not None:
            raise self.fail_with
        return FakeExchange(
            self.reply, FakeEnvelope("req-1", "MeterReadings"), "FAILED", self.store_failure
        )


class FakePublisher:
    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[Publish] = []
        self.fail = fail
        self.ready = True

    def publish(self, item: Publish, *, timeout: float = 10.0) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(item)

    def publish_many(self, items, *, timeout: float = 10.0):
        self.sent.extend(items)
        return [None if i % 2 == 0 else DeliveryError("nacked") for i in range(len(items))]

    def wait_ready(self, timeout: float) -> bool:
        return True


def _transport(bus: FakeBus, publisher: FakePublisher) -> AmqpTransport:
    t = AmqpTransport(bus, bus.config.amqp)  # type: ignore[arg-type]
    t.publisher = publisher  # type: ignore[assignment]
    return t


def _config() -> Config:
    return Config.from_mapping(
        {"amqp": {"enabled": True}, "systems": {"HES": {"transport": "amqp"}}}
    )


def _inbound(*, reply_to: str | None = "client.CIS.reply", redelivered: bool = False) -> Inbound:
    body = build_message("get", "MeterReadings", message_id="req-1", source="CIS")
    props = WireFields.from_body(body, reply_to=reply_to).to_properties()
    return Inbound(
        queue="cimbus.in",
        body=body,
        fields=WireFields.from_properties(props),
        properties=props,
        redelivered=redelivered,
        exchange="cimbus",
        routing_key="cimbus.in.get.MeterReadings",
        delivery_tag=1,
    )


def test_registers_itself_and_names_its_reply_queue() -> None:
    bus = FakeBus(_config())
    t = _transport(bus, FakePublisher())
    assert bus.outbound["amqp"] is t
    assert t.reply_address(sync=True) == "cimbus.reply.w1"
    assert t.reply_address(sync=False) == "cimbus.in"


def test_reply_is_published_then_acked_even_when_failed() -> None:
    reply = build_message("reply", "MeterReadings", correlation_id="req-1", result="FAILED")
    bus = FakeBus(_config(), reply=reply)
    pub = FakePublisher()
    t = _transport(bus, pub)
    assert t._on_message(_inbound()) == ACK
    assert bus.handled[0]["transport"] == "amqp"
    assert bus.handled[0]["reply_to"] == "client.CIS.reply"
    assert bus.handled[0]["meta"]["properties"]["message_id"] == "req-1"
    ((sent),) = pub.sent
    assert (sent.exchange, sent.routing_key) == ("", "client.CIS.reply")
    assert sent.body == reply
    assert sent.properties.correlation_id == "req-1"
    assert sent.properties.type == "replyMeterReadings"
    assert sent.properties.delivery_mode == 2
    assert sent.properties.headers == {
        "verb": "reply",
        "noun": "MeterReadings",
        "source": "CIMBUS",
        "result": "FAILED",
    }


def test_no_reply_to_means_no_reply() -> None:
    bus = FakeBus(_config(), reply=b"<reply/>")
    pub = FakePublisher()
    assert _transport(bus, pub)._on_message(_inbound(reply_to=None)) == ACK
    assert pub.sent == []


def test_publisher_down_requeues_whatever_the_policy() -> None:
    bus = FakeBus(_config(), reply=b"<reply/>")
    t = _transport(bus, FakePublisher(fail=PublisherUnavailable("reconnecting")))
    assert t._on_message(_inbound(redelivered=True)) == REQUEUE


def test_requester_gone_is_logged_and_acked() -> None:
    bus = FakeBus(_config(), reply=b"<reply/>")
    t = _transport(bus, FakePublisher(fail=Unroutable("NO_ROUTE")))
    assert t._on_message(_inbound()) == ACK


def test_internal_fault_requeues_then_dead_letters() -> None:
    bus = FakeBus(_config(), fail_with=RuntimeError("disk full"))
    pub = FakePublisher()
    t = _transport(bus, pub)
    assert t._on_message(_inbound()) == REQUEUE
    assert pub.sent == []
    assert t._on_message(_inbound(redelivered=True)) == ACK
    ((dead),) = pub.sent
    assert (dead.exchange, dead.routing_key) == ("cimbus.dlx", "cimbus.in")
    assert (
        dead.properties.headers["x-death-reason"] == "cimbus failed again: RuntimeError: disk full"
    )


def _db_down() -> Exception:
    from sqlalchemy.exc import OperationalError

    return OperationalError("INSERT ...", {}, ConnectionRefusedError("connection refused"))


@pytest.mark.parametrize("redelivered", [False, True])
def test_store_down_requeues_whatever_the_policy_and_sends_no_reply(redelivered: bool) -> None:
    """REL-1: a message cimbus could not store (database unreachable) is not acked, even on
    redelivery: RabbitMQ keeps it until the store is back; the requester is not told FAILED."""
    bus = FakeBus(_config(), reply=b"<failed/>", store_failure=_db_down())
    pub = FakePublisher()
    t = _transport(bus, pub)
    t.backoff_cap = 0.01
    assert t._on_message(_inbound(redelivered=redelivered)) == REQUEUE
    assert pub.sent == []


def test_store_refusing_the_message_requeues_once_then_dead_letters_with_the_reply() -> None:
    """A store failure caused by the message itself goes through the failure policy: requeue,
    then dead-letter with the reason, and the requester gets the FAILED reply."""
    bus = FakeBus(_config(), reply=b"<failed/>", store_failure=ValueError("value too long"))
    pub = FakePublisher()
    t = _transport(bus, pub)
    assert t._on_message(_inbound()) == REQUEUE
    assert pub.sent == []
    assert t._on_message(_inbound(redelivered=True)) == ACK
    dead, reply = pub.sent
    assert (dead.exchange, dead.routing_key) == ("cimbus.dlx", "cimbus.in")
    assert dead.properties.headers["x-death-reason"] == (
        "the store failed again: ValueError: value too long"
    )
    assert (reply.routing_key, reply.body) == ("client.CIS.reply", b"<failed/>")


def test_dead_letter_republish_failing_means_reject() -> None:
    bus = FakeBus(_config(), fail_with=RuntimeError("disk full"))
    t = _transport(bus, FakePublisher(fail=DeliveryError("nacked")))
    assert t._on_message(_inbound(redelivered=True)) == REJECT


@pytest.mark.parametrize("address", ["cimbus.system.HES", "somewhere.else"])
def test_deliver_batch_reports_per_delivery(address: str) -> None:
    bus = FakeBus(_config())
    pub = FakePublisher()
    t = _transport(bus, pub)
    system = bus.routes.systems["HES"]
    ds = [
        Delivery(
            system=system,
            address=address,
            body=b"<x/>",
            message_id=f"m{i}",
            verb="get",
            noun="MeterReadings",
        )
        for i in range(3)
    ]
    out = t.deliver_batch(ds)
    assert out[0] is None and isinstance(out[1], DeliveryError) and out[2] is None
    expected = (
        ("cimbus", "cimbus.system.HES.get.MeterReadings")
        if address == "cimbus.system.HES"
        else ("", "somewhere.else")
    )
    assert {(p.exchange, p.routing_key) for p in pub.sent} == {expected}
    assert [p.properties.message_id for p in pub.sent] == ["m0", "m1", "m2"]


def test_the_failure_policy_comes_from_the_configuration() -> None:
    """``[amqp.on_failure]`` (routes are data): a route configured to drop what failed twice
    is dropped, another one configured to skip the retry is dead-lettered at once; the rest
    keep the default (requeue, then dead-letter)."""
    cfg = Config.from_mapping(
        {
            "amqp": {
                "enabled": True,
                "on_failure": {
                    "get MeterReadings": {"first": "dead_letter"},
                    "* EndDeviceEvents": {"redelivered": "drop"},
                },
            },
            "systems": {"HES": {"transport": "amqp"}},
        }
    )
    bus = FakeBus(cfg, fail_with=RuntimeError("disk full"))
    pub = FakePublisher()
    t = _transport(bus, pub)
    assert t._on_message(_inbound()) == ACK  # get MeterReadings: dead-lettered at once
    ((dead,),) = [pub.sent]
    assert dead.exchange == "cimbus.dlx"
    assert t.policy.decide("created", "EndDeviceEvents", redelivered=True) == "drop"
    assert t.policy.decide("created", "MeterReadings", redelivered=False) == "requeue"
