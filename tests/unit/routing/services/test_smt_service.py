"""The SMT service through the bus pipeline (``Bus.handle``), with a head-end that answers in
the same call: ODR-1..ODR-7 and SEC-2 end to end, the throttle across days and kinds, what a
refusal looks like on the wire, and the audit trail of the head-end exchange (BUS-9)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from cim_models.build import build_message
from cim_models.codes import NON_VEE, controls
from routing.envelope import Envelope
from routing.errors import UnsupportedRequest
from routing.transport import DeliveryError

from .conftest import T0, Odr
from .odr_messages import (
    CT,
    ESIID,
    GET_WRAPPER,
    OTHER_ESIID,
    OTHER_ROR,
    control,
    get_request,
    ping_request,
    reply_of,
    vee_posting,
)

LAST_VEE = datetime(2026, 5, 11, 0, 0, tzinfo=CT)


def ready(odr: Odr, esiid: str = ESIID, **kw) -> Odr:
    """Provisioned, with a VEE posting ending at LAST_VEE (ODR-7 through the event)."""
    odr.provision(esiid, **kw)
    ex = odr.handle(vee_posting(esiid, LAST_VEE))
    assert ex.result == "OK", ex.outcome
    return odr


def read(odr: Odr, body: bytes | None = None) -> dict:
    ex = odr.handle(body or get_request())
    assert ex.reply is not None, ex.outcome
    seen = reply_of(ex.reply)
    seen["ex"] = ex
    return seen


def valid(odr: Odr, body: bytes) -> bool:
    return odr.bus.codec.validate(odr.bus.codec.parse(body)) == []


# ---------------------------------------------------------------------------- ODR-1, ODR-3
def test_read_returns_non_vee_readings_of_the_window_in_the_get_wrapper(odr: Odr) -> None:
    ready(odr)
    body = get_request()
    seen = read(odr, body)
    assert seen["result"] == "OK", seen["reasons"]
    assert seen["namespace"] == GET_WRAPPER and seen["element"] == "MeterReadingsResponseMessage"
    assert seen["correlation_id"] == Envelope.from_message(odr.bus.codec.parse(body)).message_id
    # the window defaults to [last VEE end, now]: 00:15 on the 11th .. 09:41 on the 12th
    assert seen["intervals"][0] == LAST_VEE + timedelta(minutes=15)
    assert seen["intervals"][-1] == datetime(2026, 5, 12, 9, 30, tzinfo=CT)
    assert len(seen["intervals"]) == 134
    assert set(seen["qualities"]) == {NON_VEE}  # the head-end said 1.0.0: replaced
    assert seen["registers"] == 1
    assert seen["reasons"][0] == "134 interval readings and 1 register read returned"
    assert valid(odr, seen["ex"].reply)
    # what SMT asked the head-end: the ESIID and the window
    [asked] = [d for d in odr.transport.delivered if d.system.name == "HES"]
    assert asked.verb == "get" and asked.noun == "MeterReadings"
    assert ESIID.encode() in asked.body and b"2026-05-11T00:00:00-05:00" in asked.body


def test_the_head_end_exchange_is_in_the_audit_trail(odr: Odr) -> None:
    """BUS-9: the ROR's exchange can be followed through SMT's request to the head-end."""
    ready(odr)
    body = get_request()
    ror_id = Envelope.from_message(odr.bus.codec.parse(body)).message_id
    read(odr, body)
    rows = odr.bus.store.trail(ror_id)
    steps = [(r.direction, r.verb, r.source, r.target) for r in rows]
    assert steps == [
        ("in", "get", "CIS", "SMT"),
        ("out", "get", "CIMBUS", "HES"),
        ("in", "reply", "HES", "CIMBUS"),
        ("out", "reply", "CIMBUS", "CIS"),
    ]
    assert rows[1].correlation_id == ror_id and rows[1].result == "OK"


# ---------------------------------------------------------------------------- ODR-5 throttle
def test_one_successful_read_per_esiid_per_day_then_the_next_day(odr: Odr) -> None:
    ready(odr)
    assert read(odr)["result"] == "OK"
    second = read(odr)
    assert (second["result"], second["codes"]) == ("FAILED", ["2.7"])
    assert second["reasons"] == [
        "limit of 1 successful meter read per ESIID per day reached for 10443720001234567 "
        "(next allowed from 2026-05-13T00:00:00-05:00)"
    ]
    assert second["namespace"] == GET_WRAPPER and valid(odr, second["ex"].reply)
    assert odr.headend.kinds() == ["GetMeterReadings"]  # the refused read asked nobody
    odr.clock.now = datetime(2026, 5, 13, 0, 1, tzinfo=CT)
    assert read(odr)["result"] == "OK"


def test_the_day_is_the_texas_day_not_the_utc_day(odr: Odr) -> None:
    ready(odr)
    odr.clock.now = datetime(2026, 5, 12, 18, 30, tzinfo=CT)  # 23:30 UTC
    assert read(odr)["result"] == "OK"
    odr.clock.now = datetime(2026, 5, 12, 19, 30, tzinfo=CT)  # 00:30 UTC on the 13th
    assert read(odr)["codes"] == ["2.7"]  # still the 12th in Texas
    odr.clock.now = datetime(2026, 5, 12, 23, 59, 59, tzinfo=CT)
    assert read(odr)["codes"] == ["2.7"]
    odr.clock.now = datetime(2026, 5, 13, 0, 0, tzinfo=CT)
    assert read(odr)["result"] == "OK"


def test_a_failed_read_does_not_count(odr: Odr) -> None:
    ready(odr)
    odr.headend.fail = True
    failed = read(odr)
    assert failed["result"] == "FAILED" and failed["codes"][0] == "2.4"
    assert "could not read ESIID 10443720001234567: meter did not answer" in failed["reasons"][0]
    assert failed["namespace"] == GET_WRAPPER
    odr.headend.fail = False
    assert read(odr)["result"] == "OK"


def test_a_timeout_or_unreachable_head_end_does_not_count(odr: Odr) -> None:
    ready(odr)
    odr.transport.silent = True
    assert read(odr)["codes"] == ["4.1"]
    odr.transport.silent = False
    odr.transport.fail = DeliveryError("connection refused")
    assert read(odr)["codes"] == ["4.2"]
    odr.transport.fail = None
    assert read(odr)["result"] == "OK"


def test_limits_are_per_kind_and_configurable(make_odr) -> None:
    odr = ready(make_odr(reads_per_day=0, pings_per_day=2))
    assert [read(odr)["result"] for _ in range(3)] == ["OK", "OK", "OK"]  # 0 = unlimited
    pings = [reply_of(odr.handle(ping_request()).reply) for _ in range(3)]
    assert [p["result"] for p in pings] == ["OK", "OK", "FAILED"]
    assert "limit of 2 successful power status requests (pings)" in pings[2]["reasons"][0]


def test_a_retried_request_is_answered_again_without_a_second_read(odr: Odr) -> None:
    """REL-1: the same MessageID gets the stored reply; the head-end is not asked twice and
    the retry does not use the day's read."""
    ready(odr)
    body = get_request(message_id=str(uuid.uuid4()))
    first = odr.handle(body)
    again = odr.handle(body)
    assert again.result == "DUPLICATE" and again.reply == first.reply
    assert odr.headend.kinds() == ["GetMeterReadings"]


# ---------------------------------------------------------------------------- ODR-4, SEC-2
def test_another_rep_is_refused_and_nothing_is_read(odr: Odr) -> None:
    ready(odr)
    seen = read(odr, get_request(organization=OTHER_ROR))
    assert (seen["result"], seen["codes"]) == ("FAILED", ["3.2"])
    assert "REP-BLUEBONNET" not in seen["reasons"][0]
    assert odr.headend.kinds() == []
    assert seen["namespace"] == GET_WRAPPER and valid(odr, seen["ex"].reply)
    # the refusal did not use the ROR's read
    assert read(odr)["result"] == "OK"


def test_a_request_without_organisation_is_refused(odr: Odr) -> None:
    ready(odr)
    assert read(odr, get_request(organization=None))["codes"] == ["3.2"]
    assert odr.headend.kinds() == []


def test_a_system_may_only_ask_for_the_organisations_it_acts_for(odr: Odr) -> None:
    ready(odr)
    # CIS2 acts for REP-LONESTAR only: refused before the ESIID is even looked up
    seen = read(odr, get_request("999", source="CIS2"))
    assert seen["codes"] == ["3.2"] and "does not act for" in seen["reasons"][0]
    assert odr.headend.kinds() == []


# ---------------------------------------------------------------------------- ODR-6
def test_unknown_esiid_is_2_12_naming_it(odr: Odr) -> None:
    seen = read(odr, get_request(OTHER_ESIID))
    assert seen["codes"] == ["2.12"] and OTHER_ESIID in seen["reasons"][0]


def test_a_meter_that_is_not_eligible_is_refused_after_the_ror_check(odr: Odr) -> None:
    ready(odr, interval_minutes=60, provisioned=False)
    seen = read(odr)
    assert seen["codes"] == ["2.7"]
    assert "not installed and provisioned" in seen["reasons"][0]
    assert "60-minute" in seen["reasons"][0]
    assert read(odr, get_request(organization=OTHER_ROR))["codes"] == ["3.2"]
    assert odr.headend.kinds() == []


# ---------------------------------------------------------------------------- ODR-2
def test_a_window_longer_than_48_hours_is_refused(odr: Odr) -> None:
    ready(odr)
    seen = read(odr, get_request(start=LAST_VEE, end=LAST_VEE + timedelta(hours=49)))
    assert seen["codes"] == ["2.7"]
    assert "longer than 48 h" in seen["reasons"][0]
    assert (
        "allowed window is 2026-05-11T00:00:00-05:00 to 2026-05-13T00:00:00-05:00"
        in (seen["reasons"][0])
    )
    assert odr.headend.kinds() == []


def test_an_explicit_window_is_read_exactly(odr: Odr) -> None:
    ready(odr)
    start, end = LAST_VEE + timedelta(hours=2), LAST_VEE + timedelta(hours=4)
    seen = read(odr, get_request(start=start, end=end))
    assert seen["intervals"][0] == start + timedelta(minutes=15) and seen["intervals"][-1] == end
    assert len(seen["intervals"]) == 8


def test_no_vee_posting_yet_is_refused(odr: Odr) -> None:
    odr.provision()
    seen = read(odr)
    assert seen["codes"] == ["2.7"] and "no VEE (validated) data" in seen["reasons"][0]


# ---------------------------------------------------------------------------- ODR-7
def test_the_vee_posting_moves_the_window_forward_never_back(odr: Odr) -> None:
    ready(odr)
    later = LAST_VEE + timedelta(days=1)
    odr.handle(vee_posting(ESIID, later))
    odr.handle(vee_posting(ESIID, LAST_VEE - timedelta(days=3)))  # an old file re-sent
    odr.handle(vee_posting(ESIID, later + timedelta(days=1), quality=NON_VEE))  # not VEE data
    assert odr.bus.store.last_vee_end(ESIID) == later
    seen = read(odr)
    assert seen["intervals"][0] == later + timedelta(minutes=15)
    # the posting still reached the MDMS subscriber
    assert odr.bus.store.outbox_counts().get("pending", 0) >= 1


def test_the_vee_posting_is_kept_for_an_esiid_not_registered_yet(odr: Odr) -> None:
    odr.handle(vee_posting(OTHER_ESIID, LAST_VEE))
    assert odr.bus.store.last_vee_end(OTHER_ESIID) == LAST_VEE


# ---------------------------------------------------------------------------- pings
def test_ping_is_checked_throttled_and_answered_by_the_head_end(odr: Odr) -> None:
    ready(odr)
    ex = odr.handle(ping_request())
    seen = reply_of(ex.reply)
    assert seen["result"] == "OK" and seen["element"] == "EndDeviceControlsResponseMessage"
    assert seen["correlation_id"] == ex.envelope.message_id
    assert valid(odr, ex.reply)
    again = reply_of(odr.handle(ping_request()).reply)
    assert again["codes"] == ["2.7"]
    assert again["reasons"][0].startswith(
        "limit of 1 successful power status request (ping) per ESIID per day"
    )
    # a ping does not use the day's read, and the other way round
    assert read(odr)["result"] == "OK"
    assert odr.headend.kinds() == ["CreateEndDeviceControls", "GetMeterReadings"]


def test_ping_by_another_rep_or_for_an_unknown_esiid_is_refused(odr: Odr) -> None:
    ready(odr)
    assert reply_of(odr.handle(ping_request(organization=OTHER_ROR)).reply)["codes"] == ["3.2"]
    assert reply_of(odr.handle(ping_request(OTHER_ESIID)).reply)["codes"] == ["2.12"]
    assert odr.headend.kinds() == []


def test_a_failed_ping_is_returned_and_not_counted(odr: Odr) -> None:
    ready(odr)
    odr.headend.fail = True
    assert reply_of(odr.handle(ping_request()).reply)["result"] == "FAILED"
    odr.headend.fail = False
    assert reply_of(odr.handle(ping_request()).reply)["result"] == "OK"


def test_other_controls_from_the_ror_pass_on_unchanged_async(odr: Odr) -> None:
    """B2 is untouched by the CIS -> SMT route: a disconnect keeps its async semantics (0.1
    acknowledgement now, delivered to HES through the outbox, reply to ReplyAddress)."""
    body = build_message(
        "create",
        "EndDeviceControls",
        source="CIS",
        message_id="disconnect-1",
        async_reply=True,
        reply_address="http://cis.example/replies",
        payload=[control(controls.REMOTE_DISCONNECT)],
    )
    ex = odr.handle(body)
    seen = reply_of(ex.reply)
    assert (seen["result"], seen["codes"]) == ("OK", ["0.1"])
    assert odr.bus.store.correlation("disconnect-1").mode == "async"
    assert odr.bus.run_outbox_once() == 1
    [delivered] = odr.transport.delivered
    assert (delivered.system.name, delivered.message_id, delivered.body) == (
        "HES",
        "disconnect-1",
        body,
    )


def test_other_controls_pass_on_sync_when_the_route_is_sync(make_odr) -> None:
    odr = make_odr(edc_mode="sync")
    ex = odr.handle(
        build_message(
            "create",
            "EndDeviceControls",
            source="CIS",
            message_id="connect-1",
            payload=[control(controls.REMOTE_CONNECT)],
        )
    )
    seen = reply_of(ex.reply)
    assert seen["result"] == "OK" and seen["correlation_id"] == "connect-1"  # HES's own reply
    assert odr.headend.kinds() == ["CreateEndDeviceControls"]


def test_smt_refuses_what_it_does_not_serve(odr: Odr) -> None:
    body = build_message("create", "MeterReadings", source="CIS", message_id="x", payload=[])
    env = Envelope.from_message(odr.bus.codec.parse(body))
    with pytest.raises(UnsupportedRequest, match="not 'create MeterReadings'"):
        odr.smt(env, odr.bus)


def test_clock_is_injectable(odr: Odr) -> None:
    assert odr.smt.now() == T0
    odr.clock.advance(days=1)
    assert odr.smt.now() == T0 + timedelta(days=1)


def test_an_unreadable_vee_posting_is_2_2_and_changes_nothing(odr: Odr) -> None:
    from routing.errors import InvalidMessage

    body = vee_posting(ESIID, LAST_VEE).replace(b"2026-05-10T23:15:00-05:00", b"yesterday")
    env = Envelope.from_message(odr.bus.codec.parse(body))  # not validated: reaches the fast path
    with pytest.raises(InvalidMessage, match="the VEE posting cannot be read"):
        odr.smt.post_vee(env)
    assert odr.bus.store.last_vee_end(ESIID) is None
