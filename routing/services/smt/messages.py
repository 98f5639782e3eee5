"""Reading and writing the SMT messages (ODR-1, ODR-3, ODR-5, ODR-7), straight on the lxml tree.

* :func:`parse_read_request`: the ROR's ``get MeterReadings`` (Get wrapper
  ``GetMeterReadingsMessage``: ESIID in ``get:UsagePoint/get:Names`` with NameType ``ESIID``
  or in ``get:UsagePoint/get:mRID``; window in ``Request/StartTime`` + ``EndTime``, else
  ``get:Reading/get:timePeriod``; optional ``get:ReadingType/get:mRID``).
* :func:`parse_ping`: a ``create EndDeviceControls`` whose controls are power-status pings
  (``EndDeviceControlType/@ref`` = ``cim_models.codes.controls.POWER_STATUS_PING``).
* :func:`headend_request`: what SMT asks the head-end (a Get with the ESIID, window and types).
* :func:`non_vee_payload`: the head-end's MeterReadings made into the ODR answer: interval
  readings outside the window dropped, every IntervalReading and Reading marked
  ``ReadingQualityType ref="2.0.0"`` (:data:`cim_models.codes.NON_VEE`; replacing whatever
  the head-end sent), readings of another usage point dropped.
* :func:`vee_ends`: per ESIID, where the VEE-processed interval data of a daily posting ends.

Element order follows the MeterReadings / GetMeterReadings XSDs, so what is written validates.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from lxml import etree

from cim_models import namespaces as ns
from cim_models.codes import NON_VEE, CodeError, controls, interval_minutes, vee_applied
from cim_models.fastpath import read_interval_series

from .errors import OdrRequestInvalid

log = logging.getLogger("cimbus.smt")

MR_NS = ns.PROFILES["MeterReadings"].payload_ns
GET_NS = ns.PROFILES["MeterReadings"].get_ns or ""
EDC_NS = ns.PROFILES["EndDeviceControls"].payload_ns
ESIID = "ESIID"
ESIID_AUTHORITY = "ERCOT"
INTERVAL_MINUTES = 15
PING = controls.POWER_STATUS_PING

_MR = "{" + MR_NS + "}"
_GET = "{" + GET_NS + "}"
_EDC = "{" + EDC_NS + "}"


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _child(el: etree._Element | None, name: str) -> etree._Element | None:
    """First child with local name ``name`` (namespace-agnostic: wrappers differ by form)."""
    if el is None:
        return None
    for c in el:
        if _local(c) == name:
            return c
    return None


def _children(el: etree._Element | None, name: str) -> list[etree._Element]:
    return [c for c in el if _local(c) == name] if el is not None else []


def _text(el: etree._Element | None, *path: str) -> str | None:
    for step in path:
        el = _child(el, step)
    if el is None:
        return None
    return (el.text or "").strip() or None


def esiid_of(usage_point: etree._Element | None) -> str | None:
    """The ESIID of a UsagePoint (any CIM namespace): its name whose NameType is ``ESIID``,
    else its mRID."""
    if usage_point is None:
        return None
    for names in _children(usage_point, "Names"):
        if (_text(names, "NameType", "name") or "").upper() == ESIID:
            value = _text(names, "name")
            if value:
                return value
    return _text(usage_point, "mRID")


def parse_time(value: str | None, tz: tzinfo, *, where: str) -> datetime | None:
    """An xs:dateTime as an aware datetime; a time without offset is local time in ``tz``."""
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise OdrRequestInvalid(f"{where} {value!r} is not a date and time", xpath=where) from None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=tz)


def iso(dt: datetime, tz: tzinfo) -> str:
    """``dt`` written in local time ``tz`` with its offset (how SMT talks to Texas parties)."""
    return dt.astimezone(tz).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------- ROR requests
@dataclass(frozen=True, slots=True)
class ReadRequest:
    """What the ROR asked for (ODR-1): one ESIID, an optional window, optional ReadingTypes."""

    esiid: str
    start: datetime | None = None
    end: datetime | None = None
    reading_types: tuple[str, ...] = ()


def parse_read_request(root: etree._Element, tz: tzinfo) -> ReadRequest:
    """Read the ROR's ``get MeterReadings`` (ODR-1). Raises :class:`OdrRequestInvalid` (2.7)
    for no ESIID, several ESIIDs, an unreadable time or a ReadingType that is neither
    15-minute interval data nor a register read."""
    request = _child(root, "Request")
    flt = _child(request, "GetMeterReadings")
    esiids: list[str] = []
    for up in _children(flt, "UsagePoint"):
        value = esiid_of(up)
        if value and value not in esiids:
            esiids.append(value)
    if not esiids:
        raise OdrRequestInvalid(
            "the request names no ESIID: put it in GetMeterReadings/UsagePoint/Names/name with "
            "NameType/name ESIID (or in UsagePoint/mRID)",
            xpath="Request/GetMeterReadings/UsagePoint",
        )
    if len(esiids) > 1:
        raise OdrRequestInvalid(
            f"an on-demand read is for one ESIID; the request names {len(esiids)} "
            f"({', '.join(esiids)})",
            xpath="Request/GetMeterReadings/UsagePoint",
        )
    start_text = _text(request, "StartTime")
    end_text = _text(request, "EndTime")
    if start_text is None and end_text is None:
        for reading in _children(flt, "Reading"):
            start_text = _text(reading, "timePeriod", "start") or start_text
            end_text = _text(reading, "timePeriod", "end") or end_text
    reading_types: list[str] = []
    for rt in _children(flt, "ReadingType"):
        code = _text(rt, "mRID")
        if not code or code in reading_types:
            continue
        try:
            minutes = interval_minutes(code)
        except CodeError as exc:
            raise OdrRequestInvalid(
                f"ReadingType {code!r} is not a ReadingType code: {exc}",
                xpath="Request/GetMeterReadings/ReadingType/mRID",
            ) from None
        if minutes is not None and minutes != INTERVAL_MINUTES:
            raise OdrRequestInvalid(
                f"ReadingType {code} is {minutes}-minute data; an on-demand read returns "
                "15-minute interval data and register reads",
                xpath="Request/GetMeterReadings/ReadingType/mRID",
                object_id=code,
                object_type="ReadingType",
            )
        reading_types.append(code)
    return ReadRequest(
        esiid=esiids[0],
        start=parse_time(start_text, tz, where="Request/StartTime"),
        end=parse_time(end_text, tz, where="Request/EndTime"),
        reading_types=tuple(reading_types),
    )


@dataclass(frozen=True, slots=True)
class PingRequest:
    """A power-status ping for one ESIID (ODR-5's second throttled kind)."""

    esiid: str


def parse_ping(payload: Iterable[etree._Element]) -> PingRequest | None:
    """The ping in a ``create EndDeviceControls`` payload, or None when no control is a
    power-status ping (the message is then passed on unchanged). A mix of pings and other
    controls, or a ping that names no or several ESIIDs, is :class:`OdrRequestInvalid`."""
    pings: list[etree._Element] = []
    others = 0
    for root in payload:
        for control in _children(root, "EndDeviceControl"):
            type_el = _child(control, "EndDeviceControlType")
            code = None
            if type_el is not None:
                code = type_el.get("ref") or _text(type_el, "mRID")
            if code == PING:
                pings.append(control)
            else:
                others += 1
    if not pings:
        return None
    if others:
        raise OdrRequestInvalid(
            f"a power-status ping ({PING}) must be sent on its own, not with {others} other "
            "control(s) in the same message",
            xpath="Payload/EndDeviceControls/EndDeviceControl/EndDeviceControlType",
        )
    esiids: list[str] = []
    for control in pings:
        for up in _children(control, "UsagePoints"):
            value = esiid_of(up)
            if value and value not in esiids:
                esiids.append(value)
    if len(esiids) != 1:
        raise OdrRequestInvalid(
            "a power-status ping is for exactly one ESIID (EndDeviceControl/UsagePoints/Names "
            f"with NameType ESIID, or UsagePoints/mRID); this one names {len(esiids)}",
            xpath="Payload/EndDeviceControls/EndDeviceControl/UsagePoints",
        )
    return PingRequest(esiid=esiids[0])


# ---------------------------------------------------------------------------- head-end request
def read_filter(
    esiid: str, start: datetime, end: datetime, reading_types: Iterable[str], tz: tzinfo
) -> etree._Element:
    """``get:GetMeterReadings`` for one ESIID, window and ReadingTypes (XSD order: Reading,
    ReadingType, UsagePoint)."""
    flt = etree.Element(_GET + "GetMeterReadings", nsmap={"get": GET_NS})
    reading = etree.SubElement(flt, _GET + "Reading")
    etree.SubElement(reading, _GET + "reason").text = "inquiry"
    period = etree.SubElement(reading, _GET + "timePeriod")
    etree.SubElement(period, _GET + "end").text = iso(end, tz)
    etree.SubElement(period, _GET + "start").text = iso(start, tz)
    for code in reading_types:
        rt = etree.SubElement(flt, _GET + "ReadingType")
        etree.SubElement(rt, _GET + "mRID").text = code
    up = etree.SubElement(flt, _GET + "UsagePoint")
    names = etree.SubElement(up, _GET + "Names")
    etree.SubElement(names, _GET + "name").text = esiid
    name_type = etree.SubElement(names, _GET + "NameType")
    etree.SubElement(name_type, _GET + "name").text = ESIID
    authority = etree.SubElement(name_type, _GET + "NameTypeAuthority")
    etree.SubElement(authority, _GET + "name").text = ESIID_AUTHORITY
    return flt


# ---------------------------------------------------------------------------- ODR answer
_IR_BEFORE_QUALITIES = frozenset({"reportedDateTime", "source", "timeStamp", "value"})
_READING_BEFORE_QUALITIES = frozenset(
    {"reason", "reportedDateTime", "source", "timeStamp", "value"}
)


def _mark_non_vee(reading: etree._Element, before: frozenset[str]) -> None:
    """Replace the reading's ReadingQualities with one ``2.0.0`` (non-VEE), in XSD order."""
    for rq in _children(reading, "ReadingQualities"):
        reading.remove(rq)
    index = 0
    for i, child in enumerate(reading):
        if _local(child) in before:
            index = i + 1
    rq = etree.Element(_MR + "ReadingQualities")
    etree.SubElement(rq, _MR + "ReadingQualityType").set("ref", NON_VEE)
    reading.insert(index, rq)


def _non_vee_descriptor() -> etree._Element:
    rqt = etree.Element(_MR + "ReadingQualityType")
    for name, value in (("mRID", NON_VEE), ("category", "0"), ("subCategory", "0")):
        etree.SubElement(rqt, _MR + name).text = value
    etree.SubElement(rqt, _MR + "systemId").text = "2"
    names = etree.SubElement(rqt, _MR + "Names")
    etree.SubElement(
        names, _MR + "name"
    ).text = "Head-end: data valid (not validated by the MDM, non-VEE)"
    return rqt


@dataclass
class OdrPayload:
    """The answer's MeterReadings and what it holds."""

    elements: list[etree._Element]
    intervals: int = 0
    registers: int = 0
    dropped_outside: int = 0
    dropped_foreign: int = 0


def non_vee_payload(
    payload: Iterable[etree._Element],
    *,
    esiid: str,
    start: datetime,
    end: datetime,
    tz: tzinfo,
) -> OdrPayload:
    """The head-end's MeterReadings as the ODR answer (ODR-3). Interval readings are kept when
    their timeStamp (the end of the interval) is in ``(start, end]``; registers are all kept;
    a MeterReading naming another usage point is dropped (SEC-2: never another meter's data).
    ``valuesInterval`` of each MeterReading states the window."""
    out = OdrPayload(elements=[])
    for original in payload:
        if original.tag != _MR + "MeterReadings":
            continue
        root = copy.deepcopy(original)
        for mr in _children(root, "MeterReading"):
            owner = esiid_of(_child(mr, "UsagePoint"))
            if owner is not None and owner != esiid:
                root.remove(mr)
                out.dropped_foreign += 1
                continue
            for block in _children(mr, "IntervalBlocks"):
                for ir in _children(block, "IntervalReadings"):
                    ts_text = _text(ir, "timeStamp")
                    try:
                        ts = parse_time(ts_text, tz, where="IntervalReadings/timeStamp")
                    except OdrRequestInvalid:
                        ts = None
                    if ts is None or not (start < ts <= end):
                        block.remove(ir)
                        out.dropped_outside += 1
                        continue
                    _mark_non_vee(ir, _IR_BEFORE_QUALITIES)
                    out.intervals += 1
            for reading in _children(mr, "Readings"):
                _mark_non_vee(reading, _READING_BEFORE_QUALITIES)
                out.registers += 1
            for old in _children(mr, "valuesInterval"):
                mr.remove(old)
            interval = etree.SubElement(mr, _MR + "valuesInterval")
            etree.SubElement(interval, _MR + "end").text = iso(end, tz)
            etree.SubElement(interval, _MR + "start").text = iso(start, tz)
        for old in _children(root, "ReadingQualityType"):
            root.remove(old)
        index = 0
        for i, child in enumerate(root):
            if _local(child) in ("EndDeviceEventType", "MeterReading"):
                index = i + 1
        root.insert(index, _non_vee_descriptor())
        out.elements.append(root)
    if out.dropped_foreign:
        log.warning(
            "head-end answer for ESIID %s held %d MeterReading(s) of other usage points: dropped",
            esiid,
            out.dropped_foreign,
        )
    return out


def readings_reason(intervals: int, registers: int) -> str:
    """The INFORM entry of the answer, e.g. ``96 interval readings and 1 register read
    returned``."""
    return (
        f"{intervals} interval reading{'' if intervals == 1 else 's'} and "
        f"{registers} register read{'' if registers == 1 else 's'} returned"
    )


# ---------------------------------------------------------------------------- VEE posting
def vee_ends(message: etree._Element | object, tz: tzinfo) -> dict[str, datetime]:
    """ODR-7: per ESIID, the latest interval-reading timeStamp among readings that went
    through VEE (a ReadingQualityType of the MDM, system 3: ``3.0.1`` validated, or estimated /
    edited / flagged by VEE; :func:`cim_models.codes.vee_applied`). Head-end (``2.x``) or
    unqualified readings do not count; a timeStamp without offset is local time in ``tz``.
    Uses the interval fast path."""
    root = getattr(message, "root", message)
    assert isinstance(root, etree._Element)
    owners: list[str | None] = []
    containers = [root] if root.tag == _MR + "MeterReadings" else root.iter(_MR + "MeterReadings")
    for readings in containers:
        for mr in readings.iterchildren(_MR + "MeterReading"):
            owner = esiid_of(mr.find(_MR + "UsagePoint"))
            owners.extend(owner for _ in mr.iterchildren(_MR + "IntervalBlocks"))
    series = read_interval_series(root)
    if len(series) != len(owners):  # never expected: both walk the same tree in order
        raise RuntimeError("interval blocks and their usage points do not line up")
    cache: dict[tuple[str, ...], bool] = {}
    out: dict[str, datetime] = {}
    for owner, block in zip(owners, series, strict=True):
        if owner is None:
            continue
        for ts, _value, qualities in block:
            if ts is None or not qualities:
                continue
            vee = cache.get(qualities)
            if vee is None:
                try:
                    vee = vee_applied(qualities)
                except (CodeError, TypeError):
                    vee = False
                cache[qualities] = vee
            if not vee:
                continue
            if ts.tzinfo is None:
                ts = ts.replace(tzinfo=tz)
            if owner not in out or ts > out[owner]:
                out[owner] = ts
    return out
