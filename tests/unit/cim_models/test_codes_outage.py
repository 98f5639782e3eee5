"""cim_models.codes.OutageEventMap: configurable vendor aliases for outage events (D11-1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cim_models.codes import OUTAGE_MEANINGS, CodeError, EndDeviceCode, OutageEventMap, events

# every alias the default table must carry, with its meaning and who uses it
DEFAULTS = {
    "3.26.0.85": "power_down",  # Aclara
    "3.26.0.47": "power_down",  # AEP / Itron
    "0.26.38.85": "power_down",  # Connexo
    "3.26.136.47": "last_gasp",  # AEP / Itron
    "3.26.0.216": "power_up",  # AEP / Aclara-style
    "0.26.38.49": "power_up",  # Connexo
    "3.26.136.216": "power_up",  # AEP / Itron NIC restore
}


@pytest.mark.parametrize(("code", "meaning"), list(DEFAULTS.items()))
def test_default_aliases_classify_every_listed_vendor_code(code: str, meaning: str) -> None:
    outage_map = OutageEventMap.default()
    assert outage_map.classify(code) == meaning
    assert outage_map.classify(EndDeviceCode.parse(code, strict=False)) == meaning
    assert code in outage_map.codes_for(meaning)
    assert code in outage_map


def test_default_map_shape() -> None:
    outage_map = OutageEventMap.default()
    assert OutageEventMap.default() is outage_map  # cached
    assert OUTAGE_MEANINGS == ("power_down", "last_gasp", "power_up")
    assert set(outage_map.as_dict().values()) == set(OUTAGE_MEANINGS)
    assert all(alias.source for alias in outage_map.aliases)
    assert outage_map.codes_for("last_gasp") == ("3.26.136.47",)
    # the project's own named outage events are all recognised
    assert outage_map.classify(events.POWER_DOWN) == "power_down"
    assert outage_map.classify(events.LAST_GASP) == "last_gasp"
    assert outage_map.classify(events.POWER_RESTORED) == "power_up"


def test_other_codes_are_not_outages() -> None:
    outage_map = OutageEventMap.default()
    for code in ("3.31.0.23", "3.31.0.68", "3.2.22.150", "3.26.38.150", "3.12.0.257"):
        assert outage_map.classify(code) is None
        assert code not in outage_map
    with pytest.raises(CodeError):
        outage_map.classify("3.26.0")
    with pytest.raises(CodeError, match="unknown outage meaning"):
        outage_map.codes_for("outage")


def test_type_zero_alias_is_a_wildcard_but_exact_entries_win() -> None:
    outage_map = OutageEventMap.default()
    assert outage_map.classify("3.26.38.85") == "power_down"  # via 0.26.38.85
    assert outage_map.classify("10.26.38.49") == "power_up"  # via 0.26.38.49
    custom = OutageEventMap.from_mapping({"3.26.38.85": "last_gasp"})
    assert custom.classify("3.26.38.85") == "last_gasp"
    assert custom.classify("4.26.38.85") == "power_down"


def test_from_mapping_extends_replaces_and_ignores() -> None:
    extended = OutageEventMap.from_mapping(
        {"3.26.136.66": "last_gasp", "3.26.0.47": "ignore", "3.26.0.85": "power_up"}
    )
    assert extended.classify("3.26.136.66") == "last_gasp"
    assert extended.classify("3.26.0.47") is None
    assert extended.classify("3.26.0.85") == "power_up"
    assert extended.classify("3.26.136.47") == "last_gasp"  # defaults kept
    assert OutageEventMap.default().classify("3.26.0.47") == "power_down"  # default untouched
    replaced = OutageEventMap.from_mapping({"9.26.0.85": "power_down"}, mode="replace")
    assert replaced.as_dict() == {"9.26.0.85": "power_down"}
    assert replaced.classify("3.26.0.85") is None
    sourced = OutageEventMap.from_mapping(
        {"3.26.17.185": {"meaning": "power_down", "source": "our fleet"}}, mode="replace"
    )
    assert sourced.aliases[0].source == "our fleet"


def test_utility_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "outage.toml"
    path.write_text(
        'mode = "extend"\n'
        "[aliases]\n"
        '"3.26.136.66" = { meaning = "last_gasp", source = "Itron LG detector state" }\n'
        '"3.26.0.47" = "ignore"\n'
        '"10.26.80.59" = "last_gasp"\n',
        encoding="utf-8",
    )
    outage_map = OutageEventMap.from_toml(path)
    assert outage_map.classify("3.26.136.66") == "last_gasp"
    assert outage_map.classify("10.26.80.59") == "last_gasp"
    assert outage_map.classify("3.26.0.47") is None
    assert outage_map.classify("0.26.38.85") == "power_down"
    assert set(outage_map.codes_for("last_gasp")) == {"3.26.136.47", "3.26.136.66", "10.26.80.59"}

    replace_path = tmp_path / "replace.toml"
    replace_path.write_text('mode = "replace"\n[aliases]\n"3.26.0.85" = "power_down"\n')
    assert OutageEventMap.from_toml(replace_path).as_dict() == {"3.26.0.85": "power_down"}


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ('[aliases]\n"3.26.0" = "power_down"\n', r"'3\.26\.0' is not an EndDeviceEventType code"),
        ('[aliases]\n"3.26.x.85" = "power_down"\n', r"part 3 \(EndDeviceSubdomain\)"),
        ('[aliases]\n"3.26.0.85" = "powerdown"\n', r"unknown meaning 'powerdown'"),
        ('[aliases]\n"3.26.0.85" = 3\n', r"must map to a meaning"),
        ('[aliases]\n"3.26.0.85" = { meening = "power_up" }\n', r"unknown key\(s\) meening"),
        ('[aliases]\n"3.26.0.85" = { source = "x" }\n', r"has no meaning"),
        ('[aliases]\n3.26.0.85 = "power_down"\n', r"quote codes"),
        ('[aliases]\n"3.26.0.85" = "power_down"\n"03.26.0.85" = "power_up"\n', r"listed twice"),
        ('mode = "merge"\n[aliases]\n', r"mode must be 'extend' or 'replace'"),
        ('moed = "extend"\n[aliases]\n', r"unknown top-level key\(s\) moed"),
        ('mode = "extend"\n', r"missing the \[aliases\] table"),
        ("[aliases\n", r"not valid TOML"),
    ],
)
def test_invalid_utility_files_fail_with_clear_errors(
    tmp_path: Path, content: str, pattern: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CodeError, match=pattern) as info:
        OutageEventMap.from_toml(path)
    assert str(path) in str(info.value)


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        OutageEventMap.from_toml(tmp_path / "absent.toml")


def test_codes_are_normalised_and_equality() -> None:
    a = OutageEventMap.from_mapping({"03.26.0.85": "power_down"}, mode="replace")
    b = OutageEventMap.from_mapping({"3.26.0.85": "power_down"}, mode="replace")
    assert a.as_dict() == {"3.26.0.85": "power_down"}
    assert a == b
    assert len(a) == 1
    assert "power_down=1" in repr(a)
