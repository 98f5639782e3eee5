"""The DCC simulator: registration, change of supplier / shipper, authorisation, alarm routing,
firmware campaigns (DCC-1..DCC-5). Driven with the manual SimClock; the metering system is a
stub head-end behind a loop-back client that plays cimbus."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cim_models.build import ReplyError
from cim_models.codec import Codec
from cim_models.codes import (
    DEVICE_VALID,
    acknowledgement_for,
    controls,
    events,
)
from endpoints.client import ReplyTimeout
from simulators import SIMULATORS
from simulators._core import (
    E,
    Incoming,
    SimClock,
    event,
    handles,
    parse_time,
    reply,
    request,
    text,
)
from simulators._core.profile import profile_from_mapping
from simulators.dcc import Dcc, classify, local_read
from tests.unit.simulators.stubs import RegisterHes

T0 = "2026-05-12T09:00:00+01:00"
CODEC = Codec()
MR = {"mr": "http://iec.ch/TC57/2011/MeterReadings#"}
EDC = {"edc": "http://iec.ch/TC57/2011/EndDeviceControls#"}

PROFILE = {
    "profile": {"name": "dcc-test", "start": T0, "timezone": "Europe/London", "seed": 5},
    "meters": [
        {
            "esiid": f"1900000000000000{i}",
            "meter": f"SM-{i}",
            "customer": f"C-{i}",
            "firmware": "4.2.0",
        }
        for i in range(1, 6)
    ],
    "customers": [
        {"id": f"C-{i}", "name": f"Customer {i}", "account": f"A-{i}"} for i in range(1, 6)
    ],
    "dcc": {
        "suppliers": ["SUP-ALPHA", "SUP-BETA", "SUP-GAMMA"],
        "gas_shippers": ["SHP-NORTH", "SHP-SOUTH"],
        "network_operator": "DNO-EAST",
        "gas_transporter_agent": "GTA-01",
        "registrations": [
            {"meter": "SM-1", "supplier": "SUP-ALPHA", "shipper": "SHP-NORTH"},
            {"meter": "SM-2", "supplier": "SUP-ALPHA", "shipper": "SHP-NORTH"},
            {"meter": "SM-3", "supplier": "SUP-BETA", "network_operator": "DNO-WEST"},
            {"meter": "SM-4", "supplier": "SUP-GAMMA", "since": "2026-03-01T00:00:00Z"},
            {"meter": "SM-4", "supplier": "SUP-BETA", "since": "2026-04-15T00:00:00Z"},
        ],
    },
}


# ------------------------------------------------------------------ the stub metering system
class StubHes(RegisterHes):
    """Answers register reads and accepts controls (and cancels); records what it received."""

    @handles("create", "EndDeviceControls")
    @handles("cancel", "EndDeviceControls")
    def control(self, msg: Incoming) -> bytes:
        return super().control(msg)


class LoopClient:
    """Plays cimbus: requests go to the stub head-end (sync), or are accepted at once with
    code 0.1 and answered later (``async_routes``: the replies wait in ``later``)."""

    queue = "cimbus.system.DCC"

    def __init__(self, hes: StubHes | None, *, async_routes: bool = False) -> None:
        self.hes = hes
        self.async_routes = async_routes
        self.requests: list[Incoming] = []
        self.sent: list[Incoming] = []
        self.later: list[bytes] = []
        self.timeout = False

    def request(self, body: bytes, timeout: float = 30.0) -> bytes:
        CODEC.decode(body)
        msg = Incoming.parse(body, CODEC)
        self.requests.append(msg)
        if self.timeout:
            raise ReplyTimeout("no answer from cimbus")
        if self.hes is None:
            return reply(
                msg,
                source="CIMBUS",
                result="FAILED",
                errors=[ReplyError("4.1", "FATAL", "HES did not answer")],
            )
        answer = self.hes.handle(body)
        if self.async_routes and msg.verb != "get":
            self.later.append(answer)
            return reply(
                msg, source="CIMBUS", errors=[ReplyError("0.1", "INFORM", "accepted for HES")]
            )
        return answer

    def send(self, body: bytes) -> None:
        CODEC.decode(body)
        self.sent.append(Incoming.parse(body, CODEC))

    def serve(self, handler: Any) -> None:
        pass

    def close(self) -> None:
        pass


def make_dcc(
    *, hes: bool = True, async_routes: bool = False, **profile: Any
) -> tuple[Dcc, LoopClient, StubHes | None]:
    clock = SimClock(T0)
    p = profile_from_mapping({**PROFILE, **profile})
    dcc = Dcc(p, clock=clock)
    stub = StubHes(p, clock=clock) if hes else None
    client = LoopClient(stub, async_routes=async_routes)
    dcc.client = client
    return dcc, client, stub


def supplier_get(party: str | None, *meters: str, by: str = "EndDevice") -> bytes:
    items = [
        E.gmr(by, E.gmr("mRID", m))
        if by == "EndDevice"
        else E.gmr(by, E.gmr("Names", E.gmr("name", m)))
        for m in meters
    ]
    return request(
        "get",
        "MeterReadings",
        source="CIS",
        organization=party,
        user_id="sup-user" if party else None,
        get_filter=E.gmr("GetMeterReadings", items),
        start="2026-05-12T08:00:00+01:00",
        end="2026-05-12T09:00:00+01:00",
    )


def supplier_control(
    party: str, meter: str, code: str = controls.REMOTE_DISCONNECT, verb: str = "create"
) -> bytes:
    ctrl = E.edc(
        "EndDeviceControls",
        E.edc(
            "EndDeviceControl",
            E.edc("mRID", f"CMD-{meter}-{code}"),
            E.edc("issuerID", party),
            E.edc("EndDeviceControlType", ref=code),
            E.edc("EndDevices", E.edc("mRID", meter)),
        ),
    )
    return request(verb, "EndDeviceControls", source="CIS", organization=party, payload=[ctrl])


def answer_of(dcc: Dcc, body: bytes) -> Incoming:
    raw = dcc.handle(body)
    assert raw is not None
    CODEC.decode(raw)
    return Incoming.parse(raw, CODEC)


def device_event(
    meter: str,
    code: str,
    *,
    at: str = T0,
    tracking: str | None = None,
    details: dict[str, str] | None = None,
) -> bytes:
    ev = E.ede(
        "EndDeviceEvent",
        E.ede("mRID", f"EV-{meter}-{code}"),
        E.ede("createdDateTime", at),
        E.ede("issuerTrackingID", tracking) if tracking else None,
        E.ede("Assets", E.ede("mRID", meter)),
        [
            E.ede("EndDeviceEventDetails", E.ede("name", k), E.ede("value", v))
            for k, v in (details or {}).items()
        ],
        E.ede("EndDeviceEventType", ref=code),
    )
    body = event(
        "created", "EndDeviceEvents", [E.ede("EndDeviceEvents", ev)], source="HES", timestamp=at
    )
    CODEC.decode(body)
    return body


def props(msg: Incoming) -> dict[str, str | None]:
    return msg.header.get("Property", {})


# ------------------------------------------------------------------ catalogue
def test_catalogue_entry_loads_the_dcc() -> None:
    assert SIMULATORS["dcc"].load() is Dcc and Dcc.name == "dcc" and Dcc.system == "DCC"
    assert set(Dcc.requirements) == set(SIMULATORS["dcc"].requirements)


# ------------------------------------------------------------------ registration
def test_registration_lookup_by_date() -> None:
    """SM-4: nobody before 1 March, SUP-GAMMA from 1 March, SUP-BETA from 15 April."""
    dcc, _, _ = make_dcc()
    assert dcc.registered_supplier("SM-4", "2026-02-01T00:00:00Z") is None
    assert dcc.registered_supplier("SM-4", "2026-03-01T00:00:00Z") == "SUP-GAMMA"
    assert dcc.registered_supplier("SM-4", "2026-04-14T23:59:59Z") == "SUP-GAMMA"
    assert dcc.registered_supplier("SM-4") == "SUP-BETA"
    # the ESIID, the gas meter number and the MPRN name the same premise
    assert dcc.registered_supplier("19000000000000004") == "SUP-BETA"
    reg = dcc.registration("SM-3")
    assert reg["electricity"]["supplier"] == "SUP-BETA" and reg["network_operator"] == "DNO-WEST"
    assert reg["gas"]["gas_meter"] == "SM-3-G" and reg["gas"]["mprn"] == "0000000003"
    assert dcc.registry.meter("SM-3-G").meter == dcc.registry.meter("0000000003").meter == "SM-3"
    assert reg["gas_transporter_agent"] == "GTA-01" and reg["firmware"] == "4.2.0"


def test_deterministic_assignment_without_explicit_registrations() -> None:
    a, b = Dcc("demo"), Dcc("demo")
    meters = [m.meter for m in a.profile.meters]
    assigned = [a.registered_supplier(m) for m in meters]
    assert assigned == [b.registered_supplier(m) for m in meters]
    assert set(assigned) == {"SUP-ALPHA", "SUP-BETA"}  # both suppliers get meters
    assert {a.registered_shipper(m) for m in meters} == {"SHP-NORTH", "SHP-SOUTH"}
    assert a.registration("AMS-0001")["network_operator"] == "DNO-EAST"


def test_load_profile_registrations_are_lazy() -> None:
    dcc = Dcc("load")
    assert dcc.registered_supplier("LD-099999") in ("SUP-A", "SUP-B")
    assert len(dcc.registry._history) == 1  # only the meter asked about


# ------------------------------------------------------------------ DCC-1 change of supplier
def test_change_of_supplier_read_goes_to_both_suppliers_then_authorisation_switches() -> None:
    """DCC-1: at the switch date the DCC takes a change-of-supplier read and sends it to both
    the incoming and the outgoing supplier; from then on only the new supplier may command or
    read the meter."""
    dcc, client, _hes = make_dcc()
    switch_at = parse_time("2026-05-13T00:00:00+01:00")
    sw = dcc.register_change_of_supplier("SM-1", "SUP-BETA", switch_at)
    assert (sw.outgoing, sw.incoming, sw.status) == ("SUP-ALPHA", "SUP-BETA", "pending")
    # registered in advance: the date lookup already knows; until then the old supplier rules
    assert dcc.registered_supplier("SM-1", switch_at) == "SUP-BETA"
    assert dcc.registration("SM-1")["electricity"]["pending_switches"] == [sw.id]
    assert dcc.is_authorised("SUP-ALPHA", "SM-1", "read") and not dcc.is_authorised(
        "SUP-BETA", "SM-1", "command"
    )
    assert client.sent == []

    dcc.clock.advance_to(switch_at)
    assert sw.status == "completed"
    # the read came from the head-end through cimbus, for the switch time
    (get,) = [r for r in client.requests if r.verb == "get"]
    assert get.source == "DCC" and get.window()[1] == "2026-05-13T00:00:00+01:00"
    assert text(get.get_filter, "gmr:EndDevice/gmr:mRID") == "SM-1"
    assert sw.read is not None and sw.read.value == 23456.789 and sw.read.quality == DEVICE_VALID
    # one created MeterReadings per recipient, the recipient in a header Property
    assert [
        (m.verb, m.noun, props(m)["Recipient"], props(m)["RecipientRole"]) for m in client.sent
    ] == [
        ("created", "MeterReadings", "SUP-BETA", "incomingSupplier"),
        ("created", "MeterReadings", "SUP-ALPHA", "outgoingSupplier"),
    ]
    for m in client.sent:
        reading = m.payload[0].find("mr:MeterReading", MR)
        assert text(reading, "mr:Readings/mr:value") == "23456.789"
        assert text(reading, "mr:Readings/mr:timeStamp") == "2026-05-13T00:00:00+01:00"
        assert text(reading, "mr:UsagePoint/mr:Names/mr:name") == "19000000000000001"
        assert "SUP-BETA (incomingSupplier), SUP-ALPHA (outgoingSupplier)" in (
            m.header.get("Comment") or ""
        )
    assert [e["role"] for e in dcc.messages("SUP-ALPHA")] == ["outgoingSupplier"]
    assert [e["kind"] for e in dcc.messages("SUP-BETA")] == ["cos_read"]
    # from now on only the new supplier
    assert dcc.is_authorised("SUP-BETA", "SM-1", "read") and dcc.is_authorised(
        "SUP-BETA", "SM-1", "command"
    )
    assert not dcc.is_authorised("SUP-ALPHA", "SM-1", "read")
    assert answer_of(dcc, supplier_get("SUP-ALPHA", "SM-1")).errors[0]["code"] == "3.2"
    assert answer_of(dcc, supplier_get("SUP-BETA", "SM-1")).result == "OK"
    # the history keeps who it was, by date
    assert dcc.registered_supplier("SM-1", "2026-05-12T23:59:00+01:00") == "SUP-ALPHA"


def test_change_of_supplier_read_is_a_local_estimate_when_no_head_end_answers() -> None:
    dcc, client, _ = make_dcc(hes=False)
    sw = dcc.register_change_of_supplier("SM-2", "SUP-GAMMA", "2026-05-12T12:00:00+01:00")
    dcc.clock.advance(timedelta(hours=4))
    assert sw.read is not None and sw.read.quality == "4.8.0"
    assert "4.1" in sw.read.source and "HES did not answer" in sw.read.source
    assert sw.read.value == local_read("SM-2", parse_time("2026-05-12T12:00:00+01:00"))
    assert len(client.sent) == 2
    # not attached at all: the same deterministic value
    other, _, _ = make_dcc()
    other.client = None
    sw2 = other.register_change_of_supplier("SM-2", "SUP-GAMMA", "2026-05-12T12:00:00+01:00")
    other.clock.advance(timedelta(hours=4))
    assert sw2.read.value == sw.read.value and "not attached" in sw2.read.source
    assert [e["role"] for e in other.messages("SUP-GAMMA")] == ["incomingSupplier"]


def test_change_of_supplier_registration_is_checked() -> None:
    dcc, _, _ = make_dcc()
    with pytest.raises(ValueError, match="not a registered supplier"):
        dcc.register_change_of_supplier("SM-1", "SUP-NOBODY", "2026-05-13T00:00:00Z")
    with pytest.raises(ValueError, match="already the supplier"):
        dcc.register_change_of_supplier("SM-1", "SUP-ALPHA", "2026-05-13T00:00:00Z")
    dcc.register_change_of_supplier("SM-1", "SUP-BETA", "2026-05-13T00:00:00Z")
    with pytest.raises(ValueError, match="pending"):
        dcc.register_change_of_supplier("SM-1", "SUP-GAMMA", "2026-05-14T00:00:00Z")
    with pytest.raises(KeyError):
        dcc.register_change_of_supplier("NOPE", "SUP-BETA", "2026-05-13T00:00:00Z")


# ------------------------------------------------------------------ DCC-2 gas
def test_gas_change_of_shipper_transfer_read_recipients() -> None:
    """DCC-2: transfer reads to the proposing and the incumbent shipper and the gas
    transporter's agent."""
    dcc, client, _ = make_dcc()
    sw = dcc.register_change_of_shipper("SM-1", "SHP-SOUTH", "2026-05-14T06:00:00+01:00")
    assert (sw.outgoing, sw.incoming) == ("SHP-NORTH", "SHP-SOUTH")
    dcc.clock.advance(timedelta(days=2))
    assert [(props(m)["Recipient"], props(m)["RecipientRole"]) for m in client.sent] == [
        ("SHP-SOUTH", "proposingShipper"),
        ("SHP-NORTH", "incumbentShipper"),
        ("GTA-01", "gasTransporterAgent"),
    ]
    reading = client.sent[0].payload[0].find("mr:MeterReading", MR)
    assert text(reading, "mr:Meter/mr:mRID") == "SM-1-G"
    assert text(reading, "mr:UsagePoint/mr:Names/mr:NameType/mr:name") == "MPRN"
    assert (
        reading.find("mr:Readings/mr:ReadingType", MR).get("ref")
        == "0.0.0.1.1.7.58.0.0.0.0.0.0.0.0.0.42.0"
    )
    assert dcc.registered_shipper("SM-1") == "SHP-SOUTH"
    assert dcc.registered_supplier("SM-1") == "SUP-ALPHA"  # electricity untouched
    assert dcc.is_authorised("SHP-SOUTH", "SM-1-G", "gas_read") and not dcc.is_authorised(
        "SHP-NORTH", "SM-1-G", "gas_read"
    )
    assert [e["kind"] for e in dcc.messages("GTA-01")] == ["transfer_read"]
    # a gas read through the DCC is answered by the DCC itself, for the registered shipper
    ans = answer_of(dcc, supplier_get("SHP-SOUTH", "SM-1-G"))
    assert (
        ans.result == "OK" and text(ans.payload[0], "mr:MeterReading/mr:Meter/mr:mRID") == "SM-1-G"
    )
    assert answer_of(dcc, supplier_get("SHP-NORTH", "SM-1-G")).errors[0]["code"] == "3.2"


# ------------------------------------------------------------------ DCC-5 requests through the DCC
def test_unauthorised_request_is_refused_with_3_2_revealing_nothing() -> None:
    """DCC-5 / SEC-2: only the registered party; a refusal is logged, answered FAILED 3.2 and
    says nothing about the meter (the same answer for someone else's meter and for a meter
    that does not exist); nothing reaches the metering system."""
    dcc, client, _ = make_dcc()
    theirs = answer_of(dcc, supplier_get("SUP-GAMMA", "SM-1"))
    missing = answer_of(dcc, supplier_get("SUP-GAMMA", "SM-404"))
    for ans in (theirs, missing):
        assert ans.result == "FAILED"
        assert ans.errors == [
            {
                "code": "3.2",
                "level": "FATAL",
                "reason": "SUP-GAMMA is not authorised for this request",
            }
        ]
        assert ans.payload == []
    assert theirs.body.split(b"<msg:MessageID>")[0].count(b"SM-") == 0
    assert b"SM-1" not in theirs.body and b"SUP-ALPHA" not in theirs.body
    anonymous = answer_of(dcc, supplier_get(None, "SM-1"))
    assert anonymous.errors[0]["code"] == "3.2"
    refused_control = answer_of(dcc, supplier_control("SUP-BETA", "SM-1"))
    assert refused_control.errors[0]["code"] == "3.2"
    assert client.requests == []
    assert [(r["party"], r["why"]) for r in dcc.refusals] == [
        ("SUP-GAMMA", "read on SM-1"),
        ("SUP-GAMMA", "read on SM-404"),
        (None, "no Header/User/Organization"),
        ("SUP-BETA", "command on SM-1"),
    ]


def test_authorised_read_is_forwarded_to_the_metering_system_and_answered() -> None:
    dcc, client, _hes = make_dcc()
    ans = answer_of(dcc, supplier_get("SUP-ALPHA", "19000000000000001", by="UsagePoint"))
    assert ans.result == "OK" and ans.verb == "reply"
    assert text(ans.payload[0], "mr:MeterReading/mr:Readings/mr:value") == "23456.789"
    (fwd,) = client.requests
    assert (fwd.verb, fwd.source, fwd.organization, fwd.user_id) == (
        "get",
        "DCC",
        "DCC",
        "SUP-ALPHA",
    )
    assert fwd.window() == ("2026-05-12T08:00:00+01:00", "2026-05-12T09:00:00+01:00")
    assert text(fwd.get_filter, "gmr:UsagePoint/gmr:Names/gmr:name") == "19000000000000001"


def test_controls_are_checked_per_action_and_forwarded() -> None:
    dcc, client, hes = make_dcc()
    assert answer_of(dcc, supplier_control("SUP-BETA", "SM-3")).result == "OK"
    assert answer_of(dcc, supplier_control("SUP-BETA", "SM-3", verb="cancel")).result == "OK"
    # network operation: the meter's DNO (and its supplier) may ping; another DNO may not
    assert (
        answer_of(dcc, supplier_control("DNO-WEST", "SM-3", controls.POWER_STATUS_PING)).result
        == "OK"
    )
    assert (
        answer_of(dcc, supplier_control("DNO-EAST", "SM-3", controls.POWER_STATUS_PING)).errors[0][
            "code"
        ]
        == "3.2"
    )
    assert answer_of(dcc, supplier_control("DNO-WEST", "SM-3")).errors[0]["code"] == "3.2"
    assert [(m.verb, m.organization, m.user_id) for m in hes.seen] == [
        ("create", "DCC", "SUP-BETA"),
        ("cancel", "DCC", "SUP-BETA"),
        ("create", "DCC", "DNO-WEST"),
    ]
    ctrl = hes.seen[0].payload[0].find("edc:EndDeviceControl", EDC)
    assert text(ctrl, "edc:mRID") == f"CMD-SM-3-{controls.REMOTE_DISCONNECT}"
    assert client.requests[0].header.get("ReplyAddress") == "cimbus.system.DCC"


def test_async_route_answer_is_passed_back_and_the_later_reply_recorded() -> None:
    dcc, client, _ = make_dcc(async_routes=True)
    ans = answer_of(dcc, supplier_control("SUP-BETA", "SM-3"))
    assert ans.result == "OK" and ans.errors[0]["code"] == "0.1"
    assert "queued for the metering system" in ans.errors[0]["reason"]
    dcc.handle(client.later.pop())
    (record,) = dcc.forwarded.values()
    assert record["final"] == "OK" and record["party"] == "SUP-BETA"


def test_metering_system_timeout_is_answered_4_1() -> None:
    dcc, client, _ = make_dcc()
    client.timeout = True
    ans = answer_of(dcc, supplier_get("SUP-ALPHA", "SM-1"))
    assert ans.result == "FAILED" and ans.errors[0]["code"] == "4.1"
    client.timeout = False
    client.hes = None  # cimbus answers FAILED 4.1 itself (HES silent): passed through
    assert answer_of(dcc, supplier_get("SUP-ALPHA", "SM-1")).errors[0]["code"] == "4.1"


# ------------------------------------------------------------------ DCC-3 alarms
def test_alarms_are_routed_to_the_supplier_and_power_alarms_to_the_network_operator() -> None:
    dcc, client, _ = make_dcc()
    dcc.handle(device_event("SM-1", events.TAMPER_DETECTED))
    dcc.handle(device_event("SM-3", events.LOW_BATTERY))
    dcc.handle(device_event("SM-3", events.LAST_GASP))
    dcc.handle(
        device_event("SM-1", acknowledgement_for(controls.REMOTE_DISCONNECT, "processed"))
    )  # not an alarm
    assert [(a["meter"], a["name"]) for a in dcc.alarms("SUP-ALPHA")] == [
        ("SM-1", "TAMPER_DETECTED")
    ]
    assert [(a["meter"], a["name"]) for a in dcc.alarms("SUP-BETA")] == [
        ("SM-3", "LOW_BATTERY"),
        ("SM-3", "LAST_GASP"),
    ]
    assert [(a["meter"], a["role"]) for a in dcc.alarms("DNO-WEST")] == [
        ("SM-3", "networkOperator")
    ]
    assert dcc.alarms("DNO-EAST") == [] and dcc.ignored_events == 1
    # re-published per recipient: created EndDeviceEvents from DCC with Property Recipient
    assert [(m.verb, m.noun, m.source, props(m)["Recipient"]) for m in client.sent] == [
        ("created", "EndDeviceEvents", "DCC", "SUP-ALPHA"),
        ("created", "EndDeviceEvents", "DCC", "SUP-BETA"),
        ("created", "EndDeviceEvents", "DCC", "SUP-BETA"),
        ("created", "EndDeviceEvents", "DCC", "DNO-WEST"),
    ]
    ev = client.sent[0].payload[0].find("{http://iec.ch/TC57/2011/EndDeviceEvents#}EndDeviceEvent")
    assert (
        ev.find("{http://iec.ch/TC57/2011/EndDeviceEvents#}EndDeviceEventType").get("ref")
        == events.TAMPER_DETECTED
    )


def test_alarm_follows_the_registration_at_the_event_time() -> None:
    dcc, _, _ = make_dcc()
    dcc.register_change_of_supplier("SM-2", "SUP-GAMMA", "2026-05-12T10:00:00+01:00")
    dcc.clock.advance(timedelta(hours=2))
    dcc.handle(device_event("SM-2", events.COVER_REMOVED, at="2026-05-12T09:30:00+01:00"))
    dcc.handle(device_event("SM-2", events.COVER_REMOVED, at="2026-05-12T10:30:00+01:00"))
    assert [a["at"] for a in dcc.alarms("SUP-ALPHA")] == ["2026-05-12T09:30:00+01:00"]
    assert [a["at"] for a in dcc.alarms("SUP-GAMMA")] == ["2026-05-12T10:30:00+01:00"]


def test_alarm_subscription_per_party() -> None:
    """DCC-3 alarm subscriptions: a party may restrict the alarms it receives (profile
    ``[dcc] alarm_subscriptions`` or the API); by default it gets every alarm for its role."""
    dcc, client, _ = make_dcc(
        dcc={**PROFILE["dcc"], "alarm_subscriptions": {"DNO-WEST": ["POWER_DOWN"]}}
    )
    dcc.subscribe_alarms("SUP-BETA", ["TAMPER_DETECTED", events.COVER_REMOVED])
    for code in (events.LOW_BATTERY, events.TAMPER_DETECTED, events.LAST_GASP, events.POWER_DOWN):
        dcc.handle(device_event("SM-3", code))
    assert [a["name"] for a in dcc.alarms("SUP-BETA")] == ["TAMPER_DETECTED"]
    assert [a["name"] for a in dcc.alarms("DNO-WEST")] == ["POWER_DOWN"]
    assert dcc.filtered_alarms == 4
    assert len(client.sent) == 2
    with pytest.raises(ValueError, match="not an alarm"):
        dcc.subscribe_alarms("SUP-BETA", [events.FIRMWARE_UPDATE_STARTED])
    dcc.subscribe_alarms("SUP-BETA", None)
    dcc.handle(device_event("SM-3", events.LOW_BATTERY, at="2026-05-12T09:10:00+01:00"))
    assert [a["name"] for a in dcc.alarms("SUP-BETA")] == ["TAMPER_DETECTED", "LOW_BATTERY"]


def test_classification_table() -> None:
    assert (
        classify(events.TAMPER_DETECTED).kind == "alarm"
        and not classify(events.TAMPER_DETECTED).network
    )
    assert classify(events.POWER_DOWN).network and classify(events.POWER_RESTORED).network
    assert classify(events.LOCAL_SWITCH_NOT_AUTHORIZED).kind == "alarm"
    assert classify(events.FIRMWARE_UPDATE_STARTED).kind == "firmware"
    assert classify(acknowledgement_for(controls.POWER_STATUS_PING, "processed")).kind is None
    assert classify("not-a-code").kind is None


def test_duplicate_event_is_routed_once() -> None:
    dcc, _, _ = make_dcc()
    body = device_event("SM-1", events.TAMPER_DETECTED)
    dcc.handle(body)
    dcc.handle(body)
    assert len(dcc.alarms("SUP-ALPHA")) == 1


# ------------------------------------------------------------------ DCC-4 firmware campaigns
def test_campaign_progress_per_meter_and_summary() -> None:
    """DCC-4: FIRMWARE_UPDATE controls to the meters; progress events started / in progress /
    succeeded / failed; the final version; only the requesting supplier's meters; progress
    acknowledged back to that supplier."""
    dcc, client, _hes = make_dcc(async_routes=True)
    c = dcc.start_campaign(["SM-1", "SM-2", "SM-3"], "4.3.0", requested_by="SUP-ALPHA")
    assert c.meters["SM-3"].state == "refused"  # SUP-BETA's meter
    assert [c.meters[m].state for m in ("SM-1", "SM-2")] == ["queued", "queued"]
    sent = [r for r in client.requests if r.noun == "EndDeviceControls"]
    assert len(sent) == 2
    ctrl = sent[0].payload[0].find("edc:EndDeviceControl", EDC)
    assert ctrl.find("edc:EndDeviceControlType", EDC).get("ref") == controls.FIRMWARE_UPDATE
    assert (
        text(ctrl, "edc:reason") == "firmware 4.3.0"
        and text(ctrl, "edc:mRID") == c.meters["SM-1"].control
    )
    assert sent[0].header.get("ReplyAddress") == "cimbus.system.DCC"
    # the head-end's async replies arrive through serve -> on_reply
    for later in client.later:
        dcc.handle(later)
    assert [c.meters[m].state for m in ("SM-1", "SM-2")] == ["accepted", "accepted"]
    # progress events (matched by the control mRID, or by meter)
    dcc.handle(
        device_event("SM-1", events.FIRMWARE_UPDATE_STARTED, tracking=c.meters["SM-1"].control)
    )
    dcc.handle(device_event("SM-1", events.FIRMWARE_UPDATE_IN_PROGRESS))
    assert c.meters["SM-1"].state == "in_progress" and not c.complete
    dcc.handle(
        device_event(
            "SM-1", events.FIRMWARE_UPDATE_SUCCEEDED, details={"FirmwareVersion": "4.3.0-b7"}
        )
    )
    dcc.handle(device_event("SM-2", events.FIRMWARE_UPDATE_STARTED))
    dcc.handle(device_event("SM-2", events.FIRMWARE_UPDATE_FAILED))
    late = device_event(
        "SM-2", events.FIRMWARE_UPDATE_IN_PROGRESS, tracking=c.meters["SM-2"].control
    )
    dcc.handle(late)  # late: recorded, no regress
    summary = dcc.campaign(c.id).summary()
    assert summary["complete"] and summary["counts"] == {"failed": 1, "refused": 1, "succeeded": 1}
    assert summary["versions"] == {"4.2.0": 1, "4.3.0-b7": 1}
    assert dcc.firmware_of("SM-1") == "4.3.0-b7" and dcc.firmware_of("SM-2") == "4.2.0"
    assert [h["state"] for h in c.meters["SM-2"].history][-1] == "in_progress"
    # progress acknowledged back to the supplier that asked
    states = [
        e["state"]
        for e in dcc.messages("SUP-ALPHA")
        if e["kind"] == "firmware" and e["meter"] == "SM-1"
    ]
    assert states == ["queued", "accepted", "started", "in_progress", "succeeded"]
    back = [m for m in client.sent if props(m).get("Recipient") == "SUP-ALPHA"]
    assert back and all(m.noun == "EndDeviceEvents" for m in back)


def test_campaign_control_refused_by_the_metering_system_fails_the_meter() -> None:
    dcc, _client, _ = make_dcc(hes=False)
    c = dcc.start_campaign(["SM-4"], "5.0.0")  # fleet campaign by the DCC itself
    assert c.meters["SM-4"].state == "failed" and "4.1" in (c.meters["SM-4"].detail or "")
    assert c.summary()["complete"]
    with pytest.raises(KeyError):
        dcc.start_campaign(["SM-404"], "5.0.0")
    with pytest.raises(ValueError):
        dcc.start_campaign([], "5.0.0")


# ------------------------------------------------------------------ REST
def test_rest_routes() -> None:
    dcc, _client, _ = make_dcc()
    api = TestClient(dcc.api())
    reg = api.get("/meters/SM-4/registration", params={"at": "2026-03-05T00:00:00Z"}).json()
    assert reg["electricity"]["supplier"] == "SUP-GAMMA"
    assert api.get("/meters/NOPE/registration").status_code == 404
    r = api.post(
        "/change-of-supplier",
        json={"meter": "SM-2", "supplier": "SUP-BETA", "switch_date": "2026-05-12T10:00:00+01:00"},
    )
    assert r.status_code == 201 and r.json()["status"] == "pending"
    assert api.post("/change-of-supplier", json={"meter": "SM-2"}).status_code == 422
    assert (
        api.post(
            "/change-of-supplier", json={"meter": "SM-1", "supplier": "SUP-X", "switch_date": T0}
        ).status_code
        == 422
    )
    assert (
        api.post(
            "/change-of-shipper", json={"meter": "SM-2", "shipper": "SHP-SOUTH", "switch_date": T0}
        ).json()["status"]
        == "completed"
    )
    assert api.post("/clock/advance", json={"seconds": 3600}).status_code == 200
    assert api.get(f"/switches/{r.json()['id']}").json()["status"] == "completed"
    assert len(api.get("/switches").json()) == 2
    camp = api.post("/campaigns", json={"meters": ["SM-3"], "version": "4.4.0"})
    assert camp.status_code == 201 and camp.json()["counts"] == {"accepted": 1}
    assert api.get(f"/campaigns/{camp.json()['campaign']}").json()["total"] == 1
    assert api.get("/campaigns/FW-9999").status_code == 404
    assert api.post("/campaigns", json={"meters": "SM-3"}).status_code == 422
    dcc.handle(device_event("SM-3", events.POWER_DOWN))
    assert api.get("/alarms/DNO-WEST").json()["count"] == 1
    sub = api.put("/alarms/SUP-BETA/subscription", json={"alarms": ["LOW_BATTERY"]})
    assert sub.json()["alarms"] == [events.LOW_BATTERY]
    assert api.get("/alarms/SUP-BETA/subscription").json()["alarms"] == [events.LOW_BATTERY]
    assert api.put("/alarms/SUP-BETA/subscription", json={"alarms": ["NOPE"]}).status_code == 422
    assert api.get("/inbox/SUP-BETA").json()["count"] >= 2
    assert (
        api.get("/authorised", params={"party": "SUP-BETA", "meter": "SM-2"}).json()["authorised"]
        is True
    )
    assert (
        api.get(
            "/authorised", params={"party": "SUP-BETA", "meter": "SM-2", "action": "fly"}
        ).status_code
        == 422
    )
    assert api.get("/").json()["switches"] == {"pending": 0, "completed": 2}
