"""cim_models.codes: EndDeviceEventType / EndDeviceControlType codes (IEC 61968-9 Annex E).

Requirement IDs: B2-* (connect / disconnect / limit controls), B2-4 (acknowledgements),
B2-6 (in-home display message), B2-15 (status queries), D11-1 (outage events), DCC-3 (alarms).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cim_models.codes import (
    ACK_OUTCOMES,
    END_DEVICE_PARTS,
    CodeError,
    EndDeviceCode,
    NamedCodes,
    acknowledgement_for,
    acknowledgement_outcome,
    controls,
    end_device_table,
    events,
    results,
    semantic_result,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "codes.md"


# ---------------------------------------------------------------------------------------------
# parse / describe / build
# ---------------------------------------------------------------------------------------------
def test_parse_and_describe_remote_disconnect() -> None:
    code = EndDeviceCode.parse("3.31.0.23")
    assert (code.device_type, code.domain, code.subdomain, code.event_or_action) == (3, 31, 0, 23)
    assert code.describe() == "ElectricMeter / RCDSwitch / NA / Disconnect"
    assert code.names() == {
        "EndDeviceType": "ElectricMeter",
        "EndDeviceDomain": "RCDSwitch",
        "EndDeviceSubdomain": "NA",
        "EndDeviceEventOrAction": "Disconnect",
    }
    assert code.code == str(code) == "3.31.0.23"
    assert code.is_command


@pytest.mark.parametrize(
    ("code", "described"),
    [
        ("3.26.136.47", "ElectricMeter / Power / Radio / LossDetected"),
        ("0.26.38.49", "NA / Power / Voltage / Reestablished"),
        ("3.2.22.150", "ElectricMeter / Battery / Charge / MinLimitReached"),
        ("3.31.139.26", "ElectricMeter / RCDSwitch / SupplyCapacityLimit / Enable"),
        ("26.26.0.216", "ComDevice / Power / NA / Restored"),
        ("3.13.112.77", "ElectricMeter / VideoDisplay / TextMessage / Display"),
    ],
)
def test_describe_known_codes(code: str, described: str) -> None:
    assert EndDeviceCode.parse(code).describe() == described


def test_build_from_names() -> None:
    built = EndDeviceCode.build(
        device_type="ElectricMeter",
        domain="RCDSwitch",
        subdomain="NA",
        event_or_action="Disconnect",
    )
    assert built.code == "3.31.0.23"
    assert EndDeviceCode.build(device_type="IHD", domain=13, subdomain="TextMessage").code == (
        "15.13.112.0"
    )
    assert EndDeviceCode.build(event_or_action="Re-established").event_or_action == 49
    with pytest.raises(CodeError, match=r"part 2 \(EndDeviceDomain\).*RCDSwitch"):
        EndDeviceCode.build(domain="RCDSwich")


@pytest.mark.parametrize(
    ("code", "part", "pattern"),
    [
        ("3.31.0", "EndDeviceEventOrAction", r"3 parts, expected 4: part 4"),
        ("3.31.0.23.1", "EndDeviceEventOrAction", r"5 parts"),
        ("", "EndDeviceType", r"empty"),
        ("3.31.x.23", "EndDeviceSubdomain", r"part 3 \(EndDeviceSubdomain\)"),
        ("3.-31.0.23", "EndDeviceDomain", r"part 2 \(EndDeviceDomain\) must not be negative"),
        ("3.99.0.23", "EndDeviceDomain", r"part 2 \(EndDeviceDomain\) has unknown value 99"),
        ("3.26.17.185", "EndDeviceEventOrAction", r"unknown value 185 in '3.26.17.185'"),
    ],
)
def test_malformed_or_unknown_codes_name_the_part(code: str, part: str, pattern: str) -> None:
    with pytest.raises(CodeError, match=pattern) as info:
        EndDeviceCode.parse(code)
    assert info.value.field == part


def test_unknown_parts_are_accepted_when_not_strict() -> None:
    vendor = EndDeviceCode.parse("3.26.17.185", strict=False)
    assert vendor.describe() == "ElectricMeter / Power / Status / ?185"
    assert vendor.names()["EndDeviceEventOrAction"] == "185"
    with pytest.raises(CodeError):
        vendor.validate()
    with pytest.raises(CodeError, match="negative"):
        EndDeviceCode.parse("3.26.-17.185", strict=False)


def test_part_tables_cover_the_standard_value_sets() -> None:
    sizes = {part: len(end_device_table(part)) for part in END_DEVICE_PARTS}
    assert sizes == {
        "EndDeviceType": 27,
        "EndDeviceDomain": 37,
        "EndDeviceSubdomain": 182,
        "EndDeviceEventOrAction": 148,
    }
    actions = end_device_table("eventOrAction")
    assert {actions[c].kind for c in (5, 6, 18, 22, 23, 26, 54, 77, 214)} == {"command"}
    assert {actions[c].kind for c in (10, 42, 44, 64, 68, 79, 84, 85, 216)} == {"event"}
    for part in END_DEVICE_PARTS:
        table = end_device_table(part)
        for value in table.values():
            assert table.resolve(value.name) == value.code


@given(
    st.sampled_from(sorted(end_device_table("deviceType"))),
    st.sampled_from(sorted(end_device_table("domain"))),
    st.sampled_from(sorted(end_device_table("subdomain"))),
    st.sampled_from(sorted(end_device_table("eventOrAction"))),
)
def test_any_table_code_round_trips(device: int, domain: int, sub: int, action: int) -> None:
    code = EndDeviceCode(device, domain, sub, action)
    assert EndDeviceCode.parse(code.code) == code
    names = code.names()
    assert (
        EndDeviceCode.build(
            device_type=names["EndDeviceType"],
            domain=names["EndDeviceDomain"],
            subdomain=names["EndDeviceSubdomain"],
            event_or_action=names["EndDeviceEventOrAction"],
        )
        == code
    )


# ---------------------------------------------------------------------------------------------
# derivation and wildcards
# ---------------------------------------------------------------------------------------------
def test_ack_derivation_replaces_the_last_part() -> None:
    disconnect = EndDeviceCode.parse("3.31.0.23")
    assert disconnect.with_event_or_action(44).code == "3.31.0.44"
    assert disconnect.with_event_or_action("Processed").code == "3.31.0.44"
    assert disconnect.with_device_type(0).code == "0.31.0.23"
    assert disconnect.code == "3.31.0.23"  # immutable
    with pytest.raises(CodeError, match="EndDeviceEventOrAction"):
        disconnect.with_event_or_action(9999)


def test_wildcard_match_type_zero_means_any_device_type() -> None:
    pattern = EndDeviceCode.parse("0.31.0.23")
    assert pattern.wildcard_match("3.31.0.23")
    assert pattern.wildcard_match("2.31.0.23")
    assert pattern.wildcard_match(EndDeviceCode.parse("0.31.0.23"))
    assert not pattern.wildcard_match("3.31.0.18")
    assert not pattern.wildcard_match("3.31.139.23")
    exact = EndDeviceCode.parse("3.31.0.23")
    assert exact.wildcard_match("3.31.0.23")
    assert not exact.wildcard_match("2.31.0.23")
    assert not exact.wildcard_match("0.31.0.23")  # only the pattern's 0 is a wildcard
    assert exact.wildcard_match("3.31.0.23") and not EndDeviceCode.parse("3.31.0.0").wildcard_match(
        "3.31.0.23"
    )  # subdomain / action 0 are literal NA, not wildcards


# ---------------------------------------------------------------------------------------------
# named codes
# ---------------------------------------------------------------------------------------------
def test_named_controls_the_use_cases_need() -> None:
    assert controls.REMOTE_DISCONNECT == "3.31.0.23"
    assert controls.REMOTE_CONNECT == "3.31.0.18"
    assert controls.ARM_FOR_CLOSURE == "3.31.0.5"
    assert controls.ARM_FOR_OPEN == "3.31.0.6"
    assert controls.LOAD_LIMIT_ENABLE == "3.31.139.26"
    assert controls.LOAD_LIMIT_DISABLE == "3.31.139.22"
    assert controls.EMERGENCY_LOAD_LIMIT_ENABLE == "3.31.138.26"
    assert controls.EMERGENCY_LOAD_LIMIT_DISABLE == "3.31.138.22"
    assert controls.DEMAND_RESET == "3.8.0.214"
    assert controls.POWER_STATUS_PING == "3.26.17.46"
    assert controls.FIRMWARE_UPDATE == "3.11.0.54"
    assert controls.IHD_TEXT_MESSAGE == "3.13.112.77"
    for name in controls:
        assert EndDeviceCode.parse(getattr(controls, name)).is_command, name


def test_named_events_and_results() -> None:
    assert events.POWER_DOWN == "3.26.0.85"
    assert events.LAST_GASP == "3.26.136.47"
    assert events.POWER_RESTORED == "3.26.0.216"
    assert events.LOW_BATTERY == "3.2.22.150"
    assert events.TAMPER_DETECTED == "3.12.0.257"
    assert events.LOCAL_DISCONNECT == "3.15.26.68"
    assert events.LOAD_LIMIT_TRIPPED == "3.31.139.68"
    assert events.LOAD_LIMIT_AUTO_RECONNECTED == "3.31.139.42"
    assert events.FIRMWARE_UPDATE_SUCCEEDED == "3.11.0.58"
    assert results.DISCONNECTED == "3.31.0.68"
    assert results.CONNECTED == "3.31.0.42"
    assert results.DISCONNECT_FAILED == "3.31.0.84"
    assert results.CONNECT_FAILED == "3.31.0.67"
    for group in (events, results):
        for name in group:
            assert not EndDeviceCode.parse(getattr(group, name)).is_command, name


def test_named_codes_are_a_mapping_with_provenance() -> None:
    entry = controls["REMOTE_DISCONNECT"]
    assert entry.code == "3.31.0.23"
    assert entry.origin == "observed" and entry.source
    assert "B2-1" in entry.requirements
    assert entry.end_device_code.describe() == "ElectricMeter / RCDSwitch / NA / Disconnect"
    assert controls.name_of("3.31.0.23") == "REMOTE_DISCONNECT"
    assert controls.name_of("3.31.0.44") is None
    assert "REMOTE_DISCONNECT" in dir(controls)
    with pytest.raises(AttributeError, match="REMOTE_DISCONNECT"):
        _ = controls.REMOTE_DISCONECT
    with pytest.raises(ValueError, match="unknown group"):
        NamedCodes("alarms")


def test_named_codes_are_unique_and_traceable_to_requirements() -> None:
    seen: dict[str, str] = {}
    for group in (controls, results, events):
        for name, entry in group.items():
            assert entry.code not in seen, f"{name} and {seen.get(entry.code)} share {entry.code}"
            seen[entry.code] = name
            assert entry.requirements, name
            assert entry.summary, name


def test_every_project_choice_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for group in (controls, results, events):
        for name, entry in group.items():
            if entry.origin == "project":
                assert entry.note, name
                assert entry.code in text, (
                    f"{name} ({entry.code}) is not explained in docs/codes.md"
                )


# ---------------------------------------------------------------------------------------------
# acknowledgements (B2-4)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("processed", "3.31.0.44"),
        ("error", "3.31.0.79"),
        ("cancelled", "3.31.0.10"),
        ("expired", "3.31.0.64"),
    ],
)
def test_acknowledgement_for_disconnect(outcome: str, expected: str) -> None:
    assert acknowledgement_for("3.31.0.23", outcome) == expected  # type: ignore[arg-type]


def test_acknowledgement_for_other_controls_and_bad_input() -> None:
    assert ACK_OUTCOMES == ("processed", "error", "cancelled", "expired")
    assert acknowledgement_for(controls.LOAD_LIMIT_ENABLE, "processed") == "3.31.139.44"
    assert acknowledgement_for(EndDeviceCode.parse("0.31.0.18"), "error") == "0.31.0.79"
    with pytest.raises(CodeError, match="unknown acknowledgement outcome"):
        acknowledgement_for("3.31.0.23", "done")  # type: ignore[arg-type]
    with pytest.raises(CodeError, match="not a control"):
        acknowledgement_for(events.POWER_DOWN, "processed")


def test_semantic_results() -> None:
    assert semantic_result(controls.REMOTE_DISCONNECT, True) == results.DISCONNECTED == "3.31.0.68"
    assert semantic_result(controls.REMOTE_DISCONNECT, False) == "3.31.0.84"
    assert semantic_result(controls.REMOTE_CONNECT, True) == "3.31.0.42"
    assert semantic_result(controls.REMOTE_CONNECT, False) == "3.31.0.67"
    assert semantic_result(controls.ARM_FOR_CLOSURE, True) == results.ARMED_FOR_CLOSURE
    assert semantic_result(controls.LOAD_LIMIT_ENABLE, True) == results.LOAD_LIMIT_ENABLED
    assert semantic_result(controls.LOAD_LIMIT_DISABLE, True) == results.LOAD_LIMIT_DISABLED
    assert semantic_result(controls.IHD_TEXT_MESSAGE, True) == events.IHD_TEXT_MESSAGE_DISPLAYED
    assert semantic_result(controls.DEMAND_RESET, True) == events.DEMAND_RESET_OCCURRED
    assert semantic_result(controls.FIRMWARE_UPDATE, True) == events.FIRMWARE_UPDATE_STARTED
    with pytest.raises(CodeError, match="no semantic result"):
        semantic_result(controls.POWER_STATUS_PING, True)


@pytest.mark.parametrize(
    ("event", "outcome"),
    [
        ("3.31.0.44", "processed"),
        ("3.31.0.79", "error"),
        ("3.31.0.10", "cancelled"),
        ("3.31.0.64", "expired"),
        ("3.31.0.68", "succeeded"),
        ("3.31.0.84", "failed"),
        ("0.31.0.68", "succeeded"),  # an MDM's wildcard device type
        ("3.31.0.42", None),  # Connected does not answer a Disconnect
        ("3.31.139.44", None),  # another subdomain
        ("3.26.0.85", None),  # an outage, not an answer
        ("2.31.0.44", None),  # another device type
    ],
)
def test_acknowledgement_outcome_of_a_disconnect(event: str, outcome: str | None) -> None:
    assert acknowledgement_outcome(controls.REMOTE_DISCONNECT, event) == outcome
