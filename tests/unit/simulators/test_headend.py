"""The head-end simulator's service switch and command book (B2-1..B2-4, B2-8..B2-16), driven
by the manual SimClock. Helpers here are shared with test_headend_data.py / test_headend_ops.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from cim_models.codec import Codec
from cim_models.codes import acknowledgement_for, controls, events, results
from simulators._core import E, Incoming, load_profile, parse_time, request, texts
from simulators._core.profile import profile_from_mapping
from simulators.headend import HeadEnd
from simulators.headend.payloads import end_device_control

CODEC = Codec()
T0 = parse_time("2026-05-12T09:00:00-05:00")  # the demo profile's start: a Tuesday, 09:00 local
M1 = "AMS-0001"  # 12 kW, residential or small commercial, with an in-home display
M2 = "AMS-0002"  # 18 kW, no in-home display


# ---------------------------------------------------------------------- helpers (shared)
def make_hes(**headend: Any) -> HeadEnd:
    """The demo head-end; keyword arguments become the profile's [headend] section."""
    profile = load_profile("demo")
    if headend:
        profile = replace(profile, sections={**profile.sections, "headend": headend})
    return HeadEnd(profile)


def send(hes: HeadEnd, verb: str, *items: Any) -> Incoming:
    """``verb EndDeviceControls`` with the given EndDeviceControl elements; the parsed reply
    (validated against the XSDs)."""
    body = request(
        verb, "EndDeviceControls", source="CIS", payload=[E.edc("EndDeviceControls", *items)]
    )
    answer = hes.handle(body)
    assert answer is not None
    CODEC.decode(answer)
    return Incoming.parse(answer, hes.codec)


def control(code: str, mrid: str, meter: str | None = M1, **kw: Any) -> Any:
    return end_device_control(
        code, mrid=mrid, meter=meter, issuer="CIS", tracking=f"SO-{mrid}", **kw
    )


def create(hes: HeadEnd, code: str, mrid: str, meter: str | None = M1, **kw: Any) -> Incoming:
    return send(hes, "create", control(code, mrid, meter, **kw))


def tracked(hes: HeadEnd, mrid: str) -> list[dict[str, Any]]:
    return [e for e in hes.events() if e["tracking"] == mrid]


def codes(evs: list[dict[str, Any]]) -> list[str]:
    return [e["code"] for e in evs]


def all_valid(hes: HeadEnd) -> int:
    """Every message the head-end published validates; returns how many."""
    for body in hes.published:
        CODEC.decode(body)
    return len(hes.published)


def reads(hes: HeadEnd) -> list[bytes]:
    return hes.sent("MeterReadings")


def interval_values(body: bytes) -> list[float]:
    inc = Incoming.parse(body, CODEC)
    return [float(v) for el in inc.payload for v in texts(el, ".//mr:IntervalReadings/mr:value")]


def at(hhmm: str, day: int = 12) -> datetime:
    return parse_time(f"2026-05-{day:02d}T{hhmm}:00-05:00")


# ---------------------------------------------------------------------- defaults, laziness
def test_a_new_meter_is_closed_and_untouched_meters_have_no_state() -> None:
    """B2-14: the switch is closed on installation; state is created on first touch only."""
    hes = make_hes()
    assert hes.stats()["meters_touched"] == 0
    status = hes.switch_status(M1)
    assert (
        status["switch"] == "connected" and status["contactor"] == "Closed" and status["energised"]
    )
    assert hes.stats()["meters_touched"] == 0
    hes.set_demand(M1, 1.0)
    assert hes.stats()["meters_touched"] == 1


# ---------------------------------------------------------------------- B2-11 duplicates
def test_connect_on_a_connected_meter_is_acknowledged_without_toggle() -> None:
    """B2-11: a turn-on for a meter that is on is accepted with no action."""
    hes = make_hes()
    answer = create(hes, controls.REMOTE_CONNECT, "c-1")
    assert answer.result == "OK", answer.errors
    evs = tracked(hes, "c-1")
    assert codes(evs) == [
        acknowledgement_for(controls.REMOTE_CONNECT, "processed"),
        results.CONNECTED,
    ]
    assert evs[0]["details"]["Toggled"] == "false" and "no action" in evs[0]["reason"]
    assert hes.state(M1).open_periods == []
    assert len(reads(hes)) == 1  # the on-demand read is still taken (B2-10)
    assert all_valid(hes) == 2


def test_same_control_mrid_twice_causes_no_second_action() -> None:
    """B2-11: the same command id again is answered OK as a duplicate and does nothing."""
    hes = make_hes()
    assert create(hes, controls.REMOTE_DISCONNECT, "d-1").result == "OK"  # 09:00 is a boundary
    assert hes.switch_status(M1)["switch"] == "disconnected"
    assert create(hes, controls.REMOTE_CONNECT, "c-1").result == "OK"
    assert hes.switch_status(M1)["switch"] == "connected"
    published = len(hes.published)
    again = create(hes, controls.REMOTE_DISCONNECT, "d-1")
    assert again.result == "OK" and "duplicate" in again.errors[0]["reason"]
    hes.clock.advance(timedelta(hours=1))
    assert hes.switch_status(M1)["switch"] == "connected"
    assert len(hes.published) == published
    assert any(e.get("result") == "duplicate: no action" for e in hes.state(M1).log)
    assert hes.stats()["duplicates"] == 1


# ---------------------------------------------------------------------- B2-8 turn-off at the boundary
def test_remote_turn_off_waits_for_the_interval_boundary() -> None:
    """B2-8: an on-demand disconnect at 09:07 completes at 09:15, not before."""
    hes = make_hes()
    hes.clock.advance(timedelta(minutes=7))
    answer = create(hes, controls.REMOTE_DISCONNECT, "d-1")
    assert (
        answer.result == "OK"
        and "completes at 2026-05-12T09:15:00-05:00" in answer.errors[0]["reason"]
    )
    hes.clock.advance(timedelta(minutes=7, seconds=59))
    assert hes.switch_status(M1)["switch"] == "connected" and tracked(hes, "d-1") == []
    hes.clock.advance(timedelta(seconds=1))
    assert hes.switch_status(M1)["switch"] == "disconnected"
    evs = tracked(hes, "d-1")
    assert codes(evs) == [
        acknowledgement_for(controls.REMOTE_DISCONNECT, "processed"),
        results.DISCONNECTED,
    ]
    assert evs[0]["at"] == "2026-05-12T09:15:00-05:00"
    assert (
        evs[0]["details"]["ContactorStatus"] == "Opened" and evs[0]["details"]["Toggled"] == "true"
    )


def test_open_switch_records_zero_in_every_channel_while_energised() -> None:
    """B2-14: with the switch open the meter stays energised and records zero consumption."""
    hes = make_hes()
    hes.clock.advance(timedelta(minutes=15))
    create(hes, controls.REMOTE_DISCONNECT, "d-1")  # 09:15 on a boundary: at once
    hes.clock.advance_to(at("11:00"))
    assert hes.ping(M1) and hes.switch_status(M1)["energised"]
    r = hes.readings(M1)
    before = [v for t, v in r["intervals"] if t <= at("09:15")]
    after = [v for t, v in r["intervals"] if t > at("09:15")]
    assert len(after) == 7 and all(v == 0.0 for v in after)
    assert all(v > 0 for v in before)
    assert (
        hes.readings(M1, end=at("09:15"))["register"][1] == r["register"][1]
    )  # register stood still
    create(hes, controls.REMOTE_CONNECT, "c-1")
    on_demand = interval_values(reads(hes)[-1])
    assert on_demand[-7:] == [0.0] * 7 and all(v > 0 for v in on_demand[:-7])


# ---------------------------------------------------------------------- B2-1 / B2-2 scheduling
def test_scheduled_command_fires_at_its_time_and_several_may_wait_for_one_meter() -> None:
    """B2-1: a disconnect today at 10:00 and a connect tomorrow at 08:00 for the same meter."""
    hes = make_hes()
    assert create(hes, controls.REMOTE_DISCONNECT, "d-1", start=at("10:00")).result == "OK"
    assert create(hes, controls.REMOTE_CONNECT, "c-1", start=at("08:00", 13)).result == "OK"
    assert len(hes.jobs(M1, status="pending")) == 2
    hes.clock.advance_to(at("09:59"))
    assert hes.switch_status(M1)["switch"] == "connected"
    hes.clock.advance_to(at("10:00"))
    assert hes.switch_status(M1)["switch"] == "disconnected"
    assert tracked(hes, "d-1")[0]["at"] == "2026-05-12T10:00:00-05:00"
    hes.clock.advance_to(at("08:00", 13))
    assert hes.switch_status(M1)["switch"] == "connected"
    assert [j["status"] for j in hes.jobs(M1)] == ["done", "done"]


def test_cancel_before_completion_prevents_it() -> None:
    """B2-2: a pending disconnect cancelled by mRID never happens; it cannot be cancelled twice."""
    hes = make_hes()
    create(hes, controls.REMOTE_DISCONNECT, "d-1", start=at("10:00"))
    answer = send(hes, "cancel", control(controls.REMOTE_DISCONNECT, "d-1", None))
    assert answer.result == "OK", answer.errors
    assert codes(tracked(hes, "d-1")) == [
        acknowledgement_for(controls.REMOTE_DISCONNECT, "cancelled")
    ]
    hes.clock.advance(timedelta(hours=3))
    assert hes.switch_status(M1)["switch"] == "connected"
    again = send(hes, "cancel", control(controls.REMOTE_DISCONNECT, "d-1", None))
    assert again.result == "FAILED" and again.errors[0]["code"] == "2.7"
    unknown = send(hes, "cancel", control(controls.REMOTE_DISCONNECT, "nope", None))
    assert unknown.result == "FAILED" and unknown.errors[0]["code"] == "2.12"


def test_an_on_demand_turn_off_can_be_cancelled_before_the_boundary() -> None:
    """B2-2 with B2-8: the disconnect waiting for 09:15 is still pending, so cancellable."""
    hes = make_hes()
    hes.clock.advance(timedelta(minutes=5))
    create(hes, controls.REMOTE_DISCONNECT, "d-1")
    assert send(hes, "cancel", control(controls.REMOTE_DISCONNECT, "d-1", None)).result == "OK"
    hes.clock.advance(timedelta(minutes=30))
    assert hes.switch_status(M1)["switch"] == "connected"


def test_change_reschedules_a_pending_command() -> None:
    """B2-2: change EndDeviceControls moves the start time."""
    hes = make_hes()
    create(hes, controls.REMOTE_DISCONNECT, "d-1", start=at("10:00"))
    answer = send(hes, "change", control(controls.REMOTE_DISCONNECT, "d-1", M1, start=at("11:30")))
    assert answer.result == "OK" and "rescheduled" in answer.errors[0]["reason"]
    hes.clock.advance_to(at("11:29"))
    assert hes.switch_status(M1)["switch"] == "connected"
    hes.clock.advance_to(at("11:30"))
    assert hes.switch_status(M1)["switch"] == "disconnected"
    late = send(hes, "change", control(controls.REMOTE_DISCONNECT, "d-1", M1, start=at("12:00")))
    assert late.result == "FAILED" and late.errors[0]["code"] == "2.7"


def test_a_disconnect_and_a_connect_on_the_same_day_do_not_toggle() -> None:
    """B2-9: both are logged, an on-demand read goes out, the switch never moves."""
    hes = make_hes()
    create(hes, controls.REMOTE_DISCONNECT, "d-1", start=at("10:00"))
    create(hes, controls.REMOTE_CONNECT, "c-1", start=at("15:00"))
    hes.clock.advance_to(at("16:00"))
    assert hes.state(M1).open_periods == []
    d, c = tracked(hes, "d-1"), tracked(hes, "c-1")
    assert d[0]["details"]["Toggled"] == "false" and "B2-9" in d[0]["reason"]
    assert c[0]["details"]["Toggled"] == "false"
    assert len(reads(hes)) == 2


# ---------------------------------------------------------------------- B2-12 limit steps
def test_load_limit_only_at_the_configured_steps() -> None:
    """B2-12: 90 % and 75 % by default; anything else is refused (2.7)."""
    hes = make_hes()
    ok = create(hes, controls.LOAD_LIMIT_ENABLE, "l-1", level=75)
    assert ok.result == "OK"
    assert (
        hes.switch_status(M1)["switch"] == "limited 75%"
        and hes.switch_status(M1)["limit_kw"] == 9.0
    )
    assert codes(tracked(hes, "l-1")) == [
        acknowledgement_for(controls.LOAD_LIMIT_ENABLE, "processed"),
        results.LOAD_LIMIT_ENABLED,
    ]
    bad = create(hes, controls.LOAD_LIMIT_ENABLE, "l-2", level=50)
    assert (
        bad.result == "FAILED"
        and bad.errors[0]["code"] == "2.7"
        and "90%, 75%" in bad.errors[0]["reason"]
    )
    missing = create(hes, controls.LOAD_LIMIT_ENABLE, "l-3")
    assert missing.result == "FAILED" and "no drProgramLevel" in missing.errors[0]["reason"]
    assert (
        create(hes, controls.LOAD_LIMIT_ENABLE, "l-4", level=90).result == "OK"
    )  # further step (B2-17)
    assert hes.switch_status(M1)["limit_pct"] == 90
    assert create(hes, controls.LOAD_LIMIT_DISABLE, "l-5").result == "OK"
    assert hes.switch_status(M1)["switch"] == "connected"


def test_limit_steps_come_from_the_profile() -> None:
    hes = make_hes(limit_steps=[80, 60])
    assert create(hes, controls.LOAD_LIMIT_ENABLE, "l-1", level=80).result == "OK"
    assert create(hes, controls.LOAD_LIMIT_ENABLE, "l-2", level=75).result == "FAILED"
    create(hes, controls.LOAD_LIMIT_ENABLE, "l-3", level=60, start=at("12:00"))
    changed = send(hes, "change", control(controls.LOAD_LIMIT_ENABLE, "l-3", M1, level=75))
    assert changed.result == "FAILED"
    assert (
        send(hes, "change", control(controls.LOAD_LIMIT_ENABLE, "l-3", M1, level=80)).result == "OK"
    )


# ---------------------------------------------------------------------- B2-13 limiter
def _limited(hes: HeadEnd, level: int = 75) -> None:
    assert create(hes, controls.LOAD_LIMIT_ENABLE, f"limit-{level}", level=level).result == "OK"


def test_a_trip_reconnects_automatically_after_exactly_two_minutes() -> None:
    """B2-13: demand above the limit opens the switch; 120 s later it closes by itself."""
    hes = make_hes()
    _limited(hes)
    hes.clock.advance(timedelta(minutes=3))
    tripped_at = hes.now()
    hes.set_demand(M1, 11.0)  # > 9 kW (75 % of 12 kW)
    assert hes.switch_status(M1)["switch"] == "tripped"
    trip = hes.events(events.LOAD_LIMIT_TRIPPED)
    assert len(trip) == 1 and trip[0]["details"]["AutoReconnect"] == "true"
    hes.set_demand(M1, None)  # the customer switched the big load off
    hes.clock.advance(timedelta(seconds=119))
    assert hes.switch_status(M1)["switch"] == "tripped"
    hes.clock.advance(timedelta(seconds=1))
    assert hes.switch_status(M1)["switch"] == "limited 75%"
    back = hes.events(events.LOAD_LIMIT_AUTO_RECONNECTED)
    assert len(back) == 1 and parse_time(back[0]["at"]) == tripped_at + timedelta(minutes=2)
    assert len(reads(hes)) == 3  # limit ack, trip, reconnection (B2-10)
    all_valid(hes)


def test_a_second_trip_within_24_hours_stays_open_and_after_24_hours_reconnects_again() -> None:
    """B2-13: at most one automatic reconnection per rolling 24 hours; the customer may
    reconnect manually."""
    hes = make_hes()
    _limited(hes)
    hes.set_demand(M1, 11.0)
    hes.set_demand(M1, None)
    hes.clock.advance(timedelta(minutes=2))
    first_reconnect = hes.now()
    assert hes.switch_status(M1)["switch"] == "limited 75%"
    hes.clock.advance(timedelta(hours=1))
    hes.set_demand(M1, 12.5)  # second trip within 24 h
    hes.set_demand(M1, None)
    assert hes.events(events.LOAD_LIMIT_TRIPPED)[-1]["details"]["AutoReconnect"] == "false"
    hes.clock.advance(timedelta(minutes=30))
    assert hes.switch_status(M1)["switch"] == "tripped (locked open)"
    assert len(hes.events(events.LOAD_LIMIT_AUTO_RECONNECTED)) == 1
    manual = hes.customer_reconnect(M1)
    assert manual["result"] == "closed" and hes.switch_status(M1)["switch"] == "limited 75%"
    assert hes.events(events.LOCAL_CONNECT)[-1]["details"]["Trigger"] == "CustomerReconnect"
    hes.clock.advance_to(first_reconnect + timedelta(hours=24, minutes=1))
    hes.set_demand(M1, 10.0)  # third trip, more than 24 h after the automatic reconnection
    hes.set_demand(M1, None)
    hes.clock.advance(timedelta(minutes=2))
    assert hes.switch_status(M1)["switch"] == "limited 75%"
    assert len(hes.events(events.LOAD_LIMIT_AUTO_RECONNECTED)) == 2


def test_still_too_much_load_at_reconnection_trips_again_and_stays_open() -> None:
    """B2-13: the limiter checks the demand when it closes; a lasting overload means the
    second trip within 24 h, which stays open."""
    hes = make_hes()
    _limited(hes)
    hes.set_demand(M1, 11.0)
    hes.clock.advance(timedelta(minutes=2))
    assert len(hes.events(events.LOAD_LIMIT_AUTO_RECONNECTED)) == 1
    assert len(hes.events(events.LOAD_LIMIT_TRIPPED)) == 2
    assert hes.switch_status(M1)["switch"] == "tripped (locked open)"


def test_customer_reconnect_only_after_a_trip_or_when_armed() -> None:
    """B2-13: not after a remote disconnect; ARM_FOR_CLOSURE lets the customer close it."""
    hes = make_hes()
    create(hes, controls.REMOTE_DISCONNECT, "d-1")
    refused = hes.customer_reconnect(M1)
    assert refused["result"] == "refused" and hes.switch_status(M1)["switch"] == "disconnected"
    assert "refused" in hes.state(M1).log[-1]["result"]
    assert create(hes, controls.ARM_FOR_CLOSURE, "a-1").result == "OK"
    assert hes.switch_status(M1)["switch"] == "armed for closure"
    assert codes(tracked(hes, "a-1"))[1] == results.ARMED_FOR_CLOSURE
    assert hes.customer_reconnect(M1)["result"] == "closed"
    assert hes.switch_status(M1)["switch"] == "connected"


def test_removing_the_limit_restores_a_tripped_meter() -> None:
    """B2-17 (P4): payment -> limit removed -> service back to 100 %."""
    hes = make_hes()
    _limited(hes)
    hes.set_demand(M1, 11.0)
    create(hes, controls.LOAD_LIMIT_DISABLE, "l-off")
    assert hes.switch_status(M1)["switch"] == "connected"
    assert tracked(hes, "l-off")[0]["details"]["Toggled"] == "true"
    hes.clock.advance(timedelta(minutes=5))
    assert hes.events(events.LOAD_LIMIT_AUTO_RECONNECTED) == []


# ---------------------------------------------------------------------- B2-16 local toggles
def test_an_unauthorised_local_toggle_is_refused_and_logged() -> None:
    """B2-16: the attempt is logged with time, status, user, authorised flag and result, and
    reported (LOCAL_SWITCH_NOT_AUTHORIZED); the switch does not move."""
    hes = make_hes()
    result = hes.local_toggle(M1, "contractor.joe", authorized=False)
    assert result["result"] == "refused" and hes.switch_status(M1)["switch"] == "connected"
    entry = hes.state(M1).log[-1]
    assert entry == {
        "at": "2026-05-12T09:00:00-05:00",
        "kind": "local",
        "switch": "connected",
        "user": "contractor.joe",
        "authorized": False,
        "action": "toggle",
        "status": "connected",
        "result": "refused: not authorised",
    }
    ev = hes.events(events.LOCAL_SWITCH_NOT_AUTHORIZED)
    assert (
        len(ev) == 1
        and ev[0]["user"] == "contractor.joe"
        and ev[0]["details"]["Authorized"] == "false"
    )


def test_an_authorised_local_toggle_works_immediately_and_is_logged() -> None:
    """B2-16: regardless of the interval (09:07 here), with the event and a read afterwards."""
    hes = make_hes()
    hes.clock.advance(timedelta(minutes=7))
    assert hes.local_toggle(M1, "tech.ana", authorized=True)["result"] == "opened"
    assert hes.switch_status(M1)["switch"] == "disconnected"
    off = hes.events(events.LOCAL_DISCONNECT)
    assert off[0]["user"] == "tech.ana" and off[0]["details"]["Authorized"] == "true"
    assert off[0]["at"] == "2026-05-12T09:07:00-05:00"
    assert hes.local_toggle(M1, "tech.ana", authorized=True)["result"] == "closed"
    assert len(hes.events(events.LOCAL_CONNECT)) == 1 and len(reads(hes)) == 2
    log = [e for e in hes.state(M1).log if e["kind"] == "local"]
    assert [(e["user"], e["authorized"], e["status"], e["result"]) for e in log] == [
        ("tech.ana", True, "connected", "opened"),
        ("tech.ana", True, "disconnected", "closed"),
    ]


def test_a_local_toggle_can_be_scheduled_for_a_later_interval() -> None:
    """B2-16: an authorised employee schedules the disconnect for a future interval."""
    hes = make_hes()
    assert (
        hes.local_toggle(M1, "tech.ana", True, at=at("09:30"), action="disconnect")["result"]
        == "scheduled"
    )
    hes.clock.advance_to(at("09:29"))
    assert hes.switch_status(M1)["switch"] == "connected"
    hes.clock.advance_to(at("09:30"))
    assert hes.switch_status(M1)["switch"] == "disconnected"
    assert hes.events(events.LOCAL_DISCONNECT)[0]["details"]["Scheduled"] == "true"


# ---------------------------------------------------------------------- B2-4 / B2-10 acks and reads
def test_every_switch_event_yields_an_acknowledgement_and_a_read_that_validate() -> None:
    """B2-4 / B2-10: remote, trip, automatic reconnection, local: each is acknowledged with
    EndDeviceEvents and followed by an on-demand read (interval data of the day + register)."""
    hes = make_hes()
    hes.clock.advance(timedelta(hours=2))
    create(hes, controls.REMOTE_DISCONNECT, "d-1")
    create(hes, controls.REMOTE_CONNECT, "c-1")
    _limited(hes)
    hes.set_demand(M1, 11.0)
    hes.set_demand(M1, None)
    hes.clock.advance(timedelta(minutes=2))
    hes.local_toggle(M1, "tech.ana", True)
    hes.customer_reconnect(M1)  # refused: no event, no read
    assert len(hes.sent("EndDeviceEvents")) == 6 and len(reads(hes)) == 6
    assert all_valid(hes) == 12
    inc = Incoming.parse(reads(hes)[0], CODEC)
    assert inc.verb == "created" and inc.noun == "MeterReadings"
    values = interval_values(reads(hes)[0])
    assert len(values) == 44  # 00:15 .. 11:00 local
    register = hes.readings(M1, end=at("11:00"))["register"][1]
    assert f"<value>{register:.3f}</value>".encode() in reads(hes)[0]
    assert b'ReadingQualityType ref="1.0.0"' in reads(hes)[0]


def test_a_stuck_contactor_fails_with_data() -> None:
    """B2-4 (5.1): the meter does not disconnect but provides data."""
    hes = make_hes()
    hes.set_switch_stuck(M1)
    create(hes, controls.REMOTE_DISCONNECT, "d-1")
    evs = tracked(hes, "d-1")
    assert codes(evs) == [
        acknowledgement_for(controls.REMOTE_DISCONNECT, "error"),
        results.DISCONNECT_FAILED,
    ]
    assert hes.switch_status(M1)["switch"] == "connected" and len(reads(hes)) == 1


def test_a_meter_that_does_not_answer_is_reported_after_the_timeout() -> None:
    """B2-4 (5.2): with the per-meter ``disconnect`` knob the head-end accepts the command, waits
    ``no_answer_seconds`` and reports an error acknowledgement (Outcome NoAnswer), no read."""
    hes = make_hes(no_answer_seconds=30)
    hes.faults.set(M1, disconnect=True)
    assert create(hes, controls.REMOTE_CONNECT, "c-1").result == "OK"
    assert tracked(hes, "c-1") == []
    hes.clock.advance(29)
    assert tracked(hes, "c-1") == []
    hes.clock.advance(1)
    evs = tracked(hes, "c-1")
    assert codes(evs) == [acknowledgement_for(controls.REMOTE_CONNECT, "error")]
    assert evs[0]["details"]["Outcome"] == "NoAnswer" and evs[0]["severity"] == "major"
    assert reads(hes) == [] and hes.jobs(M1)[0]["status"] == "failed"


def test_switch_status_is_queryable() -> None:
    """B2-15: position, limit level and energised status, by API and by SWITCH_STATUS_READ."""
    hes = make_hes()
    create(hes, controls.LOAD_LIMIT_ENABLE, "l-1", level=90)
    answer = create(hes, controls.SWITCH_STATUS_READ, "s-1")
    assert answer.result == "OK" and answer.errors[0]["reason"].endswith(": limited 90%")
    ev = tracked(hes, "s-1")
    assert codes(ev) == [acknowledgement_for(controls.SWITCH_STATUS_READ, "processed")]
    assert (
        ev[0]["details"]["SwitchPosition"] == "limited 90%"
        and ev[0]["details"]["Energised"] == "true"
    )
    assert ev[0]["details"]["LimitLevel"] == "90"
    assert hes.switch_status(M1)["limit_pct"] == 90


# ---------------------------------------------------------------------- refusals
def test_controls_the_head_end_refuses() -> None:
    hes = make_hes()
    unknown = create(hes, controls.REMOTE_CONNECT, "x-1", meter="NO-SUCH-METER")
    assert unknown.result == "FAILED" and unknown.errors[0]["code"] == "2.12"
    legacy = create(hes, controls.REMOTE_CONNECT, "x-2", meter="LEGACY-01")
    assert legacy.result == "FAILED" and "not an AMS meter" in legacy.errors[0]["reason"]
    odd = create(hes, controls.DEMAND_RESET, "x-3")
    assert odd.result == "FAILED" and "not supported" in odd.errors[0]["reason"]
    mismatch = create(hes, controls.REMOTE_CONNECT, "x-4", meter=M1, esiid=hes.spec(M2).esiid)
    assert mismatch.result == "FAILED" and "different meters" in mismatch.errors[0]["reason"]
    partial = send(
        hes,
        "create",
        control(controls.REMOTE_CONNECT, "x-5"),
        control(controls.REMOTE_CONNECT, "x-6", "NOPE"),
    )
    assert partial.result == "PARTIAL"
    by_esiid = create(hes, controls.REMOTE_CONNECT, "x-7", meter=None, esiid=hes.spec(M2).esiid)
    assert by_esiid.result == "OK" and tracked(hes, "x-7")[0]["meter"] == M2


def test_an_instrument_rated_meter_has_no_switch() -> None:
    profile = profile_from_mapping(
        {
            "profile": {"name": "ct", "start": "2026-05-12T09:00:00-05:00"},
            "meters": [{"esiid": "10443720000000777", "meter": "CT-1", "self_contained": False}],
        }
    )
    hes = HeadEnd(profile)
    refused = create(hes, controls.REMOTE_DISCONNECT, "d-1", meter="CT-1")
    assert refused.result == "FAILED" and "instrument-rated" in refused.errors[0]["reason"]
    assert create(hes, controls.POWER_STATUS_PING, "p-1", meter="CT-1").result == "OK"


@pytest.mark.parametrize("verb", ["change", "cancel"])
def test_change_or_cancel_cannot_change_the_control_type(verb: str) -> None:
    hes = make_hes()
    create(hes, controls.REMOTE_DISCONNECT, "d-1", start=at("10:00"))
    answer = send(hes, verb, control(controls.REMOTE_CONNECT, "d-1", None, start=at("11:00")))
    assert answer.result == "FAILED" and answer.errors[0]["code"] == "2.7"
