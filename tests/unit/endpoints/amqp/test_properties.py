"""IEC 61968-100 Header <-> AMQP properties (BUS-5), without a broker."""

from __future__ import annotations

from datetime import datetime

from cim_models.build import build_message
from endpoints.amqp.properties import CONTENT_TYPE, PERSISTENT, WireFields, header_field
from routing.routes import System
from routing.transport import Delivery


def test_header_fields_become_properties(exchanges) -> None:
    body = (exchanges / "MeterReadings" / "CreatedMeterReadings.xml").read_bytes()
    fields = WireFields.from_body(body, reply_to="cimbus.in")
    props = fields.to_properties()
    assert props.message_id == "f61c2116-84f9-549c-a2bd-aad7acf78be2"
    assert props.type == "createdMeterReadings"
    assert props.reply_to == "cimbus.in"
    assert props.content_type == CONTENT_TYPE == "application/xml"
    assert props.delivery_mode == PERSISTENT == 2
    assert props.timestamp == int(datetime.fromisoformat("2026-05-12T06:12:44-05:00").timestamp())
    assert props.headers == {"verb": "created", "noun": "MeterReadings", "source": "TDSP-MDMS"}
    assert props.correlation_id is None


def test_round_trip_through_properties() -> None:
    body = build_message(
        "reply",
        "MeterReadings",
        correlation_id="req-1",
        message_id="rep-1",
        source="HES",
        result="PARTIAL",
    )
    fields = WireFields.from_body(body)
    assert (fields.verb, fields.noun, fields.result) == ("reply", "MeterReadings", "PARTIAL")
    back = WireFields.from_properties(fields.to_properties())
    assert back == fields
    assert back.as_dict()["type"] == "replyMeterReadings"


def test_type_is_the_fallback_for_verb_and_noun() -> None:
    props = WireFields(verb="get", noun="MeterReadings").to_properties()
    props.headers = {}
    back = WireFields.from_properties(props)
    assert (back.verb, back.noun) == ("get", "MeterReadings")
    assert WireFields.from_properties(None) == WireFields()


def test_delivery_maps_to_properties() -> None:
    d = Delivery(
        system=System("HES", transport="amqp"),
        address="cimbus.system.HES",
        body=build_message("get", "MeterReadings", message_id="m-1"),
        message_id="m-1",
        correlation_id=None,
        verb="get",
        noun="MeterReadings",
        reply_to="cimbus.reply.w1",
        headers={"verb": "get", "noun": "MeterReadings", "source": "CIS", "trace": "t1"},
    )
    props = WireFields.from_delivery(d).to_properties(app_id="CIMBUS")
    assert props.message_id == "m-1"
    assert props.reply_to == "cimbus.reply.w1"
    assert props.type == "getMeterReadings"
    assert props.app_id == "CIMBUS"
    assert props.headers == {"verb": "get", "noun": "MeterReadings", "source": "CIS", "trace": "t1"}


def test_a_forwarded_reply_carries_its_result() -> None:
    body = build_message("reply", "MeterReadings", correlation_id="r", result="FAILED")
    d = Delivery(
        system=System("CIS", transport="amqp"),
        address="q",
        body=body,
        verb="reply",
        noun="MeterReadings",
        correlation_id="r",
    )
    assert WireFields.from_delivery(d).to_properties().headers["result"] == "FAILED"


def test_header_field_reads_prefixed_and_plain_elements() -> None:
    assert header_field(b"<a><msg:Verb> get </msg:Verb></a>", "Verb") == "get"
    assert header_field(b"<a><Noun>EndDeviceControls</Noun></a>", "Noun") == "EndDeviceControls"
    assert header_field(b"<a><MessageID>m</MessageID></a>", "MessageID") == "m"
    assert header_field(b"<a><Noun/></a>", "Noun") is None
    assert header_field(b"not xml", "Verb") is None
