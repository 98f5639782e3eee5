"""cim_models.codes: ReadingType codes (IEC 61968-9 Annex C) and package-level guarantees.

Requirement IDs: ODR-3 / B2-10 (interval and register ReadingTypes of on-demand reads),
B2-8 (15-minute intervals).
"""

from __future__ import annotations

import ast
import dataclasses
import doctest
import importlib
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cim_models import codes
from cim_models.codes import (
    DAILY_KWH_DELIVERED,
    INTERVAL_15MIN_KWH_DELIVERED,
    INTERVAL_15MIN_KWH_RECEIVED,
    INTERVAL_60MIN_KWH_DELIVERED,
    READING_TYPE_FIELDS,
    REGISTER_KWH_DELIVERED,
    REGISTER_KWH_RECEIVED,
    CodeError,
    ReadingType,
    interval_minutes,
    is_interval,
    reading_type_table,
)

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "cim_models" / "codes"

# Worked decodes of public ReadingType codes (an MDM's enums, cross-checked with ESPI): code ->
# the field values that matter, by IEC literal name. Fields not listed are "none" / "0".
EXAMPLES: dict[str, dict[str, str]] = {
    "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0": {
        "measuringPeriod": "fifteenMinute",
        "accumulation": "deltaData",
        "flowDirection": "forward",
        "commodity": "electricitySecondaryMetered",
        "measurementKind": "energy",
        "multiplier": "k",
        "unit": "Wh",
    },
    "11.0.0.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0": {
        "macroPeriod": "daily",
        "accumulation": "deltaData",
        "flowDirection": "forward",
        "commodity": "electricitySecondaryMetered",
        "measurementKind": "energy",
        "multiplier": "k",
        "unit": "Wh",
    },
    "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0": {
        "accumulation": "bulkQuantity",
        "flowDirection": "forward",
        "commodity": "electricitySecondaryMetered",
        "measurementKind": "energy",
        "multiplier": "k",
        "unit": "Wh",
    },
    "13.8.0.6.1.1.8.0.0.0.0.7.0.0.0.0.61.0": {
        "macroPeriod": "monthly",
        "aggregate": "maximum",
        "accumulation": "indicating",
        "flowDirection": "forward",
        "commodity": "electricitySecondaryMetered",
        "measurementKind": "demand",
        "tou": "7",
        "unit": "VA",
    },
    "0.0.7.6.19.1.12.0.0.0.0.0.0.0.0.3.72.0": {
        "measuringPeriod": "sixtyMinute",
        "accumulation": "indicating",
        "flowDirection": "reverse",
        "commodity": "electricitySecondaryMetered",
        "measurementKind": "energy",
        "multiplier": "k",
        "unit": "Wh",
    },
}

ENUM_FIELDS = (
    "macroPeriod",
    "aggregate",
    "measuringPeriod",
    "accumulation",
    "flowDirection",
    "commodity",
    "measurementKind",
    "phases",
    "multiplier",
    "unit",
)


def _defaults() -> dict[str, str]:
    return {
        f: ("none" if f in ENUM_FIELDS or f == "currency" else "0") for f in READING_TYPE_FIELDS
    }


# ---------------------------------------------------------------------------------------------
# decode / encode
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", list(EXAMPLES))
def test_examples_decode_to_the_published_meanings_and_round_trip(code: str) -> None:
    reading_type = ReadingType.parse(code)
    assert reading_type.names() == _defaults() | EXAMPLES[code]
    assert reading_type.code == code
    assert ReadingType.parse(reading_type.code) == reading_type
    assert str(reading_type) == code


@pytest.mark.parametrize("code", list(EXAMPLES))
def test_examples_rebuild_from_their_names(code: str) -> None:
    names = ReadingType.parse(code).names()
    kwargs = {
        "macro_period": names["macroPeriod"],
        "aggregate": names["aggregate"],
        "measuring_period": names["measuringPeriod"],
        "accumulation": names["accumulation"],
        "flow_direction": names["flowDirection"],
        "commodity": names["commodity"],
        "measurement_kind": names["measurementKind"],
        "tou": int(names["tou"]),
        "phases": names["phases"],
        "multiplier": names["multiplier"],
        "unit": names["unit"],
    }
    assert ReadingType.build(**kwargs).code == code


def test_15min_kwh_delivered_field_by_field() -> None:
    rt = ReadingType.parse(INTERVAL_15MIN_KWH_DELIVERED)
    assert rt.values() == (0, 0, 2, 4, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 3, 72, 0)
    assert (rt.measuring_period, rt.accumulation, rt.flow_direction) == (2, 4, 1)
    assert (rt.commodity, rt.measurement_kind, rt.multiplier, rt.unit) == (1, 12, 3, 72)
    assert rt.unit_symbol() == "kWh"


def test_describe_is_readable_english() -> None:
    text = ReadingType.parse(INTERVAL_15MIN_KWH_DELIVERED).describe()
    assert "15-minute" in text
    assert "kWh" in text
    assert text == (
        "15-minute interval, delta data, forward (delivered), "
        "electricity secondary metered, energy, kWh"
    )
    daily = ReadingType.parse(DAILY_KWH_DELIVERED).describe()
    assert daily.startswith("daily, delta data") and daily.endswith("kWh")
    demand = ReadingType.parse("13.8.0.6.1.1.8.0.0.0.0.7.0.0.0.0.61.0").describe()
    assert demand == (
        "monthly, maximum, indicating, forward (delivered), electricity secondary metered, "
        "demand, TOU 7, VA"
    )


def test_describe_shows_phase_negative_multiplier_and_currency() -> None:
    volts = ReadingType.build(
        accumulation="instantaneous",
        commodity="electricitySecondaryMetered",
        measurement_kind="voltage",
        phases="AN",
        multiplier="m",
        unit="V",
    )
    assert volts.code == "0.0.0.12.0.1.54.0.0.0.0.0.0.0.129.-3.29.0"
    assert volts.describe().endswith("phase A to neutral, mV")
    money = ReadingType.build(measurement_kind="currency", unit="money", currency="USD")
    assert money.currency == 840
    assert "currency USD" in money.describe()
    assert "currency 999" in ReadingType(currency=999).describe()  # open ISO 4217 set


def test_describe_units_without_a_symbol_and_odd_multipliers() -> None:
    assert ReadingType(unit=111).describe() == "count"
    assert ReadingType(unit=111, multiplier=3).unit_symbol() == "count ×10^3"
    assert ReadingType(unit=72, multiplier=7).unit_symbol() == "Wh ×10^7"
    assert ReadingType(multiplier=3).unit_symbol() == "×10^3"
    assert ReadingType().describe() == "not applicable"


def test_build_with_readable_names_gives_the_15min_code() -> None:
    common = {
        "accumulation": "deltaData",
        "flow_direction": "forward",
        "commodity": "electricitySecondaryMetered",
        "measurement_kind": "energy",
        "multiplier": "k",
        "unit": "Wh",
    }
    for period in ("fifteenMinute", "15-minute", 2, "2", "Fifteen Minute"):
        assert ReadingType.build(measuring_period=period, **common).code == (
            INTERVAL_15MIN_KWH_DELIVERED
        )
    assert ReadingType.build(
        measuring_period=2,
        accumulation=4,
        flow_direction=1,
        commodity=1,
        measurement_kind=12,
        multiplier=3,
        unit=72,
    ) == ReadingType.parse(INTERVAL_15MIN_KWH_DELIVERED)
    assert ReadingType.build(flow_direction="delivered").flow_direction == 1
    assert ReadingType.build(flow_direction="received").flow_direction == 19


def test_multiplier_names_are_case_sensitive_where_si_is() -> None:
    assert ReadingType.build(multiplier="M").multiplier == 6
    assert ReadingType.build(multiplier="m").multiplier == -3
    assert ReadingType.build(multiplier="k").multiplier == 3
    assert ReadingType.build(unit="H").unit == 28  # henry
    assert ReadingType.build(unit="h").unit == 160  # hour


def test_build_rejects_unknown_names_with_a_suggestion() -> None:
    with pytest.raises(CodeError, match="measuringPeriod") as info:
        ReadingType.build(measuring_period="fiftenMinute")
    assert "fifteenMinute" in str(info.value)
    assert info.value.field == "measuringPeriod"
    with pytest.raises(CodeError, match=r"field 17 \(unit\)"):
        ReadingType.build(unit="kWh")  # the prefix goes in multiplier
    with pytest.raises(CodeError, match="unknown value 99"):
        ReadingType.build(measuring_period=99)
    with pytest.raises(CodeError):
        ReadingType.build(measuring_period=True)  # type: ignore[arg-type]


def test_the_well_known_constants() -> None:
    assert INTERVAL_15MIN_KWH_DELIVERED == "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
    assert DAILY_KWH_DELIVERED == "11.0.0.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
    assert REGISTER_KWH_DELIVERED == "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
    assert ReadingType.parse(REGISTER_KWH_DELIVERED).names()["accumulation"] == "bulkQuantity"
    assert ReadingType.parse(INTERVAL_15MIN_KWH_RECEIVED).names()["flowDirection"] == "reverse"
    assert ReadingType.parse(REGISTER_KWH_RECEIVED).names()["flowDirection"] == "reverse"
    assert ReadingType.parse(INTERVAL_60MIN_KWH_DELIVERED).names()["measuringPeriod"] == (
        "sixtyMinute"
    )


# ---------------------------------------------------------------------------------------------
# intervals
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("measuring_period", "minutes"),
    [(2, 15), (7, 60), (6, 5), (4, 1440), (1, 10), (3, 1), (5, 30), (53, 15), (79, 120)],
)
def test_interval_minutes_from_measuring_period(measuring_period: int, minutes: int) -> None:
    code = ReadingType(measuring_period=measuring_period, unit=72).code
    assert interval_minutes(code) == minutes
    assert is_interval(code)


def test_interval_minutes_from_macro_period_and_non_intervals() -> None:
    assert interval_minutes(DAILY_KWH_DELIVERED) == 1440
    assert is_interval(DAILY_KWH_DELIVERED)
    assert interval_minutes(REGISTER_KWH_DELIVERED) is None
    assert not is_interval(REGISTER_KWH_DELIVERED)
    monthly_max_demand = "13.8.0.6.1.1.8.0.0.0.0.7.0.0.0.0.61.0"
    assert not is_interval(monthly_max_demand)
    # a macroPeriod wins over a measuringPeriod: monthly maximum of 15-minute fixed-block demand
    assert interval_minutes(ReadingType(macro_period=13, aggregate=8, measuring_period=53)) is None
    assert interval_minutes(ReadingType(measuring_period=57)) is None  # rolling block
    # unknown enumeration values elsewhere do not stop the helper; malformed codes do
    assert interval_minutes("0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.9999.0") == 15
    with pytest.raises(CodeError):
        interval_minutes("0.0.2")


# ---------------------------------------------------------------------------------------------
# malformed codes
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "field", "pattern"),
    [
        ("0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72", "currency", r"17 fields, expected 18: field 18"),
        ("0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0.0", "currency", r"19 fields"),
        ("", "macroPeriod", r"empty.*field 1 \(macroPeriod\)"),
        ("   ", "macroPeriod", r"empty"),
        (
            "0.0.x.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0",
            "measuringPeriod",
            r"field 3 \(measuringPeriod\)",
        ),
        ("0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.k.72.0", "multiplier", r"field 16 \(multiplier\)"),
        ("0.0.2.4.1.-1.12.0.0.0.0.0.0.0.0.3.72.0", "commodity", r"field 6 \(commodity\).*negative"),
        ("0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3..0", "unit", r"field 17 \(unit\) is empty"),
        ("0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.7 2.0", "unit", r"field 17 \(unit\)"),
        ("0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.+3.72.0", "multiplier", r"field 16 \(multiplier\)"),
        ("0.0.٢.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0", "measuringPeriod", r"field 3"),  # Arabic digit
    ],
)
def test_malformed_codes_name_the_field(code: str, field: str, pattern: str) -> None:
    with pytest.raises(CodeError, match=pattern) as info:
        ReadingType.parse(code)
    assert info.value.field == field
    assert field in str(info.value)


def test_unknown_enum_value_is_an_error_unless_not_strict() -> None:
    code = "0.0.99.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
    with pytest.raises(CodeError) as info:
        ReadingType.parse(code)
    message = str(info.value)
    assert message == (
        "ReadingType field 3 (measuringPeriod) has unknown value 99 in "
        "'0.0.99.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0'"
    )
    assert (info.value.field, info.value.value, info.value.code) == ("measuringPeriod", 99, code)
    lenient = ReadingType.parse(code, strict=False)
    assert lenient.measuring_period == 99
    assert lenient.code == code
    assert "measuringPeriod 99" in lenient.describe()
    with pytest.raises(CodeError, match="measuringPeriod"):
        lenient.validate()


def test_multiplier_is_the_only_signed_field() -> None:
    assert ReadingType.parse("0.0.0.12.0.1.54.0.0.0.0.0.0.0.0.-3.29.0").multiplier == -3
    with pytest.raises(CodeError, match="tou"):
        ReadingType(tou=-1)
    with pytest.raises(CodeError, match="measuringPeriod"):
        ReadingType(measuring_period="2")  # type: ignore[arg-type]


def test_code_error_is_a_value_error_and_non_strings_are_type_errors() -> None:
    assert issubclass(CodeError, ValueError)
    with pytest.raises(TypeError):
        ReadingType.parse(0)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------
def test_tables_cover_the_standard_value_sets() -> None:
    sizes = {field: len(reading_type_table(field)) for field in ENUM_FIELDS}
    assert sizes == {
        "macroPeriod": 8,
        "aggregate": 17,
        "measuringPeriod": 50,
        "accumulation": 11,
        "flowDirection": 21,
        "commodity": 42,
        "measurementKind": 135,
        "phases": 32,
        "multiplier": 21,
        "unit": 233,
    }
    period = reading_type_table("measuringPeriod")
    assert (period[2].name, period[2].label, period[2].minutes) == (
        "fifteenMinute",
        "15-minute",
        15,
    )
    assert reading_type_table("unit")[72].name == "Wh"
    assert reading_type_table("flowDirection")[19].name == "reverse"
    assert reading_type_table("phases")[225].name == "ABCN"
    with pytest.raises(CodeError, match="no table"):
        reading_type_table("tou")


@pytest.mark.parametrize("field", [*ENUM_FIELDS, "currency"])
def test_every_name_and_label_resolves_back_to_its_code(field: str) -> None:
    table = reading_type_table(field)
    names = [value.name for value in table.values()]
    assert len(set(names)) == len(names)
    for value in table.values():
        assert table.resolve(value.name) == value.code
        assert table.resolve(value.code) == value.code
        for alias in value.aliases:
            assert table.resolve(alias) == value.code


# ---------------------------------------------------------------------------------------------
# property: anything built from table values round-trips
# ---------------------------------------------------------------------------------------------
def _field(field: str) -> st.SearchStrategy[int]:
    return st.sampled_from(sorted(reading_type_table(field)))


_counts = st.integers(min_value=0, max_value=10**6)


@given(
    st.fixed_dictionaries(
        {
            "macro_period": _field("macroPeriod"),
            "aggregate": _field("aggregate"),
            "measuring_period": _field("measuringPeriod"),
            "accumulation": _field("accumulation"),
            "flow_direction": _field("flowDirection"),
            "commodity": _field("commodity"),
            "measurement_kind": _field("measurementKind"),
            "interharmonic_numerator": _counts,
            "interharmonic_denominator": _counts,
            "argument_numerator": _counts,
            "argument_denominator": _counts,
            "tou": _counts,
            "cpp": _counts,
            "consumption_tier": _counts,
            "phases": _field("phases"),
            "multiplier": _field("multiplier"),
            "unit": _field("unit"),
            "currency": st.integers(min_value=0, max_value=999),
        }
    )
)
def test_any_valid_reading_type_round_trips(fields: dict[str, int]) -> None:
    reading_type = ReadingType(**fields)
    code = reading_type.code
    assert len(code.split(".")) == 18
    parsed = ReadingType.parse(code)  # strict: every value came from a table
    assert parsed == reading_type
    assert parsed.code == code
    attrs = [f.name for f in dataclasses.fields(ReadingType)]
    by_name = {
        attr: reading_type_table(field).name(value) if field in ENUM_FIELDS else value
        for attr, field, value in zip(
            attrs, READING_TYPE_FIELDS, reading_type.values(), strict=True
        )
    }
    assert ReadingType.build(**by_name) == reading_type
    assert isinstance(parsed.describe(), str)


# ---------------------------------------------------------------------------------------------
# package guarantees
# ---------------------------------------------------------------------------------------------
def test_package_is_the_lowest_layer_and_uses_only_the_standard_library() -> None:
    forbidden = {"routing", "endpoints", "simulators", "conformance", "cimbus"}
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                assert top not in forbidden, f"{path.name} imports {module}"
                assert top in sys.stdlib_module_names or top == "__future__", (
                    f"{path.name} imports third-party {module}"
                )


def test_every_data_file_is_valid_toml_and_shipped_as_package_data() -> None:
    data_files = sorted((PACKAGE / "data").glob("*.toml"))
    assert {p.stem for p in data_files} >= {
        "reading_type",
        "end_device",
        "end_device_codes",
        "outage_aliases",
        "reading_quality",
    }
    for path in data_files:
        tomllib.loads(path.read_text(encoding="utf-8"))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]["cim_models"]
    assert "codes/data/*.toml" in package_data


@pytest.mark.parametrize(
    "module", ["__init__", "reading_type", "end_device", "outage", "reading_quality"]
)
def test_docstring_examples_hold(module: str) -> None:
    name = "cim_models.codes" if module == "__init__" else f"cim_models.codes.{module}"
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0


def test_public_api_is_exported() -> None:
    for name in codes.__all__:
        assert hasattr(codes, name), name
