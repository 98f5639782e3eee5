"""What a SOAP request must be before cimbus looks at the message inside (BUS-4, SEC-3).

The checks, in order (each failure is a specific SOAP Fault, rendered by :mod:`.faults`):

1. content type ``text/xml`` (SOAP 1.1; ``application/xml`` is tolerated);
   ``application/soap+xml`` is SOAP 1.2 -> ``VersionMismatch``; anything else -> HTTP 415;
2. a ``SOAPAction`` HTTP header is present (SOAP 1.1 requires it; it may be ``""``);
3. the body is at most the codec's ``max_bytes`` (HTTP 413; read by the app);
4. the XML is safe and well-formed: otherwise the *core* decides (it records the attempt and
   answers with its own fault), see :func:`parse_envelope`;
5. the root is a SOAP 1.1 ``Envelope`` (SOAP 1.2 -> ``VersionMismatch``) with a ``Body``
   holding exactly one element, and no Header block marked ``mustUnderstand`` that cimbus does
   not process (``MustUnderstand``);
6. the operation: named by SOAPAction when it is non-empty (its last path segment), else by
   the Body's element; it must belong to the service the request was posted to, and the Body
   must hold that operation's input element (or the generic ``RequestMessage`` /
   ``EventMessage`` / ``ResponseMessage`` whose Verb and Noun mean it).

The namespace of the Body's element, its header and its payload are the core's business
(wrong namespace, invalid Verb, invalid dateTime...): the core answers a broken envelope with
a fault and anything else with a ResponseMessage FAILED.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from cim_models import namespaces as ns
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


def oversize(limit: int, service: Service) -> SoapFault:
    return _fault(
        MalformedMessage(f"document is over the limit of {limit} bytes"), service, status=413
    )


def check_envelope(
    root: etree._Element, service: Service
) -> tuple[etree._Element | None, etree._Element]:
    """The envelope's Header (or None) and the one element in its Body."""
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
    header = root.find(f"{{{wire.SOAP11_NS}}}Header")
    body = root.find(f"{{{wire.SOAP11_NS}}}Body")
    if body is None:
        raise _fault(MalformedMessage("the SOAP envelope has no Body"), service)
    if header is not None:
        _check_must_understand(header, service)
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


def _check_must_understand(header: etree._Element, service: Service) -> None:
    attr = f"{{{wire.SOAP11_NS}}}mustUnderstand"
    for block in header:
        if not isinstance(block.tag, str):
            continue
        if block.get(attr, "0").strip() in ("1", "true") and block.tag not in UNDERSTOOD_HEADERS:
            raise _fault(
                MalformedMessage(
                    f"SOAP Header block {block.tag} is marked mustUnderstand but cimbus does not "
                    "process it"
                ),
                service,
                code=faults.MUST_UNDERSTAND,
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


def select_operation(service: Service, action: str | None, element: etree._Element) -> Operation:
    """The operation called: by SOAPAction when non-empty, else by the Body's element."""
    local = typed_name(element)
    if local != etree.QName(element).localname:
        local_text = f"{etree.QName(element).localname} ({local})"
    else:
        local_text = local
    listing = ", ".join(service.operation_names)
    name = operation_from_action(action) if action and action.strip().strip('"') else None
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


def check_request(root: etree._Element, service: Service, action: str | None) -> SoapRequest:
    """Steps 5 and 6 on a parsed document."""
    header, element = check_envelope(root, service)
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
