"""Bus benchmark (BUS-4, BUS-5; not a timed test). Prints ratios against baselines measured in
the same run:

* SOAP: a 2 KB CreatedMeterReadings through cimbus (parse, header check, XSD validation,
  de-duplication, route (fan-out via the outbox), audit (two ledger rows), reply) against a bare
  FastAPI echo of the same body on the same uvicorn setup. Target >= 0.5x. For context it also
  measures a naive FastAPI handler that binds the body with xsdata and serialises a reply.
* AMQP: routed throughput (client -> cimbus.in -> cimbus -> subscriber queue) against raw pika
  persistent publish + consume of the same bodies through one queue. Target >= 0.5x.
  Needs RabbitMQ on 127.0.0.1:5672 (skipped with a note when it is not running).

    python bench/bench_bus.py [--seconds 5] [--concurrency 8] [--amqp-messages 5000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from fastapi import FastAPI, Request, Response
from lxml import etree

from cim_models.build import build_message
from endpoints.embedded import EmbeddedBroker, EmbeddedTransport
from endpoints.soap import create_app
from endpoints.soap.server import ServerThread
from routing.bus import Bus
from routing.config import Config

MR = "http://iec.ch/TC57/2011/MeterReadings#"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
ACTION = "http://iec.ch/TC57/2011/MeterReadings/CreatedMeterReadings"


def readings_payload(n: int = 12) -> etree._Element:
    rows = "".join(
        f"<IntervalReadings><timeStamp>2026-11-01T{i // 4:02d}:{15 * (i % 4):02d}:00Z</timeStamp>"
        f"<value>{0.25 + i / 10:.3f}</value></IntervalReadings>"
        for i in range(n)
    )
    return etree.fromstring(
        f'<MeterReadings xmlns="{MR}"><MeterReading><IntervalBlocks>{rows}'
        f'<ReadingType ref="0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"/></IntervalBlocks>'
        f"<Meter><mRID>MTR00001234</mRID></Meter><UsagePoint><mRID>10443720001234567</mRID></UsagePoint>"
        f"</MeterReading></MeterReadings>".encode()
    )


def soap_body(message: bytes) -> bytes:
    inner = message.split(b"?>", 1)[1] if message.startswith(b"<?xml") else message
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP}"><soapenv:Body>'.encode()
        + inner
        + b"</soapenv:Body></soapenv:Envelope>"
    )


def make_bodies(n: int) -> list[bytes]:
    payload = readings_payload()
    return [
        soap_body(
            build_message(
                "created",
                "MeterReadings",
                message_id=str(uuid.uuid4()),
                source="TDSP-HES",
                payload=[payload],
            )
        )
        for _ in range(n)
    ]


def load(url: str, bodies: list[bytes], seconds: float, concurrency: int) -> float:
    """Requests per second with ``concurrency`` keep-alive clients for ``seconds``."""
    stop = time.monotonic() + seconds
    counts = [0] * concurrency
    errors: list[str] = []
    next_index = iter(range(10**9))
    lock = threading.Lock()

    def worker(i: int) -> None:
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < stop:
                with lock:
                    k = next(next_index)
                if k >= len(bodies):
                    return
                r = client.post(
                    url,
                    content=bodies[k],
                    headers={
                        "Content-Type": "text/xml; charset=utf-8",
                        "SOAPAction": f'"{ACTION}"',
                    },
                )
                if r.status_code != 200:
                    errors.append(f"{r.status_code}: {r.text[:200]}")
                    return
                counts[i] += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    if errors:
        raise SystemExit(f"benchmark request failed: {errors[0]}")
    return sum(counts) / elapsed


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="text/xml")

    return app


def naive_app() -> FastAPI:
    """What a first attempt looks like: xsdata parses the body itself, serialises a reply."""
    from xsdata.formats.dataclass.parsers import XmlParser
    from xsdata.formats.dataclass.serializers import XmlSerializer

    from cim_models.codec import load_generated

    load_generated()
    from cim_models.generated.message import HeaderType, ReplyType
    from cim_models.generated.meter_readings_message import (
        CreatedMeterReadings,
        MeterReadingsResponseMessage,
    )

    parser, serializer = XmlParser(), XmlSerializer()
    app = FastAPI()

    @app.post("/naive2")
    async def naive2(request: Request) -> Response:
        data = await request.body()
        root = etree.fromstring(data)
        msg = parser.parse(root[0][0], CreatedMeterReadings)
        reply = MeterReadingsResponseMessage(
            header=HeaderType(
                verb="reply", noun="MeterReadings", correlation_id=msg.header.message_id
            ),
            reply=ReplyType(result="OK"),
        )
        return Response(soap_body(serializer.render(reply).encode()), media_type="text/xml")

    return app


def bench_soap(seconds: float, concurrency: int) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="cimbus-bench-"))
    cfg = Config.from_mapping(
        {
            "store": {"url": f"sqlite:///{tmp}/bench.db"},
            "systems": {"MDMS": {"transport": "embedded"}},
            "subscriptions": [
                {"verb": "created", "noun": "MeterReadings", "subscribers": ["MDMS"]}
            ],
        }
    )
    bus = Bus(cfg).start(outbox=os.environ.get("BENCH_NO_OUTBOX") != "1")
    broker = EmbeddedBroker(max_length=10**7)
    transport = EmbeddedTransport(bus, broker).start()
    n = int(20000 * seconds / 5) + 2000
    bodies = make_bodies(n)
    size = len(bodies[0])
    cimbus = ServerThread(create_app(bus, cfg)).start()
    echo = ServerThread(echo_app()).start()
    naive = ServerThread(naive_app()).start()
    try:
        # warm-up both (imports, schema compilation, connection pools)
        load(f"{cimbus.url}/ws/ReceiveMeterReadings", bodies[:50], 2, 2)
        load(f"{echo.url}/echo", bodies[:50], 2, 2)
        load(f"{naive.url}/naive2", bodies[:50], 2, 2)
        echo_rps = load(f"{echo.url}/echo", bodies, seconds, concurrency)
        cimbus_rps = load(
            f"{cimbus.url}/ws/ReceiveMeterReadings", bodies[50:], seconds, concurrency
        )
        naive_rps = load(f"{naive.url}/naive2", bodies, seconds, concurrency)
    finally:
        for s in (cimbus, echo, naive):
            s.stop()
        transport.stop()
        bus.stop()
    audited = len(bus.store.audit(limit=10**6))
    print(
        f"SOAP CreatedMeterReadings ({size} bytes), {concurrency} keep-alive clients, {seconds:g} s each"
    )
    print(f"  bare FastAPI echo          {echo_rps:>8,.0f} req/s   1.00x")
    print(
        f"  cimbus (validate+audit+route+reply) {cimbus_rps:>8,.0f} req/s   {cimbus_rps / echo_rps:.2f}x"
        f"   ({audited} ledger rows)"
    )
    print(f"  naive FastAPI + xsdata     {naive_rps:>8,.0f} req/s   {naive_rps / echo_rps:.2f}x")
    ratio = cimbus_rps / echo_rps
    print(f"  target cimbus >= 0.5x echo: {'met' if ratio >= 0.5 else 'MISSED'} ({ratio:.2f}x)")
    return ratio


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--amqp-messages", type=int, default=5000)
    args = ap.parse_args()
    soap_ratio = bench_soap(args.seconds, args.concurrency)
    ok = soap_ratio >= 0.5
    try:
        from bench.bench_bus_amqp import bench_amqp
    except ImportError:
        bench_amqp = None
    if bench_amqp is not None:
        ok = bench_amqp(args.amqp_messages) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
