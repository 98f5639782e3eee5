"""One test group per pipeline step (parse, header, validate, authorise, dedupe, route,
reply, record), each through Bus.handle so the step runs in its real position."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from lxml import etree

from cim_models.build import build_message
from cim_models.codec import Codec
from routing.errors import NotAuthorised
from routing.pipeline import Pipeline, default_steps
from routing.pipeline.header import expected_verb

from .conftest import msg

codec = Codec()
EDE = "http://iec.ch/TC57/2011/EndDeviceEvents#"
EDC = "http://iec.ch/TC57/2011/EndDeviceControls#"


def event_payload() -> etree._Element:
    return etree.fromstring(
        f'<EndDeviceEvents xmlns="{EDE}"><EndDeviceEvent><createdDateTime>2026-11-01T10:00:00Z'
        f'</createdDateTime><EndDeviceEventType ref="3.26.136.47"/></EndDeviceEvent></EndDeviceEvents>'.encode()
    )


def control_payload() -> etree._Element:
    return etree.fromstring(
        f'<EndDeviceControls xmlns="{EDC}"><EndDeviceControl><EndDeviceControlType ref="3.31.0.23"/>'
        f"</EndDeviceControl></EndDeviceControls>".encode()
    )


def result_codes(reply: bytes) -> tuple[str, list[str]]:
    root = codec.parse(reply).root
    return (
        root.xpath("string(//*[local-name()='Result'])"),
        root.xpath("//*[local-name()='Error']/*[local-name()='code']/text()"),
    )


# ---------------------------------------------------------------------------- order


def test_default_order_is_the_documented_one() -> None:
    names = [s.name for s in default_steps()]
    assert names == [
        "parse",
        "header",
        "validate",
        "authorise",
        "dedupe",
        "route",
        "reply",
        "record",
    ]
    with pytest.raises(ValueError, match="duplicate"):
        Pipeline([*default_steps(), default_steps()[0]])


# ---------------------------------------------------------------------------- parse


def test_parse_refuses_unsafe_input_with_a_fault_message(bus) -> None:
    ex = bus.handle(
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', transport="test"
    )
    assert ex.error is not None and ex.error.code == "2.1" and ex.error.envelope_broken
    assert codec.parse(ex.reply).element == "FaultMessage"
    assert ex.result == "FAILED"


def test_parse_builds_the_envelope(bus) -> None:
    ex = bus.handle(msg("get", "MeterReadings", message_id="m-1"), transport="test", reply_to="q")
    assert (
        ex.envelope.verb == "get"
        and ex.envelope.message_id == "m-1"
        and ex.envelope.reply_to == "q"
    )


_DECL = b"<?xml version='1.0' encoding='UTF-8'?>"


@pytest.mark.parametrize(
    ("declaration", "tail", "kept"),
    [
        (_DECL, b"", True),  # what lxml writes
        (b'<?xml version="1.0" encoding = "utf-8" ?>', b"", True),  # other quotes, spaces, case
        (b"<?xml version='1.0'?>", b"", False),  # no encoding named: serialised again
        (b"", b"", False),  # no declaration
        (_DECL, b"<!-- dropped by the safe parser -->", False),
        (_DECL, b"<?pi dropped too?>", False),
    ],
)
def test_the_envelope_body_is_the_bytes_received_only_when_they_are_canonical(
    bus, declaration: bytes, tail: bytes, kept: bool
) -> None:
    """The parse step keeps the received bytes as the envelope's body when they already are
    the canonical message (saves a serialisation per message, issue 3); otherwise the body is
    the message serialised again, with comments and processing instructions gone."""
    body = msg(
        "created", "EndDeviceEvents", payload=[event_payload()], message_id=str(uuid.uuid4())
    )
    start = body.index(b"?>") + 2
    raw = declaration + body[start:] + tail
    ex = bus.handle(raw, transport="test")
    assert ex.error is None, ex.error
    assert (ex.envelope.body is raw) is kept
    assert b"<!--" not in ex.envelope.body and b"<?pi" not in ex.envelope.body
    assert ex.envelope.body.startswith(b"<?xml")


# ---------------------------------------------------------------------------- header


@pytest.mark.parametrize(
    "mutate,fragment",
    [
        (
            lambda b: b.replace(
                b"<msg:Noun>MeterReadings</msg:Noun>", b"<msg:Noun>EndDeviceEvents</msg:Noun>"
            ),
            "does not match the message",
        ),
        (
            lambda b: b.replace(b"<msg:Verb>get</msg:Verb>", b"<msg:Verb>create</msg:Verb>"),
            "means 'get'",
        ),
    ],
)
def test_header_inconsistency_is_2_3(bus, mutate, fragment) -> None:
    ex = bus.handle(mutate(msg("get", "MeterReadings")), transport="test")
    assert ex.error.code == "2.3" and fragment in ex.error.reason
    assert result_codes(ex.reply) == ("FAILED", ["2.3"])


def test_header_requires_message_id_and_reply_correlation(bus) -> None:
    no_id = (
        build_message("get", "MeterReadings", source="CIS")
        .replace(b"<msg:MessageID>", b"<msg:Comment>")
        .replace(b"</msg:MessageID>", b"</msg:Comment>")
    )
    ex = bus.handle(no_id, transport="test")
    assert ex.error.code == "2.3" and "needs a MessageID" in ex.error.reason
    reply = build_message("reply", "MeterReadings", result="OK")
    ex = bus.handle(reply, transport="test")
    assert ex.error.code == "2.3" and "CorrelationID" in ex.error.reason
    assert ex.reply is None  # a reply is never answered with a reply


def test_bare_payload_is_not_a_message(bus) -> None:
    ex = bus.handle(etree.tostring(event_payload()), transport="test")
    assert ex.error.code == "2.3" and "not a message" in ex.error.reason


def test_expected_verb() -> None:
    assert expected_verb("CreatedMeterReadings", "MeterReadings") == "created"
    assert expected_verb("GetMeterReadings", "MeterReadings") == "get"
    assert expected_verb("MeterReadingsResponseMessage", "MeterReadings") == "reply"


# ---------------------------------------------------------------------------- validate


def test_schema_violations_are_2_2_with_every_issue(bus) -> None:
    bad = msg("created", "EndDeviceEvents", payload=[event_payload()]).replace(
        b"2026-11-01T10:00:00Z", b"yesterday"
    )
    ex = bus.handle(bad, transport="test")
    assert ex.error.code == "2.2" and "createdDateTime" in ex.error.reason
    result, codes = result_codes(ex.reply)
    assert result == "FAILED" and codes[0] == "2.2"
    assert b"line " in ex.reply  # details name the line


# ---------------------------------------------------------------------------- authorise


def test_authoriser_refusal_is_3_2_and_nothing_is_routed(bus) -> None:
    def deny(envelope, principal):
        raise NotAuthorised("CIS may not read this meter")

    bus.authoriser = deny
    ex = bus.handle(msg("get", "MeterReadings"), transport="test")
    assert ex.error.code == "3.2" and ex.principal == "CIS"
    assert bus.fake.delivered == []


# ---------------------------------------------------------------------------- dedupe


def test_duplicate_event_is_answered_with_the_stored_reply_and_not_fanned_out_twice(bus) -> None:
    body = msg("created", "EndDeviceEvents", source="HES", payload=[event_payload()])
    first = bus.handle(body, transport="test")
    second = bus.handle(body, transport="test")
    assert first.result == "OK" and second.result == "DUPLICATE"
    assert second.reply == first.reply
    assert bus.store.outbox_counts().get("pending", 0) == 2  # MDMS + CIS, once


# ---------------------------------------------------------------------------- route


def test_sync_request_waits_for_the_reply(bus) -> None:
    mid = str(uuid.uuid4())

    def answer_later(delivery):
        def later():
            time.sleep(0.05)
            reply = build_message(
                "reply",
                "MeterReadings",
                correlation_id=delivery.message_id,
                source="HES",
                result="OK",
            )
            bus.handle(reply, transport="test")

        threading.Thread(target=later).start()

    bus.fake.answer = answer_later
    ex = bus.handle(msg("get", "MeterReadings", message_id=mid), transport="test")
    assert ex.error is None and ex.result == "OK"
    assert codec.parse(ex.reply).header()["CorrelationID"] == mid
    assert bus.fake.delivered[0].reply_to == "cimbus.reply.test"
    assert bus.store.correlation(mid).status == "replied"


def test_sync_reply_returned_in_the_same_call(bus) -> None:
    bus.fake.answer = lambda d: build_message(
        "reply", "MeterReadings", correlation_id=d.message_id, source="HES", result="OK"
    )
    ex = bus.handle(msg("get", "MeterReadings"), transport="test")
    assert ex.result == "OK"


def test_sync_timeout_is_4_1(bus) -> None:
    ex = bus.handle(msg("get", "MeterReadings"), transport="test")
    assert ex.error.code == "4.1"
    assert bus.store.correlation(ex.envelope.message_id).status == "timed_out"


def test_unreachable_target_is_4_2(bus) -> None:
    from routing.transport import DeliveryError

    bus.fake.fail = DeliveryError("connection refused")
    ex = bus.handle(msg("get", "MeterReadings"), transport="test")
    assert ex.error.code == "4.2" and "HES could not be reached" in ex.error.reason


def test_async_request_is_acknowledged_and_queued(bus) -> None:
    mid = str(uuid.uuid4())
    body = msg(
        "create",
        "EndDeviceControls",
        message_id=mid,
        payload=[control_payload()],
        async_reply=True,
        reply_address="cimbus.system.CIS",
    )
    ex = bus.handle(body, transport="embedded")  # the reply goes back over the same transport
    assert ex.result == "ACCEPTED"
    assert result_codes(ex.reply) == ("OK", ["0.1"])
    assert bus.store.correlation(mid).mode == "async"
    assert bus.run_outbox_once() == 1
    assert bus.fake.delivered[0].address == "cimbus.system.HES"
    # the system's reply is forwarded to the ReplyAddress through the outbox
    reply = build_message(
        "reply", "EndDeviceControls", correlation_id=mid, source="HES", result="OK"
    )
    assert bus.handle(reply, transport="test").result == "OK"
    assert bus.run_outbox_once() == 1
    assert bus.fake.delivered[1].address == "cimbus.system.CIS"
    assert bus.store.correlation(mid).status == "replied"


def test_async_without_reply_address_is_refused(bus) -> None:
    body = msg("create", "EndDeviceControls", payload=[control_payload()], async_reply=True)
    ex = bus.handle(body, transport="test")
    assert ex.error.code == "2.3" and "ReplyAddress" in ex.error.reason


def test_event_fan_out_goes_through_the_outbox(bus) -> None:
    ex = bus.handle(
        msg("created", "EndDeviceEvents", source="HES", payload=[event_payload()]), transport="test"
    )
    assert ex.result == "OK" and "MDMS, CIS" in ex.outcome
    assert bus.run_outbox_once() == 2
    assert sorted(d.system.name for d in bus.fake.delivered) == ["CIS", "MDMS"]


def _odr_reply(envelope) -> bytes:
    """What the test local system "ODR" answers: an OK reply to ``envelope``."""
    return build_message(
        "reply", "EndDeviceEvents", correlation_id=envelope.message_id, source="ODR", result="OK"
    )


def test_local_system_serves_inside_cimbus(bus) -> None:
    bus.register_local("ODR", lambda envelope, b: _odr_reply(envelope))
    ex = bus.handle(msg("get", "EndDeviceEvents"), transport="test")
    assert ex.result == "OK" and "inside cimbus" in ex.outcome


def test_a_local_request_sent_twice_at_once_is_served_once(bus) -> None:
    """REL-1 for local services (the SMT asks the head-end, forwards controls): a copy of a
    request that arrives while the first is still being served is refused (2.6), it does not
    run the service a second time."""
    calls: list[str] = []
    second_done = threading.Event()

    def odr(envelope, b):
        calls.append(envelope.message_id)
        if len(calls) == 1:  # the first copy is still being served when the second arrives
            second_done.wait(5)
        return _odr_reply(envelope)

    bus.register_local("ODR", odr)
    body = msg("get", "EndDeviceEvents")
    results = {}

    def first() -> None:
        results["first"] = bus.handle(body, transport="test")

    t = threading.Thread(target=first)
    t.start()
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.005)
    try:
        results["second"] = bus.handle(body, transport="test")
    finally:
        second_done.set()
        t.join(5)
    assert len(calls) == 1
    assert results["first"].result == "OK"
    assert results["second"].error is not None and results["second"].error.code == "2.6"


def test_reply_for_unknown_exchange_is_2_12_and_recorded(bus) -> None:
    ex = bus.handle(
        build_message("reply", "MeterReadings", correlation_id="nope", result="OK"),
        transport="test",
    )
    assert ex.error.code == "2.12" and ex.reply is None
    assert bus.store.audit(limit=5)[0].error_code == "2.12"


def test_outbox_retries_then_dead_letters(bus) -> None:
    from routing.transport import DeliveryError

    bus.handle(
        msg("created", "EndDeviceEvents", source="HES", payload=[event_payload()]), transport="test"
    )
    bus.fake.fail = DeliveryError("down")
    for _ in range(20):
        bus.run_outbox_once()
        time.sleep(0.03)
    dead = bus.store.dead_letters()
    assert len(dead) == 2 and all("gave up after 3 attempts" in d.reason for d in dead)
    bus.fake.fail = None
    bus.replay_dead_letter(dead[0].id)
    assert bus.run_outbox_once() == 1 and len(bus.fake.delivered) == 1


# ---------------------------------------------------------------------------- reply + record


def test_every_exchange_is_recorded_in_and_out(bus) -> None:
    ex = bus.handle(msg("delete", "MeterReadings", payload=[]), transport="test")
    assert ex.error.code == "2.5"
    rows = bus.store.trail(ex.envelope.message_id)
    assert [(r.direction, r.result, r.error_code) for r in rows] == [
        ("in", "FAILED", "2.5"),
        ("out", "FAILED", "2.5"),
    ]
    assert rows[0].payload  # payload policy "all"


def test_get_reply_uses_the_get_wrapper_namespace(bus) -> None:
    ex = bus.handle(msg("get", "MeterReadings"), transport="test")  # times out: FAILED reply
    reply = codec.decode(ex.reply)
    assert reply.namespace == "http://iec.ch/TC57/2011/GetMeterReadingsMessage"
    assert reply.element == "MeterReadingsResponseMessage"


def test_async_timeout_sends_a_failed_reply_to_the_reply_address(bus) -> None:
    mid = str(uuid.uuid4())
    body = msg(
        "create",
        "EndDeviceControls",
        message_id=mid,
        payload=[control_payload()],
        async_reply=True,
        reply_address="cimbus.system.CIS",
    )
    assert bus.handle(body, transport="embedded").result == "ACCEPTED"
    assert bus.sweep_timeouts() == 0  # not overdue yet (route timeout 0.3 s)
    time.sleep(0.4)
    assert bus.sweep_timeouts() == 1
    assert bus.store.correlation(mid).status == "timed_out"
    bus.run_outbox_once()  # the request to HES and the FAILED reply to CIS
    to_cis = [d for d in bus.fake.delivered if d.address == "cimbus.system.CIS"]
    assert len(to_cis) == 1
    reply = codec.decode(to_cis[0].body)
    assert reply.element == "EndDeviceControlsResponseMessage"  # the noun is named
    assert reply.header()["CorrelationID"] == mid
    assert result_codes(to_cis[0].body) == ("FAILED", ["4.1"])
    # the system's reply after that is recorded as late, not forwarded
    late = build_message(
        "reply", "EndDeviceControls", correlation_id=mid, source="HES", result="OK"
    )
    assert bus.handle(late, transport="embedded").result == "OK"
    assert bus.store.correlation(mid).status == "late"
    assert bus.run_outbox_once() == 0


def test_start_compiles_the_schemas_before_the_first_message(tmp_path) -> None:
    """The XSD profiles are compiled by Bus.start, so the first message does not wait for it
    (issue 3; a profile of the AMQP benchmark showed the compile inside the first batch)."""
    from cim_models.validation import project_schemas
    from routing.bus import Bus
    from routing.config import Config

    codec = Codec()
    bus = Bus(Config.from_mapping({"store": {"url": f"sqlite:///{tmp_path}/s.db"}}), codec=codec)
    assert codec._schemas is None  # built lazily until then
    bus.start(outbox=False)
    try:
        assert codec._schemas is project_schemas()
    finally:
        bus.stop()
