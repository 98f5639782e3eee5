"""SoapClient: the BusClient surface over SOAP (request / send / serve / close)."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import etree

from cim_models.build import build_message
from endpoints.client import ReplyTimeout
from endpoints.soap import SoapClient, SoapFault, SoapOutbound, wire
from routing.routes import System
from routing.transport import Delivery

from .support import StubBus, fresh, golden


@pytest.fixture
def soap(client: TestClient) -> SoapClient:
    return SoapClient("http://testserver", "CIS", http=client)


@pytest.mark.parametrize(
    ("name", "service"),
    [
        ("CreateEndDeviceControls.xml", "ExecuteEndDeviceControls"),
        ("CreatedEndDeviceEvents.xml", "ReceiveEndDeviceEvents"),
        ("GetMeterReadings.xml", "GetMeterReadings"),
        ("MeterReadingsResponseMessage.xml", "ReplyMeterReadings"),
        ("RequestMessage-CreateEndDeviceControls.xml", "ExecuteEndDeviceControls"),
    ],
)
def test_request_picks_the_service(soap: SoapClient, bus: StubBus, name: str, service: str) -> None:
    reply = soap.request(fresh(golden(name)))
    assert etree.QName(etree.fromstring(reply)).localname.endswith("ResponseMessage")
    assert bus.calls[-1].meta["service"] == service


def test_request_raises_the_fault(soap: SoapClient) -> None:
    with pytest.raises(SoapFault) as info:
        soap.request(b"<m:CreateEndDeviceControls xmlns:m='urn:wrong'/>")
    assert info.value.code == "Client"
    assert info.value.status == 500
    assert "urn:wrong" in info.value.reason
    assert etree.QName(info.value.fault_message()).localname == "EndDeviceControlsFaultMessage"


def test_request_of_an_unknown_message_says_so(soap: SoapClient) -> None:
    with pytest.raises(ValueError, match="no cimbus SOAP service takes a CreateUsagePoints"):
        soap.request(b"<CreateUsagePoints/>")


def test_send_drops_the_answer(soap: SoapClient, bus: StubBus) -> None:
    assert soap.send(fresh(golden("CreatedEndDeviceEvents.xml"))) is None
    assert len(bus.calls) == 1


def test_timeout_is_reply_timeout() -> None:
    def slow(request):
        raise httpx.ReadTimeout("slow", request=request)

    c = SoapClient("http://x", "CIS", http=httpx.Client(transport=httpx.MockTransport(slow)))
    with pytest.raises(ReplyTimeout):
        c.request(golden("CreateEndDeviceControls.xml"), timeout=0.1)


def test_services_url() -> None:
    assert SoapClient("http://h:1", "S").services_url == "http://h:1/ws"
    assert SoapClient("http://h:1/ws/", "S").services_url == "http://h:1/ws"


def test_serve_answers_cimbus_deliveries() -> None:
    """A system served by SoapClient.serve is reached by SoapOutbound at its folder URL."""
    seen: list[bytes] = []

    def handler(message: bytes) -> bytes | None:
        seen.append(message)
        root = etree.fromstring(message)
        if etree.QName(root).localname.startswith("Created"):
            return None  # acknowledged with a ResponseMessage OK by the client
        mid = root.findtext(".//{http://iec.ch/TC57/2011/schema/message}MessageID")
        return build_message("reply", "EndDeviceControls", correlation_id=mid, result="OK")

    hes = SoapClient("http://unused", "HES")
    try:
        address = hes.serve(handler)
        assert address.startswith("http://127.0.0.1:") and address.endswith("/ws")
        system = System(name="HES", transport="soap", address=address)
        out = SoapOutbound(timeout=5)
        create = fresh(golden("CreateEndDeviceControls.xml"))
        reply = out.deliver(
            Delivery(
                system=system, address=address, body=create, verb="create", noun="EndDeviceControls"
            )
        )
        assert etree.QName(etree.fromstring(reply)).localname == "EndDeviceControlsResponseMessage"
        event = fresh(golden("CreatedEndDeviceEvents.xml"))
        assert (
            out.deliver(
                Delivery(
                    system=system,
                    address=address,
                    body=event,
                    verb="created",
                    noun="EndDeviceEvents",
                )
            )
            is None
        )
        assert len(seen) == 2
        # the handler got the message itself, not the envelope
        assert etree.QName(etree.fromstring(seen[0])).localname == "CreateEndDeviceControls"
        out.close()
    finally:
        hes.close()


def test_serve_reports_handler_failure_as_server_fault() -> None:
    def broken(message: bytes) -> bytes | None:
        raise RuntimeError("disk full")

    hes = SoapClient("http://unused", "HES")
    try:
        address = hes.serve(broken)
        r = httpx.post(
            f"{address}/ExecuteEndDeviceControls",
            content=wire.wrap(golden("CreateEndDeviceControls.xml")),
            headers={"Content-Type": "text/xml", "SOAPAction": '""'},
        )
        assert r.status_code == 500
        with pytest.raises(SoapFault) as info:
            wire.unwrap(r.content, status=r.status_code)
        assert info.value.code == "Server"
        assert "disk full" in info.value.reason
    finally:
        hes.close()
