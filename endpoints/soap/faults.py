"""SOAP 1.1 Faults: the one place they are rendered (and read back) for cimbus (BUS-4, SEC-3).

A SOAP Fault answers a message that could not be taken as an IEC 61968-100 message at all (a
broken envelope). Anything that *was* a message is answered with a ``<Noun>ResponseMessage``
(Result FAILED and the IEC 61968-100 error code) inside a normal SOAP response instead; that
decision belongs to the core (:attr:`routing.errors.BusError.envelope_broken`).

Every fault cimbus sends has the same shape::

    <soapenv:Fault>
      <faultcode>soapenv:Client</faultcode>          Client | Server | VersionMismatch | MustUnderstand
      <faultstring>what is wrong, in one line</faultstring>
      <faultactor>http://host/ws/ExecuteEndDeviceControls</faultactor>
      <detail><m:EndDeviceControlsFaultMessage>    the service's fault element (its WSDL says so)
        <m:Reply><msg:Result>FAILED</msg:Result>
          <msg:Error><msg:code>2.1</msg:code><msg:level>FATAL</msg:level><msg:reason>...</msg:reason>
    ...

A ``MustUnderstand`` fault has no ``detail`` (SOAP 1.1 section 4.4 keeps it for errors of the
Body). HTTP status 500, except where HTTP itself says more (405 wrong method, 413 too large,
415 wrong content type, 404 unknown service). :class:`SoapFault` is both what the endpoint
renders and what :func:`read_fault` gives back to clients (``SoapClient``, ``SoapOutbound``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml import etree

from cim_models.build import ReplyError, build_fault
from routing.errors import BusError

from . import wire

if TYPE_CHECKING:
    from routing.pipeline import Exchange

    from .services import Service

CLIENT = "Client"
SERVER = "Server"
VERSION_MISMATCH = "VersionMismatch"
MUST_UNDERSTAND = "MustUnderstand"


@dataclass(eq=False)
class SoapFault(Exception):
    """A SOAP 1.1 Fault: ``code`` is the local part of faultcode (``Client``, ``Server``,
    ``VersionMismatch``, ``MustUnderstand``), ``reason`` the faultstring, ``detail`` the bytes of
    the detail's first element (a ``<Noun>FaultMessage``), ``status`` the HTTP status."""

    code: str
    reason: str
    detail: bytes | None = None
    status: int = 500
    actor: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.reason)

    def __str__(self) -> str:
        return f"SOAP fault {self.code}: {self.reason}"

    @property
    def client_error(self) -> bool:
        """The sender's fault (retrying the same message cannot help)."""
        return self.code in (CLIENT, VERSION_MISMATCH, MUST_UNDERSTAND)

    def fault_message(self) -> etree._Element | None:
        """The detail's FaultMessage as a tree (None without detail)."""
        return etree.fromstring(self.detail) if self.detail else None


# ---------------------------------------------------------------------------- building


def reply_errors(error: BusError) -> list[ReplyError]:
    """A BusError's Reply/Error entries (the main one first)."""
    return [
        ReplyError(e.code, e.level, e.reason, e.details, e.xpath, e.object_id, e.object_type)
        for e in error.errors
    ]


def fault_for_error(
    error: BusError,
    service: Service | None,
    *,
    code: str = CLIENT,
    status: int = 500,
    actor: str | None = None,
    detail: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> SoapFault:
    """A fault for a :class:`BusError` (its reason is the faultstring; its IEC code, level and
    reason fill the detail's FaultMessage, in the service's fault element)."""
    if detail is None:
        detail = build_fault(reply_errors(error), noun=service.noun if service else None)
    if service is not None:
        detail = wire.to_bytes(wire.conform(etree.fromstring(detail), service.fault_element))
    return SoapFault(
        code=code,
        reason=error.reason,
        detail=detail,
        status=status,
        actor=actor,
        headers=dict(headers or {}),
    )


def fault_for_exchange(ex: Exchange, service: Service, *, actor: str | None = None) -> SoapFault:
    """The fault for an exchange the core refused as a broken envelope: faultstring = the
    error's reason, detail = the FaultMessage the core rendered (``ex.reply``)."""
    assert ex.error is not None
    detail = ex.reply if ex.reply and wire.root_local(ex.reply).endswith("FaultMessage") else None
    return fault_for_error(ex.error, service, actor=actor, detail=detail)


def fault_for_reply(reply: bytes, service: Service, *, actor: str | None = None) -> SoapFault:
    """A serving system answered with a FaultMessage: pass it on as a Server fault."""
    root = wire.conform(etree.fromstring(reply), service.fault_element)
    reasons = [
        (el.text or "").strip()
        for el in root.iter(f"{{{wire.MSG_NS}}}reason")
        if (el.text or "").strip()
    ]
    reason = "; ".join(reasons) or "the serving system answered with a FaultMessage"
    return SoapFault(code=SERVER, reason=reason, detail=wire.to_bytes(root), actor=actor)


# ---------------------------------------------------------------------------- rendering


def render(fault: SoapFault) -> bytes:
    """The SOAP 1.1 envelope carrying ``fault``."""
    env = etree.Element(f"{{{wire.SOAP11_NS}}}Envelope", nsmap={"soapenv": wire.SOAP11_NS})
    body = etree.SubElement(env, f"{{{wire.SOAP11_NS}}}Body")
    f = etree.SubElement(body, f"{{{wire.SOAP11_NS}}}Fault")
    etree.SubElement(f, "faultcode").text = f"soapenv:{fault.code}"
    etree.SubElement(f, "faultstring").text = _xml_safe(fault.reason)
    if fault.actor:
        etree.SubElement(f, "faultactor").text = fault.actor
    if fault.detail:
        detail = etree.SubElement(f, "detail")
        detail.append(etree.fromstring(fault.detail))
    return etree.tostring(env, encoding="UTF-8", xml_declaration=True)


def response(fault: SoapFault):  # -> starlette.responses.Response
    """The HTTP response for ``fault`` (text/xml, its status and headers)."""
    from starlette.responses import Response

    return Response(
        render(fault),
        status_code=fault.status,
        media_type=wire.CONTENT_TYPE,
        headers=dict(fault.headers),
    )


def _xml_safe(text: str) -> str:
    # control characters from hostile input (echoed in a reason) must not break our own XML
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else "?" for c in text)


# ---------------------------------------------------------------------------- reading


def read_fault(envelope: etree._Element, *, status: int = 500) -> SoapFault | None:
    """The Fault in a parsed SOAP 1.1 or 1.2 envelope's Body, or None when there is none."""
    for soap_ns in (wire.SOAP11_NS, wire.SOAP12_NS):
        fault = envelope.find(f"{{{soap_ns}}}Body/{{{soap_ns}}}Fault")
        if fault is None:
            continue
        if soap_ns == wire.SOAP11_NS:
            code = (fault.findtext("faultcode") or "").strip()
            reason = (fault.findtext("faultstring") or "").strip()
            actor = (fault.findtext("faultactor") or "").strip() or None
            detail_el = fault.find("detail")
        else:
            code = (fault.findtext(f"{{{soap_ns}}}Code/{{{soap_ns}}}Value") or "").strip()
            reason = (fault.findtext(f"{{{soap_ns}}}Reason/{{{soap_ns}}}Text") or "").strip()
            actor = None
            detail_el = fault.find(f"{{{soap_ns}}}Detail")
        first = None
        if detail_el is not None:
            first = next((c for c in detail_el if isinstance(c.tag, str)), None)
        local = code.rsplit(":", 1)[-1]
        local = {"Sender": CLIENT, "Receiver": SERVER}.get(local, local)
        return SoapFault(
            code=local or SERVER,
            reason=reason,
            detail=wire.to_bytes(first) if first is not None else None,
            status=status,
            actor=actor,
        )
    return None


__all__ = [
    "CLIENT",
    "MUST_UNDERSTAND",
    "SERVER",
    "VERSION_MISMATCH",
    "SoapFault",
    "fault_for_error",
    "fault_for_exchange",
    "fault_for_reply",
    "read_fault",
    "render",
    "reply_errors",
    "response",
]
