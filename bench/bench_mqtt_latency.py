"""MQTT request/answer latency through a real cimbus, with and without Nagle's algorithm (not
a timed test).

N sequential round trips per case, after 20 not counted: an event (HES sends CreatedEndDevice
Events, cimbus stores it, fans it out to MDMS and answers the acknowledgement) and a get
(CIS asks GetMeterReadings, cimbus routes it to HES, HES answers, cimbus relays the answer).
Each case runs a fresh Bus (SQLite store) + MqttTransport and fresh MqttClients, over:

* cimbus's and the clients' sockets: TCP_NODELAY (what endpoints/mqtt does) or Nagle's
  algorithm (the option left off, as before);
* the broker: two throwaway Mosquittos from deploy/mosquitto/cimbus.conf, one with
  ``set_tcp_nodelay true`` and one with ``false`` (Mosquitto's default). With ``--url`` an
  existing broker is measured instead (only the client side varies).

    python bench/bench_mqtt_latency.py [N] [--url mqtt://127.0.0.1:1884]   (N default 200)
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lxml import etree

from bench._mosquitto import throwaway_mosquitto
from bench._tmp import scratch_dir
from cim_models.build import build_message
from cim_models.codec import Codec
from endpoints.mqtt import MqttClient, MqttTransport, _connection
from routing.bus import Bus
from routing.config import Config
from routing.store import Store

REPO = Path(__file__).resolve().parents[1]
WARMUP = 20
EDE = "http://iec.ch/TC57/2011/EndDeviceEvents#"
MR = "http://iec.ch/TC57/2011/MeterReadings#"
codec = Codec()


def _event() -> bytes:
    payload = etree.fromstring(
        f'<EndDeviceEvents xmlns="{EDE}"><EndDeviceEvent><createdDateTime>2026-11-01T10:00:00Z'
        f'</createdDateTime><EndDeviceEventType ref="3.26.136.47"/></EndDeviceEvent>'
        f"</EndDeviceEvents>".encode()
    )
    return build_message(
        "created", "EndDeviceEvents", message_id=str(uuid.uuid4()), source="HES", payload=[payload]
    )


def _answer(request: bytes) -> bytes:
    """HES's answer to a GetMeterReadings: one reading."""
    parsed = codec.parse(request)
    header = parsed.header()
    readings = etree.fromstring(
        f'<MeterReadings xmlns="{MR}"><MeterReading><IntervalBlocks><IntervalReadings>'
        f"<timeStamp>2026-11-01T00:15:00Z</timeStamp><value>0.5</value></IntervalReadings>"
        f'<ReadingType ref="0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"/></IntervalBlocks>'
        f"<UsagePoint><mRID>10443720001234567</mRID></UsagePoint></MeterReading>"
        f"</MeterReadings>".encode()
    )
    return build_message(
        "reply",
        "MeterReadings",
        correlation_id=header["MessageID"],
        source="HES",
        result="OK",
        payload=[readings],
        namespace=parsed.namespace,
        element="MeterReadingsResponseMessage",
    )


def _config(url: str, prefix: str) -> Config:
    systems = ("CIS", "HES", "MDMS")
    return Config.from_mapping(
        {
            "mqtt": {
                "enabled": True,
                "url": url,
                "client_id": "cimbus-" + prefix.split("/")[0],
                "topic_prefix": prefix,
            },
            "systems": {
                n: {"transport": "mqtt", "address": f"{prefix}/system/{n}"} for n in systems
            },
            "routes": [{"verb": "get", "noun": "MeterReadings", "target": "HES", "timeout": 10}],
            "subscriptions": [
                {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["MDMS"]}
            ],
        }
    )


@contextlib.contextmanager
def _nagle(on: bool) -> Iterator[None]:
    """Nagle's algorithm on cimbus's and the clients' sockets (TCP_NODELAY not set) or off."""
    saved = _connection.set_tcp_nodelay
    if on:
        _connection.set_tcp_nodelay = lambda client, userdata, sock: None  # type: ignore[assignment]
    try:
        yield
    finally:
        _connection.set_tcp_nodelay = saved


def _measure(url: str, n: int, nagle: bool) -> dict[str, list[float]]:
    """Milliseconds per round trip: ``{"event": [...], "get": [...]}``."""
    with _nagle(nagle):  # the whole run: MqttClient connects lazily
        return _round_trips(url, n)


def _round_trips(url: str, n: int) -> dict[str, list[float]]:
    tag = uuid.uuid4().hex[:8]
    prefix = f"bench{tag}/cimbus"
    bus = Bus(
        _config(url, prefix),
        Store(f"sqlite:///{scratch_dir('cimbus-bench-mqtt-')}/bus.db", payload_policy="all"),
    ).start()
    transport = MqttTransport(bus, bus.config.mqtt).start()
    clients = {
        name: MqttClient(url, name, client_id=f"{tag}-{name}", topic_prefix=prefix)
        for name in ("CIS", "HES", "MDMS")
    }
    try:
        clients["HES"].serve(_answer)
        clients["MDMS"].serve(lambda body: None)
        if not transport.wait_ready(10):
            raise SystemExit(f"cimbus did not connect to {url} within 10 s")
        out: dict[str, list[float]] = {"event": [], "get": []}
        for kind in out:
            for i in range(WARMUP + n):
                if kind == "event":
                    client, body = clients["HES"], _event()
                else:
                    client = clients["CIS"]
                    body = build_message(
                        "get", "MeterReadings", message_id=str(uuid.uuid4()), source="CIS"
                    )
                started = time.perf_counter()
                client.request(body, timeout=15)
                if i >= WARMUP:
                    out[kind].append((time.perf_counter() - started) * 1000)
        return out
    finally:
        for c in clients.values():
            c.close()
        transport.stop()
        bus.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _mosquitto(nodelay: bool) -> Iterator[str]:
    """A throwaway Mosquitto from deploy/mosquitto/cimbus.conf (``set_tcp_nodelay`` as given,
    no persistence) on a free port; its URL."""
    run = scratch_dir("cimbus-bench-mosquitto-")
    port = _free_port()
    lines = [
        f"listener {port} 127.0.0.1"
        if line.startswith("listener ")
        else ("persistence false" if line.startswith("persistence ") else line)
        for line in (REPO / "deploy" / "mosquitto" / "cimbus.conf").read_text().splitlines()
        if not line.startswith(("set_tcp_nodelay", "persistence_file", "autosave_interval"))
    ]
    lines.append(f"set_tcp_nodelay {'true' if nodelay else 'false'}")
    try:
        with throwaway_mosquitto(run, "\n".join(lines) + "\n", port) as url:
            yield url
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None


def _line(label: str, samples: dict[str, list[float]]) -> str:
    parts = []
    for kind, ms in samples.items():
        ms = sorted(ms)
        parts.append(
            f"{kind} median {statistics.median(ms):5.1f} ms (p90 {ms[int(len(ms) * 0.9)]:5.1f})"
        )
    return f"{label:<44} " + "   ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", nargs="?", type=int, default=200, help="round trips per case")
    ap.add_argument("--url", help="measure this broker instead of two throwaway Mosquittos")
    args = ap.parse_args()
    print(f"{args.n} sequential request/answer round trips per case (after {WARMUP})")
    brokers = (
        [(f"broker {args.url}", contextlib.nullcontext(args.url))]
        if args.url
        else [
            ("Mosquitto set_tcp_nodelay false", _mosquitto(False)),
            ("Mosquitto set_tcp_nodelay true", _mosquitto(True)),
        ]
    )
    for broker, started in brokers:
        with started as url:
            for nagle in (True, False):
                label = f"{broker}, cimbus {'Nagle' if nagle else 'TCP_NODELAY'}:"
                print(_line(label, _measure(url, args.n, nagle)), flush=True)


if __name__ == "__main__":
    main()
