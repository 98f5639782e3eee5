"""The OMS simulator (D11-1, D11-3, D11-6, D11-7, D11-9), driven with the manual SimClock and no
bus: events are handed to ``Oms.handle`` as cimbus would deliver them, and everything the OMS
sends is read back from ``Oms.sent`` and validated against the project XSDs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from cim_models.codec import Codec
from cim_models.codes import acknowledgement_for, controls, events
from simulators import SIMULATORS
from simulators._core import (
    NS,
    Incoming,
    SimClock,
    SimError,
    event,
    failed,
    iso,
    parse_time,
    reply,
    text,
)
from simulators._core.profile import profile_from_mapping
from simulators.oms import (
    Oms,
    RecordData,
    TroubleOrderData,
    end_device_events,
    outage_records,
    records_of,
)

T0 = parse_time("2026-05-12T09:00:00-05:00")
CODEC = Codec()
PING_OK = acknowledgement_for(controls.POWER_STATUS_PING, "processed")
PING_ERROR = acknowledgement_for(controls.POWER_STATUS_PING, "error")


# ---------------------------------------------------------------- helpers
def make(profile: object = "demo") -> tuple[Oms, SimClock]:
    clock = SimClock(T0)
    return Oms(profile, clock=clock), clock


def sent(oms: Oms, verb: str | None = None, noun: str | None = None) -> list[Incoming]:
    """Everything the OMS sent, each validated against its XSD (raises otherwise)."""
    out = []
    for body in oms.sent:
        CODEC.decode(body)
        msg = Incoming.parse(body, CODEC)
        if (verb is None or msg.verb == verb) and (noun is None or msg.noun == noun):
            out.append(msg)
    return out


def published(oms: Oms, verb: str | None = None) -> list[RecordData]:
    return [r for m in sent(oms, verb, "OutageRecords") for r in records_of(m.payload)]


def meters(oms: Oms, transformer: str, n: int | None = None) -> list:
    found = sorted(oms.profile.meters_of(transformer=transformer), key=lambda m: m.esiid)
    return found[:n] if n is not None else found


def hes(oms: Oms, specs: list, code: str, *, at=None, tracking: str | None = None) -> None:
    """The head-end publishes ``created EndDeviceEvents`` (one event per meter)."""
    when = at or oms.clock.now()
    payload = end_device_events(
        [(m.meter, m.esiid, code, when) for m in specs], tracking_id=tracking
    )
    assert oms.handle(event("created", "EndDeviceEvents", [payload], source="HES")) is None


def pings(oms: Oms) -> list[tuple[str, str, str]]:
    """(control mRID, meter, control type) of every ping the OMS sent."""
    out = []
    for msg in sent(oms, "create", "EndDeviceControls"):
        for ctl in msg.payload[0].findall("edc:EndDeviceControl", NS):
            type_el = ctl.find("edc:EndDeviceControlType", NS)
            out.append(
                (text(ctl, "edc:mRID"), text(ctl, "edc:EndDevices/edc:mRID"), type_el.get("ref"))
            )
    return out


def answer_pings(
    oms: Oms, controls_: list[tuple[str, str, str]], *, off: set[str] = frozenset()
) -> None:
    for mrid, meter, _ in controls_:
        spec = oms.profile.meter(meter)
        hes(oms, [spec], PING_ERROR if meter in off else PING_OK, tracking=mrid)


def field_change(
    oms: Oms, outage, *orders: TroubleOrderData, ert=None, cause=None, cause_kind=None
) -> None:
    """FIELD publishes ``changed OutageRecords`` with trouble-order entries."""
    rec = RecordData(
        mrid=outage.mrid,
        magnitude=outage.magnitude,
        status=outage.status,
        trouble_orders=list(orders),
        ert=ert,
        ert_source="Field: trouble worker TRBL-01" if ert else None,
        ert_confidence="high" if ert else None,
        cause=cause,
        cause_kind=cause_kind,
    )
    body = event(
        "changed",
        "OutageRecords",
        [outage_records([rec])],
        source="FIELD",
        timestamp=oms.clock.now(),
    )
    CODEC.decode(body)
    oms.handle(body)


def confirmed_outage(oms: Oms, clock: SimClock, specs: list):
    hes(oms, specs, events.LAST_GASP)
    clock.advance(oms.config.confirm_window_s)
    (outage,) = oms.outages.values()
    return outage


def trouble_order(outage) -> TroubleOrderData:
    return next(t for t in outage.trouble_orders.values() if t.kind == "trouble")


# ---------------------------------------------------------------- catalogue
def test_catalogue_loads_the_oms() -> None:
    cls = SIMULATORS["oms"].load()
    assert cls is Oms and cls.name == "oms" and Oms("demo").system == "OMS"


# ---------------------------------------------------------------- magnitude (D11-1)
def test_magnitude_isolated_for_one_usage_point() -> None:
    oms, _ = make()
    assert oms.classify(["10443720001234567"]) == "isolated"
    assert oms.classify(["AMS-GOLDEN"]) == "isolated"  # the meter number works too


def test_magnitude_isolated_for_one_premise() -> None:
    profile = profile_from_mapping(
        {
            "transformers": [{"id": "T1", "feeder": "F1", "neighbourhood": "N1"}],
            "meters": [
                {
                    "esiid": "10000000000000001",
                    "meter": "M1",
                    "transformer": "T1",
                    "feeder": "F1",
                    "premise": "1 Main St",
                },
                {
                    "esiid": "10000000000000002",
                    "meter": "M2",
                    "transformer": "T1",
                    "feeder": "F1",
                    "premise": "1 Main St",
                },
                {
                    "esiid": "10000000000000003",
                    "meter": "M3",
                    "transformer": "T1",
                    "feeder": "F1",
                    "premise": "3 Main St",
                },
            ],
        }
    )
    oms, _ = make(profile)
    assert oms.classify(["M1", "M2"]) == "isolated"
    assert oms.classify(["M1", "M3"]) != "isolated"


def test_magnitude_neighbourhood_for_one_transformer_or_one_neighbourhood() -> None:
    oms, _ = make()
    assert oms.classify([m.esiid for m in meters(oms, "XFMR-01-001", 3)]) == "neighbourhood"
    # XFMR-01-001 and XFMR-01-002 are both in NBH-01-01
    both = meters(oms, "XFMR-01-001", 3) + meters(oms, "XFMR-01-002", 3)
    assert oms.classify([m.esiid for m in both]) == "neighbourhood"


def test_magnitude_area_for_several_transformers_feeders_or_a_large_feeder_share() -> None:
    oms, _ = make()
    # two neighbourhoods (XFMR-01-003 is in NBH-01-02)
    two_hoods = meters(oms, "XFMR-01-001", 2) + meters(oms, "XFMR-01-003", 2)
    assert oms.classify([m.esiid for m in two_hoods]) == "area"
    two_feeders = meters(oms, "XFMR-01-001", 2) + meters(oms, "XFMR-02-001", 2)
    assert oms.classify([m.esiid for m in two_feeders]) == "area"
    # one neighbourhood, but 13 of the 19 meters of FDR-01 (share above 0.5)
    big = meters(oms, "XFMR-01-001") + meters(oms, "XFMR-01-002")
    assert len(big) == 13 and oms.classify([m.esiid for m in big]) == "area"


def test_feeder_share_threshold_comes_from_the_profile() -> None:
    base = load_demo_mapping()
    base["oms"] = {"area_feeder_share": 0.9}
    oms, _ = make(profile_from_mapping(base))
    big = meters(oms, "XFMR-01-001") + meters(oms, "XFMR-01-002")
    assert oms.classify([m.esiid for m in big]) == "neighbourhood"
    base["oms"] = {"no_such_key": 1}
    with pytest.raises(ValueError, match="no_such_key"):
        Oms(profile_from_mapping(base))


def load_demo_mapping() -> dict:
    import tomllib

    from simulators._core.profile import PROFILES_DIR

    return tomllib.loads((PROFILES_DIR / "demo.toml").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- confirmation window (D11-1)
def test_last_gasps_within_the_window_make_one_outage_record() -> None:
    oms, clock = make()
    a, b, c = meters(oms, "XFMR-01-001", 3)
    hes(oms, [a], events.LAST_GASP)
    clock.advance(60)
    hes(oms, [b, c], events.LAST_GASP)
    clock.advance(59)
    assert published(oms) == []  # not confirmed before the window closes
    clock.advance(1)
    (rec,) = published(oms, "created")
    assert rec.status == "confirmed" and rec.magnitude == "neighbourhood"
    assert rec.usage_points == [a.esiid, b.esiid, c.esiid]
    assert rec.meters_affected == 3 and rec.customers_affected == 3 and rec.original_meters == 3
    assert rec.reported_start == T0 and rec.actual_start == T0
    assert rec.contact_phone == "+18005550199"  # [crm] info_phone of the profile
    assert rec.number and rec.number.startswith("OUT-")
    (order,) = rec.trouble_orders
    assert (
        order.status == "awaitingCrewAssignment"
        and order.number.startswith("TO-")
        and order.crew is None
    )
    msg = sent(oms, "created", "OutageRecords")[0]
    assert msg.source == "OMS" and msg.header["Timestamp"] == iso(T0 + timedelta(minutes=2))


def test_contact_phone_is_written_in_parts() -> None:
    oms, clock = make()
    confirmed_outage(oms, clock, meters(oms, "XFMR-01-001", 1))
    phone = sent(oms, "created")[0].payload[0].find("or:OutageRecord/or:contactPhone", NS)
    assert [
        text(phone, f"or:{p}") for p in ("areaCode", "countryCode", "ituPhone", "localNumber")
    ] == ["800", "1", "+18005550199", "5550199"]


def test_last_gasp_after_confirmation_joins_the_outage_and_can_raise_the_magnitude() -> None:
    oms, clock = make()
    outage = confirmed_outage(oms, clock, meters(oms, "XFMR-01-001", 2))
    assert outage.magnitude == "neighbourhood"
    clock.advance(60)
    hes(oms, meters(oms, "XFMR-01-003", 2), events.LAST_GASP)  # another neighbourhood, same feeder
    assert len(oms.outages) == 1 and len(outage.meters) == 4
    (changed,) = published(oms, "changed")
    assert changed.magnitude == "area" and changed.meters_affected == 4


def test_last_gasps_on_another_feeder_make_another_outage() -> None:
    oms, clock = make()
    hes(oms, meters(oms, "XFMR-01-001", 2), events.LAST_GASP)
    hes(oms, meters(oms, "XFMR-02-001", 2), events.LAST_GASP)
    clock.advance(120)
    recs = published(oms, "created")
    assert len(recs) == 2 and {r.magnitude for r in recs} == {"neighbourhood"}


def test_power_back_within_the_window_is_momentary_and_never_confirmed() -> None:
    oms, clock = make()
    (a,) = meters(oms, "XFMR-01-001", 1)
    hes(oms, [a], events.LAST_GASP)
    clock.advance(30)
    hes(oms, [a], events.POWER_RESTORED)
    clock.advance(300)
    assert oms.outages == {} and published(oms) == []


def test_confirmation_window_is_configurable() -> None:
    base = load_demo_mapping()
    base["oms"] = {"confirm_window_s": 600}
    oms, clock = make(profile_from_mapping(base))
    hes(oms, meters(oms, "XFMR-01-001", 1), events.LAST_GASP)
    clock.advance(599)
    assert published(oms) == []
    clock.advance(1)
    assert len(published(oms, "created")) == 1


@pytest.mark.parametrize(
    "code",
    [
        "3.26.0.47",  # Itron/SSN 'Primary Power Down'
        "0.26.38.85",  # Connexo power down
        "8.26.38.85",  # the Connexo code with another device type (wildcard)
        "26.26.0.85",  # Aclara radio power out
        events.POWER_DOWN,
        events.LAST_GASP,
    ],
)
def test_vendor_alias_codes_confirm_outages(code: str) -> None:
    oms, clock = make()
    hes(oms, meters(oms, "XFMR-01-001", 1), code)
    clock.advance(120)
    assert len(published(oms, "created")) == 1


def test_other_event_codes_are_not_outages() -> None:
    oms, clock = make()
    hes(oms, meters(oms, "XFMR-01-001", 1), events.TAMPER_DETECTED)
    hes(oms, meters(oms, "XFMR-01-001", 1), "not.a.code")
    clock.advance(600)
    assert oms.outages == {}


def test_customer_calls_confirm_an_outage_and_are_counted() -> None:
    oms, clock = make()
    a, b = meters(oms, "XFMR-02-002", 2)
    oms.report_call(a.esiid)
    hes(oms, [b], events.LAST_GASP)
    clock.advance(120)
    (rec,) = published(oms, "created")
    assert rec.usage_points == [a.esiid, b.esiid]
    assert "1 customer call" in rec.incident_cause and "1 last-gasp event" in rec.incident_cause
    with pytest.raises(KeyError):
        oms.report_call("99999999999999999")


def test_a_redelivered_event_counts_once() -> None:
    oms, clock = make()
    (a,) = meters(oms, "XFMR-01-001", 1)
    body = event(
        "created",
        "EndDeviceEvents",
        [end_device_events([(a.meter, a.esiid, events.LAST_GASP, T0)])],
        source="HES",
    )
    oms.handle(body)
    oms.handle(body)  # cimbus delivers at least once
    clock.advance(120)
    (rec,) = published(oms, "created")
    assert rec.usage_points == [a.esiid] and rec.incident_cause.startswith("1 last-gasp event ")


# ---------------------------------------------------------------- ERT estimate
@pytest.mark.parametrize(
    ("transformers", "magnitude", "minutes"),
    [
        (["XFMR-01-001:1"], "isolated", 90),
        (["XFMR-01-001:3"], "neighbourhood", 120),
        (["XFMR-01-001:2", "XFMR-01-003:2"], "area", 240),
    ],
)
def test_initial_ert_is_estimated_from_the_magnitude(transformers, magnitude, minutes) -> None:
    oms, clock = make()
    specs = []
    for t in transformers:
        tid, n = t.split(":")
        specs += meters(oms, tid, int(n))
    outage = confirmed_outage(oms, clock, specs)
    (rec,) = published(oms, "created")
    assert rec.magnitude == magnitude
    assert rec.ert == T0 + timedelta(minutes=2 + minutes) == outage.ert
    assert rec.ert_source == "OMS" and rec.ert_confidence == "low"
    assert rec.estimated_end == rec.ert


# ---------------------------------------------------------------- trouble orders from the field (D11-3, D11-6)
def test_field_status_changes_are_republished() -> None:
    oms, clock = make()
    outage = confirmed_outage(oms, clock, meters(oms, "XFMR-01-001", 3))
    to = trouble_order(outage)
    for status in ("dispatched", "enRoute", "onSite"):
        clock.advance(300)
        field_change(
            oms, outage, TroubleOrderData(to.mrid, status, clock.now(), "TRBL-01", to.number)
        )
    changed = sent(oms, "changed", "OutageRecords")
    assert [m.header["Property"]["TroubleOrderStatus"] for m in changed] == [
        "dispatched",
        "enRoute",
        "onSite",
    ]
    last = records_of(changed[-1].payload)[0]
    assert last.trouble_orders[0].status == "onSite" and last.trouble_orders[0].crew == "TRBL-01"
    assert last.usage_points == list(outage.meters)  # the whole record, not just the change
    assert all(m.source == "OMS" for m in changed)


def test_ert_set_in_the_field_replaces_the_estimate() -> None:
    oms, clock = make()
    outage = confirmed_outage(oms, clock, meters(oms, "XFMR-01-001", 3))
    to = trouble_order(outage)
    new_ert = outage.ert - timedelta(minutes=45)
    field_change(
        oms,
        outage,
        TroubleOrderData(to.mrid, "ertSet", clock.now(), "TRBL-01", to.number),
        ert=new_ert,
    )
    msg = sent(oms, "changed")[-1]
    rec = records_of(msg.payload)[0]
    assert (
        rec.ert == new_ert
        and rec.ert_source == "Field: trouble worker TRBL-01"
        and rec.ert_confidence == "high"
    )
    assert msg.header["Property"]["ErtChangeMinutes"] == "-45"


def test_linked_work_order_for_a_line_crew_is_kept_with_its_ert() -> None:
    oms, clock = make()
    outage = confirmed_outage(oms, clock, meters(oms, "XFMR-01-001", 3))
    to = trouble_order(outage)
    ert = clock.now() + timedelta(hours=4)
    field_change(
        oms,
        outage,
        TroubleOrderData(
            to.mrid,
            "fieldComplete",
            clock.now(),
            "TRBL-01",
            to.number,
            work_order="wo-1",
            work_order_number="WO-1",
        ),
        TroubleOrderData(
            "wo-1",
            "awaitingCrewAssignment",
            clock.now(),
            None,
            "WO-1",
            "work",
            linked_trouble_order=to.number,
        ),
        ert=ert,
    )
    rec = published(oms, "changed")[-1]
    entries = {t.mrid: t for t in rec.trouble_orders}
    assert entries[to.mrid].status == "fieldComplete" and entries[to.mrid].work_order == "wo-1"
    assert entries["wo-1"].kind == "work" and entries["wo-1"].linked_trouble_order == to.number
    assert rec.ert == ert
    assert oms.outages[outage.mrid].status == "confirmed"  # fieldComplete does not restore


def test_status_changes_arriving_out_of_order_do_not_move_an_order_back() -> None:
    """D11-3: field updates may reach the OMS out of order (several cimbus workers, a
    redelivery). An update older than what the OMS knows (earlier status time, or the same
    time and an earlier step: the linked work order's creation and its dispatch are made at
    the same instant) is recorded and ignored; a newer one applies."""
    oms, clock = make()
    outage = confirmed_outage(oms, clock, meters(oms, "XFMR-01-001", 3))
    to = trouble_order(outage)
    t0 = clock.now()
    field_change(oms, outage, TroubleOrderData("wo-1", "dispatched", t0, "LINE-01", "WO-1", "work"))
    field_change(
        oms, outage, TroubleOrderData("wo-1", "awaitingCrewAssignment", t0, None, "WO-1", "work")
    )
    assert outage.trouble_orders["wo-1"].status == "dispatched"
    assert outage.history[-1][1] == "stale awaitingCrewAssignment for WO-1 ignored"
    clock.advance(300)
    field_change(
        oms, outage, TroubleOrderData(to.mrid, "onSite", clock.now(), "TRBL-01", to.number)
    )
    field_change(oms, outage, TroubleOrderData(to.mrid, "enRoute", t0, "TRBL-01", to.number))
    assert outage.trouble_orders[to.mrid].status == "onSite"
    clock.advance(300)
    field_change(oms, outage, TroubleOrderData("wo-1", "enRoute", clock.now(), "LINE-01", "WO-1"))
    assert outage.trouble_orders["wo-1"].status == "enRoute"


def test_update_for_an_unknown_outage_is_ignored() -> None:
    oms, clock = make()
    outage = confirmed_outage(oms, clock, meters(oms, "XFMR-01-001", 1))
    n = len(oms.sent)
    outage_copy = type("O", (), {"mrid": "nope", "magnitude": "isolated", "status": "confirmed"})()
    field_change(oms, outage_copy, TroubleOrderData("x", "enRoute"))
    assert len(oms.sent) == n and outage.status == "confirmed"


# ---------------------------------------------------------------- restoration verification (D11-7)
def test_restored_status_pings_every_meter_and_closes_when_all_answer() -> None:
    oms, clock = make()
    specs = meters(oms, "XFMR-01-001", 3)
    outage = confirmed_outage(oms, clock, specs)
    to = trouble_order(outage)
    clock.advance(3600)
    field_change(
        oms,
        outage,
        TroubleOrderData(to.mrid, "restored", clock.now(), "TRBL-01", to.number),
        cause="Tree limb on the lateral",
        cause_kind="treeDown",
    )
    sent_pings = pings(oms)
    assert sorted(m for _, m, _ in sent_pings) == sorted(s.meter for s in specs)
    assert {t for _, _, t in sent_pings} == {controls.POWER_STATUS_PING}
    ping_msg = sent(oms, "create", "EndDeviceControls")[0]
    ctl = ping_msg.payload[0].find("edc:EndDeviceControl", NS)
    assert text(ctl, "edc:issuerTrackingID") == outage.number
    assert text(ctl, "edc:UsagePoints/edc:Names/edc:name") in {s.esiid for s in specs}
    assert outage.status == "confirmed" and not published(
        oms, "closed"
    )  # not closed before the answers
    answer_pings(oms, sent_pings)
    (closed,) = published(oms, "closed")
    assert (
        closed.status == "closed" and closed.actual_start == T0 and closed.actual_end == clock.now()
    )
    assert closed.cause == "Tree limb on the lateral" and closed.cause_kind == "treeDown"
    assert closed.customers_affected == 0 and closed.customers_restored == 3 and closed.ert is None
    msg = sent(oms, "closed")[0]
    assert msg.header["Property"]["OutageDurationMinutes"] == "62"
    assert "1 h 2 min" in msg.header["Comment"] and "apologise" in msg.header["Comment"]
    assert oms.outage_of(specs[0].esiid) is None


def test_meters_still_off_keep_the_outage_open_until_they_answer() -> None:
    oms, clock = make()
    specs = meters(oms, "XFMR-01-001", 3)
    outage = confirmed_outage(oms, clock, specs)
    to = trouble_order(outage)
    field_change(
        oms, outage, TroubleOrderData(to.mrid, "restored", clock.now(), "TRBL-01", to.number)
    )
    answer_pings(oms, pings(oms), off={specs[2].meter})
    rec = published(oms, "changed")[-1]
    assert (
        rec.status == "partiallyRestored"
        and rec.customers_restored == 2
        and rec.customers_affected == 1
    )
    assert rec.meters_affected == 1 and rec.original_meters == 3
    assert not published(oms, "closed") and outage.open
    # the last meter comes back: a power-up starts another round (after the settle delay) that
    # pings only the meter still off
    before = len(pings(oms))
    clock.advance(600)
    hes(oms, [specs[2]], events.POWER_RESTORED)
    assert len(pings(oms)) == before
    clock.advance(oms.config.verify_delay_s)
    new = pings(oms)[before:]
    assert [m for _, m, _ in new] == [specs[2].meter]
    answer_pings(oms, new)
    (closed,) = published(oms, "closed")
    assert closed.customers_restored == 3 and closed.actual_end == clock.now() - timedelta(
        seconds=oms.config.verify_delay_s
    )


def test_unanswered_pings_keep_the_outage_open_after_the_timeout() -> None:
    oms, clock = make()
    outage = confirmed_outage(oms, clock, meters(oms, "XFMR-01-001", 2))
    to = trouble_order(outage)
    field_change(
        oms, outage, TroubleOrderData(to.mrid, "restored", clock.now(), "TRBL-01", to.number)
    )
    assert len(pings(oms)) == 2
    clock.advance(oms.config.ping_timeout_s)
    assert outage.open and outage.status == "confirmed" and len(outage.off()) == 2
    assert "2 of 2 meters still without power" in sent(oms, "changed")[-1].header["Comment"]
    # a manual verification round closes it once the meters answer
    oms.verify(outage.number)
    answer_pings(oms, pings(oms)[2:])
    assert outage.status == "closed"


def test_power_up_events_alone_trigger_verification() -> None:
    oms, clock = make()
    specs = meters(oms, "XFMR-02-001", 2)
    outage = confirmed_outage(oms, clock, specs)
    clock.advance(1800)
    hes(oms, specs, "3.26.0.216")  # vendor power-up alias
    assert pings(oms) == []  # settle delay first
    clock.advance(oms.config.verify_delay_s)
    answer_pings(oms, pings(oms))
    assert outage.status == "closed"
    # each meter's restoration time is when it reported power back
    assert outage.actual_end == T0 + timedelta(minutes=2, seconds=1800)


def test_failed_reply_to_a_ping_means_the_meter_is_off() -> None:
    oms, clock = make()
    a, b = meters(oms, "XFMR-01-002", 2)
    outage = confirmed_outage(oms, clock, [a, b])
    to = trouble_order(outage)
    field_change(
        oms, outage, TroubleOrderData(to.mrid, "restored", clock.now(), "TRBL-01", to.number)
    )
    controls_ = pings(oms)
    # the head-end's async reply to a's ping: FAILED (matched by CorrelationID to the request)
    req = next(
        m
        for m, c in zip(sent(oms, "create", "EndDeviceControls"), controls_, strict=True)
        if c[1] == a.meter
    )
    oms.handle(failed(req, SimError("4.1", f"meter {a.meter} did not answer"), source="HES"))
    answer_pings(oms, [c for c in controls_ if c[1] == b.meter])
    assert outage.status == "partiallyRestored" and [m.esiid for m in outage.off()] == [a.esiid]
    # an OK reply (accepted) changes nothing
    oms.handle(reply(req, source="HES"))
    assert outage.status == "partiallyRestored"


def test_last_gasp_of_a_restored_meter_puts_it_back_off() -> None:
    oms, clock = make()
    specs = meters(oms, "XFMR-01-001", 2)
    outage = confirmed_outage(oms, clock, specs)
    to = trouble_order(outage)
    field_change(
        oms, outage, TroubleOrderData(to.mrid, "restored", clock.now(), "TRBL-01", to.number)
    )
    answer_pings(oms, pings(oms), off={specs[1].meter})
    assert outage.status == "partiallyRestored"
    hes(oms, [specs[0]], events.LAST_GASP)
    assert len(outage.off()) == 2 and len(oms.outages) == 1
    assert published(oms, "changed")[-1].customers_affected == 2


# ---------------------------------------------------------------- planned outages (D11-9)
def test_planned_outage_is_announced_ahead_and_then_follows_the_unplanned_flow() -> None:
    oms, clock = make()
    start, end = T0 + timedelta(days=2), T0 + timedelta(days=2, hours=4)
    outage = oms.plan_outage("XFMR-02-001", start, end, "Replacing the transformer")
    (rec,) = published(oms, "created")
    assert rec.planned and rec.planned_reason == "Replacing the transformer"
    assert rec.planned_start == start and rec.planned_end == end
    assert rec.status == "predicted" and rec.magnitude == "neighbourhood"
    assert rec.ert == end and rec.ert_confidence == "high" and rec.trouble_orders == []
    assert len(rec.usage_points) == len(meters(oms, "XFMR-02-001"))
    # a last gasp before the start is an ordinary outage of its own
    clock.advance(timedelta(days=2) - timedelta(seconds=1))
    assert published(oms, "changed") == []
    clock.advance(1)
    started = published(oms, "changed")[-1]
    assert started.status == "confirmed" and started.actual_start == start
    assert [t.status for t in started.trouble_orders] == ["awaitingCrewAssignment"]
    # the meters' last gasps at the start belong to the planned outage
    hes(oms, meters(oms, "XFMR-02-001"), events.LAST_GASP)
    clock.advance(300)
    assert len(oms.outages) == 1 and published(oms, "created") == [rec]
    to = trouble_order(outage)
    field_change(
        oms, outage, TroubleOrderData(to.mrid, "restored", clock.now(), "LINE-01", to.number)
    )
    answer_pings(oms, pings(oms))
    (closed,) = published(oms, "closed")
    assert closed.planned and "planned work" in sent(oms, "closed")[0].header["Comment"]


def test_planned_outage_by_usage_points_or_feeder() -> None:
    oms, _ = make()
    a, b = meters(oms, "XFMR-01-001", 2)
    o1 = oms.plan_outage(
        [a.esiid, b.meter], T0 + timedelta(hours=1), T0 + timedelta(hours=2), "Pole replacement"
    )
    assert list(o1.meters) == [a.esiid, b.esiid]
    o2 = oms.plan_outage(
        "FDR-02", T0 + timedelta(hours=1), T0 + timedelta(hours=2), "Feeder maintenance"
    )
    assert o2.magnitude == "area" and len(o2.meters) == len(
        list(oms.profile.meters_of(feeder="FDR-02"))
    )


def test_planned_outage_is_checked() -> None:
    oms, _ = make()
    with pytest.raises(ValueError, match="end after"):
        oms.plan_outage("XFMR-01-001", T0 + timedelta(hours=2), T0 + timedelta(hours=1), "x")
    with pytest.raises(ValueError, match="ahead of time"):
        oms.plan_outage("XFMR-01-001", T0 - timedelta(hours=1), T0 + timedelta(hours=1), "x")
    with pytest.raises(ValueError, match="reason"):
        oms.plan_outage("XFMR-01-001", T0 + timedelta(hours=1), T0 + timedelta(hours=2), " ")
    with pytest.raises(KeyError, match="NOWHERE"):
        oms.plan_outage("NOWHERE", T0 + timedelta(hours=1), T0 + timedelta(hours=2), "x")


# ---------------------------------------------------------------- REST
def test_rest_routes() -> None:
    oms, clock = make()
    api = TestClient(oms.api())
    (a,) = meters(oms, "XFMR-01-002", 1)
    assert api.post("/calls", json={"esiid": a.esiid}).status_code == 202
    assert api.post("/calls", json={"esiid": "0"}).status_code == 404
    api.post("/clock/advance", json={"seconds": 120})
    (summary,) = api.get("/outages").json()
    assert summary["magnitude"] == "isolated" and summary["status"] == "confirmed"
    detail = api.get(f"/outages/{summary['number']}").json()
    assert detail["usage_points"][a.esiid]["state"] == "off" and detail["calls"] == [a.esiid]
    assert api.get("/outages/nope").status_code == 404
    body = {
        "targets": ["XFMR-02-002"],
        "start": iso(clock.now() + timedelta(days=1)),
        "end": iso(clock.now() + timedelta(days=1, hours=3)),
        "reason": "Upgrade",
    }
    planned = api.post("/outages/planned", json=body)
    assert planned.status_code == 201 and planned.json()["status"] == "predicted"
    assert api.post("/outages/planned", json={**body, "end": body["start"]}).status_code == 422
    assert api.post("/outages/planned", json={"reason": "x"}).status_code == 422
    assert len(api.get("/outages", params={"status": "open"}).json()) == 2
    assert api.post(f"/outages/{planned.json()['number']}/verify").status_code == 409
    assert api.post(f"/outages/{summary['number']}/verify").json()["pinged"] == [a.esiid]
    assert api.get("/").json()["outages"]["open"] == 2


def test_every_message_validates() -> None:
    oms, clock = make()
    outage = confirmed_outage(oms, clock, meters(oms, "XFMR-01-001", 4))
    to = trouble_order(outage)
    field_change(
        oms,
        outage,
        TroubleOrderData(to.mrid, "ertSet", clock.now(), "TRBL-01", to.number),
        ert=clock.now() + timedelta(hours=1),
    )
    field_change(
        oms, outage, TroubleOrderData(to.mrid, "restored", clock.now(), "TRBL-01", to.number)
    )
    answer_pings(oms, pings(oms))
    oms.plan_outage(
        "XFMR-02-003", T0 + timedelta(days=1), T0 + timedelta(days=1, hours=1), "Tree trimming"
    )
    clock.advance(timedelta(days=1))
    kinds = {(m.verb, m.noun) for m in sent(oms)}  # sent() validates each message
    assert kinds == {
        ("created", "OutageRecords"),
        ("changed", "OutageRecords"),
        ("closed", "OutageRecords"),
        ("create", "EndDeviceControls"),
    }
