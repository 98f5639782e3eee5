"""The bus over RabbitMQ (BUS-5, BUS-7, REL-2): what only AMQP has (the transport-neutral
scenarios run on AMQP from test_bus_transports.py itself):

* the topology (exchanges, durable queues, DLX, the worker's exclusive reply queue) is declared
  at start, and cimbus's reply carries the AMQP properties (correlation_id = the request's
  MessageID, persistent, type = reply + noun);
* a message whose handling fails inside cimbus is requeued once, then dead-lettered in
  ``cimbus.in.dead`` with the reason; a FAILED reply is not a failure (acked, nothing dead).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import TYPE_CHECKING

import pika
import pytest

from cim_models.build import build_message
from endpoints.amqp import AmqpClient
from endpoints.amqp._publisher import Publish
from endpoints.amqp.properties import WireFields
from tests.integration import test_bus_transports as scenarios

if TYPE_CHECKING:
    from tests.integration.amqp_fixtures import AmqpNames
    from tests.integration.harness import Harness

pytest_plugins = ["tests.integration.amqp_fixtures"]
pytestmark = pytest.mark.broker


@pytest.fixture
def h(amqp_harness: Harness) -> Harness:
    return amqp_harness


def test_topology_is_declared_at_start(h: Harness, amqp_names: AmqpNames) -> None:
    transport = h.transport
    conn = amqp_names.connection()
    try:
        for q in transport.topology.queues:
            if q.exclusive:
                continue  # owned by the transport's reply connection
            ch = conn.channel()
            ch.queue_declare(q.name, passive=True)  # raises (404) when missing
        for e in transport.topology.exchanges:
            conn.channel().exchange_declare(e.name, passive=True)
        # the exclusive reply queue exists, and is locked to its owner
        ch = conn.channel()
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as exc:
            ch.queue_declare(transport.sync_reply_queue, passive=True)
        assert exc.value.reply_code == 405  # RESOURCE_LOCKED, not 404
    finally:
        conn.close()
    assert transport.sync_reply_queue == f"{amqp_names.exchange}.reply.{h.bus.worker_id}"
    assert transport.reply_address(sync=True) == transport.sync_reply_queue
    assert transport.reply_address(sync=False) == amqp_names.inbound
    assert f"{amqp_names.system('HES')}.*.*" in transport.topology.render()


def test_reply_properties_are_correlated(h: Harness, amqp_names: AmqpNames) -> None:
    """What cimbus puts on the wire for its reply: read it raw from the requester's queue."""
    reply_queue = f"{amqp_names.prefix}.raw.reply"
    amqp_names.extra.append(reply_queue)
    conn = amqp_names.connection()
    try:
        ch = conn.channel()
        ch.queue_declare(reply_queue, durable=True)
        mid = str(uuid.uuid4())
        body = build_message("delete", "MeterReadings", message_id=mid, source="CIS")
        fields = WireFields.from_body(body, reply_to=reply_queue)
        ch.basic_publish(
            amqp_names.exchange,
            f"{amqp_names.inbound}.delete.MeterReadings",
            body,
            fields.to_properties(),
        )
        deadline = time.monotonic() + 10
        got = None
        while got is None and time.monotonic() < deadline:
            method, props, reply = ch.basic_get(reply_queue, auto_ack=True)
            if method is None:
                time.sleep(0.05)
            else:
                got = props, reply
    finally:
        conn.close()
    assert got is not None, "no reply from cimbus"
    props, reply = got
    assert props.correlation_id == mid
    assert props.delivery_mode == 2
    assert props.type == "replyMeterReadings"
    assert props.headers["verb"] == "reply" and props.headers["result"] == "FAILED"
    assert props.headers["source"] == h.bus.name
    assert props.message_id and props.message_id != mid
    assert b"<msg:Result>FAILED</msg:Result>" in reply


def test_internal_failure_is_requeued_once_then_dead_lettered(
    h: Harness, amqp_names: AmqpNames
) -> None:
    """A fault inside cimbus (not bad input: that is a FAILED reply) -> nack + requeue, then on
    the redelivery -> ``cimbus.in.dead`` with x-death-reason; the requester hears nothing."""
    calls: list[bool] = []
    real = h.bus.handle

    def broken(raw: bytes, **kw):
        if b"poison" in raw:
            calls.append(kw["meta"]["redelivered"])
            raise RuntimeError("store unreachable")
        return real(raw, **kw)

    h.bus.handle = broken  # type: ignore[method-assign]
    mid = f"poison-{uuid.uuid4()}"
    h.client("CIS").send(build_message("created", "EndDeviceEvents", message_id=mid, source="HES"))
    dead = f"{amqp_names.inbound}.dead"
    deadline = time.monotonic() + 10
    while amqp_names.depth(dead) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls == [False, True]
    ((_, props, body),) = amqp_names.get_all(dead)
    assert props.message_id == mid
    assert props.headers["x-death-queue"] == amqp_names.inbound
    assert props.headers["x-death-reason"] == (
        "cimbus failed again: RuntimeError: store unreachable"
    )
    assert mid.encode() in body
    # bad input is not poison: it is answered FAILED and acked
    reply = h.client("CIS").request(b"<not-a-cim-message/>", timeout=10)
    assert b"FAILED" in reply
    assert amqp_names.depth(dead) == 0


def test_concurrent_sync_requests_share_the_workers(h: Harness) -> None:
    """Several sync requests in flight at once: each waits in a worker of cimbus.in while the
    replies come in on the worker's own reply connection."""

    def hes(body: bytes) -> bytes:
        time.sleep(0.2)
        return scenarios._reply_to(body, system="HES")

    h.client("HES").workers = 4
    h.client("HES").serve(hes)
    results: dict[str, bytes] = {}
    cis = h.client("CIS")

    def ask(mid: str) -> None:
        results[mid] = cis.request(
            build_message("get", "MeterReadings", message_id=mid, source="CIS"), timeout=15
        )

    ids = [str(uuid.uuid4()) for _ in range(4)]
    threads = [threading.Thread(target=ask, args=(mid,)) for mid in ids]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    elapsed = time.monotonic() - t0
    assert set(results) == set(ids)
    for mid, reply in results.items():
        assert scenarios.codec.parse(reply).header()["CorrelationID"] == mid
    assert elapsed < 0.7, f"requests were served one after the other ({elapsed:.2f} s)"


def test_publish_straight_to_a_system_queue_with_the_client(amqp_names: AmqpNames) -> None:
    """Two AmqpClients without cimbus: serve() answers reply_to with correlation_id = the
    request's message_id (the wire contract cimbus relies on)."""
    hes = AmqpClient(
        amqp_names.url, "HES", queue=amqp_names.system("HES"), **amqp_names.client_kwargs()
    )
    cis = AmqpClient(
        amqp_names.url, "CIS", queue=amqp_names.system("CIS"), **amqp_names.client_kwargs()
    )
    try:
        hes.serve(lambda body: scenarios._reply_to(body, system="HES"))
        got: list[tuple[str | None, bytes]] = []
        done = threading.Event()

        def inbox(body: bytes) -> None:
            got.append((None, body))
            done.set()

        cis.serve(inbox)
        mid = str(uuid.uuid4())
        body = build_message("get", "MeterReadings", message_id=mid, source="CIS")
        fields = WireFields.from_body(body, reply_to=amqp_names.system("CIS"))
        exchange, key = hes.topology.route(amqp_names.system("HES"), "get", "MeterReadings")
        cis.publisher.publish(Publish(exchange, key, body, fields.to_properties()))
        assert done.wait(10)
        assert scenarios.codec.parse(got[0][1]).header()["CorrelationID"] == mid
    finally:
        hes.close()
        cis.close()
