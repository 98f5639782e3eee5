"""What the CRM reads from an OutageRecord (urn:cimbus:2026:OutageRecords#) and remembers per
outage (D11-2, D11-4, D11-8, D11-9).

:func:`parse_record` reduces one ``OutageRecord`` to the facts the notifications need; an
:class:`OutageState` keeps, per outage mRID, the usage points still out, those restored, the
trouble-order statuses already seen, and per customer the ERT last told and the notices already
sent, so a record that arrives twice (OMS and FIELD both publish ``changed OutageRecords``, a
duplicate delivery) never notifies twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from simulators._core.cim import text
from simulators._core.clock import parse_time_or_none

__all__ = ["OutageInfo", "OutageState", "parse_record", "records_in"]


@dataclass(frozen=True)
class OutageInfo:
    """One OutageRecord as received."""

    mrid: str
    number: str | None
    planned: bool
    status_kind: str
    magnitude: str
    community: str | None
    usage_points: tuple[str, ...]
    ert: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    reported_start: datetime | None
    cause: str | None
    cause_kind: str | None
    reason: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    phone: str | None
    trouble_orders: tuple[tuple[str, str], ...]  # (mRID, status)

    @property
    def start(self) -> datetime | None:
        return (
            self.actual_start
            or self.reported_start
            or (self.planned_start if self.planned else None)
        )


def _time(el: etree._Element, path: str) -> datetime | None:
    return parse_time_or_none(text(el, path))


def _phone(el: etree._Element) -> str | None:
    phone = el.find("or:contactPhone", {"or": _NS})
    if phone is None:
        return None
    itu = text(phone, "or:ituPhone")
    if itu:
        return itu
    parts = [text(phone, f"or:{p}") for p in ("countryCode", "areaCode", "localNumber")]
    if not parts[2]:
        return None
    number = "".join(p for p in parts if p)
    ext = text(phone, "or:extension")
    return ("+" if parts[0] else "") + number + (f" ext. {ext}" if ext else "")


_NS = "urn:cimbus:2026:OutageRecords#"


def parse_record(el: etree._Element) -> OutageInfo:
    """The facts of one ``OutageRecord`` element."""
    planned_el = el.find("or:PlannedOutage", {"or": _NS})
    unplanned_el = el.find("or:UnplannedOutage", {"or": _NS})
    number = None
    for name in el.findall("or:Names", {"or": _NS}):
        if text(name, "or:NameType/or:name") in (None, "OutageNumber"):
            number = text(name, "or:name")
            break
    ups: list[str] = []
    for up in el.findall("or:UsagePoints", {"or": _NS}):
        value = text(up, "or:Names/or:name") or text(up, "or:mRID")
        if value and value not in ups:
            ups.append(value)
    tos = []
    for to in el.findall("or:TroubleOrders", {"or": _NS}):
        mrid, status = text(to, "or:mRID"), text(to, "or:status")
        if mrid and status:
            tos.append((mrid, status))
    ert = _time(el, "or:EstimatedRestorationTime/or:ert") or _time(el, "or:estimatedPeriod/or:end")
    return OutageInfo(
        mrid=text(el, "or:mRID") or "",
        number=number,
        planned=planned_el is not None,
        status_kind=text(el, "or:statusKind") or "confirmed",
        magnitude=text(el, "or:magnitude") or "isolated",
        community=text(el, "or:communityDescriptor"),
        usage_points=tuple(ups),
        ert=ert,
        actual_start=_time(el, "or:actualPeriod/or:start"),
        actual_end=_time(el, "or:actualPeriod/or:end"),
        reported_start=_time(unplanned_el, "or:reportedStartTime")
        if unplanned_el is not None
        else None,
        cause=text(unplanned_el, "or:cause") if unplanned_el is not None else None,
        cause_kind=text(unplanned_el, "or:causeKind") if unplanned_el is not None else None,
        reason=text(planned_el, "or:reason") if planned_el is not None else None,
        planned_start=_time(planned_el, "or:plannedPeriod/or:start")
        if planned_el is not None
        else None,
        planned_end=_time(planned_el, "or:plannedPeriod/or:end")
        if planned_el is not None
        else None,
        phone=_phone(el),
        trouble_orders=tuple(tos),
    )


def records_in(payload: list[etree._Element]) -> list[etree._Element]:
    """Every ``OutageRecord`` under the payload elements."""
    out: list[etree._Element] = []
    for p in payload:
        if etree.QName(p).localname == "OutageRecord":
            out.append(p)
        out.extend(p.findall("or:OutageRecord", {"or": _NS}))
    return out


@dataclass
class OutageState:
    """What the CRM remembers about one outage."""

    mrid: str
    first_seen: datetime
    info: OutageInfo | None = None
    affected: set[str] = field(default_factory=set)  # ESIIDs still out
    restored: set[str] = field(default_factory=set)
    trouble_orders: dict[str, str] = field(default_factory=dict)
    told_ert: dict[str, datetime] = field(default_factory=dict)  # customer -> ERT last told
    sent: set[tuple[str, str]] = field(default_factory=set)  # (customer, notice key)
    closed: bool = False
    started: bool = False

    def to_dict(self) -> dict[str, object]:
        info = self.info
        return {
            "outage": self.mrid,
            "number": info.number if info else None,
            "planned": info.planned if info else None,
            "status": info.status_kind if info else None,
            "magnitude": info.magnitude if info else None,
            "ert": info.ert.isoformat() if info and info.ert else None,
            "affected": sorted(self.affected),
            "restored": sorted(self.restored),
            "trouble_orders": dict(self.trouble_orders),
            "closed": self.closed,
        }
