"""Codec benchmark (BUS-3 speed targets; not a timed test).

Measures, in one run and on the same documents, readings per second for:

* ``parse+validate``: safe lxml parse + XSD validation (the baseline every message pays);
* ``fast path``:      safe lxml parse + :func:`cim_models.fastpath.read_interval_series`;
* ``xsdata bind``:    safe lxml parse + binding the whole message to the generated classes;

on a CreatedMeterReadings message with 1 x 96 and 1,000 x 96 fifteen-minute interval readings,
and prints the ratios against the baseline. Targets: fast path >= 100k readings/s and
>= 0.5x parse+validate. Results are reported as measured; a missed target is printed as such.

    python bench/bench_codec.py [--big N] [--min-time SECONDS]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cim_models.codec import Codec
from cim_models.fastpath import read_interval_series
from cim_models.safexml import Limits, parse_bytes

RT_15MIN = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"


def make_document(meters: int, readings: int = 96) -> bytes:
    """A CreatedMeterReadings message: ``meters`` MeterReadings x ``readings`` intervals."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<m:CreatedMeterReadings xmlns:m="http://iec.ch/TC57/2011/MeterReadingsMessage" '
        'xmlns:msg="http://iec.ch/TC57/2011/schema/message" '
        'xmlns="http://iec.ch/TC57/2011/MeterReadings#">'
        "<m:Header><msg:Verb>created</msg:Verb><msg:Noun>MeterReadings</msg:Noun>"
        "<msg:Timestamp>2026-11-02T00:05:00Z</msg:Timestamp><msg:Source>TDSP-HES</msg:Source>"
        "<msg:MessageID>6f1c1d0e-2a43-4c8e-9d51-1c2b3a4d5e6f</msg:MessageID></m:Header>"
        "<m:Payload><MeterReadings>"
    ]
    stamps = [
        (start + timedelta(minutes=15 * (i + 1))).strftime("%Y-%m-%dT%H:%M:%SZ")
        for i in range(readings)
    ]
    for m in range(meters):
        parts.append("<MeterReading><IntervalBlocks>")
        for i, ts in enumerate(stamps):
            q = (
                '<ReadingQualities><ReadingQualityType ref="2.0.0"/></ReadingQualities>'
                if i % 24 == 0
                else ""
            )
            parts.append(
                f"<IntervalReadings><timeStamp>{ts}</timeStamp>"
                f"<value>{0.25 + (m * 7 + i) % 40 / 100:.3f}</value>{q}</IntervalReadings>"
            )
        parts.append(
            f'<ReadingType ref="{RT_15MIN}"/></IntervalBlocks>'
            f"<Meter><mRID>MTR{m:08d}</mRID></Meter>"
            f"<UsagePoint><mRID>1044372000{m:08d}</mRID></UsagePoint></MeterReading>"
        )
    parts.append("</MeterReadings></m:Payload></m:CreatedMeterReadings>")
    return "".join(parts).encode()


def rate(fn: Callable[[], object], n_readings: int, min_time: float, max_runs: int = 1000) -> float:
    """Readings per second: best of repeated runs within ``min_time`` seconds (at least one)."""
    best = float("inf")
    spent = 0.0
    runs = 0
    while runs == 0 or (spent < min_time and runs < max_runs):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best = min(best, dt)
        spent += dt
        runs += 1
    return n_readings / best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", type=int, default=1000, help="meters in the large document")
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds per measurement")
    ap.add_argument(
        "--bind-sample",
        type=int,
        default=50,
        help="meters used to measure xsdata binding on the large document",
    )
    args = ap.parse_args()

    codec = Codec(limits=Limits(max_bytes=256 * 1024 * 1024))
    schemas = codec.schemas
    print(f"cimbus codec benchmark  python {platform.python_version()}  {platform.machine()}")
    print(
        f"{'document':<14}{'readings':>10}{'parse+validate':>18}{'fast path':>14}"
        f"{'xsdata bind':>14}{'fast/pv':>9}{'bind/pv':>9}"
    )
    ok = True
    for meters in (1, args.big):
        data = make_document(meters)
        n = meters * 96
        assert schemas.is_valid(parse_bytes(data, codec.limits)), "benchmark document must be valid"

        def parse_validate(data: bytes = data) -> None:
            root = parse_bytes(data, codec.limits)
            if not schemas.is_valid(root):
                raise SystemExit("invalid")

        def fast(data: bytes = data) -> None:
            read_interval_series(data, limits=codec.limits)

        # Binding is ~100 us per reading: on the large document measure a sample of meters
        # (binding cost is linear in readings) and report readings/s.
        bind_meters = min(meters, args.bind_sample)
        bind_data = data if bind_meters == meters else make_document(bind_meters)

        def bind(bind_data: bytes = bind_data) -> None:
            codec.bind(codec.parse(bind_data).root)

        pv = rate(parse_validate, n, args.min_time)
        fp = rate(fast, n, args.min_time)
        bd = rate(bind, bind_meters * 96, min(args.min_time, 2.0), max_runs=20)
        label = f"{meters} x 96"
        print(
            f"{label:<14}{n:>10}{pv:>16,.0f}/s{fp:>12,.0f}/s{bd:>12,.0f}/s"
            f"{fp / pv:>8.2f}x{bd / pv:>8.3f}x"
        )
        if meters == args.big:
            t_fast = fp >= 100_000
            t_ratio = fp / pv >= 0.5
            print(
                f"target fast path >= 100,000 readings/s: {'met' if t_fast else 'MISSED'} ({fp:,.0f}/s)"
            )
            print(
                f"target fast path >= 0.5x parse+validate: {'met' if t_ratio else 'MISSED'} ({fp / pv:.2f}x)"
            )
            print(
                f"xsdata binding: {1e6 / bd:,.1f} us per reading "
                f"({pv / bd:,.0f}x slower than parse+validate)"
            )
            ok = t_fast and t_ratio
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
