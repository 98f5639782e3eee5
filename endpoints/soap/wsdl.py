"""WSDL 1.1 documents for the SOAP services, generated from :mod:`.services` (BUS-4).

Each WSDL follows the IEC 61968-100 pattern seen in published implementations: SOAP 1.1
binding, document/literal, one message part per operation message (the typed wrapper element),
port type ``<Noun>_Port``, binding ``<Noun>_Binding``, ``soapAction`` per operation, and one
``wsdl:fault`` (``<Noun>FaultMessage``) on every operation. ``wsdl:types`` holds a schema that
only imports the wrapper XSD served by cimbus at ``<base>/ws/xsd/<File>.xsd``; that XSD imports
Message.xsd and the payload profile by relative file name, so every import resolves over HTTP
from the same folder. The service address is the endpoint's real URL.
"""

from __future__ import annotations

from lxml import etree

from .services import Service

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"


def _w(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{WSDL_NS}}}{tag}", attrs)


def _s(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{WSDL_SOAP_NS}}}{tag}", attrs)


def render_wsdl(service: Service, base_url: str) -> bytes:
    """The WSDL of ``service``; ``base_url`` is the public root (``http://host:port``)."""
    base = base_url.rstrip("/")
    root = etree.Element(
        f"{{{WSDL_NS}}}definitions",
        {"name": service.name, "targetNamespace": service.target_namespace},
        nsmap={
            "wsdl": WSDL_NS,
            "soap": WSDL_SOAP_NS,
            "xsd": XSD_NS,
            "tns": service.target_namespace,
            "infoMessage": service.namespace,
        },
    )
    doc = _w(root, "documentation")
    doc.text = (
        f"IEC 61968-100 {service.role} service for {service.noun} (cimbus). "
        f"Operations: {', '.join(service.operation_names)}. SOAP 1.1, document/literal; "
        f"SOAPAction http://iec.ch/TC57/2011/{service.noun}/<Operation>."
    )
    types = _w(root, "types")
    schema = etree.SubElement(
        types,
        f"{{{XSD_NS}}}schema",
        {"targetNamespace": service.target_namespace, "elementFormDefault": "qualified"},
    )
    etree.SubElement(
        schema,
        f"{{{XSD_NS}}}import",
        {"namespace": service.namespace, "schemaLocation": f"{base}/ws/xsd/{service.xsd}"},
    )

    def qname(element: str) -> str:
        return f"infoMessage:{etree.QName(element).localname}"

    # messages: one per operation input, one shared response and one shared fault
    for op in service.operations:
        msg = _w(root, "message", name=f"{op.name}Request")
        _w(msg, "part", name=f"{op.name}Request", element=qname(op.input))
    msg = _w(root, "message", name="ResponseMessage")
    _w(msg, "part", name="ResponseMessage", element=qname(service.response_element))
    msg = _w(root, "message", name="FaultMessage")
    _w(msg, "part", name="FaultMessage", element=qname(service.fault_element))

    port_type = _w(root, "portType", name=service.port_type)
    for op in service.operations:
        o = _w(port_type, "operation", name=op.name)
        _w(o, "input", name=f"{op.name}Request", message=f"tns:{op.name}Request")
        _w(o, "output", name=f"{op.name}Response", message="tns:ResponseMessage")
        _w(o, "fault", name=f"{op.name}Fault", message="tns:FaultMessage")

    binding = _w(root, "binding", name=service.binding, type=f"tns:{service.port_type}")
    _s(binding, "binding", style="document", transport=HTTP_TRANSPORT)
    for op in service.operations:
        o = _w(binding, "operation", name=op.name)
        _s(o, "operation", soapAction=op.soap_action, style="document")
        _s(_w(o, "input", name=f"{op.name}Request"), "body", use="literal")
        _s(_w(o, "output", name=f"{op.name}Response"), "body", use="literal")
        _s(_w(o, "fault", name=f"{op.name}Fault"), "fault", name=f"{op.name}Fault", use="literal")

    svc = _w(root, "service", name=service.name)
    port = _w(svc, "port", name=service.port_type, binding=f"tns:{service.binding}")
    _s(port, "address", location=f"{base}/ws/{service.name}")
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)


__all__ = ["render_wsdl"]
