from __future__ import annotations

from dataclasses import dataclass, field

from xsdata.models.datatype import XmlDateTime

from cim_models.generated.get_meter_readings.model import GetMeterReadings as ModelGetMeterReadings
from cim_models.generated.message.model import (
    HeaderType,
    Idtype,
    OperationSet,
    OptionType,
    ReplyType,
)
from cim_models.generated.meter_readings.model import MeterReadings

__NAMESPACE__ = "http://iec.ch/TC57/2011/GetMeterReadingsMessage"


@dataclass(kw_only=True)
class GetMeterReadingsRequestType:
    """
    The get request: the usual request parameters plus the GetMeterReadings filter profile
    (which objects, which reading types, which time window).
    """

    start_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "StartTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        },
    )
    end_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "EndTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        },
    )
    option: list[OptionType] = field(
        default_factory=list,
        metadata={
            "name": "Option",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        },
    )
    id: list[Idtype] = field(
        default_factory=list,
        metadata={
            "name": "ID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        },
    )
    get_meter_readings: ModelGetMeterReadings = field(
        metadata={
            "name": "GetMeterReadings",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadings#",
        }
    )
    other_element: list[object] = field(
        default_factory=list,
        metadata={
            "type": "Wildcard",
            "namespace": "##other",
        },
    )


@dataclass(kw_only=True)
class MeterReadingsFaultMessageType:
    reply: ReplyType = field(
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        }
    )


@dataclass(kw_only=True)
class MeterReadingsPayloadType:
    """
    :ivar meter_readings:
    :ivar operation_set:
    :ivar compressed: The payload, gzip-compressed and base64-encoded.
    :ivar format:
    """

    meter_readings: None | MeterReadings = field(
        default=None,
        metadata={
            "name": "MeterReadings",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadings#",
        },
    )
    operation_set: None | OperationSet = field(
        default=None,
        metadata={
            "name": "OperationSet",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        },
    )
    compressed: None | str = field(
        default=None,
        metadata={
            "name": "Compressed",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        },
    )
    format: None | str = field(
        default=None,
        metadata={
            "name": "Format",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        },
    )


@dataclass(kw_only=True)
class GetMeterReadingsRequestMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        }
    )
    request: GetMeterReadingsRequestType = field(
        metadata={
            "name": "Request",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        }
    )
    payload: None | MeterReadingsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        },
    )


@dataclass(kw_only=True)
class MeterReadingsFaultMessage(MeterReadingsFaultMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/GetMeterReadingsMessage"


@dataclass(kw_only=True)
class MeterReadingsResponseMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        }
    )
    reply: ReplyType = field(
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        }
    )
    payload: None | MeterReadingsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetMeterReadingsMessage",
        },
    )


@dataclass(kw_only=True)
class GetMeterReadings(GetMeterReadingsRequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/GetMeterReadingsMessage"


@dataclass(kw_only=True)
class MeterReadingsResponseMessage(MeterReadingsResponseMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/GetMeterReadingsMessage"
