"""Reading and writing the CIM messages simulators exchange (IEC 61968-100 envelopes carrying
IEC 61968-9 payloads), with lxml only: simulators reach cimbus over the wire and use
``cim_models`` for building, parsing and validating, nothing else of cimbus.

:class:`Incoming` is a received message with its header fields at hand; :func:`reply` answers
one (in the Get wrapper for a ``get``, so the answer validates), :func:`failed` answers with
Result FAILED and an IEC 61968-100 error code, :func:`event` / :func:`request` build what a
simulator sends on its own. ``NS`` holds the payload namespaces, ``E`` builds elements.

Identities follow the simulators' shared contract (docs/simulators.md): a usage point is named by
its ESIID (``Names/name`` with ``NameType/name`` "ESIID", ``NameTypeAuthority/name`` "ERCOT") or
its mRID; a meter by its meter number (``Names/name`` with ``NameType/name`` "MeterNumber") or its
mRID. :func:`names`, :func:`esiid_names`, :func:`meter_names`, :func:`usage_point_el` and
:func:`meter_el` write them in any payload namespace; :func:`esiid_of`, :func:`meter_of` and
:func:`name_of` read them from any namespace (with :func:`child`, :func:`children`,
:func:`text_at`, :func:`ref_of`). :func:`local_iso` writes a time in a party's local time zone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from cim_models import namespaces as ns
from cim_models.build import ReplyError, RequestPart, build_message, now_iso
from cim_models.codec import CimMessage, Codec

from .clock import parse_time

__all__ = [
    "ESIID",
    "ESIID_AUTHORITY",
    "METER_NUMBER",
    "NS",
    "E",
    "Incoming",
    "SimError",
    "child",
    "children",
    "esiid_names",
    "esiid_of",
    "event",
    "failed",
    "iso",
    "local",
    "local_iso",
    "meter_el",
    "meter_names",
    "meter_of",
    "name_of",
    "names",
    "names_of",
    "outage_entries",
    "ref_of",
    "reply",
    "request",
    "text",
    "text_at",
    "texts",
    "usage_point_el",
    "zone",
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


# --------------------------------------------------------------------------- times
def zone(tz: str | tzinfo) -> tzinfo:
    """A time zone given by name (``America/Chicago``) or as a tzinfo."""
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def local_iso(dt: datetime | str, tz: str | tzinfo) -> str:
    """``dt`` in local time with its offset (how Texas parties write times)."""
    return parse_time(dt).astimezone(zone(tz)).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- identities
ESIID = "ESIID"
ESIID_AUTHORITY = "ERCOT"
METER_NUMBER = "MeterNumber"


def local(el: Any) -> str:
    """The local name of an element ("" for comments and processing instructions)."""
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def child(el: etree._Element | None, name: str) -> etree._Element | None:
    """The first child with local name ``name`` (any namespace)."""
    if el is None:
        return None
    for c in el:
        if isinstance(c.tag, str) and etree.QName(c).localname == name:
            return c
    return None


def children(el: etree._Element | None, name: str) -> list[etree._Element]:
    """The children with local name ``name`` (any namespace)."""
    if el is None:
        return []
    return [c for c in el if isinstance(c.tag, str) and etree.QName(c).localname == name]


def text_at(el: etree._Element | None, *path: str) -> str | None:
    """The stripped text at the path of local names under ``el`` (any namespace), or None."""
    for step in path:
        el = child(el, step)
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def ref_of(el: etree._Element | None) -> str | None:
    """A code given as ``@ref`` or as an ``mRID`` child."""
    if el is None:
        return None
    return (el.get("ref") or "").strip() or text_at(el, "mRID")


def names_of(el: etree._Element | None) -> list[tuple[str, str | None]]:
    """``(name, NameType/name)`` of every ``Names`` child of ``el`` that has a name."""
    out = []
    for n in children(el, "Names"):
        value = text_at(n, "name")
        if value:
            out.append((value, text_at(n, "NameType", "name")))
    return out


def name_of(el: etree._Element | None, name_type: str) -> str | None:
    """The identity of ``el``: its name of type ``name_type`` (case-insensitive), else its
    mRID, else its first name."""
    if el is None:
        return None
    named = names_of(el)
    for value, kind in named:
        if (kind or "").lower() == name_type.lower():
            return value
    return text_at(el, "mRID") or (named[0][0] if named else None)


def esiid_of(usage_point: etree._Element | None) -> str | None:
    """The ESIID of a UsagePoint: its ``ESIID`` name, else its mRID, else its first name."""
    return name_of(usage_point, ESIID)


def meter_of(device: etree._Element | None) -> str | None:
    """The meter number of a Meter / EndDevice / Assets: its ``MeterNumber`` name, else its
    mRID, else its first name."""
    return name_of(device, METER_NUMBER)


def names(prefix: str, value: str, name_type: str, authority: str | None = None) -> etree._Element:
    """``<Names><name/><NameType><name/><NameTypeAuthority><name/>...`` in ``prefix``'s namespace."""
    b = getattr(E, prefix)
    return b(
        "Names",
        b("name", value),
        b(
            "NameType",
            b("name", name_type),
            b("NameTypeAuthority", b("name", authority)) if authority else None,
        ),
    )


def esiid_names(prefix: str, esiid: str) -> etree._Element:
    """The ``Names`` of a usage point: its ESIID, authority ERCOT."""
    return names(prefix, esiid, ESIID, ESIID_AUTHORITY)


def meter_names(prefix: str, meter: str, authority: str | None = None) -> etree._Element:
    """The ``Names`` of a meter: its meter number."""
    return names(prefix, meter, METER_NUMBER, authority)


def usage_point_el(esiid: str, *, prefix: str = "mr", tag: str = "UsagePoint") -> etree._Element:
    """``<UsagePoint><Names>ESIID / ERCOT</Names></UsagePoint>`` in ``prefix``'s namespace."""
    return getattr(E, prefix)(tag, esiid_names(prefix, esiid))


def meter_el(
    meter: str, *, prefix: str = "mr", tag: str = "Meter", authority: str | None = None
) -> etree._Element:
    """A meter by mRID and ``MeterNumber`` name."""
    b = getattr(E, prefix)
    return b(tag, b("mRID", meter), meter_names(prefix, meter, authority))


def outage_entries(
    incoming: Incoming, received: str, *, source: bool = False
) -> list[tuple[dict[str, Any], list[str]]]:
    """What a system that only follows outages logs of an ``OutageRecords`` message: one entry
    per ``OutageRecord`` (mRID, statusKind, magnitude, ERT), with the ESIIDs of its usage
    points. ``source`` adds the sending system to the entry."""
    out = []
    for root in incoming.payload:
        for record in children(root, "OutageRecord"):
            entry: dict[str, Any] = {
                "kind": "outage",
                "received": received,
                "message_id": incoming.message_id,
            }
            if source:
                entry["source"] = incoming.source
            entry.update(
                {
                    "verb": incoming.verb,
                    "mRID": text_at(record, "mRID"),
                    "statusKind": text_at(record, "statusKind"),
                    "magnitude": text_at(record, "magnitude"),
                    "ert": text_at(record, "EstimatedRestorationTime", "ert"),
                }
            )
            esiids = [esiid_of(up) for up in children(record, "UsagePoints")]
            out.append((entry, [e for e in esiids if e]))
    return out


# --------------------------------------------------------------------------- messages
@dataclass
class Incoming:
    """A message a simulator received (or the answer to one it sent)."""

    body: bytes
    message: CimMessage
    header: dict[str, Any] = field(default_factory=dict)
    #: for an answer to one of the simulator's requests: that request's MessageID and the
    #: root element the operation promises, ``(namespace, element)`` (set by
    #: :meth:`Simulator.request`; None otherwise)
    request_id: str | None = None
    expected_root: tuple[str, str] | None = None

    @classmethod
    def parse(cls, body: bytes, codec: Codec) -> Incoming:
        message = codec.parse(body)
        return cls(body=body, message=message, header=message.header())

    def expected_answer(self) -> tuple[str, str]:
        """The root element ``(namespace, element)`` the answer to this request must be: the
        ``<Noun>ResponseMessage`` of its own wrapper namespace (``Get<Noun>Message`` for a
        get), or the generic ``ResponseMessage``."""
        if self.form == "generic":
            return ns.MSG_NS, "ResponseMessage"
        return self.message.namespace, f"{self.noun}ResponseMessage"

    def schema_issues(self) -> list[Any]:
        """Every XSD violation of this message against the project's profiles (empty: valid)."""
        codec = self.message._codec or Codec()
        return codec.validate(self.message)

    def reply_problems(self) -> list[str]:
        """Why this answer is not a conforming reply to the request it answers (empty: it is):
        the wrong root element or namespace, a payload in another noun's namespace, a reply
        that breaks its XSD (the first violation, with its line and path), a Result OK to a
        get without a Payload, a CorrelationID other than the request's MessageID."""
        problems = []
        got = (self.message.namespace, self.element)
        if self.expected_root is not None and got != self.expected_root:
            problems.append(
                f"the reply is {{{got[0]}}}{got[1]}, expected "
                f"{{{self.expected_root[0]}}}{self.expected_root[1]}"
            )
        profile = ns.PROFILES.get(self.noun)
        wanted = profile.payload_ns if profile is not None else None
        for el in self.payload_objects():
            found = etree.QName(el).namespace
            if wanted and found != wanted:
                problems.append(f"payload in namespace {found}, expected {wanted}")
                break
        issues = self.schema_issues()
        if issues:
            more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
            problems.append(f"the reply breaks its schema: {issues[0]}{more}")
        if (
            self.result == "OK"
            and self.expected_root is not None
            and self.expected_root[0] == (profile.get_wrapper_ns if profile else None)
            and not self.has_payload()
        ):
            problems.append("Result OK but no Payload")
        if self.request_id is not None and self.correlation_id != self.request_id:
            problems.append(
                f"CorrelationID {self.correlation_id or '(none)'} is not the request's "
                f"MessageID {self.request_id}"
            )
        return problems

    def has_payload(self) -> bool:
        return any(
            isinstance(c.tag, str) and etree.QName(c).localname == "Payload" for c in self.root
        )

    def payload_objects(self) -> list[etree._Element]:
        """The children of ``Payload`` whatever their namespace (``payload`` drops those in
        the wrapper and message namespaces)."""
        for c in self.root:
            if isinstance(c.tag, str) and etree.QName(c).localname == "Payload":
                return [
                    p
                    for p in c
                    if isinstance(p.tag, str)
                    and etree.QName(p).namespace not in (self.message.namespace, ns.MSG_NS)
                ]
        return []

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
        return child(self.root, name)

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
