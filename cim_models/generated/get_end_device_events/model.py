from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from xsdata.models.datatype import XmlDateTime

__NAMESPACE__ = "http://iec.ch/TC57/2011/GetEndDeviceEvents#"


@dataclass(kw_only=True)
class DateTimeInterval:
    end: None | XmlDateTime = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    start: None | XmlDateTime = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class EndDeviceEventDetail:
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        }
    )
    value: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class NameTypeAuthority:
    description: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        }
    )


class ServiceKind(Enum):
    ELECTRICITY = "electricity"
    GAS = "gas"
    HEAT = "heat"
    INTERNET = "internet"
    OTHER = "other"
    RATES = "rates"
    REFUSE = "refuse"
    SEWERAGE = "sewerage"
    TIME = "time"
    TV_LICENCE = "tvLicence"
    WATER = "water"


@dataclass(kw_only=True)
class Status:
    date_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "dateTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    reason: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    remark: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    value: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class NameType:
    description: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        }
    )
    name_type_authority: None | NameTypeAuthority = field(
        default=None,
        metadata={
            "name": "NameTypeAuthority",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class TimeSchedule:
    schedule_interval: DateTimeInterval = field(
        metadata={
            "name": "scheduleInterval",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        }
    )


@dataclass(kw_only=True)
class Name:
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        }
    )
    name_type: None | NameType = field(
        default=None,
        metadata={
            "name": "NameType",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class Asset:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class Customer:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class EndDeviceEventType:
    """
    :ivar m_rid: The event code wanted (type.domain.subDomain.eventOrAction).
    :ivar names:
    """

    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class EndDeviceGroup:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class Meter:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class ServiceCategory:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    kind: None | ServiceKind = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class UsagePoint:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class EndDeviceEvent:
    """
    Query by example: an event whose fields must match.
    """

    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    created_date_time: XmlDateTime = field(
        metadata={
            "name": "createdDateTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        }
    )
    issuer_id: None | str = field(
        default=None,
        metadata={
            "name": "issuerID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    issuer_tracking_id: None | str = field(
        default=None,
        metadata={
            "name": "issuerTrackingID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    reason: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    severity: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    user_id: None | str = field(
        default=None,
        metadata={
            "name": "userID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    assets: None | Asset = field(
        default=None,
        metadata={
            "name": "Assets",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    end_device_event_details: list[EndDeviceEventDetail] = field(
        default_factory=list,
        metadata={
            "name": "EndDeviceEventDetails",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    end_device_event_type: EndDeviceEvent.EndDeviceEventType = field(
        metadata={
            "name": "EndDeviceEventType",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        }
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    status: None | Status = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )
    usage_point: None | UsagePoint = field(
        default=None,
        metadata={
            "name": "UsagePoint",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
        },
    )

    @dataclass(kw_only=True)
    class EndDeviceEventType:
        ref: None | str = field(
            default=None,
            metadata={
                "type": "Attribute",
            },
        )


@dataclass(kw_only=True)
class GetEndDeviceEvents:
    """
    :ivar customer:
    :ivar end_device_event:
    :ivar end_device_event_type:
    :ivar end_device_group:
    :ivar meter:
    :ivar service_category:
    :ivar time_schedule: The time window of the events wanted (open-ended when end is
        absent).
    :ivar usage_point:
    """

    class Meta:
        namespace = "http://iec.ch/TC57/2011/GetEndDeviceEvents#"

    customer: list[Customer] = field(
        default_factory=list,
        metadata={
            "name": "Customer",
            "type": "Element",
        },
    )
    end_device_event: list[EndDeviceEvent] = field(
        default_factory=list,
        metadata={
            "name": "EndDeviceEvent",
            "type": "Element",
        },
    )
    end_device_event_type: list[EndDeviceEventType] = field(
        default_factory=list,
        metadata={
            "name": "EndDeviceEventType",
            "type": "Element",
        },
    )
    end_device_group: list[EndDeviceGroup] = field(
        default_factory=list,
        metadata={
            "name": "EndDeviceGroup",
            "type": "Element",
        },
    )
    meter: list[Meter] = field(
        default_factory=list,
        metadata={
            "name": "Meter",
            "type": "Element",
        },
    )
    service_category: list[ServiceCategory] = field(
        default_factory=list,
        metadata={
            "name": "ServiceCategory",
            "type": "Element",
        },
    )
    time_schedule: list[TimeSchedule] = field(
        default_factory=list,
        metadata={
            "name": "TimeSchedule",
            "type": "Element",
        },
    )
    usage_point: list[UsagePoint] = field(
        default_factory=list,
        metadata={
            "name": "UsagePoint",
            "type": "Element",
        },
    )
