"""BUS-4: every WSDL is WSDL 1.1 / SOAP 1.1 document/literal, lists the right operations and
soapActions, carries the endpoint's real address, and its types resolve over HTTP."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from endpoints.soap import create_app
from endpoints.soap.services import services

from .support import StubBus

W = "http://schemas.xmlsoap.org/wsdl/"
WS = "http://schemas.xmlsoap.org/wsdl/soap/"
XS = "http://www.w3.org/2001/XMLSchema"

SERVICES = list(services())


def _wsdl(client: TestClient, name: str) -> etree._Element:
    r = client.get(f"/ws/{name}?wsdl")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/xml")
    return etree.fromstring(r.content)


@pytest.mark.parametrize("name", SERVICES)
def test_wsdl_lists_operations_and_soap_actions(client: TestClient, name: str) -> None:
    service = services()[name]
    root = _wsdl(client, name)
    assert root.tag == f"{{{W}}}definitions"
    assert root.get("name") == name
    assert root.get("targetNamespace") == service.target_namespace

    (port_type,) = root.findall(f"{{{W}}}portType")
    assert port_type.get("name") == f"{service.noun}_Port"
    ops = [o.get("name") for o in port_type.findall(f"{{{W}}}operation")]
    assert ops == service.operation_names

    (binding,) = root.findall(f"{{{W}}}binding")
    assert binding.get("name") == f"{service.noun}_Binding"
    soap_binding = binding.find(f"{{{WS}}}binding")
    assert soap_binding.get("style") == "document"
    assert soap_binding.get("transport") == "http://schemas.xmlsoap.org/soap/http"
    actions = {
        o.get("name"): o.find(f"{{{WS}}}operation").get("soapAction")
        for o in binding.findall(f"{{{W}}}operation")
    }
    assert actions == {
        op: f"http://iec.ch/TC57/2011/{service.noun}/{op}" for op in service.operation_names
    }
    for body in binding.iter(f"{{{WS}}}body"):
        assert body.get("use") == "literal"

    # every input/output/fault message has one part bound to the right element
    parts = {
        m.get("name"): m.find(f"{{{W}}}part").get("element")
        for m in root.findall(f"{{{W}}}message")
    }
    prefix = next(k for k, v in root.nsmap.items() if v == service.namespace)
    for op in service.operations:
        assert parts[f"{op.name}Request"] == f"{prefix}:{op.input_local}"
    assert parts["ResponseMessage"] == f"{prefix}:{service.noun}ResponseMessage"
    assert parts["FaultMessage"] == f"{prefix}:{service.noun}FaultMessage"

    address = root.find(f"{{{W}}}service/{{{W}}}port/{{{WS}}}address").get("location")
    assert address == f"http://testserver/ws/{name}"


def test_wsdl_address_uses_public_url() -> None:
    from routing.config import SoapConfig

    app = create_app(StubBus(), SoapConfig(public_url="https://cimbus.example/api/"))
    with TestClient(app) as c:
        root = _wsdl(c, "ExecuteEndDeviceControls")
    address = root.find(f"{{{W}}}service/{{{W}}}port/{{{WS}}}address").get("location")
    assert address == "https://cimbus.example/api/ws/ExecuteEndDeviceControls"
    imp = root.find(f"{{{W}}}types/{{{XS}}}schema/{{{XS}}}import")
    assert (
        imp.get("schemaLocation")
        == "https://cimbus.example/api/ws/xsd/EndDeviceControlsMessage.xsd"
    )


def test_wsdl_query_is_case_insensitive(client: TestClient) -> None:
    assert client.get("/ws/GetMeterReadings?WSDL").status_code == 200


class _HttpResolver(etree.Resolver):
    """Resolve http://testserver/... through the in-process app (counts what it fetched)."""

    def __init__(self, client: TestClient) -> None:
        super().__init__()
        self.client = client
        self.fetched: list[str] = []

    def resolve(self, url, pubid, context):
        parts = urlsplit(url)
        if parts.netloc != "testserver":
            return None
        r = self.client.get(parts.path)
        assert r.status_code == 200, url
        self.fetched.append(parts.path)
        return self.resolve_string(r.content, context, base_url=url)


@pytest.mark.parametrize(
    "name", ["GetMeterReadings", "ExecuteEndDeviceControls", "ReplyOutageRecords"]
)
def test_wsdl_types_compile_from_the_served_xsds(client: TestClient, name: str) -> None:
    """The WSDL's schema imports the wrapper XSD by URL; it imports Message.xsd and the
    profile by relative name: all of it must resolve over HTTP and compile."""
    root = _wsdl(client, name)
    schema = root.find(f"{{{W}}}types/{{{XS}}}schema")
    resolver = _HttpResolver(client)
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(resolver)
    doc = etree.fromstring(etree.tostring(schema), parser, base_url=f"http://testserver/ws/{name}")
    etree.XMLSchema(doc)
    service = services()[name]
    assert f"/ws/xsd/{service.xsd}" in resolver.fetched
    assert "/ws/xsd/Message.xsd" in resolver.fetched


def test_xsd_urls_serve_the_project_schemas(client: TestClient) -> None:
    from cim_models.schemas import schema_files

    for path in schema_files():
        r = client.get(f"/ws/xsd/{path.name}")
        assert r.status_code == 200
        assert r.content == path.read_bytes()  # served unchanged


@pytest.mark.parametrize("name", ["Nope.xsd", "..%2Fcodec.py", "__init__.py"])
def test_unknown_xsd_is_404(client: TestClient, name: str) -> None:
    assert client.get(f"/ws/xsd/{name}").status_code == 404


def test_listing_json(client: TestClient) -> None:
    r = client.get("/ws", headers={"Accept": "application/json"})
    assert r.status_code == 200
    data = r.json()
    by_name = {s["name"]: s for s in data["services"]}
    assert set(by_name) == set(services())
    get = by_name["GetMeterReadings"]
    assert get["wsdl"] == "http://testserver/ws/GetMeterReadings?wsdl"
    assert get["operations"] == [
        {
            "name": "GetMeterReadings",
            "soapAction": "http://iec.ch/TC57/2011/MeterReadings/GetMeterReadings",
            "input": "{http://iec.ch/TC57/2011/GetMeterReadingsMessage}GetMeterReadings",
        }
    ]
    assert "http://testserver/ws/xsd/Message.xsd" in data["xsd"]


def test_listing_html_for_browsers(client: TestClient) -> None:
    r = client.get("/ws", headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    for name in services():
        assert f'href="http://testserver/ws/{name}?wsdl"' in r.text
