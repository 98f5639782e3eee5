"""The DCC simulator on the bus (DCC-1, DCC-3, DCC-5), embedded and RabbitMQ: a supplier's
requests routed to the DCC are authorised against the registration and forwarded to a stub
head-end through cimbus (or refused with 3.2); the change-of-supplier read reaches both
suppliers through a subscription; an alarm from the head-end comes back addressed to the
supplier; a fault knob on the head-end (no_reply) turns the answer into a timeout failure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cim_models.codes import controls, events
from simulators._core import E, Incoming, SimClock, Simulator, event, request, text
from simulators.dcc import Dcc
from tests.unit.simulators.stubs import RegisterHes, wait_for

pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.sim_fixtures"]

T0 = "2026-05-12T09:00:00-05:00"


class StubHes(RegisterHes):
    """Answers register reads and controls; publishes events on demand."""

    value = "31415.926"

    def alarm(self, meter: str, code: str) -> None:
        ev = E.ede(
            "EndDeviceEvent",
            E.ede("createdDateTime", self.clock.now()),
            E.ede("Assets", E.ede("mRID", meter)),
            E.ede("EndDeviceEventType", ref=code),
        )
        self.send(
            event(
                "created",
                "EndDeviceEvents",
                [E.ede("EndDeviceEvents", ev)],
                source="HES",
                timestamp=self.clock.now(),
            )
        )


class Supplier(Simulator):
    """A supplier's system on the bus (bus system CIS). Its requests to the DCC are async (as
    DCC services are): cimbus accepts them at once (0.1) and the DCC's answer arrives later at
    the supplier's queue. It records the events the DCC addresses to it."""

    name = "supplier"
    system = "CIS"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events: list[Incoming] = []
        self.answers: dict[str, Incoming] = {}

    def on_event(self, incoming: Incoming) -> None:
        self.events.append(incoming)

    def on_reply(self, incoming: Incoming) -> None:
        self.answers[incoming.correlation_id or ""] = incoming

    def ask(self, body: bytes) -> Incoming:
        ack = self.request(body, timeout=20)
        assert ack.result == "OK" and ack.errors[0]["code"] == "0.1", ack.errors
        mid = Incoming.parse(body, self.codec).message_id or ""
        return wait_for(lambda: self.answers.get(mid), timeout=20)

    def read(self, party: str, meter: str) -> Incoming:
        flt = E.gmr("GetMeterReadings", E.gmr("EndDevice", E.gmr("mRID", meter)))
        return self.ask(
            request(
                "get",
                "MeterReadings",
                source="CIS",
                organization=party,
                get_filter=flt,
                start="2026-05-12T08:00:00-05:00",
                end=T0,
                async_reply=True,
                reply_address=self.client.queue,
            )
        )

    def command(self, party: str, meter: str) -> Incoming:
        ctrl = E.edc(
            "EndDeviceControls",
            E.edc(
                "EndDeviceControl",
                E.edc("mRID", f"CMD-{party}-{meter}"),
                E.edc("EndDeviceControlType", ref=controls.REMOTE_CONNECT),
                E.edc("EndDevices", E.edc("mRID", meter)),
            ),
        )
        return self.ask(
            request(
                "create",
                "EndDeviceControls",
                source="CIS",
                organization=party,
                payload=[ctrl],
                async_reply=True,
                reply_address=self.client.queue,
            )
        )


def test_dcc_serves_supplier_requests_routes_reads_and_alarms(sim_world) -> None:
    world = sim_world(
        routes=[
            # parties reach the DCC asynchronously (the DCC's own request to the head-end is
            # sync; on the embedded bus a sync request served by a sync request would wait for
            # cimbus's single inbound consumer, which is busy with the first one)
            {
                "verb": "get",
                "noun": "MeterReadings",
                "source": "CIS",
                "target": "DCC",
                "mode": "async",
                "timeout": 10,
            },
            {
                "verb": "get",
                "noun": "MeterReadings",
                "source": "DCC",
                "target": "HES",
                "timeout": 2,
            },
            {
                "verb": "create",
                "noun": "EndDeviceControls",
                "source": "CIS",
                "target": "DCC",
                "mode": "async",
                "timeout": 10,
            },
            {
                "verb": "create",
                "noun": "EndDeviceControls",
                "source": "DCC",
                "target": "HES",
                "timeout": 2,
            },
        ],
        subscriptions=[
            {"verb": "created", "noun": "MeterReadings", "source": "DCC", "subscribers": ["CIS"]},
            {"verb": "created", "noun": "EndDeviceEvents", "source": "HES", "subscribers": ["DCC"]},
            {"verb": "created", "noun": "EndDeviceEvents", "source": "DCC", "subscribers": ["CIS"]},
        ],
    )
    clock = SimClock(T0)
    dcc = world.attach(Dcc("demo", clock=clock))
    hes = world.attach(StubHes("demo", clock=clock))
    supplier = world.attach(Supplier("demo", clock=clock))
    meter = next(
        m.meter for m in dcc.profile.meters if dcc.registered_supplier(m.meter) == "SUP-ALPHA"
    )

    # DCC-5: the registered supplier's read is forwarded to the head-end and answered
    ok = supplier.read("SUP-ALPHA", meter)
    assert ok.result == "OK", ok.errors
    assert text(ok.payload[0], "mr:MeterReading/mr:Readings/mr:value") == "31415.926"
    assert [(m.source, m.organization, m.user_id) for m in hes.seen] == [
        ("DCC", "DCC", "SUP-ALPHA")
    ]
    assert supplier.command("SUP-ALPHA", meter).result == "OK"
    # another supplier is refused with 3.2, and nothing reaches the head-end
    refused = supplier.read("SUP-BETA", meter)
    assert refused.result == "FAILED" and refused.errors[0]["code"] == "3.2"
    assert meter.encode() not in refused.body
    assert supplier.command("SUP-BETA", meter).errors[0]["code"] == "3.2"
    assert len(hes.seen) == 2

    # DCC-1: the change-of-supplier read (from the head-end, through cimbus) reaches both
    sw = dcc.register_change_of_supplier(meter, "SUP-BETA", clock.now() + timedelta(hours=1))
    clock.advance(timedelta(hours=2))
    assert sw.status == "completed" and sw.read is not None and sw.read.value == 31415.926
    reads = wait_for(lambda: len(supplier.events) >= 2 and supplier.events)
    assert sorted(e.header["Property"]["Recipient"] for e in reads) == ["SUP-ALPHA", "SUP-BETA"]
    assert all((e.verb, e.noun, e.source) == ("created", "MeterReadings", "DCC") for e in reads)
    assert supplier.read("SUP-BETA", meter).result == "OK"
    assert supplier.read("SUP-ALPHA", meter).errors[0]["code"] == "3.2"

    # DCC-3: a tamper alarm from the head-end comes back addressed to the (new) supplier
    hes.alarm(meter, events.TAMPER_DETECTED)
    alarm = wait_for(lambda: [e for e in supplier.events if e.noun == "EndDeviceEvents"])
    assert alarm[0].header["Property"] == {"Recipient": "SUP-BETA", "RecipientRole": "supplier"}
    assert [a["meter"] for a in dcc.alarms("SUP-BETA")] == [meter]

    # fault knob: the head-end takes the request but never answers -> the DCC answers 4.1
    hes.faults.set(no_reply=1.0)
    late = supplier.read("SUP-BETA", meter)
    assert late.result == "FAILED" and late.errors[0]["code"] == "4.1"
    assert hes.faults.counts["no_reply"] == 1
