"""AMQP half of the bus benchmark (BUS-5; not a timed test).

Baseline: raw pika, N persistent messages published to one durable queue and consumed with
manual acks by a second connection (time until the last is consumed). cimbus: the same bodies
(CreatedMeterReadings) sent by a client to ``cimbus.in``; cimbus parses, validates, de-duplicates,
audits, fans each one out through its outbox with batched publisher confirms to a subscriber
queue, where a raw consumer acks them (time until the last arrives). Ratio = cimbus / raw.
"""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from pathlib import Path

import pika

from cim_models.build import build_message
from routing.bus import Bus
from routing.config import Config

URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def _consume(queue: str, expected: int, done: threading.Event, seen: list[int]) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(URL))
    ch = conn.channel()
    ch.basic_qos(prefetch_count=500)

    def on_message(channel, method, properties, body) -> None:
        seen[0] += 1
        channel.basic_ack(method.delivery_tag)
        if seen[0] >= expected:
            done.set()
            channel.stop_consuming()

    ch.basic_consume(queue, on_message)
    try:
        ch.start_consuming()
    finally:
        conn.close()


def raw_pika(bodies: list[bytes]) -> float:
    queue = f"bench.raw.{uuid.uuid4().hex[:8]}"
    conn = pika.BlockingConnection(pika.URLParameters(URL))
    ch = conn.channel()
    ch.queue_declare(queue, durable=True)
    done, seen = threading.Event(), [0]
    consumer = threading.Thread(target=_consume, args=(queue, len(bodies), done, seen), daemon=True)
    consumer.start()
    props = pika.BasicProperties(delivery_mode=2, content_type="application/xml")
    t0 = time.perf_counter()
    for body in bodies:
        ch.basic_publish("", queue, body, props)
    done.wait(300)
    elapsed = time.perf_counter() - t0
    ch.queue_delete(queue)
    conn.close()
    return len(bodies) / elapsed


def through_cimbus(bodies: list[bytes]) -> tuple[float, dict[str, int]]:
    from endpoints.amqp import AmqpClient, AmqpTransport

    prefix = f"bench{uuid.uuid4().hex[:6]}"
    tmp = Path(tempfile.mkdtemp(prefix="cimbus-bench-amqp-"))
    amqp = {
        "enabled": True,
        "url": URL,
        "exchange": prefix,
        "inbound_queue": f"{prefix}.in",
        "dead_letter_exchange": f"{prefix}.dlx",
        "confirm_batch": 500,
    }
    cfg = Config.from_mapping(
        {
            "store": {"url": f"sqlite:///{tmp}/bench.db"},
            "amqp": amqp,
            "systems": {
                "HES": {"transport": "amqp", "address": f"{prefix}.system.HES"},
                "MDMS": {"transport": "amqp", "address": f"{prefix}.system.MDMS"},
            },
            "subscriptions": [
                {"verb": "created", "noun": "MeterReadings", "subscribers": ["MDMS"]}
            ],
        }
    )
    bus = Bus(cfg).start()
    transport = AmqpTransport(bus, cfg.amqp).start()
    sender = AmqpClient(
        URL,
        "HES",
        queue=f"{prefix}.system.HES",
        exchange=prefix,
        inbound=f"{prefix}.in",
        dead_letter_exchange=f"{prefix}.dlx",
    )
    done, seen = threading.Event(), [0]
    consumer = threading.Thread(
        target=_consume, args=(f"{prefix}.system.MDMS", len(bodies), done, seen), daemon=True
    )
    consumer.start()
    t0 = time.perf_counter()
    for body in bodies:
        sender.send(body)
    ok = done.wait(600)
    elapsed = time.perf_counter() - t0
    counts = bus.store.outbox_counts()
    sender.close()
    transport.stop()
    bus.stop()
    conn = pika.BlockingConnection(pika.URLParameters(URL))
    ch = conn.channel()
    for q in (
        f"{prefix}.in",
        f"{prefix}.system.HES",
        f"{prefix}.system.MDMS",
        f"{prefix}.in.dead",
        f"{prefix}.system.HES.dead",
        f"{prefix}.system.MDMS.dead",
    ):
        try:
            ch.queue_delete(q)
        except Exception:
            ch = conn.channel()
    conn.close()
    if not ok:
        raise SystemExit(f"cimbus delivered only {seen[0]} of {len(bodies)} messages")
    return len(bodies) / elapsed, counts


def bench_amqp(n: int) -> bool:
    try:
        pika.BlockingConnection(pika.URLParameters(URL)).close()
    except Exception as exc:
        print(f"AMQP: RabbitMQ not reachable at {URL} ({type(exc).__name__}); skipped")
        return True
    from bench.bench_bus import readings_payload

    payload = readings_payload()
    bodies = [
        build_message(
            "created",
            "MeterReadings",
            message_id=str(uuid.uuid4()),
            source="HES",
            payload=[payload],
        )
        for _ in range(n)
    ]
    raw = raw_pika(bodies)
    routed, counts = through_cimbus(bodies)
    ratio = routed / raw
    print(f"AMQP CreatedMeterReadings ({len(bodies[0])} bytes) x {n}")
    print(f"  raw pika persistent publish + consume   {raw:>8,.0f} msg/s   1.00x")
    print(
        f"  routed through cimbus (outbox, confirms) {routed:>8,.0f} msg/s   {ratio:.2f}x   outbox {counts}"
    )
    print(f"  target cimbus >= 0.5x raw: {'met' if ratio >= 0.5 else 'MISSED'} ({ratio:.2f}x)")
    return ratio >= 0.5
