"""The field mobile solution simulator (D11-3, D11-5, D11-6, D11-10, B2-16), driven with the
manual SimClock and no bus: outage records are handed to ``Field.handle`` as cimbus would
deliver them, and everything the field solution sends is read back from ``Field.sent`` and
validated against the project XSDs."""

from __future__ import annotations

import tomllib
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from cim_models.codec import Codec
from simulators import SIMULATORS
from simulators._core import Incoming, SimClock, event, iso, parse_time
from simulators._core.profile import PROFILES_DIR, profile_from_mapping
from simulators.field import Field, FieldError, distance_m, site_for
from simulators.field.geo import offset
from simulators.oms import RecordData, TroubleOrderData, outage_records, records_of

T0 = parse_time("2026-05-12T09:00:00-05:00")
CODEC = Codec()


# ---------------------------------------------------------------- helpers
def make(profile: object = "demo") -> tuple[Field, SimClock]:
    clock = SimClock(T0)
    return Field(profile, clock=clock), clock


def demo_mapping() -> dict:
    return tomllib.loads((PROFILES_DIR / "demo.toml").read_text(encoding="utf-8"))


def sent(field: Field) -> list[Incoming]:
    out = []
    for body in field.sent:
        CODEC.decode(body)  # raises when the message breaks its schema
        out.append(Incoming.parse(body, CODEC))
    return out


def changes(field: Field) -> list[RecordData]:
    out = []
    for m in sent(field):
        assert (m.verb, m.noun, m.source) == ("changed", "OutageRecords", "FIELD")
        out.extend(records_of(m.payload))
    return out


def statuses(field: Field) -> list[str]:
    return [t.status for r in changes(field) for t in r.trouble_orders]


def oms_record(
    field: Field,
    *,
    transformer: str = "XFMR-01-001",
    n: int = 3,
    planned: bool = False,
    ert=None,
    verb: str = "created",
    status: str = "confirmed",
    orders=None,
) -> RecordData:
    """The OMS publishes an outage record with one trouble order awaiting a crew."""
    ups = sorted(m.esiid for m in field.profile.meters_of(transformer=transformer))[:n]
    rec = RecordData(
        mrid=f"outage-{transformer}",
        magnitude="neighbourhood",
        status=status,
        number=f"OUT-{transformer}",
        planned_reason="Transformer replacement" if planned else None,
        planned_start=T0 if planned else None,
        planned_end=T0 + timedelta(hours=4) if planned else None,
        reported_start=None if planned else T0,
        ert=ert or T0 + timedelta(hours=2),
        ert_source="OMS",
        ert_confidence="low",
        trouble_orders=orders
        if orders is not None
        else [
            TroubleOrderData(
                f"to-{transformer}", "awaitingCrewAssignment", T0, None, f"TO-{transformer}"
            )
        ],
        usage_points=ups,
    )
    body = event(
        verb, "OutageRecords", [outage_records([rec])], source="OMS", timestamp=field.clock.now()
    )
    CODEC.decode(body)
    field.handle(body)
    return rec


def near(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return offset(point, metres, 45.0)


# ---------------------------------------------------------------- catalogue and config
def test_catalogue_loads_the_field_simulator() -> None:
    assert SIMULATORS["field"].load() is Field
    field, _ = make()
    assert field.system == "FIELD" and set(field.crews) == {"TRBL-01", "LINE-01"}
    assert field.config.geofence_m == 150


def test_unknown_field_keys_are_refused() -> None:
    m = demo_mapping()
    m["field"]["colour"] = "red"
    with pytest.raises(ValueError, match="colour"):
        Field(profile_from_mapping(m))
    m = demo_mapping()
    m["field"]["crews"] = [{"id": "X", "kind": "pilot", "home": [0, 0]}]
    with pytest.raises(ValueError, match=r"crews\[0\].*kind"):
        Field(profile_from_mapping(m))


# ---------------------------------------------------------------- job sites
def test_job_sites_are_deterministic_and_near_the_crews() -> None:
    a, _ = make()
    b, _ = make()
    site = a.job_site("XFMR-01-001")
    assert site == b.job_site("XFMR-01-001") == site_for("XFMR-01-001", a.centre)
    assert site != a.job_site("XFMR-01-002")
    for t in ("XFMR-01-001", "XFMR-01-002", "XFMR-02-003"):
        assert 999 <= distance_m(a.centre, a.job_site(t)) <= 5001


def test_order_site_is_the_transformer_with_most_affected_meters() -> None:
    field, _ = make()
    oms_record(field, transformer="XFMR-02-001")
    (order,) = field.orders.values()
    assert order.site_key == "XFMR-02-001" and order.site == field.job_site("XFMR-02-001")


# ---------------------------------------------------------------- dispatch (D11-3)
def test_new_trouble_order_is_dispatched_to_a_trouble_crew() -> None:
    field, _ = make()
    rec = oms_record(field)
    (order,) = field.orders.values()
    assert order.status == "dispatched" and order.crew == "TRBL-01" and order.ert == rec.ert
    (change,) = changes(field)
    assert (
        change.mrid == rec.mrid
        and change.number == rec.number
        and change.magnitude == rec.magnitude
    )
    (entry,) = change.trouble_orders
    assert (entry.mrid, entry.status, entry.crew, entry.number) == (
        order.mrid,
        "dispatched",
        "TRBL-01",
        "TO-XFMR-01-001",
    )
    assert change.ert is None  # no new ERT with a dispatch
    (lat,) = field.latencies
    assert (
        lat["what"] == "dispatch" and lat["target_s"] == 60 and lat["within_target"] and lat["sent"]
    )


def test_echoes_and_known_orders_are_not_dispatched_twice() -> None:
    field, _ = make()
    rec = oms_record(field)
    oms_record(
        field,
        verb="changed",
        orders=[
            TroubleOrderData(
                rec.trouble_orders[0].mrid, "dispatched", T0, "TRBL-01", "TO-XFMR-01-001"
            )
        ],
    )
    assert statuses(field) == ["dispatched"]


def test_busy_crews_are_avoided_and_planned_outages_get_a_line_crew() -> None:
    m = demo_mapping()
    m["field"]["crews"].append({"id": "TRBL-02", "kind": "trouble", "home": [30.5, -97.5]})
    field, _ = make(profile_from_mapping(m))
    oms_record(field, transformer="XFMR-01-001")
    oms_record(field, transformer="XFMR-02-001")  # TRBL-01 is busy: the free trouble crew goes
    assert [o.crew for o in field.orders.values()] == ["TRBL-01", "TRBL-02"]
    oms_record(field, transformer="XFMR-02-003")  # both busy: the nearer of the two queues it
    third = field.order("TO-XFMR-02-003")
    expected = min(
        ("TRBL-01", "TRBL-02"), key=lambda c: distance_m(field.crews[c].home, third.site)
    )
    assert third.crew == expected
    field2, _ = make()
    oms_record(field2, planned=True)
    assert next(iter(field2.orders.values())).crew == "LINE-01"


# ---------------------------------------------------------------- the status chain (D11-3)
def test_status_chain_with_geofence_triggered_on_site() -> None:
    field, clock = make()
    oms_record(field)
    order = next(iter(field.orders.values()))
    clock.advance(60)
    field.en_route(order.number)
    assert field.move_vehicle("TRBL-01", *near(order.site, 400)) == []  # outside 150 m
    assert order.status == "enRoute" and not order.arrived
    clock.advance(600)
    assert field.move_vehicle("TRBL-01", *near(order.site, 100)) == [order.number]
    assert order.status == "onSite" and order.arrived
    assert field.move_vehicle("TRBL-01", *order.site) == []  # already on site
    ert = clock.now() + timedelta(hours=1)
    field.set_ert(order.number, ert)
    field.restored(
        order.number, cause="Animal contact on the transformer bushing", cause_kind="animal"
    )
    assert statuses(field) == ["dispatched", "enRoute", "onSite", "ertSet", "restored"]
    recs = changes(field)
    assert recs[2].trouble_orders[0].status_time == T0 + timedelta(seconds=660)
    assert "vehicle entered the job-site vicinity" in sent(field)[2].header["Comment"]
    assert (
        recs[3].ert == ert
        and recs[3].ert_source == "Field: trouble worker TRBL-01"
        and recs[3].ert_confidence == "high"
    )
    assert (
        recs[4].cause == "Animal contact on the transformer bushing"
        and recs[4].cause_kind == "animal"
    )
    assert not order.active and field.crews["TRBL-01"].orders == []


def test_geofence_also_fires_without_en_route() -> None:
    field, _ = make()
    oms_record(field)
    order = next(iter(field.orders.values()))
    assert field.move_vehicle("TRBL-01", *order.site) == [order.number]
    assert statuses(field) == ["dispatched", "onSite"]


def test_geofence_radius_comes_from_the_profile() -> None:
    m = demo_mapping()
    m["field"]["geofence_m"] = 500
    field, _ = make(profile_from_mapping(m))
    oms_record(field)
    order = next(iter(field.orders.values()))
    assert field.move_vehicle("TRBL-01", *near(order.site, 400)) == [order.number]


def test_invalid_status_changes_are_refused() -> None:
    field, _ = make()
    oms_record(field)
    order = next(iter(field.orders.values()))
    with pytest.raises(FieldError, match="on site"):
        field.restored(order.number)
    with pytest.raises(FieldError, match="on site"):
        field.cannot_restore(order.number)
    field.on_site(order.number)
    with pytest.raises(FieldError, match="en route"):
        field.en_route(order.number)
    with pytest.raises(FieldError, match="future"):
        field.set_ert(order.number, T0 - timedelta(minutes=1))
    with pytest.raises(ValueError, match="cause kind"):
        field.restored(order.number, cause_kind="meteor")
    field.restored(order.number)
    with pytest.raises(FieldError, match="restored"):
        field.set_ert(order.number, T0 + timedelta(hours=1))
    with pytest.raises(KeyError):
        field.en_route("TO-NOPE")
    with pytest.raises(KeyError):
        field.move_vehicle("NOBODY", 0, 0)


# ---------------------------------------------------------------- ERT prompt (D11-5)
def test_ert_prompt_30_minutes_before_and_rescheduled_on_change() -> None:
    field, clock = make()
    oms_record(field, ert=T0 + timedelta(hours=2))  # the OMS's estimate: prompt at 10:30
    order = next(iter(field.orders.values()))
    field.on_site(order.number)
    new_ert = T0 + timedelta(hours=3)  # the worker's ERT: prompt at 11:30 instead
    field.set_ert(order.number, new_ert)
    clock.advance(timedelta(hours=2, minutes=29))
    assert field.prompts == []
    clock.advance(timedelta(minutes=1))
    (prompt,) = field.prompts
    assert prompt["at"] == iso(T0 + timedelta(hours=2, minutes=30)) and prompt["ert"] == iso(
        new_ert
    )
    assert (
        prompt["crew"] == "TRBL-01"
        and prompt["minutes_before"] == 30
        and order.number in prompt["message"]
    )
    assert any("prompt to crew TRBL-01" in e.summary for e in field.journal)
    clock.advance(timedelta(hours=5))
    assert len(field.prompts) == 1


def test_first_prompt_comes_from_the_oms_ert() -> None:
    field, clock = make()
    oms_record(field, ert=T0 + timedelta(hours=2))
    clock.advance(timedelta(hours=1, minutes=30))
    assert [p["ert"] for p in field.prompts] == [iso(T0 + timedelta(hours=2))]


def test_no_prompt_when_restored_first_or_the_ert_is_closer_than_30_minutes() -> None:
    field, clock = make()
    oms_record(field, ert=T0 + timedelta(hours=2))
    order = next(iter(field.orders.values()))
    field.on_site(order.number)
    field.restored(order.number)
    clock.advance(timedelta(hours=3))
    assert field.prompts == []
    field2, clock2 = make()
    oms_record(field2, ert=T0 + timedelta(minutes=20))
    clock2.advance(timedelta(hours=1))
    assert field2.prompts == []


def test_closed_outage_cancels_prompts_and_frees_the_crew() -> None:
    field, clock = make()
    rec = oms_record(field)
    rec.status = "closed"
    field.handle(event("closed", "OutageRecords", [outage_records([rec])], source="OMS"))
    order = next(iter(field.orders.values()))
    assert order.closed and field.crews["TRBL-01"].orders == []
    clock.advance(timedelta(hours=3))
    assert field.prompts == []


# ---------------------------------------------------------------- cannot restore (D11-6)
def test_cannot_restore_creates_a_linked_work_order_for_a_line_crew() -> None:
    field, clock = make()
    oms_record(field)
    to = next(iter(field.orders.values()))
    field.move_vehicle("TRBL-01", *to.site)
    clock.advance(900)
    wo = field.cannot_restore(to.number, reason="Pole down; needs a line crew")
    assert to.status == "fieldComplete" and to.linked == wo.mrid and wo.linked == to.mrid
    assert (
        wo.kind == "work"
        and wo.crew == "LINE-01"
        and wo.status == "dispatched"
        and wo.site == to.site
    )
    # WMS-style ERT: travel of the line crew to the site at 40 km/h + 180 min, rounded up to 5 min
    travel = distance_m(field.crews["LINE-01"].home, wo.site) / 1000 / 40 * 60
    expected = clock.now() + timedelta(minutes=-(-(travel + 180) // 5) * 5)
    assert wo.ert == expected and wo.ert_source == "WMS" and wo.ert_confidence == "low"
    handover, dispatch = changes(field)[-2:]
    by_id = {t.mrid: t for t in handover.trouble_orders}
    assert by_id[to.mrid].status == "fieldComplete" and by_id[to.mrid].work_order == wo.mrid
    assert by_id[to.mrid].work_order_number == wo.number
    assert by_id[wo.mrid].kind == "work" and by_id[wo.mrid].linked_trouble_order == to.number
    assert handover.ert == wo.ert and handover.ert_source == "WMS"
    assert [(t.mrid, t.status, t.crew) for t in dispatch.trouble_orders] == [
        (wo.mrid, "dispatched", "LINE-01")
    ]
    # field staff override the work-management ERT
    field.move_vehicle("LINE-01", *wo.site)
    override = clock.now() + timedelta(hours=2)
    field.set_ert(wo.number, override)
    last = changes(field)[-1]
    assert last.ert == override and last.ert_source == "Field: line crew LINE-01"
    field.restored(wo.number)
    assert statuses(field)[-1] == "restored"


def test_cannot_restore_with_the_workers_own_ert() -> None:
    field, clock = make()
    oms_record(field)
    to = next(iter(field.orders.values()))
    field.on_site(to.number)
    ert = clock.now() + timedelta(hours=5)
    wo = field.cannot_restore(to.number, ert)
    assert wo.ert == ert and wo.ert_source == "Field: trouble worker TRBL-01 (override)"
    field.on_site(wo.number)
    with pytest.raises(FieldError, match="work order"):
        field.cannot_restore(wo.number)
    # the work order is prompted 30 minutes before its ERT
    clock.advance(timedelta(hours=4, minutes=30))
    assert [p["order"] for p in field.prompts] == [wo.number]


# ---------------------------------------------------------------- latency (D11-10)
def test_latency_is_recorded_per_publication() -> None:
    field, _ = make()
    oms_record(field)
    order = next(iter(field.orders.values()))
    field.en_route(order.number)
    summary = field.latency_summary()
    assert summary["dispatch"]["count"] == 1 and summary["update"]["count"] == 1
    assert summary["update"]["max_sim_latency_s"] == 0 and summary["update"]["all_within_target"]
    assert summary["update"]["max_wall_latency_ms"] < 1000  # sub-second


def test_uplink_delay_is_measured_against_the_targets() -> None:
    m = demo_mapping()
    m["field"]["uplink_delay_s"] = 90
    field, clock = make(profile_from_mapping(m))
    oms_record(field)
    assert field.sent == deque_empty()
    clock.advance(90)
    assert len(field.sent) == 1
    (lat,) = field.latencies
    assert lat["sim_latency_s"] == 90 and not lat["within_target"]  # dispatch target 60 s
    order = next(iter(field.orders.values()))
    field.en_route(order.number)
    clock.advance(90)
    assert field.latencies[-1]["within_target"]  # field updates: 600 s
    assert sent(field)[-1].header["Timestamp"] == iso(clock.now())


def deque_empty():
    from collections import deque

    return deque(maxlen=10_000)


# ---------------------------------------------------------------- local switch (B2-16)
def test_local_switch_is_logged_and_carried_out_at_its_time() -> None:
    field, clock = make()
    done: list[dict] = []
    field.local_switch_hook = done.append
    entry = field.local_switch(
        "TRBL-01", "AMS-GOLDEN", "disconnect", at=T0 + timedelta(minutes=15), user="tw.jones"
    )
    assert (
        entry["status"] == "scheduled"
        and entry["authorised"]
        and entry["esiid"] == "10443720001234567"
    )
    clock.advance(900)
    assert (
        entry["status"] == "performed"
        and done[0]["user"] == "tw.jones"
        and done[0]["action"] == "disconnect"
    )
    refused = field.local_switch("STRANGER", "AMS-GOLDEN", "connect")
    assert refused["status"] == "refused" and not refused["authorised"] and len(done) == 1
    assert len(field.local_switch_log) == 2
    with pytest.raises(ValueError):
        field.local_switch("TRBL-01", "AMS-GOLDEN", "explode")
    with pytest.raises(KeyError):
        field.local_switch("TRBL-01", "NO-METER", "connect")


# ---------------------------------------------------------------- faults
def test_drop_fault_means_no_dispatch() -> None:
    field, _ = make()
    field.faults.set(drop=1.0)
    oms_record(field)
    assert field.orders == {} and field.sent == deque_empty()


# ---------------------------------------------------------------- REST
def test_rest_routes() -> None:
    field, clock = make()
    api = TestClient(field.api())
    oms_record(field)
    (order,) = api.get("/orders").json()
    assert order["status"] == "dispatched" and order["crew"] == "TRBL-01"
    key = order["number"]
    assert (
        api.post(f"/orders/{key}/status", json={"status": "enRoute"}).json()["status"] == "enRoute"
    )
    assert api.post(f"/orders/{key}/status", json={"status": "enRoute"}).status_code == 409
    assert api.post(f"/orders/{key}/status", json={"status": "flying"}).status_code == 422
    assert api.post("/orders/nope/status", json={"status": "enRoute"}).status_code == 404
    lat, lon = order["site"]
    moved = api.post("/crews/TRBL-01/position", json={"lat": lat, "lon": lon}).json()
    assert moved["on_site"] == [key]
    assert api.post("/crews/TRBL-01/position", json={"lat": "x"}).status_code == 422
    assert api.post("/crews/NOBODY/position", json={"lat": 0, "lon": 0}).status_code == 404
    assert api.post(f"/orders/{key}/status", json={"status": "ertSet"}).status_code == 422
    ert = iso(clock.now() + timedelta(hours=1))
    assert (
        api.post(f"/orders/{key}/status", json={"status": "ertSet", "ert": ert}).json()["ert"]
        == ert
    )
    api.post("/clock/advance", json={"seconds": 1800})
    assert [p["order"] for p in api.get("/prompts").json()] == [key]
    wo = api.post(
        f"/orders/{key}/status", json={"status": "fieldComplete", "reason": "transformer failed"}
    ).json()
    assert wo["kind"] == "work" and wo["crew"] == "LINE-01" and wo["linked"] == key
    assert len(api.get("/orders", params={"active": True}).json()) == 1
    assert api.get("/latency").json()["summary"]["update"]["count"] >= 4
    assert (
        api.post(
            "/local-switch", json={"crew": "TRBL-01", "meter": "AMS-GOLDEN", "action": "connect"}
        ).status_code
        == 201
    )
    assert api.get("/local-switch").json()[0]["status"] == "performed"
    assert api.get("/crews").json()[0]["id"] == "TRBL-01"
    assert api.get("/").json()["orders"]["total"] == 2


def test_every_message_validates() -> None:
    field, clock = make()
    oms_record(field)
    oms_record(field, transformer="XFMR-02-002", planned=True)
    to = field.order("TO-XFMR-01-001")
    field.en_route(to.number)
    field.move_vehicle(to.crew, *to.site)
    field.set_ert(to.number, clock.now() + timedelta(hours=1))
    wo = field.cannot_restore(to.number)
    field.on_site(wo.number)
    field.restored(wo.number, cause="Conductor down", cause_kind="lineDown")
    planned = field.order("TO-XFMR-02-002")
    field.on_site(planned.number)
    field.restored(planned.number)
    msgs = sent(field)  # each one validated
    assert len(msgs) == 11 and {m.verb for m in msgs} == {"changed"}
    assert records_of(msgs[-1].payload)[0].planned
