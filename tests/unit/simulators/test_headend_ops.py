"""The head-end's pings, outages, firmware, alarms, in-home display and REST routes
(D11-1, D11-7, DCC-3, DCC-4, B2-6, B2-16)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from cim_models.codes import acknowledgement_for, controls, events
from simulators._core import E, Incoming, parse_time, request
from simulators.headend.payloads import end_device_control
from tests.unit.simulators.test_headend import (
    CODEC,
    M1,
    M2,
    all_valid,
    at,
    codes,
    control,
    create,
    make_hes,
    reads,
    send,
    tracked,
)


# ---------------------------------------------------------------------- ping (D11-7, ODR-5)
def test_ping_answers_energised_or_fails_after_the_timeout() -> None:
    hes = make_hes()
    answer = create(hes, controls.POWER_STATUS_PING, "p-1")
    assert answer.result == "OK" and answer.errors[0]["reason"].endswith(": energised")
    ok = tracked(hes, "p-1")
    assert codes(ok) == [acknowledgement_for(controls.POWER_STATUS_PING, "processed")]
    assert ok[0]["details"]["PowerStatus"] == "Energised" and ok[0]["status"] == "energised"
    hes.power_down([M1])
    assert hes.ping(M1) is False and hes.ping(M2) is True
    silent = create(hes, controls.POWER_STATUS_PING, "p-2")  # the reply says so at once ...
    assert silent.result == "FAILED" and silent.errors[0]["code"] == "4.1"
    assert "de-energised" in silent.errors[0]["reason"] and tracked(hes, "p-2") == []
    hes.clock.advance(45)  # ... and the event for the subscribers follows after the timeout
    dead = tracked(hes, "p-2")
    assert codes(dead) == [acknowledgement_for(controls.POWER_STATUS_PING, "error")]
    assert dead[0]["details"]["Outcome"] == "NoAnswer" and "de-energised" in dead[0]["reason"]
    assert all_valid(hes)
    several = create(hes, controls.POWER_STATUS_PING, "p-3", meter=None)  # no meter: refused
    assert several.result == "FAILED" and several.errors[0]["code"] == "2.7"
    both = send(
        hes,
        "create",
        control(controls.POWER_STATUS_PING, "p-4", M1),
        control(controls.POWER_STATUS_PING, "p-5", M2),
    )
    assert both.result == "PARTIAL" and [e["code"] for e in both.errors] == ["4.1", "0.0"]


# ---------------------------------------------------------------------- outages (D11-1)
def test_power_down_by_transformer_sends_last_gasps_then_silence_then_restoration() -> None:
    hes = make_hes()
    xfmr = hes.spec(M1).transformer
    on_xfmr = [m.meter for m in hes.profile.meters_of(transformer=xfmr) if m.ams]
    hes.clock.advance(timedelta(minutes=7))  # 09:07
    down = hes.power_down(transformer=xfmr, cause="storm")
    assert sorted(down) == sorted(on_xfmr) and len(down) > 3
    gasps = hes.events(events.LAST_GASP)
    assert sorted(e["meter"] for e in gasps) == sorted(on_xfmr)
    assert gasps[0]["details"]["Transformer"] == xfmr and gasps[0]["severity"] == "major"
    assert len(hes.sent("EndDeviceEvents")) == 1  # one message for the batch
    assert hes.power_down([M1]) == []  # already dark: no second gasp
    hes.local_toggle(M1, "tech.ana", True)  # logged by the meter, told to the head-end later
    assert hes.events(events.LOCAL_DISCONNECT) == [] and reads(hes) == []
    hes.clock.advance_to(at("10:22"))
    up = hes.power_up(transformer=xfmr)
    assert sorted(up) == sorted(on_xfmr)
    restored = hes.events(events.POWER_RESTORED, meter=M1)
    assert restored[0]["details"]["OutageMinutes"] == "75.0"
    assert (
        hes.events(events.LOCAL_DISCONNECT)[0]["user"] == "tech.ana"
    )  # delivered after restoration
    neighbour = next(m for m in on_xfmr if m != M1)
    hes.clock.advance_to(at("11:00"))
    r = dict(hes.readings(neighbour, at("09:00"), at("10:45"))["intervals"])
    assert set(r) == {at("09:15"), at("10:30"), at("10:45")}  # dark intervals 09:30..10:15: nothing
    fresh = make_hes()
    fresh.clock.advance_to(at("11:00"))
    nominal = dict(fresh.readings(neighbour, at("09:00"), at("10:45"))["intervals"])
    assert abs(r[at("09:15")] - nominal[at("09:15")] * 7 / 15) <= 0.001  # powered 09:00-09:07
    assert abs(r[at("10:30")] - nominal[at("10:30")] * 8 / 15) <= 0.001  # powered 10:22-10:30
    assert r[at("10:45")] == nominal[at("10:45")]
    assert hes.readings(M2, at("09:00"), at("10:45")) == fresh.readings(
        M2, at("09:00"), at("10:45")
    )
    all_valid(hes)


def test_a_meter_with_the_disconnect_knob_cannot_send_its_last_gasp() -> None:
    hes = make_hes()
    hes.faults.set(M2, disconnect=True)
    assert sorted(hes.power_down([M1, M2])) == [M1, M2]
    assert [e["meter"] for e in hes.events(events.LAST_GASP)] == [M1]


# ---------------------------------------------------------------------- firmware (DCC-4)
def test_firmware_update_reports_progress_and_the_new_version() -> None:
    hes = make_hes(firmware_step_seconds=60)
    assert hes.firmware(M1) == "4.2.0"
    assert create(hes, controls.FIRMWARE_UPDATE, "f-1", version="4.3.1").result == "OK"
    assert codes(tracked(hes, "f-1")) == [events.FIRMWARE_UPDATE_STARTED]
    hes.clock.advance(60 * 3)
    progress = [e["details"]["Progress"] for e in tracked(hes, "f-1")]
    assert progress == ["0%", "25%", "50%", "75%"]
    assert hes.firmware(M1) == "4.2.0"
    hes.clock.advance(60)
    final = tracked(hes, "f-1")[-2:]
    assert codes(final) == [
        events.FIRMWARE_UPDATE_SUCCEEDED,
        acknowledgement_for(controls.FIRMWARE_UPDATE, "processed"),
    ]
    assert final[0]["details"]["FirmwareVersion"] == "4.3.1" and hes.firmware(M1) == "4.3.1"
    assert hes.switch_status(M1)["firmware"] == "4.3.1"
    all_valid(hes)


def test_firmware_update_failures() -> None:
    hes = make_hes(firmware_bad_versions=["9.9.9"])
    assert create(hes, controls.FIRMWARE_UPDATE, "f-0").result == "FAILED"  # no version
    by_reason = create(
        hes, controls.FIRMWARE_UPDATE, "f-1", meter=M2, reason="Supplier campaign: upgrade to 9.9.9"
    )
    assert by_reason.result == "OK"
    hes.clock.advance(timedelta(minutes=5))
    assert codes(tracked(hes, "f-1"))[-2:] == [
        events.FIRMWARE_UPDATE_FAILED,
        acknowledgement_for(controls.FIRMWARE_UPDATE, "error"),
    ]
    assert hes.firmware(M2) == "4.2.0"
    create(hes, controls.FIRMWARE_UPDATE, "f-2", version="4.4.0")
    hes.clock.advance(90)
    hes.power_down([M1])  # lost during the transfer
    hes.clock.advance(timedelta(minutes=5))
    failed = tracked(hes, "f-2")
    assert (
        failed[-2]["code"] == events.FIRMWARE_UPDATE_FAILED
        and "interrupted" in failed[-2]["reason"]
    )
    assert hes.firmware(M1) == "4.2.0"
    hes.power_up([M1])
    create(hes, controls.FIRMWARE_UPDATE, "f-3", version="4.2.0")  # already installed
    assert codes(tracked(hes, "f-3"))[0] == events.FIRMWARE_UPDATE_SUCCEEDED


# ---------------------------------------------------------------------- alarms (DCC-3)
def test_alarms_become_events() -> None:
    hes = make_hes()
    hes.raise_alarm(M1, "tamper")
    hes.raise_alarm(M2, "low_battery")
    assert [(e["meter"], e["code"]) for e in hes.events()] == [
        (M1, events.TAMPER_DETECTED),
        (M2, events.LOW_BATTERY),
    ]
    assert hes.events(events.TAMPER_DETECTED)[0]["severity"] == "major"
    try:
        hes.raise_alarm(M1, "fire")
    except ValueError as exc:
        assert "unknown alarm" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("unknown alarm accepted")


# ---------------------------------------------------------------------- in-home display (B2-6)
def test_ihd_text_is_displayed_only_where_there_is_a_display() -> None:
    hes = make_hes()
    assert hes.spec(M1).han_ihd and not hes.spec(M2).han_ihd
    msg = "Service will be disconnected on 2026-05-14 at 10:00"
    assert create(hes, controls.IHD_TEXT_MESSAGE, "i-1", text_message=msg).result == "OK"
    assert create(hes, controls.IHD_TEXT_MESSAGE, "i-2", meter=M2, text_message=msg).result == "OK"
    shown, failed = tracked(hes, "i-1"), tracked(hes, "i-2")
    assert codes(shown) == [
        events.IHD_TEXT_MESSAGE_DISPLAYED,
        acknowledgement_for(controls.IHD_TEXT_MESSAGE, "processed"),
    ]
    assert shown[0]["details"]["Text"] == msg
    assert codes(failed) == [
        events.IHD_TEXT_MESSAGE_FAILED,
        acknowledgement_for(controls.IHD_TEXT_MESSAGE, "error"),
    ]
    assert create(hes, controls.IHD_TEXT_MESSAGE, "i-3").result == "FAILED"  # no text
    scheduled = create(hes, controls.IHD_TEXT_MESSAGE, "i-4", text_message=msg, start=at("18:00"))
    assert "scheduled" in scheduled.errors[0]["reason"] and tracked(hes, "i-4") == []
    hes.clock.advance_to(at("18:00"))
    assert tracked(hes, "i-4")[0]["code"] == events.IHD_TEXT_MESSAGE_DISPLAYED


# ---------------------------------------------------------------------- REST routes
def test_rest_routes_drive_and_show_the_meters() -> None:
    hes = make_hes()
    api = TestClient(hes.api())
    assert api.get("/meters/AMS-0001").json()["state"]["switch"] == "connected"
    assert api.get("/meters/NOPE").status_code == 404
    refused = api.post("/meters/AMS-0001/local-toggle", json={"user": "joe", "authorized": False})
    assert refused.status_code == 403
    assert (
        api.post("/meters/AMS-0001/local-toggle", json={"user": "ana", "authorized": True}).json()[
            "result"
        ]
        == "opened"
    )
    state = api.get(f"/meters/{hes.spec(M1).esiid}").json()
    assert [e["result"] for e in state["log"] if e["kind"] == "local"] == [
        "refused: not authorised",
        "opened",
    ]
    assert api.post("/meters/AMS-0001/customer-reconnect", json={}).status_code == 409
    api.post("/meters/AMS-0001/local-toggle", json={"user": "ana", "authorized": True})
    body = request(
        "create",
        "EndDeviceControls",
        source="CIS",
        payload=[
            E.edc(
                "EndDeviceControls",
                end_device_control(controls.LOAD_LIMIT_ENABLE, mrid="l-1", meter=M1, level=75),
            )
        ],
    )
    assert Incoming.parse(hes.handle(body), CODEC).result == "OK"
    assert api.post("/meters/AMS-0001/demand", json={"kw": 20}).json()["switch"] == "tripped"
    assert (
        api.post("/meters/AMS-0001/customer-reconnect", json={"user": "maria"}).json()["result"]
        == "closed"
    )
    assert api.post("/meters/AMS-0001/alarm", json={"kind": "tamper"}).status_code == 200
    assert api.post("/meters/AMS-0001/alarm", json={"kind": "nope"}).status_code == 422
    assert api.post("/power-down", json={"meters": [M2]}).json() == {"meters": [M2], "count": 1}
    assert api.post("/meters/AMS-0002/ping").json()["energised"] is False
    assert api.post("/power-up", json={"meters": [M2]}).json()["count"] == 1
    readings = api.get(
        "/meters/AMS-0002/readings", params={"start": "2026-05-12T00:00:00-05:00"}
    ).json()
    assert len(readings["intervals"]) == 36 and readings["register"][1] > 0
    assert api.get("/stats").json()["meters_touched"] == 2
    assert api.get("/").json()["headend"]["events"] >= 5
    assert parse_time(api.get("/meters/AMS-0001").json()["log"][0]["at"]) == parse_time(
        "2026-05-12T09:00:00-05:00"
    )
