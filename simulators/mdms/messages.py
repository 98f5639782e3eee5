"""The MeterReadings and EndDeviceEvents the MDMS reads and writes (IEC 61968-9), with lxml.

Identities follow the simulators' shared contract: a usage point is ``UsagePoint/Names/name``
with ``NameType/name`` "ESIID" (authority "ERCOT") or its mRID; a meter is ``Names/name`` with
``NameType/name`` "MeterNumber" or its mRID. Readers accept either and any CIM namespace
(MeterReadings#, GetMeterReadings#, EndDeviceEvents#, OutageRecords#), because the same
shapes appear in every profile.

Writers put elements in the order of cim_models/schemas/MeterReadings.xsd: MeterReading =
IntervalBlocks, Meter, Readings, UsagePoint, valuesInterval; IntervalReading = timeStamp,
value, ReadingQualities; Reading = reason, timeStamp, value, ReadingQualities, ReadingType,
timePeriod.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from lxml import etree

from cim_models.codes import (
    DAILY_KWH_DELIVERED,
    INTERVAL_15MIN_KWH_DELIVERED,
    MDM_ESTIMATED,
    REGISTER_KWH_DELIVERED,
    VEE_VALIDATED,
)
from simulators._core import E
from simulators._core.cim import (
    child,
    children,
    esiid_of,
    local,
    local_iso,
    meter_el,
    meter_of,
    ref_of,
    text_at,
    usage_point_el,
)

__all__ = [
    "QUALITY_NAMES",
    "DeviceEvent",
    "ReadingsIn",
    "child",
    "children",
    "daily_reading",
    "esiid_of",
    "interval_block",
    "local_iso",
    "meter_el",
    "meter_of",
    "meter_reading",
    "parse_end_device_events",
    "parse_meter_readings",
    "quality_dictionary",
    "register_reading",
    "text_at",
    "usage_point_el",
]

#: Descriptions written into the payload's ReadingQualityType dictionary.
QUALITY_NAMES = {
    VEE_VALIDATED: ("0", "1", "3", "MDM: validated (VEE passed)"),
    MDM_ESTIMATED: ("8", "0", "3", "MDM: estimated (VEE failed: missing, negative or spike)"),
    "1.0.0": ("0", "0", "1", "Meter: data valid (not validated by the MDM)"),
    "2.0.0": ("0", "0", "2", "Head-end: data valid (not validated by the MDM, non-VEE)"),
}


# --------------------------------------------------------------------------- reading
@dataclass
class ReadingsIn:
    """One MeterReading received: who, 15-minute intervals, register reads."""

    esiid: str | None
    meter: str | None
    intervals: list[tuple[datetime, float | None, str | None]] = field(default_factory=list)
    registers: list[tuple[datetime | None, float | None, str | None, str | None]] = field(
        default_factory=list
    )  # (timeStamp, value, quality, reason)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _time(value: str | None, tz: tzinfo) -> datetime | None:
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=tz)


def parse_meter_readings(payload: Iterable[etree._Element], tz: tzinfo) -> list[ReadingsIn]:
    """Every MeterReading of the ``MeterReadings`` payload elements. Interval blocks whose
    ReadingType is not 15-minute kWh delivered (or absent) are skipped; Readings whose
    ReadingType is the register kWh (or absent) are register reads."""
    out: list[ReadingsIn] = []
    for root in payload:
        if local(root) != "MeterReadings":
            continue
        for mr in children(root, "MeterReading"):
            item = ReadingsIn(esiid_of(child(mr, "UsagePoint")), meter_of(child(mr, "Meter")))
            for block in children(mr, "IntervalBlocks"):
                rt = ref_of(child(block, "ReadingType"))
                if rt not in (None, INTERVAL_15MIN_KWH_DELIVERED):
                    continue
                for ir in children(block, "IntervalReadings"):
                    ts = _time(text_at(ir, "timeStamp"), tz)
                    if ts is None:
                        continue
                    quality = ref_of(child(child(ir, "ReadingQualities"), "ReadingQualityType"))
                    item.intervals.append((ts, _number(text_at(ir, "value")), quality))
            for reading in children(mr, "Readings"):
                rt = ref_of(child(reading, "ReadingType"))
                if rt not in (None, REGISTER_KWH_DELIVERED):
                    continue
                quality = ref_of(child(child(reading, "ReadingQualities"), "ReadingQualityType"))
                item.registers.append(
                    (
                        _time(text_at(reading, "timeStamp"), tz),
                        _number(text_at(reading, "value")),
                        quality,
                        text_at(reading, "reason"),
                    )
                )
            out.append(item)
    return out


@dataclass(frozen=True)
class DeviceEvent:
    """One EndDeviceEvent received (acknowledgement, trip, last gasp, alarm ...)."""

    code: str
    created: datetime | None
    esiid: str | None
    meter: str | None
    tracking_id: str | None
    mrid: str | None
    reason: str | None
    details: dict[str, str]
    status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "created": self.created.isoformat() if self.created else None,
            "esiid": self.esiid,
            "meter": self.meter,
            "issuerTrackingID": self.tracking_id,
            "mRID": self.mrid,
            "reason": self.reason,
            "details": dict(self.details),
            "status": self.status,
        }


def parse_end_device_events(payload: Iterable[etree._Element], tz: tzinfo) -> list[DeviceEvent]:
    out: list[DeviceEvent] = []
    for root in payload:
        if local(root) != "EndDeviceEvents":
            continue
        for ev in children(root, "EndDeviceEvent"):
            details = {}
            for d in children(ev, "EndDeviceEventDetails"):
                name = text_at(d, "name")
                if name:
                    details[name] = text_at(d, "value") or ""
            out.append(
                DeviceEvent(
                    code=ref_of(child(ev, "EndDeviceEventType")) or "",
                    created=_time(text_at(ev, "createdDateTime"), tz),
                    esiid=esiid_of(child(ev, "UsagePoint")),
                    meter=meter_of(child(ev, "Assets")),
                    tracking_id=text_at(ev, "issuerTrackingID"),
                    mrid=text_at(ev, "mRID"),
                    reason=text_at(ev, "reason"),
                    details=details,
                    status=text_at(ev, "status", "value"),
                )
            )
    return out


# --------------------------------------------------------------------------- writing
def _quality(ref: str) -> etree._Element:
    return E.mr("ReadingQualities", E.mr("ReadingQualityType", ref=ref))


def interval_block(readings: Iterable[tuple[datetime, float, str]], tz: tzinfo) -> etree._Element:
    """15-minute kWh IntervalBlocks: ``(end of interval, kWh, quality)`` each."""
    return E.mr(
        "IntervalBlocks",
        [
            E.mr(
                "IntervalReadings",
                E.mr("timeStamp", local_iso(ts, tz)),
                E.mr("value", f"{value:.3f}"),
                _quality(quality),
            )
            for ts, value, quality in readings
        ],
        E.mr("ReadingType", ref=INTERVAL_15MIN_KWH_DELIVERED),
    )


def daily_reading(
    total: float, start: datetime, end: datetime, quality: str, tz: tzinfo, *, source: str
) -> etree._Element:
    """The day's kWh (DAILY_KWH_DELIVERED) with its period, as in the LSE posting."""
    return E.mr(
        "Readings",
        E.mr("reason", "billing"),
        E.mr("source", source),
        E.mr("timeStamp", local_iso(end, tz)),
        E.mr("value", f"{total:.3f}"),
        _quality(quality),
        E.mr("ReadingType", ref=DAILY_KWH_DELIVERED),
        E.mr("timePeriod", E.mr("end", local_iso(end, tz)), E.mr("start", local_iso(start, tz))),
    )


def register_reading(ts: datetime, value: float, quality: str, tz: tzinfo) -> etree._Element:
    return E.mr(
        "Readings",
        E.mr("timeStamp", local_iso(ts, tz)),
        E.mr("value", f"{value:.3f}"),
        _quality(quality),
        E.mr("ReadingType", ref=REGISTER_KWH_DELIVERED),
    )


def meter_reading(
    esiid: str,
    meter: str,
    *,
    blocks: Sequence[etree._Element] = (),
    readings: Sequence[etree._Element] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    tz: tzinfo,
    authority: str | None = None,
) -> etree._Element:
    """One MeterReading in XSD order: IntervalBlocks, Meter, Readings, UsagePoint,
    valuesInterval."""
    interval = None
    if start is not None or end is not None:
        interval = E.mr(
            "valuesInterval",
            E.mr("end", local_iso(end, tz)) if end is not None else None,
            E.mr("start", local_iso(start, tz)) if start is not None else None,
        )
    return E.mr(
        "MeterReading",
        list(blocks),
        meter_el(meter, authority=authority),
        list(readings),
        usage_point_el(esiid),
        interval,
    )


def quality_dictionary(codes: Iterable[str]) -> list[etree._Element]:
    """ReadingQualityType entries describing ``codes`` (the payload's optional dictionary)."""
    out = []
    for code in sorted(set(codes)):
        category, sub, system, name = QUALITY_NAMES.get(code, ("", "", "", code))
        out.append(
            E.mr(
                "ReadingQualityType",
                E.mr("mRID", code),
                E.mr("category", category) if category else None,
                E.mr("subCategory", sub) if sub else None,
                E.mr("systemId", system) if system else None,
                E.mr("Names", E.mr("name", name)),
            )
        )
    return out
