"""IEC 61968-100 header <-> MQTT 5 properties (BUS-1, BUS-6, BUS-7).

The message body is always the complete IEC 61968-100 message: its Header is the truth and
cimbus reads it when it parses. The MQTT 5 properties repeat what a broker-side tool, a bridge
or a receiver needs *without* parsing XML, and carry the request/reply plumbing that MQTT 5
standardises:

=====================  =================================  =========================================
MQTT 5 property        value                              IEC 61968-100 / cimbus meaning
=====================  =================================  =========================================
Response Topic         topic                              where to answer (the AMQP ``reply_to``)
Correlation Data       bytes (UTF-8 MessageID)            echoed unchanged on the answer; a request
                                                          sends its MessageID, so the answer's
                                                          Correlation Data = its CorrelationID
Content Type           ``application/xml``                the body is an IEC 61968-100 XML message
User ``message_id``    Header/MessageID                   de-duplication, correlation
User ``correlation_id`` Header/CorrelationID              the request a reply or event answers
User ``verb``          Header/Verb                        get, create, ..., reply, created, ...
User ``noun``          Header/Noun                        MeterReadings, EndDeviceEvents, ...
User ``source``        Header/Source                      the sending system
User ``result``        Reply/Result (answers only)        OK, PARTIAL, FAILED
=====================  =================================  =========================================

The user-property names are the AMQP property / header names of ``endpoints/amqp`` and
``endpoints/embedded``, so the three transports describe a message the same way. A receiver
reading them trusts nothing: cimbus routes on the parsed Header, not on the properties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ..embedded import message_id_of

CONTENT_TYPE = "application/xml"

#: Header element -> user property name (the data the mapping is built from).
HEADER_PROPERTIES: dict[str, str] = {
    "MessageID": "message_id",
    "CorrelationID": "correlation_id",
    "Verb": "verb",
    "Noun": "noun",
    "Source": "source",
}
#: user properties that are not Header elements
EXTRA_PROPERTIES: tuple[str, ...] = ("result",)

_FIELD = {
    name: re.compile(rb"<(?:[\w.-]+:)?" + name.encode() + rb">\s*([^<\s]+)\s*</")
    for name in ("CorrelationID", "Verb", "Noun", "Source", "Result")
}
_HEADER_END = re.compile(rb"</(?:[\w.-]+:)?Header\s*>")
_PEEK = 16384  # the Header (and a response's Reply/Result) comes first


@dataclass(frozen=True, slots=True)
class MessageProperties:
    """What travels in MQTT 5 properties beside the body."""

    message_id: str | None = None
    correlation_id: str | None = None
    verb: str | None = None
    noun: str | None = None
    source: str | None = None
    result: str | None = None
    response_topic: str | None = None
    correlation_data: bytes | None = None
    content_type: str | None = CONTENT_TYPE
    other: tuple[tuple[str, str], ...] = field(default=())  # user properties we do not map

    # ---------------------------------------------------------------- from the body
    @classmethod
    def from_body(
        cls,
        body: bytes,
        *,
        response_topic: str | None = None,
        correlation_data: bytes | None = None,
    ) -> MessageProperties:
        """The properties of a message, read from its Header without parsing the XML (each
        element's first occurrence inside the Header; Result from the Reply after it)."""
        head = body[:_PEEK]
        end = _HEADER_END.search(head)
        header, rest = (head[: end.end()], head[end.end() :]) if end else (b"", head)
        found = {}
        for name, rx in _FIELD.items():
            m = rx.search(rest if name == "Result" else header)
            found[name] = m.group(1).decode("utf-8", "replace") if m else None
        return cls(
            message_id=message_id_of(header) if header else None,
            correlation_id=found["CorrelationID"],
            verb=found["Verb"],
            noun=found["Noun"],
            source=found["Source"],
            result=found["Result"],
            response_topic=response_topic,
            correlation_data=correlation_data,
        )

    # ---------------------------------------------------------------- paho
    def to_mqtt(self) -> Properties:
        """The PUBLISH properties (MQTT 5)."""
        props = Properties(PacketTypes.PUBLISH)
        if self.content_type:
            props.ContentType = self.content_type
        if self.response_topic:
            props.ResponseTopic = self.response_topic
        if self.correlation_data is not None:
            props.CorrelationData = self.correlation_data
        user = [(k, v) for k, v in self.user_properties().items()]
        user.extend(self.other)
        if user:
            props.UserProperty = user
        return props

    def user_properties(self) -> dict[str, str]:
        names = (*HEADER_PROPERTIES.values(), *EXTRA_PROPERTIES)
        return {n: getattr(self, n) for n in names if getattr(self, n)}

    @classmethod
    def from_mqtt(cls, props: Properties | None) -> MessageProperties:
        """Read the properties of a received PUBLISH (absent ones are None)."""
        if props is None:
            return cls(content_type=None)
        known = {*HEADER_PROPERTIES.values(), *EXTRA_PROPERTIES}
        values: dict[str, str] = {}
        other: list[tuple[str, str]] = []
        for key, value in getattr(props, "UserProperty", None) or []:
            if key in known and key not in values:
                values[key] = value
            else:
                other.append((key, value))
        correlation = getattr(props, "CorrelationData", None)
        return cls(
            **values,
            response_topic=getattr(props, "ResponseTopic", None) or None,
            correlation_data=bytes(correlation) if correlation is not None else None,
            content_type=getattr(props, "ContentType", None) or None,
            other=tuple(other),
        )

    # ---------------------------------------------------------------- helpers
    @property
    def correlation_key(self) -> str | None:
        """The request this message answers: its Correlation Data (as text), else its
        ``correlation_id`` user property."""
        if self.correlation_data:
            return self.correlation_data.decode("utf-8", "replace")
        return self.correlation_id

    def as_meta(self) -> dict[str, object]:
        """For ``Bus.handle(meta=...)`` and the audit: every non-empty field."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in (None, (), b""):
                out[f.name] = (
                    value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                )
        return out


__all__ = ["CONTENT_TYPE", "EXTRA_PROPERTIES", "HEADER_PROPERTIES", "MessageProperties"]
