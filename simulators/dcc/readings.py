"""Change-of-supplier and transfer reads (DCC-1, DCC-2): taking them, writing them as CIM.

Electricity: the DCC asks the head-end (``get MeterReadings`` through cimbus) for the register
read at the switch time and uses the register (cumulative kWh,
``0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0``) the head-end returns. When no head-end answers (not
attached, timeout, FAILED, no register in the answer) it uses a **local deterministic read**: a
value that depends only on the meter number and the time (so every run agrees), marked as an
estimate by another system (ReadingQualityType ``4.8.0``) with ``source`` saying why.

Gas: the head-end of this simulation meters electricity only, so the gas transfer read is the
DCC's own read of the premise's gas meter (register, m³, ``0.0.0.1.1.7.58.0.0.0.0.0.0.0.0.0.42.0``),
deterministic in the same way, quality ``1.0.0`` (device valid).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from cim_models.codes import DEVICE_VALID, REGISTER_KWH_DELIVERED
from simulators._core import E, iso, parse_time, text
from simulators._core.cim import meter_el, names

__all__ = [
    "GAS_REGISTER_M3",
    "LOCAL_ESTIMATE",
    "Read",
    "local_read",
    "meter_reading",
    "register_in",
]

#: gas register, cumulative volume delivered in m³
GAS_REGISTER_M3 = "0.0.0.1.1.7.58.0.0.0.0.0.0.0.0.0.42.0"
#: other system / estimated: the DCC's stand-in when the metering system did not answer
LOCAL_ESTIMATE = "4.8.0"
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_MR = {"mr": "http://iec.ch/TC57/2011/MeterReadings#"}


@dataclass(frozen=True)
class Read:
    """One register read."""

    value: float
    at: datetime
    quality: str
    source: str
    reading_type: str = REGISTER_KWH_DELIVERED

    def to_dict(self) -> dict[str, object]:
        return {
            "value": round(self.value, 3),
            "at": iso(self.at),
            "quality": self.quality,
            "source": self.source,
            "reading_type": self.reading_type,
        }


def local_read(meter: str, at: datetime, *, gas: bool = False) -> float:
    """A deterministic register value for ``meter`` at ``at`` (grows with time)."""
    h = zlib.crc32(meter.encode("utf-8"))
    hours = (at - _EPOCH).total_seconds() / 3600
    if gas:
        base, rate = 500 + h % 5000, 0.05 + (h >> 8) % 20 / 100
    else:
        base, rate = 10_000 + h % 40_000, 0.3 + (h >> 8) % 100 / 100
    return round(base + rate * hours, 3)


def register_in(payload: list[etree._Element], at: datetime) -> Read | None:
    """The latest register read (cumulative kWh) at or before ``at`` in a MeterReadings
    answer, or None."""
    best: Read | None = None
    for root in payload:
        for reading in root.iter("{http://iec.ch/TC57/2011/MeterReadings#}Readings"):
            rt = reading.find("mr:ReadingType", _MR)
            if rt is None or rt.get("ref") != REGISTER_KWH_DELIVERED:
                continue
            value = text(reading, "mr:value")
            stamp = text(reading, "mr:timeStamp")
            try:
                v = float(value) if value is not None else None
                t = parse_time(stamp) if stamp else at
            except ValueError:
                continue
            if v is None or t > at:
                continue
            q = reading.find("mr:ReadingQualities/mr:ReadingQualityType", _MR)
            quality = q.get("ref") if q is not None and q.get("ref") else DEVICE_VALID
            if best is None or t >= best.at:
                best = Read(v, t, quality, "HES")
    return best


def meter_reading(
    *,
    meter: str,
    usage_point: str,
    usage_point_type: str,
    authority: str | None,
    read: Read,
    reported: datetime,
) -> etree._Element:
    """A ``MeterReadings`` payload with one register read of ``meter`` (element order of
    MeterReadings.xsd: Meter, Readings, UsagePoint)."""
    return E.mr(
        "MeterReadings",
        E.mr(
            "MeterReading",
            meter_el(meter),
            E.mr(
                "Readings",
                E.mr("reason", "billing"),
                E.mr("reportedDateTime", reported),
                E.mr("source", read.source),
                E.mr("timeStamp", read.at),
                E.mr("value", f"{read.value:.3f}"),
                E.mr("ReadingQualities", E.mr("ReadingQualityType", ref=read.quality)),
                E.mr("ReadingType", ref=read.reading_type),
            ),
            E.mr("UsagePoint", names("mr", usage_point, usage_point_type, authority)),
        ),
    )
