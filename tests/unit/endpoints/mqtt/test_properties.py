"""IEC 61968-100 header <-> MQTT 5 properties (BUS-1, BUS-6, BUS-7), without a broker."""

from __future__ import annotations

from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cim_models.build import ReplyError, build_fault, build_message
from cim_models.codec import Codec
from endpoints.mqtt.properties import CONTENT_TYPE, HEADER_PROPERTIES, MessageProperties

codec = Codec()


def _wire(props: MessageProperties) -> MessageProperties:
    """Through paho's encoder and decoder, as on the wire."""
    encoded = props.to_mqtt().pack()
    decoded = Properties(PacketTypes.PUBLISH)
    decoded.unpack(encoded)
    return MessageProperties.from_mqtt(decoded)


def test_request_header_becomes_properties() -> None:
    body = build_message(
        "get",
        "MeterReadings",
        message_id="m-1",
        correlation_id="c-0",
        source="ROR-CIS-01",
    )
    props = MessageProperties.from_body(
        body, response_topic="cimbus/client/CIS/reply", correlation_data=b"m-1"
    )
    assert props.user_properties() == {
        "message_id": "m-1",
        "correlation_id": "c-0",
        "verb": "get",
        "noun": "MeterReadings",
        "source": "ROR-CIS-01",
    }
    assert props.result is None
    back = _wire(props)
    assert back == props
    assert back.response_topic == "cimbus/client/CIS/reply"
    assert back.correlation_data == b"m-1" and back.correlation_key == "m-1"
    assert back.content_type == CONTENT_TYPE


def test_reply_carries_its_result() -> None:
    body = build_message(
        "reply",
        "EndDeviceControls",
        correlation_id="req-7",
        source="HES",
        result="FAILED",
        errors=[ReplyError("2.5", "FATAL", "nope")],
    )
    props = _wire(MessageProperties.from_body(body, correlation_data=b"req-7"))
    assert props.verb == "reply" and props.result == "FAILED"
    assert props.correlation_id == "req-7" and props.correlation_key == "req-7"


def test_a_fault_message_has_no_header_to_map() -> None:
    props = MessageProperties.from_body(build_fault([ReplyError("1.1")], noun="MeterReadings"))
    assert props.message_id is None and props.verb is None
    assert props.user_properties() == {"result": "FAILED"}


def test_every_golden_exchange_maps_its_header(exchanges: Path) -> None:
    files = sorted(exchanges.rglob("*.xml"))
    assert files
    for path in files:
        body = path.read_bytes()
        header = codec.parse(body).header()
        props = _wire(MessageProperties.from_body(body))
        for element, name in HEADER_PROPERTIES.items():
            expected = header.get(element) or None
            assert getattr(props, name) == expected, f"{path.name}: {element}"


def test_unknown_user_properties_are_kept_apart() -> None:
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("verb", "created"), ("x-trace", "abc"), ("verb", "second")]
    got = MessageProperties.from_mqtt(props)
    assert got.verb == "created"
    assert got.other == (("x-trace", "abc"), ("verb", "second"))
    assert ("x-trace", "abc") in MessageProperties(other=got.other).to_mqtt().UserProperty


def test_no_properties_at_all_mqtt_3_style() -> None:
    got = MessageProperties.from_mqtt(None)
    assert got.response_topic is None and got.correlation_key is None
    assert got.as_meta() == {}


def test_as_meta_is_plain_data() -> None:
    meta = MessageProperties(message_id="a", correlation_data=b"a").as_meta()
    assert meta == {"message_id": "a", "correlation_data": "a", "content_type": CONTENT_TYPE}


@pytest.mark.parametrize("name", ["Verb", "Noun", "MessageID", "CorrelationID", "Source"])
def test_reading_the_header_does_not_parse_the_payload(name: str) -> None:
    # A payload element of the same local name later in the body must not be taken
    body = build_message("created", "EndDeviceEvents", message_id="m", source="S")
    tail = f"<{name}>WRONG</{name}><x:{name} xmlns:x='urn:x'>WRONG</x:{name}>".encode()
    props = MessageProperties.from_body(body.replace(b"</m:Header>", b"</m:Header>" + tail))
    assert "WRONG" not in props.user_properties().values()
    assert props.message_id == "m" and props.verb == "created"
