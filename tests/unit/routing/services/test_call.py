"""``routing.services._call``: cimbus asks a system and waits (BUS-7), recorded in the audit
ledger (BUS-9); ``forward`` passes a request on with the wildcard route's semantics."""

from __future__ import annotations

import pytest

from cim_models.build import ReplyError, RequestPart, build_message
from routing.envelope import Envelope
from routing.errors import TargetTimeout, TargetUnavailable, UnsupportedRequest
from routing.services._call import call, forward, reply_errors, result_of
from routing.transport import DeliveryError

from .conftest import Odr
from .odr_messages import get_request


def cimbus_request(odr: Odr, message_id: str = "cimbus-1") -> bytes:
    window = RequestPart("2026-05-11T00:00:00-05:00", "2026-05-11T01:00:00-05:00")
    return build_message(
        "get", "MeterReadings", source=odr.bus.name, message_id=message_id, request=window
    )


def test_call_returns_the_reply_and_records_the_request(odr: Odr) -> None:
    reply = call(odr.bus, "HES", cimbus_request(odr), timeout=1, caused_by="ror-1")
    assert reply.verb == "reply" and reply.correlation_id == "cimbus-1"
    assert result_of(reply) == "OK"
    [row] = [r for r in odr.bus.store.trail("ror-1") if r.direction == "out"]
    assert (row.message_id, row.target, row.result, row.source) == (
        "cimbus-1",
        "HES",
        "OK",
        "CIMBUS",
    )
    assert odr.bus.store.correlation("cimbus-1").status == "replied"
    assert len(odr.bus.waiters) == 0


def test_no_reply_in_time_is_4_1(odr: Odr) -> None:
    odr.transport.silent = True
    with pytest.raises(
        TargetTimeout, match=r"HES did not answer .get MeterReadings. within 0\.2 s"
    ):
        call(odr.bus, "HES", cimbus_request(odr), timeout=0.2, caused_by="ror-2")
    assert odr.bus.store.correlation("cimbus-1").status == "timed_out"
    [row] = [r for r in odr.bus.store.trail("ror-2") if r.direction == "out"]
    assert (row.result, row.error_code) == ("FAILED", "4.1")
    assert len(odr.bus.waiters) == 0


def test_unreachable_system_is_4_2(odr: Odr) -> None:
    odr.transport.fail = DeliveryError("queue full")
    with pytest.raises(TargetUnavailable, match="HES could not be reached over embedded"):
        call(odr.bus, "HES", cimbus_request(odr), timeout=1)
    assert odr.bus.store.correlation("cimbus-1").status == "failed"


def test_unknown_system_is_refused(odr: Odr) -> None:
    with pytest.raises(UnsupportedRequest, match="unknown system 'NOPE'"):
        call(odr.bus, "NOPE", cimbus_request(odr), timeout=1)


def test_a_local_system_is_called_directly(odr: Odr) -> None:
    odr.bus.register_local(
        "smt",
        lambda env, bus: build_message(
            "reply", env.noun, correlation_id=env.message_id, source="SMT", result="PARTIAL"
        ),
    )
    assert result_of(call(odr.bus, "SMT", cimbus_request(odr), timeout=1)) == "PARTIAL"


def test_reply_errors_are_read_back() -> None:
    body = build_message(
        "reply",
        "MeterReadings",
        correlation_id="c",
        result="FAILED",
        errors=[ReplyError("2.4", "FATAL", "no answer", object_id="M1", object_type="Meter")],
    )
    from cim_models.codec import Codec

    env = Envelope.from_message(Codec().parse(body))
    assert result_of(env) == "FAILED"
    assert reply_errors(env) == [ReplyError("2.4", "FATAL", "no answer", None, None, "M1", "Meter")]


def test_forward_never_loops_back_to_a_local_system(make_odr) -> None:
    odr = make_odr()
    env = Envelope.from_message(odr.bus.codec.parse(get_request()))
    # the wildcard get MeterReadings route leads to HES: fine; pretend SMT were that target
    with pytest.raises(UnsupportedRequest, match="not something HES serves"):
        forward(odr.bus, env, served_by="HES")
