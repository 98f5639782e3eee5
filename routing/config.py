"""Typed configuration, validated at start-up (BUS-8, BUS-10).

One TOML file (``cimbus serve --config FILE``) with small sections; every key has a secure,
local default, so with no file at all cimbus runs embedded (in-process bus + SQLite), bound to
127.0.0.1. Environment variables override the file (for containers and CI):

=====================  =======================================================
CIMBUS_CONFIG          the file to read when no --config is given
CIMBUS_DB_URL          [store] url        (e.g. postgresql+psycopg://host/db)
CIMBUS_AMQP_URL        [amqp] url, and enables AMQP
CIMBUS_MQTT_URL        [mqtt] url, and enables MQTT
CIMBUS_SOAP_HOST/PORT  [soap] host / port
CIMBUS_SOAP_WORKERS    [soap] workers
CIMBUS_SYSTEM_NAME     [bus] system_name  (Header/Source of what cimbus sends)
=====================  =======================================================

Unknown keys, wrong types and impossible values are :class:`~routing.errors.ConfigError`
naming the file, the section and the key (or the environment variable the value came from).
Broker and store URLs are parsed whole at start-up (scheme, host, port 1-65535; the store's by
SQLAlchemy), and numbers that go into protocol fields are bounded by them, so a mistake is one
line here and not a transport thread failing later; a password is never shown (``***``). Every
other number is finite (TOML has ``nan`` and ``inf``) and within what the code using it takes
(:meth:`Config._check_numbers`); a file that cannot be read, an ``[smt] registry`` that is not
there and a ``soap`` system's address that is no http(s) URL are refused here too.
docs/configuration.md documents every key.
"""

from __future__ import annotations

import codecs
import math
import os
import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cim_models.safexml import LIBXML2_MAX_DEPTH

from .envelope import EVENT_VERBS, REQUEST_VERBS
from .errors import ConfigError
from .routes import RouteTable


@dataclass(frozen=True)
class BusConfig:
    system_name: str = "CIMBUS"
    default_timeout: float = 30.0  # seconds a sync request waits for the serving system
    dedupe: bool = True  # refuse a MessageID seen before (answering with the stored reply)
    require_message_id: bool = True  # requests and events must carry a MessageID (REL-1)
    outbox_poll: float = 0.05  # seconds between outbox polls when idle
    retry_base: float = 0.5  # first retry delay (seconds), doubled per attempt
    retry_max: float = 300.0  # longest retry delay
    max_attempts: int = 20  # then the message becomes a dead letter
    max_bytes: int = 32 * 1024 * 1024
    max_depth: int = 64
    #: threads consuming cimbus.in on the embedded bus: a sync request waits in one of them, so
    #: a system that asks cimbus something while serving it (a DCC forwarding to the head-end)
    #: needs another one free
    embedded_consumers: int = 4


@dataclass(frozen=True)
class StoreConfig:
    url: str = "sqlite:///cimbus.db"
    payload_policy: str = "failed"  # all | failed | none
    max_payload_bytes: int = 1_000_000
    # retention (routing/store/_retention.py): days kept, 0 = for ever (the default)
    audit_days: float = 0.0  # audit rows
    outbox_days: float = 0.0  # delivered / dead-lettered outbox entries, replayed dead letters
    dedupe_days: float = (
        0.0  # processed MessageIDs (the de-duplication window), closed correlations
    )
    prune_every: float = 3600.0  # seconds between a running bus's prunes (when any is set)
    # SQLite: who copies the WAL into the database file (routing/store/_checkpoint.py):
    # "background" (a thread, shortly after commits) | "commit" (SQLite's own, every 1,000 pages)
    wal_checkpoint: str = "background"


@dataclass(frozen=True)
class SoapConfig:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1  # uvicorn worker processes (the SOAP handler is CPU-bound)
    public_url: str = ""  # base URL written into WSDLs; default http://host:port


@dataclass(frozen=True)
class AmqpConfig:
    enabled: bool = False
    url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    exchange: str = "cimbus"
    inbound_queue: str = "cimbus.in"
    dead_letter_exchange: str = "cimbus.dlx"
    prefetch: int = 200
    confirm_batch: int = 100
    workers: int = 4  # threads running Bus.handle for cimbus.in (sync requests wait in them)
    batch: int = 100  # events/replies on cimbus.in handled per store transaction; 1 = off
    #: ``[amqp.on_failure]``: what the consumer does with a delivery whose handling failed,
    #: per verb and noun (endpoints/amqp/policy.py, docs/amqp.md), as
    #: ``(("default" | "verb noun", (("first", action), ("redelivered", action))), ...)``
    on_failure: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


#: the ``[amqp.on_failure]`` actions (endpoints.amqp.policy.ACTIONS; config does not import
#: the endpoints)
FAILURE_ACTIONS = ("requeue", "dead_letter", "drop")
VERB_WILDCARD = "*"


def _on_failure(raw: Any, source: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """``[amqp.on_failure]`` checked: keys ``default`` or ``"verb noun"`` (``*`` for any), each
    a table of ``first`` / ``redelivered`` = requeue | dead_letter | drop; a redelivered message
    may not be requeued (a poison message would loop for ever)."""
    where = f"{source}: [amqp.on_failure]"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table")
    verbs = {*EVENT_VERBS, *REQUEST_VERBS, "reply", VERB_WILDCARD}
    out = []
    for key, spec in raw.items():
        if key != "default":
            parts = key.split()
            if len(parts) != 2:
                raise ConfigError(
                    f'{where} key {key!r}: use "verb noun" (e.g. "created MeterReadings", '
                    f'"* EndDeviceEvents") or default'
                )
            if parts[0] not in verbs:
                raise ConfigError(
                    f"{where} key {key!r}: unknown verb {parts[0]!r}; use one of "
                    f"{', '.join(sorted(verbs))}"
                )
        if not isinstance(spec, Mapping):
            raise ConfigError(
                f'{where} {key!r} must be a table, e.g. {{ first = "requeue", '
                f'redelivered = "dead_letter" }}'
            )
        unknown = sorted(set(spec) - {"first", "redelivered"})
        if unknown:
            raise ConfigError(
                f"{where} {key!r}: unknown key(s) {', '.join(unknown)}; allowed: first, redelivered"
            )
        for name, action in spec.items():
            if action not in FAILURE_ACTIONS:
                raise ConfigError(
                    f"{where} {key!r}.{name} = {action!r}: use one of {', '.join(FAILURE_ACTIONS)}"
                )
        if spec.get("redelivered") == "requeue":
            raise ConfigError(
                f"{where} {key!r}.redelivered may not be requeue: a message that keeps failing "
                "would loop for ever (use dead_letter or drop)"
            )
        out.append((key, tuple(sorted(spec.items()))))
    return tuple(out)


@dataclass(frozen=True)
class MqttConfig:
    enabled: bool = False
    url: str = "mqtt://127.0.0.1:1884"  # the project-configured Mosquitto (docs/mqtt.md)
    client_id: str = "cimbus"
    topic_prefix: str = "cimbus"
    max_inflight: int = 100
    qos: int = 1
    consumers: int = 4  # threads running Bus.handle for inbound messages


@dataclass(frozen=True)
class SmtConfig:
    """The Smart Meter Texas on-demand-read service (ODR-1..ODR-7, routing/services/smt,
    docs/smt.md). It serves the ``local`` system whose address is ``handler``."""

    enabled: bool = True
    handler: str = "smt"  # the local handler name ([systems.SMT] address)
    headend: str = "HES"  # the system that reads the meters (TDSP head-end)
    registry: str = ""  # TOML or CSV file of usage points, loaded (upserted) at start-up
    timeout: float = 30.0  # seconds to wait for the head-end
    window_hours: float = 48.0  # longest on-demand window, from the last VEE end (ODR-2)
    reads_per_day: int = 1  # successful meter reads per ESIID per day; 0 = unlimited (ODR-5)
    pings_per_day: int = 1  # successful power-status pings per ESIID per day; 0 = unlimited
    timezone: str = "America/Chicago"  # the day of the throttle

    def registry_path(self, source: str = "<defaults>") -> Path | None:
        """The registry file; a relative path is relative to the configuration file's folder
        (``source``) when there is one, else to the working directory."""
        if not self.registry:
            return None
        path = Path(self.registry)
        if not path.is_absolute() and source and not source.startswith("<"):
            path = Path(source).parent / path
        return path


#: the environment variables that override a key: (section, key) -> variable
ENV_KEYS = {
    ("store", "url"): "CIMBUS_DB_URL",
    ("amqp", "url"): "CIMBUS_AMQP_URL",
    ("mqtt", "url"): "CIMBUS_MQTT_URL",
    ("soap", "host"): "CIMBUS_SOAP_HOST",
    ("soap", "port"): "CIMBUS_SOAP_PORT",
    ("soap", "workers"): "CIMBUS_SOAP_WORKERS",
    ("bus", "system_name"): "CIMBUS_SYSTEM_NAME",
}
#: the largest value of a 16-bit protocol field: AMQP 0-9-1 basic.qos prefetch-count (a
#: short), MQTT 5 Receive Maximum (a two-byte integer), a TCP port
UINT16_MAX = 65535
#: the longest retention, window or wait a key takes: 100 years (``[store] audit_days`` and the
#: others: a cut-off further back than year 1 cannot be computed; ``cimbus store prune`` takes
#: the same at most)
MAX_DAYS = 36500
#: the longest wait in seconds (100 years, and what a thread can wait for on this platform:
#: threading.TIMEOUT_MAX)
MAX_SECONDS = min(MAX_DAYS * 86400.0, threading.TIMEOUT_MAX)
#: the most delivery attempts: the retry delay doubles per attempt (retry_base * 2**(n-1)),
#: a number that no longer fits a float after 1,024 doublings
MAX_ATTEMPTS = 1000
SECONDS = f"a positive number of seconds, at most {MAX_SECONDS:.0f} (100 years)"
#: the bytes of a registry file's start read to tell text from something else
SNIFF_BYTES = 64 * 1024


def masked(url: str) -> str:
    """``url`` with its password shown as ``***`` (for messages and logs), also when it does
    not parse: everything between the user name and the last ``@`` is hidden."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    prefix, sep, userinfo = head.rpartition("://")
    user, colon, _password = userinfo.partition(":")
    if not colon:
        return url
    return f"{prefix}{sep}{user}:***@{tail}"


@dataclass(frozen=True)
class Config:
    bus: BusConfig = field(default_factory=BusConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    soap: SoapConfig = field(default_factory=SoapConfig)
    amqp: AmqpConfig = field(default_factory=AmqpConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    smt: SmtConfig = field(default_factory=SmtConfig)
    routes: RouteTable = field(default_factory=RouteTable)
    source: str = "<defaults>"
    #: the environment variables (:data:`ENV_KEYS`) whose values replaced the file's
    env_overrides: tuple[str, ...] = ()

    @classmethod
    def load(
        cls, path: str | Path | None = None, *, env: Mapping[str, str] | None = None
    ) -> Config:
        """Read ``path`` (or $CIMBUS_CONFIG, or nothing), apply environment overrides, check.
        A file that cannot be read (missing, a directory, no permission, not UTF-8 text) is a
        ConfigError naming it (and $CIMBUS_CONFIG when the name came from there)."""
        env = os.environ if env is None else env
        from_env = not path and bool(env.get("CIMBUS_CONFIG"))
        path = path or env.get("CIMBUS_CONFIG") or None
        data: dict[str, Any] = {}
        source = "<defaults>"
        if path is not None:
            p = Path(path)
            source = str(p)
            named = f"configuration file {p}" + (" (environment CIMBUS_CONFIG)" if from_env else "")
            text = _read_text(p, named, "TOML files are UTF-8")
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{p}: not valid TOML: {exc}") from None
        return cls.from_mapping(data, env=env, source=source)

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        env: Mapping[str, str] | None = None,
        source: str = "<mapping>",
    ) -> Config:
        env = {} if env is None else env
        known = {
            "bus",
            "store",
            "soap",
            "amqp",
            "mqtt",
            "smt",
            "systems",
            "routes",
            "subscriptions",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"{source}: unknown section(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        try:
            bus = _section(BusConfig, data.get("bus"), source, "bus")
            _check_timeouts(bus, data.get("routes"), source)
            cfg = cls(
                bus=bus,
                store=_section(StoreConfig, data.get("store"), source, "store"),
                soap=_section(SoapConfig, data.get("soap"), source, "soap"),
                amqp=_amqp_section(data.get("amqp"), source),
                mqtt=_section(MqttConfig, data.get("mqtt"), source, "mqtt"),
                smt=_section(SmtConfig, data.get("smt"), source, "smt"),
                routes=RouteTable.from_mapping(data, default_timeout=bus.default_timeout),
                source=source,
            )
        except ConfigError as exc:
            if str(exc).startswith(source):
                raise
            raise ConfigError(f"{source}: {exc}") from None
        cfg = cfg.with_env(env)
        cfg.check()
        return cfg

    def with_env(self, env: Mapping[str, str]) -> Config:
        cfg = self
        applied = tuple(v for v in ENV_KEYS.values() if env.get(v) and v not in cfg.env_overrides)
        if applied:
            cfg = replace(cfg, env_overrides=cfg.env_overrides + applied)
        if env.get("CIMBUS_DB_URL"):
            cfg = replace(cfg, store=replace(cfg.store, url=env["CIMBUS_DB_URL"]))
        if env.get("CIMBUS_AMQP_URL"):
            cfg = replace(cfg, amqp=replace(cfg.amqp, url=env["CIMBUS_AMQP_URL"], enabled=True))
        if env.get("CIMBUS_MQTT_URL"):
            cfg = replace(cfg, mqtt=replace(cfg.mqtt, url=env["CIMBUS_MQTT_URL"], enabled=True))
        if env.get("CIMBUS_SOAP_HOST"):
            cfg = replace(cfg, soap=replace(cfg.soap, host=env["CIMBUS_SOAP_HOST"]))
        for var, key in (("CIMBUS_SOAP_PORT", "port"), ("CIMBUS_SOAP_WORKERS", "workers")):
            if env.get(var):
                try:
                    value = int(env[var])
                except ValueError:
                    raise ConfigError(
                        f"environment {var}={env[var]!r} is not a whole number"
                    ) from None
                cfg = replace(cfg, soap=replace(cfg.soap, **{key: value}))
        if env.get("CIMBUS_SYSTEM_NAME"):
            cfg = replace(cfg, bus=replace(cfg.bus, system_name=env["CIMBUS_SYSTEM_NAME"]))
        return cfg

    def origin(self, section: str, key: str) -> str:
        """Where ``[section] key`` came from, for messages: ``environment CIMBUS_DB_URL`` when
        that variable set it, else ``FILE: [store] url`` (``<defaults>: ...`` with no file)."""
        var = ENV_KEYS.get((section, key))
        if var is not None and var in self.env_overrides:
            return f"environment {var}"
        return f"{self.source}: [{section}] {key}"

    def check(self) -> None:
        """Cross-field checks with clear messages (BUS-8)."""
        where = self.source
        self._check_numbers()
        if self.store.payload_policy not in ("all", "failed", "none"):
            raise ConfigError(f"{where}: [store] payload_policy must be all, failed or none")
        if self.store.wal_checkpoint not in ("background", "commit"):
            raise ConfigError(f"{where}: [store] wal_checkpoint must be background or commit")
        self._check_store_url()
        if not self.soap.host.strip():
            raise ConfigError(
                f"{self.origin('soap', 'host')} is empty: name the address to listen on "
                "(127.0.0.1, the default, for this machine only; 0.0.0.0 for every interface, "
                "if that is meant)"
            )
        if not 0 < self.soap.port <= UINT16_MAX:
            raise ConfigError(f"{self.origin('soap', 'port')} {self.soap.port} is not a TCP port")
        if self.soap.workers > 1 and self.mqtt.enabled:
            # every worker process builds the whole runtime, MQTT included: they would all
            # open the inbound session with the same client id and take it from each other
            mqtt = (
                "environment CIMBUS_MQTT_URL"
                if "CIMBUS_MQTT_URL" in self.env_overrides
                else "[mqtt] enabled"
            )
            raise ConfigError(
                f"{self.origin('soap', 'workers')} = {self.soap.workers} with {mqtt}: every "
                f"worker process would open the MQTT inbound session as client "
                f"{self.mqtt.client_id!r} and take it over from the others; run MQTT in one "
                "process (workers = 1) and scale out with AMQP (docs/operations.md)"
            )
        self._check_broker_url("amqp", ("amqp", "amqps"))
        self._check_broker_url("mqtt", ("mqtt", "mqtts", "tcp"))
        if self.mqtt.qos not in (1, 2):
            raise ConfigError(f"{where}: [mqtt] qos must be 1 or 2 (QoS 0 may lose messages)")
        if not 0 < self.mqtt.max_inflight <= UINT16_MAX:
            raise ConfigError(
                f"{where}: [mqtt] max_inflight = {self.mqtt.max_inflight}: use 1 to 65535 (it is "
                "also the MQTT Receive Maximum, a two-byte field)"
            )
        if self.amqp.prefetch < 1 or self.amqp.confirm_batch < 1 or self.amqp.workers < 1:
            raise ConfigError(
                f"{where}: [amqp] prefetch, confirm_batch and workers must be at least 1"
            )
        if self.amqp.prefetch > UINT16_MAX:
            raise ConfigError(
                f"{where}: [amqp] prefetch = {self.amqp.prefetch}: use 1 to 65535 (AMQP "
                "basic.qos prefetch-count is a 16-bit field)"
            )
        if self.amqp.batch < 1:
            raise ConfigError(
                f"{where}: [amqp] batch must be at least 1 (1 = one message per transaction)"
            )
        if self.mqtt.consumers < 1:
            raise ConfigError(f"{where}: [mqtt] consumers must be at least 1")
        self._check_smt()
        enabled = {"embedded", "local", "soap"}
        if self.amqp.enabled:
            enabled.add("amqp")
        if self.mqtt.enabled:
            enabled.add("mqtt")
        for system in self.routes.systems.values():
            if system.transport not in enabled:
                raise ConfigError(
                    f"{where}: system {system.name!r} uses transport {system.transport!r}, which is not "
                    f"enabled (set [{system.transport}] enabled = true or CIMBUS_{system.transport.upper()}_URL)"
                )
            if system.transport == "soap":
                self._check_soap_address(system.name, system.address)
        if self.soap.public_url:
            self._check_public_url()
        for route in self.routes.routes:
            if not (_finite(route.timeout) and 0 < route.timeout <= MAX_SECONDS):
                whence = "" if route.source == "*" else f" from {route.source!r}"
                raise ConfigError(
                    f"{where}: route '{route.verb} {route.noun}'{whence}: timeout must be "
                    f"{SECONDS}, not {_shown(route.timeout)}"
                )

    def _check_numbers(self) -> None:
        """Every number of the sections within what the code using it can take: finite (TOML
        has ``nan`` and ``inf``), with its lower and upper bounds; one message per key, naming
        where the value came from (the file's key or the environment variable)."""
        bus = self.bus
        checks: list[tuple[str, str, float, float, bool, str]] = [
            # (section, key, low, high, low allowed, what is allowed)
            ("bus", "default_timeout", 0, MAX_SECONDS, False, SECONDS),
            ("bus", "outbox_poll", 0, MAX_SECONDS, False, SECONDS),
            ("bus", "retry_base", 0, MAX_SECONDS, False, SECONDS),
            ("bus", "retry_max", 0, MAX_SECONDS, False, SECONDS),
            (
                "bus",
                "max_attempts",
                1,
                MAX_ATTEMPTS,
                True,
                f"1 to {MAX_ATTEMPTS} (the retry delay doubles per attempt)",
            ),
            ("bus", "max_bytes", 1, math.inf, True, "at least 1 (bytes of the largest input)"),
            (
                "bus",
                "max_depth",
                1,
                LIBXML2_MAX_DEPTH,
                True,
                f"1 to {LIBXML2_MAX_DEPTH} (XML element nesting; libxml2 allows no more)",
            ),
            ("bus", "embedded_consumers", 1, math.inf, True, "at least 1"),
            ("store", "max_payload_bytes", 0, math.inf, True, "0 (keep no bytes) or more"),
            *(
                (
                    "store",
                    key,
                    0,
                    MAX_DAYS,
                    True,
                    f"0 (keep for ever) or more, at most {MAX_DAYS} days (100 years)",
                )
                for key in ("audit_days", "outbox_days", "dedupe_days")
            ),
            ("store", "prune_every", 0, MAX_SECONDS, False, SECONDS),
            ("soap", "workers", 1, math.inf, True, "at least 1"),
            ("smt", "timeout", 0, MAX_SECONDS, False, SECONDS),
            (
                "smt",
                "window_hours",
                0,
                MAX_DAYS * 24,
                False,
                f"positive, a number of hours up to {MAX_DAYS * 24} (100 years)",
            ),
            *(
                ("smt", key, 0, math.inf, True, "0 (unlimited) or more")
                for key in ("reads_per_day", "pings_per_day")
            ),
        ]
        for section, key, low, high, low_ok, allowed in checks:
            value = getattr(getattr(self, section), key)
            above = value >= low if low_ok else value > low
            if not (_finite(value) and above and value <= high):
                raise ConfigError(
                    f"{self.origin(section, key)} must be {allowed}, not {_shown(value)}"
                )
        if bus.retry_max < bus.retry_base:
            raise ConfigError(
                f"{self.source}: [bus] retry_max = {_shown(bus.retry_max)} is less than "
                f"retry_base = {_shown(bus.retry_base)}: the retry delay starts at retry_base "
                "and doubles up to retry_max"
            )

    def _check_soap_address(self, name: str, address: str) -> None:
        """A ``soap`` system's address is an http(s) URL with a host (endpoints/soap/outbound.py
        resolve(): the folder of the system's services, ``http://host:port/ws``, to which the
        IEC service name is appended, or a service's own URL, used as is)."""
        named = f"{self.source}: [systems.{name}] address {masked(address)!r}"
        use = (
            "use the folder of its services (http://HOST:PORT/ws) or a service's URL "
            "(https://HOST/cim/ReplyEndDeviceControls)"
        )
        try:
            parts = urlsplit(address)
        except ValueError as exc:  # an unclosed [IPv6 bracket
            raise ConfigError(f"{named} is not a URL ({exc}): {use}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{named} is not an http(s) URL: {use}")
        if not _HOST.fullmatch(parts.hostname):
            raise ConfigError(f"{named}: host {parts.hostname!r} is not a host name or address")
        _check_port(parts, named)

    def _check_public_url(self) -> None:
        """``[soap] public_url``: the base URL written into every WSDL and listing (behind a
        proxy): an http(s) URL with a host, without a query or fragment."""
        url = self.soap.public_url
        named = f"{self.source}: [soap] public_url {url!r}"
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise ConfigError(f"{named} is not a URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"{named} is not an http(s) URL: give the address callers use, e.g. "
                "https://cimbus.example.com (WSDLs then point there)"
            )
        if not _HOST.fullmatch(parts.hostname):
            raise ConfigError(f"{named}: host {parts.hostname!r} is not a host name or address")
        if parts.query or parts.fragment:
            raise ConfigError(f"{named}: a base URL has no query or fragment")
        _check_port(parts, named)

    def _check_broker_url(self, section: str, schemes: tuple[str, ...]) -> None:
        """``[amqp] url`` / ``[mqtt] url`` parsed whole: one of ``schemes``, a host, a port of
        1-65535 when one is given (BUS-8); the message shows the URL with its password hidden."""
        url: str = getattr(self, section).url
        named = f"{self.origin(section, 'url')} {masked(url)!r}"
        try:
            parts = urlsplit(url)
        except ValueError as exc:  # an unclosed [IPv6 bracket, a bracketed non-address
            raise ConfigError(f"{named} is not a URL: {exc}") from None
        if parts.scheme not in schemes:
            first = " or ".join(f"{s}://" for s in schemes[:2])
            raise ConfigError(f"{named} must start with {first}")
        if not parts.hostname:
            raise ConfigError(f"{named} names no host (use {schemes[0]}://HOST:PORT)")
        _check_port(parts, named)

    def _check_store_url(self) -> None:
        """``[store] url`` parsed by SQLAlchemy (as the store will be): a SQLite or PostgreSQL
        URL with a known driver and, when given, a port of 1-65535 (BUS-10)."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        url = self.store.url
        named = f"{self.origin('store', 'url')} {masked(url)!r}"
        use = "use sqlite:///FILE or postgresql+psycopg://USER@HOST:PORT/DB"
        try:
            u = make_url(url)
        except ArgumentError as exc:
            raise ConfigError(f"{named} is not a database URL ({exc}); {use}") from None
        except ValueError:  # SQLAlchemy's int() of the port
            raise ConfigError(f"{named}: the port must be a whole number from 1 to 65535") from None
        if u.get_backend_name() not in ("sqlite", "postgresql"):
            raise ConfigError(f"{named}: {use}")
        if u.port is not None and not 0 < u.port <= UINT16_MAX:
            raise ConfigError(f"{named}: the port must be a whole number from 1 to 65535")
        if u.host and ("[" in u.host or "]" in u.host):
            raise ConfigError(f"{named}: host {u.host!r} is not a host name or IP address")
        try:
            u.get_dialect()
        except NoSuchModuleError:
            raise ConfigError(f"{named}: unknown driver {u.drivername!r}; {use}") from None

    def _check_registry(self) -> None:
        """``[smt] registry``, when set (and the service enabled), names a readable .toml or
        .csv file of UTF-8 text: the runtime loads it at start-up, and a mistake found only then
        would stop ``cimbus serve`` after every other check passed. Its entries are checked
        when it is loaded (routing/services/smt/registry.py)."""
        path = self.smt.registry_path(self.source)
        if path is None or not self.smt.enabled:
            return
        named = f"{self.source}: [smt] registry {path}"
        if path != Path(self.smt.registry):
            named += f" ({self.smt.registry!r}, relative to the configuration file)"
        if path.suffix.lower() not in (".toml", ".csv"):
            raise ConfigError(f"{named}: use a .toml or .csv file")
        try:
            with open(path, "rb") as fh:
                head = fh.read(SNIFF_BYTES)
        except OSError as exc:
            raise _read_error(exc, named) from None
        try:
            codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
            if b"\0" in head:  # UTF-16 without a byte-order mark, or a binary file
                raise UnicodeDecodeError("utf-8", head, head.index(b"\0"), len(head), "NUL")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{named} is not UTF-8 text (byte {exc.start} is {head[exc.start]:#04x})"
            ) from None

    def _check_smt(self) -> None:
        where, smt = self.source, self.smt
        self._check_registry()
        served = [
            s.name
            for s in self.routes.systems.values()
            if s.transport == "local" and s.address == smt.handler
        ]
        if not served:
            return  # nothing reaches the service: its time zone is not even looked up
        try:
            ZoneInfo(smt.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{where}: [smt] timezone {smt.timezone!r} is not an IANA time zone known to "
                "this machine (e.g. America/Chicago; install tzdata if none is)"
            ) from None
        if not smt.enabled:
            raise ConfigError(
                f"{where}: system {served[0]!r} is served by the local handler {smt.handler!r}, "
                "but [smt] enabled = false"
            )
        headend = self.routes.systems.get(smt.headend)
        if headend is None or headend.transport == "local":
            raise ConfigError(
                f"{where}: [smt] headend {smt.headend!r} must name a configured, non-local system "
                f"(known: {', '.join(sorted(self.routes.systems)) or 'none'})"
            )


#: what a URL's host may be: a DNS name (letters, digits, '-', '.', '_'), an IPv4 address or
#: the inside of an IPv6 literal (hex digits, ':', '.', a '%zone')
_HOST = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?")


def _read_error(exc: OSError, named: str) -> ConfigError:
    """What an unreadable file is, in words, for a message starting with ``named``."""
    if isinstance(exc, FileNotFoundError):
        return ConfigError(f"{named} does not exist")
    if isinstance(exc, IsADirectoryError):
        return ConfigError(f"{named} is a directory, not a file")
    if isinstance(exc, PermissionError):
        return ConfigError(f"{named} cannot be read: permission denied")
    reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
    return ConfigError(f"{named} cannot be read: {reason}")


def _read_text(path: Path, named: str, hint: str) -> str:
    """The UTF-8 text of ``path`` (a UTF-8 byte-order mark is allowed), or a ConfigError:
    ``named`` does not exist, is a directory, cannot be read, is not UTF-8 text (``hint``)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _read_error(exc, named) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{named} is not UTF-8 text ({hint}; byte {exc.start} is {raw[exc.start]:#04x})"
        ) from None


def _finite(value: float) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _shown(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _check_port(parts: Any, named: str) -> None:
    """The port of a split URL, when it has one, is 1-65535."""
    try:
        port = parts.port  # ValueError: not a number, or above 65535
    except ValueError:
        port = -1
    if port is not None and not 0 < port <= UINT16_MAX:
        raise ConfigError(f"{named}: the port must be a whole number from 1 to 65535")


def _check_timeouts(bus: BusConfig, routes: Any, source: str) -> None:
    """``[bus] default_timeout`` and each ``[[routes]]`` timeout, before the route table takes
    them (it gives a route without one the default, and would turn a string into a float or
    fail on it): a number of seconds, positive, finite, at most :data:`MAX_SECONDS`."""
    value = bus.default_timeout
    if not (_finite(value) and 0 < value <= MAX_SECONDS):
        raise ConfigError(f"{source}: [bus] default_timeout must be {SECONDS}, not {_shown(value)}")
    if not isinstance(routes, list):
        return  # not a list of tables: the route table says so
    for i, spec in enumerate(routes):
        if not isinstance(spec, Mapping) or "timeout" not in spec:
            continue
        value = spec["timeout"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                f"{source}: routes[{i}] timeout must be {SECONDS}, not "
                f"{type(value).__name__} {value!r}"
            )
        if not (_finite(value) and 0 < value <= MAX_SECONDS):
            raise ConfigError(
                f"{source}: routes[{i}] timeout must be {SECONDS}, not {_shown(value)}"
            )


def _amqp_section(raw: Any, source: str) -> AmqpConfig:
    """``[amqp]`` with its ``[amqp.on_failure]`` sub-table."""
    if isinstance(raw, Mapping) and "on_failure" in raw:
        rest = {k: v for k, v in raw.items() if k != "on_failure"}
        amqp = _section(AmqpConfig, rest, source, "amqp")
        return replace(amqp, on_failure=_on_failure(raw["on_failure"], source))
    return _section(AmqpConfig, raw, source, "amqp")


def _section(cls: type, raw: Any, source: str, name: str) -> Any:
    if raw is None:
        return cls()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: [{name}] must be a table")
    allowed = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{source}: [{name}] unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    values = {}
    defaults = cls()
    for key, value in raw.items():
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            try:
                value = float(value)
            except OverflowError:  # a whole number of 309 digits or more
                raise ConfigError(
                    f"{source}: [{name}] {key} is too large a number (more than 308 digits)"
                ) from None
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"{source}: [{name}] {key} must be {expected.__name__}, got {type(value).__name__} {value!r}"
            )
        values[key] = value
    return cls(**values)
