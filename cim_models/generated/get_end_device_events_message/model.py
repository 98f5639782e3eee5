from __future__ import annotations

from dataclasses import dataclass, field

from xsdata.models.datatype import XmlDateTime

from cim_models.generated.end_device_events.model import EndDeviceEvents
from cim_models.generated.get_end_device_events.model import (
    GetEndDeviceEvents as ModelGetEndDeviceEvents,
)
from cim_models.generated.message.model import (
    HeaderType,
    Idtype,
    OperationSet,
    OptionType,
    ReplyType,
)

__NAMESPACE__ = "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage"


@dataclass(kw_only=True)
class EndDeviceEventsFaultMessageType:
    reply: ReplyType = field(
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        }
    )


@dataclass(kw_only=True)
class EndDeviceEventsPayloadType:
    """
    :ivar end_device_events:
    :ivar operation_set:
    :ivar compressed: The payload, gzip-compressed and base64-encoded.
    :ivar format:
    """

    end_device_events: None | EndDeviceEvents = field(
        default=None,
        metadata={
            "name": "EndDeviceEvents",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    operation_set: None | OperationSet = field(
        default=None,
        metadata={
            "name": "OperationSet",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        },
    )
    compressed: None | str = field(
        default=None,
        metadata={
            "name": "Compressed",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        },
    )
    format: None | str = field(
        default=None,
        metadata={
            "name": "Format",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        },
    )


@dataclass(kw_only=True)
class GetEndDeviceEventsRequestType:
    """
    The get request: the usual request parameters plus the GetEndDeviceEvents filter profile
    (which objects, which reading types, which time window).
    """

    start_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "StartTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        },
    )
    end_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "EndTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        },
    )
    option: list[OptionType] = field(
        default_factory=list,
        metadata={
            "name": "Option",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        },
    )
    id: list[Idtype] = field(
        default_factory=list,
        metadata={
            "name": "ID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        },
    )
    get_end_device_events: ModelGetEndDeviceEvents = field(
        metadata={
            "name": "GetEndDeviceEvents",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
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
class EndDeviceEventsFaultMessage(EndDeviceEventsFaultMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage"


@dataclass(kw_only=True)
class EndDeviceEventsResponseMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        }
    )
    reply: ReplyType = field(
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        }
    )
    payload: None | EndDeviceEventsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        },
    )


@dataclass(kw_only=True)
class GetEndDeviceEventsRequestMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        }
    )
    request: GetEndDeviceEventsRequestType = field(
        metadata={
            "name": "Request",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        }
    )
    payload: None | EndDeviceEventsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage",
        },
    )


@dataclass(kw_only=True)
class EndDeviceEventsResponseMessage(EndDeviceEventsResponseMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage"


@dataclass(kw_only=True)
class GetEndDeviceEvents(GetEndDeviceEventsRequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage"
