"""Configuration (BUS-8, BUS-10): TOML + environment overrides, validated with clear messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.config import Config
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
