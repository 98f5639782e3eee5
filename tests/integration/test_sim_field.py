"""The field simulator over cimbus, on the embedded bus and on RabbitMQ (D11-3, D11-5, D11-6,
D11-10).

The OMS simulator publishes outage records from a stub head-end's last gasps; the field
simulator receives them through cimbus's subscription and dispatches crews; its status changes
(geofence-triggered onSite, a linked line-crew work order with a new ERT, restored) reach the OMS
and the CIS. A fault knob on the field (it drops what cimbus delivers) leaves the trouble order
without a crew until the next record arrives.
"""

from __future__ import annotations

from datetime import timedelta

from simulators._core import Incoming, SimClock, Simulator
from simulators.field import Field
from simulators.oms import Oms
from tests.waiting import wait_until

from .test_sim_oms import ROUTES, T0, StubHes, confirm

pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.sim_fixtures"]

SUBSCRIPTIONS = [
    {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["OMS"]},
    {"verb": "created", "noun": "OutageRecords", "subscribers": ["FIELD", "CIS"]},
    {"verb": "changed", "noun": "OutageRecords", "subscribers": ["OMS", "FIELD", "CIS"]},
    {"verb": "closed", "noun": "OutageRecords", "subscribers": ["FIELD", "CIS"]},
]
SYSTEMS = ("HES", "OMS", "FIELD", "CIS")


class Cis(Simulator):
    """Plays the CIS/CSS: records every outage event with its source."""

    name = "stub-cis"
    system = "CIS"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[str, str | None, str]] = []

    def on_event(self, incoming: Incoming) -> None:
        self.seen.append((incoming.verb, incoming.source, incoming.header.get("Comment") or ""))


def sims(sim_world):
    world = sim_world(routes=ROUTES, subscriptions=SUBSCRIPTIONS, systems=SYSTEMS)
    clock = SimClock(T0)
    hes = world.attach(StubHes("demo", clock=clock))
    oms = world.attach(Oms("demo", clock=clock))
    field = world.attach(Field("demo", clock=clock))
    cis = world.attach(Cis("demo", clock=clock))
    return clock, hes, oms, field, cis


def test_trouble_order_handed_to_a_line_crew_over_the_bus(sim_world) -> None:
    clock, hes, oms, field, cis = sims(sim_world)
    specs = sorted(oms.profile.meters_of(transformer="XFMR-01-003"), key=lambda m: m.esiid)[:4]
    outage = confirm(clock, hes, oms, specs)
    wait_until(lambda: field.orders, "FIELD to receive the trouble order")
    to = next(iter(field.orders.values()))
    assert to.status == "dispatched" and to.ert == outage.ert  # the OMS estimate travels with it
    # GPS: the vehicle enters the geofence -> onSite, seen by the OMS and the CIS
    field.move_vehicle(to.crew, *to.site)
    wait_until(lambda: outage.trouble_orders[to.mrid].status == "onSite", "onSite at the OMS")
    wait_until(
        lambda: any(src == "FIELD" and "vehicle entered" in c for _, src, c in cis.seen),
        "the CIS to get the field's change",
    )
    # the trouble worker cannot restore: a linked work order for the line crew with a new ERT
    clock.advance(600)
    wo = field.cannot_restore(to.number, reason="Transformer failed")
    wait_until(
        lambda: (
            wo.mrid in outage.trouble_orders
            and outage.trouble_orders[wo.mrid].status == "dispatched"
        ),
        "the work order at the OMS",
    )
    assert outage.trouble_orders[to.mrid].status == "fieldComplete"
    assert outage.trouble_orders[to.mrid].work_order == wo.mrid
    assert (
        outage.trouble_orders[wo.mrid].crew == "LINE-01"
        and outage.ert == wo.ert
        and outage.ert_source == "WMS"
    )
    # the line crew is prompted to validate the ERT 30 minutes before it (D11-5)
    clock.advance_to(wo.ert - timedelta(minutes=30))
    assert [p["order"] for p in field.prompts] == [wo.number]
    field.move_vehicle("LINE-01", *wo.site)
    field.restored(wo.number)
    wait_until(lambda: outage.status == "closed", "verification and closure")
    assert sorted(hes.pinged) == sorted(m.meter for m in specs)
    wait_until(lambda: wo.closed and to.closed, "FIELD to close its orders")
    assert field.latency_summary()["dispatch"]["all_within_target"]


def test_field_dropping_deliveries_leaves_the_order_without_a_crew(sim_world) -> None:
    clock, hes, oms, field, _ = sims(sim_world)
    field.faults.set(drop=1.0)
    specs = sorted(oms.profile.meters_of(transformer="XFMR-02-002"), key=lambda m: m.esiid)[:2]
    outage = confirm(clock, hes, oms, specs)
    (order,) = outage.trouble_orders.values()
    wait_until(lambda: field.faults.counts["drop"] >= 1, "FIELD to drop the record")
    assert field.orders == {} and order.status == "awaitingCrewAssignment"
    # once the field is reachable again, the next record (a customer call joins) dispatches it
    field.faults.clear()
    clock.advance(60)
    (other,) = [
        m
        for m in oms.profile.meters_of(transformer="XFMR-02-002")
        if m.esiid not in {s.esiid for s in specs}
    ][:1]
    oms.report_call(other.esiid)
    wait_until(lambda: order.status == "dispatched", "the dispatch after recovery")
    assert len(outage.meters) == 3
