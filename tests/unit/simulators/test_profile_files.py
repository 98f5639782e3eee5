"""Profile files that are not what they should be: one ProfileError naming the file (and the
entry), never a traceback and never an empty population (docs/simulators.md)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from simulators import SIMULATORS
from simulators._core import ProfileError, load_profile
from simulators._core.profile import INTERVALS, PROFILES_DIR, SECTIONS, profile_from_mapping

METER = {"esiid": "10443720001234567", "meter": "M1"}


def demo() -> dict:
    return tomllib.loads((PROFILES_DIR / "demo.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["demo", "load"])
def test_the_shipped_profiles_load(name: str) -> None:
    assert load_profile(name).meters


def test_a_free_section_per_simulator() -> None:
    assert set(SECTIONS) == set(SIMULATORS)


def test_intervals_are_those_of_the_smt_registry() -> None:
    from routing.services.smt.registry import INTERVALS as REGISTRY_INTERVALS

    assert INTERVALS == REGISTRY_INTERVALS


def test_a_directory_is_named_as_one(tmp_path: Path) -> None:
    folder = tmp_path / "p.toml"
    folder.mkdir()
    with pytest.raises(ProfileError, match=f"profile {folder} is a directory"):
        load_profile(folder)


@pytest.mark.parametrize(
    "data",
    [
        '[profile]\nname = "x"\n'.encode("utf-16"),
        '[profile]\nname = "x"\n'.encode("utf-16-le"),
        b'[profile]\nname = "\xe9"\n',
        bytes(range(256)),
    ],
)
def test_a_file_that_is_not_utf8_text_is_one_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "p.toml"
    path.write_bytes(data)
    with pytest.raises(ProfileError, match=f"profile {path} is not UTF-8 text"):
        load_profile(path)


def test_a_misspelt_section_is_refused_naming_it_and_the_known_ones(tmp_path: Path) -> None:
    text = (PROFILES_DIR / "demo.toml").read_text(encoding="utf-8")
    path = tmp_path / "typo.toml"
    path.write_text(text.replace("[[meters]]", "[[meterz]]"), encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert message.startswith(f"{path}: unknown section(s) meterz;")
    assert "[[meters]]" in message and "[headend]" in message


def test_a_cimbus_configuration_is_not_a_profile(tmp_path: Path) -> None:
    path = tmp_path / "cimbus.toml"
    path.write_text('[store]\nurl = "sqlite:////tmp/x.db"\n[systems.HES]\n', encoding="utf-8")
    with pytest.raises(
        ProfileError,
        match=r"unknown section\(s\) store, systems \(this looks like a cimbus configuration",
    ):
        load_profile(path)


@pytest.mark.parametrize(
    "data",
    [
        {"profile": {"name": "x"}},
        {"generate": {"meters": 0}, "crm": {}},
        {},
    ],
)
def test_a_profile_without_meters_is_refused(data: dict) -> None:
    with pytest.raises(ProfileError, match="the profile has no meters"):
        profile_from_mapping(data, source="p.toml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"meters": {"esiid": "1", "meter": "m"}},
            r"meters must be an array of tables \(\[\[meters\]\]\)",
        ),
        ({"meters": [METER], "organizations": [1]}, "organizations must be an array of tables"),
        ({"meters": [METER], "crm": 1}, r"crm must be a table \(\[crm\]\)"),
        ({"meters": [METER], "profile": []}, "profile must be a table"),
        ({"meters": [{**METER, "ams": "no"}]}, r"meters\[0\]: ams must be true or false, not 'no'"),
        ({"meters": [{**METER, "interval_minutes": "15"}]}, "interval_minutes must be a whole"),
        ({"meters": [{**METER, "interval_minutes": True}]}, "interval_minutes must be a whole"),
        ({"meters": [{**METER, "interval_minutes": -15}]}, "interval_minutes -15 is not an"),
        ({"meters": [{**METER, "interval_minutes": 7}]}, "interval_minutes 7 is not an"),
        ({"meters": [{**METER, "rated_kw": "big"}]}, "rated_kw must be a number"),
        ({"meters": [{**METER, "ror": 5}]}, "ror must be text"),
        ({"generate": {"meters": "many", "rors": ["R"]}}, r"\[generate\]: meters must be a whole"),
        ({"generate": {"meters": -3, "rors": ["R"]}}, r"\[generate\]: meters must be a whole"),
        ({"generate": {"meters": 2, "rors": "R"}}, r"\[generate\]: rors must be a list"),
        (
            {"generate": {"meters": 2, "rors": ["R"], "rated_kw": [0]}},
            "rated_kw must list positive",
        ),
        ({"generate": {"meters": 2, "rors": ["R"], "esiid_prefix": "10AB"}}, "must be digits"),
    ],
)
def test_wrong_entries_are_named(data: dict, message: str) -> None:
    with pytest.raises(ProfileError, match=message) as info:
        profile_from_mapping(data, source="p.toml")
    assert str(info.value).startswith("p.toml")


def test_a_legacy_meter_without_interval_data_is_allowed() -> None:
    p = profile_from_mapping({"meters": [{**METER, "ams": False, "interval_minutes": 0}]})
    assert p.meters[0].interval_minutes == 0
    assert load_profile("demo").meter("LEGACY-01").interval_minutes == 0
