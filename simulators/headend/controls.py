"""Reading EndDeviceControls requests and keeping the head-end's command book (B2-1, B2-2, B2-11).

A ``create EndDeviceControls`` carries one or more ``EndDeviceControl``; each names its command
id (``mRID``: the head-end de-duplicates on it), its code (``EndDeviceControlType/@ref``), its
targets (``EndDevices`` by meter number and/or ``UsagePoints`` by ESIID, as ``mRID`` or
``Names/name``), an optional scheduled time (``primaryDeviceTiming/interval/start``; absent =
on demand), the load-limit level in percent (``drProgramLevel``), the IHD text
(``PanDisplay/textMessage``) and, for a firmware update, the target version (see
:func:`firmware_version`). One :class:`Job` per (control, meter) sits in the book until it
completes, is cancelled or rescheduled (``cancel`` / ``change EndDeviceControls``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from simulators._core import NS, Incoming, SimError, Timer, parse_time, text, texts
from simulators._core.cim import names_of

__all__ = ["ControlRequest", "Job", "firmware_version", "parse_controls"]

_VERSION = re.compile(r"\b\d+(?:\.\d+){1,3}(?:[-+][0-9A-Za-z.]+)?\b")


@dataclass
class ControlRequest:
    """One ``EndDeviceControl`` as the head-end understood it."""

    mrid: str
    code: str
    devices: list[str]  # EndDevices (meter numbers, or whatever identifier was given)
    usage_points: list[str]  # UsagePoints (ESIIDs)
    start: datetime | None = None
    level: int | None = None
    issuer: str | None = None
    tracking: str | None = None
    reason: str | None = None
    text: str | None = None
    version: str | None = None
    raw_level: str | None = None


@dataclass
class Job:
    """A control for one meter: pending until ``due``, then done (or cancelled / failed)."""

    control: ControlRequest
    meter: str
    due: datetime
    requested: datetime
    requester: str | None = None
    status: str = (
        "pending"  # pending | running | waiting (no answer yet) | done | failed | cancelled
    )
    timer: Timer | None = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        return {
            "control": self.control.mrid,
            "code": self.control.code,
            "meter": self.meter,
            "due": self.due.isoformat(),
            "status": self.status,
            "level": self.control.level,
            "issuer": self.control.issuer,
            "tracking": self.control.tracking,
        }


def _identifiers(el: etree._Element, prefix: str, prefer: str) -> list[str]:
    """The identifiers of an EndDevice / UsagePoint: the ``prefer`` name type first, then any
    other name (except firmware versions), then the mRID."""
    ids: list[str] = []
    named = names_of(el)
    ids += [v for v, kind in named if kind == prefer]
    ids += [v for v, kind in named if kind not in (prefer, "FirmwareVersion")]
    mrid = text(el, f"{prefix}:mRID")
    if mrid:
        ids.append(mrid)
    return ids


def firmware_version(control: etree._Element, incoming: Incoming) -> str | None:
    """The firmware version a FIRMWARE_UPDATE asks for, looked up in this order:
    ``EndDevices/Names`` with ``NameType/name`` "FirmwareVersion"; the header Property
    "FirmwareVersion" (or "TargetVersion"); a version number (``4.3.0``) in ``reason``."""
    for dev in control.findall("edc:EndDevices", NS):
        for value, kind in names_of(dev):
            if kind == "FirmwareVersion":
                return value
    props = incoming.header.get("Property") or {}
    for key in ("FirmwareVersion", "TargetVersion"):
        if props.get(key):
            return str(props[key]).strip()
    reason = text(control, "edc:reason") or ""
    m = _VERSION.search(reason)
    return m.group(0) if m else None


def parse_controls(incoming: Incoming) -> list[ControlRequest]:
    """Every ``EndDeviceControl`` of the payload. A missing mRID gets ``<MessageID>:<n>``."""
    out: list[ControlRequest] = []
    controls: list[etree._Element] = []
    for root in incoming.payload:
        if etree.QName(root).localname == "EndDeviceControls":
            controls += root.findall("edc:EndDeviceControl", NS)
        elif etree.QName(root).localname == "EndDeviceControl":
            controls.append(root)
    for i, c in enumerate(controls, 1):
        type_el = c.find("edc:EndDeviceControlType", NS)
        code = (type_el.get("ref") or "").strip() if type_el is not None else ""
        if not code:
            code = text(type_el, "edc:mRID") or ""
        devices = [
            ids[0]
            for dev in c.findall("edc:EndDevices", NS)
            if (ids := _identifiers(dev, "edc", "MeterNumber"))
        ]
        usage_points = [
            ids[0]
            for up in c.findall("edc:UsagePoints", NS)
            if (ids := _identifiers(up, "edc", "ESIID"))
        ]
        start_text = text(c, "edc:primaryDeviceTiming/edc:interval/edc:start") or text(
            c, "edc:PanDisplay/edc:startDateTime"
        )
        try:
            start = parse_time(start_text) if start_text else None
        except ValueError:
            raise SimError(
                "2.7", f"EndDeviceControl {i}: scheduled time {start_text!r} is not a date-time"
            ) from None
        raw_level = text(c, "edc:drProgramLevel")
        out.append(
            ControlRequest(
                mrid=text(c, "edc:mRID") or f"{incoming.message_id or 'control'}:{i}",
                code=code,
                devices=devices,
                usage_points=usage_points,
                start=start,
                level=int(raw_level) if raw_level and raw_level.lstrip("-").isdigit() else None,
                raw_level=raw_level,
                issuer=text(c, "edc:issuerID"),
                tracking=text(c, "edc:issuerTrackingID"),
                reason=text(c, "edc:reason"),
                text=" ".join(texts(c, "edc:PanDisplay/edc:textMessage")) or None,
                version=firmware_version(c, incoming),
            )
        )
    return out
