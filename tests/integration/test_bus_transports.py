"""One integration module, run unchanged on every transport (BUS-5, BUS-6, BUS-7, BUS-10).

For each transport (embedded; RabbitMQ and Mosquitto in CI, marked ``broker``) the same
scenarios run through a real Bus with a real store:

* a request routed to a test system and its reply correlated back to the requester;
* events fanned out to every subscriber;
* an async request acknowledged at once (0.1) and its reply delivered to the ReplyAddress;
* a verb/noun nobody serves answered FAILED (2.5) naming it;
* a serving system that stays silent: FAILED (4.1) after the route timeout, and its late reply
  recorded, not lost;
* every message in and out recorded, the exchange followed by CorrelationID.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from lxml import etree

from cim_models.build import build_message, payload_elements
from cim_models.codec import Codec
from tests.integration.harness import Harness, harness_params

codec = Codec()
MR = "http://iec.ch/TC57/2011/MeterReadings#"
EDE = "http://iec.ch/TC57/2011/EndDeviceEvents#"
EDC = "http://iec.ch/TC57/2011/EndDeviceControls#"


def _readings(n: int = 4) -> etree._Element:
    blocks = "".join(
        f"<IntervalReadings><timeStamp>2026-11-01T00:{15 * i:02d}:00Z</timeStamp><value>{0.5 + i}</value>"
        f'<ReadingQualities><ReadingQualityType ref="2.0.0"/></ReadingQualities></IntervalReadings>'
        for i in range(n)
    )
    return etree.fromstring(
        f'<MeterReadings xmlns="{MR}"><MeterReading><IntervalBlocks>{blocks}'
        f'<ReadingType ref="0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"/></IntervalBlocks>'
        f"<UsagePoint><mRID>10443720001234567</mRID></UsagePoint></MeterReading></MeterReadings>".encode()
    )


def _event(code: str = "3.26.136.47") -> etree._Element:
    return etree.fromstring(
        f'<EndDeviceEvents xmlns="{EDE}"><EndDeviceEvent><createdDateTime>2026-11-01T10:00:00Z'
        f'</createdDateTime><Assets><mRID>MTR1</mRID></Assets><EndDeviceEventType ref="{code}"/>'
        f"</EndDeviceEvent></EndDeviceEvents>".encode()
    )


def _control() -> etree._Element:
    return etree.fromstring(
        f'<EndDeviceControls xmlns="{EDC}"><EndDeviceControl><mRID>{uuid.uuid4()}</mRID>'
        f'<EndDeviceControlType ref="3.31.0.23"/><EndDevices><mRID>MTR1</mRID></EndDevices>'
        f"</EndDeviceControl></EndDeviceControls>".encode()
    )


def _reply_to(request: bytes, *, system: str, payload: list[etree._Element] | None = None) -> bytes:
    m = codec.parse(request)
    h = m.header()
    kw = {}
    if m.form == "get":
        kw = {"namespace": m.namespace, "element": f"{m.noun}ResponseMessage"}
    return build_message(
        "reply",
        m.noun or h["Noun"],
        correlation_id=h["MessageID"],
        source=system,
        result="OK",
        payload=payload,
        **kw,
    )


def _result(reply: bytes) -> tuple[str, list[str]]:
    root = codec.parse(reply).root
    result = root.xpath("string(//*[local-name()='Reply']/*[local-name()='Result'])")
    codes = root.xpath(
        "//*[local-name()='Reply']/*[local-name()='Error']/*[local-name()='code']/text()"
    )
    return result, list(codes)


pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.mqtt_fixtures"]


@pytest.fixture(params=harness_params())
def h(request: pytest.FixtureRequest, tmp_path) -> Harness:
    """The same scenario bodies on every transport (embedded; RabbitMQ; Mosquitto)."""
    if request.param == "amqp":
        yield request.getfixturevalue("amqp_harness")
        return
    if request.param == "mqtt":
        yield request.getfixturevalue("mqtt_harness")
        return
    harness = Harness.create(request.param, tmp_path)
    yield harness
    harness.close()


def test_request_is_routed_and_the_reply_correlated(h: Harness) -> None:
    seen: list[bytes] = []

    def hes(body: bytes) -> bytes:
        seen.append(body)
        return _reply_to(body, system="HES", payload=[_readings(4)])

    h.client("HES").serve(hes)
    cis = h.client("CIS")
    mid = str(uuid.uuid4())
    request = build_message("get", "MeterReadings", message_id=mid, source="CIS", request=None)
    reply = cis.request(request, timeout=15)
    result, _codes = _result(reply)
    assert result == "OK"
    message = codec.decode(reply)
    assert message.header()["CorrelationID"] == mid
    assert len(payload_elements(reply)) == 1
    assert len(seen) == 1 and codec.parse(seen[0]).header()["MessageID"] == mid
    trail = h.bus.store.trail(mid)
    assert {(r.direction, r.verb) for r in trail} >= {
        ("in", "get"),
        ("in", "reply"),
        ("out", "reply"),
    }


def test_events_fan_out_to_every_subscriber(h: Harness) -> None:
    got: dict[str, list[bytes]] = {"MDMS": [], "OMS": []}
    done = threading.Event()

    def make(name: str):
        def handler(body: bytes) -> None:
            got[name].append(body)
            if all(got.values()):
                done.set()
            return None

        return handler

    h.client("MDMS").serve(make("MDMS"))
    h.client("OMS").serve(make("OMS"))
    mid = str(uuid.uuid4())
    ack = h.client("HES").request(
        build_message(
            "created", "EndDeviceEvents", message_id=mid, source="HES", payload=[_event()]
        ),
        timeout=15,
    )
    assert _result(ack)[0] == "OK"
    assert done.wait(15), f"subscribers got {[(k, len(v)) for k, v in got.items()]}"
    for name in ("MDMS", "OMS"):
        assert len(got[name]) == 1
        assert codec.parse(got[name][0]).header()["MessageID"] == mid


def test_async_reply_goes_to_reply_address(h: Harness) -> None:
    arrived: list[bytes] = []
    done = threading.Event()

    def cis_inbox(body: bytes) -> None:
        arrived.append(body)
        done.set()
        return None

    h.client("HES").serve(lambda body: _reply_to(body, system="HES"))
    cis = h.client("CIS")
    cis.serve(cis_inbox)
    mid = str(uuid.uuid4())
    request = build_message(
        "create",
        "EndDeviceControls",
        message_id=mid,
        source="CIS",
        payload=[_control()],
        async_reply=True,
        reply_address=h.address_of("CIS"),
    )
    ack = cis.request(request, timeout=15)
    result, codes = _result(ack)
    assert result == "OK" and codes == ["0.1"]
    assert done.wait(15), "the async reply did not reach the ReplyAddress"
    reply = codec.decode(arrived[0])
    assert reply.element == "EndDeviceControlsResponseMessage"
    assert reply.header()["CorrelationID"] == mid
    assert h.bus.store.correlation(mid).status == "replied"


def test_unserved_verb_noun_gets_failed_reply_naming_it(h: Harness) -> None:
    reply = h.client("CIS").request(
        build_message(
            "delete",
            "MeterReadings",
            message_id=str(uuid.uuid4()),
            source="CIS",
            payload=[_readings(1)],
        ),
        timeout=15,
    )
    result, codes = _result(reply)
    assert result == "FAILED" and codes == ["2.5"]
    assert b"delete MeterReadings" in reply


def test_timeout_then_late_reply_is_recorded(h: Harness) -> None:
    held: list[bytes] = []
    h.client("SLOW").serve(lambda body: held.append(body) or None)  # never answers in time
    mid = str(uuid.uuid4())
    t0 = time.monotonic()
    reply = h.client("CIS").request(
        build_message("get", "EndDeviceEvents", message_id=mid, source="CIS"), timeout=15
    )
    assert time.monotonic() - t0 < 10
    result, codes = _result(reply)
    assert result == "FAILED" and codes == ["4.1"]
    assert h.bus.store.correlation(mid).status == "timed_out"
    # the late reply arrives: recorded, not lost
    h.client("SLOW").send(_reply_to(held[0], system="SLOW"))
    deadline = time.monotonic() + 10
    while h.bus.store.correlation(mid).status != "late" and time.monotonic() < deadline:
        time.sleep(0.05)
    record = h.bus.store.correlation(mid)
    assert record.status == "late" and record.reply


def test_duplicate_request_is_answered_from_the_store(h: Harness) -> None:
    calls: list[bytes] = []
    h.client("HES").serve(lambda body: calls.append(body) or _reply_to(body, system="HES"))
    request = build_message("get", "MeterReadings", message_id=str(uuid.uuid4()), source="CIS")
    first = h.client("CIS").request(request, timeout=15)
    second = h.client("CIS").request(request, timeout=15)
    assert first == second
    assert len(calls) == 1
