"""BUS-4, SEC-3: hostile SOAP input gets a specific SOAP Fault before the core is involved,
and the endpoint keeps serving valid requests afterwards.

(Hostile XML that the core judges, such as DOCTYPE or deep nesting, is in test_hostile_core.py,
against the real Bus.)"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from cim_models.safexml import Limits
from endpoints.soap import create_app

from .support import (
    EDC_ACTION,
    SOAP12,
    StubBus,
    body_of,
    envelope,
    fault_of,
    fresh,
    golden,
    post,
    result_of,
)

SERVICE = "ExecuteEndDeviceControls"
CREATE = golden("CreateEndDeviceControls.xml")
CREATED = golden("CreatedEndDeviceEvents.xml")


def _still_serves(client: TestClient) -> None:
    r = post(client, SERVICE, envelope(fresh(CREATE)), action=EDC_ACTION)
    assert r.status_code == 200
    assert result_of(body_of(r)) == "OK"


def _send(client: TestClient, case: str):
    body = envelope(fresh(CREATE))
    if case == "soap12 envelope":
        return post(client, SERVICE, envelope(fresh(CREATE), soap_ns=SOAP12), action=EDC_ACTION)
    if case == "soap12 content type":
        return post(
            client,
            SERVICE,
            envelope(fresh(CREATE), soap_ns=SOAP12),
            action=None,
            content_type=f'application/soap+xml; charset=utf-8; action="{EDC_ACTION}"',
        )
    if case == "missing SOAPAction":
        return post(client, SERVICE, body, action=None)
    if case == "unknown operation (SOAPAction)":
        return post(
            client, SERVICE, body, action="http://iec.ch/TC57/2011/EndDeviceControls/Frobnicate"
        )
    if case == "unknown operation (body)":
        return post(client, SERVICE, envelope(fresh(CREATED)), action="")
    if case == "empty Body":
        return post(client, SERVICE, envelope(), action=EDC_ACTION)
    if case == "two elements in Body":
        return post(client, SERVICE, envelope(fresh(CREATE), fresh(CREATE)), action=EDC_ACTION)
    if case == "no Body":
        return post(
            client,
            SERVICE,
            b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"/>',
            action=EDC_ACTION,
        )
    if case == "not an envelope":
        return post(client, SERVICE, fresh(CREATE), action=EDC_ACTION)
    if case == "json content type":
        return post(
            client,
            SERVICE,
            b'{"verb": "create"}',
            action=EDC_ACTION,
            content_type="application/json",
        )
    if case == "no content type":
        return client.post(f"/ws/{SERVICE}", content=body, headers={"SOAPAction": '""'})
    if case == "GET service URL":
        return client.get(f"/ws/{SERVICE}")
    if case == "PUT service URL":
        return client.put(f"/ws/{SERVICE}", content=body, headers={"Content-Type": "text/xml"})
    if case == "DELETE WSDL URL":
        return client.delete(f"/ws/{SERVICE}?wsdl")
    if case == "unknown service":
        return post(client, "ExecuteNothing", body, action=EDC_ACTION)
    raise AssertionError(case)


# case -> (HTTP status, faultcode, a piece of the faultstring)
CASES: dict[str, tuple[int, str, str]] = {
    "soap12 envelope": (
        500,
        "soapenv:VersionMismatch",
        "SOAP 1.2 is not served; cimbus speaks SOAP 1.1",
    ),
    "soap12 content type": (
        500,
        "soapenv:VersionMismatch",
        "SOAP 1.2 (application/soap+xml) is not served",
    ),
    "missing SOAPAction": (500, "soapenv:Client", "the SOAPAction HTTP header is missing"),
    "unknown operation (SOAPAction)": (500, "soapenv:Client", "unknown operation 'Frobnicate'"),
    "unknown operation (body)": (
        500,
        "soapenv:Client",
        "CreatedEndDeviceEvents is not the input of an operation",
    ),
    "empty Body": (500, "soapenv:Client", "the SOAP Body is empty"),
    "two elements in Body": (500, "soapenv:Client", "the SOAP Body holds 2 elements"),
    "no Body": (500, "soapenv:Client", "the SOAP envelope has no Body"),
    "not an envelope": (500, "soapenv:Client", "not a SOAP envelope"),
    "json content type": (415, "soapenv:Client", "Content-Type 'application/json' is not SOAP 1.1"),
    "no content type": (415, "soapenv:Client", "Content-Type '(none)' is not SOAP 1.1"),
    "GET service URL": (405, "soapenv:Client", "method GET is not allowed here"),
    "PUT service URL": (405, "soapenv:Client", "method PUT is not allowed here"),
    "DELETE WSDL URL": (405, "soapenv:Client", "method DELETE is not allowed here"),
    "unknown service": (404, "soapenv:Client", "there is no SOAP service 'ExecuteNothing'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_soap_gets_a_specific_fault(client: TestClient, bus: StubBus, case: str) -> None:
    status, code, text = CASES[case]
    r = _send(client, case)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/xml")
    faultcode, reason, detail = fault_of(r)
    assert faultcode == code
    assert text in reason
    assert detail is not None and etree.QName(detail).localname.endswith("FaultMessage")
    assert detail.findtext(".//{*}Result") == "FAILED"
    assert not bus.calls  # refused before the core
    _still_serves(client)


def test_405_says_what_is_allowed(client: TestClient) -> None:
    assert _send(client, "GET service URL").headers["allow"] == "POST"
    assert _send(client, "PUT service URL").headers["allow"] == "POST"
    assert _send(client, "DELETE WSDL URL").headers["allow"] == "GET, HEAD"


def test_fault_detail_is_the_services_fault_element(client: TestClient) -> None:
    r = post(client, "GetEndDeviceEvents", envelope(), action="")
    _, _, detail = fault_of(r)
    assert (
        detail.tag
        == "{http://iec.ch/TC57/2011/GetEndDeviceEventsMessage}EndDeviceEventsFaultMessage"
    )
    assert detail.findtext(".//{*}code") == "2.1"
    assert detail.findtext(".//{*}level") == "FATAL"


def test_fault_names_the_service_url_as_actor(client: TestClient) -> None:
    r = post(client, SERVICE, envelope(), action=EDC_ACTION)
    root = etree.fromstring(r.content)
    assert root.findtext(".//faultactor") == f"http://testserver/ws/{SERVICE}"


@pytest.fixture
def small() -> TestClient:
    bus = StubBus(limits=Limits(max_bytes=4096))
    with TestClient(create_app(bus)) as c:
        c.stub = bus  # type: ignore[attr-defined]
        yield c


def test_oversize_is_refused_by_content_length(small: TestClient) -> None:
    body = envelope(fresh(CREATE)) + b" " * 5000
    r = post(small, SERVICE, body, action=EDC_ACTION)
    assert r.status_code == 413
    code, reason, _ = fault_of(r)
    assert code == "soapenv:Client"
    assert reason == "document is over the limit of 4096 bytes"
    assert not small.stub.calls
    _still_serves(small)


def test_oversize_is_refused_while_streaming(small: TestClient) -> None:
    """No Content-Length (chunked): the endpoint stops reading after max_bytes + 1."""

    def chunks():
        for _ in range(1000):
            yield b" " * 1024

    r = small.post(
        f"/ws/{SERVICE}",
        content=chunks(),
        headers={"Content-Type": "text/xml", "SOAPAction": '""'},
    )
    assert r.status_code == 413
    assert "over the limit of 4096 bytes" in fault_of(r)[1]
    assert not small.stub.calls
    _still_serves(small)
