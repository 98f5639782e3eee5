"""cimbus over MQTT with a real Bus and store, against the project Mosquitto (BUS-6, BUS-7, REL-1).

* every message on the wire carries its Header in MQTT 5 properties, and Response Topic +
  Correlation Data link requests to their answers;
* a request routed through cimbus to a system (``MqttClient.serve``), the reply correlated back;
* an event from a head-end, on its meter's topic, fanned out to two subscribers;
* an async request acknowledged at once (0.1), its reply delivered to the ReplyAddress topic;
* what systems send while cimbus is down waits in cimbus's persistent session;
* a verb/noun nobody serves answered FAILED (2.5); a retried request answered from the store.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from lxml import etree

from cim_models.build import build_message, payload_elements
from cim_models.codec import Codec
from endpoints.mqtt import MessageProperties, MqttClient, MqttTransport, TopicScheme
from endpoints.mqtt._connection import Connection
from routing.bus import Bus
from routing.config import Config
from routing.store import Store
from tests.integration import mqtt_fixtures
from tests.integration.mqtt_fixtures import TEST_SESSION_EXPIRY, mqtt_config
from tests.integration.test_bus_transports import _reply_to, _result

pytestmark = pytest.mark.broker

# the fixtures this module uses (tests/integration/mqtt_fixtures.py)
mqtt_prefix = mqtt_fixtures.mqtt_prefix
mqtt_url = mqtt_fixtures.mqtt_url

codec = Codec()
MR = "http://iec.ch/TC57/2011/MeterReadings#"
EDE = "http://iec.ch/TC57/2011/EndDeviceEvents#"
EDC = "http://iec.ch/TC57/2011/EndDeviceControls#"
SYSTEMS = ("CIS", "HES", "MDMS", "OMS")


def _readings() -> etree._Element:
    return etree.fromstring(
        f'<MeterReadings xmlns="{MR}"><MeterReading><IntervalBlocks><IntervalReadings>'
        f"<timeStamp>2026-11-01T00:15:00Z</timeStamp><value>0.5</value></IntervalReadings>"
        f'<ReadingType ref="0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"/></IntervalBlocks>'
        f"<UsagePoint><mRID>10443720001234567</mRID></UsagePoint></MeterReading></MeterReadings>".encode()
    )


def _last_gasp(meter: str) -> etree._Element:
    return etree.fromstring(
        f'<EndDeviceEvents xmlns="{EDE}"><EndDeviceEvent><createdDateTime>2026-11-01T10:00:00Z'
        f'</createdDateTime><Assets><mRID>{meter}</mRID></Assets><EndDeviceEventType ref="3.26.0.85"/>'
        f"</EndDeviceEvent></EndDeviceEvents>".encode()
    )


def _control() -> etree._Element:
    return etree.fromstring(
        f'<EndDeviceControls xmlns="{EDC}"><EndDeviceControl><mRID>{uuid.uuid4()}</mRID>'
        f'<EndDeviceControlType ref="3.31.0.23"/><EndDevices><mRID>MTR1</mRID></EndDevices>'
        f"</EndDeviceControl></EndDeviceControls>".encode()
    )


@dataclass
class Cimbus:
    """A cimbus process on MQTT (Bus + SQLite store + MqttTransport) and its systems."""

    url: str
    prefix: str
    config: Config
    bus: Bus
    transport: MqttTransport
    clients: dict[str, MqttClient] = field(default_factory=dict)
    exchanges: list[Any] = field(default_factory=list)

    def client(self, name: str, **kw: Any) -> MqttClient:
        if name not in self.clients:
            self.clients[name] = MqttClient(self.url, name, topic_prefix=self.prefix, **kw)
        return self.clients[name]

    def restart_transport(self) -> None:
        self.transport = MqttTransport(
            self.bus, self.config.mqtt, session_expiry=TEST_SESSION_EXPIRY
        ).start()

    def close(self) -> None:
        for c in self.clients.values():
            c.close()
        self.transport.stop()
        self.bus.stop()


@pytest.fixture
def cimbus(mqtt_url: str, mqtt_prefix: str, tmp_path: Path) -> Iterator[Cimbus]:
    topics = TopicScheme(mqtt_prefix)
    config = Config.from_mapping(
        {
            "bus": {"retry_base": 0.05, "retry_max": 0.5},
            "mqtt": mqtt_config(mqtt_url, mqtt_prefix),
            "systems": {
                name: {"transport": "mqtt", "address": topics.system_filter(name)[:-2]}
                for name in SYSTEMS
            },
            "routes": [
                {"verb": "get", "noun": "MeterReadings", "target": "HES", "timeout": 10},
                {
                    "verb": "create",
                    "noun": "EndDeviceControls",
                    "target": "HES",
                    "mode": "async",
                    "timeout": 10,
                },
            ],
            "subscriptions": [
                {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["MDMS", "OMS"]}
            ],
        }
    )
    bus = Bus(config, Store(f"sqlite:///{tmp_path}/bus.db", payload_policy="all")).start()
    transport = MqttTransport(bus, config.mqtt, session_expiry=TEST_SESSION_EXPIRY).start()
    c = Cimbus(mqtt_url, mqtt_prefix, config, bus, transport)
    bus.add_listener(c.exchanges.append)
    yield c
    c.close()


class Spy:
    """A plain MQTT 5 subscriber on ``<prefix>/#``: what really went over the wire."""

    def __init__(self, url: str, prefix: str) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = lambda c, u, m: self.messages.append(m)
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        host, port = url.removeprefix("mqtt://").split(":")
        self.client.connect(host, int(port))
        self.client.loop_start()
        self.client.subscribe(f"{prefix}/#", qos=1)
        assert subscribed.wait(5)

    def on(self, topic: str, timeout: float = 5.0) -> mqtt.MQTTMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in list(self.messages):
                if m.topic == topic:
                    return m
            time.sleep(0.02)
        raise AssertionError(f"nothing on {topic}; seen {[m.topic for m in self.messages]}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _header_matches_properties(message: mqtt.MQTTMessage) -> MessageProperties:
    props = MessageProperties.from_mqtt(message.properties)
    header = codec.parse(message.payload).header()
    assert props.message_id == header.get("MessageID")
    assert props.correlation_id == (header.get("CorrelationID") or None)
    assert props.verb == header.get("Verb") and props.noun == header.get("Noun")
    assert props.source == header.get("Source")
    assert props.content_type == "application/xml"
    return props


def test_header_travels_in_mqtt5_properties_and_links_request_to_reply(cimbus: Cimbus) -> None:
    spy = Spy(cimbus.url, cimbus.prefix)
    topics = TopicScheme(cimbus.prefix)
    try:
        cimbus.client("HES").serve(lambda body: _reply_to(body, system="HES"))
        cis = cimbus.client("CIS")
        mid = str(uuid.uuid4())
        reply = cis.request(
            build_message("get", "MeterReadings", message_id=mid, source="CIS"), timeout=15
        )
        assert _result(reply)[0] == "OK"

        asked = _header_matches_properties(spy.on(topics.inbound("CIS", "MeterReadings")))
        assert asked.response_topic == cis.reply_topic
        assert asked.correlation_data == mid.encode()

        routed = _header_matches_properties(spy.on(topics.system("HES", "MeterReadings")))
        assert routed.response_topic == cimbus.transport.reply_address(sync=True)
        assert routed.correlation_data == mid.encode()

        answered = _header_matches_properties(spy.on(cimbus.transport.sync_reply_topic))
        assert answered.correlation_data == mid.encode() and answered.correlation_id == mid
        assert answered.verb == "reply" and answered.source == "HES"

        back = _header_matches_properties(spy.on(cis.reply_topic))
        assert back.correlation_data == mid.encode() and back.result == "OK"
    finally:
        spy.close()


def test_request_is_routed_to_the_system_and_the_reply_correlated(cimbus: Cimbus) -> None:
    seen: list[bytes] = []

    def hes(body: bytes) -> bytes:
        seen.append(body)
        return _reply_to(body, system="HES", payload=[_readings()])

    cimbus.client("HES").serve(hes)
    mid = str(uuid.uuid4())
    reply = cimbus.client("CIS").request(
        build_message("get", "MeterReadings", message_id=mid, source="CIS"), timeout=15
    )
    assert _result(reply)[0] == "OK"
    assert codec.parse(reply).header()["CorrelationID"] == mid
    assert len(payload_elements(reply)) == 1
    assert len(seen) == 1 and codec.parse(seen[0]).header()["MessageID"] == mid
    # the reply's own audit row is written just after it woke the waiting request
    expected = {("in", "get"), ("in", "reply")}
    deadline = time.monotonic() + 5
    while True:
        trail = cimbus.bus.store.trail(mid)
        if {(r.direction, r.verb) for r in trail} >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert {(r.direction, r.verb) for r in trail} >= expected
    assert {r.transport for r in trail if r.direction == "in"} == {"mqtt"}


def test_a_last_gasp_on_its_meter_topic_fans_out_to_two_subscribers(cimbus: Cimbus) -> None:
    got: dict[str, list[bytes]] = {"MDMS": [], "OMS": []}
    done = threading.Event()

    def make(name: str):
        def handler(body: bytes) -> None:
            got[name].append(body)
            if all(got.values()):
                done.set()

        return handler

    cimbus.client("MDMS").serve(make("MDMS"))
    cimbus.client("OMS").serve(make("OMS"))
    mid = str(uuid.uuid4())
    ack = cimbus.client("HES").request(
        build_message(
            "created", "EndDeviceEvents", message_id=mid, source="HES", payload=[_last_gasp("M7")]
        ),
        timeout=15,
        device="M7",
    )
    assert _result(ack)[0] == "OK"
    assert done.wait(15), f"subscribers got {[(k, len(v)) for k, v in got.items()]}"
    for name in ("MDMS", "OMS"):
        assert len(got[name]) == 1
        assert codec.parse(got[name][0]).header()["MessageID"] == mid
    event = next(ex for ex in cimbus.exchanges if ex.envelope and ex.envelope.message_id == mid)
    assert event.meta["mqtt"]["topic"] == f"{cimbus.prefix}/in/HES/EndDeviceEvents/M7"
    assert event.meta["mqtt"]["device"] == "M7" and event.meta["mqtt"]["party"] == "HES"


def test_async_reply_goes_to_the_reply_address_topic(cimbus: Cimbus) -> None:
    arrived: list[bytes] = []
    done = threading.Event()
    cimbus.client("HES").serve(lambda body: _reply_to(body, system="HES"))
    cis = cimbus.client("CIS")

    def cis_inbox(body: bytes) -> None:
        arrived.append(body)
        done.set()

    cis.serve(cis_inbox)
    mid = str(uuid.uuid4())
    reply_address = cis.reply_address("EndDeviceControls")
    ack = cis.request(
        build_message(
            "create",
            "EndDeviceControls",
            message_id=mid,
            source="CIS",
            payload=[_control()],
            async_reply=True,
            reply_address=reply_address,
        ),
        timeout=15,
    )
    result, codes = _result(ack)
    assert result == "OK" and codes == ["0.1"]
    assert done.wait(15), "the async reply did not reach the ReplyAddress topic"
    reply = codec.decode(arrived[0])
    assert reply.element == "EndDeviceControlsResponseMessage"
    assert reply.header()["CorrelationID"] == mid
    assert cimbus.bus.store.correlation(mid).status == "replied"


def test_what_systems_send_while_cimbus_is_down_waits_in_its_session(cimbus: Cimbus) -> None:
    """REL-1: cimbus's inbound session is persistent (stable client id, clean start off)."""
    got: dict[str, set[str]] = {"MDMS": set(), "OMS": set()}
    lock = threading.Lock()

    def make(name: str):
        def handler(body: bytes) -> None:
            with lock:
                got[name].add(codec.parse(body).header()["MessageID"])

        return handler

    cimbus.client("MDMS").serve(make("MDMS"))
    cimbus.client("OMS").serve(make("OMS"))
    cimbus.transport.stop()  # cimbus goes down
    hes = cimbus.client("HES")
    ids = [str(uuid.uuid4()) for _ in range(50)]
    for i, mid in enumerate(ids):  # PUBACKed by the broker, queued in cimbus's session
        hes.send(
            build_message(
                "created",
                "EndDeviceEvents",
                message_id=mid,
                source="HES",
                payload=[_last_gasp(f"M{i}")],
            ),
            device=f"M{i}",
        )
    cimbus.restart_transport()  # the same client id: the session and its queue are still there
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with lock:
            if all(len(v) == len(ids) for v in got.values()):
                break
        time.sleep(0.05)
    assert got["MDMS"] == set(ids) and got["OMS"] == set(ids)


def test_unserved_verb_noun_gets_a_failed_reply_naming_it(cimbus: Cimbus) -> None:
    reply = cimbus.client("CIS").request(
        build_message(
            "delete",
            "MeterReadings",
            message_id=str(uuid.uuid4()),
            source="CIS",
            payload=[_readings()],
        ),
        timeout=15,
    )
    result, codes = _result(reply)
    assert result == "FAILED" and codes == ["2.5"]
    assert b"delete MeterReadings" in reply


def test_a_retried_request_is_answered_from_the_store(cimbus: Cimbus) -> None:
    calls: list[bytes] = []
    cimbus.client("HES").serve(lambda body: calls.append(body) or _reply_to(body, system="HES"))
    request = build_message("get", "MeterReadings", message_id=str(uuid.uuid4()), source="CIS")
    first = cimbus.client("CIS").request(request, timeout=15)
    second = cimbus.client("CIS").request(request, timeout=15)
    assert first == second
    assert len(calls) == 1


def test_every_socket_of_cimbus_and_its_clients_does_without_nagle(cimbus: Cimbus) -> None:
    """TCP_NODELAY on every connection, cimbus's three and the clients' (requests, serving):
    with Nagle's algorithm each hop of a request/answer waits for a delayed ACK (40 ms).
    Speed itself is measured by bench/bench_mqtt_latency.py, not here."""
    cimbus.client("HES").serve(lambda body: _reply_to(body, system="HES", payload=[_readings()]))
    cis = cimbus.client("CIS")
    reply = cis.request(build_message("get", "MeterReadings", source="CIS"), timeout=15)
    assert _result(reply)[0] == "OK"
    connections = list(cimbus.transport.connections) + [
        conn
        for client in cimbus.clients.values()
        for conn in vars(client).values()
        if isinstance(conn, Connection)
    ]
    # cimbus: in, replies, out; CIS: requests; HES: serving, and publishing its answers
    assert len(connections) >= 5
    for conn in connections:
        sock = conn.client.socket()
        assert sock is not None, conn.name
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0, conn.name
