"""The CRM simulator: who is notified of what, on which channel, with which words (D11-2,
D11-4, D11-8, D11-9, D11-11, B2-6). Driven with the manual SimClock; OutageRecords events are fed
to ``Crm.handle`` as cimbus would deliver them; the head-end is a loop-back client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cim_models.build import ReplyError
from cim_models.codec import Codec
from cim_models.codes import acknowledgement_for, controls, events
from simulators import SIMULATORS
from simulators._core import E, Incoming, SimClock, event, parse_time, reply, text
from simulators._core.profile import profile_from_mapping
from simulators.crm import Crm, PreferenceError, PreferenceNotAllowed
from tests.unit.simulators.stubs import device_event

T0 = "2026-05-14T16:00:00-05:00"
OR = getattr(E, "or")  # "or" is a Python keyword
CODEC = Codec()

PROFILE = {
    "profile": {"name": "crm-test", "start": T0, "timezone": "America/Chicago", "seed": 3},
    "organizations": [
        {"id": "TDSP-T", "name": "Test Wires Co.", "role": "TDSP", "system": "HES"},
    ],
    "meters": [
        {
            "esiid": "10443720000000001",
            "meter": "M-1",
            "customer": "C-DEFAULT",
            "han_ihd": True,
            "premise": "1 Oak St",
        },
        {
            "esiid": "10443720000000002",
            "meter": "M-2",
            "customer": "C-MULTI",
            "han_ihd": True,
            "premise": "2 Oak St",
        },
        {
            "esiid": "10443720000000003",
            "meter": "M-3",
            "customer": "C-RESTORE",
            "han_ihd": True,
            "premise": "3 Oak St",
        },
        {
            "esiid": "10443720000000004",
            "meter": "M-4",
            "customer": "C-OPTOUT",
            "han_ihd": True,
            "premise": "4 Oak St",
        },
        {
            "esiid": "10443720000000005",
            "meter": "M-5",
            "customer": "C-NOIHD",
            "han_ihd": False,
            "premise": "5 Oak St",
        },
        {
            "esiid": "10443720000000006",
            "meter": "M-6",
            "customer": "C-SHOP",
            "han_ihd": False,
            "premise": "6 Main St",
            "load_shape": "small_commercial",
        },
        {
            "esiid": "10443720000000007",
            "meter": "M-7",
            "customer": "C-ETR",
            "han_ihd": False,
            "premise": "7 Oak St",
        },
    ],
    "customers": [
        {"id": "C-DEFAULT", "name": "Ann Default", "account": "A-1", "phone": "+15125550001"},
        {
            "id": "C-MULTI",
            "name": "Maria Multi",
            "account": "A-2",
            "phone": "+15125550002",
            "email": "maria@example.invalid",
            "preferences": {
                "outage": ["IHD", "SMS"],
                "etr": ["SMS"],
                "restoration": ["IHD", "EMAIL"],
                "planned": ["EMAIL"],
                "status": ["SMS"],
            },
            "receivers": ["daughter@example.invalid", "+15125559999"],
        },
        {
            "id": "C-RESTORE",
            "name": "Rita Restore",
            "account": "A-3",
            "phone": "+15125550003",
            "preferences": {"restoration": ["SMS"]},
        },
        {
            "id": "C-OPTOUT",
            "name": "Otto Out",
            "account": "A-4",
            "phone": "+15125550004",
            "opt_in": False,
        },
        {
            "id": "C-NOIHD",
            "name": "Nina NoDisplay",
            "account": "A-5",
            "phone": "+15125550005",
            "preferences": {"outage": ["IHD"], "restoration": ["IHD"], "limit": ["IHD"]},
        },
        {"id": "C-SHOP", "name": "Corner Shop", "account": "A-6", "email": "shop@example.invalid"},
        {
            "id": "C-ETR",
            "name": "Eddie Etr",
            "account": "A-7",
            "phone": "+15125550007",
            "preferences": {"etr": ["SMS"]},
        },
    ],
    "crm": {"info_phone": "+1-800-555-0100"},
}
ESIID = {
    c: f"1044372000000000{i}"
    for i, c in enumerate(
        ["C-DEFAULT", "C-MULTI", "C-RESTORE", "C-OPTOUT", "C-NOIHD", "C-SHOP", "C-ETR"], start=1
    )
}


# ------------------------------------------------------------------ helpers
class LoopClient:
    """Stands in for cimbus: requests go to ``answer``; async replies are fed back by tests."""

    queue = "cimbus.system.CRM"

    def __init__(self, answer: Callable[[bytes], bytes]) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.sent: list[bytes] = []

    def request(self, body: bytes, timeout: float = 30.0) -> bytes:
        CODEC.decode(body)  # everything the CRM sends validates against the project XSDs
        self.requests.append(body)
        return self.answer(body)

    def send(self, body: bytes) -> None:
        self.sent.append(body)

    def serve(self, handler: Any) -> None:
        pass

    def close(self) -> None:
        pass


def accepted(body: bytes) -> bytes:
    """cimbus's immediate answer to an async request (Result OK, code 0.1)."""
    incoming = Incoming.parse(body, CODEC)
    return reply(
        incoming, source="CIMBUS", errors=[ReplyError("0.1", "INFORM", "accepted for HES")]
    )


def make_crm(
    answer: Callable[[bytes], bytes] = accepted, **overrides: Any
) -> tuple[Crm, LoopClient]:
    data = {**PROFILE, **overrides}
    crm = Crm(profile_from_mapping(data), clock=SimClock(T0))
    client = LoopClient(answer)
    crm.client = client
    return crm, client


def names(value: str, kind: str) -> Any:
    return OR("Names", OR("name", value), OR("NameType", OR("name", kind)))


def record(
    mrid: str,
    esiids: list[str],
    *,
    status: str = "confirmed",
    magnitude: str = "neighbourhood",
    ert: str | None = None,
    cause: str | None = None,
    cause_kind: str | None = None,
    planned: tuple[str, str, str] | None = None,
    start: str | None = None,
    end: str | None = None,
    phone: str | None = None,
    trouble_orders: tuple[tuple[str, str], ...] = (),
) -> Any:
    kind = (
        OR(
            "PlannedOutage",
            OR("reason", planned[0]),
            OR("plannedPeriod", OR("end", planned[2]), OR("start", planned[1])),
        )
        if planned
        else OR(
            "UnplannedOutage",
            OR("cause", cause) if cause else None,
            OR("causeKind", cause_kind) if cause_kind else None,
        )
    )
    period = None
    if start or end:
        period = OR(
            "actualPeriod", OR("end", end) if end else None, OR("start", start) if start else None
        )
    return OR(
        "OutageRecord",
        OR("mRID", mrid),
        OR("magnitude", magnitude),
        OR("statusKind", status),
        kind,
        period,
        OR("contactPhone", OR("ituPhone", phone)) if phone else None,
        OR("EstimatedRestorationTime", OR("ert", ert)) if ert else None,
        names(f"OUT-{mrid}", "OutageNumber"),
        [OR("TroubleOrders", OR("mRID", to), OR("status", st)) for to, st in trouble_orders],
        [OR("UsagePoints", names(e, "ESIID")) for e in esiids],
    )


def publish(crm: Crm, verb: str, rec: Any, *, source: str = "OMS") -> bytes:
    body = event(
        verb, "OutageRecords", [OR("OutageRecords", rec)], source=source, timestamp=crm.clock.now()
    )
    CODEC.decode(body)
    assert crm.handle(body) is None  # events are not answered
    return body


def kinds(crm: Crm, customer: str) -> list[tuple[str, str]]:
    return [(n.kind, n.channel) for n in crm.notifications(customer) if not n.extra_receiver]


# ------------------------------------------------------------------ catalogue
def test_catalogue_entry_loads_the_crm() -> None:
    cls = SIMULATORS["crm"].load()
    assert cls is Crm and Crm.name == "crm" and Crm.system == "CRM"
    assert set(Crm.requirements) == set(SIMULATORS["crm"].requirements)


# ------------------------------------------------------------------ D11-2 who, where, what
def test_new_outage_notifies_on_preferred_channels_with_magnitude_and_phone() -> None:
    """D11-2: customers of the affected usage points, on their channels (IHD by default;
    several channels; several receivers), with magnitude and a phone number; each logged."""
    crm, client = make_crm()
    publish(
        crm,
        "created",
        record(
            "O1",
            [ESIID["C-DEFAULT"], ESIID["C-MULTI"]],
            phone="+18005550142",
            ert="2026-05-14T19:30:00-05:00",
        ),
    )

    # no preferences at all -> the in-home display (D11 req. 12)
    assert kinds(crm, "C-DEFAULT") == [("outage", "IHD")]
    # several channels for one type, and two extra receivers with their own channel
    multi = crm.notifications("C-MULTI")
    assert [(n.kind, n.channel, n.receiver) for n in multi] == [
        ("outage", "IHD", "M-2"),
        ("outage", "SMS", "+15125550002"),
        ("outage", "EMAIL", "daughter@example.invalid"),
        ("outage", "SMS", "+15125559999"),
    ]  # the ERT was in the outage notice: it counts as told, no separate ERT message
    assert [n.extra_receiver for n in multi[:4]] == [False, False, True, True]
    first = multi[0].text
    assert "neighbourhood outage" in first and "+18005550142" in first and "2 Oak St" in first
    assert "19:30" in first  # the ERT known at creation
    # one outbox per channel records everything, with customer, receiver, type, time, outage
    ihd = crm.outbox("IHD")
    assert {n.customer for n in ihd} == {"C-DEFAULT", "C-MULTI"}
    assert all(n.outage == "O1" and n.at == "2026-05-14T16:00:00-05:00" for n in ihd)
    assert (
        len(crm.outbox("sms")) == 2 and len(crm.outbox("EMAIL")) == 1 and crm.outbox("PHONE") == []
    )
    assert len(client.requests) == 2  # one IHD control per display


def test_info_phone_comes_from_the_profile_when_the_record_has_none() -> None:
    crm, _ = make_crm()
    publish(crm, "created", record("O1", [ESIID["C-DEFAULT"]], magnitude="isolated"))
    (n,) = crm.notifications("C-DEFAULT")
    assert "+1-800-555-0100" in n.text and "isolated outage" in n.text


def test_opted_out_customer_gets_nothing_and_the_decision_is_kept() -> None:
    """D11 business rule: only customers who opted in get proactive notifications."""
    crm, client = make_crm()
    publish(crm, "created", record("O1", [ESIID["C-OPTOUT"]], ert="2026-05-14T19:30:00-05:00"))
    publish(crm, "closed", record("O1", [ESIID["C-OPTOUT"]], status="closed"))
    assert crm.notifications("C-OPTOUT") == []
    assert client.requests == []
    assert {s["reason"] for s in crm.skipped if s["customer"] == "C-OPTOUT"} == {
        "opted out of proactive notifications"
    }


def test_unknown_usage_points_are_ignored() -> None:
    crm, _ = make_crm()
    publish(crm, "created", record("O1", ["99999999999999999", ESIID["C-DEFAULT"]]))
    assert len(crm.notifications()) == 1


def test_a_duplicate_event_does_not_notify_twice() -> None:
    crm, _ = make_crm()
    body = publish(crm, "created", record("O1", [ESIID["C-DEFAULT"]]))
    crm.handle(body)  # same MessageID delivered again
    publish(crm, "created", record("O1", [ESIID["C-DEFAULT"]]))  # same facts, new MessageID
    assert kinds(crm, "C-DEFAULT") == [("outage", "IHD")]


# ------------------------------------------------------------------ D11-4 ERT rule, types
@pytest.mark.parametrize(
    ("minutes", "notified"), [(29, False), (30, False), (31, True), (-31, True), (-29, False)]
)
def test_ert_change_is_told_only_when_it_moves_more_than_30_minutes(
    minutes: int, notified: bool
) -> None:
    """D11-4: ERT updates only when the ERT moves by more than 30 minutes."""
    crm, _ = make_crm()
    first = parse_time("2026-05-14T19:30:00-05:00")
    publish(crm, "created", record("O1", [ESIID["C-ETR"]], ert=first.isoformat()))
    assert kinds(crm, "C-ETR") == [("etr", "SMS")]
    publish(
        crm,
        "changed",
        record("O1", [ESIID["C-ETR"]], ert=(first + timedelta(minutes=minutes)).isoformat()),
    )
    assert len(kinds(crm, "C-ETR")) == (2 if notified else 1)
    if notified:
        latest = crm.notifications("C-ETR")[-1].text
        assert "previously 19:30" in latest


def test_ert_rule_compares_with_the_last_ert_that_customer_was_told() -> None:
    """Small steps add up: 19:30 told; 19:50 (20 min) not told; 20:05 is 35 min from 19:30."""
    crm, _ = make_crm()
    publish(crm, "created", record("O1", [ESIID["C-ETR"]], ert="2026-05-14T19:30:00-05:00"))
    publish(crm, "changed", record("O1", [ESIID["C-ETR"]], ert="2026-05-14T19:50:00-05:00"))
    assert len(crm.notifications("C-ETR")) == 1
    assert any("ERT moved by 20 min" in s["reason"] for s in crm.skipped)
    publish(crm, "changed", record("O1", [ESIID["C-ETR"]], ert="2026-05-14T20:05:00-05:00"))
    texts = [n.text for n in crm.notifications("C-ETR")]
    assert len(texts) == 2 and "previously 19:30" in texts[1] and "20:05" in texts[1]


def test_restoration_only_customer_gets_only_the_restored_message() -> None:
    """D11-4: notification by type, e.g. "restoration only"."""
    crm, _ = make_crm()
    up = [ESIID["C-RESTORE"]]
    publish(
        crm,
        "created",
        record("O1", up, ert="2026-05-14T19:30:00-05:00", trouble_orders=(("TO-1", "dispatched"),)),
    )
    publish(
        crm,
        "changed",
        record("O1", up, ert="2026-05-14T21:30:00-05:00", trouble_orders=(("TO-1", "enRoute"),)),
    )
    publish(crm, "changed", record("O1", up, trouble_orders=(("TO-1", "onSite"),)))
    assert crm.notifications("C-RESTORE") == []
    publish(
        crm,
        "changed",
        record(
            "O1",
            up,
            status="restored",
            end="2026-05-14T18:10:00-05:00",
            start="2026-05-14T15:40:00-05:00",
        ),
    )
    assert kinds(crm, "C-RESTORE") == [("restoration", "SMS")]


def test_status_changes_go_to_customers_who_want_them() -> None:
    """Trouble order en route / on site (D11 scenario 1 steps 5, 7): C-MULTI asked for status
    on SMS; C-DEFAULT (no preferences) gets them on the IHD; known statuses are not repeated."""
    crm, _ = make_crm()
    ups = [ESIID["C-MULTI"], ESIID["C-DEFAULT"]]
    publish(crm, "created", record("O1", ups, trouble_orders=(("TO-1", "dispatched"),)))
    assert "A crew has been dispatched" in crm.notifications("C-DEFAULT")[0].text
    publish(
        crm, "changed", record("O1", ups, trouble_orders=(("TO-1", "enRoute"),)), source="FIELD"
    )
    publish(
        crm, "changed", record("O1", ups, trouble_orders=(("TO-1", "enRoute"),))
    )  # OMS re-publishes
    publish(crm, "changed", record("O1", ups, trouble_orders=(("TO-1", "onSite"),)))
    status = [
        n for n in crm.notifications("C-MULTI") if n.kind == "status" and not n.extra_receiver
    ]
    assert [(n.channel, "on the way" in n.text, "arrived" in n.text) for n in status] == [
        ("SMS", True, False),
        ("SMS", False, True),
    ]
    assert [k for k in kinds(crm, "C-DEFAULT")] == [
        ("outage", "IHD"),
        ("status", "IHD"),
        ("status", "IHD"),
    ]


# ------------------------------------------------------------------ D11-8 restored
def test_power_restored_message_has_cause_duration_and_apology() -> None:
    """D11-8: "power restored" with outage cause, duration and an apology, once."""
    crm, _ = make_crm()
    up = [ESIID["C-DEFAULT"]]
    publish(crm, "created", record("O1", up, start="2026-05-14T15:40:00-05:00"))
    crm.clock.advance(timedelta(hours=2))
    publish(
        crm,
        "changed",
        record(
            "O1",
            up,
            status="restored",
            cause_kind="treeDown",
            start="2026-05-14T15:40:00-05:00",
            end="2026-05-14T17:55:00-05:00",
        ),
    )
    publish(crm, "closed", record("O1", up, status="closed", cause_kind="treeDown"))
    restored = [n for n in crm.notifications("C-DEFAULT") if n.kind == "restoration"]
    assert len(restored) == 1
    msg = restored[0].text
    assert "power has been restored at 1 Oak St" in msg
    assert "Cause: a fallen tree" in msg
    assert "lasted 2 h 15 min" in msg
    assert "We apologise for the inconvenience" in msg
    assert crm.outages["O1"].closed


def test_restored_message_uses_free_text_cause_and_the_clock_when_no_end_is_given() -> None:
    crm, _ = make_crm()
    up = [ESIID["C-DEFAULT"]]
    publish(crm, "created", record("O1", up, start="2026-05-14T15:30:00-05:00"))
    crm.clock.advance(timedelta(minutes=45))  # now 16:45 local
    publish(crm, "closed", record("O1", up, status="closed", cause="Blown fuse on the lateral"))
    msg = crm.notifications("C-DEFAULT")[-1].text
    assert "Cause: Blown fuse on the lateral." in msg and "lasted 1 h 15 min" in msg


def test_partial_restoration_notifies_the_usage_points_no_longer_out() -> None:
    crm, _ = make_crm()
    publish(crm, "created", record("O1", [ESIID["C-DEFAULT"], ESIID["C-RESTORE"]]))
    publish(crm, "changed", record("O1", [ESIID["C-DEFAULT"]], status="partiallyRestored"))
    assert kinds(crm, "C-RESTORE") == [("restoration", "SMS")]
    assert [k for k, _ in kinds(crm, "C-DEFAULT")] == ["outage"]
    publish(crm, "closed", record("O1", [ESIID["C-DEFAULT"]], status="closed"))
    assert [k for k, _ in kinds(crm, "C-DEFAULT")] == ["outage", "restoration"]
    assert kinds(crm, "C-RESTORE") == [("restoration", "SMS")]


# ------------------------------------------------------------------ D11-9 planned
def test_planned_outage_advance_notice_then_the_unplanned_flow() -> None:
    """D11-9: advance notice with date, time and reason; at the start the same flow."""
    crm, _ = make_crm()
    ups = [ESIID["C-MULTI"], ESIID["C-DEFAULT"]]
    planned = (
        "replacing the transformer on Oak St",
        "2026-05-19T09:00:00-05:00",
        "2026-05-19T13:00:00-05:00",
    )
    publish(crm, "created", record("P1", ups, status="predicted", planned=planned))
    (notice,) = [n for n in crm.notifications("C-MULTI") if not n.extra_receiver]
    assert (notice.kind, notice.channel) == ("planned", "EMAIL")
    assert "Tue 19 May 2026 09:00 CDT until 13:00 CDT" in notice.text
    assert "Reason: replacing the transformer on Oak St" in notice.text
    assert kinds(crm, "C-DEFAULT") == [("planned", "IHD")]
    # a day later nothing new: still in advance
    crm.clock.advance(timedelta(days=1))
    publish(crm, "changed", record("P1", ups, status="predicted", planned=planned))
    assert kinds(crm, "C-DEFAULT") == [("planned", "IHD")]
    # the outage starts: onset notice with ERT (D11-9 scenario 2 step 5), then restored
    crm.clock.advance_to("2026-05-19T09:05:00-05:00")
    publish(
        crm,
        "changed",
        record(
            "P1",
            ups,
            planned=planned,
            start="2026-05-19T09:02:00-05:00",
            ert="2026-05-19T13:00:00-05:00",
        ),
    )
    onset = crm.notifications("C-DEFAULT")[-1]
    assert (
        onset.kind == "outage"
        and "planned outage at 1 Oak St has started" in onset.text
        and "13:00" in onset.text
    )
    publish(
        crm,
        "closed",
        record(
            "P1",
            ups,
            status="closed",
            planned=planned,
            start="2026-05-19T09:02:00-05:00",
            end="2026-05-19T12:32:00-05:00",
        ),
    )
    done = crm.notifications("C-DEFAULT")[-1]
    assert (
        done.kind == "restoration" and "lasted 3 h 30 min" in done.text and "apologise" in done.text
    )
    assert "Planned work: replacing the transformer" in done.text


def test_planned_outage_confirmed_by_the_oms_has_started() -> None:
    """The OMS confirms a planned outage at its start (predicted -> confirmed): onset notice."""
    crm, _ = make_crm()
    planned = ("pole replacement", "2026-05-14T16:30:00-05:00", "2026-05-14T18:00:00-05:00")
    publish(crm, "created", record("P1", [ESIID["C-DEFAULT"]], status="predicted", planned=planned))
    publish(crm, "changed", record("P1", [ESIID["C-DEFAULT"]], status="confirmed", planned=planned))
    assert [n.kind for n in crm.notifications("C-DEFAULT")] == ["planned", "outage"]


def test_cancelled_planned_outage_is_announced() -> None:
    crm, _ = make_crm()
    planned = ("tree trimming", "2026-05-19T09:00:00-05:00", "2026-05-19T11:00:00-05:00")
    publish(crm, "created", record("P1", [ESIID["C-DEFAULT"]], status="predicted", planned=planned))
    publish(
        crm, "canceled", record("P1", [ESIID["C-DEFAULT"]], status="predicted", planned=planned)
    )
    assert [n.kind for n in crm.notifications("C-DEFAULT")] == ["planned", "planned"]
    assert "has been cancelled" in crm.notifications("C-DEFAULT")[-1].text


# ------------------------------------------------------------------ IHD and its fallback
def test_ihd_falls_back_to_the_next_usable_channel_when_the_meter_has_no_display() -> None:
    """A meter without a paired IHD: the customer's other preferred channels, then SMS, EMAIL,
    PHONE; the notification records the fallback. No control is sent to the head-end."""
    crm, client = make_crm()
    publish(crm, "created", record("O1", [ESIID["C-NOIHD"], ESIID["C-SHOP"]]))
    (n,) = crm.notifications("C-NOIHD")
    assert (n.channel, n.receiver, n.fallback_from) == ("SMS", "+15125550005", "IHD")
    (shop,) = crm.notifications("C-SHOP")  # no preferences: IHD; no display, no phone -> e-mail
    assert (shop.channel, shop.receiver, shop.fallback_from) == (
        "EMAIL",
        "shop@example.invalid",
        "IHD",
    )
    assert client.requests == []


def test_ihd_notification_becomes_an_end_device_control_for_the_head_end() -> None:
    crm, client = make_crm()
    publish(crm, "created", record("O1", [ESIID["C-DEFAULT"]]))
    (body,) = client.requests
    msg = Incoming.parse(body, CODEC)
    assert (msg.verb, msg.noun, msg.source, msg.organization) == (
        "create",
        "EndDeviceControls",
        "CRM",
        "TDSP-T",
    )
    assert msg.header.get("ReplyAddress") == "cimbus.system.CRM" and msg.header.get(
        "AsyncReplyFlag"
    ) in (True, "true")
    (ctrl,) = msg.payload[0]
    assert (
        ctrl.find(
            "edc:EndDeviceControlType", {"edc": "http://iec.ch/TC57/2011/EndDeviceControls#"}
        ).get("ref")
        == controls.IHD_TEXT_MESSAGE
    )
    assert text(ctrl, "edc:PanDisplay/edc:textMessage").startswith("Test Wires Co.: we are aware")
    assert text(ctrl, "edc:EndDevices/edc:mRID") == "M-1"
    assert text(ctrl, "edc:UsagePoints/edc:Names/edc:name") == ESIID["C-DEFAULT"]
    (n,) = crm.outbox("IHD")
    assert n.delivery == "queued" and text(ctrl, "edc:mRID") == n.control
    # the head-end's async reply arrives through serve -> on_reply
    ok = reply(msg, source="HES")
    crm.handle(ok)
    assert n.delivery == "accepted"
    # and its event says the display showed it
    shown = device_event(
        events.IHD_TEXT_MESSAGE_DISPLAYED, tracking=n.control, created=crm.clock.now()
    )
    crm.handle(shown)
    assert n.delivery == "displayed"


def test_ihd_refused_by_cimbus_or_unreachable_is_recorded() -> None:
    def refuse(body: bytes) -> bytes:
        return reply(
            Incoming.parse(body, CODEC),
            source="CIMBUS",
            result="FAILED",
            errors=[ReplyError("2.5", "FATAL", "no route")],
        )

    crm, _ = make_crm(refuse)
    publish(crm, "created", record("O1", [ESIID["C-DEFAULT"]]))
    assert crm.outbox("IHD")[0].delivery == "failed: 2.5 no route"
    crm.client = None
    publish(crm, "created", record("O2", [ESIID["C-DEFAULT"]]))
    assert crm.outbox("IHD")[1].delivery.startswith("not sent: the crm simulator is not attached")


def test_acknowledgement_error_marks_the_display_failed() -> None:
    crm, _ = make_crm()
    publish(crm, "created", record("O1", [ESIID["C-DEFAULT"]]))
    n = crm.outbox("IHD")[0]
    err = device_event(
        acknowledgement_for(controls.IHD_TEXT_MESSAGE, "error"),
        tracking=n.control,
        created=crm.clock.now(),
    )
    crm.handle(err)
    assert n.delivery.startswith("failed")


# ------------------------------------------------------------------ B2-6
def test_scheduled_turn_off_puts_date_and_time_on_the_display() -> None:
    """B2-6: before a scheduled turn-off or limit, the IHD gets the date and time."""
    crm, client = make_crm()
    made = crm.notify_scheduled_switch(
        ESIID["C-DEFAULT"], "disconnect", "2026-05-15T14:00:00-05:00"
    )
    assert [(n.channel, n.kind) for n in made] == [("IHD", "disconnect")]
    assert "scheduled to be turned off on Fri 15 May 2026 14:00 CDT" in made[0].text
    (body,) = client.requests
    assert b"Fri 15 May 2026 14:00 CDT" in body
    limit = crm.notify_scheduled_switch(
        ESIID["C-DEFAULT"], "limit", "2026-05-15T15:00:00-05:00", level=75
    )
    assert "limited to 75 % of its rated capacity from Fri 15 May 2026 15:00 CDT" in limit[0].text


def test_scheduled_switch_notice_reaches_the_display_even_after_opt_out() -> None:
    crm, _ = make_crm()
    made = crm.notify_scheduled_switch(ESIID["C-OPTOUT"], "turn-off", "2026-05-15T14:00:00-05:00")
    assert [n.channel for n in made] == ["IHD"]
    # no display and opted in: the preferred channel for "limit" is IHD -> falls back to SMS
    (n,) = crm.notify_scheduled_switch(
        ESIID["C-NOIHD"], "limit", "2026-05-15T14:00:00-05:00", level=90
    )
    assert (n.channel, n.fallback_from) == ("SMS", "IHD")
    with pytest.raises(ValueError):
        crm.notify_scheduled_switch(ESIID["C-DEFAULT"], "reboot", "2026-05-15T14:00:00-05:00")


# ------------------------------------------------------------------ D11-11 preferences
def test_preferences_updated_by_customer_csr_and_account_rep_are_logged() -> None:
    """D11-11: web interface (customer), CSR interface, commercial account representative;
    each change recorded with who made it, at simulated time."""
    crm, _ = make_crm()
    crm.update_preferences("C-DEFAULT", by="customer", preferences={"restoration": ["sms"]})
    crm.clock.advance(60)
    crm.update_preferences(
        "C-DEFAULT", by="csr", user="csr.jlee", add_receivers=["EMAIL:son@example.invalid"]
    )
    crm.clock.advance(60)
    crm.update_preferences(
        "C-SHOP",
        by="account_rep",
        user="kam.rivera",
        preferences={"outage": ["EMAIL"], "restoration": ["EMAIL"]},
        add_receivers=["+15125558888"],
    )
    history = crm.preference_history("C-DEFAULT")
    assert [(h.by, h.user, h.at) for h in history] == [
        ("customer", None, "2026-05-14T16:00:00-05:00"),
        ("csr", "csr.jlee", "2026-05-14T16:01:00-05:00"),
    ]
    assert history[0].changes["preferences"] == {"from": {}, "to": {"restoration": ["SMS"]}}
    assert history[1].changes["receivers"] == {"from": [], "to": ["EMAIL:son@example.invalid"]}
    (shop,) = crm.preference_history("C-SHOP")
    assert (shop.by, shop.user) == ("account_rep", "kam.rivera")
    # the new preferences take effect: C-DEFAULT now only wants restoration, on SMS (+ receiver)
    publish(crm, "created", record("O1", [ESIID["C-DEFAULT"], ESIID["C-SHOP"]]))
    assert crm.notifications("C-DEFAULT") == []
    publish(crm, "closed", record("O1", [ESIID["C-DEFAULT"], ESIID["C-SHOP"]], status="closed"))
    assert [(n.channel, n.receiver) for n in crm.notifications("C-DEFAULT")] == [
        ("SMS", "+15125550001"),
        ("EMAIL", "son@example.invalid"),
    ]
    assert {n.receiver for n in crm.notifications("C-SHOP")} == {
        "shop@example.invalid",
        "+15125558888",
    }


def test_account_rep_may_not_edit_a_residential_customer_and_bad_values_are_refused() -> None:
    crm, _ = make_crm()
    with pytest.raises(PreferenceNotAllowed):
        crm.update_preferences("C-DEFAULT", by="account_rep", opt_in=False)
    with pytest.raises(PreferenceError, match="unknown channel"):
        crm.update_preferences("C-DEFAULT", by="customer", preferences={"outage": ["PIGEON"]})
    with pytest.raises(PreferenceError, match="unknown notification type"):
        crm.update_preferences("C-DEFAULT", by="customer", preferences={"weather": ["SMS"]})
    with pytest.raises(PreferenceError, match="'by'"):
        crm.update_preferences("C-DEFAULT", by="hacker", opt_in=False)
    with pytest.raises(KeyError):
        crm.update_preferences("C-NOBODY", by="customer", opt_in=False)
    assert crm.preference_history("C-DEFAULT") == []


def test_opt_out_through_the_web_interface_stops_notifications() -> None:
    crm, _ = make_crm()
    crm.update_preferences("C-DEFAULT", by="customer", opt_in=False)
    publish(crm, "created", record("O1", [ESIID["C-DEFAULT"]]))
    assert crm.notifications("C-DEFAULT") == []


# ------------------------------------------------------------------ REST
def test_rest_preferences_outbox_and_notifications() -> None:
    crm, _ = make_crm()
    api = TestClient(crm.api())
    got = api.get("/customers/C-MULTI/preferences").json()
    assert got["preferences"]["outage"] == ["IHD", "SMS"] and got["effective"]["limit"] == []
    assert got["receivers"] == ["EMAIL:daughter@example.invalid", "SMS:+15125559999"]
    assert api.get("/customers/C-DEFAULT/preferences").json()["effective"]["outage"] == ["IHD"]
    r = api.put(
        "/customers/C-DEFAULT/preferences",
        json={"by": "csr", "user": "csr.ana", "preferences": {"outage": ["PHONE"]}},
    )
    assert r.status_code == 200 and r.json()["history"][0]["by"] == "csr"
    assert api.put("/customers/C-DEFAULT/preferences", json={"preferences": {}}).status_code == 422
    assert (
        api.put(
            "/customers/C-DEFAULT/preferences", json={"by": "account_rep", "opt_in": False}
        ).status_code
        == 403
    )
    assert (
        api.put(
            "/customers/C-DEFAULT/preferences", json={"by": "customer", "colour": "red"}
        ).status_code
        == 422
    )
    assert api.put("/customers/C-NOBODY/preferences", json={"by": "customer"}).status_code == 404
    publish(crm, "created", record("O1", [ESIID["C-DEFAULT"]]))
    phone = api.get("/outbox/PHONE").json()
    assert phone["count"] == 1 and phone["notifications"][0]["receiver"] == "+15125550001"
    assert api.get("/outbox/FAX").status_code == 404
    log = api.get("/customers/C-DEFAULT/notifications").json()
    assert log["count"] == 1 and log["notifications"][0]["kind"] == "outage"
    assert api.get("/outages").json()[0]["outage"] == "O1"
    sw = api.post(
        "/scheduled-switch",
        json={
            "esiid": ESIID["C-DEFAULT"],
            "kind": "limit",
            "at": "2026-05-15T08:00:00-05:00",
            "level": 90,
        },
    )
    assert sw.status_code == 200 and "90 %" in sw.json()["notifications"][0]["text"]
    assert api.get("/").json()["outboxes"]["PHONE"] == 1


# ------------------------------------------------------------------ faults, demo profile
def test_drop_fault_loses_the_outage_record() -> None:
    crm, _ = make_crm()
    crm.faults.set(drop=1.0)
    publish(crm, "created", record("O1", [ESIID["C-DEFAULT"]]))
    assert crm.notifications() == []


def test_demo_profile_customers_are_notified() -> None:
    crm = Crm("demo", clock=SimClock(T0))
    golden = "10443720001234567"
    made = crm.process_outage_records("created", [OR("OutageRecords", record("O1", [golden]))])
    assert {(n.channel, n.receiver) for n in made} == {
        ("IHD", "AMS-GOLDEN"),
        ("SMS", "+15125550100"),
        ("EMAIL", "facilities@example.invalid"),
    }
    assert "+1-800-555-0199" in made[0].text
    assert made[0].delivery.startswith("not sent")  # not attached to a bus
