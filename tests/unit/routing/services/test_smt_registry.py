"""The usage-point registry files (ODR-4, ODR-6) and the ``[smt]`` configuration section."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.config import Config, SmtConfig
from routing.errors import ConfigError
from routing.services.smt import load_registry
from routing.store import UsagePoint

from .conftest import smt_config

TOML = """
[[usage_points]]
esiid = "10443720001234567"
meter_number = "118822734"
ror = "REP-BLUEBONNET"

[[usage_points]]
esiid = "10443720009876543"
ror = "REP-LONESTAR"
ams = false
provisioned = true
interval_minutes = 60
daily_read = false
"""

CSV = """esiid,meter_number,ror,ams,provisioned,interval_minutes,daily_read
10443720001234567,118822734,REP-BLUEBONNET,true,yes,15,1

10443720009876543,,REP-LONESTAR,false,no,,0
"""

EXPECTED = [
    UsagePoint(esiid="10443720001234567", meter_number="118822734", ror="REP-BLUEBONNET"),
    UsagePoint(
        esiid="10443720009876543",
        ror="REP-LONESTAR",
        ams=False,
        interval_minutes=60,
        daily_read=False,
    ),
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_registry(tmp_path: Path) -> None:
    assert load_registry(write(tmp_path, "registry.toml", TOML)) == EXPECTED


def test_csv_registry(tmp_path: Path) -> None:
    [first, second] = load_registry(write(tmp_path, "registry.csv", CSV))
    assert first == EXPECTED[0]
    assert second == UsagePoint(
        esiid="10443720009876543",
        ror="REP-LONESTAR",
        ams=False,
        provisioned=False,
        daily_read=False,
    )  # an empty interval_minutes keeps the default (15)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("r.toml", "[[usage_points]]\nror = 'X'\n", r"usage_points\[0\]: esiid is missing"),
        ("r.toml", "[[usage_points]]\nesiid = '1'\ncolour = 'red'\n", "unknown field"),
        ("r.toml", "[[usage_points]]\nesiid = '1'\nams = 'maybe'\n", "ams must be true or false"),
        ("r.toml", "[[usage_points]]\nesiid = '1'\ninterval_minutes = 'x'\n", "whole number"),
        ("r.toml", "[meters]\nx = 1\n", "expected only \\[\\[usage_points\\]\\]"),
        ("r.toml", "not toml [", "not valid TOML"),
        ("r.csv", "meter,ror\n1,2\n", "first line must name the columns"),
        ("r.csv", "esiid,ams\n1,perhaps\n", "line 2: ams must be true or false"),
        ("r.json", "{}", "use a .toml or .csv file"),
    ],
)
def test_bad_registry_files_name_the_file_entry_and_field(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_registry(path)
    assert str(path) in str(info.value)


def test_missing_registry_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_registry(tmp_path / "nope.toml")


# ---------------------------------------------------------------------------- [smt] config
def test_smt_defaults() -> None:
    smt = Config.from_mapping({}).smt
    assert smt == SmtConfig()
    assert (smt.enabled, smt.handler, smt.headend, smt.reads_per_day, smt.pings_per_day) == (
        True,
        "smt",
        "HES",
        1,
        1,
    )
    assert (smt.window_hours, smt.timezone, smt.registry_path()) == (48.0, "America/Chicago", None)


def test_smt_section_is_read_and_checked() -> None:
    cfg = Config.from_mapping(smt_config(reads_per_day=0, window_hours=24, timezone="UTC"))
    assert (cfg.smt.reads_per_day, cfg.smt.window_hours, cfg.smt.timezone) == (0, 24.0, "UTC")


def test_registry_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    smt = SmtConfig(registry="usage_points.csv")
    assert smt.registry_path(str(tmp_path / "cimbus.toml")) == tmp_path / "usage_points.csv"
    assert smt.registry_path("<mapping>") == Path("usage_points.csv")
    assert SmtConfig(registry="/abs/r.toml").registry_path(str(tmp_path / "c.toml")) == Path(
        "/abs/r.toml"
    )


@pytest.mark.parametrize(
    ("smt", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "is not an IANA time zone"),
        ({"reads_per_day": -1}, "0 \\(unlimited\\) or more"),
        ({"window_hours": 0}, "must be positive"),
        ({"headend": "NOPE"}, "headend 'NOPE' must name a configured, non-local system"),
        ({"headend": "SMT"}, "non-local system"),
        ({"enabled": False}, "served by the local handler 'smt', but \\[smt\\] enabled = false"),
        ({"colour": "red"}, "\\[smt\\] unknown key"),
        ({"reads_per_day": "1"}, "reads_per_day must be int"),
    ],
)
def test_bad_smt_section_fails_at_start_up(smt: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_mapping(smt_config(**smt))


def test_smt_may_be_disabled_when_nothing_routes_to_it() -> None:
    assert Config.from_mapping({"smt": {"enabled": False}}).smt.enabled is False
