"""cim_models.codes: ReadingQualityType codes (IEC 61968-9 Annex D) and the ODR-3 qualities."""

from __future__ import annotations

from pathlib import Path

import pytest

from cim_models.codes import (
    DEVICE_VALID,
    KNOWN_MISSING_READ,
    MDM_EDITED,
    MDM_ESTIMATED,
    MDM_SUSPECT,
    NON_VEE,
    VEE_VALIDATED,
    CodeError,
    ReadingQualityCode,
    quality_index_table,
    reading_quality_table,
    vee_applied,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "codes.md"


@pytest.mark.parametrize(
    ("code", "described", "names"),
    [
        ("3.5.258", "MDM / reasonability / suspect", ("mdm", "reasonability", "suspect")),
        ("3.7.0", "MDM / edited / manually edited", ("mdm", "edited", "editGeneric")),
        ("3.7.1", "MDM / edited / manually added", ("mdm", "edited", "added")),
        ("3.7.3", "MDM / edited / manually rejected", ("mdm", "edited", "rejected")),
        (
            "1.1.1",
            "end device / diagnostics / battery low",
            ("endDevice", "diagnostics", "batteryLow"),
        ),
        (
            "2.4.2",
            "head-end (metering data collection) / data collection / partial interval",
            ("mdc", "dataCollection", "partialInterval"),
        ),
    ],
)
def test_parse_and_describe(code: str, described: str, names: tuple[str, str, str]) -> None:
    quality = ReadingQualityCode.parse(code)
    assert quality.code == str(quality) == code
    assert quality.describe() == described
    assert tuple(quality.names().values()) == names
    assert ReadingQualityCode.parse(quality.code) == quality


def test_build_from_names() -> None:
    assert ReadingQualityCode.build(
        system="mdm", category="reasonability", index="suspect"
    ).code == ("3.5.258")
    assert ReadingQualityCode.build(system="headEnd", category="valid").code == NON_VEE
    assert ReadingQualityCode.build(system=3, category=0, index=1).code == VEE_VALIDATED
    with pytest.raises(CodeError, match="no index named 'suspect'"):
        ReadingQualityCode.build(system="mdm", category="edited", index="suspect")
    with pytest.raises(CodeError, match=r"part 1 \(system\)"):
        ReadingQualityCode.build(system="scada", category="valid")


def test_unknown_index_is_open_but_system_and_category_are_not() -> None:
    assert ReadingQualityCode.parse("3.4.1234").describe() == "MDM / data collection / index 1234"
    with pytest.raises(CodeError, match=r"part 1 \(system\) has unknown value 9 in '9.0.0'"):
        ReadingQualityCode.parse("9.0.0")
    with pytest.raises(CodeError, match=r"part 2 \(category\) has unknown value 99"):
        ReadingQualityCode.parse("3.99.0")
    assert ReadingQualityCode.parse("9.99.0", strict=False).system == 9


@pytest.mark.parametrize(
    ("code", "pattern"),
    [
        ("3.5", r"part 3 \(index\) onward is missing"),
        ("3.5.x", r"part 3 \(index\)"),
        ("", r"empty"),
        ("3.-5.1", r"part 2 \(category\) must not be negative"),
        ("3.5.258.1", r"4 parts"),
    ],
)
def test_malformed_quality_codes(code: str, pattern: str) -> None:
    with pytest.raises(CodeError, match=pattern):
        ReadingQualityCode.parse(code)


def test_tables() -> None:
    assert [v.name for v in reading_quality_table("system").values()] == [
        "none",
        "endDevice",
        "mdc",
        "mdm",
        "otherSystem",
        "externallySpecified",
    ]
    assert len(reading_quality_table("category")) == 13
    assert reading_quality_table("category")[8].name == "estimated"
    assert quality_index_table()[(5, 258)].name == "suspect"
    assert quality_index_table()[(0, 1)].name == "validated"
    with pytest.raises(CodeError):
        reading_quality_table("index")


def test_odr3_non_vee_and_validated_qualities() -> None:
    non_vee = ReadingQualityCode.parse(NON_VEE)
    assert (non_vee.system, non_vee.category, non_vee.index) == (2, 0, 0)
    assert non_vee.describe() == "head-end (metering data collection) / valid / data valid"
    assert not non_vee.is_mdm
    validated = ReadingQualityCode.parse(VEE_VALIDATED)
    assert validated.describe() == "MDM / valid / validated"
    assert not vee_applied([NON_VEE])
    assert not vee_applied([NON_VEE, DEVICE_VALID, KNOWN_MISSING_READ])
    assert vee_applied([VEE_VALIDATED])
    assert vee_applied([NON_VEE, MDM_SUSPECT])
    assert vee_applied([ReadingQualityCode.parse(MDM_EDITED)])
    assert not vee_applied([])
    for code in (
        NON_VEE,
        VEE_VALIDATED,
        DEVICE_VALID,
        MDM_SUSPECT,
        MDM_EDITED,
        MDM_ESTIMATED,
        KNOWN_MISSING_READ,
    ):
        ReadingQualityCode.parse(code)  # strict
    docs = DOCS.read_text(encoding="utf-8")
    assert NON_VEE in docs and VEE_VALIDATED in docs
