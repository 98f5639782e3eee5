"""The head-end side of the outage flow: reading EndDeviceEvents, writing the ping control.

What the OMS expects from the head-end (shared simulator contract, D11-1, D11-7):

* ``created EndDeviceEvents``: one ``EndDeviceEvent`` per meter with ``EndDeviceEventType/@ref``
  the event code (classified with :class:`cim_models.codes.OutageEventMap`, so vendor aliases of
  power down / last gasp / power up all work), ``createdDateTime`` the simulated time, the meter
  in ``Assets`` (``mRID`` or ``Names`` with NameType ``MeterNumber``) and/or the usage point in
  ``UsagePoint/Names`` (NameType ``ESIID``); either is enough.
* Ping results: the generic acknowledgement of the ping, ``3.26.17.44`` (Processed: the meter
  answered, it is energised) or ``3.26.17.79`` (Error: not reachable), with
  ``issuerTrackingID`` = the ping control's mRID.

What the OMS sends (:func:`ping_control`): ``create EndDeviceControls`` with one
``EndDeviceControl`` per meter, ``EndDeviceControlType/@ref`` = ``POWER_STATUS_PING``
(``3.26.17.46``), ``mRID`` = the command id, ``issuerID`` = the OMS organisation,
``issuerTrackingID`` = the outage number, the meter in ``EndDevices`` and the ESIID in
``UsagePoints``.

:func:`end_device_events` builds the events the other way round; stub head-ends in tests use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from .._core import E, parse_time, text
from .._core.cim import NS, esiid_of, meter_el, meter_of, usage_point_el

__all__ = ["DeviceEvent", "device_events_of", "end_device_events", "ping_control"]


@dataclass(frozen=True)
class DeviceEvent:
    """One received ``EndDeviceEvent``, reduced to what the OMS needs."""

    code: str
    meter: str | None
    esiid: str | None
    at: datetime | None
    tracking_id: str | None
    mrid: str | None
    reason: str | None = None


def device_events_of(payload: Iterable[etree._Element]) -> list[DeviceEvent]:
    """Every ``EndDeviceEvent`` of a ``created EndDeviceEvents`` payload."""
    out: list[DeviceEvent] = []
    for root in payload:
        for ev in root.iter(f"{{{NS['ede']}}}EndDeviceEvent"):
            type_el = ev.find("ede:EndDeviceEventType", NS)
            code = (
                (type_el.get("ref") or text(type_el, "ede:mRID") or "")
                if type_el is not None
                else ""
            )
            created = text(ev, "ede:createdDateTime")
            try:
                at = parse_time(created) if created else None
            except ValueError:
                at = None
            out.append(
                DeviceEvent(
                    code=code.strip(),
                    meter=meter_of(ev.find("ede:Assets", NS)),
                    esiid=esiid_of(ev.find("ede:UsagePoint", NS)),
                    at=at,
                    tracking_id=text(ev, "ede:issuerTrackingID"),
                    mrid=text(ev, "ede:mRID"),
                    reason=text(ev, "ede:reason"),
                )
            )
    return out


def ping_control(
    mrid: str, *, meter: str, esiid: str, code: str, issuer: str, tracking_id: str, reason: str
) -> etree._Element:
    """One ``EndDeviceControl`` pinging ``meter`` (executed on demand: no timing)."""
    return E.edc(
        "EndDeviceControl",
        E.edc("mRID", mrid),
        E.edc("issuerID", issuer),
        E.edc("issuerTrackingID", tracking_id),
        E.edc("reason", reason),
        E.edc("EndDeviceControlType", ref=code),
        meter_el(meter, prefix="edc", tag="EndDevices"),
        usage_point_el(esiid, prefix="edc", tag="UsagePoints"),
    )


def end_device_events(
    events: Iterable[tuple[str, str, str, datetime]],
    *,
    issuer: str = "HES",
    tracking_id: str | None = None,
    reason: str | None = None,
) -> etree._Element:
    """An ``EndDeviceEvents`` payload: one event per ``(meter, esiid, code, at)``."""
    items = []
    for meter, esiid, code, at in events:
        items.append(
            E.ede(
                "EndDeviceEvent",
                E.ede("createdDateTime", at),
                E.ede("issuerID", issuer),
                E.ede("issuerTrackingID", tracking_id) if tracking_id else None,
                E.ede("reason", reason) if reason else None,
                meter_el(meter, prefix="ede", tag="Assets"),
                E.ede("EndDeviceEventType", ref=code),
                usage_point_el(esiid, prefix="ede"),
            )
        )
    return E.ede("EndDeviceEvents", items)
