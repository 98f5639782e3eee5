"""AMQP half of the bus benchmark (BUS-5; not a timed test).

Baseline: raw pika, N persistent messages published to one durable queue and consumed with
manual acks by a second connection (time until the last is consumed). Also measured: a bare
pika relay in its own process (consume, republish persistently to a second queue with
publisher confirms, ack what the broker confirmed), i.e. the second durable hop any
at-least-once router pays, with no router code: the ceiling for cimbus on the machine. cimbus: the same bodies
(CreatedMeterReadings) sent by a client to ``cimbus.in``; cimbus parses, validates, de-duplicates,
audits, fans each one out through its outbox with batched publisher confirms to a subscriber
queue, where a raw consumer acks them (time until the last arrives). Ratio = cimbus / raw.

The sender publishes exactly like the baseline (no confirms); cimbus runs in a process of its
own, as deployed (``--serve``), while sender and consumer share this process like the
baseline's; the number with cimbus inside this process is printed for comparison.

    python bench/bench_bus_amqp.py [N]     (N messages per run, default 5000; --help)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pika

if __package__ in (None, ""):  # run as a script (also as cimbus's own process, --serve)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_bus import _thread_ticks
from cim_models.build import build_message
from cimbus.runtime import settle_heap
from endpoints.amqp.properties import WireFields
from routing.bus import Bus
from routing.config import Config

URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def _process_ticks(pid: int) -> int:
    """CPU ticks (user + system, all threads) a process has used so far; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def _broker_pids() -> list[int]:
    """RabbitMQ's processes on this machine: its Erlang VM (``beam.smp``)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() == "beam.smp":
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def _machine_ticks() -> tuple[int, int, int]:
    """(busy, stolen, all) CPU ticks of the whole machine so far, from /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0, 0
    values += [0] * (8 - len(values))
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return user + nice + system + irq + softirq, steal, sum(values[:8])


class CpuMeter:
    """Where the CPU went during one measurement: this process (the load generator: sender
    and receiving system), RabbitMQ, the given child processes (cimbus), and how busy the
    whole machine was. Linux /proc only; elsewhere everything reads 0."""

    def __init__(self, children: list[int] | None = None) -> None:
        self.children = list(children or [])
        self.seconds: dict[str, float] = {}
        self.machine_busy = self.machine_stolen = 0.0  # shares of all CPUs' time

    def _snapshot(self) -> dict[str, int]:
        return {
            "load generator": _process_ticks(os.getpid()),
            "RabbitMQ": sum(_process_ticks(pid) for pid in self._brokers),
            "cimbus": sum(_process_ticks(pid) for pid in self.children),
        }

    def __enter__(self) -> CpuMeter:
        self._brokers = _broker_pids()
        self._before = self._snapshot()
        self._machine = _machine_ticks()
        return self

    def __exit__(self, *exc: object) -> None:
        after = self._snapshot()
        busy, stolen, total = (b - a for a, b in zip(self._machine, _machine_ticks(), strict=True))
        hz = os.sysconf("SC_CLK_TCK")
        self.seconds = {k: (after[k] - self._before[k]) / hz for k in after}
        if total > 0:
            self.machine_busy, self.machine_stolen = busy / total, stolen / total

    def per_message(self, n: int) -> dict[str, float]:
        """Microseconds of CPU per message by part (parts that used none left out)."""
        return {k: v / n * 1e6 for k, v in self.seconds.items() if v > 0}


def cpu_ceiling(us_per_message: float, cpus: int) -> float:
    """Messages per second ``cpus`` CPUs could carry at most at this CPU cost per message,
    if nothing ever waited (0 when nothing was measured)."""
    return cpus / us_per_message * 1e6 if us_per_message > 0 else 0.0


#: whole-machine CPU per message of the last raw_pika / one-worker through_cimbus run
LAST_CPU: dict[str, CpuMeter] = {}


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
    with CpuMeter() as meter:
        t0 = time.perf_counter()
        for body in bodies:
            ch.basic_publish("", queue, body, props)
        done.wait(300)
        elapsed = time.perf_counter() - t0
    LAST_CPU["raw"] = meter
    ch.queue_delete(queue)
    conn.close()
    return len(bodies) / elapsed


def serve_relay(source: str, target: str, expected: int) -> None:
    """A bare pika relay, the second durable hop any AMQP router pays, with the guarantee
    REL-1 needs and nothing else: consume ``source`` (manual acks, prefetch 500), republish
    each body persistently to ``target`` with publisher confirms, and ack the deliveries as
    the broker confirms their copies (one multiple-ack per confirm, as batched as RabbitMQ
    sends them). No parsing, no validation, no store."""
    props = pika.BasicProperties(delivery_mode=2, content_type="application/xml")
    opened: list = []  # the channel, once open

    def on_confirm(frame) -> None:
        # one channel, one publish per delivery, in order: publish sequence number n is the
        # copy of delivery tag n, so a confirm acks the deliveries up to the same number
        m = frame.method
        if isinstance(m, pika.spec.Basic.Nack):  # not taken: the originals go back
            opened[0].basic_nack(m.delivery_tag, multiple=m.multiple, requeue=True)
            return
        opened[0].basic_ack(m.delivery_tag, multiple=m.multiple)
        if m.delivery_tag >= expected:
            conn.close()

    def on_message(ch, method, properties, body) -> None:
        ch.basic_publish("", target, body, props)

    def on_channel(ch) -> None:
        opened.append(ch)
        ch.confirm_delivery(on_confirm)
        ch.basic_qos(prefetch_count=500)
        ch.basic_consume(source, on_message)
        print("READY", flush=True)

    conn = pika.SelectConnection(
        pika.URLParameters(URL),
        on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
        on_close_callback=lambda c, reason: c.ioloop.stop(),
    )
    conn.ioloop.start()


def raw_relay(bodies: list[bytes]) -> float:
    """Publisher -> durable queue -> relay (its own process, like cimbus) -> durable queue ->
    consumer; messages per second. What routing costs on this machine with no router code."""
    tag = uuid.uuid4().hex[:8]
    source, target = f"bench.relay.in.{tag}", f"bench.relay.out.{tag}"
    conn = pika.BlockingConnection(pika.URLParameters(URL))
    ch = conn.channel()
    for q in (source, target):
        ch.queue_declare(q, durable=True)
    relay = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--relay",
            source,
            target,
            str(len(bodies)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert relay.stdout is not None
    if relay.stdout.readline().strip() != "READY":
        relay.kill()
        raise SystemExit("the relay did not start")
    done, seen = threading.Event(), [0]
    consumer = threading.Thread(
        target=_consume, args=(target, len(bodies), done, seen), daemon=True
    )
    consumer.start()
    props = pika.BasicProperties(delivery_mode=2, content_type="application/xml")
    t0 = time.perf_counter()
    for body in bodies:
        ch.basic_publish("", source, body, props)
    ok = done.wait(300)
    elapsed = time.perf_counter() - t0
    relay.wait(timeout=30)
    for q in (source, target):
        ch.queue_delete(q)
    conn.close()
    if not ok:
        raise SystemExit(f"the relay delivered only {seen[0]} of {len(bodies)} messages")
    return len(bodies) / elapsed


def _cimbus_config(prefix: str, store_url: str) -> dict:
    return {
        "store": {"url": store_url},
        "amqp": {
            "enabled": True,
            "url": URL,
            "exchange": prefix,
            "inbound_queue": f"{prefix}.in",
            "dead_letter_exchange": f"{prefix}.dlx",
            "confirm_batch": 500,
        },
        "systems": {
            "HES": {"transport": "amqp", "address": f"{prefix}.system.HES"},
            "MDMS": {"transport": "amqp", "address": f"{prefix}.system.MDMS"},
        },
        "subscriptions": [{"verb": "created", "noun": "MeterReadings", "subscribers": ["MDMS"]}],
    }


def serve_cimbus(mapping: dict) -> None:
    """The cimbus side as its own process (``python bench/bench_bus_amqp.py --serve JSON``):
    Bus + AmqpTransport, as ``cimbus serve`` runs them. Prints READY, serves until stdin
    closes, then prints the outbox counts as JSON."""
    from endpoints.amqp import AmqpTransport

    cfg = Config.from_mapping(mapping)
    bus = Bus(cfg).start()
    transport = AmqpTransport(bus, cfg.amqp).start()
    settle_heap()  # as cimbus serve does
    print("READY", flush=True)
    sys.stdin.read()  # until the bench closes our stdin
    # which thread is which (the bench samples their CPU by native id; the worker id in the
    # names is dropped: one process, one worker)
    threads = {
        str(t.native_id): t.name.replace(f" {bus.worker_id}", "") for t in threading.enumerate()
    }
    counts = bus.store.outbox_counts()
    batches = transport._inbound.batches
    transport.stop()
    bus.stop()
    print(json.dumps({"outbox": counts, "threads": threads, "batches": batches}), flush=True)


PG_ADMIN = os.environ.get(
    "CIMBUS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextlib.contextmanager
def _postgres_store() -> Iterator[str | None]:
    """A fresh PostgreSQL database for one measurement (its URL), dropped afterwards; None
    when PostgreSQL does not answer."""
    import sqlalchemy as sa

    name = f"cimbus_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception:
        admin.dispose()
        yield None
        return
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


#: cimbus's CPU per message by thread (us, name) in the last one-worker through_cimbus run
LAST_THREADS: list[tuple[float, str]] = []
#: batches cimbus's inbound consumer handled in the last one-worker through_cimbus run
LAST_BATCHES: list[int] = []


def through_cimbus(
    bodies: list[bytes], *, own_process: bool = True, workers: int = 1, store_url: str | None = None
) -> tuple[float, dict[str, int]]:
    """Client -> cimbus.in -> cimbus -> MDMS queue -> consumer; messages per second.

    ``own_process``: cimbus runs in a process of its own, as deployed (``cimbus serve``); the
    sending and receiving systems share this process, exactly like the raw baseline's
    publisher and consumer. With False, cimbus runs in this process too and competes with the
    load generator for one GIL (every time cimbus releases it, for a parse or a SQLite call,
    it can wait a whole switch interval for the sender's loop)."""
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    tmp = Path(tempfile.mkdtemp(prefix="cimbus-bench-amqp-"))
    try:
        return _through_cimbus(
            bodies, prefix, tmp, own_process=own_process, workers=workers, store_url=store_url
        )
    finally:  # a benchmark leaves nothing behind: its store (~100 MB), exchanges and queues
        shutil.rmtree(tmp, ignore_errors=True)
        _delete_topology(prefix)


def _delete_topology(prefix: str) -> None:
    """Delete the exchanges and durable queues a run declared under ``prefix`` (the
    topology cimbus and its clients declare, built the same way)."""
    from endpoints.amqp.topology import Topology

    topology = Topology.build(
        exchange=prefix,
        dead_letter_exchange=f"{prefix}.dlx",
        inbound=f"{prefix}.in",
        systems=[(name, f"{prefix}.system.{name}") for name in ("HES", "MDMS")],
        worker_id="any",  # its reply queue's dead-letter queue is durable
    )
    try:
        conn = pika.BlockingConnection(pika.URLParameters(URL))
    except Exception as exc:
        print(f"(could not remove the benchmark's {prefix}.* topology: {exc})")
        return
    try:
        ch = conn.channel()
        for q in topology.queues:
            if not q.exclusive:
                ch.queue_delete(q.name)
        for e in topology.exchanges:
            ch.exchange_delete(e.name)
    finally:
        conn.close()


def _through_cimbus(
    bodies: list[bytes],
    prefix: str,
    tmp: Path,
    *,
    own_process: bool,
    workers: int,
    store_url: str | None,
) -> tuple[float, dict[str, int]]:
    from endpoints.amqp import AmqpClient

    mapping = _cimbus_config(prefix, store_url or f"sqlite:///{tmp}/bench.db")
    children: list[subprocess.Popen] = []
    bus = transport = None
    if own_process:
        for _ in range(workers):  # several workers: the same durable queues, one store
            child = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--serve", json.dumps(mapping)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            children.append(child)
            assert child.stdout is not None and child.stdin is not None
            line = child.stdout.readline()
            if line.strip() != "READY":
                for c in children:
                    c.kill()
                raise SystemExit(f"cimbus did not start: {line!r}")
    else:
        from endpoints.amqp import AmqpTransport

        cfg = Config.from_mapping(mapping)
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
    # The sender publishes exactly like the raw baseline (one BlockingChannel, persistent, no
    # confirms), with the properties and routing key AmqpClient would use, built before the clock
    # starts. (AmqpClient.send waits for a publisher confirm per message: ~760 msg/s and ~0.37 ms
    # of CPU per message in this process, which capped the old measurement below 0.13x.)
    wire = []
    for body in bodies:
        fields = WireFields.from_body(body)
        fields = fields if fields.source else replace(fields, source="HES")
        exchange, key = sender.topology.route(sender.topology.inbound, fields.verb, fields.noun)
        wire.append((exchange, key, body, fields.to_properties(app_id="HES")))
    pub = pika.BlockingConnection(pika.URLParameters(URL))
    pub_ch = pub.channel()
    done, seen = threading.Event(), [0]
    consumer = threading.Thread(
        target=_consume, args=(f"{prefix}.system.MDMS", len(bodies), done, seen), daemon=True
    )
    consumer.start()
    threads0 = _thread_ticks(children[0].pid) if len(children) == 1 else {}
    with CpuMeter([c.pid for c in children]) as meter:
        t0 = time.perf_counter()
        for exchange, key, body, props in wire:
            pub_ch.basic_publish(exchange, key, body, props)
        ok = done.wait(600)
        elapsed = time.perf_counter() - t0
    threads1 = _thread_ticks(children[0].pid) if threads0 else {}
    if threads0:
        LAST_CPU["cimbus"] = meter
    pub.close()
    sender.close()
    if children:
        for child in children:
            out, _ = child.communicate("", timeout=60)
        report = json.loads(out.strip().splitlines()[-1])
        counts = report["outbox"]  # the shared store's outbox
        if threads0:
            LAST_BATCHES[:] = [report.get("batches", 0)]
            hz = os.sysconf("SC_CLK_TCK")
            names = {int(k): v for k, v in report["threads"].items()}
            LAST_THREADS[:] = sorted(
                (
                    (
                        (ticks - threads0.get(tid, 0)) / hz / len(bodies) * 1e6,
                        names.get(tid, str(tid)),
                    )
                    for tid, ticks in threads1.items()
                ),
                reverse=True,
            )
    else:
        assert bus is not None and transport is not None
        counts = bus.store.outbox_counts()
        transport.stop()
        bus.stop()
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
    raw_before = raw_pika(bodies)
    raw_cpu = LAST_CPU.get("raw")
    relay = raw_relay(bodies)
    routed, counts = through_cimbus(bodies)
    routed_threads = list(LAST_THREADS)
    routed_cpu = LAST_CPU.get("cimbus")  # (the PostgreSQL one-worker run below measures too)
    scaled, _ = through_cimbus(bodies, workers=2)
    inproc, _ = through_cimbus(bodies, own_process=False)
    on_pg: dict[int, float] = {}
    for workers in (1, 2):  # the production path: several workers on PostgreSQL
        with _postgres_store() as url:
            if url is not None:
                on_pg[workers], _ = through_cimbus(bodies, workers=workers, store_url=url)
    raw = max(raw_before, raw_pika(bodies))  # the better of two baseline runs (conservative)
    ratio = routed / raw
    print(f"AMQP CreatedMeterReadings ({len(bodies[0])} bytes) x {n}")
    print(f"  raw pika persistent publish + consume   {raw:>8,.0f} msg/s   1.00x")
    print(
        f"  routed through cimbus (outbox, confirms) {routed:>8,.0f} msg/s   {ratio:.2f}x   outbox {counts}"
    )
    if routed_threads:
        busy = ", ".join(f"{name} {us:.0f}" for us, name in routed_threads if us >= 1)
        total = sum(us for us, _ in routed_threads)
        print(f"      cimbus CPU per message: {total:.0f} us; by thread: {busy}")
    if LAST_BATCHES and LAST_BATCHES[0]:
        print(
            f"      {n / LAST_BATCHES[0]:.1f} messages per inbound batch ({LAST_BATCHES[0]} batches)"
        )
    print(f"  two cimbus workers (same queues, store)  {scaled:>8,.0f} msg/s   {scaled / raw:.2f}x")
    print(
        f"  (cimbus inside the load generator's process {inproc:>8,.0f} msg/s   {inproc / raw:.2f}x)"
    )
    for workers, rate in on_pg.items():
        print(
            f"  {workers} cimbus worker{'s' if workers > 1 else ' '} on PostgreSQL           "
            f"{rate:>8,.0f} msg/s   {rate / raw:.2f}x"
        )
    if not on_pg:
        print("  (PostgreSQL not reachable: the PostgreSQL runs were skipped)")
    print(
        f"  bare pika relay, no router code          {relay:>8,.0f} msg/s   {relay / raw:.2f}x"
        "   (with confirms: the ceiling of any router here)"
    )
    print(f"  cimbus / bare relay: {routed / relay:.2f}x")
    _print_machine_budget(raw_cpu, routed_cpu, n, raw)
    print(f"  target cimbus >= 0.5x raw: {'met' if ratio >= 0.5 else 'MISSED'} ({ratio:.2f}x)")
    return ratio >= 0.5


def _print_machine_budget(
    raw: CpuMeter | None, routed: CpuMeter | None, n: int, raw_rate: float
) -> None:
    """CPU per message over the whole machine, and the most its CPUs could carry through
    cimbus at that cost: the ceiling of the ratio on this machine, whatever the latencies."""
    if raw is None or routed is None:
        return
    cpus = os.cpu_count() or 1
    print(f"  CPU per message over the whole machine ({cpus} CPUs):")
    for label, meter in (("raw pika", raw), ("through cimbus", routed)):
        parts = meter.per_message(n)
        total = sum(parts.values())
        detail = ", ".join(f"{k} {v:.0f}" for k, v in parts.items())
        print(
            f"      {label:<15}{total:>6.0f} us  ({detail}); machine {meter.machine_busy:.0%} busy,"
            f" {meter.machine_stolen:.0%} stolen"
        )
    ceiling = cpu_ceiling(sum(routed.per_message(n).values()), cpus)
    if ceiling and raw_rate:
        print(
            f"      at that cost {cpus} CPUs carry at most {ceiling:,.0f} msg/s through cimbus "
            f"= {ceiling / raw_rate:.2f}x of raw: the ceiling of the ratio on this machine"
        )


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "messages", nargs="?", type=_positive, default=5000, help="messages per run (5000)"
    )
    args = ap.parse_args(argv)
    return 0 if bench_amqp(args.messages) else 1


if __name__ == "__main__":
    # the two child roles this script starts itself (not for people: no help text)
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve_cimbus(json.loads(sys.argv[2]))
    elif len(sys.argv) > 4 and sys.argv[1] == "--relay":
        serve_relay(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        raise SystemExit(main())
