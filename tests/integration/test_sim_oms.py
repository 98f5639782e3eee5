"""The OMS simulator over cimbus, on the embedded bus and on RabbitMQ (D11-1, D11-3, D11-7).

A tiny stub head-end plays HES: it publishes last-gasp ``created EndDeviceEvents`` and answers the
OMS's ``create EndDeviceControls`` pings (routed async by cimbus) with ping-result events. The OMS
receives the last gasps through cimbus's subscription, publishes the outage record, which the
field simulator receives; the field's status changes reach the OMS; the OMS verifies restoration
by pinging through cimbus and closes the outage. A fault knob on the stub head-end (it drops the
pings) keeps the outage open.
"""

from __future__ import annotations

from datetime import timedelta

from cim_models.codes import acknowledgement_for, controls, events
from simulators._core import (
    NS,
    Incoming,
    SimClock,
    Simulator,
    event,
    handles,
    parse_time,
    reply,
    text,
)
from simulators.field import Field
from simulators.oms import Oms, end_device_events
from tests.waiting import wait_until

pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.sim_fixtures"]

T0 = parse_time("2026-05-12T09:00:00-05:00")

ROUTES = [
    {"verb": "create", "noun": "EndDeviceControls", "target": "HES", "mode": "async", "timeout": 10}
]
SUBSCRIPTIONS = [
    {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["OMS"]},
    {"verb": "created", "noun": "OutageRecords", "subscribers": ["FIELD", "CRM"]},
    {"verb": "changed", "noun": "OutageRecords", "subscribers": ["OMS", "FIELD", "CRM"]},
    {"verb": "closed", "noun": "OutageRecords", "subscribers": ["FIELD", "CRM"]},
]
SYSTEMS = ("HES", "OMS", "FIELD", "CRM")


class StubHes(Simulator):
    """Plays the head-end: last gasps on demand; answers pings with the ping-result event
    (3.26.17.44 energised, 3.26.17.79 for a meter in ``off``) and an OK reply."""

    name = "stub-hes"
    system = "HES"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.off: set[str] = set()
        self.pinged: list[str] = []

    def last_gasp(self, specs: list) -> None:
        payload = end_device_events(
            [(m.meter, m.esiid, events.LAST_GASP, self.clock.now()) for m in specs]
        )
        self.send(
            event(
                "created",
                "EndDeviceEvents",
                [payload],
                source=self.system,
                timestamp=self.clock.now(),
            )
        )

    @handles("create", "EndDeviceControls")
    def controls(self, msg: Incoming) -> bytes:
        for ctl in msg.payload[0].findall("edc:EndDeviceControl", NS):
            if ctl.find("edc:EndDeviceControlType", NS).get("ref") != controls.POWER_STATUS_PING:
                continue
            meter = text(ctl, "edc:EndDevices/edc:mRID")
            spec = self.profile.meter(meter)
            self.pinged.append(meter)
            outcome = "error" if meter in self.off else "processed"
            payload = end_device_events(
                [
                    (
                        meter,
                        spec.esiid,
                        acknowledgement_for(controls.POWER_STATUS_PING, outcome),
                        self.clock.now(),
                    )
                ],
                tracking_id=text(ctl, "edc:mRID"),
            )
            self.send(
                event(
                    "created",
                    "EndDeviceEvents",
                    [payload],
                    source=self.system,
                    timestamp=self.clock.now(),
                )
            )
        return reply(msg, source=self.system)


class Recorder(Simulator):
    """A subscriber that only records what it receives (plays CRM)."""

    name = "recorder"
    system = "CRM"


def world_with_sims(sim_world):
    world = sim_world(routes=ROUTES, subscriptions=SUBSCRIPTIONS, systems=SYSTEMS)
    clock = SimClock(T0)
    hes = world.attach(StubHes("demo", clock=clock))
    oms = world.attach(Oms("demo", clock=clock))
    field = world.attach(Field("demo", clock=clock))
    crm = world.attach(Recorder("demo", clock=clock))
    return clock, hes, oms, field, crm


def confirm(clock: SimClock, hes: StubHes, oms: Oms, specs: list):
    hes.last_gasp(specs)
    wait_until(
        lambda: oms.received("created", "EndDeviceEvents"), "the last gasps to reach the OMS"
    )
    clock.advance(oms.config.confirm_window_s)
    wait_until(lambda: oms.outages, "the outage record")
    return next(iter(oms.outages.values()))


def test_outage_from_last_gasps_to_verified_restoration(sim_world) -> None:
    clock, hes, oms, field, crm = world_with_sims(sim_world)
    specs = sorted(oms.profile.meters_of(transformer="XFMR-01-001"), key=lambda m: m.esiid)[:3]
    outage = confirm(clock, hes, oms, specs)
    assert outage.magnitude == "neighbourhood" and len(outage.meters) == 3
    # the published record reaches FIELD, which dispatches a crew; the change reaches the OMS
    wait_until(lambda: field.orders, "FIELD to receive the trouble order")
    order = next(iter(field.orders.values()))
    assert order.outage == outage.mrid and order.crew == "TRBL-01"
    to = outage.trouble_orders[order.mrid]
    wait_until(lambda: to.status == "dispatched", "the dispatch to reach the OMS")
    wait_until(
        lambda: (
            crm.received("created", "OutageRecords") and crm.received("changed", "OutageRecords")
        ),
        "CRM to see the record",
    )
    # the worker drives to the site: the geofence sets onSite, the OMS re-publishes
    field.en_route(order.number)
    field.move_vehicle(order.crew, *order.site)
    wait_until(lambda: to.status == "onSite", "onSite to reach the OMS")
    ert = clock.now() + timedelta(minutes=50)
    field.set_ert(order.number, ert)
    wait_until(lambda: outage.ert == ert, "the field ERT to reach the OMS")
    # restored: the OMS pings every meter through cimbus and closes when all answer
    field.restored(order.number, cause="Blown fuse on the lateral")
    wait_until(lambda: outage.status == "closed", "the outage to be verified and closed")
    assert sorted(hes.pinged) == sorted(m.meter for m in specs)
    assert outage.cause == "Blown fuse on the lateral" and outage.actual_end is not None
    wait_until(lambda: order.closed, "FIELD to learn the outage is closed")
    wait_until(lambda: crm.received("closed", "OutageRecords"), "CRM to see the closed record")
    # every status change left the field in well under a second of wall-clock time (D11-10)
    assert field.latency_summary()["update"]["max_wall_latency_ms"] < 1000


def test_head_end_dropping_the_pings_keeps_the_outage_open(sim_world) -> None:
    clock, hes, oms, field, _ = world_with_sims(sim_world)
    specs = sorted(oms.profile.meters_of(transformer="XFMR-02-001"), key=lambda m: m.esiid)[:2]
    outage = confirm(clock, hes, oms, specs)
    wait_until(lambda: field.orders, "FIELD to receive the trouble order")
    order = next(iter(field.orders.values()))
    field.on_site(order.number)
    hes.faults.set(drop=1.0)  # the head-end ignores what cimbus routes to it
    field.restored(order.number)
    wait_until(
        lambda: hes.faults.counts["drop"] == 2,
        "both pings to reach (and be dropped by) the head-end",
    )
    clock.advance(oms.config.ping_timeout_s)  # nobody answers
    assert outage.status == "confirmed" and len(outage.off()) == 2 and hes.pinged == []
    last = Incoming.parse(oms.sent[-1], oms.codec)
    assert last.verb == "changed" and "2 of 2 meters still without power" in last.header["Comment"]
    # back to normal, one meter still has no power: the outage stays partly open
    hes.faults.clear()
    hes.off = {specs[1].meter}
    oms.verify(outage.number)
    wait_until(lambda: outage.rounds[-1].finished is not None, "the second verification round")
    assert outage.status == "partiallyRestored" and [m.esiid for m in outage.off()] == [
        specs[1].esiid
    ]
    # and when it answers too, the outage closes
    hes.off = set()
    oms.verify(outage.number)
    wait_until(lambda: outage.status == "closed", "the outage to close")
