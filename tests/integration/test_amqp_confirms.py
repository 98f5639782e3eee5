"""Publisher confirms in batches (BUS-5, REL-1): 2,000 deliveries through
``AmqpTransport.deliver_batch`` are all confirmed, with up to ``confirm_batch`` messages
unconfirmed on the wire at once (instead of one round trip per message), and the batched rate
is printed beside the one-by-one rate (``deliver``) measured in the same run. How many confirm
frames RabbitMQ sends is its choice (multiple=True acks when it is busy, one per message when it
keeps up); the number is printed, not asserted. The publishes' frames are written to the socket
many messages at a time (``CoalescedOutput``), not three writes per message."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from endpoints.amqp import AmqpTransport, Unroutable
from routing.bus import Bus
from routing.config import Config
from routing.store import Store
from routing.transport import Delivery

if TYPE_CHECKING:
    from tests.integration.amqp_fixtures import AmqpNames

pytest_plugins = ["tests.integration.amqp_fixtures"]
pytestmark = pytest.mark.broker

N = 2000
ONE_BY_ONE = 300


def _deliveries(bus: Bus, n: int, tag: str) -> list[Delivery]:
    system = bus.routes.systems["MDMS"]
    return [
        Delivery(
            system=system,
            address=system.address,
            body=b"<m:CreatedMeterReadings>%d</m:CreatedMeterReadings>" % i,
            message_id=f"{tag}-{i}",
            verb="created",
            noun="MeterReadings",
            headers={"verb": "created", "noun": "MeterReadings", "source": "HES"},
        )
        for i in range(n)
    ]


def test_batch_of_2000_is_confirmed_in_batches(amqp_names: AmqpNames, tmp_path: Path) -> None:
    cfg = Config.from_mapping(
        {
            "amqp": amqp_names.amqp_section(confirm_batch=500),
            "systems": {"MDMS": {"transport": "amqp", "address": amqp_names.system("MDMS")}},
        }
    )
    bus = Bus(cfg, Store(f"sqlite:///{tmp_path}/bus.db"))
    transport = AmqpTransport(bus, cfg.amqp).start()
    try:
        assert transport.ready
        batch = _deliveries(bus, N, "batch")
        frames = transport.publisher.confirm_frames
        connection = transport.publisher._connection
        writes = connection.coalesced_writes
        transport.publisher.max_in_flight = 0
        t0 = time.perf_counter()
        outcomes = transport.deliver_batch(batch)
        batched = N / (time.perf_counter() - t0)
        frames = transport.publisher.confirm_frames - frames
        writes = connection.coalesced_writes - writes
        in_flight = transport.publisher.max_in_flight
        assert outcomes == [None] * N

        single = _deliveries(bus, ONE_BY_ONE, "single")
        t0 = time.perf_counter()
        for d in single:
            assert transport.deliver(d) is None
        one_by_one = ONE_BY_ONE / (time.perf_counter() - t0)
    finally:
        transport.stop()
    print(
        f"\npublisher confirms: batch of {N} at {batched:,.0f} msg/s ({frames} confirm frames, up "
        f"to {in_flight} unconfirmed); one-by-one {one_by_one:,.0f} msg/s; "
        f"ratio {batched / one_by_one:.1f}x"
    )
    assert in_flight > 100, f"at most {in_flight} messages were unconfirmed at once: not batched"
    # the frames of many publishes leave in one write (CoalescedOutput), not three per message
    assert 0 < writes <= N // 10, f"{writes} writes for {N} publishes"
    assert batched > one_by_one
    got = amqp_names.get_all(amqp_names.system("MDMS"))
    ids = [props.message_id for _, props, _ in got]
    assert len(ids) == N + ONE_BY_ONE
    assert len(set(ids)) == N + ONE_BY_ONE
    assert ids[:3] == ["batch-0", "batch-1", "batch-2"]  # order kept
    _, props, _ = got[0]
    assert props.delivery_mode == 2 and props.type == "createdMeterReadings"


def test_deliver_fails_with_delivery_error_when_nothing_takes_it(
    amqp_names: AmqpNames, tmp_path: Path
) -> None:
    cfg = Config.from_mapping(
        {
            "amqp": amqp_names.amqp_section(),
            "systems": {"MDMS": {"transport": "amqp", "address": amqp_names.system("MDMS")}},
        }
    )
    bus = Bus(cfg, Store(f"sqlite:///{tmp_path}/bus.db"))
    transport = AmqpTransport(bus, cfg.amqp).start()
    try:
        (d,) = _deliveries(bus, 1, "x")
        gone = Delivery(**{**d.__dict__, "address": f"{amqp_names.prefix}.no-such-queue"})
        outcomes = transport.deliver_batch([d, gone])
        assert outcomes[0] is None
        assert isinstance(outcomes[1], Unroutable)
        assert "NO_ROUTE" in str(outcomes[1])
    finally:
        transport.stop()
