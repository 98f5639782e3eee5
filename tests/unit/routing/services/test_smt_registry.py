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

E = "10443720001234567"

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
        (
            "r.toml",
            f"[[usage_points]]\nesiid = '{E}'\nams = 'maybe'\n",
            "ams must be true or false",
        ),
        ("r.toml", f"[[usage_points]]\nesiid = '{E}'\ninterval_minutes = 'x'\n", "whole number"),
        ("r.toml", "[meters]\nx = 1\n", "expected only \\[\\[usage_points\\]\\]"),
        ("r.toml", "not toml [", "not valid TOML"),
        ("r.csv", "meter,ror\n1,2\n", "first line must name the columns"),
        ("r.csv", f"esiid,ams\n{E},perhaps\n", "line 2: ams must be true or false"),
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


E2 = "10443720009876543"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        # a row with more (or fewer) cells than the header: nothing is dropped or padded
        (
            "r.csv",
            f"esiid,meter_number,ror\n{E},M1,REP-A,EXTRA,MORE\n",
            r"line 2 has 5 cell\(s\) but the header names 3 column\(s\)",
        ),
        ("r.csv", f"esiid,meter_number,ror\n{E},M1\n", "line 2 has 2 cell"),
        # the same ESIID twice: the store keeps one, so the file is refused
        (
            "r.csv",
            f"esiid,ror\n{E},REP-A\n{E2},REP-A\n\n{E},REP-B\n",
            f"line 5: ESIID {E} appears twice \\(first at line 2\\)",
        ),
        (
            "r.toml",
            f"[[usage_points]]\nesiid = '{E}'\n[[usage_points]]\nesiid = '{E}'\n",
            rf"usage_points\[1\]: ESIID {E} appears twice \(first at usage_points\[0\]\)",
        ),
        # the header
        ("r.csv", f"esiid,esiid\n{E},{E2}\n", "column 'esiid' appears twice \\(columns 1 and 2\\)"),
        ("r.csv", f"esiid,ror,\n{E},X,\n", "line 1: column 3 has no name"),
        ("r.csv", f"esiid,colour\n{E},red\n", "line 1: unknown column\\(s\\) colour"),
        # CSV syntax
        ("r.csv", f'esiid,ror\n{E},"REP-A\n', "not valid CSV: unexpected end of data"),
        # interval_minutes: a length a meter records, or 0 (no interval data)
        ("r.toml", f"[[usage_points]]\nesiid = '{E}'\ninterval_minutes = -15\n", "-15 is not an"),
        ("r.csv", f"esiid,interval_minutes\n{E},7\n", "line 2: interval_minutes 7 is not an"),
        ("r.csv", f"esiid,interval_minutes\n{E},1_5\n", "whole number"),
        ("r.toml", f"[[usage_points]]\nesiid = '{E}'\ninterval_minutes = 15.5\n", "whole number"),
        ("r.toml", f"[[usage_points]]\nesiid = '{E}'\ninterval_minutes = true\n", "whole number"),
        # the ESIID: 17 or 22 digits
        ("r.csv", "esiid,ror\n1001,REP-A\n", "line 2: esiid '1001' is not an ESIID"),
        ("r.toml", "[[usage_points]]\nesiid = '1044372000123456X'\n", r"usage_points\[0\]: esiid"),
        ("r.csv", "esiid,ror\n,REP-A\n", "line 2: esiid is missing"),
        # other fields
        ("r.toml", f"[[usage_points]]\nesiid = '{E}'\nror = true\n", "ror must be text"),
        ("r.toml", f"[[usage_points]]\nesiid = '{E}'\nmeter_number = [1]\n", "must be text"),
        ("r.toml", f"[[usage_points]]\nesiid = '{E}'\ndaily_read = 2\n", "daily_read must be"),
        ("r.toml", "usage_points = [1]\n", r"usage_points\[0\] must be a table"),
    ],
)
def test_a_wrong_entry_is_refused_naming_file_row_and_problem(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_registry(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("esiid\n1\n".encode("utf-16"), "is UTF-16 text: save it as UTF-8"),
        ("esiid\n1\n".encode("utf-16-le"), "line 1 holds a NUL byte"),
        (f"esiid,ror\n{E},REP-\xe9\n".encode("latin-1"), "line 2 is not UTF-8 text"),
        (bytes(range(256)), "holds a NUL byte"),
    ],
)
@pytest.mark.parametrize("suffix", [".csv", ".toml"])
def test_a_file_that_is_not_utf8_text_is_one_error(
    tmp_path: Path, data: bytes, message: str, suffix: str
) -> None:
    path = tmp_path / f"r{suffix}"
    path.write_bytes(data)
    with pytest.raises(ConfigError, match=message) as info:
        load_registry(path)
    assert str(path) in str(info.value)


def test_utf8_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    for name, text in (("r.csv", CSV), ("r.toml", TOML)):
        path = tmp_path / name
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
        assert load_registry(path)[0] == EXPECTED[0]


def test_a_directory_is_named_as_one(tmp_path: Path) -> None:
    folder = tmp_path / "registry.csv"
    folder.mkdir()
    with pytest.raises(ConfigError, match=f"{folder} is a directory"):
        load_registry(folder)


def test_intervals_and_a_22_digit_esiid_are_accepted(tmp_path: Path) -> None:
    long_id = "1008901000140050014100"
    text = (
        "esiid,interval_minutes\n"
        f"{E},5\n{E2},0\n{long_id},60\n10443720005555555, 30 \n10443720005555556,\n"
    )
    points = load_registry(write(tmp_path, "r.csv", text))
    assert [(p.esiid, p.interval_minutes) for p in points] == [
        (E, 5),
        (E2, 0),  # no interval data (a legacy meter): ODR-6 refuses it, the registry keeps it
        (long_id, 60),
        ("10443720005555555", 30),
        ("10443720005555556", 15),  # an empty cell takes the default
    ]


def test_the_registry_of_each_shipped_profile_loads(tmp_path: Path) -> None:
    """What ``cimbus smt registry`` writes for the conformance suites loads back."""
    from conformance.harness import registry_toml
    from simulators._core import load_profile

    profile = load_profile("demo")
    path = write(tmp_path, "demo.toml", registry_toml(profile))
    assert [p.esiid for p in load_registry(path)] == [m.esiid for m in profile.meters]


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
