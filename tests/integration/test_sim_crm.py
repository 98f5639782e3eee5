"""The CRM simulator on the bus (D11-2, D11-8, B2-6), embedded and RabbitMQ: OutageRecords from
a stub OMS reach it through cimbus's subscriptions and fill its outboxes; its in-home display
messages travel through cimbus (async route) to a stub head-end, whose reply and display event
come back; a fault knob (drop) demonstrably loses a notification."""

from __future__ import annotations

import time
from typing import Any

from cim_models.codec import Codec
from cim_models.codes import controls, events
from simulators._core import E, Incoming, SimClock, Simulator, event, handles, reply, text
from simulators.crm import Crm
from tests.unit.simulators.stubs import wait_for

pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.sim_fixtures"]

OR = getattr(E, "or")
GOLDEN = "10443720001234567"  # CUST-GOLDEN: outage on IHD + SMS, one e-mail receiver
OTHER = "10443720000000003"  # CUST-0003: the generated default (IHD), meter AMS-0003 has a display
EDC = {"edc": "http://iec.ch/TC57/2011/EndDeviceControls#"}


class StubOms(Simulator):
    """Publishes outage records, as the OMS would."""

    name = "stub-oms"
    system = "OMS"

    def publish(self, verb: str, rec: Any) -> None:
        body = event(
            verb,
            "OutageRecords",
            [OR("OutageRecords", rec)],
            source="OMS",
            timestamp=self.clock.now(),
        )
        Codec().decode(body)
        self.send(body)


class StubHes(Simulator):
    """Accepts display messages and reports each one displayed (created EndDeviceEvents)."""

    name = "stub-hes"
    system = "HES"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.controls: list[Incoming] = []

    @handles("create", "EndDeviceControls")
    def create(self, msg: Incoming) -> bytes:
        self.controls.append(msg)
        ctrl = msg.payload[0].find("edc:EndDeviceControl", EDC)
        shown = E.ede(
            "EndDeviceEvents",
            E.ede(
                "EndDeviceEvent",
                E.ede("createdDateTime", self.clock.now()),
                E.ede("issuerTrackingID", text(ctrl, "edc:mRID")),
                E.ede("Assets", E.ede("mRID", text(ctrl, "edc:EndDevices/edc:mRID"))),
                E.ede("EndDeviceEventType", ref=events.IHD_TEXT_MESSAGE_DISPLAYED),
            ),
        )
        self.send(
            event("created", "EndDeviceEvents", [shown], source="HES", timestamp=self.clock.now())
        )
        return reply(msg, source="HES")


def record(
    mrid: str, esiids: list[str], *, status: str = "confirmed", cause: str | None = None
) -> Any:
    return OR(
        "OutageRecord",
        OR("mRID", mrid),
        OR("magnitude", "neighbourhood"),
        OR("statusKind", status),
        OR(
            "UnplannedOutage",
            OR("cause", cause) if cause else None,
            OR("reportedStartTime", "2026-05-12T08:30:00-05:00"),
        ),
        OR("contactPhone", OR("ituPhone", "+18005550142")),
        [
            OR("UsagePoints", OR("Names", OR("name", e), OR("NameType", OR("name", "ESIID"))))
            for e in esiids
        ],
    )


def test_crm_notifies_from_oms_records_and_sends_ihd_messages_through_cimbus(sim_world) -> None:
    world = sim_world(
        routes=[
            {
                "verb": "create",
                "noun": "EndDeviceControls",
                "target": "HES",
                "mode": "async",
                "timeout": 10,
            }
        ],
        subscriptions=[
            {"verb": "created", "noun": "OutageRecords", "subscribers": ["CRM"]},
            {"verb": "changed", "noun": "OutageRecords", "subscribers": ["CRM"]},
            {"verb": "closed", "noun": "OutageRecords", "subscribers": ["CRM"]},
            {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["CRM"]},
        ],
    )
    clock = SimClock("2026-05-12T09:00:00-05:00")
    crm = world.attach(Crm("demo", clock=clock))
    hes = world.attach(StubHes("demo", clock=clock))
    oms = world.attach(StubOms("demo", clock=clock))

    # D11-2: the created record reaches the CRM through cimbus's subscription
    oms.publish("created", record("OUT-1", [GOLDEN, OTHER]))
    wait_for(lambda: len(crm.outbox("IHD")) == 2)
    assert {n.customer for n in crm.outbox("IHD")} == {"CUST-GOLDEN", "CUST-0003"}
    assert [n.receiver for n in crm.outbox("SMS")] == ["+15125550100"]
    assert [n.receiver for n in crm.outbox("EMAIL")] == ["facilities@example.invalid"]
    assert "+18005550142" in crm.outbox("SMS")[0].text

    # B2-6 / D11 req. 5: each IHD message went through cimbus to the head-end, as a control
    wait_for(lambda: len(hes.controls) == 2)
    for msg in hes.controls:
        assert msg.source == "CRM"
        ctrl = msg.payload[0].find("edc:EndDeviceControl", EDC)
        assert ctrl.find("edc:EndDeviceControlType", EDC).get("ref") == controls.IHD_TEXT_MESSAGE
        assert "we are aware of a power outage" in text(ctrl, "edc:PanDisplay/edc:textMessage")
    # the async reply came back to the CRM's queue, and the display event after it
    wait_for(lambda: all(n.delivery == "displayed" for n in crm.outbox("IHD")))

    # fault knob: the CRM drops what it receives -> the restoration is never notified
    crm.faults.set(drop=1.0)
    oms.publish(
        "changed", record("OUT-1", [GOLDEN, OTHER], status="restored", cause="a fallen tree")
    )
    wait_for(lambda: crm.faults.counts["drop"] >= 1)
    time.sleep(0.3)
    assert not [n for n in crm.notifications() if n.kind == "restoration"]

    # back to normal: the closing record brings "power restored" with cause and apology (D11-8)
    crm.faults.clear()
    oms.publish("closed", record("OUT-1", [GOLDEN, OTHER], status="closed", cause="a fallen tree"))
    restored = wait_for(
        lambda: [n for n in crm.notifications("CUST-0003") if n.kind == "restoration"]
    )
    assert "Cause: a fallen tree" in restored[0].text and "apologise" in restored[0].text
