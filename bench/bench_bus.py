"""Bus benchmark (BUS-4, BUS-5; not a timed test). Prints ratios against baselines measured in
the same run:

* SOAP: a 2 KB CreatedMeterReadings through cimbus (parse, header check, XSD validation,
  de-duplication, route (fan-out via the outbox), audit (two ledger rows), reply) against a bare
  FastAPI echo of the same body on the same uvicorn setup. Target >= 0.5x. For context it also
  measures a naive FastAPI handler that binds the body with xsdata and serialises a reply.
  Each server runs in a process of its own (``--serve KIND``; cimbus built like ``cimbus
  serve`` builds it), the load generator (keep-alive clients in threads) in this one; per
  request it prints the CPU the server process and the load generator used. The old layout
  (servers and clients in one process) is measured too, for comparison.
* AMQP: routed throughput (client -> cimbus.in -> cimbus -> subscriber queue) against raw pika
  persistent publish + consume of the same bodies through one queue. Target >= 0.5x.
  Needs RabbitMQ on 127.0.0.1:5672 (skipped with a note when it is not running).

    python bench/bench_bus.py [--seconds 5] [--concurrency 8] [--amqp-messages 5000]
                              [--client http.client|httpx] [--no-old-layout] [--no-amqp]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from fastapi import FastAPI, Request, Response
from lxml import etree

from bench._tmp import scratch_dir
from cim_models.build import build_message
from endpoints.embedded import EmbeddedBroker, EmbeddedTransport
from endpoints.soap import create_app
from endpoints.soap.server import ServerThread
from routing.bus import Bus
from routing.config import Config

MR = "http://iec.ch/TC57/2011/MeterReadings#"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
ACTION = "http://iec.ch/TC57/2011/MeterReadings/CreatedMeterReadings"
CLIENT = "http.client"  # the load generator's HTTP client (--client)


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


def load(
    url: str,
    bodies: list[bytes],
    seconds: float,
    concurrency: int,
    stats: dict[str, float] | None = None,
) -> float:
    """Requests per second with ``concurrency`` keep-alive clients for ``seconds``
    (``stats["requests"]``: how many were answered)."""
    stop = time.monotonic() + seconds
    counts = [0] * concurrency
    errors: list[str] = []
    next_index = iter(range(10**9))
    lock = threading.Lock()

    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ACTION}"'}

    def worker(i: int) -> None:
        if CLIENT == "http.client":  # a lighter load generator (stdlib, keep-alive)
            parts = urlsplit(url)
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                while time.monotonic() < stop:
                    with lock:
                        k = next(next_index)
                    if k >= len(bodies):
                        return
                    conn.request("POST", parts.path, body=bodies[k], headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    if resp.status != 200:
                        errors.append(f"{resp.status}: {data[:200]!r}")
                        return
                    counts[i] += 1
            finally:
                conn.close()
            return
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < stop:
                with lock:
                    k = next(next_index)
                if k >= len(bodies):
                    return
                r = client.post(url, content=bodies[k], headers=headers)
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
    if stats is not None:
        stats["requests"] = sum(counts)
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


def _soap_config(store_url: str) -> dict:
    return {
        "store": {"url": store_url},
        "systems": {"MDMS": {"transport": "embedded"}},
        "subscriptions": [{"verb": "created", "noun": "MeterReadings", "subscribers": ["MDMS"]}],
    }


PATHS = {"echo": "/echo", "cimbus": "/ws/ReceiveMeterReadings", "naive": "/naive2"}


def serve(kind: str, mapping: dict) -> None:
    """One server as its own process (``python bench/bench_bus.py --serve KIND JSON``), the
    same way for all three: uvicorn, one server, no worker processes. cimbus is built as
    ``cimbus serve`` builds it (``cimbus.runtime.Runtime``: Bus, embedded transport for the
    MDMS subscriber, outbox worker; the SOAP app on its bus). Prints the URL, serves until
    stdin closes, then prints the ledger row count."""
    runtime = None
    if kind == "cimbus":
        from cimbus.runtime import Runtime, settle_heap

        cfg = Config.from_mapping(mapping)
        runtime = Runtime(cfg).start()
        app = create_app(runtime.bus, cfg.soap)
        settle_heap()  # as cimbus serve does
    else:
        app = echo_app() if kind == "echo" else naive_app()
    server = ServerThread(app).start()
    print(server.url + PATHS[kind], flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    # which thread is which, for the per-thread CPU the bench prints (ids are per process)
    threads = {str(t.native_id): t.name for t in threading.enumerate()}
    server.stop()
    stats: dict[str, object] = {"rows": 0, "batches": 0, "threads": threads}
    if runtime is not None:
        runtime.stop()
        stats["rows"] = len(runtime.bus.store.audit(limit=10**6))
        stats["batches"] = app.state.batcher.batches if app.state.batcher else 0
    print(json.dumps(stats), flush=True)


def _cpu_seconds(pid: int | str = "self") -> float:
    """CPU time (user + system) of a process so far, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def _thread_ticks(pid: int) -> dict[int, int]:
    """CPU ticks (user + system) of every thread of a process so far, by native thread id."""
    ticks: dict[int, int] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return ticks
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ticks[int(tid)] = int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return ticks


class _Child:
    def __init__(self, kind: str, mapping: dict) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", kind, json.dumps(mapping)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http"):
            self.proc.kill()
            raise SystemExit(f"the {kind} server did not start: {line!r}")
        self.url = line

    def stop(self) -> dict[str, int]:
        out, _ = self.proc.communicate("", timeout=60)
        return json.loads(out.strip().splitlines()[-1])


#: the server's CPU per request per thread (native id -> ms) of the last _measure with a pid
_LAST_THREADS: dict[int, float] = {}


def _measure(url: str, bodies: list[bytes], seconds: float, concurrency: int, pid: int | None):
    """(req/s, server CPU ms per request, load generator CPU ms per request); the server's
    CPU per request per thread is left in ``_LAST_THREADS``."""
    own0, srv0 = _cpu_seconds(), _cpu_seconds(pid) if pid else float("nan")
    threads0 = _thread_ticks(pid) if pid else {}
    stats: dict[str, float] = {}
    rps = load(url, bodies, seconds, concurrency, stats)
    n = stats["requests"]
    own = (_cpu_seconds() - own0) / n * 1000
    srv = ((_cpu_seconds(pid) - srv0) / n * 1000) if pid else float("nan")
    _LAST_THREADS.clear()
    if pid:
        hz = os.sysconf("SC_CLK_TCK")
        for tid, ticks in _thread_ticks(pid).items():
            _LAST_THREADS[tid] = (ticks - threads0.get(tid, 0)) / hz / n * 1000
    return rps, srv, own


def bench_soap(seconds: float, concurrency: int, *, own_process: bool = True) -> float:
    """The three servers, measured one after the other with the same load generator.

    ``own_process`` (the default, as deployed): each server runs in a process of its own
    (:func:`serve`), the load generator (8 httpx clients) in this one. With False, the
    servers and the clients share this process (the layout before issue 3's last round),
    printed for comparison."""
    tmp = scratch_dir("cimbus-bench-")
    mapping = _soap_config(f"sqlite:///{tmp}/bench.db")
    n = int(20000 * seconds / 5) + 2000
    bodies = make_bodies(n)
    size = len(bodies[0])
    results: dict[str, tuple[float, float, float]] = {}
    audited = batches = 0
    cimbus_threads: dict[int, float] = {}
    per_thread: list[tuple[float, str]] = []
    if own_process:
        children = {kind: _Child(kind, mapping) for kind in ("cimbus", "echo", "naive")}
        try:
            for kind, child in children.items():  # warm-up (imports, schemas, connections)
                load(child.url, bodies[:50] if kind == "cimbus" else bodies[-50:], 2, 2)
            for kind in ("echo", "cimbus", "naive"):
                child = children[kind]
                work = bodies[50:] if kind == "cimbus" else bodies
                results[kind] = _measure(child.url, work, seconds, concurrency, child.proc.pid)
                if kind == "cimbus":
                    cimbus_threads = dict(_LAST_THREADS)
        finally:
            for kind, child in children.items():
                stats = child.stop()
                if kind == "cimbus":
                    audited, batches = stats["rows"], stats["batches"]
                    names = {int(k): v for k, v in stats.get("threads", {}).items()}
                    per_thread = sorted(
                        (
                            (ms, names.get(tid, f"thread {tid}"))
                            for tid, ms in cimbus_threads.items()
                        ),
                        reverse=True,
                    )
        layout = "each server in its own process, clients in the bench process"
    else:
        cfg = Config.from_mapping(mapping)
        bus = Bus(cfg).start(outbox=os.environ.get("BENCH_NO_OUTBOX") != "1")
        broker = EmbeddedBroker(max_length=10**7)
        transport = EmbeddedTransport(bus, broker).start()
        servers = {
            "cimbus": ServerThread(create_app(bus, cfg)).start(),
            "echo": ServerThread(echo_app()).start(),
            "naive": ServerThread(naive_app()).start(),
        }
        try:
            for kind, server in servers.items():
                load(server.url + PATHS[kind], bodies[:50], 2, 2)
            for kind in ("echo", "cimbus", "naive"):
                work = bodies[50:] if kind == "cimbus" else bodies
                results[kind] = _measure(
                    servers[kind].url + PATHS[kind], work, seconds, concurrency, None
                )
        finally:
            for s in servers.values():
                s.stop()
            transport.stop()
            bus.stop()
        audited = len(bus.store.audit(limit=10**6))
        layout = "servers and clients in ONE process (the old layout)"
    echo_rps = results["echo"][0]
    print(
        f"SOAP CreatedMeterReadings ({size} bytes), {concurrency} keep-alive clients, "
        f"{seconds:g} s each; {layout}"
    )
    names = {
        "echo": "bare FastAPI echo",
        "cimbus": "cimbus (validate+audit+route+reply)",
        "naive": "naive FastAPI + xsdata",
    }
    for kind in ("echo", "cimbus", "naive"):
        rps, srv, own = results[kind]
        cpu = f"CPU/req: server {srv:.2f} ms, clients {own:.2f} ms" if own_process else ""
        extra = ""
        if kind == "cimbus":
            per_batch = f", {audited / 2 / batches:.1f} messages per batch" if batches else ""
            extra = f"   ({audited} ledger rows{per_batch})"
        print(f"  {names[kind]:<36}{rps:>7,.0f} req/s  {rps / echo_rps:.2f}x   {cpu}{extra}")
        if kind == "cimbus" and per_thread:
            busy = ", ".join(
                f"{'event loop' if name.startswith('soap-') else name} {ms:.2f}"
                for ms, name in per_thread
                if ms >= 0.005
            )
            print(f"  {'':<36}cimbus server CPU per request by thread (ms): {busy}")
    ratio = results["cimbus"][0] / echo_rps
    if own_process:
        print(f"  target cimbus >= 0.5x echo: {'met' if ratio >= 0.5 else 'MISSED'} ({ratio:.2f}x)")
    return ratio


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--amqp-messages", type=int, default=5000)
    ap.add_argument("--no-old-layout", action="store_true", help="skip the one-process run")
    ap.add_argument("--no-amqp", action="store_true", help="the SOAP half only")
    ap.add_argument(
        "--client",
        choices=["http.client", "httpx"],
        default="http.client",
        help="the load generator's HTTP client (default http.client: stdlib, light enough not"
        " to bind the echo baseline; httpx costs ~1 ms of CPU per request and makes every"
        " server look alike)",
    )
    args = ap.parse_args()
    global CLIENT
    CLIENT = args.client
    soap_ratio = bench_soap(args.seconds, args.concurrency)
    if not args.no_old_layout:
        bench_soap(args.seconds, args.concurrency, own_process=False)
    ok = soap_ratio >= 0.5
    try:
        from bench.bench_bus_amqp import bench_amqp
    except ImportError:
        bench_amqp = None
    if bench_amqp is not None and not args.no_amqp:
        ok = bench_amqp(args.amqp_messages) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--serve":
        serve(sys.argv[2], json.loads(sys.argv[3]))
    else:
        raise SystemExit(main())
