"""Configuration limits (BUS-8): a file that cannot be read, a number the code using it cannot
take (nan, inf, out of range), an empty SOAP host, a SOAP address that is no http(s) URL and a
missing SMT registry are one ConfigError when the configuration is read, naming the file (or
the environment variable), the section and the key, and what is allowed; never a traceback
later in ``cimbus serve`` or ``cimbus store prune``."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.config import Config
from routing.errors import ConfigError

SECONDS = "must be a positive number of seconds, at most 3153600000 (100 years), not"


def _refused(tmp_path: Path, text: str) -> str:
    f = tmp_path / "cimbus.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Config.load(f, env={})
    message = str(info.value)
    assert message.startswith(f"{f}: ") and "\n" not in message, message
    return message


# ---------------------------------------------------------------------------- unreadable files


def test_a_directory_is_not_a_configuration_file(tmp_path: Path) -> None:
    d = tmp_path / "adir.toml"
    d.mkdir()
    with pytest.raises(ConfigError, match=r"^configuration file .*adir\.toml is a directory"):
        Config.load(d, env={})


@pytest.mark.parametrize(
    "raw",
    [
        "[bus]\nsystem_name = 'X'\n".encode("utf-16"),  # with its byte-order mark
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"[bus]\nsystem_name = '\xe9t\xe9'\n",  # Latin-1
    ],
    ids=["utf-16", "binary", "latin-1"],
)
def test_a_file_that_is_not_utf8_text_is_named(tmp_path: Path, raw: bytes) -> None:
    f = tmp_path / "cimbus.toml"
    f.write_bytes(raw)
    with pytest.raises(ConfigError) as info:
        Config.load(f, env={})
    assert str(info.value).startswith(f"configuration file {f} is not UTF-8 text")
    assert "(TOML files are UTF-8" in str(info.value)


def test_a_utf8_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    f = tmp_path / "cimbus.toml"
    f.write_bytes("\ufeff[bus]\nsystem_name = 'X'\n".encode())
    assert Config.load(f, env={}).bus.system_name == "X"


def test_an_unreadable_file_named_by_the_environment(tmp_path: Path, monkeypatch) -> None:
    f = tmp_path / "cimbus.toml"
    f.write_text("[bus]\n")

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)  # chmod 000 means nothing to root
    with pytest.raises(ConfigError) as info:
        Config.load(None, env={"CIMBUS_CONFIG": str(f)})
    assert str(info.value) == (
        f"configuration file {f} (environment CIMBUS_CONFIG) cannot be read: permission denied"
    )


# ---------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[bus]\ndefault_timeout = -1", f"[bus] default_timeout {SECONDS} -1"),
        ("[bus]\ndefault_timeout = 0", f"[bus] default_timeout {SECONDS} 0"),
        ("[bus]\ndefault_timeout = nan", f"[bus] default_timeout {SECONDS} nan"),
        ("[bus]\ndefault_timeout = inf", f"[bus] default_timeout {SECONDS} inf"),
        ("[bus]\noutbox_poll = 0", f"[bus] outbox_poll {SECONDS} 0"),
        ("[bus]\noutbox_poll = nan", f"[bus] outbox_poll {SECONDS} nan"),
        ("[bus]\nretry_base = inf", f"[bus] retry_base {SECONDS} inf"),
        ("[bus]\nretry_base = 0", f"[bus] retry_base {SECONDS} 0"),
        ("[bus]\nretry_max = -5", f"[bus] retry_max {SECONDS} -5"),
        ("[bus]\nretry_max = nan", f"[bus] retry_max {SECONDS} nan"),
        ("[bus]\nretry_max = 1e10", f"[bus] retry_max {SECONDS} 1e+10"),
        (
            "[bus]\nretry_base = 5\nretry_max = 1",
            "[bus] retry_max = 1 is less than retry_base = 5",
        ),
        ("[bus]\nmax_attempts = 0", "[bus] max_attempts must be 1 to 1000"),
        ("[bus]\nmax_attempts = 2000", "[bus] max_attempts must be 1 to 1000"),
        ("[bus]\nmax_bytes = -1", "[bus] max_bytes must be at least 1 (bytes"),
        ("[bus]\nmax_bytes = 0", "[bus] max_bytes must be at least 1 (bytes"),
        ("[bus]\nmax_depth = 0", "[bus] max_depth must be 1 to 256"),
        ("[bus]\nmax_depth = 257", "[bus] max_depth must be 1 to 256"),
        ("[bus]\nembedded_consumers = 0", "[bus] embedded_consumers must be at least 1, not 0"),
        ("[store]\nmax_payload_bytes = -1", "[store] max_payload_bytes must be 0 (keep no bytes)"),
        ("[store]\naudit_days = inf", "[store] audit_days must be 0 (keep for ever) or more"),
        ("[store]\noutbox_days = nan", "at most 36500 days (100 years), not nan"),
        ("[store]\ndedupe_days = 36501", "[store] dedupe_days must be 0 (keep for ever)"),
        ("[store]\ndedupe_days = 1e300", "at most 36500 days (100 years), not 1e+300"),
        ("[store]\nprune_every = nan", f"[store] prune_every {SECONDS} nan"),
        ("[store]\nprune_every = inf", f"[store] prune_every {SECONDS} inf"),
        ("[soap]\nworkers = 0", "[soap] workers must be at least 1, not 0"),
        ("[smt]\ntimeout = nan", f"[smt] timeout {SECONDS} nan"),
        ("[smt]\ntimeout = -inf", f"[smt] timeout {SECONDS} -inf"),
        ("[smt]\nwindow_hours = inf", "[smt] window_hours must be positive, a number of hours"),
        ("[smt]\nwindow_hours = nan", "up to 876000 (100 years), not nan"),
        ("[smt]\npings_per_day = -1", "[smt] pings_per_day must be 0 (unlimited) or more"),
        ("[bus]\ndefault_timeout = " + "9" * 400, "[bus] default_timeout is too large a number"),
    ],
)
def test_numbers_out_of_range_are_named(tmp_path: Path, text: str, fragment: str) -> None:
    message = _refused(tmp_path, text + "\n")
    assert fragment in message, message


ROUTE = "[systems.H]\n[[routes]]\nverb = 'get'\nnoun = 'X'\ntarget = 'H'\n"


@pytest.mark.parametrize(
    ("timeout", "shown"),
    [("nan", "nan"), ("inf", "inf"), ("-1", "-1"), ("0", "0"), ("'30'", "str '30'")],
)
def test_route_timeouts_are_numbers_of_seconds(tmp_path: Path, timeout: str, shown: str) -> None:
    message = _refused(tmp_path, f"{ROUTE}timeout = {timeout}\n")
    assert f"routes[0] timeout {SECONDS} {shown}" in message, message


def test_the_largest_values_pass() -> None:
    cfg = Config.from_mapping(
        {
            "bus": {"max_depth": 256, "max_attempts": 1000, "retry_base": 1, "retry_max": 1},
            "store": {"audit_days": 36500, "max_payload_bytes": 0, "prune_every": 3153600000},
            "smt": {"window_hours": 876000, "timeout": 0.001},
        }
    )
    assert cfg.bus.max_depth == 256 and cfg.store.audit_days == 36500.0


def test_a_value_from_the_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        Config.load(None, env={"CIMBUS_SOAP_WORKERS": "0"})
    assert str(info.value) == "environment CIMBUS_SOAP_WORKERS must be at least 1, not 0"
    with pytest.raises(ConfigError) as info:
        Config.load(None, env={"CIMBUS_SOAP_WORKERS": "2", "CIMBUS_MQTT_URL": "mqtt://h"})
    assert str(info.value).startswith(
        "environment CIMBUS_SOAP_WORKERS = 2 with environment CIMBUS_MQTT_URL: "
    )


def test_soap_host_may_not_be_empty(tmp_path: Path) -> None:
    message = _refused(tmp_path, "[soap]\nhost = ''\n")
    assert "[soap] host is empty" in message and "0.0.0.0" in message


# ---------------------------------------------------------------------------- SOAP addresses


def _soap_system(address: str) -> dict:
    return {"systems": {"CIS": {"transport": "soap", "address": address}}}


@pytest.mark.parametrize(
    "address",
    [
        "http://cis.example:8080/ws",  # a folder of services: the IEC service is appended
        "https://cis.example/cim/2011/ReplyEndDeviceControls",  # a service's own URL
        "http://127.0.0.1:8081/ws/",
        "http://[::1]:8080/ws",
        "https://user:secret@cis.example/ws?tenant=1",
        "HTTP://cis.example/ws",
    ],
)
def test_soap_addresses_that_work_pass(address: str) -> None:
    Config.from_mapping(_soap_system(address))


@pytest.mark.parametrize(
    ("address", "fragment"),
    [
        ("cimbus.system.CIS", "is not an http(s) URL"),
        ("cis.example:8080/ws", "is not an http(s) URL"),
        ("ftp://cis.example/ws", "is not an http(s) URL"),
        ("http:///ws", "is not an http(s) URL"),
        ("http://[::1/ws", "is not a URL"),
        ("http://cis.example:99999/ws", "the port must be a whole number from 1 to 65535"),
        ("http://cis.example:x/ws", "the port must be a whole number from 1 to 65535"),
        ("http://cis example/ws", "is not a host name or address"),
        ("http://cis<x>.example/ws", "is not a host name or address"),
        ("https://u:secret@/ws", "is not an http(s) URL"),
    ],
)
def test_soap_addresses_that_never_work_are_named(address: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_mapping(_soap_system(address), source="c.toml")
    message = str(info.value)
    assert message.startswith("c.toml: [systems.CIS] address ") and fragment in message, message
    assert "secret" not in message


# ---------------------------------------------------------------------------- [smt] registry


def test_a_missing_registry_is_named_when_the_configuration_is_read(tmp_path: Path) -> None:
    message = _refused(tmp_path, "[smt]\nregistry = '/nonexistent.toml'\n")
    assert message.endswith("[smt] registry /nonexistent.toml does not exist"), message
    message = _refused(tmp_path, "[smt]\nregistry = 'usage_points.csv'\n")
    assert f"[smt] registry {tmp_path / 'usage_points.csv'} ('usage_points.csv', relative" in (
        message
    )
    assert message.endswith("does not exist")


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p.mkdir(), "is a directory, not a file"),
        (lambda p: p.write_bytes("esiid\n1\n".encode("utf-16")), "is not UTF-8 text"),
        (lambda p: p.write_bytes("esiid\n1\n".encode("utf-16-le")), "is not UTF-8 text"),
    ],
    ids=["directory", "utf-16", "utf-16-no-bom"],
)
def test_an_unusable_registry_is_named(tmp_path: Path, make, fragment: str) -> None:
    make(tmp_path / "reg.csv")
    message = _refused(tmp_path, "[smt]\nregistry = 'reg.csv'\n")
    assert f"[smt] registry {tmp_path / 'reg.csv'}" in message and fragment in message, message


def test_a_registry_of_another_kind_is_named(tmp_path: Path) -> None:
    (tmp_path / "reg.txt").write_text("esiid\n1\n")
    message = _refused(tmp_path, "[smt]\nregistry = 'reg.txt'\n")
    assert message.endswith("use a .toml or .csv file"), message


def test_an_unreadable_registry_is_named(tmp_path: Path, monkeypatch) -> None:
    import routing.config

    (tmp_path / "reg.toml").write_text("")

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(routing.config, "open", denied, raising=False)
    message = _refused(tmp_path, "[smt]\nregistry = 'reg.toml'\n")
    assert "reg.toml" in message and message.endswith("cannot be read: permission denied")


def test_a_registry_is_not_looked_at_when_the_service_is_disabled(tmp_path: Path) -> None:
    Config.from_mapping({"smt": {"enabled": False, "registry": "/nonexistent.toml"}})


def test_a_readable_registry_passes(tmp_path: Path) -> None:
    (tmp_path / "reg.csv").write_bytes("\ufeffesiid,ror\n1,R\n".encode())
    (tmp_path / "cimbus.toml").write_text("[smt]\nregistry = 'reg.csv'\n")
    cfg = Config.load(tmp_path / "cimbus.toml", env={})
    assert cfg.smt.registry_path(cfg.source) == tmp_path / "reg.csv"


# ---------------------------------------------------------------------------- shapes, public_url


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("systems = 5\n", "[systems] must be a table of [systems.NAME] sections"),
        ("[systems]\nHES = 'embedded'\n", "[systems.HES] must be a table"),
        ("[routes]\nverb = 'get'\n", "routes must be an array of tables, written [[routes]]"),
        ("subscriptions = ['MDMS']\n", "subscriptions must be an array of tables"),
        ("[systems.HES]\ntransport = 5\n", "system 'HES': transport must be a string, not 5"),
        (
            "[systems.HES]\norganizations = 'ORG'\n[systems.X]\norganizations = [1]\n",
            "system 'X': organizations must be a name or a list of names, not [1]",
        ),
        (
            "[systems.MDMS]\n[[subscriptions]]\nverb = 'created'\nnoun = 'MeterReadings'\n"
            "subscribers = [1, 2]\n",
            "subscriptions[0]: subscribers must be a name or a list of names",
        ),
        ("[soap]\npublic_url = 'not a url'\n", "[soap] public_url 'not a url' is not an http(s)"),
        ("[soap]\npublic_url = 'https://x.example/?a=1'\n", "has no query or fragment"),
        ("[soap]\npublic_url = 'https://x.example:0'\n", "the port must be a whole number"),
    ],
)
def test_wrong_shapes_and_public_urls_are_named(tmp_path: Path, text: str, fragment: str) -> None:
    message = _refused(tmp_path, text)
    assert fragment in message, message


def test_a_public_url_callers_use_passes(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text("[soap]\npublic_url = 'https://cimbus.example.com/base'\n")
    assert Config.load(tmp_path / "c.toml").soap.public_url == "https://cimbus.example.com/base"
