"""Messages of the SMT on-demand-read exchanges for tests (ODR-1..ODR-7), built with lxml in the
shapes the simulators and the conformance suite use, plus a tiny fake TDSP head-end that
answers GetMeterReadings with 15-minute readings for the asked window and pings with OK.

Shared by the unit tests (tests/unit/routing/services) and the integration test
(tests/integration/test_odr_service.py).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from lxml import etree

from cim_models.build import RequestPart, build_message
from cim_models.codes import (
    INTERVAL_15MIN_KWH_DELIVERED,
    REGISTER_KWH_DELIVERED,
    VEE_VALIDATED,
    controls,
)

CT = ZoneInfo("America/Chicago")
MSG = "http://iec.ch/TC57/2011/schema/message"
MR = "http://iec.ch/TC57/2011/MeterReadings#"
GET = "http://iec.ch/TC57/2011/GetMeterReadings#"
EDC = "http://iec.ch/TC57/2011/EndDeviceControls#"
GET_WRAPPER = "http://iec.ch/TC57/2011/GetMeterReadingsMessage"
ESIID = "10443720001234567"
OTHER_ESIID = "10443720009876543"
ROR = "REP-BLUEBONNET"
OTHER_ROR = "REP-LONESTAR"
METER = "118822734"


class Clock:
    """A clock the test moves (the service's ``clock``)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _e(parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrs: str):
    el = etree.SubElement(parent, f"{{{ns}}}{tag}", **attrs)
    if text is not None:
        el.text = text
    return el


def _esiid_names(parent: etree._Element, ns: str, esiid: str) -> None:
    names = _e(parent, ns, "Names")
    _e(names, ns, "name", esiid)
    name_type = _e(names, ns, "NameType")
    _e(name_type, ns, "name", "ESIID")


def every_15_minutes(start: datetime, end: datetime, value: float = 0.25):
    """(timeStamp, value) at every 15-minute boundary in [start, end]."""
    out, t = [], start
    while t <= end:
        out.append((t, value))
        t += timedelta(minutes=15)
    return out


def meter_readings(
    esiid: str | None,
    readings: Iterable[tuple[datetime, float]],
    *,
    quality: str | None = None,
    register: tuple[datetime, float] | None = None,
    reading_type: str = INTERVAL_15MIN_KWH_DELIVERED,
    meter: str | None = METER,
    descriptor: str | None = None,
) -> etree._Element:
    """A ``MeterReadings`` payload: one MeterReading with one IntervalBlock, optionally a
    register Reading, every reading carrying ``quality`` (XSD order)."""
    root = etree.Element(f"{{{MR}}}MeterReadings", nsmap={None: MR})
    mr = _e(root, MR, "MeterReading")
    block = _e(mr, MR, "IntervalBlocks")
    for ts, value in readings:
        ir = _e(block, MR, "IntervalReadings")
        _e(ir, MR, "timeStamp", ts.isoformat())
        _e(ir, MR, "value", f"{value:.3f}")
        if quality:
            _e(_e(ir, MR, "ReadingQualities"), MR, "ReadingQualityType", ref=quality)
    _e(block, MR, "ReadingType", ref=reading_type)
    if meter:
        names = _e(_e(mr, MR, "Meter"), MR, "Names")
        _e(names, MR, "name", meter)
    if register is not None:
        reading = _e(mr, MR, "Readings")
        _e(reading, MR, "timeStamp", register[0].isoformat())
        _e(reading, MR, "value", f"{register[1]:.3f}")
        if quality:
            _e(_e(reading, MR, "ReadingQualities"), MR, "ReadingQualityType", ref=quality)
        _e(reading, MR, "ReadingType", ref=REGISTER_KWH_DELIVERED)
    if esiid:
        _esiid_names(_e(mr, MR, "UsagePoint"), MR, esiid)
    if descriptor:
        rqt = _e(root, MR, "ReadingQualityType")
        _e(rqt, MR, "mRID", descriptor)
        _e(_e(rqt, MR, "Names"), MR, "name", "what the head-end said")
    return root


def read_filter(
    esiids: Iterable[str] = (ESIID,),
    *,
    reading_types: Iterable[str] = (),
    period: tuple[datetime, datetime] | None = None,
    by_mrid: bool = False,
) -> etree._Element:
    flt = etree.Element(f"{{{GET}}}GetMeterReadings", nsmap={"get": GET})
    if period is not None:
        reading = _e(flt, GET, "Reading")
        _e(reading, GET, "reason", "inquiry")
        tp = _e(reading, GET, "timePeriod")
        _e(tp, GET, "end", period[1].isoformat())
        _e(tp, GET, "start", period[0].isoformat())
    for code in reading_types:
        _e(_e(flt, GET, "ReadingType"), GET, "mRID", code)
    for esiid in esiids:
        up = _e(flt, GET, "UsagePoint")
        if by_mrid:
            _e(up, GET, "mRID", esiid)
        else:
            _esiid_names(up, GET, esiid)
    return flt


def get_request(
    esiid: str = ESIID,
    *,
    organization: str | None = ROR,
    start: datetime | None = None,
    end: datetime | None = None,
    source: str = "CIS",
    message_id: str | None = None,
    **filter_options,
) -> bytes:
    """The ROR's ``get MeterReadings`` (Get wrapper, like the golden GetMeterReadings.xml)."""
    return build_message(
        "get",
        "MeterReadings",
        source=source,
        message_id=message_id or str(uuid.uuid4()),
        user_id="csr.mgarcia" if organization else None,
        organization=organization,
        request=RequestPart(
            start.isoformat() if start else None,
            end.isoformat() if end else None,
            filter=read_filter([esiid], **filter_options),
        ),
    )


def control(code: str, esiid: str | None = ESIID) -> etree._Element:
    root = etree.Element(f"{{{EDC}}}EndDeviceControls", nsmap={None: EDC})
    c = _e(root, EDC, "EndDeviceControl")
    _e(c, EDC, "mRID", str(uuid.uuid4()))
    _e(c, EDC, "EndDeviceControlType", ref=code)
    if esiid:
        _esiid_names(_e(c, EDC, "UsagePoints"), EDC, esiid)
    return root


def ping_request(
    esiid: str = ESIID, *, organization: str | None = ROR, source: str = "CIS"
) -> bytes:
    """The ROR's power-status ping: ``create EndDeviceControls`` with POWER_STATUS_PING."""
    return build_message(
        "create",
        "EndDeviceControls",
        source=source,
        message_id=str(uuid.uuid4()),
        user_id="csr.mgarcia" if organization else None,
        organization=organization,
        payload=[control(controls.POWER_STATUS_PING, esiid)],
    )


def vee_posting(
    esiid: str,
    end: datetime,
    *,
    hours: int = 24,
    quality: str = VEE_VALIDATED,
    source: str = "TDSP",
) -> bytes:
    """The daily VEE (LSE) posting: ``created MeterReadings`` with ``hours`` of VEE-validated
    15-minute readings ending at ``end`` (ODR-7)."""
    readings = every_15_minutes(end - timedelta(hours=hours) + timedelta(minutes=15), end, 0.3)
    return build_message(
        "created",
        "MeterReadings",
        source=source,
        message_id=str(uuid.uuid4()),
        payload=[meter_readings(esiid, readings, quality=quality)],
    )


def _text(root: etree._Element, path: str) -> str | None:
    el = root.find(path)
    return el.text if el is not None else None


@dataclass
class FakeHeadEnd:
    """The TDSP head-end: answers GetMeterReadings with 15-minute readings from an hour before
    the window to an hour after it (cimbus must cut them to the window), quality ``quality``
    (cimbus must replace it), plus one register read; answers pings OK; or fails on demand."""

    quality: str = "1.0.0"
    fail: bool = False
    calls: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, body: bytes) -> bytes:
        with self.lock:
            self.calls.append(body)
        root = etree.fromstring(body)
        mid = _text(root, f".//{{{MSG}}}MessageID")
        local = etree.QName(root).localname
        if self.fail:
            noun = "MeterReadings" if "MeterReadings" in local else "EndDeviceControls"
            return build_message(
                "reply",
                noun,
                correlation_id=mid,
                source="HES",
                result="FAILED",
                errors=[_error("meter did not answer")],
            )
        if local == "GetMeterReadings":
            start = datetime.fromisoformat(_text(root, ".//{*}Request/{*}StartTime"))
            end = datetime.fromisoformat(_text(root, ".//{*}Request/{*}EndTime"))
            esiid = _text(root, f".//{{{GET}}}UsagePoint/{{{GET}}}Names/{{{GET}}}name")
            readings = every_15_minutes(start - timedelta(hours=1), end + timedelta(hours=1))
            return build_message(
                "reply",
                "MeterReadings",
                correlation_id=mid,
                source="HES",
                result="OK",
                payload=[
                    meter_readings(
                        esiid,
                        readings,
                        quality=self.quality,
                        register=(end, 48302.44),
                        descriptor=self.quality,
                    )
                ],
            )
        return build_message(
            "reply",
            "EndDeviceControls",
            correlation_id=mid,
            source="HES",
            result="OK",
            payload=[control(controls.POWER_STATUS_PING)],
        )

    def kinds(self) -> list[str]:
        with self.lock:
            return [etree.QName(etree.fromstring(b)).localname for b in self.calls]


def _error(reason: str):
    from cim_models.build import ReplyError

    return ReplyError("2.4", "FATAL", reason)


def reply_of(body: bytes) -> dict:
    """Result, error codes and reasons, correlation, root namespace and readings of a reply."""
    root = etree.fromstring(body)
    return {
        "namespace": etree.QName(root).namespace,
        "element": etree.QName(root).localname,
        "result": _text(root, f".//{{{MSG}}}Result"),
        "codes": [e.text for e in root.iter(f"{{{MSG}}}code")],
        "reasons": [e.text for e in root.iter(f"{{{MSG}}}reason")],
        "correlation_id": _text(root, f".//{{{MSG}}}CorrelationID"),
        "intervals": [
            datetime.fromisoformat(ts.text)
            for ts in root.iter(f"{{{MR}}}timeStamp")
            if ts.getparent().tag == f"{{{MR}}}IntervalReadings"
        ],
        "qualities": [
            q.get("ref") for q in root.iter(f"{{{MR}}}ReadingQualityType") if q.get("ref")
        ],
        "registers": len(list(root.iter(f"{{{MR}}}Readings"))),
    }
