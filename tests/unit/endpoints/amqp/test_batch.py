"""Batched consumption (issue 3) without a broker: which deliveries go into batches, how a
batch is settled (one ``multiple=True`` ack only where no other delivery is in between), and
how AmqpTransport answers a batch (replies published together, per-delivery outcomes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cim_models.build import build_message
from endpoints.amqp import PublisherUnavailable, Unroutable
from endpoints.amqp._consumer import ACK, REJECT, REQUEUE, ConsumerLoop, Inbound
from endpoints.amqp.properties import WireFields
from endpoints.amqp.transport import _never_waits
from tests.unit.endpoints.amqp.test_transport import (
    FakeEnvelope,
    FakeExchange,
    FakePublisher,
    _config,
    _transport,
)


class FakeChannel:
    is_open = True

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def basic_ack(self, tag: int, multiple: bool = False) -> None:
        self.calls.append(("ack", tag, multiple))

    def basic_nack(self, tag: int, requeue: bool = True) -> None:
        self.calls.append(("nack", tag, requeue))

    def basic_reject(self, tag: int, requeue: bool = True) -> None:
        self.calls.append(("reject", tag, requeue))


def _loop(unsettled: set[int]) -> ConsumerLoop:
    loop = ConsumerLoop("amqp://x", ["q"], lambda m: ACK, batch_handler=lambda ms: [])
    loop._generation = 1
    loop._inflight = len(unsettled)
    loop._unsettled = set(unsettled)
    return loop


def test_a_batch_is_acked_with_one_multiple_ack_up_to_the_first_gap() -> None:
    loop, ch = _loop({1, 2, 3, 4, 5}), FakeChannel()
    loop._settle_many(1, ch, [(1, ACK), (2, ACK), (3, REQUEUE), (4, ACK), (5, REJECT)])
    assert ch.calls == [
        ("ack", 2, True),
        ("ack", 4, False),
        ("nack", 3, True),
        ("reject", 5, False),
    ]
    assert loop._unsettled == set() and loop._inflight == 0


def test_no_multiple_ack_over_a_delivery_another_worker_still_holds() -> None:
    loop, ch = _loop({1, 2, 3}), FakeChannel()  # tag 1 is with a per-message worker
    loop._settle_many(1, ch, [(2, ACK), (3, ACK)])
    assert ch.calls == [("ack", 2, False), ("ack", 3, False)]
    assert loop._unsettled == {1}


def test_settlements_of_a_dead_connection_are_dropped() -> None:
    loop, ch = _loop({1}), FakeChannel()
    loop._settle_many(0, ch, [(1, ACK)])  # generation 0: the old connection
    assert ch.calls == [] and loop._unsettled == {1}


def _inbound(verb: str, *, tag: int = 1, reply_to: str | None = "client.HES.reply") -> Inbound:
    body = build_message(verb, "EndDeviceEvents", message_id=f"m-{tag}", source="HES")
    props = WireFields.from_body(body, reply_to=reply_to).to_properties()
    return Inbound(
        queue="cimbus.in",
        body=body,
        fields=WireFields.from_properties(props),
        properties=props,
        redelivered=False,
        exchange="cimbus",
        routing_key=f"cimbus.in.{verb}.EndDeviceEvents",
        delivery_tag=tag,
    )


def test_events_and_replies_are_batched_requests_are_not() -> None:
    assert _never_waits(_inbound("created"))
    assert _never_waits(_inbound("reply"))
    assert not _never_waits(_inbound("get"))
    assert not _never_waits(_inbound("create"))


@dataclass
class BatchBus:
    config: Any
    name: str = "CIMBUS"
    worker_id: str = "w1"
    outbound: dict[str, Any] = field(default_factory=dict)
    batches: list[int] = field(default_factory=list)
    store_failures: dict[int, Exception] = field(default_factory=dict)  # index -> failure

    @property
    def routes(self):
        return self.config.routes

    def register_transport(self, t: Any) -> None:
        self.outbound[t.name] = t

    def handle_many(self, items, *, transport: str):
        self.batches.append(len(items))
        return [
            FakeExchange(
                b"<reply/>",
                FakeEnvelope(f"m-{i}", "EndDeviceEvents"),
                store_failure=self.store_failures.get(i),
            )
            for i, _ in enumerate(items)
        ]


class SomeFail(FakePublisher):
    def __init__(self, outcomes: list) -> None:
        super().__init__()
        self.outcomes = outcomes

    def publish_many(self, items, *, timeout: float = 10.0):
        self.sent.extend(items)
        return self.outcomes[: len(items)]


def test_a_batch_runs_once_and_its_replies_go_out_together() -> None:
    bus = BatchBus(_config())
    pub = SomeFail([None, Unroutable("gone"), PublisherUnavailable("down")])
    t = _transport(bus, pub)  # type: ignore[arg-type]
    ms = [_inbound("created", tag=1), _inbound("created", tag=2), _inbound("created", tag=3)]
    assert t._on_batch(ms) == [ACK, ACK, REQUEUE]  # requester gone: acked; broker down: again
    assert bus.batches == [3]
    assert [p.properties.correlation_id for p in pub.sent] == ["m-0", "m-1", "m-2"]


def test_a_batch_without_reply_addresses_publishes_nothing() -> None:
    bus = BatchBus(_config())
    pub = SomeFail([])
    t = _transport(bus, pub)  # type: ignore[arg-type]
    ms = [_inbound("created", tag=i, reply_to=None) for i in (1, 2)]
    assert t._on_batch(ms) == [ACK, ACK]
    assert pub.sent == []


def test_messages_of_a_batch_the_store_did_not_keep_are_requeued_without_a_reply(
    monkeypatch,
) -> None:
    """REL-1: in a batch, a message the store could not keep (database down) is requeued, not
    acked, with one pause for the whole batch; the kept ones are answered and acked."""
    from sqlalchemy.exc import OperationalError

    down = OperationalError("INSERT ...", {}, ConnectionRefusedError("refused"))
    bus = BatchBus(_config(), store_failures={1: down, 2: down})
    pub = SomeFail([None])
    t = _transport(bus, pub)  # type: ignore[arg-type]
    pauses: list[float] = []
    monkeypatch.setattr("endpoints.amqp.transport.time.sleep", pauses.append)
    ms = [_inbound("created", tag=i) for i in (1, 2, 3)]
    assert t._on_batch(ms) == [ACK, REQUEUE, REQUEUE]
    assert [p.properties.correlation_id for p in pub.sent] == ["m-0"]
    assert len(pauses) == 1
