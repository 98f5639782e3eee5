"""Configuration (BUS-8, BUS-10): TOML + environment overrides, validated with clear messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.config import Config, masked
from routing.errors import ConfigError


def test_defaults_are_embedded_and_local() -> None:
    cfg = Config.load(None, env={})
    assert cfg.store.url.startswith("sqlite:///")
    assert cfg.soap.host == "127.0.0.1"
    assert not cfg.amqp.enabled and not cfg.mqtt.enabled
    assert cfg.routes.systems == {}


def test_file_and_environment_overrides(tmp_path: Path) -> None:
    f = tmp_path / "cimbus.toml"
    f.write_text(
        """
[bus]
system_name = "SMT"
default_timeout = 10
[soap]
port = 9000
[systems.HES]
transport = "amqp"
[[routes]]
verb = "get"
noun = "MeterReadings"
target = "HES"
"""
    )
    env = {
        "CIMBUS_AMQP_URL": "amqp://u:p@broker:5672/%2F",
        "CIMBUS_DB_URL": "postgresql+psycopg://db/cimbus",
        "CIMBUS_SOAP_PORT": "9100",
    }
    cfg = Config.load(f, env=env)
    assert cfg.bus.system_name == "SMT" and cfg.bus.default_timeout == 10.0
    assert cfg.amqp.enabled and cfg.amqp.url == "amqp://u:p@broker:5672/%2F"
    assert cfg.store.url == "postgresql+psycopg://db/cimbus"
    assert cfg.soap.port == 9100
    assert cfg.routes.route_for("get", "MeterReadings").target == "HES"
    assert cfg.routes.route_for("get", "MeterReadings").timeout == 10.0  # [bus] default_timeout
    assert Config.load(env={"CIMBUS_CONFIG": str(f), "CIMBUS_AMQP_URL": "amqp://x"}).source == str(
        f
    )


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("[bus]\nsystem_nam = 'x'\n", "[bus] unknown key(s) system_nam"),
        ("[soap]\nport = 'eighty'\n", "[soap] port must be int, got str"),
        ("[soap]\nport = 70000\n", "is not a TCP port"),
        ("[store]\nurl = 'mysql://x'\n", "use sqlite:///FILE or postgresql+psycopg"),
        ("[store]\npayload_policy = 'some'\n", "payload_policy must be all, failed or none"),
        ("[mqtt]\nqos = 0\n", "QoS 0 may lose messages"),
        ("[amqp]\nworkers = 0\n", "[amqp] prefetch, confirm_batch and workers must be at least 1"),
        ("[amqp]\nbatch = 0\n", "[amqp] batch must be at least 1"),
        ("[amqp]\nbatch = true\n", "[amqp] batch must be int, got bool"),
        ("[mqtt]\nconsumers = 0\n", "[mqtt] consumers must be at least 1"),
        ("[amqp]\nprefetch = 70000\n", "[amqp] prefetch = 70000: use 1 to 65535"),
        ("[mqtt]\nmax_inflight = 0\n", "[mqtt] max_inflight = 0: use 1 to 65535"),
        ("[mqtt]\nmax_inflight = 65536\n", "[mqtt] max_inflight = 65536: use 1 to 65535"),
        ("[systems.HES]\ntransport = 'amqp'\n", "transport 'amqp', which is not enabled"),
        ("[bogus]\n", "unknown section(s) bogus"),
        ("[bus\n", "not valid TOML"),
        ("[[routes]]\nverb = 'get'\nnoun = 'X'\ntarget = 'NOPE'\n", "unknown system 'NOPE'"),
    ],
)
def test_bad_configuration_is_named(tmp_path: Path, text: str, fragment: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        Config.load(f, env={})
    assert fragment in str(info.value)
    assert str(f) in str(info.value)


def test_missing_file_and_bad_env() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Config.load("/nonexistent/cimbus.toml", env={})
    with pytest.raises(ConfigError, match="CIMBUS_SOAP_PORT='x' is not a whole number"):
        Config.load(None, env={"CIMBUS_SOAP_PORT": "x"})


def test_amqp_failure_policy_table(tmp_path: Path) -> None:
    f = tmp_path / "cimbus.toml"
    f.write_text(
        """
[amqp]
enabled = true
[amqp.on_failure]
default = { first = "dead_letter" }
"created MeterReadings" = { redelivered = "drop" }
"""
    )
    cfg = Config.load(f, env={})
    assert dict(cfg.amqp.on_failure) == {
        "default": (("first", "dead_letter"),),
        "created MeterReadings": (("redelivered", "drop"),),
    }
    hash(cfg.amqp)  # still a value (frozen, hashable)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('"created MeterReadings" = { redelivered = "requeue" }', "would loop for ever"),
        ('"created MeterReadings" = { first = "retry" }', "use one of requeue, dead_letter, drop"),
        ('"MeterReadings" = { first = "drop" }', 'use "verb noun"'),
        ('"fetched MeterReadings" = { first = "drop" }', "unknown verb 'fetched'"),
        ('"created MeterReadings" = { second = "drop" }', "unknown key(s) second"),
        ('"created MeterReadings" = "drop"', "must be a table"),
    ],
)
def test_amqp_failure_policy_mistakes_are_named(tmp_path: Path, table: str, message: str) -> None:
    f = tmp_path / "cimbus.toml"
    f.write_text(f"[amqp]\nenabled = true\n[amqp.on_failure]\n{table}\n")
    with pytest.raises(ConfigError) as info:
        Config.load(f, env={})
    assert message in str(info.value) and "[amqp.on_failure]" in str(info.value)
    assert str(f) in str(info.value)


def test_soap_workers_with_mqtt_are_refused_naming_why() -> None:
    """Every SOAP worker process builds the whole runtime: with MQTT they would share one
    inbound client id and take the session from each other."""
    with pytest.raises(ConfigError) as info:
        Config.from_mapping({"soap": {"workers": 2}, "mqtt": {"enabled": True}})
    assert "client 'cimbus'" in str(info.value) and "take it over" in str(info.value)
    Config.from_mapping({"soap": {"workers": 2}, "amqp": {"enabled": True}})  # AMQP scales out


#: where a URL goes in the file, per environment variable
URL_KEYS = {"CIMBUS_AMQP_URL": "amqp", "CIMBUS_MQTT_URL": "mqtt", "CIMBUS_DB_URL": "store"}
PORT_RANGE = "the port must be a whole number from 1 to 65535"


@pytest.mark.parametrize(
    ("var", "url", "fragment"),
    [
        ("CIMBUS_AMQP_URL", "amqp://guest:guest@[::1/", "is not a URL: Invalid IPv6 URL"),
        ("CIMBUS_AMQP_URL", "amqp://guest:guest@[x]/", "is not a URL"),
        ("CIMBUS_AMQP_URL", "amqp://guest:guest@127.0.0.1:notaport/", PORT_RANGE),
        ("CIMBUS_AMQP_URL", "amqp://guest:guest@127.0.0.1:70000/", PORT_RANGE),
        ("CIMBUS_AMQP_URL", "amqp://guest:guest@127.0.0.1:0/", PORT_RANGE),
        ("CIMBUS_AMQP_URL", "amqp:///%2F", "names no host"),
        ("CIMBUS_AMQP_URL", "http://guest:guest@mq/", "must start with amqp:// or amqps://"),
        ("CIMBUS_MQTT_URL", "mqtt://guest:guest@127.0.0.1:notaport", PORT_RANGE),
        ("CIMBUS_MQTT_URL", "mqtt://[::1", "is not a URL: Invalid IPv6 URL"),
        ("CIMBUS_MQTT_URL", "mqtt://", "names no host"),
        ("CIMBUS_DB_URL", "postgresql://[x", "is not a host name or IP address"),
        ("CIMBUS_DB_URL", "postgresql+psycopg://guest:guest@db:notaport/cimbus", PORT_RANGE),
        ("CIMBUS_DB_URL", "postgresql+psycopg://guest:guest@db:99999/cimbus", PORT_RANGE),
        ("CIMBUS_DB_URL", "guest:guest@db/cimbus", "is not a database URL"),
        ("CIMBUS_DB_URL", "postgresql+nodriver://guest:guest@db/cimbus", "unknown driver"),
    ],
)
def test_malformed_urls_are_named_where_they_came_from(
    tmp_path: Path, var: str, url: str, fragment: str
) -> None:
    """BUS-8: a broker or store URL is parsed whole at start-up, not by a transport thread
    later: one ConfigError naming the environment variable (or the file and key) it came from
    and what is wrong, the password hidden."""
    with pytest.raises(ConfigError) as info:
        Config.load(None, env={var: url})
    text = str(info.value)
    assert text.startswith(f"environment {var} ") and fragment in text, text
    assert "guest:guest" not in text and "\n" not in text

    section = URL_KEYS[var]
    f = tmp_path / "cimbus.toml"
    f.write_text(f"[{section}]\nurl = '{url}'\n")
    with pytest.raises(ConfigError) as info:
        Config.load(f, env={})
    text = str(info.value)
    assert text.startswith(f"{f}: [{section}] url ") and fragment in text, text
    assert "guest:guest" not in text


def test_the_environment_is_named_when_it_overrides_the_file(tmp_path: Path) -> None:
    f = tmp_path / "cimbus.toml"
    f.write_text("[amqp]\nurl = 'amqp://mq:5672/'\n")
    with pytest.raises(ConfigError, match=r"^environment CIMBUS_AMQP_URL 'amqp://u:\*\*\*@mq:x/'"):
        Config.load(f, env={"CIMBUS_AMQP_URL": "amqp://u:secret@mq:x/"})
    cfg = Config.load(f, env={"CIMBUS_DB_URL": "sqlite:///x.db"})
    assert cfg.origin("store", "url") == "environment CIMBUS_DB_URL"
    assert cfg.origin("amqp", "url") == f"{f}: [amqp] url"


@pytest.mark.parametrize(
    "env",
    [
        {"CIMBUS_AMQP_URL": "amqps://u:p@[::1]:5671/%2F?heartbeat=30"},
        {"CIMBUS_AMQP_URL": "amqp://mq:65535"},
        {"CIMBUS_MQTT_URL": "mqtts://u:p@broker.example"},
        {"CIMBUS_MQTT_URL": "tcp://127.0.0.1:1883"},
        {"CIMBUS_DB_URL": "postgresql+psycopg:///cimbus"},  # Unix socket: no host
        {"CIMBUS_DB_URL": "postgresql+psycopg://u:p@[::1]:5432/cimbus?sslmode=require"},
        {"CIMBUS_DB_URL": "sqlite://"},
        {"CIMBUS_DB_URL": "sqlite:////var/lib/cimbus/cimbus.db"},
    ],
)
def test_well_formed_urls_pass(env: dict[str, str]) -> None:
    Config.load(None, env=env)


def test_protocol_fields_take_their_largest_values() -> None:
    """The bounds are the protocols': a 16-bit prefetch-count, a two-byte Receive Maximum."""
    cfg = Config.from_mapping({"amqp": {"prefetch": 65535}, "mqtt": {"max_inflight": 65535}})
    assert cfg.amqp.prefetch == cfg.mqtt.max_inflight == 65535


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("amqp://guest:guest@127.0.0.1:5672/%2F", "amqp://guest:***@127.0.0.1:5672/%2F"),
        ("amqp://guest:guest@[::1/", "amqp://guest:***@[::1/"),
        ("amqp://u:pa/ss@host/", "amqp://u:***@host/"),  # a raw / in the password
        ("amqp:u:secret@host", "amqp:***@host"),  # no //: all of it hidden
        ("amqp://host:5672/", "amqp://host:5672/"),
        ("amqp://user@host/", "amqp://user@host/"),
    ],
)
def test_masked_never_shows_a_password(url: str, shown: str) -> None:
    assert masked(url) == shown
