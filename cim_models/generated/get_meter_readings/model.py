from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from xsdata.models.datatype import XmlDateTime

__NAMESPACE__ = "http://iec.ch/TC57/2011/GetMeterReadings#"


@dataclass(kw_only=True)
class DateTimeInterval:
    end: None | XmlDateTime = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    start: None | XmlDateTime = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class NameTypeAuthority:
    description: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        }
    )


class ReadingReasonKind(Enum):
    BILLING = "billing"
    DEMAND_RESET = "demandReset"
    INQUIRY = "inquiry"
    INSTALLATION = "installation"
    LOAD_MANAGEMENT = "loadManagement"
    LOAD_RESEARCH = "loadResearch"
    MOVE_IN = "moveIn"
    MOVE_OUT = "moveOut"
    OTHER = "other"
    REMOVAL = "removal"
    SERVICE_CONNECT = "serviceConnect"
    SERVICE_DISCONNECT = "serviceDisconnect"


@dataclass(kw_only=True)
class NameType:
    description: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        }
    )
    name_type_authority: None | NameTypeAuthority = field(
        default=None,
        metadata={
            "name": "NameTypeAuthority",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class Reading:
    reason: None | ReadingReasonKind = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    source: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    time_period: None | DateTimeInterval = field(
        default=None,
        metadata={
            "name": "timePeriod",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class TimeSchedule:
    schedule_interval: DateTimeInterval = field(
        metadata={
            "name": "scheduleInterval",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        }
    )


@dataclass(kw_only=True)
class Name:
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        }
    )
    name_type: None | NameType = field(
        default=None,
        metadata={
            "name": "NameType",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class EndDevice:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class EndDeviceEventType:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class EndDeviceGroup:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class Meter:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class ReadingQualityType:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class ReadingType:
    """
    :ivar m_rid: The 18-field reading type code.
    :ivar names:
    """

    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class TransformerTank:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class UsagePoint:
    """
    :ivar m_rid:
    :ivar names: E.g. the ESIID, with NameType/name telling what kind of identifier it is.
    """

    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class UsagePointGroup:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class CoincidentReading:
    reason: None | ReadingReasonKind = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    source: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    reading_type: ReadingType = field(
        metadata={
            "name": "ReadingType",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        }
    )
    time_period: None | DateTimeInterval = field(
        default=None,
        metadata={
            "name": "timePeriod",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class EndDeviceEvent:
    end_device_event_type: EndDeviceEventType = field(
        metadata={
            "name": "EndDeviceEventType",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        }
    )


@dataclass(kw_only=True)
class ReadingQuality:
    reading_quality_type: ReadingQualityType = field(
        metadata={
            "name": "ReadingQualityType",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        }
    )


@dataclass(kw_only=True)
class MeterReadings:
    is_coincident_trigger: None | bool = field(
        default=None,
        metadata={
            "name": "isCoincidentTrigger",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    end_device_events: None | EndDeviceEvent = field(
        default=None,
        metadata={
            "name": "EndDeviceEvents",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    meter: None | Meter = field(
        default=None,
        metadata={
            "name": "Meter",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    readings: None | CoincidentReading = field(
        default=None,
        metadata={
            "name": "Readings",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )
    usage_point: None | UsagePoint = field(
        default=None,
        metadata={
            "name": "UsagePoint",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        },
    )


@dataclass(kw_only=True)
class GetMeterReadings:
    """
    :ivar end_device:
    :ivar end_device_group:
    :ivar meter_readings: Asks for readings coincident with a given event or reading.
    :ivar reading: Reading criteria: reason, source and the time window (timePeriod) wanted.
    :ivar reading_quality:
    :ivar reading_type: Reading types wanted; none means all.
    :ivar time_schedule:
    :ivar transformer_tank:
    :ivar usage_point:
    :ivar usage_point_group:
    """

    class Meta:
        namespace = "http://iec.ch/TC57/2011/GetMeterReadings#"

    end_device: list[EndDevice] = field(
        default_factory=list,
        metadata={
            "name": "EndDevice",
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
    meter_readings: None | MeterReadings = field(
        default=None,
        metadata={
            "name": "MeterReadings",
            "type": "Element",
        },
    )
    reading: list[Reading] = field(
        default_factory=list,
        metadata={
            "name": "Reading",
            "type": "Element",
        },
    )
    reading_quality: list[ReadingQuality] = field(
        default_factory=list,
        metadata={
            "name": "ReadingQuality",
            "type": "Element",
        },
    )
    reading_type: list[ReadingType] = field(
        default_factory=list,
        metadata={
            "name": "ReadingType",
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
    transformer_tank: list[TransformerTank] = field(
        default_factory=list,
        metadata={
            "name": "TransformerTank",
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
    usage_point_group: list[UsagePointGroup] = field(
        default_factory=list,
        metadata={
            "name": "UsagePointGroup",
            "type": "Element",
        },
    )
