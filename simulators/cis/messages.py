"""The messages the CIS (retail provider / Rep of Record) writes, with lxml.

* :func:`read_filter`: the ``GetMeterReadings`` filter of an on-demand read, shaped exactly like
  conformance/exchanges/MeterReadings/get/GetMeterReadings.xml (ODR-1): ``Reading`` (reason
  ``inquiry`` and ``timePeriod``, only when a window is given), the 15-minute kWh and register
  ReadingTypes, the ``UsagePoint`` named by its ESIID (NameType ESIID, authority ERCOT).
* :func:`end_device_control`: one ``EndDeviceControl`` in the order of
  cim_models/schemas/EndDeviceControls.xsd (mRID, drProgramLevel, issuerID, issuerTrackingID,
  reason, EndDeviceControlType, EndDevices, primaryDeviceTiming, UsagePoints), shaped like
  conformance/exchanges/EndDeviceControls/CreateEndDeviceControls.xml (B2-1, B2-2, B2-12).

Readers of what comes back (replies, EndDeviceEvents, MeterReadings) are shared with the MDMS
simulator's :mod:`simulators.mdms.messages`, which reads every CIM namespace the same way.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from lxml import etree

from cim_models.codes import INTERVAL_15MIN_KWH_DELIVERED, REGISTER_KWH_DELIVERED
from simulators._core import E
from simulators._core.cim import local_iso, meter_el, usage_point_el

__all__ = ["ODR_COMMENT", "READING_TYPES", "end_device_control", "read_filter"]

READING_TYPES = (INTERVAL_15MIN_KWH_DELIVERED, REGISTER_KWH_DELIVERED)
ODR_COMMENT = "Customer balance inquiry: non-VEE 15-minute usage since the last VEE posting (ODR)"


def read_filter(
    esiid: str, start: datetime | None, end: datetime | None, tz: tzinfo
) -> etree._Element:
    """``get:GetMeterReadings`` for one ESIID (XSD order: Reading, ReadingType, UsagePoint)."""
    reading = None
    if start is not None or end is not None:
        reading = E.gmr(
            "Reading",
            E.gmr("reason", "inquiry"),
            E.gmr(
                "timePeriod",
                E.gmr("end", local_iso(end, tz)) if end is not None else None,
                E.gmr("start", local_iso(start, tz)) if start is not None else None,
            ),
        )
    return E.gmr(
        "GetMeterReadings",
        reading,
        [E.gmr("ReadingType", E.gmr("mRID", code)) for code in READING_TYPES],
        usage_point_el(esiid, prefix="gmr"),
    )


def end_device_control(
    mrid: str,
    control: str,
    *,
    esiid: str | None = None,
    meter: str | None = None,
    issuer: str | None = None,
    tracking_id: str | None = None,
    reason: str | None = None,
    level: int | None = None,
    at: datetime | None = None,
    tz: tzinfo,
    authority: str | None = None,
    targets: bool = True,
) -> etree._Element:
    """One EndDeviceControl. ``targets=False`` leaves out EndDevices / timing / UsagePoints
    (a cancel names the control by mRID only, as in CancelEndDeviceControls.xml)."""
    timing = None
    if targets and at is not None:
        timing = E.edc(
            "primaryDeviceTiming",
            E.edc("randomisation", "none"),
            E.edc("interval", E.edc("start", local_iso(at, tz))),
        )
    return E.edc(
        "EndDeviceControl",
        E.edc("mRID", mrid),
        E.edc("drProgramLevel", str(int(level))) if level is not None else None,
        E.edc("issuerID", issuer) if issuer else None,
        E.edc("issuerTrackingID", tracking_id) if tracking_id else None,
        E.edc("reason", reason) if reason else None,
        E.edc("EndDeviceControlType", ref=control),
        meter_el(meter, prefix="edc", tag="EndDevices", authority=authority)
        if targets and meter
        else None,
        timing,
        usage_point_el(esiid, prefix="edc", tag="UsagePoints") if targets and esiid else None,
    )
