"""SOAP 1.1 on the wire: wrap a message in an envelope, take it out again (BUS-4).

Pure helpers shared by the server (:mod:`.app`), the outbound transport (:mod:`.outbound`) and
the client (:mod:`.client`). Untrusted bytes are parsed with :func:`cim_models.safexml.parse_bytes`
only (no DTD, no entities, size and depth limits).
"""

from __future__ import annotations

import copy

from lxml import etree

from cim_models import namespaces as ns
from cim_models.safexml import DEFAULT_LIMITS, Limits, parse_bytes

SOAP11_NS = ns.SOAP11_NS
SOAP12_NS = ns.SOAP12_NS
MSG_NS = ns.MSG_NS
#: SOAP 1.1 over HTTP: text/xml (SOAP 1.2 uses application/soap+xml).
CONTENT_TYPE = "text/xml; charset=utf-8"
SOAP12_CONTENT_TYPE = "application/soap+xml"

_WRAPPER_LEVEL = ("Header", "Request", "Reply", "Payload")


class NotSoap(ValueError):
    """Bytes that should hold a SOAP 1.1 envelope with one message in its Body do not."""


def to_bytes(element: etree._Element) -> bytes:
    """An element as a standalone UTF-8 document (namespace declarations included)."""
    return etree.tostring(element, encoding="UTF-8", xml_declaration=True)


def root_local(data: bytes) -> str:
    """The local name of a document's root element (``b""`` -> ``""``)."""
    if not data:
        return ""
    return etree.QName(parse_bytes(data, Limits(max_bytes=max(len(data), 1)))).localname


def wrap(
    message: bytes | etree._Element,
    *,
    header: etree._Element | bytes | None = None,
    limits: Limits = DEFAULT_LIMITS,
    take: bool = False,
) -> bytes:
    """``message`` in a SOAP 1.1 envelope (``header``: a SOAP Header element, or its children).
    ``take``: ``message`` is an element the caller hands over (moved into the envelope, not
    copied)."""
    env = etree.Element(f"{{{SOAP11_NS}}}Envelope", nsmap={"soapenv": SOAP11_NS})
    if header is not None:
        h = parse_bytes(header, limits) if isinstance(header, bytes) else copy.deepcopy(header)
        if etree.QName(h).localname == "Header" and etree.QName(h).namespace == SOAP11_NS:
            env.append(h)
        else:
            etree.SubElement(env, f"{{{SOAP11_NS}}}Header").append(h)
    body = etree.SubElement(env, f"{{{SOAP11_NS}}}Body")
    if isinstance(message, bytes):
        el = parse_bytes(message, limits)
    else:
        el = message if take else copy.deepcopy(message)
    body.append(el)
    return to_bytes(env)


def body_elements(envelope: etree._Element) -> list[etree._Element]:
    """The element children of a SOAP envelope's Body (1.1 or 1.2); [] without a Body."""
    soap_ns = etree.QName(envelope).namespace
    body = envelope.find(f"{{{soap_ns}}}Body")
    if body is None:
        return []
    return [c for c in body if isinstance(c.tag, str)]


def unwrap(data: bytes, *, limits: Limits = DEFAULT_LIMITS, status: int = 200) -> bytes:
    """The message inside a SOAP response. Raises :class:`~.faults.SoapFault` when the Body
    holds a Fault, :class:`NotSoap` when there is no single message to take out, and
    :class:`cim_models.errors.CodecError` for unreadable XML."""
    from .faults import read_fault

    root = parse_bytes(data, limits)
    q = etree.QName(root)
    if q.localname != "Envelope" or q.namespace not in (SOAP11_NS, SOAP12_NS):
        raise NotSoap(f"not a SOAP envelope: the root element is {root.tag}")
    fault = read_fault(root, status=status)
    if fault is not None:
        raise fault
    children = body_elements(root)
    if len(children) != 1:
        raise NotSoap(f"the SOAP Body holds {len(children)} elements; expected one message")
    return to_bytes(children[0])


def conform(root: etree._Element, expected: str) -> etree._Element:
    """Put a response or fault message into the element its WSDL promises (``expected``,
    ``{namespace}local``) when it only differs by wrapper namespace: a ``MeterReadingsResponseMessage``
    written in the ``MeterReadingsMessage`` namespace answers ``GetMeterReadings`` in the
    ``GetMeterReadingsMessage`` namespace; a generic ``ResponseMessage`` / ``FaultMessage``
    becomes the typed one. Both forms have the same structure (Header, Reply, Payload), so only
    the wrapper-level element names change. Anything else is returned unchanged."""
    want = etree.QName(expected)
    have = etree.QName(root)
    if have.namespace == want.namespace and have.localname == want.localname:
        return root
    generic = (
        have.namespace == MSG_NS
        and have.localname in ("ResponseMessage", "FaultMessage")
        and want.localname.endswith(have.localname)
    )
    if have.localname != want.localname and not generic:
        return root
    old = have.namespace
    nsmap = {k: v for k, v in root.nsmap.items() if v != old and k != "m"}
    nsmap["m"] = want.namespace
    nsmap.setdefault("msg", MSG_NS)
    new = etree.Element(expected, attrib=dict(root.attrib), nsmap=nsmap)
    new.text = root.text
    for child in list(root):
        new.append(child)
    targets = list(new) if generic else list(new.iter())
    for el in targets:
        if not isinstance(el.tag, str):
            continue
        q = etree.QName(el)
        if q.namespace == old and (not generic or q.localname in _WRAPPER_LEVEL):
            el.tag = f"{{{want.namespace}}}{q.localname}"
    etree.cleanup_namespaces(new)
    return new


__all__ = [
    "CONTENT_TYPE",
    "SOAP11_NS",
    "SOAP12_NS",
    "NotSoap",
    "body_elements",
    "conform",
    "root_local",
    "to_bytes",
    "unwrap",
    "wrap",
]
