from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from xsdata.models.datatype import XmlDateTime

__NAMESPACE__ = "urn:cimbus:2026:OutageRecords#"


@dataclass(kw_only=True)
class DateTimeInterval:
    end: None | XmlDateTime = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    start: None | XmlDateTime = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


class ErtconfidenceKind(Enum):
    HIGH = "high"
    LOW = "low"


@dataclass(kw_only=True)
class Incident:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    cause: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


@dataclass(kw_only=True)
class NameTypeAuthority:
    description: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        }
    )


class OutageCauseKind(Enum):
    """
    The CIM literals, spelling included ("lightingStrike").

    Any other cause goes in the free-text cause.
    """

    ANIMAL = "animal"
    LIGHTING_STRIKE = "lightingStrike"
    LINE_DOWN = "lineDown"
    POLE_DOWN = "poleDown"
    TREE_DOWN = "treeDown"


class OutageMagnitudeKind(Enum):
    """
    cimbus: the qualitative outage size of use case D11.
    """

    ISOLATED = "isolated"
    NEIGHBOURHOOD = "neighbourhood"
    AREA = "area"


class OutageStatusKind(Enum):
    """
    The CIM literals, in lifecycle order.
    """

    PREDICTED = "predicted"
    CONFIRMED = "confirmed"
    PARTIALLY_RESTORED = "partiallyRestored"
    RESTORED = "restored"
    CLOSED = "closed"


@dataclass(kw_only=True)
class TelephoneNumber:
    """
    :ivar area_code:
    :ivar city_code:
    :ivar country_code:
    :ivar extension:
    :ivar itu_phone: The whole number in ITU-T E.164 form, e.g. +18005551234.
    :ivar local_number:
    """

    area_code: None | str = field(
        default=None,
        metadata={
            "name": "areaCode",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    city_code: None | str = field(
        default=None,
        metadata={
            "name": "cityCode",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    country_code: None | str = field(
        default=None,
        metadata={
            "name": "countryCode",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    extension: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    itu_phone: None | str = field(
        default=None,
        metadata={
            "name": "ituPhone",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    local_number: None | str = field(
        default=None,
        metadata={
            "name": "localNumber",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


class TroubleOrderStatusKind(Enum):
    """
    cimbus: the trouble-order steps of D11-3, merged with CIM CrewStatusKind.
    awaitingCrewAssignment, assigned, fieldComplete: as in CIM; enRoute = CIM enroute; onSite =
    CIM arrived; dispatched, acknowledged, ertSet, restored: D11 steps with no CIM literal.

    :cvar AWAITING_CREW_ASSIGNMENT:
    :cvar ASSIGNED:
    :cvar DISPATCHED:
    :cvar ACKNOWLEDGED:
    :cvar EN_ROUTE:
    :cvar ON_SITE:
    :cvar ERT_SET: The ERT was set or updated by the field worker.
    :cvar FIELD_COMPLETE:
    :cvar RESTORED:
    """

    AWAITING_CREW_ASSIGNMENT = "awaitingCrewAssignment"
    ASSIGNED = "assigned"
    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "enRoute"
    ON_SITE = "onSite"
    ERT_SET = "ertSet"
    FIELD_COMPLETE = "fieldComplete"
    RESTORED = "restored"


@dataclass(kw_only=True)
class EstimatedRestorationTime:
    """
    :ivar ert: When power is expected back.
    :ivar ert_confidence: CIM EstimatedRestorationTime.confidenceKind.
    :ivar ert_source: Who set the ERT, e.g. OMS, work management, field worker (override),
        storm centre.
    """

    ert: XmlDateTime = field(
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        }
    )
    ert_confidence: None | ErtconfidenceKind = field(
        default=None,
        metadata={
            "name": "ertConfidence",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    ert_source: None | str = field(
        default=None,
        metadata={
            "name": "ertSource",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


@dataclass(kw_only=True)
class NameType:
    description: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        }
    )
    name_type_authority: None | NameTypeAuthority = field(
        default=None,
        metadata={
            "name": "NameTypeAuthority",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


@dataclass(kw_only=True)
class PlannedOutage:
    """
    :ivar reason: Why the work is done; told to customers in the advance notice (D11-9).
    :ivar planned_period: cimbus: the announced date and time window of the planned outage.
    """

    reason: str = field(
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        }
    )
    planned_period: None | DateTimeInterval = field(
        default=None,
        metadata={
            "name": "plannedPeriod",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


@dataclass(kw_only=True)
class UnplannedOutage:
    """
    :ivar cause: Cause as told to customers (D11-8), free text.
    :ivar cause_kind:
    :ivar reported_start_time: Earliest start reported (first last gasp or call).
    """

    cause: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    cause_kind: None | OutageCauseKind = field(
        default=None,
        metadata={
            "name": "causeKind",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    reported_start_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "reportedStartTime",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


@dataclass(kw_only=True)
class Name:
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        }
    )
    name_type: None | NameType = field(
        default=None,
        metadata={
            "name": "NameType",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


@dataclass(kw_only=True)
class Crew:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


@dataclass(kw_only=True)
class UsagePoint:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


@dataclass(kw_only=True)
class WorkOrder:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


@dataclass(kw_only=True)
class TroubleOrder:
    """
    A field job on the outage; its status changes are what the field worker reports (D11-3).

    :ivar m_rid:
    :ivar status:
    :ivar status_date_time:
    :ivar crew:
    :ivar names:
    :ivar work_order: A work order for a line crew created from this trouble order (D11-6).
    """

    m_rid: str = field(
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        }
    )
    status: TroubleOrderStatusKind = field(
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        }
    )
    status_date_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "statusDateTime",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    crew: None | Crew = field(
        default=None,
        metadata={
            "name": "Crew",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    work_order: None | WorkOrder = field(
        default=None,
        metadata={
            "name": "WorkOrder",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


@dataclass(kw_only=True)
class OutageRecord:
    """
    One outage (CIM Outage) as the OMS publishes it: what kind it is, its status and magnitude,
    the usage points it affects, restoration estimate and the trouble orders working on it.

    :ivar m_rid:
    :ivar community_descriptor: Free text naming the community affected, for customer-facing
        messages.
    :ivar customers_affected: cimbus: customers currently without power.
    :ivar customers_restored:
    :ivar magnitude: cimbus: qualitative size of the outage, given to customers (D11-1,
        D11-2).
    :ivar meters_affected:
    :ivar original_customers_served: Customers served by the outaged part of the network when
        the outage began.
    :ivar original_meters_affected:
    :ivar status_kind:
    :ivar utility_disclaimer:
    :ivar planned_outage:
    :ivar unplanned_outage:
    :ivar actual_period: When power actually went off (start) and came back for all (end).
    :ivar contact_phone: cimbus: number customers may call for more information (D11-2).
    :ivar estimated_period:
    :ivar estimated_restoration_time:
    :ivar incident:
    :ivar names:
    :ivar trouble_orders:
    :ivar usage_points: The usage points without power (their customers are the ones
        notified).
    """

    m_rid: str = field(
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        }
    )
    community_descriptor: None | str = field(
        default=None,
        metadata={
            "name": "communityDescriptor",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    customers_affected: None | int = field(
        default=None,
        metadata={
            "name": "customersAffected",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    customers_restored: None | int = field(
        default=None,
        metadata={
            "name": "customersRestored",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    magnitude: OutageMagnitudeKind = field(
        metadata={
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        }
    )
    meters_affected: None | int = field(
        default=None,
        metadata={
            "name": "metersAffected",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    original_customers_served: None | int = field(
        default=None,
        metadata={
            "name": "originalCustomersServed",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    original_meters_affected: None | int = field(
        default=None,
        metadata={
            "name": "originalMetersAffected",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    status_kind: OutageStatusKind = field(
        metadata={
            "name": "statusKind",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        }
    )
    utility_disclaimer: None | str = field(
        default=None,
        metadata={
            "name": "utilityDisclaimer",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    planned_outage: None | PlannedOutage = field(
        default=None,
        metadata={
            "name": "PlannedOutage",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    unplanned_outage: None | UnplannedOutage = field(
        default=None,
        metadata={
            "name": "UnplannedOutage",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    actual_period: None | DateTimeInterval = field(
        default=None,
        metadata={
            "name": "actualPeriod",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    contact_phone: None | TelephoneNumber = field(
        default=None,
        metadata={
            "name": "contactPhone",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    estimated_period: None | DateTimeInterval = field(
        default=None,
        metadata={
            "name": "estimatedPeriod",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    estimated_restoration_time: None | EstimatedRestorationTime = field(
        default=None,
        metadata={
            "name": "EstimatedRestorationTime",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    incident: None | Incident = field(
        default=None,
        metadata={
            "name": "Incident",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    trouble_orders: list[TroubleOrder] = field(
        default_factory=list,
        metadata={
            "name": "TroubleOrders",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )
    usage_points: list[UsagePoint] = field(
        default_factory=list,
        metadata={
            "name": "UsagePoints",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        },
    )


@dataclass(kw_only=True)
class OutageRecords:
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecords#"

    outage_record: list[OutageRecord] = field(
        default_factory=list,
        metadata={
            "name": "OutageRecord",
            "type": "Element",
        },
    )
