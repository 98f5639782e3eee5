"""BUS-4: a request is dispatched on its SOAPAction when present and non-empty, else on the
Body's element, to an operation of the service it was posted to; what the core receives."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from endpoints.soap import dispatch
from endpoints.soap.faults import SoapFault
from endpoints.soap.services import services

from .support import (
    EDC_ACTION,
    MSG,
    SOAP11,
    StubBus,
    body_of,
    envelope,
    fault_of,
    fresh,
    golden,
    post,
    result_of,
)

CREATE = golden("CreateEndDeviceControls.xml")


def test_dispatch_by_soap_action(client: TestClient, bus: StubBus) -> None:
    r = post(client, "ExecuteEndDeviceControls", envelope(fresh(CREATE)), action=EDC_ACTION)
    assert r.status_code == 200
    reply = body_of(r)
    assert etree.QName(reply).localname == "EndDeviceControlsResponseMessage"
    assert result_of(reply) == "OK"
    (ex,) = bus.calls
    assert ex.transport == "soap"
    assert ex.meta["soap_action"] == f'"{EDC_ACTION}"'
    assert ex.meta["service"] == "ExecuteEndDeviceControls"
    assert ex.meta["operation"] == "CreateEndDeviceControls"
    assert ex.meta["principal"] is None


def test_dispatch_by_body_when_soap_action_is_empty(client: TestClient, bus: StubBus) -> None:
    r = post(client, "ExecuteEndDeviceControls", envelope(fresh(CREATE)), action="")
    assert r.status_code == 200
    assert result_of(body_of(r)) == "OK"
    assert bus.calls[0].meta["operation"] == "CreateEndDeviceControls"


def test_the_core_gets_the_whole_envelope_and_the_soap_header(
    client: TestClient, bus: StubBus
) -> None:
    header = b'<t:Trace xmlns:t="urn:trace">abc</t:Trace>'
    body = envelope(fresh(CREATE), header=header)
    post(client, "ExecuteEndDeviceControls", body, action=EDC_ACTION)
    (ex,) = bus.calls
    assert (
        ex.raw == body
    )  # unchanged: the codec unwraps SOAP 1.1 itself; audit keeps the wire bytes
    soap_header = etree.fromstring(ex.meta["soap_header"])
    assert soap_header.tag == f"{{{SOAP11}}}Header"
    assert soap_header[0].text == "abc"


def test_no_soap_header_is_none(client: TestClient, bus: StubBus) -> None:
    post(client, "ExecuteEndDeviceControls", envelope(fresh(CREATE)), action=EDC_ACTION)
    assert bus.calls[0].meta["soap_header"] is None


def test_soap_action_of_another_service_is_refused(client: TestClient, bus: StubBus) -> None:
    action = "http://iec.ch/TC57/2011/MeterReadings/GetMeterReadings"
    r = post(client, "ExecuteEndDeviceControls", envelope(fresh(CREATE)), action=action)
    assert r.status_code == 500
    code, reason, detail = fault_of(r)
    assert code == "soapenv:Client"
    assert "unknown operation 'GetMeterReadings'" in reason
    assert "ExecuteEndDeviceControls" in reason
    for op in services()["ExecuteEndDeviceControls"].operation_names:
        assert op in reason
    assert etree.QName(detail).localname == "EndDeviceControlsFaultMessage"
    assert detail.findtext(".//{*}code") == "2.5"
    assert not bus.calls


def test_body_of_another_service_is_refused(client: TestClient, bus: StubBus) -> None:
    created = golden("CreatedEndDeviceEvents.xml")
    r = post(client, "ExecuteEndDeviceControls", envelope(fresh(created)), action="")
    code, reason, _ = fault_of(r)
    assert code == "soapenv:Client"
    assert "CreatedEndDeviceEvents is not the input of an operation" in reason
    assert "CreateEndDeviceControls" in reason
    assert not bus.calls


def test_soap_action_and_body_must_agree(client: TestClient, bus: StubBus) -> None:
    action = "http://iec.ch/TC57/2011/EndDeviceControls/CancelEndDeviceControls"
    r = post(client, "ExecuteEndDeviceControls", envelope(fresh(CREATE)), action=action)
    code, reason, _ = fault_of(r)
    assert code == "soapenv:Client"
    assert "SOAPAction names operation CancelEndDeviceControls" in reason
    assert "the Body holds CreateEndDeviceControls" in reason
    assert not bus.calls


def test_get_answers_in_the_get_wrapper_namespace(client: TestClient) -> None:
    """The stand-in core answers in MeterReadingsMessage; the WSDL promises the Get wrapper's
    MeterReadingsResponseMessage, and that is what goes on the wire."""
    r = post(
        client,
        "GetMeterReadings",
        envelope(fresh(golden("GetMeterReadings.xml"))),
        action="http://iec.ch/TC57/2011/MeterReadings/GetMeterReadings",
    )
    reply = body_of(r)
    assert (
        reply.tag == "{http://iec.ch/TC57/2011/GetMeterReadingsMessage}MeterReadingsResponseMessage"
    )
    assert result_of(reply) == "OK"


def test_reply_operation_takes_a_response_message(client: TestClient, bus: StubBus) -> None:
    response = golden("MeterReadingsResponseMessage.xml")
    r = post(
        client,
        "ReplyMeterReadings",
        envelope(response),
        action="http://iec.ch/TC57/2011/MeterReadings/ReplyMeterReadings",
    )
    assert r.status_code == 200
    assert bus.calls[0].meta["operation"] == "ReplyMeterReadings"


# ---------------------------------------------------------------------------- pure functions


def _root(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def test_select_operation_prefers_soap_action() -> None:
    service = services()["ExecuteEndDeviceControls"]
    el = _root(b'<m:CreateEndDeviceControls xmlns:m="urn:x"/>')
    assert (
        dispatch.select_operation(service, f'"{EDC_ACTION}"', el).name == "CreateEndDeviceControls"
    )
    assert dispatch.select_operation(service, '""', el).name == "CreateEndDeviceControls"
    assert dispatch.select_operation(service, "  ", el).name == "CreateEndDeviceControls"


def test_select_operation_matches_on_local_name_only() -> None:
    """The namespace is the core's decision (it answers a wrong namespace with its own fault)."""
    service = services()["ExecuteEndDeviceControls"]
    el = _root(b'<m:CreateEndDeviceControls xmlns:m="urn:wrong"/>')
    assert dispatch.select_operation(service, None, el).name == "CreateEndDeviceControls"


@pytest.mark.parametrize(
    "content_type",
    ["text/xml", "text/xml; charset=utf-8", "TEXT/XML;charset=UTF-8", "application/xml"],
)
def test_content_types_accepted(content_type: str) -> None:
    dispatch.check_content_type(content_type, services()["GetMeterReadings"])


def test_check_envelope_returns_header_and_element() -> None:
    service = services()["ExecuteEndDeviceControls"]
    root = _root(envelope(CREATE, header=b"<h xmlns='urn:h'/>"))
    header, element = dispatch.check_envelope(root, service)
    assert etree.QName(header).localname == "Header"
    assert etree.QName(element).localname == "CreateEndDeviceControls"


def test_must_understand_header_is_refused() -> None:
    service = services()["ExecuteEndDeviceControls"]
    header = (
        b'<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/'
        b'oasis-200401-wss-wssecurity-secext-1.0.xsd" soapenv:mustUnderstand="1"/>'
    )
    root = _root(envelope(CREATE, header=header))
    with pytest.raises(SoapFault) as info:
        dispatch.check_envelope(root, service)
    assert info.value.code == "MustUnderstand"
    assert "Security" in info.value.reason


def test_optional_header_blocks_are_kept() -> None:
    service = services()["ExecuteEndDeviceControls"]
    header = b'<t:Trace xmlns:t="urn:trace" soapenv:mustUnderstand="0">x</t:Trace>'
    root = _root(envelope(CREATE, header=header))
    dispatch.check_envelope(root, service)


# ---------------------------------------------------------------------------- generic forms

GENERIC = golden("RequestMessage-CreateEndDeviceControls.xml")


def test_generic_request_is_served_by_the_typed_operation(client: TestClient, bus: StubBus) -> None:
    r = post(client, "ExecuteEndDeviceControls", envelope(fresh(GENERIC)), action=EDC_ACTION)
    assert r.status_code == 200
    assert bus.calls[0].meta["operation"] == "CreateEndDeviceControls"
    r = post(client, "ExecuteEndDeviceControls", envelope(fresh(GENERIC)), action="")
    assert bus.calls[1].meta["operation"] == "CreateEndDeviceControls"


def test_generic_request_must_mean_the_operation(client: TestClient, bus: StubBus) -> None:
    action = "http://iec.ch/TC57/2011/EndDeviceControls/CancelEndDeviceControls"
    r = post(client, "ExecuteEndDeviceControls", envelope(fresh(GENERIC)), action=action)
    _, reason, _ = fault_of(r)
    assert "the Body holds RequestMessage (CreateEndDeviceControls)" in reason
    r = post(client, "ExecuteMeterReadings", envelope(fresh(GENERIC)), action="")
    _, reason, _ = fault_of(r)
    assert "RequestMessage (CreateEndDeviceControls) is not the input of an operation" in reason
    assert not bus.calls


@pytest.mark.parametrize(
    ("xml", "name"),
    [
        (
            b"<RequestMessage xmlns='%s'><Header><Verb>get</Verb><Noun>MeterReadings</Noun></Header></RequestMessage>",
            "GetMeterReadings",
        ),
        (
            b"<ResponseMessage xmlns='%s'><Header><Verb>reply</Verb><Noun>OutageRecords</Noun></Header></ResponseMessage>",
            "OutageRecordsResponseMessage",
        ),
        (
            b"<EventMessage xmlns='%s'><Header><Verb>closed</Verb><Noun>OutageRecords</Noun></Header></EventMessage>",
            "ClosedOutageRecords",
        ),
        (
            b"<EventMessage xmlns='%s'><Header><Verb>closed</Verb></Header></EventMessage>",
            "EventMessage",
        ),
        (b"<FaultMessage xmlns='%s'><Reply/></FaultMessage>", "FaultMessage"),
    ],
)
def test_typed_name(xml: bytes, name: str) -> None:
    assert dispatch.typed_name(_root(xml % MSG.encode())) == name
