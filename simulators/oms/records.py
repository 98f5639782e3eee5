"""The OutageRecords payload (``urn:cimbus:2026:OutageRecords#``) as Python data, both ways.

cimbus's own profile of the CIM Outage classes (cim_models/schemas/OutageRecords.xsd) carries
what the OMS publishes (``created`` / ``changed`` / ``closed OutageRecords``, D11-1, D11-7,
D11-9) and what the field mobile solution reports back (``changed OutageRecords`` with the
trouble-order status changes, D11-3, D11-6). :class:`RecordData` is one ``OutageRecord``;
:meth:`RecordData.element` writes it in schema order, :meth:`RecordData.from_element` reads one
back (tolerant: whatever is absent stays None). :class:`TroubleOrderData` is one
``TroubleOrders`` entry; a line-crew work order created from a trouble order (D11-6) is an entry
of its own whose ``Names`` carry ``WorkOrderNumber`` (and ``LinkedTroubleOrderNumber``), while
the trouble order links it through its ``WorkOrder`` child.

Both the OMS and the field simulator use this module, so what one writes the other reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from .._core import E, iso, text
from .._core.cim import ESIID, NS, esiid_names, esiid_of, name_of, names, names_of
from .._core.clock import parse_time_or_none

__all__ = [
    "ESIID",
    "MAGNITUDES",
    "TROUBLE_ORDER_STATUSES",
    "R",
    "RecordData",
    "TroubleOrderData",
    "outage_records",
    "phone_element",
    "records_of",
]

#: Magnitude literals (OutageMagnitudeKind), smallest first (D11-1).
MAGNITUDES = ("isolated", "neighbourhood", "area")
#: TroubleOrderStatusKind literals in the order a job moves through them (D11-3, D11-6).
TROUBLE_ORDER_STATUSES = (
    "awaitingCrewAssignment",
    "assigned",
    "dispatched",
    "acknowledged",
    "enRoute",
    "onSite",
    "ertSet",
    "fieldComplete",
    "restored",
)
_OR = NS["or"]


def R(tag: str, *children: object) -> etree._Element:
    """An element in the OutageRecords namespace (``E.or`` cannot be spelt: ``or`` is a keyword)."""
    return getattr(E, "or")(tag, *children)


def _interval(tag: str, start: datetime | None, end: datetime | None) -> etree._Element | None:
    if start is None and end is None:
        return None
    return R(tag, R("end", end) if end else None, R("start", start) if start else None)


def phone_element(number: str) -> etree._Element:
    """``contactPhone`` from a number as written in the profile (``+1-800-555-0199``):
    ``ituPhone`` in E.164 and, for a North-American number, the area code and local number."""
    digits = re.sub(r"\D", "", number)
    itu = f"+{digits}" if digits else number
    parts: list[etree._Element] = []
    if len(digits) == 11 and digits.startswith("1"):
        parts = [
            R("areaCode", digits[1:4]),
            R("countryCode", "1"),
            R("ituPhone", itu),
            R("localNumber", digits[4:]),
        ]
    else:
        parts = [R("ituPhone", itu)]
    return R("contactPhone", *parts)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _names(el: etree._Element | None) -> dict[str, str]:
    """``{NameType/name: name}`` of an element's ``Names`` (first wins; no type -> "")."""
    out: dict[str, str] = {}
    for value, kind in names_of(el):
        out.setdefault(kind or "", value)
    return out


@dataclass
class TroubleOrderData:
    """One ``TroubleOrders`` entry: a trouble order, or a line-crew work order linked to one."""

    mrid: str
    status: str
    status_time: datetime | None = None
    crew: str | None = None
    number: str | None = None
    kind: str = "trouble"  # trouble | work
    work_order: str | None = None  # the linked work order's mRID (on a trouble order)
    work_order_number: str | None = None
    linked_trouble_order: str | None = None  # the trouble order number (on a work order)

    def element(self) -> etree._Element:
        ids = []
        if self.number:
            ids.append(
                names(
                    "or",
                    self.number,
                    "WorkOrderNumber" if self.kind == "work" else "TroubleOrderNumber",
                )
            )
        if self.kind == "work" and self.linked_trouble_order:
            ids.append(names("or", self.linked_trouble_order, "LinkedTroubleOrderNumber"))
        wo = None
        if self.work_order:
            wo = R(
                "WorkOrder",
                R("mRID", self.work_order),
                names("or", self.work_order_number, "WorkOrderNumber")
                if self.work_order_number
                else None,
            )
        return R(
            "TroubleOrders",
            R("mRID", self.mrid),
            R("status", self.status),
            R("statusDateTime", self.status_time) if self.status_time else None,
            R("Crew", names("or", self.crew, "CrewID")) if self.crew else None,
            ids,
            wo,
        )

    @classmethod
    def from_element(cls, el: etree._Element) -> TroubleOrderData:
        names = _names(el)
        crew_el = el.find("or:Crew", NS)
        crew = None
        if crew_el is not None:
            crew = name_of(crew_el, "CrewID")
        wo_el = el.find("or:WorkOrder", NS)
        kind = "work" if "WorkOrderNumber" in names else "trouble"
        return cls(
            mrid=text(el, "or:mRID") or "",
            status=text(el, "or:status") or "",
            status_time=parse_time_or_none(text(el, "or:statusDateTime")),
            crew=crew,
            number=names.get("WorkOrderNumber")
            if kind == "work"
            else names.get("TroubleOrderNumber", names.get("")),
            kind=kind,
            work_order=text(wo_el, "or:mRID") if wo_el is not None else None,
            work_order_number=_names(wo_el).get("WorkOrderNumber") if wo_el is not None else None,
            linked_trouble_order=names.get("LinkedTroubleOrderNumber"),
        )


@dataclass
class RecordData:
    """One ``OutageRecord`` (CIM Outage as the OMS publishes it). ``planned_reason`` set means
    a ``PlannedOutage`` (D11-9), otherwise an ``UnplannedOutage``."""

    mrid: str
    magnitude: str
    status: str
    number: str | None = None
    planned_reason: str | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    cause: str | None = None
    cause_kind: str | None = None
    reported_start: datetime | None = None
    community: str | None = None
    customers_affected: int | None = None
    customers_restored: int | None = None
    meters_affected: int | None = None
    original_customers: int | None = None
    original_meters: int | None = None
    disclaimer: str | None = None
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    contact_phone: str | None = None
    estimated_start: datetime | None = None
    estimated_end: datetime | None = None
    ert: datetime | None = None
    ert_confidence: str | None = None
    ert_source: str | None = None
    incident_id: str | None = None
    incident_cause: str | None = None
    trouble_orders: list[TroubleOrderData] = field(default_factory=list)
    usage_points: list[str] = field(default_factory=list)

    @property
    def planned(self) -> bool:
        return self.planned_reason is not None

    def element(self) -> etree._Element:
        """The ``OutageRecord`` element, children in the schema's order."""

        def opt(tag: str, value: object) -> etree._Element | None:
            return None if value is None else R(tag, value)

        if self.planned:
            kind = R(
                "PlannedOutage",
                R("reason", self.planned_reason),
                _interval("plannedPeriod", self.planned_start, self.planned_end),
            )
        else:
            kind = R(
                "UnplannedOutage",
                opt("cause", self.cause),
                opt("causeKind", self.cause_kind),
                opt("reportedStartTime", self.reported_start),
            )
        ert = None
        if self.ert is not None:
            ert = R(
                "EstimatedRestorationTime",
                R("ert", self.ert),
                opt("ertConfidence", self.ert_confidence),
                opt("ertSource", self.ert_source),
            )
        incident = None
        if self.incident_id or self.incident_cause:
            incident = R(
                "Incident", opt("mRID", self.incident_id), opt("cause", self.incident_cause)
            )
        ups = [R("UsagePoints", esiid_names("or", up)) for up in self.usage_points]
        return R(
            "OutageRecord",
            R("mRID", self.mrid),
            opt("communityDescriptor", self.community),
            opt("customersAffected", self.customers_affected),
            opt("customersRestored", self.customers_restored),
            R("magnitude", self.magnitude),
            opt("metersAffected", self.meters_affected),
            opt("originalCustomersServed", self.original_customers),
            opt("originalMetersAffected", self.original_meters),
            R("statusKind", self.status),
            opt("utilityDisclaimer", self.disclaimer),
            kind,
            _interval("actualPeriod", self.actual_start, self.actual_end),
            phone_element(self.contact_phone) if self.contact_phone else None,
            _interval("estimatedPeriod", self.estimated_start, self.estimated_end),
            ert,
            incident,
            names("or", self.number, "OutageNumber", "OMS") if self.number else None,
            [t.element() for t in self.trouble_orders],
            ups,
        )

    @classmethod
    def from_element(cls, el: etree._Element) -> RecordData:
        planned = el.find("or:PlannedOutage", NS)
        unplanned = el.find("or:UnplannedOutage", NS)
        phone = el.find("or:contactPhone", NS)
        ups = []
        for up in el.findall("or:UsagePoints", NS):
            value = esiid_of(up)
            if value:
                ups.append(value)
        return cls(
            mrid=text(el, "or:mRID") or "",
            magnitude=text(el, "or:magnitude") or "isolated",
            status=text(el, "or:statusKind") or "confirmed",
            number=_names(el).get("OutageNumber"),
            planned_reason=(text(planned, "or:reason") or "") if planned is not None else None,
            planned_start=parse_time_or_none(text(planned, "or:plannedPeriod/or:start")),
            planned_end=parse_time_or_none(text(planned, "or:plannedPeriod/or:end")),
            cause=text(unplanned, "or:cause"),
            cause_kind=text(unplanned, "or:causeKind"),
            reported_start=parse_time_or_none(text(unplanned, "or:reportedStartTime")),
            community=text(el, "or:communityDescriptor"),
            customers_affected=_int(text(el, "or:customersAffected")),
            customers_restored=_int(text(el, "or:customersRestored")),
            meters_affected=_int(text(el, "or:metersAffected")),
            original_customers=_int(text(el, "or:originalCustomersServed")),
            original_meters=_int(text(el, "or:originalMetersAffected")),
            disclaimer=text(el, "or:utilityDisclaimer"),
            actual_start=parse_time_or_none(text(el, "or:actualPeriod/or:start")),
            actual_end=parse_time_or_none(text(el, "or:actualPeriod/or:end")),
            contact_phone=(text(phone, "or:ituPhone") if phone is not None else None),
            estimated_start=parse_time_or_none(text(el, "or:estimatedPeriod/or:start")),
            estimated_end=parse_time_or_none(text(el, "or:estimatedPeriod/or:end")),
            ert=parse_time_or_none(text(el, "or:EstimatedRestorationTime/or:ert")),
            ert_confidence=text(el, "or:EstimatedRestorationTime/or:ertConfidence"),
            ert_source=text(el, "or:EstimatedRestorationTime/or:ertSource"),
            incident_id=text(el, "or:Incident/or:mRID"),
            incident_cause=text(el, "or:Incident/or:cause"),
            trouble_orders=[
                TroubleOrderData.from_element(t) for t in el.findall("or:TroubleOrders", NS)
            ],
            usage_points=ups,
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly view (REST)."""
        out: dict[str, object] = {}
        for k, v in self.__dict__.items():
            if isinstance(v, datetime):
                out[k] = iso(v)
            elif k == "trouble_orders":
                out[k] = [
                    {
                        kk: iso(vv) if isinstance(vv, datetime) else vv
                        for kk, vv in t.__dict__.items()
                    }
                    for t in v
                ]
            else:
                out[k] = v
        return out


def outage_records(records: Iterable[RecordData]) -> etree._Element:
    """The ``OutageRecords`` payload element."""
    return R("OutageRecords", [r.element() for r in records])


def records_of(payload: Iterable[etree._Element]) -> list[RecordData]:
    """Every ``OutageRecord`` in a message payload."""
    out: list[RecordData] = []
    for root in payload:
        if etree.QName(root).namespace != _OR:
            continue
        candidates = (
            [root]
            if etree.QName(root).localname == "OutageRecord"
            else root.findall("or:OutageRecord", NS)
        )
        out.extend(RecordData.from_element(r) for r in candidates)
    return out
