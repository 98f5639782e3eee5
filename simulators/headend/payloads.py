"""CIM payloads the head-end writes: EndDeviceEvents and MeterReadings (B2-4, B2-10, ODR-3).

Shapes (shared contract, docs/simulators/headend.md):

* a meter is named by its meter number (``mRID`` and ``Names/name`` with ``NameType/name``
  "MeterNumber") and its usage point by the ESIID (``Names/name`` with ``NameType/name`` "ESIID",
  ``NameTypeAuthority/name`` "ERCOT");
* an ``EndDeviceEvent`` carries ``createdDateTime`` (simulated time), ``issuerID`` (the head-end),
  ``issuerTrackingID`` (the control mRID it answers), ``reason``, ``severity``, ``userID`` (local
  operations), ``Assets`` (the meter), ``EndDeviceEventDetails`` (name/value pairs),
  ``EndDeviceEventType/@ref``, ``status`` and ``UsagePoint``;
* a ``MeterReading`` carries ``IntervalBlocks`` (15-minute kWh, timeStamp = interval end, value
  with 3 decimals, quality DEVICE_VALID), ``Meter``, ``Readings`` (register, cumulative kWh),
  ``UsagePoint`` and ``valuesInterval``, in the order of MeterReadings.xsd.

Element order follows the project XSDs, so everything built here validates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from lxml import etree

from cim_models.codes import (
    DEVICE_VALID,
    INTERVAL_15MIN_KWH_DELIVERED,
    INTERVAL_60MIN_KWH_DELIVERED,
    REGISTER_KWH_DELIVERED,
)
from simulators._core import NS, E, MeterSpec, iso, text
from simulators._core.cim import ESIID_AUTHORITY, esiid_names, meter_names, names, zone

__all__ = [
    "ESIID_AUTHORITY",
    "end_device_control",
    "end_device_event",
    "event_dicts",
    "get_meter_readings_filter",
    "interval_reading_type",
    "local_iso",
    "meter_reading",
    "names",
]


def local_iso(dt: datetime, tz: str) -> str:
    return iso(dt.astimezone(zone(tz)))


def interval_reading_type(minutes: int) -> str:
    return INTERVAL_60MIN_KWH_DELIVERED if minutes == 60 else INTERVAL_15MIN_KWH_DELIVERED


def _kwh(wh: int) -> str:
    return f"{wh / 1000.0:.3f}"


def end_device_event(
    spec: MeterSpec,
    code: str,
    at: datetime,
    *,
    mrid: str,
    issuer: str,
    tz: str,
    owner: str,
    reason: str | None = None,
    severity: str = "info",
    tracking: str | None = None,
    user: str | None = None,
    details: Mapping[str, object] | None = None,
    status: str | None = None,
) -> etree._Element:
    """One ``EndDeviceEvent`` about ``spec``'s meter (EndDeviceEvents.xsd order)."""
    ede = E.ede
    return ede(
        "EndDeviceEvent",
        ede("mRID", mrid),
        ede("createdDateTime", local_iso(at, tz)),
        ede("issuerID", issuer),
        ede("issuerTrackingID", tracking) if tracking else None,
        ede("reason", reason) if reason else None,
        ede("severity", severity),
        ede("userID", user) if user else None,
        ede("Assets", ede("mRID", spec.meter), meter_names("ede", spec.meter, owner)),
        [
            ede("EndDeviceEventDetails", ede("name", k), ede("value", _detail(v, tz)))
            for k, v in (details or {}).items()
            if v is not None
        ],
        ede("EndDeviceEventType", ref=code),
        ede("status", ede("dateTime", local_iso(at, tz)), ede("value", status)) if status else None,
        ede(
            "UsagePoint",
            ede("mRID", spec.esiid),
            esiid_names("ede", spec.esiid),
        ),
    )


def _detail(v: object, tz: str) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        return local_iso(v, tz)
    return str(v)


def meter_reading(
    spec: MeterSpec,
    *,
    intervals: Iterable[tuple[datetime, int]] | None,
    register: tuple[datetime, int] | None,
    start: datetime,
    end: datetime,
    reported: datetime,
    source: str,
    owner: str,
    tz: str,
    reason: str | None = None,
) -> etree._Element:
    """One ``MeterReading`` (MeterReadings.xsd order): interval block, meter, register read,
    usage point, values interval. ``intervals`` None leaves the interval block out (not asked
    for); an empty list gives an empty block (nothing recorded in the window)."""
    mr = E.mr
    block = None
    if intervals is not None:
        block = mr(
            "IntervalBlocks",
            [
                mr(
                    "IntervalReadings",
                    mr("timeStamp", local_iso(t, tz)),
                    mr("value", _kwh(wh)),
                    _quality(),
                )
                for t, wh in intervals
            ],
            mr("ReadingType", ref=interval_reading_type(spec.interval_minutes or 15)),
        )
    reg = None
    if register is not None:
        at, wh = register
        reg = mr(
            "Readings",
            mr("reason", reason) if reason else None,
            mr("reportedDateTime", local_iso(reported, tz)),
            mr("source", source),
            mr("timeStamp", local_iso(at, tz)),
            mr("value", _kwh(wh)),
            _quality(),
            mr("ReadingType", ref=REGISTER_KWH_DELIVERED),
        )
    return mr(
        "MeterReading",
        block,
        mr("Meter", mr("mRID", spec.meter), meter_names("mr", spec.meter, owner)),
        reg,
        mr("UsagePoint", mr("mRID", spec.esiid), esiid_names("mr", spec.esiid)),
        mr("valuesInterval", mr("end", local_iso(end, tz)), mr("start", local_iso(start, tz))),
    )


def _quality() -> etree._Element:
    return E.mr("ReadingQualities", E.mr("ReadingQualityType", ref=DEVICE_VALID))


def event_dicts(body: bytes) -> list[dict[str, object]]:
    """The ``EndDeviceEvent`` elements of a message as plain dicts (tests, REST, other tools)."""
    root = etree.fromstring(body)
    out: list[dict[str, object]] = []
    for ev in root.iter(f"{{{NS['ede']}}}EndDeviceEvent"):
        type_el = ev.find("ede:EndDeviceEventType", NS)
        out.append(
            {
                "mrid": text(ev, "ede:mRID"),
                "code": type_el.get("ref") if type_el is not None else None,
                "at": text(ev, "ede:createdDateTime"),
                "meter": text(ev, "ede:Assets/ede:mRID"),
                "esiid": text(ev, "ede:UsagePoint/ede:mRID"),
                "tracking": text(ev, "ede:issuerTrackingID"),
                "reason": text(ev, "ede:reason"),
                "severity": text(ev, "ede:severity"),
                "user": text(ev, "ede:userID"),
                "status": text(ev, "ede:status/ede:value"),
                "details": {
                    text(d, "ede:name"): text(d, "ede:value")
                    for d in ev.findall("ede:EndDeviceEventDetails", NS)
                },
            }
        )
    return out


# ---------------------------------------------------------------------- requests to the head-end
def end_device_control(
    code: str,
    *,
    mrid: str,
    meter: str | None = None,
    esiid: str | None = None,
    start: datetime | str | None = None,
    level: int | None = None,
    text_message: str | None = None,
    version: str | None = None,
    issuer: str | None = None,
    tracking: str | None = None,
    reason: str | None = None,
    owner: str | None = None,
) -> etree._Element:
    """One ``EndDeviceControl`` as the head-end reads it (EndDeviceControls.xsd order), for the
    systems that command it (CIS, OMS, DCC, tests): wrap one or more in
    ``E.edc("EndDeviceControls", ...)``. ``version`` (firmware) travels as an ``EndDevices/Names``
    entry with ``NameType/name`` "FirmwareVersion"."""
    edc = E.edc
    when = iso(start) if isinstance(start, datetime) else start
    device = None
    if meter or version:
        device = edc(
            "EndDevices",
            edc("mRID", meter) if meter else None,
            meter_names("edc", meter, owner) if meter else None,
            names("edc", version, "FirmwareVersion", None) if version else None,
        )
    return edc(
        "EndDeviceControl",
        edc("mRID", mrid),
        edc("drProgramLevel", level) if level is not None else None,
        edc("issuerID", issuer) if issuer else None,
        edc("issuerTrackingID", tracking) if tracking else None,
        edc("reason", reason) if reason else None,
        edc("PanDisplay", edc("textMessage", text_message)) if text_message else None,
        edc("EndDeviceControlType", ref=code),
        device,
        edc("primaryDeviceTiming", edc("interval", edc("start", when))) if when else None,
        edc("UsagePoints", edc("mRID", esiid), esiid_names("edc", esiid)) if esiid else None,
    )


def get_meter_readings_filter(
    *, esiids: Iterable[str] = (), meters: Iterable[str] = (), reading_types: Iterable[str] = ()
) -> etree._Element:
    """A ``GetMeterReadings`` filter naming usage points (ESIID) and/or meters (meter number)."""
    gmr = E.gmr
    return gmr(
        "GetMeterReadings",
        [gmr("EndDevice", gmr("mRID", m), meter_names("gmr", m)) for m in meters],
        [gmr("ReadingType", gmr("mRID", rt)) for rt in reading_types],
        [gmr("UsagePoint", esiid_names("gmr", e)) for e in esiids],
    )
