"""The simulator core: simulated clock, fault knobs, profiles, the base class over the embedded bus."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from cimbus.runtime import Runtime
from routing.config import Config
from simulators import SIMULATORS
from simulators._core import (
    E,
    Faults,
    Incoming,
    ProfileError,
    SimClock,
    SimError,
    Simulator,
    connect,
    handles,
    load_profile,
    next_boundary,
    parse_time,
    reply,
    request,
)
from simulators._core.profile import profile_from_mapping

T0 = "2026-05-12T09:00:00-05:00"


# ---------------------------------------------------------------- clock
def test_manual_clock_stands_still_until_advanced() -> None:
    clock = SimClock(T0)
    assert clock.now() == parse_time(T0)
    clock.advance(90)
    assert clock.now() == parse_time(T0) + timedelta(seconds=90)


def test_timers_fire_in_order_at_their_time() -> None:
    clock = SimClock(T0)
    seen: list[tuple[str, object]] = []
    clock.call_later(timedelta(minutes=2), lambda: seen.append(("b", clock.now())))
    clock.call_later(timedelta(minutes=1), lambda: seen.append(("a", clock.now())))
    t = clock.call_later(timedelta(minutes=3), lambda: seen.append(("never", clock.now())))
    t.cancel()
    assert clock.advance(timedelta(minutes=1, seconds=59)) == 1
    assert clock.advance(timedelta(hours=24)) == 1
    start = parse_time(T0)
    assert seen == [("a", start + timedelta(minutes=1)), ("b", start + timedelta(minutes=2))]


def test_timer_may_schedule_another_within_the_same_advance() -> None:
    clock = SimClock(T0)
    seen: list[object] = []

    def first() -> None:
        seen.append("first")
        clock.call_later(60, lambda: seen.append("second"))

    clock.call_later(60, first)
    clock.advance(180)
    assert seen == ["first", "second"]


def test_clock_refuses_to_go_back() -> None:
    with pytest.raises(ValueError):
        SimClock(T0).advance(-1)


def test_next_boundary_is_strictly_after() -> None:
    t = parse_time("2026-05-12T09:07:00Z")
    assert next_boundary(t) == parse_time("2026-05-12T09:15:00Z")
    assert next_boundary(parse_time("2026-05-12T09:15:00Z")) == parse_time("2026-05-12T09:30:00Z")


def test_realtime_clock_moves_and_fires() -> None:
    clock = SimClock(T0, realtime=True, speed=600.0).start(poll=0.01)
    try:
        fired: list[int] = []
        clock.call_later(60, lambda: fired.append(1))  # 60 s simulated = 0.1 s real
        import time

        deadline = time.monotonic() + 3
        while not fired and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fired == [1]
        assert clock.now() > parse_time(T0)
    finally:
        clock.stop()


# ---------------------------------------------------------------- faults
def test_fault_knobs_per_key_override_default() -> None:
    faults = Faults(seed=1)
    faults.set(latency=0.5)
    faults.set("AMS-0001", disconnect=True)
    assert faults.knobs("AMS-0002").latency == 0.5
    assert faults.knobs("AMS-0001").disconnect is True
    assert faults.roll("disconnect", "AMS-0001") and not faults.roll("disconnect", "AMS-0002")
    faults.clear("AMS-0001")
    assert not faults.knobs("AMS-0001").disconnect


def test_fault_probabilities_are_checked_and_seeded() -> None:
    with pytest.raises(ValueError, match="probability"):
        Faults().set(drop=1.5)
    with pytest.raises(ValueError, match="unknown fault"):
        Faults().set(explode=True)
    # wrong types are refused when set, not met later by roll() while a message is handled
    with pytest.raises(ValueError, match="drop is a number"):
        Faults().set(drop="0.5")
    with pytest.raises(ValueError, match="latency is a number"):
        Faults().set(latency="2")
    with pytest.raises(ValueError, match="disconnect is true or false"):
        Faults().set(disconnect="false")
    a, b = Faults(seed=3), Faults(seed=3)
    a.set(drop=0.5)
    b.set(drop=0.5)
    assert [a.roll("drop") for _ in range(50)] == [b.roll("drop") for _ in range(50)]
    assert 5 < a.counts["drop"] < 45


# ---------------------------------------------------------------- profiles
def test_demo_profile_population() -> None:
    p = load_profile("demo")
    assert len(p.meters) >= 30
    golden = p.meter("10443720001234567")
    assert golden.ror == "REP-BLUEBONNET" and golden.han_ihd
    assert p.meter("AMS-NOTPROV").provisioned is False
    assert p.meter("LEGACY-01").ams is False
    assert {o.id for o in p.organizations_with("ROR")} == {"REP-BLUEBONNET", "REP-LONESTAR"}
    assert all(len(m.esiid) == 17 for m in p.meters)
    assert p.customer("CUST-GOLDEN").preferences["outage"] == ("IHD", "SMS")
    assert p.section("field")["geofence_m"] == 150


def test_profile_errors_name_the_entry() -> None:
    with pytest.raises(ProfileError, match="not found"):
        load_profile("no-such-profile")
    with pytest.raises(ProfileError, match=r"meters\[0\].*unknown key"):
        profile_from_mapping({"meters": [{"esiid": "1", "meter": "m", "colour": "red"}]})
    with pytest.raises(ProfileError, match="appears twice"):
        profile_from_mapping(
            {"meters": [{"esiid": "1", "meter": "a"}, {"esiid": "1", "meter": "b"}]}
        )


def test_catalogue_lists_every_simulator() -> None:
    assert set(SIMULATORS) == {"headend", "mdms", "cis", "oms", "crm", "dcc", "field"}
    for info in SIMULATORS.values():
        assert info.requirements and info.summary


# ---------------------------------------------------------------- base class over the embedded bus
class Echo(Simulator):
    name = "echo"
    system = "ECHO"
    title = "answers get MeterReadings with an empty payload"

    @handles("get", "MeterReadings")
    def get_readings(self, msg: Incoming) -> bytes:
        if msg.organization == "NOPE":
            raise SimError("3.2", "not allowed")
        return reply(msg, source=self.system, payload=[E.mr("MeterReadings")])


@pytest.fixture
def bus(tmp_path):
    cfg = Config.from_mapping(
        {
            "store": {"url": f"sqlite:///{tmp_path / 'c.db'}"},
            "systems": {"ECHO": {"transport": "embedded"}, "CIS": {"transport": "embedded"}},
            "routes": [{"verb": "get", "noun": "MeterReadings", "target": "ECHO", "timeout": 2}],
        }
    )
    with Runtime(cfg) as rt:
        yield rt


def _get(org: str = "REP-X") -> bytes:
    return request(
        "get", "MeterReadings", source="CIS", organization=org, get_filter=E.gmr("GetMeterReadings")
    )


def test_simulator_answers_over_the_bus_and_journals(bus) -> None:
    sim = Echo("demo").attach(connect("embedded", "ECHO", broker=bus.broker))
    cis = Echo("demo", system="CIS").attach(connect("embedded", "CIS", broker=bus.broker))
    try:
        answer = cis.request(_get(), timeout=5)
        assert answer.result == "OK"
        assert [e.verb for e in sim.received()] == ["get"]
        refused = cis.request(_get("NOPE"), timeout=5)
        assert refused.result == "FAILED" and refused.errors[0]["code"] == "3.2"
    finally:
        sim.close()
        cis.close()


def test_fault_knobs_change_behaviour_over_the_bus(bus) -> None:
    sim = Echo("demo").attach(connect("embedded", "ECHO", broker=bus.broker))
    cis = Echo("demo", system="CIS").attach(connect("embedded", "CIS", broker=bus.broker))
    try:
        sim.faults.set(no_reply=1.0)
        answer = cis.request(_get(), timeout=5)  # cimbus times out (route timeout 2 s)
        assert answer.result == "FAILED" and answer.errors[0]["code"] == "4.1"
        sim.faults.clear()
        sim.faults.set(malformed_reply=1.0)
        answer = cis.request(_get(), timeout=5)
        assert answer.result == "FAILED"  # cimbus refuses the broken reply; the caller times out
        sim.faults.clear()
        sim.faults.set(disconnect=True)
        answer = cis.request(_get(), timeout=5)
        assert answer.result == "FAILED" and answer.errors[0]["code"] == "4.1"
        assert sim.faults.counts["disconnect"] == 1
        sim.faults.clear()
        assert cis.request(_get(), timeout=5).result == "OK"
    finally:
        sim.close()
        cis.close()


def test_unknown_request_gets_failed_naming_it() -> None:
    sim = Echo("demo")
    body = request("create", "EndDeviceControls", source="CIS")
    answer = Incoming.parse(sim.handle(body), sim.codec)
    assert (
        answer.result == "FAILED"
        and "does not serve 'create EndDeviceControls'" in answer.errors[0]["reason"]
    )


def test_rest_api_drives_faults_and_clock() -> None:
    sim = Echo("demo")
    api = TestClient(sim.api())
    assert api.get("/").json()["simulator"] == "echo"
    assert api.put("/faults", json={"latency": 0.25}).json()["latency"] == 0.25
    assert api.put("/faults", json={"drop": 7}).status_code == 422
    assert api.put("/faults/AMS-0001", json={"disconnect": "no"}).status_code == 422
    assert api.put("/faults", json={"explode": 1}).status_code == 422
    assert sim.faults.knobs("AMS-0001").disconnect is False  # nothing was set
    before = sim.clock.now()
    assert api.post("/clock/advance", json={"seconds": 3600}).status_code == 200
    assert sim.clock.now() - before == timedelta(hours=1)
    assert api.delete("/faults").json()["default"]["latency"] == 0
