from __future__ import annotations

from dataclasses import dataclass, field

from cim_models.generated.message.model import (
    HeaderType,
    OperationSet,
    ReplyType,
    RequestType,
)
from cim_models.generated.outage_records.model import OutageRecords

__NAMESPACE__ = "urn:cimbus:2026:OutageRecordsMessage"


@dataclass(kw_only=True)
class OutageRecordsFaultMessageType:
    reply: ReplyType = field(
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecordsMessage",
        }
    )


@dataclass(kw_only=True)
class OutageRecordsPayloadType:
    """
    :ivar outage_records:
    :ivar operation_set:
    :ivar compressed: The payload, gzip-compressed and base64-encoded.
    :ivar format:
    """

    outage_records: OutageRecords = field(
        metadata={
            "name": "OutageRecords",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecords#",
        }
    )
    operation_set: None | OperationSet = field(
        default=None,
        metadata={
            "name": "OperationSet",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecordsMessage",
        },
    )
    compressed: None | str = field(
        default=None,
        metadata={
            "name": "Compressed",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecordsMessage",
        },
    )
    format: None | str = field(
        default=None,
        metadata={
            "name": "Format",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecordsMessage",
        },
    )


@dataclass(kw_only=True)
class OutageRecordsEventMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecordsMessage",
        }
    )
    payload: None | OutageRecordsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecordsMessage",
        },
    )


@dataclass(kw_only=True)
class OutageRecordsFaultMessage(OutageRecordsFaultMessageType):
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecordsMessage"


@dataclass(kw_only=True)
class OutageRecordsRequestMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecordsMessage",
        }
    )
    request: None | RequestType = field(
        default=None,
        metadata={
            "name": "Request",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecordsMessage",
        },
    )
    payload: None | OutageRecordsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecordsMessage",
        },
    )


@dataclass(kw_only=True)
class OutageRecordsResponseMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecordsMessage",
        }
    )
    reply: ReplyType = field(
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecordsMessage",
        }
    )
    payload: None | OutageRecordsPayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "urn:cimbus:2026:OutageRecordsMessage",
        },
    )


@dataclass(kw_only=True)
class CancelOutageRecords(OutageRecordsRequestMessageType):
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecordsMessage"


@dataclass(kw_only=True)
class CanceledOutageRecords(OutageRecordsEventMessageType):
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecordsMessage"


@dataclass(kw_only=True)
class ChangeOutageRecords(OutageRecordsRequestMessageType):
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecordsMessage"


@dataclass(kw_only=True)
class ChangedOutageRecords(OutageRecordsEventMessageType):
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecordsMessage"


@dataclass(kw_only=True)
class CloseOutageRecords(OutageRecordsRequestMessageType):
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecordsMessage"


@dataclass(kw_only=True)
class ClosedOutageRecords(OutageRecordsEventMessageType):
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecordsMessage"


@dataclass(kw_only=True)
class CreateOutageRecords(OutageRecordsRequestMessageType):
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecordsMessage"


@dataclass(kw_only=True)
class CreatedOutageRecords(OutageRecordsEventMessageType):
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecordsMessage"


@dataclass(kw_only=True)
class DeleteOutageRecords(OutageRecordsRequestMessageType):
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecordsMessage"


@dataclass(kw_only=True)
class DeletedOutageRecords(OutageRecordsEventMessageType):
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecordsMessage"


@dataclass(kw_only=True)
class OutageRecordsResponseMessage(OutageRecordsResponseMessageType):
    class Meta:
        namespace = "urn:cimbus:2026:OutageRecordsMessage"
