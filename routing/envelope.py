"""The transport-neutral envelope (BUS-1): one object for every message on every transport.

Every endpoint turns what it received (an HTTP body, an AMQP delivery, an MQTT publish, an
in-process message) into an :class:`Envelope`; the core routes, records and answers envelopes
only. An envelope holds all IEC 61968-100 header fields, the message bytes (canonical
namespaces, no SOAP wrapper), the parsed tree with a lazily bound CIM object, and the raw
transport message with its own reply address (AMQP ``reply_to``, MQTT response topic).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cim_models import namespaces as ns
from cim_models.codec import CimMessage
from cim_models.ids import new_message_id as new_message_id  # re-exported: the steps use it

REQUEST_VERBS = frozenset(ns.REQUEST_VERBS) | {"get"}
EVENT_VERBS = frozenset(ns.EVENT_VERBS)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Envelope:
    """One IEC 61968-100 message in transit, whatever carried it."""

    verb: str
    noun: str
    body: bytes
    message_id: str | None = None
    correlation_id: str | None = None
    source: str | None = None
    timestamp: str | None = None
    reply_address: str | None = None
    async_reply: bool = False
    ack_required: bool = False
    user_id: str | None = None
    organization: str | None = None
    revision: str | None = None
    context: str | None = None
    comment: str | None = None
    properties: dict[str, str | None] = field(default_factory=dict)
    element: str = ""  # root element, e.g. CreateEndDeviceControls
    form: str = "typed"  # typed | get | generic | payload
    message: CimMessage | None = field(default=None, repr=False)
    # transport side
    transport: str = ""
    reply_to: str | None = None  # the transport's own reply address (AMQP reply_to, MQTT topic)
    raw: Any = field(default=None, repr=False)
    received_at: datetime = field(default_factory=utcnow)

    @classmethod
    def from_message(
        cls,
        message: CimMessage,
        *,
        transport: str = "",
        reply_to: str | None = None,
        raw: Any = None,
        body: bytes | None = None,
    ) -> Envelope:
        """Build the envelope from a parsed message (header read from the tree, no binding)."""
        h = message.header()
        user = h.get("User") or {}
        return cls(
            verb=h.get("Verb", ""),
            noun=h.get("Noun") or message.noun or "",
            body=body if body is not None else message.to_bytes(),
            message_id=h.get("MessageID") or None,
            correlation_id=h.get("CorrelationID") or None,
            source=h.get("Source") or None,
            timestamp=h.get("Timestamp") or None,
            reply_address=h.get("ReplyAddress") or None,
            async_reply=bool(h.get("AsyncReplyFlag", False)),
            ack_required=bool(h.get("AckRequired", False)),
            user_id=user.get("UserID") or None,
            organization=user.get("Organization") or None,
            revision=h.get("Revision") or None,
            context=h.get("Context") or None,
            comment=h.get("Comment") or None,
            properties=dict(h.get("Property") or {}),
            element=message.element,
            form=message.form,
            message=message,
            transport=transport,
            reply_to=reply_to,
            raw=raw,
        )

    # ---------------------------------------------------------------- classification
    @property
    def is_request(self) -> bool:
        return self.verb in REQUEST_VERBS

    @property
    def is_event(self) -> bool:
        return self.verb in EVENT_VERBS

    @property
    def is_reply(self) -> bool:
        return self.verb == "reply" or self.element.endswith("FaultMessage")

    @property
    def kind(self) -> str:
        return "request" if self.is_request else "event" if self.is_event else "reply"

    @property
    def obj(self) -> Any:
        """The message bound to its generated class (lazy; costs ~20 us per interval reading)."""
        if self.message is None:
            raise ValueError("envelope has no parsed message to bind")
        return self.message.bound

    def describe(self) -> str:
        """One readable line: verb noun, IDs, parties."""
        ids = f"id={self.message_id or '-'}"
        if self.correlation_id:
            ids += f" corr={self.correlation_id}"
        return f"{self.verb} {self.noun} ({self.element}) {ids} from {self.source or '?'}"
