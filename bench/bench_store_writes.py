"""Store write amplification (issue 3, BUS-9, REL-1; a diagnostic, not a timed test).

What a SQLite commit costs is mostly the pages it writes to the WAL (4 KB frames; the
checkpoint copies them into the database file later). This counts them, which is exact and
repeatable where CPU times on a shared machine are not: ``Bus.handle_many`` runs the same 2 KB
CreatedMeterReadings SOAP events as ``bench_bus.py`` (parse, validate, MessageID claim, two
audit rows, an outbox entry for the subscriber, a stored acknowledgement) in batches of 1, 4
and 16, with automatic checkpoints off so the WAL keeps every frame; then it reads the frame
headers and names the table or index each page belongs to (SQLite's ``dbstat``).

Printed per batch size: WAL frames per commit and per message, the CPU per message of the
calling thread (noisy: read the frames), and for the middle size the frames per commit by
table and index. The baseline is the same rows written with plain ``sqlite3`` executemany
into tables without any index: the least a commit of that data can write.

    python bench/bench_store_writes.py [--messages 2000] [--batches 1,4,16]

The fourth round in bench/README.md was measured with this: 42.4 -> 29.2 frames per batch of 4.
"""

from __future__ import annotations

import argparse
import collections
import sqlite3
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event

from bench._tmp import scratch_dir
from bench.bench_bus import _soap_config, make_bodies
from endpoints.embedded import EmbeddedBroker, EmbeddedTransport
from routing.bus import Bus
from routing.config import Config

PAGE = 4096
FRAME = 24 + PAGE  # frame header + page (the default page size)


def wal_frames(wal: Path) -> tuple[list[int], int]:
    """The page number of every frame in a WAL file, and how many commits it holds."""
    data = wal.read_bytes()
    pages, commits, offset = [], 0, 32  # after the WAL header
    while offset + FRAME <= len(data):
        page, commit_size = struct.unpack(">II", data[offset : offset + 8])
        pages.append(page)
        commits += commit_size != 0  # the last frame of a commit carries the database size
        offset += FRAME
    return pages, commits


def run(batch: int, messages: int, breakdown: bool) -> dict:
    tmp = scratch_dir("cimbus-bench-store-")
    db = tmp / "bench.db"
    mapping = _soap_config(f"sqlite:///{db}")
    mapping["store"]["wal_checkpoint"] = "commit"  # nothing but the commits touches the WAL
    bus = Bus(Config.from_mapping(mapping)).start(outbox=False)
    transport = EmbeddedTransport(bus, EmbeddedBroker(max_length=10**7)).start()

    @event.listens_for(bus.store._engine, "connect")
    def _no_autocheckpoint(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

    bus.store._engine.dispose()  # the next connections get the pragma
    bodies = make_bodies(messages + 8 * batch)
    warm, work = bodies[: 8 * batch], bodies[8 * batch :]

    def feed(items: list[bytes]) -> None:
        for i in range(0, len(items), batch):
            bus.handle_many([(b, None, None) for b in items[i : i + batch]], transport="soap")

    feed(warm)
    with sqlite3.connect(db) as c:  # start counting from an empty WAL
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cpu = time.process_time()
    feed(work)
    cpu = time.process_time() - cpu
    pages, commits = wal_frames(Path(f"{db}-wal"))
    transport.stop()
    bus.stop()
    result = {
        "batch": batch,
        "frames_per_commit": len(pages) / max(commits, 1),
        "frames_per_message": len(pages) / len(work),
        "cpu_us": cpu / len(work) * 1e6,
        "commits": commits,
    }
    if breakdown:
        with sqlite3.connect(db) as c:
            owner = {page: name for name, page in c.execute("SELECT name, pageno FROM dbstat")}
        counts = collections.Counter(owner.get(p, "?") for p in pages)
        result["by_object"] = {k: v / max(commits, 1) for k, v in counts.most_common()}
    return result


def baseline(batch: int, messages: int) -> float:
    """Frames per commit when the same data goes into index-free tables with plain sqlite3."""
    tmp = scratch_dir("cimbus-bench-store-")
    db = tmp / "plain.db"
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA wal_autocheckpoint=0")
    c.execute("CREATE TABLE inbound (id INTEGER PRIMARY KEY, message_id TEXT, at TEXT)")
    c.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, message_id TEXT, payload BLOB)")
    c.execute("CREATE TABLE replies (id INTEGER PRIMARY KEY, message_id TEXT, reply BLOB)")
    bodies = make_bodies(messages)
    reply = b"x" * 900  # about the size of the stored acknowledgement
    for i in range(0, len(bodies), batch):
        chunk = bodies[i : i + batch]
        c.execute("BEGIN IMMEDIATE")
        c.executemany(
            "INSERT INTO inbound (message_id, at) VALUES (?, 'now')", [(str(i),)] * 2 * len(chunk)
        )
        c.executemany(
            "INSERT INTO outbox (message_id, payload) VALUES (?, ?)", [(str(i), b) for b in chunk]
        )
        c.executemany(
            "INSERT INTO replies (message_id, reply) VALUES (?, ?)", [(str(i), reply)] * len(chunk)
        )
        c.execute("COMMIT")
    pages, commits = wal_frames(Path(f"{db}-wal"))
    c.close()
    return len(pages) / max(commits, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batches", default="1,4,16")
    args = parser.parse_args()
    sizes = [int(b) for b in args.batches.split(",")]
    print(f"SQLite WAL frames (4 KB pages) written per commit, {args.messages} SOAP events")
    print(
        "batch   cimbus frames/commit   per message   index-free rows (baseline)   ratio   CPU/msg"
    )
    middle = sizes[len(sizes) // 2]
    details = None
    for b in sizes:
        r = run(b, args.messages, breakdown=b == middle)
        base = baseline(b, args.messages)
        print(
            f"{b:>5}   {r['frames_per_commit']:>20.1f}   {r['frames_per_message']:>11.1f}"
            f"   {base:>26.1f}   {r['frames_per_commit'] / base:>4.1f}x   {r['cpu_us']:>5.0f} us"
        )
        details = r.get("by_object", details)
    if details:
        print(f"\nframes per commit by table / index (batches of {middle}):")
        for name, n in details.items():
            print(f"  {name:<40} {n:5.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
