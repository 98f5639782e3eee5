"""Helpers for the SOAP endpoint tests: a stand-in core, messages, response readers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from lxml import etree

from cim_models.build import build_fault, build_message
from cim_models.codec import Codec
from cim_models.errors import CodecError
from cim_models.safexml import Limits
from endpoints.soap.faults import reply_errors
from routing.errors import from_codec
from routing.pipeline import Exchange

EXCHANGES = Path(__file__).resolve().parents[4] / "conformance" / "exchanges"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
MSG = "http://iec.ch/TC57/2011/schema/message"
EDC_ACTION = "http://iec.ch/TC57/2011/EndDeviceControls/CreateEndDeviceControls"

Answer = Callable[[Exchange, "StubBus"], None]


def golden(name: str) -> bytes:
    """A golden message by file name (searched under conformance/exchanges)."""
    found = sorted(EXCHANGES.rglob(name))
    assert found, f"no golden {name}"
    return found[0].read_bytes()


def fresh(message: bytes) -> bytes:
    """The message with a new MessageID (so de-duplication never interferes)."""
    root = etree.fromstring(message)
    for el in root.iter(f"{{{MSG}}}MessageID"):
        el.text = str(uuid.uuid4())
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def envelope(*body: bytes, header: bytes = b"", soap_ns: str = SOAP11) -> bytes:
    """A SOAP envelope around ``body`` (XML declarations stripped), byte by byte."""
    parts = [b.split(b"?>", 1)[1] if b.lstrip().startswith(b"<?xml") else b for b in body]
    head = b"<soapenv:Header>" + header + b"</soapenv:Header>" if header else b""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="'
        + soap_ns.encode()
        + b'">'
        + head
        + b"<soapenv:Body>"
        + b"".join(parts)
        + b"</soapenv:Body></soapenv:Envelope>"
    )


def ok_answer(ex: Exchange, bus: StubBus) -> None:
    """What the core does for a readable message (parse; FaultMessage when unreadable)."""
    try:
        message = bus.codec.parse(ex.raw)
    except CodecError as exc:
        ex.error = from_codec(exc)
        ex.reply = build_fault(reply_errors(ex.error))
        return
    header = message.header()
    ex.reply = build_message(
        "reply",
        message.noun or "Unknown",
        correlation_id=header.get("MessageID"),
        source=bus.name,
        result="OK",
    )


class StubStore:
    def __init__(self) -> None:
        self.broken = False

    def outbox_counts(self) -> dict[str, int]:
        if self.broken:
            raise ConnectionError("database is down")
        return {"pending": 0}


class StubBus:
    """Stands in for routing.bus.Bus: records each ``handle`` call and answers with ``answer``."""

    def __init__(self, answer: Answer = ok_answer, limits: Limits | None = None) -> None:
        self.codec = Codec(limits=limits or Limits())
        self.outbound: dict[str, Any] = {}
        self.name = "CIMBUS"
        self.calls: list[Exchange] = []
        self.answer = answer
        self.store = StubStore()

    def register_transport(self, outbound: Any) -> None:
        self.outbound[outbound.name] = outbound

    def handle(
        self,
        raw: bytes,
        *,
        transport: str,
        reply_to: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Exchange:
        ex = Exchange(raw=raw, transport=transport, reply_to=reply_to, meta=dict(meta or {}))
        self.calls.append(ex)
        self.answer(ex, self)
        return ex


def post(
    client: TestClient,
    service: str,
    body: bytes,
    *,
    action: str | None = "",
    content_type: str = "text/xml; charset=utf-8",
):
    headers = {"Content-Type": content_type}
    if action is not None:
        headers["SOAPAction"] = f'"{action}"' if action else '""'
    return client.post(f"/ws/{service}", content=body, headers=headers)


def fault_of(response) -> tuple[str, str, etree._Element | None]:
    """(faultcode, faultstring, detail's first element) of a SOAP Fault response."""
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
    assert fault is not None, response.text
    detail = fault.find("detail")
    first = detail[0] if detail is not None and len(detail) else None
    return fault.findtext("faultcode"), fault.findtext("faultstring"), first


def body_of(response) -> etree._Element:
    """The one element in the Body of a (non-fault) SOAP response."""
    root = etree.fromstring(response.content)
    assert etree.QName(root) == etree.QName(SOAP11, "Envelope")
    body = root.find(f"{{{SOAP11}}}Body")
    children = [c for c in body if isinstance(c.tag, str)]
    assert len(children) == 1, response.text
    return children[0]


def result_of(message: etree._Element) -> str | None:
    reply = next(c for c in message if etree.QName(c).localname == "Reply")
    return reply.findtext(f"{{{MSG}}}Result")
