"""SOAP 1.1 wrap / unwrap, shared by the server, the outbound transport and the client."""

from __future__ import annotations

import pytest
from lxml import etree

from cim_models.build import build_message
from cim_models.codec import canonical
from cim_models.errors import MalformedXmlError, UnsafeXmlError
from endpoints.soap import faults, wire

from .support import envelope, golden

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
MR = "http://iec.ch/TC57/2011/MeterReadingsMessage"
GET_MR = "http://iec.ch/TC57/2011/GetMeterReadingsMessage"
MSG = "http://iec.ch/TC57/2011/schema/message"


def test_wrap_unwrap_round_trip_is_canonically_equal() -> None:
    message = golden("CreateEndDeviceControls.xml")
    wrapped = wire.wrap(message)
    root = etree.fromstring(wrapped)
    assert root.tag == f"{{{SOAP11}}}Envelope"
    assert [etree.QName(c).localname for c in root] == ["Body"]
    back = wire.unwrap(wrapped)
    assert canonical(back) == canonical(message)


def test_wrap_with_a_header() -> None:
    wrapped = wire.wrap(b"<a xmlns='urn:a'/>", header=b"<h xmlns='urn:h'>1</h>")
    root = etree.fromstring(wrapped)
    assert [etree.QName(c).localname for c in root] == ["Header", "Body"]
    assert root[0][0].text == "1"


def test_unwrap_raises_the_fault() -> None:
    fault = faults.SoapFault(faults.SERVER, "down")
    with pytest.raises(faults.SoapFault) as info:
        wire.unwrap(faults.render(fault), status=500)
    assert (info.value.code, info.value.reason, info.value.status) == ("Server", "down", 500)


@pytest.mark.parametrize(
    "data",
    [b"<a/>", envelope(), envelope(b"<a/>", b"<b/>")],
    ids=["not an envelope", "empty body", "two elements"],
)
def test_unwrap_refuses_what_is_not_one_message(data: bytes) -> None:
    with pytest.raises(wire.NotSoap):
        wire.unwrap(data)


def test_unwrap_parses_safely() -> None:
    with pytest.raises(UnsafeXmlError):
        wire.unwrap(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    with pytest.raises(MalformedXmlError):
        wire.unwrap(envelope(b"<a>")[:-20])


def test_conform_moves_a_response_into_the_get_wrapper() -> None:
    reply = etree.fromstring(build_message("reply", "MeterReadings", result="OK"))
    assert reply.tag == f"{{{MR}}}MeterReadingsResponseMessage"
    out = wire.conform(reply, f"{{{GET_MR}}}MeterReadingsResponseMessage")
    assert out.tag == f"{{{GET_MR}}}MeterReadingsResponseMessage"
    assert [c.tag for c in out] == [f"{{{GET_MR}}}Header", f"{{{GET_MR}}}Reply"]
    assert out[0][0].tag == f"{{{MSG}}}Verb"  # envelope fields stay in the message namespace


def test_conform_makes_a_generic_response_typed() -> None:
    reply = etree.fromstring(build_message("reply", "MeterReadings", result="OK", form="generic"))
    assert reply.tag == f"{{{MSG}}}ResponseMessage"
    out = wire.conform(reply, f"{{{MR}}}MeterReadingsResponseMessage")
    assert out.tag == f"{{{MR}}}MeterReadingsResponseMessage"
    assert [c.tag for c in out] == [f"{{{MR}}}Header", f"{{{MR}}}Reply"]
    assert out[0][0].tag == f"{{{MSG}}}Verb"
    assert out[1][0].tag == f"{{{MSG}}}Result"


def test_conform_leaves_other_messages_alone() -> None:
    event = etree.fromstring(golden("CreatedMeterReadings.xml"))
    assert wire.conform(event, f"{{{MR}}}MeterReadingsResponseMessage") is event


def test_conformed_replies_validate() -> None:
    from cim_models.codec import Codec

    codec = Codec()
    reply = etree.fromstring(
        build_message("reply", "EndDeviceEvents", result="OK", correlation_id="c")
    )
    out = wire.conform(
        reply, "{http://iec.ch/TC57/2011/GetEndDeviceEventsMessage}EndDeviceEventsResponseMessage"
    )
    message = codec.parse(wire.to_bytes(out))
    assert codec.validate(message) == []
