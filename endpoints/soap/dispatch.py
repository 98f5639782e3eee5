"""What a SOAP request must be before cimbus looks at the message inside (BUS-4, SEC-3).

The checks, in order (each failure is a specific SOAP Fault, rendered by :mod:`.faults`):

1. content type ``text/xml`` (SOAP 1.1; ``application/xml`` is tolerated);
   ``application/soap+xml`` is SOAP 1.2 -> ``VersionMismatch``; anything else -> HTTP 415;
2. a ``SOAPAction`` HTTP header is present (SOAP 1.1 requires it; it may be ``""``);
3. the body is at most the codec's ``max_bytes`` (HTTP 413; read by the app), inflated when
   it has a ``Content-Encoding`` (gzip, deflate; another coding is HTTP 415; the inflated
   size is held to ``max_bytes`` too) and read in the ``charset`` its Content-Type names
   (:func:`decode_body`);
4. the XML is safe and well-formed: otherwise the *core* decides (it records the attempt and
   answers with its own fault), see :func:`parse_envelope`;
5. the root is a SOAP 1.1 ``Envelope`` (SOAP 1.2 -> ``VersionMismatch``) built as SOAP 1.1
   section 4.1.1 and WS-I BP R1011 say (at most one Header, first; one Body; nothing after
   it) with a ``Body`` holding exactly one element, and no Header block addressed to cimbus
   and marked ``mustUnderstand`` that cimbus does not process (``MustUnderstand``, without a
   ``detail``: SOAP 1.1 section 4.4);
6. the operation: named by SOAPAction when it is non-empty (its last path segment), else by
   the Body's element; it must belong to the service the request was posted to, and the Body
   must hold that operation's input element (or the generic ``RequestMessage`` /
   ``EventMessage`` / ``ResponseMessage`` whose Verb and Noun mean it).

The namespace of the Body's element, its header and its payload are the core's business
(wrong namespace, invalid Verb, invalid dateTime...): the core answers a broken envelope with
a fault and anything else with a ResponseMessage FAILED.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

from lxml import etree

from cim_models import namespaces as ns
from cim_models.codec import soap_parts
from cim_models.errors import UnknownMessageError
from routing.errors import BusError, MalformedMessage, UnsupportedRequest

from . import faults, wire
from .faults import SoapFault
from .services import Operation, Service, operation_from_action, services

ACCEPTED_MEDIA = ("text/xml", "application/xml")
GENERIC = ("RequestMessage", "EventMessage", "ResponseMessage")

#: Header blocks cimbus processes. A block marked mustUnderstand="1" that is not listed here is
#: refused with a MustUnderstand fault, as SOAP 1.1 requires. (WS-Security joins this list when
#: SEC-1 verifies it; until then a mustUnderstand Security header is refused, never ignored.)
UNDERSTOOD_HEADERS: frozenset[str] = frozenset()


@dataclass
class SoapRequest:
    """A checked SOAP 1.1 request: the envelope, its Header and the operation it calls."""

    envelope: etree._Element
    header: etree._Element | None
    element: etree._Element
    operation: Operation

    @property
    def header_bytes(self) -> bytes | None:
        return wire.to_bytes(self.header) if self.header is not None else None


def _fault(
    error: BusError, service: Service | None, code: str = faults.CLIENT, **kw: object
) -> SoapFault:
    return faults.fault_for_error(error, service, code=code, **kw)  # type: ignore[arg-type]


def find_service(name: str) -> Service:
    service = services().get(name)
    if service is None:
        raise _fault(
            UnsupportedRequest(
                f"there is no SOAP service {name!r} here; services: {', '.join(services())} "
                "(GET /ws lists them with their WSDLs)"
            ),
            None,
            status=404,
        )
    return service


def check_content_type(content_type: str | None, service: Service) -> None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == wire.SOAP12_CONTENT_TYPE:
        raise _fault(
            MalformedMessage(
                "SOAP 1.2 (application/soap+xml) is not served: cimbus speaks SOAP 1.1 "
                "(Content-Type text/xml, envelope http://schemas.xmlsoap.org/soap/envelope/)"
            ),
            service,
            code=faults.VERSION_MISMATCH,
        )
    if media not in ACCEPTED_MEDIA:
        raise _fault(
            MalformedMessage(
                f"Content-Type {media or '(none)'!r} is not SOAP 1.1: send text/xml; charset=utf-8"
            ),
            service,
            status=415,
        )


def check_soap_action(action: str | None, service: Service) -> None:
    if action is None:
        raise _fault(
            MalformedMessage(
                "the SOAPAction HTTP header is missing: SOAP 1.1 requires it (it may be empty, "
                f'SOAPAction: ""); for this service use e.g. "{service.operations[0].soap_action}"'
            ),
            service,
        )


def oversize(limit: int, service: Service, *, inflated: bool = False) -> SoapFault:
    what = "the inflated document" if inflated else "document"
    return _fault(
        MalformedMessage(f"{what} is over the limit of {limit} bytes"), service, status=413
    )


# ---------------------------------------------------------------------------- body decoding

#: Content-Encoding values cimbus inflates (RFC 9110 section 8.4.1); Apache CXF's GZIP
#: feature and .NET clients with compression on send gzip
CODINGS = ("gzip", "x-gzip", "deflate", "identity")
ACCEPT_ENCODING = "gzip, deflate, identity"
_UNICODE = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_ENCODING_DECL = re.compile(rb"^<\?xml\s[^>]*?\bencoding\s*=", re.ASCII)


def declared_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type, lower case, unquoted (or None)."""
    if not content_type or ";" not in content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').strip().lower() or None
    return None


def decode_body(
    body: bytes, coding: str | None, content_type: str | None, limits: Any, service: Service
) -> bytes:
    """The request body as XML bytes the parser reads correctly (BUS-4, SEC-3):

    * a ``Content-Encoding`` (gzip, deflate; several applied in the order listed) is undone,
      the inflated size held to ``limits.max_bytes`` as it grows (HTTP 413, so a small
      compressed "bomb" never fills memory); another coding is HTTP 415 with
      ``Accept-Encoding`` (RFC 7694);
    * a ``charset`` the Content-Type names is what the body is in (RFC 3023): a body in a
      charset other than UTF-8 without a BOM or an XML declaration naming its encoding is
      transcoded to UTF-8 (the parser would read it as UTF-8); with a declaration or a BOM
      the document says it itself.
    """
    codings = [c.strip().lower() for c in (coding or "").split(",") if c.strip()]
    for name in reversed(codings):
        if name == "identity":
            continue
        if name not in CODINGS:
            raise _fault(
                MalformedMessage(
                    f"Content-Encoding {name!r} is not supported: send the body uncompressed, "
                    "or compressed with gzip or deflate"
                ),
                service,
                status=415,
                headers={"Accept-Encoding": ACCEPT_ENCODING},
            )
        body = _inflate(body, name, limits.max_bytes, service)
    charset = declared_charset(content_type)
    if charset and charset not in _UNICODE and not _self_described(body):
        body = _transcode(body, charset, service)
        if len(body) > limits.max_bytes:
            raise oversize(limits.max_bytes, service)
    return body


def _inflate(data: bytes, name: str, limit: int, service: Service) -> bytes:
    """gzip (possibly several members) or deflate (zlib-wrapped, or raw as some clients send
    it), never more than ``limit`` bytes out."""
    attempts = (31,) if name in ("gzip", "x-gzip") else (15, -15)
    error: Exception | None = None
    for wbits in attempts:
        try:
            return _inflate_with(data, wbits, limit, service)
        except zlib.error as exc:
            error = error or exc
    raise _fault(
        MalformedMessage(
            f"the body is not valid {'gzip' if name != 'deflate' else 'deflate'} data "
            f"(Content-Encoding: {name}): {error}"
        ),
        service,
    )


def _inflate_with(data: bytes, wbits: int, limit: int, service: Service) -> bytes:
    out: list[bytes] = []
    size = 0
    rest = data
    while True:
        inflater = zlib.decompressobj(wbits)
        chunk = inflater.decompress(rest, limit + 1 - size)
        size += len(chunk)
        out.append(chunk)
        if size > limit or inflater.unconsumed_tail:
            raise oversize(limit, service, inflated=True)
        if not inflater.eof:
            raise zlib.error("the compressed data ends early")
        rest = inflater.unused_data
        if not rest or wbits != 31:  # gzip may hold several members, one after the other
            if rest:
                raise zlib.error(f"{len(rest)} bytes follow the compressed data")
            return b"".join(out)


def _self_described(body: bytes) -> bool:
    """A BOM or an XML declaration naming the encoding: the document says what it is in."""
    return body.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or bool(
        _ENCODING_DECL.match(body)
    )


def _transcode(body: bytes, charset: str, service: Service) -> bytes:
    try:
        text = body.decode(charset)
    except LookupError:
        raise _fault(
            MalformedMessage(
                f"Content-Type names charset {charset!r}, which cimbus does not know: send "
                "UTF-8 (WS-I Basic Profile R1012)"
            ),
            service,
            status=415,
        ) from None
    except UnicodeDecodeError as exc:
        raise _fault(
            MalformedMessage(
                f"the body is not valid {charset} (the charset its Content-Type names): byte "
                f"{exc.start} cannot be decoded"
            ),
            service,
        ) from None
    return text.encode("utf-8")


def check_envelope(
    root: etree._Element, service: Service, actor: str | None = None
) -> tuple[etree._Element | None, etree._Element]:
    """The envelope's Header (or None) and the one element in its Body. ``actor``: this
    service's URL (a Header block addressed to it must be understood, as one addressed to
    nobody or to "next")."""
    q = etree.QName(root)
    if q.localname == "Envelope" and q.namespace != wire.SOAP11_NS:
        version = "SOAP 1.2" if q.namespace == wire.SOAP12_NS else f"namespace {q.namespace!r}"
        raise _fault(
            MalformedMessage(
                f"envelope version mismatch: {version} is not served; cimbus speaks SOAP 1.1 "
                f"(Envelope in {wire.SOAP11_NS})"
            ),
            service,
            code=faults.VERSION_MISMATCH,
        )
    if q.localname != "Envelope":
        raise _fault(
            MalformedMessage(
                f"not a SOAP envelope: the root element is {root.tag}; wrap the message in a "
                f"SOAP 1.1 Envelope/Body ({wire.SOAP11_NS})"
            ),
            service,
        )
    try:
        header, body = soap_parts(root, wire.SOAP11_NS)
    except UnknownMessageError as exc:
        raise _fault(MalformedMessage(_envelope_problem(str(exc))), service) from None
    if header is not None:
        _check_must_understand(header, service, actor)
    children = [c for c in body if isinstance(c.tag, str)]
    if not children:
        raise _fault(
            MalformedMessage(
                f"the SOAP Body is empty: it must hold one message, e.g. {service.operations[0].input_local}"
            ),
            service,
        )
    if len(children) > 1:
        names = ", ".join(etree.QName(c).localname for c in children)
        raise _fault(
            MalformedMessage(
                f"the SOAP Body holds {len(children)} elements ({names}); a document/literal "
                "IEC 61968-100 operation takes exactly one message"
            ),
            service,
        )
    return header, children[0]


def _envelope_problem(message: str) -> str:
    """The codec's words for a misbuilt envelope, as the endpoint says them."""
    if message.endswith("has no Body"):
        return "the SOAP envelope has no Body"
    return message.replace("SOAP 1.1 envelope", "the SOAP envelope", 1)


#: SOAP 1.1 section 4.2.2: a Header block without ``actor`` is for the ultimate recipient
#: (cimbus, for a request posted to it); this URI addresses whoever receives the message next
ACTOR_NEXT = "http://schemas.xmlsoap.org/soap/actor/next"


def _for_us(block: etree._Element, actor: str | None) -> bool:
    """Whether a Header block is addressed to cimbus: no ``actor`` (or an empty one), the
    "next" URI, or this service's own URL. A block for another actor is not processed here,
    so its mustUnderstand is not ours to enforce (SOAP 1.1 sections 4.2.2 and 4.2.3)."""
    target = (block.get(f"{{{wire.SOAP11_NS}}}actor") or "").strip()
    return not target or target == ACTOR_NEXT or (actor is not None and target == actor)


def _check_must_understand(
    header: etree._Element, service: Service, actor: str | None = None
) -> None:
    """SOAP 1.1 section 4.2.3: a block addressed to cimbus and marked mustUnderstand that
    cimbus does not process is refused with a MustUnderstand fault. Its Fault carries no
    ``detail``: section 4.4 reserves detail for errors of the Body."""
    attr = f"{{{wire.SOAP11_NS}}}mustUnderstand"
    for block in header:
        if not isinstance(block.tag, str):
            continue
        if (
            block.get(attr, "0").strip() in ("1", "true")
            and block.tag not in UNDERSTOOD_HEADERS
            and _for_us(block, actor)
        ):
            raise SoapFault(
                code=faults.MUST_UNDERSTAND,
                reason=(
                    f"SOAP Header block {block.tag} is marked mustUnderstand but cimbus does "
                    "not process it"
                ),
                detail=None,
            )


def typed_name(element: etree._Element) -> str:
    """The element's local name; for a generic IEC 61968-100 message (``RequestMessage``,
    ``EventMessage``, ``ResponseMessage``) the typed element its Header's Verb and Noun stand for
    (``create`` + ``EndDeviceControls`` -> ``CreateEndDeviceControls``), so generic messages are
    served by the same operations."""
    q = etree.QName(element)
    if ns.canonical(q.namespace) != ns.MSG_NS or q.localname not in GENERIC:
        return q.localname
    header = next((c for c in element if isinstance(c.tag, str)), None)
    fields = {}
    if header is not None and etree.QName(header).localname == "Header":
        fields = {
            etree.QName(c).localname: (c.text or "").strip()
            for c in header
            if isinstance(c.tag, str)
        }
    verb, noun = fields.get("Verb", ""), fields.get("Noun", "")
    if not noun:
        return q.localname
    if verb == "get":
        return f"Get{noun}"
    if verb == "reply":
        return f"{noun}ResponseMessage"
    prefix = ns.VERB_PREFIX.get(verb)
    return f"{prefix}{noun}" if prefix else q.localname


def action_given(action: str | None) -> bool:
    """Whether a SOAPAction names anything: ``""``, an empty header and a quoted blank
    (``" "``) all mean "dispatch on the Body" (SOAP 1.1 section 6.1.1)."""
    return bool(action and action.strip().strip('"').strip())


def select_operation(service: Service, action: str | None, element: etree._Element) -> Operation:
    """The operation called: by SOAPAction when non-empty, else by the Body's element."""
    local = typed_name(element)
    if local != etree.QName(element).localname:
        local_text = f"{etree.QName(element).localname} ({local})"
    else:
        local_text = local
    listing = ", ".join(service.operation_names)
    name = operation_from_action(action) if action_given(action) else None
    if name is not None:
        op = service.operation(name)
        if op is None:
            raise _fault(
                UnsupportedRequest(
                    f"unknown operation {name!r} (SOAPAction {action.strip()}) for service "
                    f"{service.name}; its operations are: {listing}",
                    object_id=name,
                    object_type="Operation",
                ),
                service,
            )
        if op.input_local != local:
            raise _fault(
                MalformedMessage(
                    f"SOAPAction names operation {op.name}, whose input is {op.input_local}, but "
                    f"the Body holds {local_text}"
                ),
                service,
            )
        return op
    op = service.operation_for_element(local)
    if op is None:
        raise _fault(
            UnsupportedRequest(
                f"unknown operation: the Body element {local_text} is not the input of an operation "
                f"of service {service.name}; its operations are: {listing}",
                object_id=local,
                object_type="Operation",
            ),
            service,
        )
    return op


def check_request(
    root: etree._Element, service: Service, action: str | None, actor: str | None = None
) -> SoapRequest:
    """Steps 5 and 6 on a parsed document (``actor``: this service's URL)."""
    header, element = check_envelope(root, service, actor)
    op = select_operation(service, action, element)
    return SoapRequest(envelope=root, header=header, element=element, operation=op)


__all__ = [
    "UNDERSTOOD_HEADERS",
    "SoapRequest",
    "check_content_type",
    "check_envelope",
    "check_request",
    "check_soap_action",
    "find_service",
    "oversize",
    "select_operation",
]
