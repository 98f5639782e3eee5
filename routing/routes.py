"""Routes as data (BUS-2, BUS-8): which system serves which request, who subscribes to which
events, synchronously or not, with which timeout.

A route table is built from configuration (``[[routes]]``, ``[[subscriptions]]`` and
``[systems.*]`` in the TOML file, see docs/configuration.md). It is checked once, at start-up:
a duplicate route, a route or subscription naming an unknown system, an unknown verb or an
empty subscriber list is a :class:`~routing.errors.ConfigError` that names the entry. At run
time a verb + noun nobody serves is an :class:`~routing.errors.UnsupportedRequest` naming them.

Requests (get, create, change, cancel, close, delete, execute) are *routed* to one serving
system; events (created, changed, ...) are *fanned out* to every subscriber; replies are
matched to their request by CorrelationID and never need a route.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .envelope import EVENT_VERBS, REQUEST_VERBS
from .errors import ConfigError, UnsupportedRequest

TRANSPORTS = ("embedded", "amqp", "mqtt", "soap", "local")
ANY = "*"


@dataclass(frozen=True, slots=True)
class System:
    """A counterpart system (CIS, MDMS, head-end, ...) and how cimbus reaches it.

    ``address`` is transport-specific: a queue for ``embedded`` / ``amqp`` (default
    ``cimbus.system.<name>``), a topic prefix for ``mqtt`` (default ``cimbus/system/<name>``), a
    SOAP base URL for ``soap``, a handler name for ``local`` (served inside cimbus).
    """

    name: str
    transport: str = "embedded"
    address: str = ""
    description: str = ""
    organizations: tuple[str, ...] = ()  # organisations this system acts for (SEC-2 later)

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise ConfigError(
                f"system {self.name!r}: transport {self.transport!r} is not one of {', '.join(TRANSPORTS)}"
            )
        if not self.address:
            default = {
                "embedded": f"cimbus.system.{self.name}",
                "amqp": f"cimbus.system.{self.name}",
                "mqtt": f"cimbus/system/{self.name}",
                "local": self.name,
            }.get(self.transport)
            if default is None:
                raise ConfigError(
                    f"system {self.name!r}: a soap system needs an address (its base URL)"
                )
            object.__setattr__(self, "address", default)


@dataclass(frozen=True, slots=True)
class Route:
    """A request route: ``verb`` + ``noun`` (optionally only from ``source``) is served by
    ``target``; ``mode`` sync (the caller waits for the reply) or async (acknowledged at once,
    the reply follows); ``timeout`` in seconds for the serving system's reply."""

    verb: str
    noun: str
    target: str
    mode: str = "sync"
    timeout: float = 30.0
    source: str = ANY

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.verb, self.noun, self.source)


@dataclass(frozen=True, slots=True)
class Subscription:
    """Events ``verb`` + ``noun`` (optionally only from ``source``) go to every subscriber."""

    verb: str
    noun: str
    subscribers: tuple[str, ...]
    source: str = ANY

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.verb, self.noun, self.source)


@dataclass
class RouteTable:
    """The checked routing configuration."""

    systems: dict[str, System] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._routes: dict[tuple[str, str, str], Route] = {}
        for r in self.routes:
            self._check_verb(r.verb, REQUEST_VERBS, "route")
            if r.mode not in ("sync", "async"):
                raise ConfigError(
                    f"route {_fmt(r.key)}: mode must be sync or async, not {r.mode!r}"
                )
            if r.timeout <= 0:
                raise ConfigError(f"route {_fmt(r.key)}: timeout must be positive")
            if r.key in self._routes:
                raise ConfigError(
                    f"duplicate route {_fmt(r.key)}: served by both {self._routes[r.key].target!r} "
                    f"and {r.target!r}"
                )
            self._check_system(r.target, f"route {_fmt(r.key)}")
            self._check_source(r.source, f"route {_fmt(r.key)}")
            self._routes[r.key] = r
        self._subs: dict[tuple[str, str, str], Subscription] = {}
        for s in self.subscriptions:
            self._check_verb(s.verb, EVENT_VERBS, "subscription")
            if not s.subscribers:
                raise ConfigError(f"subscription {_fmt(s.key)} has no subscribers")
            if s.key in self._subs:
                raise ConfigError(
                    f"duplicate subscription {_fmt(s.key)}: merge the subscriber lists"
                )
            if len(set(s.subscribers)) != len(s.subscribers):
                raise ConfigError(f"subscription {_fmt(s.key)} lists a subscriber twice")
            for name in s.subscribers:
                self._check_system(name, f"subscription {_fmt(s.key)}")
            self._check_source(s.source, f"subscription {_fmt(s.key)}")
            self._subs[s.key] = s
        self._sub_cache: dict[tuple[str, str, str | None], tuple[System, ...]] = {}

    # ---------------------------------------------------------------- checks
    @staticmethod
    def _check_verb(verb: str, allowed: Iterable[str], what: str) -> None:
        if verb not in allowed:
            raise ConfigError(
                f"{what} verb {verb!r} is not allowed here; use one of {', '.join(sorted(allowed))}"
            )

    def _check_system(self, name: str, where: str) -> None:
        if name not in self.systems:
            known = ", ".join(sorted(self.systems)) or "none"
            raise ConfigError(f"{where} names unknown system {name!r} (known systems: {known})")

    def _check_source(self, source: str, where: str) -> None:
        if source != ANY:
            self._check_system(source, where + " source")

    # ---------------------------------------------------------------- lookups
    def route_for(self, verb: str, noun: str, source: str | None = None) -> Route:
        """The route serving ``verb`` + ``noun`` from ``source`` (a source-specific route wins
        over the wildcard one). Raises UnsupportedRequest naming the pair."""
        for key in ((verb, noun, source or ANY), (verb, noun, ANY)):
            route = self._routes.get(key)
            if route is not None:
                return route
        raise UnsupportedRequest(
            f"cimbus does not serve '{verb} {noun}': no route is configured for this verb and noun",
            object_id=f"{verb} {noun}",
            object_type="VerbNoun",
        )

    def subscribers_for(self, verb: str, noun: str, source: str | None = None) -> list[System]:
        """Every subscriber of the event (source-specific and wildcard subscriptions, without
        duplicates, never the sender itself). Raises UnsupportedRequest when nobody subscribes.
        Answers are remembered (the table does not change once loaded; every event asks)."""
        cached = self._sub_cache.get((verb, noun, source))
        if cached is not None:
            return list(cached)
        names: list[str] = []
        for key in ((verb, noun, source or ANY), (verb, noun, ANY)):
            sub = self._subs.get(key)
            if sub is not None:
                names.extend(n for n in sub.subscribers if n not in names)
        if not names:
            raise UnsupportedRequest(
                f"cimbus does not serve '{verb} {noun}': no subscription is configured for this event",
                object_id=f"{verb} {noun}",
                object_type="VerbNoun",
            )
        systems = [self.systems[n] for n in names if n != source]
        if len(self._sub_cache) < 4096:  # bounded: the source is the sender's to choose
            self._sub_cache[(verb, noun, source)] = tuple(systems)
        return systems

    def system(self, name: str) -> System:
        try:
            return self.systems[name]
        except KeyError:
            raise UnsupportedRequest(f"unknown system {name!r}") from None

    def rows(self) -> list[dict[str, str]]:
        """The table as rows (for ``cimbus routes`` and the docs)."""
        out = []
        for r in sorted(self._routes.values(), key=lambda r: (r.noun, r.verb, r.source)):
            system = self.systems[r.target]
            out.append(
                {
                    "kind": "request",
                    "verb": r.verb,
                    "noun": r.noun,
                    "source": r.source,
                    "to": r.target,
                    "transport": system.transport,
                    "address": system.address,
                    "mode": f"{r.mode}, {r.timeout:g}s",
                }
            )
        for s in sorted(self._subs.values(), key=lambda s: (s.noun, s.verb, s.source)):
            out.append(
                {
                    "kind": "event",
                    "verb": s.verb,
                    "noun": s.noun,
                    "source": s.source,
                    "to": ", ".join(s.subscribers),
                    "transport": ", ".join(
                        sorted({self.systems[n].transport for n in s.subscribers})
                    ),
                    "address": "",
                    "mode": "fan-out",
                }
            )
        return out

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, default_timeout: float = 30.0) -> RouteTable:
        """Build from the parsed TOML (keys ``systems``, ``routes``, ``subscriptions``); routes
        without a timeout get ``default_timeout`` ([bus] default_timeout)."""
        systems: dict[str, System] = {}
        for name, spec in _tables(data.get("systems"), "[systems]").items():
            where = f"system {name!r}"
            _only(spec, {"transport", "address", "description", "organizations"}, where)
            systems[name] = System(
                name=name,
                transport=_text(spec, "transport", where, "embedded"),
                address=_text(spec, "address", where, ""),
                description=_text(spec, "description", where, ""),
                organizations=_texts(spec, "organizations", where),
            )
        routes = []
        for i, spec in enumerate(_array(data.get("routes"), "routes")):
            where = f"routes[{i}]"
            _only(spec, {"verb", "noun", "target", "mode", "timeout", "source"}, where)
            _need(spec, ("verb", "noun", "target"), where)
            routes.append(
                Route(
                    verb=_text(spec, "verb", where),
                    noun=_text(spec, "noun", where),
                    target=_text(spec, "target", where),
                    mode=_text(spec, "mode", where, "sync"),
                    timeout=float(spec.get("timeout", default_timeout)),
                    source=_text(spec, "source", where, ANY),
                )
            )
        subs = []
        for i, spec in enumerate(_array(data.get("subscriptions"), "subscriptions")):
            where = f"subscriptions[{i}]"
            _only(spec, {"verb", "noun", "subscribers", "source"}, where)
            _need(spec, ("verb", "noun", "subscribers"), where)
            subs.append(
                Subscription(
                    verb=_text(spec, "verb", where),
                    noun=_text(spec, "noun", where),
                    subscribers=_texts(spec, "subscribers", where),  # one name or a list
                    source=_text(spec, "source", where, ANY),
                )
            )
        return cls(systems=systems, routes=routes, subscriptions=subs)


def _fmt(key: tuple[str, str, str]) -> str:
    verb, noun, source = key
    return f"'{verb} {noun}'" + (f" from {source!r}" if source != ANY else "")


def _tables(value: Any, where: str) -> dict[str, dict[str, Any]]:
    """``[systems.NAME]`` sections: a table of tables (TOML shapes checked, so a wrong one
    is a ConfigError naming it, never an AttributeError)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table of [systems.NAME] sections, not {value!r}")
    out = {}
    for name, spec in value.items():
        if spec is None:
            spec = {}
        if not isinstance(spec, Mapping):
            raise ConfigError(f"[systems.{name}] must be a table (transport = ..., address = ...)")
        out[str(name)] = dict(spec)
    return out


def _array(value: Any, name: str) -> list[dict[str, Any]]:
    """``[[routes]]`` / ``[[subscriptions]]``: an array of tables."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ConfigError(
            f"{name} must be an array of tables, written [[{name}]] (one block per entry), "
            f"not {type(value).__name__}"
        )
    return [dict(v) for v in value]


def _text(spec: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = spec.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, not {value!r}")
    return value


def _texts(spec: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = spec.get(key, ())
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a name or a list of names, not {value!r}")
    return tuple(value)


def _only(spec: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _need(spec: Mapping[str, Any], keys: Iterable[str], where: str) -> None:
    missing = [k for k in keys if not spec.get(k)]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
