"""IEC 61968-100 Header <-> AMQP 0-9-1 basic properties (BUS-5), in one place.

============================  =====================================================
AMQP property                 from
============================  =====================================================
``message_id``                Header/MessageID
``correlation_id``            Header/CorrelationID; on a reply cimbus renders: the
                              request's MessageID
``reply_to``                  where the receiver answers (a queue name)
``type``                      Verb + Noun, e.g. ``createdMeterReadings``
``timestamp``                 Header/Timestamp (seconds since the epoch), else now
``content_type``              ``application/xml``
``delivery_mode``             2 (persistent)
``headers``                   ``verb``, ``noun``, ``source`` (Header/Source),
                              ``result`` (Reply/Result, on replies)
``user_id``                   read only: RabbitMQ checks it against the connection's
                              user, so cimbus uses it as the authenticated principal
============================  =====================================================

The body is always the IEC 61968-100 message bytes, unchanged; the properties repeat the header
so that brokers, taps and consumers can route and correlate without parsing XML.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pika

from endpoints.embedded import message_id_of
from routing.transport import Delivery

CONTENT_TYPE = "application/xml"
PERSISTENT = 2

_TYPE = re.compile(r"^([a-z]+)([A-Z]\w*)$")


def header_field(body: bytes, name: str) -> str | None:
    """The first ``<…:name>value</…>`` of a message (Header fields come first), read without
    parsing, like :func:`endpoints.embedded.message_id_of`."""
    if name == "MessageID":
        return message_id_of(body)
    m = re.search(rb"<(?:\w+:)?" + name.encode() + rb">\s*([^<]*?)\s*</", body[:8192])
    if not m or not m.group(1):
        return None
    return m.group(1).decode("utf-8", "replace")


def _epoch(iso: str | None) -> int | None:
    if not iso:
        return None
    try:
        return int(datetime.fromisoformat(iso).timestamp())
    except ValueError:
        return None


@dataclass(frozen=True)
class WireFields:
    """The transport-neutral view of one AMQP message's properties."""

    message_id: str | None = None
    correlation_id: str | None = None
    reply_to: str | None = None
    verb: str = ""
    noun: str = ""
    source: str | None = None
    result: str | None = None
    timestamp: int | None = None  # seconds since the epoch
    user_id: str | None = None  # set by the sender, checked by RabbitMQ; never sent by cimbus
    headers: Mapping[str, Any] = field(default_factory=dict)  # other application headers

    @property
    def type(self) -> str | None:
        return f"{self.verb}{self.noun}" if self.verb or self.noun else None

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_body(cls, body: bytes, **overrides: Any) -> WireFields:
        """Read the Header of an IEC 61968-100 message (fast, without parsing); keyword
        arguments override what was read."""
        verb = header_field(body, "Verb") or ""
        fields = cls(
            message_id=message_id_of(body),
            correlation_id=header_field(body, "CorrelationID"),
            verb=verb,
            noun=header_field(body, "Noun") or "",
            source=header_field(body, "Source"),
            result=header_field(body, "Result") if verb == "reply" else None,
            timestamp=_epoch(header_field(body, "Timestamp")),
        )
        return replace(fields, **overrides) if overrides else fields

    @classmethod
    def from_delivery(cls, d: Delivery) -> WireFields:
        """What cimbus sends a system (routing.transport.Delivery)."""
        extra = {k: v for k, v in d.headers.items() if k not in ("verb", "noun", "source")}
        result = extra.pop("result", None)
        if d.verb == "reply" and result is None:
            result = header_field(d.body, "Result")
        return cls(
            message_id=d.message_id,
            correlation_id=d.correlation_id,
            reply_to=d.reply_to,
            verb=d.verb,
            noun=d.noun,
            source=d.headers.get("source"),
            result=result,
            headers=extra,
        )

    @classmethod
    def from_properties(cls, props: pika.BasicProperties | None) -> WireFields:
        if props is None:
            return cls()
        headers = dict(props.headers or {})
        verb = _text(headers.pop("verb", None))
        noun = _text(headers.pop("noun", None))
        if not (verb or noun) and props.type:
            m = _TYPE.match(props.type)
            if m:
                verb, noun = m.group(1), m.group(2)
        return cls(
            message_id=props.message_id,
            correlation_id=props.correlation_id,
            reply_to=props.reply_to,
            verb=verb or "",
            noun=noun or "",
            source=_text(headers.pop("source", None)),
            result=_text(headers.pop("result", None)),
            timestamp=props.timestamp,
            user_id=props.user_id,
            headers={k: _text(v) if isinstance(v, bytes) else v for k, v in headers.items()},
        )

    # ---------------------------------------------------------------- rendering
    def to_properties(self, *, app_id: str = "cimbus") -> pika.BasicProperties:
        headers: dict[str, Any] = {k: v for k, v in self.headers.items() if v is not None}
        for key in ("verb", "noun", "source", "result"):
            value = getattr(self, key)
            if value:
                headers[key] = value
        return pika.BasicProperties(
            content_type=CONTENT_TYPE,
            delivery_mode=PERSISTENT,
            message_id=self.message_id,
            correlation_id=self.correlation_id,
            reply_to=self.reply_to,
            type=self.type,
            timestamp=self.timestamp if self.timestamp is not None else int(time.time()),
            app_id=app_id,
            headers=headers,
        )

    def as_dict(self) -> dict[str, Any]:
        """For ``Exchange.meta["properties"]`` and logs."""
        return {
            "message_id": self.message_id,
            "correlation_id": self.correlation_id,
            "reply_to": self.reply_to,
            "type": self.type,
            "timestamp": self.timestamp,
            "verb": self.verb,
            "noun": self.noun,
            "source": self.source,
            "result": self.result,
            "user_id": self.user_id,
            "headers": dict(self.headers),
        }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


__all__ = ["CONTENT_TYPE", "PERSISTENT", "WireFields", "header_field"]
