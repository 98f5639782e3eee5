"""Fast path for MeterReadings interval data (ODR-3, B2-10, TPA-7; BUS-3 speed note).

Binding a MeterReadings document to the xsdata classes costs about 100 us per interval reading;
bulk consumers (the MDMS simulator, reports, the ODR reply) only need (time, value, qualities)
per reading. :func:`read_interval_series` walks the lxml tree once and returns one compact,
columnar :class:`IntervalSeries` per IntervalBlock: no dataclass per reading, values as floats,
timestamps as aware datetimes.

It reads the tree it is given: pass a :class:`~cim_models.codec.CimMessage` from
``Codec.decode`` (already validated), or bytes, which are parsed with the same safe parser as
everything else (not validated: validate first when the bytes are untrusted).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from .errors import CodecError
from .safexml import DEFAULT_LIMITS, Limits, parse_bytes

MR_NS = "http://iec.ch/TC57/2011/MeterReadings#"
_P = "{" + MR_NS + "}"
METER_READINGS = _P + "MeterReadings"
METER_READING = _P + "MeterReading"
INTERVAL_BLOCKS = _P + "IntervalBlocks"
INTERVAL_READINGS = _P + "IntervalReadings"
READING_TYPE = _P + "ReadingType"
READING_QUALITIES = _P + "ReadingQualities"
READING_QUALITY_TYPE = _P + "ReadingQualityType"
TIME_STAMP = _P + "timeStamp"
VALUE = _P + "value"
USAGE_POINT = _P + "UsagePoint"
METER = _P + "Meter"
MRID = _P + "mRID"
NAMES = _P + "Names"
NAME = _P + "name"

_fromiso = datetime.fromisoformat


@dataclass(slots=True)
class IntervalSeries:
    """The readings of one IntervalBlock, column by column.

    ``usage_point`` / ``meter`` are the mRID (or, without one, the first name) of the
    MeterReading's UsagePoint / Meter. ``qualities[i]`` is a tuple of ReadingQualityType
    codes (empty for most readings).
    """

    reading_type: str
    usage_point: str | None = None
    meter: str | None = None
    timestamps: list[datetime] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    qualities: list[tuple[str, ...]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.timestamps)

    def __iter__(self) -> Iterator[tuple[datetime, float | None, tuple[str, ...]]]:
        return zip(self.timestamps, self.values, self.qualities, strict=True)


def _ident(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    mrid = el.findtext(MRID)
    if mrid:
        return mrid.strip()
    name = el.find(NAMES)
    if name is not None:
        text = name.findtext(NAME)
        return text.strip() if text else None
    return None


def _root_of(source: Any, limits: Limits) -> etree._Element:
    if isinstance(source, bytes | bytearray | memoryview):
        return parse_bytes(bytes(source), limits)
    root = getattr(source, "root", source)
    if not isinstance(root, etree._Element):
        raise TypeError("read_interval_series takes bytes, an lxml element or a CimMessage")
    return root


def read_interval_series(source: Any, *, limits: Limits = DEFAULT_LIMITS) -> list[IntervalSeries]:
    """Every IntervalBlock of every MeterReading in ``source`` as an :class:`IntervalSeries`.

    Raises :class:`CodecError` for a reading whose timeStamp or value is not a dateTime /
    number (the fast path never guesses).
    """
    root = _root_of(source, limits)
    containers = [root] if root.tag == METER_READINGS else root.iter(METER_READINGS)
    out: list[IntervalSeries] = []
    for readings in containers:
        for mr in readings.iterchildren(METER_READING):
            usage_point = _ident(mr.find(USAGE_POINT))
            meter = _ident(mr.find(METER))
            for block in mr.iterchildren(INTERVAL_BLOCKS):
                rt = block.find(READING_TYPE)
                series = IntervalSeries(
                    reading_type=(rt.get("ref") or rt.findtext(MRID) or "")
                    if rt is not None
                    else "",
                    usage_point=usage_point,
                    meter=meter,
                )
                _fill(series, block)
                out.append(series)
    return out


def _fill(series: IntervalSeries, block: etree._Element) -> None:
    ts_append = series.timestamps.append
    v_append = series.values.append
    q_append = series.qualities.append
    no_q: tuple[str, ...] = ()
    for ir in block.iterchildren(INTERVAL_READINGS):
        ts = value = None
        quals = no_q
        for child in ir:
            tag = child.tag
            if tag == TIME_STAMP:
                ts = child.text
            elif tag == VALUE:
                value = child.text
            elif tag == READING_QUALITIES:
                rqt = child.find(READING_QUALITY_TYPE)
                ref = rqt.get("ref") if rqt is not None else None
                if ref:
                    quals = (*quals, ref)
        try:
            ts_append(_fromiso(ts.strip()) if ts else None)
            v_append(float(value) if value is not None and value.strip() else None)
        except ValueError as exc:
            line = ir.sourceline
            raise CodecError(
                f"IntervalReading at line {line} of {series.reading_type}: {exc}"
            ) from None
        q_append(quals)


def count_interval_readings(source: Any, *, limits: Limits = DEFAULT_LIMITS) -> int:
    """Number of IntervalReadings in ``source`` (cheap; used by benchmarks and audit)."""
    root = _root_of(source, limits)
    return sum(1 for _ in root.iter(INTERVAL_READINGS))
