from __future__ import annotations

from dataclasses import dataclass, field

from cim_models.generated.end_device_events.model import EndDeviceEvents
from cim_models.generated.message.model import (
    HeaderType,
    OperationSet,
    ReplyType,
    RequestType,
)

__NAMESPACE__ = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"


@dataclass(kw_only=True)
class EndDeviceEventsFaultMessageType:
    reply: ReplyType = field(
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
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

    end_device_events: EndDeviceEvents = field(
        metadata={
            "name": "EndDeviceEvents",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        }
    )
    operation_set: None | OperationSet = field(
        default=None,
        metadata={
            "name": "OperationSet",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
        },
    )
    compressed: None | str = field(
        default=None,
        metadata={
            "name": "Compressed",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
        },
    )
    format: None | str = field(
        default=None,
        metadata={
            "name": "Format",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
        },
    )


@dataclass(kw_only=True)
class EndDeviceEventsEventMessageType:
    """
    :ivar header:
    :ivar reply: Optional outcome carried by an event, as head-ends do when they report the
        result of a command as events (acknowledgements, B2-4).
    :ivar payload:
    """

    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
        }
    )
    reply: None | ReplyType = field(
        default=None,
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
        },
    )
    payload: None | EndDeviceEventsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
        },
    )


@dataclass(kw_only=True)
class EndDeviceEventsFaultMessage(EndDeviceEventsFaultMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"


@dataclass(kw_only=True)
class EndDeviceEventsRequestMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
        }
    )
    request: None | RequestType = field(
        default=None,
        metadata={
            "name": "Request",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
        },
    )
    payload: None | EndDeviceEventsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
        },
    )


@dataclass(kw_only=True)
class EndDeviceEventsResponseMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
        }
    )
    reply: ReplyType = field(
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
        }
    )
    payload: None | EndDeviceEventsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEventsMessage",
        },
    )


@dataclass(kw_only=True)
class CancelEndDeviceEvents(EndDeviceEventsRequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"


@dataclass(kw_only=True)
class CanceledEndDeviceEvents(EndDeviceEventsEventMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"


@dataclass(kw_only=True)
class ChangeEndDeviceEvents(EndDeviceEventsRequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"


@dataclass(kw_only=True)
class ChangedEndDeviceEvents(EndDeviceEventsEventMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"


@dataclass(kw_only=True)
class CloseEndDeviceEvents(EndDeviceEventsRequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"


@dataclass(kw_only=True)
class ClosedEndDeviceEvents(EndDeviceEventsEventMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"


@dataclass(kw_only=True)
class CreateEndDeviceEvents(EndDeviceEventsRequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"


@dataclass(kw_only=True)
class CreatedEndDeviceEvents(EndDeviceEventsEventMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"


@dataclass(kw_only=True)
class DeleteEndDeviceEvents(EndDeviceEventsRequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"


@dataclass(kw_only=True)
class DeletedEndDeviceEvents(EndDeviceEventsEventMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"


@dataclass(kw_only=True)
class EndDeviceEventsResponseMessage(EndDeviceEventsResponseMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEventsMessage"
