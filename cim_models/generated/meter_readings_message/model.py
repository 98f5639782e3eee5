from __future__ import annotations

from dataclasses import dataclass, field

from cim_models.generated.message.model import (
    HeaderType,
    OperationSet,
    ReplyType,
    RequestType,
)
from cim_models.generated.meter_readings.model import MeterReadings

__NAMESPACE__ = "http://iec.ch/TC57/2011/MeterReadingsMessage"


@dataclass(kw_only=True)
class MeterReadingsFaultMessageType:
    reply: ReplyType = field(
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadingsMessage",
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

    meter_readings: MeterReadings = field(
        metadata={
            "name": "MeterReadings",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadings#",
        }
    )
    operation_set: None | OperationSet = field(
        default=None,
        metadata={
            "name": "OperationSet",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadingsMessage",
        },
    )
    compressed: None | str = field(
        default=None,
        metadata={
            "name": "Compressed",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadingsMessage",
        },
    )
    format: None | str = field(
        default=None,
        metadata={
            "name": "Format",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadingsMessage",
        },
    )


@dataclass(kw_only=True)
class MeterReadingsEventMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadingsMessage",
        }
    )
    payload: None | MeterReadingsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadingsMessage",
        },
    )


@dataclass(kw_only=True)
class MeterReadingsFaultMessage(MeterReadingsFaultMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/MeterReadingsMessage"


@dataclass(kw_only=True)
class MeterReadingsRequestMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadingsMessage",
        }
    )
    request: None | RequestType = field(
        default=None,
        metadata={
            "name": "Request",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadingsMessage",
        },
    )
    payload: None | MeterReadingsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadingsMessage",
        },
    )


@dataclass(kw_only=True)
class MeterReadingsResponseMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadingsMessage",
        }
    )
    reply: ReplyType = field(
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadingsMessage",
        }
    )
    payload: None | MeterReadingsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/MeterReadingsMessage",
        },
    )


@dataclass(kw_only=True)
class CancelMeterReadings(MeterReadingsRequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/MeterReadingsMessage"


@dataclass(kw_only=True)
class CanceledMeterReadings(MeterReadingsEventMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/MeterReadingsMessage"


@dataclass(kw_only=True)
class ChangeMeterReadings(MeterReadingsRequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/MeterReadingsMessage"


@dataclass(kw_only=True)
class ChangedMeterReadings(MeterReadingsEventMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/MeterReadingsMessage"


@dataclass(kw_only=True)
class CloseMeterReadings(MeterReadingsRequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/MeterReadingsMessage"


@dataclass(kw_only=True)
class ClosedMeterReadings(MeterReadingsEventMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/MeterReadingsMessage"


@dataclass(kw_only=True)
class CreateMeterReadings(MeterReadingsRequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/MeterReadingsMessage"


@dataclass(kw_only=True)
class CreatedMeterReadings(MeterReadingsEventMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/MeterReadingsMessage"


@dataclass(kw_only=True)
class DeleteMeterReadings(MeterReadingsRequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/MeterReadingsMessage"


@dataclass(kw_only=True)
class DeletedMeterReadings(MeterReadingsEventMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/MeterReadingsMessage"


@dataclass(kw_only=True)
class MeterReadingsResponseMessage(MeterReadingsResponseMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/MeterReadingsMessage"
