"""The AMQP endpoint against a real RabbitMQ, below the bus (BUS-5, REL-2, REL-3).

* the IEC 61968-100 header survives the trip as AMQP properties and back;
* a message no queue takes fails as Unroutable (mandatory flag), a full queue's refusal as
  Nacked (publisher confirms), both DeliveryErrors the outbox retries;
* a system's handler that keeps failing: requeued once, then in ``<queue>.dead`` with the reason;
* prefetch bounds the deliveries a consumer holds, whatever its worker count (back-pressure).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import TYPE_CHECKING

import pytest

from cim_models.build import build_message
from endpoints.amqp import AmqpClient, Nacked, Topology, Unroutable, WireFields
from endpoints.amqp._publisher import Publish, Publisher
from routing.transport import DeliveryError

if TYPE_CHECKING:
    from tests.integration.amqp_fixtures import AmqpNames

pytest_plugins = ["tests.integration.amqp_fixtures"]
pytestmark = pytest.mark.broker


def _topology(names: AmqpNames, *systems: str, **kw) -> Topology:
    return Topology.build(
        exchange=names.exchange,
        dead_letter_exchange=names.dlx,
        inbound=names.inbound,
        systems=[(s, names.system(s)) for s in systems],
        **kw,
    )


def test_header_properties_round_trip_through_rabbitmq(amqp_names: AmqpNames, exchanges) -> None:
    topo = _topology(amqp_names, "MDMS")
    body = (exchanges / "MeterReadings" / "CreatedMeterReadings.xml").read_bytes()
    sent = WireFields.from_body(body, reply_to=amqp_names.inbound)
    publisher = Publisher(amqp_names.url, topology=topo).start()
    try:
        assert publisher.wait_ready(10)
        exchange, key = topo.route(amqp_names.system("MDMS"), sent.verb, sent.noun)
        assert key == f"{amqp_names.system('MDMS')}.created.MeterReadings"
        publisher.publish(Publish(exchange, key, body, sent.to_properties()))
    finally:
        publisher.stop()
    ((method, props, got),) = amqp_names.get_all(amqp_names.system("MDMS"))
    assert got == body
    assert props.message_id == "f61c2116-84f9-549c-a2bd-aad7acf78be2"
    assert props.type == "createdMeterReadings"
    assert props.content_type == "application/xml"
    assert props.delivery_mode == 2
    assert props.reply_to == amqp_names.inbound
    assert props.headers == {"verb": "created", "noun": "MeterReadings", "source": "TDSP-MDMS"}
    assert method.routing_key == key
    assert WireFields.from_properties(props) == sent


def test_unroutable_and_nacked_are_delivery_errors(amqp_names: AmqpNames) -> None:
    topo = _topology(amqp_names, "HES", max_length=2)
    publisher = Publisher(amqp_names.url, topology=topo).start()
    try:
        assert publisher.wait_ready(10)
        props = WireFields(message_id="m", verb="get", noun="MeterReadings").to_properties()
        with pytest.raises(Unroutable, match="NO_ROUTE"):
            publisher.publish(Publish("", f"{amqp_names.prefix}.nobody", b"<x/>", props))
        exchange, key = topo.route(amqp_names.system("HES"), "get", "MeterReadings")
        outcomes = publisher.publish_many([Publish(exchange, key, b"<x/>", props)] * 4)
        assert outcomes[:2] == [None, None]
        assert all(isinstance(o, Nacked) and isinstance(o, DeliveryError) for o in outcomes[2:])
        assert publisher.ready  # a nack does not cost the channel
    finally:
        publisher.stop()
    assert amqp_names.depth(amqp_names.system("HES")) == 2


def test_a_failing_handler_is_requeued_once_then_dead_lettered_with_the_reason(
    amqp_names: AmqpNames,
) -> None:
    attempts: list[bytes] = []
    client = AmqpClient(
        amqp_names.url, "HES", queue=amqp_names.system("HES"), **amqp_names.client_kwargs()
    )
    try:

        def handler(body: bytes) -> bytes:
            attempts.append(body)
            raise ValueError("meter 42 is on fire")

        client.serve(handler)
        mid = str(uuid.uuid4())
        body = build_message("create", "EndDeviceControls", message_id=mid, source="CIS")
        topo = client.topology
        exchange, key = topo.route(amqp_names.system("HES"), "create", "EndDeviceControls")
        client.publisher.publish(
            Publish(exchange, key, body, WireFields.from_body(body).to_properties())
        )
        dead_queue = amqp_names.system("HES") + ".dead"
        deadline = time.monotonic() + 10
        while amqp_names.depth(dead_queue) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.close()
    assert len(attempts) == 2  # first try, then the redelivery
    ((_, props, got),) = amqp_names.get_all(dead_queue)
    assert got == body
    assert props.message_id == mid
    assert props.headers["x-death-queue"] == amqp_names.system("HES")
    assert "ValueError: meter 42 is on fire" in props.headers["x-death-reason"]
    assert amqp_names.depth(amqp_names.system("HES")) == 0


def test_prefetch_bounds_unacked_deliveries(amqp_names: AmqpNames) -> None:
    """REL-3: with prefetch 3 a consumer never holds more than 3 deliveries, even with 8
    worker threads free; the rest wait in the durable queue."""
    release = threading.Event()
    lock = threading.Lock()
    holding = [0, 0]  # now, max

    def slow(body: bytes) -> None:
        with lock:
            holding[0] += 1
            holding[1] = max(holding[1], holding[0])
        release.wait(10)
        with lock:
            holding[0] -= 1
        return None

    client = AmqpClient(
        amqp_names.url,
        "MDMS",
        queue=amqp_names.system("MDMS"),
        prefetch=3,
        workers=8,
        **amqp_names.client_kwargs(),
    )
    try:
        client.serve(slow)
        topo = client.topology
        exchange, key = topo.route(amqp_names.system("MDMS"), "created", "MeterReadings")
        props = WireFields(verb="created", noun="MeterReadings").to_properties()
        client.publisher.publish_many([Publish(exchange, key, b"<x/>", props)] * 20)
        time.sleep(0.5)
        assert holding[1] == 3
        assert amqp_names.depth(amqp_names.system("MDMS")) == 17
        release.set()
        deadline = time.monotonic() + 10
        while amqp_names.depth(amqp_names.system("MDMS")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert amqp_names.depth(amqp_names.system("MDMS")) == 0
    finally:
        release.set()
        client.close()
