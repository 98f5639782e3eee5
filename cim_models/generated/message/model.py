from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from xml.etree.ElementTree import QName

from xsdata.models.datatype import XmlDateTime

__NAMESPACE__ = "http://iec.ch/TC57/2011/schema/message"


class IdkindType(Enum):
    NAME = "name"
    UUID = "uuid"
    TRANSACTION = "transaction"
    OTHER = "other"


class LevelType(Enum):
    INFORM = "INFORM"
    WARNING = "WARNING"
    FATAL = "FATAL"
    CATASTROPHIC = "CATASTROPHIC"


@dataclass(kw_only=True)
class LocationType:
    node: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    pipeline: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    stage: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class MessageProperty:
    name: str = field(
        metadata={
            "name": "Name",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    value: None | str = field(
        default=None,
        metadata={
            "name": "Value",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class NameTypeAuthority:
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    description: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class OperationType:
    operation_id: int = field(
        metadata={
            "name": "operationId",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    noun: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    verb: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    element_operation: None | bool = field(
        default=None,
        metadata={
            "name": "elementOperation",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    other_element: None | object = field(
        default=None,
        metadata={
            "type": "Wildcard",
            "namespace": "##other",
            "process_contents": "skip",
        },
    )


@dataclass(kw_only=True)
class OptionType:
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    value: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class ReplayDetectionType:
    nonce: str = field(
        metadata={
            "name": "Nonce",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    created: XmlDateTime = field(
        metadata={
            "name": "Created",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )


class ResultType(Enum):
    OK = "OK"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"


@dataclass(kw_only=True)
class UserType:
    user_id: str = field(
        metadata={
            "name": "UserID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    organization: None | str = field(
        default=None,
        metadata={
            "name": "Organization",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


class VerbType(Enum):
    CANCEL = "cancel"
    CANCELED = "canceled"
    CHANGE = "change"
    CHANGED = "changed"
    CREATE = "create"
    CREATED = "created"
    CLOSE = "close"
    CLOSED = "closed"
    DELETE = "delete"
    DELETED = "deleted"
    GET = "get"
    REPLY = "reply"
    EXECUTE = "execute"
    EXECUTED = "executed"


@dataclass(kw_only=True)
class HeaderType:
    """
    Message header: what the message is (Verb + Noun) and who sends it, how to answer it and how
    to correlate the answer.

    :ivar verb:
    :ivar noun: The name of the information object (the payload's root element), for example
        MeterReadings, EndDeviceControls, EndDeviceEvents.
    :ivar revision:
    :ivar replay_detection:
    :ivar context: Intended context: PRODUCTION, TESTING, STUDY, TRAINING, ...
    :ivar timestamp:
    :ivar source:
    :ivar async_reply_flag: true: answer at once with an acknowledgement and deliver the
        reply later to ReplyAddress.
    :ivar reply_address:
    :ivar ack_required:
    :ivar user:
    :ivar message_id:
    :ivar correlation_id:
    :ivar comment:
    :ivar property:
    :ivar other_element:
    """

    verb: VerbType = field(
        metadata={
            "name": "Verb",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    noun: str = field(
        metadata={
            "name": "Noun",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    revision: None | str = field(
        default=None,
        metadata={
            "name": "Revision",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    replay_detection: None | ReplayDetectionType = field(
        default=None,
        metadata={
            "name": "ReplayDetection",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    context: None | str = field(
        default=None,
        metadata={
            "name": "Context",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    timestamp: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "Timestamp",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    source: None | str = field(
        default=None,
        metadata={
            "name": "Source",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    async_reply_flag: None | bool = field(
        default=None,
        metadata={
            "name": "AsyncReplyFlag",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    reply_address: None | str = field(
        default=None,
        metadata={
            "name": "ReplyAddress",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    ack_required: None | bool = field(
        default=None,
        metadata={
            "name": "AckRequired",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    user: None | UserType = field(
        default=None,
        metadata={
            "name": "User",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    message_id: None | str = field(
        default=None,
        metadata={
            "name": "MessageID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    correlation_id: None | str = field(
        default=None,
        metadata={
            "name": "CorrelationID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    comment: None | str = field(
        default=None,
        metadata={
            "name": "Comment",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    property: list[MessageProperty] = field(
        default_factory=list,
        metadata={
            "name": "Property",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    other_element: list[object] = field(
        default_factory=list,
        metadata={
            "type": "Wildcard",
            "namespace": "##other",
        },
    )


@dataclass(kw_only=True)
class Idtype:
    """
    An identifier with optional qualifiers (kind: name, uuid, transaction, other; objectType:
    the CIM class it identifies).
    """

    class Meta:
        name = "IDType"

    value: str = field(default="")
    id_type: None | str = field(
        default=None,
        metadata={
            "name": "idType",
            "type": "Attribute",
        },
    )
    id_authority: None | str = field(
        default=None,
        metadata={
            "name": "idAuthority",
            "type": "Attribute",
        },
    )
    kind: None | IdkindType = field(
        default=None,
        metadata={
            "type": "Attribute",
        },
    )
    object_type: None | str = field(
        default=None,
        metadata={
            "name": "objectType",
            "type": "Attribute",
        },
    )


@dataclass(kw_only=True)
class NameType:
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    description: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    name_type_authority: None | NameTypeAuthority = field(
        default=None,
        metadata={
            "name": "NameTypeAuthority",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class OperationSet:
    """
    Several operations (verb + noun + object) carried in one message.
    """

    enforce_msg_sequence: None | bool = field(
        default=None,
        metadata={
            "name": "enforceMsgSequence",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    enforce_transactional_integrity: None | bool = field(
        default=None,
        metadata={
            "name": "enforceTransactionalIntegrity",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    operation: list[OperationType] = field(
        default_factory=list,
        metadata={
            "name": "Operation",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class Name:
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    name_type: None | NameType = field(
        default=None,
        metadata={
            "name": "NameType",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class PayloadType:
    """
    The information object(s) of the message: any profile root element (for example
    MeterReadings), an OperationSet, a gzip+base64 Compressed payload or plain IDs.

    IEC 61968-100 declares this wildcard processContents="skip"; cimbus's profile says "lax": a
    payload whose profile cimbus knows is validated against it (and bound to its generated
    class), anything else passes unchecked. Every message valid here is valid under the
    standard's "skip".
    """

    other_element: list[object] = field(
        default_factory=list,
        metadata={
            "type": "Wildcard",
            "namespace": "##other",
        },
    )
    operation_set: None | OperationSet = field(
        default=None,
        metadata={
            "name": "OperationSet",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    compressed: None | str = field(
        default=None,
        metadata={
            "name": "Compressed",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    id: list[Idtype] = field(
        default_factory=list,
        metadata={
            "name": "ID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    format: None | str = field(
        default=None,
        metadata={
            "name": "Format",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class RequestType:
    """
    Request parameters: a time window, options and IDs of the objects the request is about.
    """

    start_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "StartTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    end_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "EndTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    option: list[OptionType] = field(
        default_factory=list,
        metadata={
            "name": "Option",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    id: list[Idtype] = field(
        default_factory=list,
        metadata={
            "name": "ID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    other_element: list[object] = field(
        default_factory=list,
        metadata={
            "type": "Wildcard",
            "namespace": "##other",
        },
    )


@dataclass(kw_only=True)
class EventMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    payload: None | PayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class ObjectType:
    """
    Deprecated by IEC 61968-100 in favour of Error/ID; kept so that older peers' replies
    validate.
    """

    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    name: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Name",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    object_type: None | str = field(
        default=None,
        metadata={
            "name": "objectType",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class RequestMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    request: None | RequestType = field(
        default=None,
        metadata={
            "name": "Request",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    payload: None | PayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class ErrorType:
    """
    One error or warning: a code (IEC 61968-100 code such as 0.0, 2.4, 2.12, or a local one),
    its level, a human-readable reason and where it happened (xpath of the offending element, ID
    of the offending object).
    """

    code: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    level: None | LevelType = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    reason: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    details: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    xpath: None | QName = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    stack_trace: None | str = field(
        default=None,
        metadata={
            "name": "stackTrace",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    location: None | LocationType = field(
        default=None,
        metadata={
            "name": "Location",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    id: None | Idtype = field(
        default=None,
        metadata={
            "name": "ID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    related_id: None | Idtype = field(
        default=None,
        metadata={
            "name": "relatedID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    object_value: None | ObjectType = field(
        default=None,
        metadata={
            "name": "object",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    operation_id: None | int = field(
        default=None,
        metadata={
            "name": "operationId",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class EventMessage(EventMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/schema/message"


@dataclass(kw_only=True)
class RequestMessage(RequestMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/schema/message"


@dataclass(kw_only=True)
class ReplyType:
    """
    Outcome of a request: Result OK, PARTIAL or FAILED, with errors and the IDs of the objects a
    create produced.
    """

    result: ResultType = field(
        metadata={
            "name": "Result",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    error: list[ErrorType] = field(
        default_factory=list,
        metadata={
            "name": "Error",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    id: list[Idtype] = field(
        default_factory=list,
        metadata={
            "name": "ID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    other_element: list[object] = field(
        default_factory=list,
        metadata={
            "type": "Wildcard",
            "namespace": "##other",
        },
    )
    operation_id: None | int = field(
        default=None,
        metadata={
            "name": "operationId",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class FaultMessageType:
    reply: ReplyType = field(
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )


@dataclass(kw_only=True)
class MessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    request: None | RequestType = field(
        default=None,
        metadata={
            "name": "Request",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    reply: None | ReplyType = field(
        default=None,
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )
    payload: None | PayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class ResponseMessageType:
    header: HeaderType = field(
        metadata={
            "name": "Header",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    reply: ReplyType = field(
        metadata={
            "name": "Reply",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        }
    )
    payload: None | PayloadType = field(
        default=None,
        metadata={
            "name": "Payload",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/schema/message",
        },
    )


@dataclass(kw_only=True)
class FaultMessage(FaultMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/schema/message"


@dataclass(kw_only=True)
class Message(MessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/schema/message"


@dataclass(kw_only=True)
class ResponseMessage(ResponseMessageType):
    class Meta:
        namespace = "http://iec.ch/TC57/2011/schema/message"
