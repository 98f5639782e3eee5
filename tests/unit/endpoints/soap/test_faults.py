"""SOAP 1.1 Faults are rendered in one module (endpoints/soap/faults.py) and read back by the
clients: the faultcode, the reason and the IEC 61968-100 FaultMessage detail survive."""

from __future__ import annotations

from lxml import etree

from cim_models.build import ReplyError, build_fault
from endpoints.soap import faults
from endpoints.soap.services import services
from routing.errors import ErrorDetail, InvalidMessage, MalformedMessage, UnsupportedRequest
from routing.pipeline import Exchange

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
EDC = services()["ExecuteEndDeviceControls"]
GET_MR = services()["GetMeterReadings"]


def _parse(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def test_render_shape() -> None:
    fault = faults.fault_for_error(
        MalformedMessage("not well-formed XML: boom"),
        EDC,
        actor="http://h/ws/ExecuteEndDeviceControls",
    )
    root = _parse(faults.render(fault))
    assert root.tag == f"{{{SOAP11}}}Envelope"
    f = root.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
    # SOAP 1.1: faultcode, faultstring, faultactor, detail are unqualified, in this order
    assert [c.tag for c in f] == ["faultcode", "faultstring", "faultactor", "detail"]
    assert f.findtext("faultcode") == "soapenv:Client"
    assert root.nsmap["soapenv"] == SOAP11
    assert f.findtext("faultstring") == "not well-formed XML: boom"
    detail = f.find("detail")[0]
    assert (
        detail.tag
        == "{http://iec.ch/TC57/2011/EndDeviceControlsMessage}EndDeviceControlsFaultMessage"
    )
    assert detail.findtext(".//{*}Result") == "FAILED"
    assert detail.findtext(".//{*}code") == "2.1"
    assert detail.findtext(".//{*}reason") == "not well-formed XML: boom"


def test_every_error_entry_is_in_the_detail() -> None:
    err = InvalidMessage(
        "first problem", details="line 3", extra=[ErrorDetail("2.2", "FATAL", "second problem")]
    )
    fault = faults.fault_for_error(err, EDC)
    reasons = [e.text for e in fault.fault_message().iter("{*}reason")]
    assert reasons == ["first problem", "second problem"]


def test_detail_is_moved_into_the_services_fault_namespace() -> None:
    """The core renders a FaultMessage in the noun's wrapper; a Get service's WSDL promises
    the one in the Get wrapper: the detail follows the WSDL."""
    core_fault = build_fault([ReplyError("2.1", "FATAL", "x")], noun="MeterReadings")
    ex = Exchange(raw=b"", transport="soap")
    ex.error = MalformedMessage("x")
    ex.reply = core_fault
    fault = faults.fault_for_exchange(ex, GET_MR)
    el = fault.fault_message()
    assert el.tag == "{http://iec.ch/TC57/2011/GetMeterReadingsMessage}MeterReadingsFaultMessage"
    reply = el[0]
    assert reply.tag == "{http://iec.ch/TC57/2011/GetMeterReadingsMessage}Reply"
    assert reply[0].tag == "{http://iec.ch/TC57/2011/schema/message}Result"


def test_generic_fault_message_becomes_the_typed_one() -> None:
    generic = build_fault([ReplyError("2.1", "FATAL", "x")], noun=None)
    assert _parse(generic).tag == "{http://iec.ch/TC57/2011/schema/message}FaultMessage"
    ex = Exchange(raw=b"", transport="soap")
    ex.error = MalformedMessage("x")
    ex.reply = generic
    el = faults.fault_for_exchange(ex, EDC).fault_message()
    assert (
        el.tag == "{http://iec.ch/TC57/2011/EndDeviceControlsMessage}EndDeviceControlsFaultMessage"
    )
    assert el.findtext("{*}Reply/{http://iec.ch/TC57/2011/schema/message}Result") == "FAILED"


def test_a_serving_systems_fault_message_becomes_a_server_fault() -> None:
    reply = build_fault(
        [ReplyError("2.4", "FATAL", "meter busy"), ReplyError("2.4", "FATAL", "try later")],
        noun="EndDeviceControls",
    )
    fault = faults.fault_for_reply(reply, EDC)
    assert fault.code == faults.SERVER
    assert fault.reason == "meter busy; try later"
    assert not fault.client_error


def test_control_characters_do_not_break_the_fault() -> None:
    fault = faults.SoapFault(faults.CLIENT, "bad \x00\x07 input")
    root = _parse(faults.render(fault))
    assert root.findtext(".//faultstring") == "bad ?? input"


def test_read_back_what_was_rendered() -> None:
    sent = faults.fault_for_error(
        UnsupportedRequest("unknown operation 'X'"), EDC, status=500, actor="http://h/ws/x"
    )
    got = faults.read_fault(_parse(faults.render(sent)), status=500)
    assert (got.code, got.reason, got.actor, got.status) == (
        "Client",
        "unknown operation 'X'",
        "http://h/ws/x",
        500,
    )
    assert got.client_error
    assert got.fault_message().findtext(".//{*}code") == "2.5"


def test_read_a_soap12_fault() -> None:
    env = b"""<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>
      <env:Fault><env:Code><env:Value>env:Receiver</env:Value></env:Code>
      <env:Reason><env:Text xml:lang="en">down</env:Text></env:Reason>
      <env:Detail><x xmlns="urn:x"/></env:Detail></env:Fault></env:Body></env:Envelope>"""
    got = faults.read_fault(_parse(env))
    assert (got.code, got.reason) == ("Server", "down")
    assert _parse(got.detail).tag == "{urn:x}x"


def test_no_fault_is_none() -> None:
    env = b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><a/></e:Body></e:Envelope>'
    assert faults.read_fault(_parse(env)) is None


def test_response_carries_status_and_headers() -> None:
    fault = faults.fault_for_error(
        MalformedMessage("m"), EDC, status=405, headers={"Allow": "POST"}
    )
    r = faults.response(fault)
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.media_type.startswith("text/xml")
