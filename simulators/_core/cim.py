"""Reading and writing the CIM messages simulators exchange (IEC 61968-100 envelopes carrying
IEC 61968-9 payloads), with lxml only: simulators reach cimbus over the wire and use
``cim_models`` for building, parsing and validating, nothing else of cimbus.

:class:`Incoming` is a received message with its header fields at hand; :func:`reply` answers
one (in the Get wrapper for a ``get``, so the answer validates), :func:`failed` answers with
Result FAILED and an IEC 61968-100 error code, :func:`event` / :func:`request` build what a
simulator sends on its own. ``NS`` holds the payload namespaces, ``E`` builds elements.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from cim_models import namespaces as ns
from cim_models.build import ReplyError, RequestPart, build_message, now_iso
from cim_models.codec import CimMessage, Codec

__all__ = [
    "NS",
    "E",
    "Incoming",
    "SimError",
    "event",
    "failed",
    "iso",
    "reply",
    "request",
    "text",
    "texts",
]

NS = {
    "msg": ns.MSG_NS,
    "mr": "http://iec.ch/TC57/2011/MeterReadings#",
    "gmr": "http://iec.ch/TC57/2011/GetMeterReadings#",
    "edc": "http://iec.ch/TC57/2011/EndDeviceControls#",
    "ede": "http://iec.ch/TC57/2011/EndDeviceEvents#",
    "gede": "http://iec.ch/TC57/2011/GetEndDeviceEvents#",
    "or": "urn:cimbus:2026:OutageRecords#",
}


class SimError(Exception):
    """A simulator refuses a request: becomes a FAILED reply with this IEC 61968-100 code
    (2.7 business rule, 2.12 unknown object, 3.2 not authorised, 4.1 timeout, ...)."""

    def __init__(
        self,
        code: str,
        reason: str,
        *,
        object_id: str | None = None,
        object_type: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.object_id = object_id
        self.object_type = object_type


class _Builder:
    """``E.mr("MeterReading", E.mr("mRID", "x"))``: elements in a payload namespace."""

    def __getattr__(self, prefix: str) -> Any:
        namespace = NS[prefix]

        def make(tag: str, *children: Any, **attrs: str) -> etree._Element:
            el = etree.Element(
                f"{{{namespace}}}{tag}", nsmap={None: namespace} if prefix != "msg" else None
            )
            for child in children:
                if child is None:
                    continue
                if isinstance(child, etree._Element):
                    el.append(child)
                elif isinstance(child, (list, tuple)):
                    for c in child:
                        if c is not None:
                            el.append(c)
                else:
                    el.text = _str(child)
            for k, v in attrs.items():
                el.set(k, _str(v))
            return el

        return make


E = _Builder()


def _str(value: Any) -> str:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.1f}"
    return str(value)


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def text(el: etree._Element | None, path: str) -> str | None:
    """The stripped text at ``path`` (prefixes from NS) under ``el``, or None."""
    if el is None:
        return None
    found = el.find(path, NS)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def texts(el: etree._Element | None, path: str) -> list[str]:
    if el is None:
        return []
    return [(f.text or "").strip() for f in el.findall(path, NS) if (f.text or "").strip()]


@dataclass
class Incoming:
    """A message a simulator received (or the answer to one it sent)."""

    body: bytes
    message: CimMessage
    header: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, body: bytes, codec: Codec) -> Incoming:
        message = codec.parse(body)
        return cls(body=body, message=message, header=message.header())

    # header fields
    @property
    def verb(self) -> str:
        return self.header.get("Verb", "")

    @property
    def noun(self) -> str:
        return self.header.get("Noun") or self.message.noun or ""

    @property
    def message_id(self) -> str | None:
        return self.header.get("MessageID") or None

    @property
    def correlation_id(self) -> str | None:
        return self.header.get("CorrelationID") or None

    @property
    def source(self) -> str | None:
        return self.header.get("Source") or None

    @property
    def organization(self) -> str | None:
        return (self.header.get("User") or {}).get("Organization") or None

    @property
    def user_id(self) -> str | None:
        return (self.header.get("User") or {}).get("UserID") or None

    @property
    def element(self) -> str:
        return self.message.element

    @property
    def form(self) -> str:
        return self.message.form

    @property
    def root(self) -> etree._Element:
        return self.message.root

    @property
    def payload(self) -> list[etree._Element]:
        return self.message.payload_elements()

    def child(self, name: str) -> etree._Element | None:
        for c in self.root:
            if isinstance(c.tag, str) and etree.QName(c).localname == name:
                return c
        return None

    @property
    def request(self) -> etree._Element | None:
        return self.child("Request")

    @property
    def get_filter(self) -> etree._Element | None:
        """The ``Get<Noun>`` element inside Request (get requests)."""
        req = self.request
        if req is None:
            return None
        for c in req:
            if isinstance(c.tag, str) and etree.QName(c).localname == f"Get{self.noun}":
                return c
        return None

    def window(self) -> tuple[str | None, str | None]:
        """Request StartTime / EndTime (wrapper or msg namespace)."""
        req = self.request
        if req is None:
            return None, None
        start = end = None
        for c in req:
            if not isinstance(c.tag, str):
                continue
            local = etree.QName(c).localname
            if local == "StartTime":
                start = (c.text or "").strip() or None
            elif local == "EndTime":
                end = (c.text or "").strip() or None
        return start, end

    @property
    def result(self) -> str | None:
        reply = self.child("Reply")
        return text(reply, "msg:Result") if reply is not None else None

    @property
    def errors(self) -> list[dict[str, str | None]]:
        reply = self.child("Reply")
        if reply is None:
            return []
        return [
            {
                "code": text(e, "msg:code"),
                "level": text(e, "msg:level"),
                "reason": text(e, "msg:reason"),
            }
            for e in reply.findall("msg:Error", NS)
        ]

    @property
    def is_reply(self) -> bool:
        return self.verb == "reply" or self.element.endswith("FaultMessage")

    @property
    def is_event(self) -> bool:
        return self.verb in ns.EVENT_VERBS

    def summary(self) -> str:
        ids = f"id={self.message_id or '-'}"
        if self.correlation_id:
            ids += f" corr={self.correlation_id}"
        res = f" {self.result}" if self.result else ""
        return f"{self.verb} {self.noun} {ids}{res}"


def _root_for(incoming: Incoming) -> dict[str, str]:
    if incoming.form == "get":
        return {
            "namespace": incoming.message.namespace,
            "element": f"{incoming.noun}ResponseMessage",
        }
    if incoming.form == "generic":
        return {"form": "generic"}
    return {}


def reply(
    incoming: Incoming,
    *,
    source: str,
    result: str = "OK",
    payload: Iterable[etree._Element] = (),
    errors: Sequence[ReplyError] = (),
    comment: str | None = None,
    reply_ids: Sequence[str] = (),
    timestamp: str | None = None,
) -> bytes:
    """The reply to ``incoming`` (CorrelationID = its MessageID)."""
    return build_message(
        "reply",
        incoming.noun,
        correlation_id=incoming.message_id,
        source=source,
        result=result,
        errors=errors,
        payload=list(payload),
        comment=comment,
        reply_ids=reply_ids,
        timestamp=timestamp,
        **_root_for(incoming),
    )


def failed(
    incoming: Incoming, error: SimError, *, source: str, timestamp: str | None = None
) -> bytes:
    return reply(
        incoming,
        source=source,
        result="FAILED",
        errors=[
            ReplyError(
                error.code,
                "FATAL",
                error.reason,
                object_id=error.object_id,
                object_type=error.object_type,
            )
        ],
        timestamp=timestamp,
    )


def event(
    verb: str,
    noun: str,
    payload: Iterable[etree._Element],
    *,
    source: str,
    timestamp: datetime | str | None = None,
    organization: str | None = None,
    user_id: str | None = None,
    comment: str | None = None,
    properties: Mapping[str, str | None] | None = None,
    message_id: str | None = None,
) -> bytes:
    """An event message (created/changed/... ``noun``) carrying ``payload``."""
    return build_message(
        verb,
        noun,
        payload=list(payload),
        source=source,
        timestamp=iso(timestamp) if isinstance(timestamp, datetime) else (timestamp or now_iso()),
        user_id=user_id or (f"{source.lower()}-sim" if organization else None),
        organization=organization,
        comment=comment,
        properties=properties,
        message_id=message_id or str(uuid.uuid4()),
    )


def request(
    verb: str,
    noun: str,
    *,
    source: str,
    payload: Iterable[etree._Element] = (),
    get_filter: etree._Element | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    organization: str | None = None,
    user_id: str | None = None,
    async_reply: bool | None = None,
    reply_address: str | None = None,
    timestamp: datetime | str | None = None,
    comment: str | None = None,
    message_id: str | None = None,
) -> bytes:
    """A request (get / create / change / cancel / ...). For ``get``, ``get_filter`` is the
    ``Get<Noun>`` element and ``start``/``end`` the Request time window."""
    part = None
    if verb == "get" or start or end:
        part = RequestPart(
            start=iso(start) if isinstance(start, datetime) else start,
            end=iso(end) if isinstance(end, datetime) else end,
            filter=get_filter,
        )
    return build_message(
        verb,
        noun,
        payload=list(payload),
        source=source,
        request=part,
        organization=organization,
        user_id=user_id or (f"{source.lower()}-sim" if organization else None),
        async_reply=async_reply,
        reply_address=reply_address,
        timestamp=iso(timestamp) if isinstance(timestamp, datetime) else (timestamp or now_iso()),
        comment=comment,
        message_id=message_id or str(uuid.uuid4()),
    )
