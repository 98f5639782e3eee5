"""Routes as data (BUS-2, BUS-8): lookups, fan-out, and start-up errors that name the entry."""

from __future__ import annotations

import pytest

from routing.errors import ConfigError, UnsupportedRequest
from routing.routes import RouteTable

BASE = {
    "systems": {
        "CIS": {"transport": "embedded"},
        "HES": {"transport": "embedded"},
        "MDMS": {"transport": "embedded"},
        "OMS": {"transport": "embedded"},
        "HES2": {"transport": "embedded"},
    },
    "routes": [
        {"verb": "get", "noun": "MeterReadings", "target": "HES", "timeout": 5},
        {"verb": "get", "noun": "MeterReadings", "target": "HES2", "source": "OMS"},
        {"verb": "create", "noun": "EndDeviceControls", "target": "HES", "mode": "async"},
    ],
    "subscriptions": [
        {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["MDMS", "OMS"]},
        {
            "verb": "created",
            "noun": "EndDeviceEvents",
            "source": "HES",
            "subscribers": ["CIS", "OMS"],
        },
    ],
}


def table(**changes: object) -> RouteTable:
    data = {**BASE, **changes}
    return RouteTable.from_mapping(data)


def test_request_route_lookup_prefers_source_specific() -> None:
    t = table()
    assert t.route_for("get", "MeterReadings", "CIS").target == "HES"
    assert t.route_for("get", "MeterReadings", "OMS").target == "HES2"
    assert t.route_for("get", "MeterReadings").timeout == 5
    assert t.route_for("create", "EndDeviceControls").mode == "async"


def test_unknown_verb_noun_is_a_failed_reply_naming_it() -> None:
    with pytest.raises(UnsupportedRequest) as info:
        table().route_for("delete", "MeterReadings")
    assert "'delete MeterReadings'" in info.value.reason
    assert info.value.code == "2.5"


def test_event_fan_out_merges_subscriptions_and_skips_the_sender() -> None:
    t = table()
    names = [s.name for s in t.subscribers_for("created", "EndDeviceEvents", "HES")]
    assert names == ["CIS", "OMS", "MDMS"]
    names = [s.name for s in t.subscribers_for("created", "EndDeviceEvents", "MDMS")]
    assert names == ["OMS"]  # MDMS sent it: not sent back
    with pytest.raises(UnsupportedRequest, match="no subscription"):
        t.subscribers_for("closed", "EndDeviceEvents")


def test_default_addresses_per_transport() -> None:
    t = RouteTable.from_mapping(
        {
            "systems": {
                "A": {"transport": "amqp"},
                "M": {"transport": "mqtt"},
                "L": {"transport": "local"},
            }
        }
    )
    assert t.systems["A"].address == "cimbus.system.A"
    assert t.systems["M"].address == "cimbus/system/M"
    assert t.systems["L"].address == "L"


@pytest.mark.parametrize(
    "changes,fragment",
    [
        (
            {
                "routes": [
                    *BASE["routes"],
                    {"verb": "get", "noun": "MeterReadings", "target": "MDMS"},
                ]
            },
            "duplicate route 'get MeterReadings': served by both 'HES' and 'MDMS'",
        ),
        (
            {"routes": [{"verb": "get", "noun": "MeterReadings", "target": "NOPE"}]},
            "names unknown system 'NOPE'",
        ),
        (
            {"subscriptions": [{"verb": "created", "noun": "X", "subscribers": ["CIS", "GHOST"]}]},
            "unknown system 'GHOST'",
        ),
        (
            {"routes": [{"verb": "created", "noun": "X", "target": "HES"}]},
            "route verb 'created' is not allowed",
        ),
        (
            {"subscriptions": [{"verb": "get", "noun": "X", "subscribers": ["CIS"]}]},
            "subscription verb 'get' is not allowed",
        ),
        (
            {"routes": [{"verb": "get", "noun": "X", "target": "HES", "mode": "sometimes"}]},
            "mode must be sync or async",
        ),
        (
            {"routes": [{"verb": "get", "noun": "X", "target": "HES", "color": "red"}]},
            "unknown key(s) color",
        ),
        ({"routes": [{"verb": "get", "noun": "X"}]}, "missing target"),
        (
            {"systems": {"S": {"transport": "pigeon"}}, "routes": [], "subscriptions": []},
            "transport 'pigeon'",
        ),
        (
            {"systems": {"S": {"transport": "soap"}}, "routes": [], "subscriptions": []},
            "needs an address",
        ),
        (
            {"subscriptions": [{"verb": "created", "noun": "X", "subscribers": []}]},
            "missing subscribers",
        ),
        (
            {"subscriptions": [{"verb": "created", "noun": "X", "subscribers": ["CIS", "CIS"]}]},
            "twice",
        ),
        (
            {"routes": [{"verb": "get", "noun": "X", "target": "HES", "source": "NOBODY"}]},
            "unknown system 'NOBODY'",
        ),
    ],
)
def test_bad_tables_fail_at_start_up(changes: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        table(**changes)
    assert fragment in str(info.value)


def test_rows_for_printing() -> None:
    rows = table().rows()
    kinds = [(r["kind"], r["verb"], r["noun"], r["to"]) for r in rows]
    assert ("request", "get", "MeterReadings", "HES") in kinds
    assert ("event", "created", "EndDeviceEvents", "MDMS, OMS") in kinds
