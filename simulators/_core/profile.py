"""Simulator populations loaded from profile files (issue 4).

A profile is a TOML file (``simulators/profiles/<name>.toml`` or any path) describing the
utility the simulators play: the market organisations (retail providers / Reps of Record, the
TDSP, DCC suppliers...), the feeders and transformers (OMS topology), the meters with their
ESIIDs / usage points, the customers behind them, plus free sections that one simulator reads
(``[dcc]``, ``[crm]``, ``[field]``, ...). Meters can be listed one by one (``[[meters]]``) or
generated deterministically (``[generate]``, used by ``load`` with 100,000 meters); listed
meters win over generated ones with the same ESIID. Format: docs/simulators.md.

Every simulator of one run loads the same profile, so the head-end, the MDMS, the CIS and the
OMS agree on who is who. The conformance harness provisions cimbus's registry (ODR) from it too.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from .clock import parse_time

__all__ = [
    "PROFILES_DIR",
    "Customer",
    "MeterSpec",
    "Organization",
    "Profile",
    "ProfileError",
    "Transformer",
    "load_profile",
]

PROFILES_DIR = Path(__file__).resolve().parent.parent / "profiles"

_FIRST = ("Maria", "James", "Linh", "Robert", "Aisha", "Carlos", "Emily", "David", "Priya", "Sam")
_LAST = ("Garcia", "Smith", "Nguyen", "Johnson", "Khan", "Lopez", "Brown", "Miller", "Patel", "Lee")
_SHAPES = ("residential", "residential", "residential", "small_commercial")


class ProfileError(ValueError):
    """A profile file is missing, unreadable or inconsistent (the message names the entry)."""


@dataclass(frozen=True)
class Organization:
    """A market party: ``role`` ROR (retail provider / Rep of Record), TDSP, supplier,
    shipper, DNO, third_party, utility; ``system`` the bus system that acts for it."""

    id: str
    name: str = ""
    role: str = "ROR"
    system: str = ""


@dataclass(frozen=True)
class Transformer:
    id: str
    feeder: str
    neighbourhood: str = ""


@dataclass(frozen=True)
class Customer:
    """A customer with notification preferences (D11-2, D11-4): ``preferences`` maps a
    notification type (outage, etr, restoration, planned, limit, disconnect) to channels
    (IHD, SMS, EMAIL, PHONE); ``receivers`` are extra addresses (e.g. a commercial account
    representative, D11-11)."""

    id: str
    name: str
    account: str
    phone: str = ""
    email: str = ""
    opt_in: bool = True
    preferences: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    receivers: tuple[str, ...] = ()
    credit_status: str = "good"


@dataclass(frozen=True)
class MeterSpec:
    """One AMS meter at a usage point (ESIID). ``rated_kw`` is the rated capacity the load
    limit steps are a percentage of (B2-12); ``han_ihd`` whether an in-home display is paired
    (B2-6); ``ams`` / ``provisioned`` / ``interval_minutes`` / ``daily_read`` are what ODR-6
    checks."""

    esiid: str
    meter: str
    ror: str = ""
    customer: str = ""
    transformer: str = ""
    feeder: str = ""
    rated_kw: float = 12.0
    self_contained: bool = True
    han_ihd: bool = False
    ams: bool = True
    provisioned: bool = True
    interval_minutes: int = 15
    daily_read: bool = True
    load_shape: str = "residential"
    firmware: str = "4.2.0"
    premise: str = ""

    @property
    def usage_point(self) -> str:
        return self.esiid


@dataclass(frozen=True)
class Profile:
    name: str
    description: str = ""
    seed: int = 0
    start: datetime | None = None
    timezone: str = "America/Chicago"
    organizations: tuple[Organization, ...] = ()
    transformers: tuple[Transformer, ...] = ()
    meters: tuple[MeterSpec, ...] = ()
    customers: tuple[Customer, ...] = ()
    sections: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""

    # ------------------------------------------------------------------ lookups
    def meter(self, key: str) -> MeterSpec:
        """The meter with this ESIID or meter number (KeyError otherwise)."""
        index = self._index()
        if key in index:
            return index[key]
        raise KeyError(key)

    def find_meter(self, key: str) -> MeterSpec | None:
        return self._index().get(key)

    def _index(self) -> dict[str, MeterSpec]:
        cached = self.__dict__.get("_meter_index")
        if cached is None:
            cached = {}
            for m in self.meters:
                cached[m.esiid] = m
                cached[m.meter] = m
            object.__setattr__(self, "_meter_index", cached)
        return cached

    def customer(self, customer_id: str) -> Customer:
        for c in self.customers:
            if c.id == customer_id:
                return c
        raise KeyError(customer_id)

    def organization(self, org_id: str) -> Organization:
        for o in self.organizations:
            if o.id == org_id:
                return o
        raise KeyError(org_id)

    def organizations_with(self, role: str) -> list[Organization]:
        return [o for o in self.organizations if o.role == role]

    def transformer(self, tid: str) -> Transformer:
        for t in self.transformers:
            if t.id == tid:
                return t
        raise KeyError(tid)

    def meters_of(
        self, *, ror: str | None = None, transformer: str | None = None, feeder: str | None = None
    ) -> Iterator[MeterSpec]:
        for m in self.meters:
            if ror is not None and m.ror != ror:
                continue
            if transformer is not None and m.transformer != transformer:
                continue
            if feeder is not None and m.feeder != feeder:
                continue
            yield m

    def section(self, name: str) -> Mapping[str, Any]:
        """A free section of the profile (``[dcc]``, ``[crm]``, ...); empty when absent."""
        return self.sections.get(name, {})


# ---------------------------------------------------------------------- loading
def load_profile(name_or_path: str | Path = "demo") -> Profile:
    """Load ``simulators/profiles/<name>.toml`` (a bare name) or a TOML file path."""
    path = Path(name_or_path)
    if not str(name_or_path).strip():
        raise ProfileError(f"no profile named (known profiles: {_known_profiles()})")
    if not path.suffix and len(path.parts) == 1:  # a name, not a path
        path = PROFILES_DIR / f"{name_or_path}.toml"
    if path.is_dir():
        raise ProfileError(f"profile {path} is a directory, not a TOML file")
    if not path.exists():
        raise ProfileError(
            f"profile {name_or_path!s} not found (known profiles: {_known_profiles()}; "
            "or give a .toml path)"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"profile {path} cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
        if "\x00" in text:
            raise ValueError
    except (UnicodeDecodeError, ValueError):
        raise ProfileError(
            f"profile {path} is not UTF-8 text (a profile is a TOML file saved as UTF-8)"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    return profile_from_mapping(data, source=str(path))


def _known_profiles() -> str:
    return ", ".join(sorted(p.stem for p in PROFILES_DIR.glob("*.toml")))


#: the population: ``[profile]`` and ``[generate]`` tables, the other four arrays of tables
_TABLES = ("profile", "generate")
_ARRAYS = ("organizations", "transformers", "meters", "customers")
_KNOWN = {*_TABLES, *_ARRAYS}
#: the free sections, one per simulator that reads one (``Profile.section``)
SECTIONS = ("cis", "crm", "dcc", "field", "headend", "mdms", "oms")
#: top-level tables of a cimbus configuration file (given as a profile by mistake)
_CIMBUS_CONFIG = {"bus", "store", "soap", "amqp", "mqtt", "systems", "routes", "smt", "audit"}
#: the interval lengths (minutes) a meter may record, as in an SMT registry
#: (``routing.services.smt.registry.INTERVALS``); 0 = no interval data (a legacy meter)
INTERVALS = (1, 2, 3, 5, 10, 12, 15, 20, 30, 60)


def _check_layout(data: Mapping[str, Any], source: str) -> None:
    """Only known top-level sections, each of its kind (a misspelt ``[[meterz]]`` or a cimbus
    configuration given as a profile would otherwise give an empty population)."""
    unknown = sorted(set(data) - _KNOWN - set(SECTIONS))
    if unknown:
        hint = (
            " (this looks like a cimbus configuration, not a simulator profile)"
            if set(data) & _CIMBUS_CONFIG
            else ""
        )
        raise ProfileError(
            f"{source}: unknown section(s) {', '.join(unknown)}{hint}; a profile has "
            f"[profile], [generate], [[{']], [['.join(_ARRAYS)}]] and the simulators' "
            f"sections [{'], ['.join(SECTIONS)}] (docs/simulators.md)"
        )
    for key in (*_TABLES, *SECTIONS):
        if key in data and not isinstance(data[key], Mapping):
            raise ProfileError(f"{source}: {key} must be a table ([{key}])")
    for key in _ARRAYS:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise ProfileError(f"{source}: {key} must be an array of tables ([[{key}]])")


def profile_from_mapping(data: Mapping[str, Any], *, source: str = "<mapping>") -> Profile:
    _check_layout(data, source)
    head = dict(data.get("profile", {}))
    name = str(head.pop("name", Path(source).stem))
    start = head.pop("start", None)
    try:
        base = Profile(
            name=name,
            description=str(head.pop("description", "")),
            seed=int(head.pop("seed", 0)),
            start=parse_time(start) if start else None,
            timezone=str(head.pop("timezone", "America/Chicago")),
            source=source,
        )
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{source} [profile]: {exc}") from None
    if head:
        raise ProfileError(f"{source} [profile]: unknown key(s) {', '.join(sorted(head))}")
    orgs = tuple(
        _build(Organization, o, f"{source} organizations[{i}]")
        for i, o in enumerate(data.get("organizations", []))
    )
    transformers = [
        _build(Transformer, t, f"{source} transformers[{i}]")
        for i, t in enumerate(data.get("transformers", []))
    ]
    customers = [
        _customer(c, f"{source} customers[{i}]") for i, c in enumerate(data.get("customers", []))
    ]
    meters = [
        _build(MeterSpec, m, f"{source} meters[{i}]") for i, m in enumerate(data.get("meters", []))
    ]
    gen = data.get("generate")
    if gen:
        g_meters, g_customers, g_transformers = _generate(dict(gen), base.seed, orgs, source)
        listed = {m.esiid for m in meters}
        meters = [m for m in g_meters if m.esiid not in listed] + meters
        have = {c.id for c in customers}
        customers = [c for c in g_customers if c.id not in have] + customers
        have_t = {t.id for t in transformers}
        transformers = [t for t in g_transformers if t.id not in have_t] + transformers
    profile = replace(
        base,
        organizations=orgs,
        transformers=tuple(transformers),
        meters=tuple(meters),
        customers=tuple(customers),
        sections={k: v for k, v in data.items() if k not in _KNOWN},
    )
    _check(profile)
    return profile


def _build(cls: type, raw: Mapping[str, Any], where: str) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = set(raw) - names
    if unknown:
        raise ProfileError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(names))})"
        )
    kinds = {f.name: f.type for f in fields(cls)}
    for key, value in raw.items():
        expected = _SCALARS.get(str(kinds[key]))
        if expected is None:
            continue
        noun, types = expected
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise ProfileError(f"{where}: {key} must be {noun}, not {value!r}")
    if cls is MeterSpec and "interval_minutes" in raw:
        minutes = raw["interval_minutes"]
        if minutes != 0 and minutes not in INTERVALS:
            raise ProfileError(
                f"{where}: interval_minutes {minutes} is not an interval a meter records: use "
                f"one of {', '.join(map(str, INTERVALS))} (minutes), or 0 for a meter without "
                "interval data"
            )
    try:
        return cls(**raw)
    except TypeError as exc:
        raise ProfileError(f"{where}: {exc}") from None


#: what a scalar field of a profile entry accepts (TOML types)
_SCALARS: dict[str, tuple[str, tuple[type, ...]]] = {
    "str": ("text", (str,)),
    "bool": ("true or false", (bool,)),
    "int": ("a whole number", (int,)),
    "float": ("a number", (int, float)),
}


def _customer(raw: Mapping[str, Any], where: str) -> Customer:
    raw = dict(raw)
    prefs = {k: tuple(v) for k, v in dict(raw.pop("preferences", {})).items()}
    receivers = tuple(raw.pop("receivers", ()))
    c = _build(Customer, raw, where)
    return replace(c, preferences=prefs, receivers=receivers)


def _generate(
    gen: dict[str, Any], seed: int, orgs: tuple[Organization, ...], source: str
) -> tuple[list[MeterSpec], list[Customer], list[Transformer]]:
    where = f"{source} [generate]"
    known = {
        "meters",
        "esiid_prefix",
        "meter_prefix",
        "feeders",
        "transformers_per_feeder",
        "rors",
        "han_ihd_every",
        "rated_kw",
        "not_provisioned_every",
        "customer_preferences",
    }
    unknown = set(gen) - known
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    try:
        n = _count(gen, "meters", 0, where)
        prefix = str(gen.get("esiid_prefix", "10443720"))
        mprefix = str(gen.get("meter_prefix", "AMS"))
        feeders = max(1, _count(gen, "feeders", 1, where))
        per_feeder = max(1, _count(gen, "transformers_per_feeder", 4, where))
        rors = [str(r) for r in _list(gen, "rors", [o.id for o in orgs if o.role == "ROR"])]
        ihd_every = _count(gen, "han_ihd_every", 2, where)
        np_every = _count(gen, "not_provisioned_every", 0, where)
        ratings = [float(x) for x in _list(gen, "rated_kw", [12.0, 18.0, 24.0])]
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{where}: {exc}") from None
    if not prefix.isdigit():
        raise ProfileError(f"{where}: esiid_prefix {prefix!r} must be digits")
    if n and not rors:
        raise ProfileError(
            f"{where}: no Rep of Record to assign meters to (give rors or ROR organizations)"
        )
    if not ratings or any(not r > 0 for r in ratings):
        raise ProfileError(f"{where}: rated_kw must list positive ratings, not {ratings!r}")
    default_prefs = {
        k: tuple(v)
        for k, v in dict(
            gen.get(
                "customer_preferences",
                {
                    "outage": ["IHD"],
                    "etr": ["IHD"],
                    "restoration": ["IHD"],
                    "planned": ["IHD"],
                    "limit": ["IHD"],
                    "disconnect": ["IHD"],
                },
            )
        ).items()
    }
    rng = random.Random(seed)
    transformers = []
    for f in range(1, feeders + 1):
        for t in range(1, per_feeder + 1):
            transformers.append(
                Transformer(
                    id=f"XFMR-{f:02d}-{t:03d}",
                    feeder=f"FDR-{f:02d}",
                    neighbourhood=f"NBH-{f:02d}-{(t - 1) // 2 + 1:02d}",
                )
            )
    digits = 17 - len(prefix)
    if digits < 4:
        raise ProfileError(
            f"{where}: esiid_prefix {prefix!r} leaves too few digits for 17-digit ESIIDs"
        )
    width = max(4, len(str(n)))
    meters: list[MeterSpec] = []
    customers: list[Customer] = []
    for i in range(1, n + 1):
        esiid = f"{prefix}{i:0{digits}d}"
        t = transformers[(i - 1) % len(transformers)]
        cust = f"CUST-{i:0{width}d}"
        first, last = _FIRST[rng.randrange(len(_FIRST))], _LAST[rng.randrange(len(_LAST))]
        meters.append(
            MeterSpec(
                esiid=esiid,
                meter=f"{mprefix}-{i:0{width}d}",
                ror=rors[(i - 1) % len(rors)],
                customer=cust,
                transformer=t.id,
                feeder=t.feeder,
                rated_kw=ratings[(i - 1) % len(ratings)],
                han_ihd=ihd_every > 0 and i % ihd_every == 1 % ihd_every,
                provisioned=not (np_every and i % np_every == 0),
                load_shape=_SHAPES[rng.randrange(len(_SHAPES))],
                premise=f"{100 + i} {last} St",
            )
        )
        customers.append(
            Customer(
                id=cust,
                name=f"{first} {last}",
                account=f"ACC-{i:0{width}d}",
                phone=f"+1512555{i % 10000:04d}",
                email=f"{first.lower()}.{last.lower()}{i}@example.invalid",
                preferences=default_prefs,
            )
        )
    return meters, customers, transformers


def _count(gen: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = gen.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProfileError(f"{where}: {key} must be a whole number of 0 or more, not {value!r}")
    return value


def _list(gen: Mapping[str, Any], key: str, default: list[Any]) -> list[Any]:
    value = gen.get(key, default)
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list, not {value!r}")
    return value


def _check(p: Profile) -> None:
    if not p.meters:
        raise ProfileError(
            f"{p.source}: the profile has no meters: list some ([[meters]]) or generate them "
            "([generate] meters = N); every simulator plays a population of meters"
        )
    seen: set[str] = set()
    for m in p.meters:
        for key in (m.esiid, m.meter):
            if key in seen:
                raise ProfileError(f"{p.source}: ESIID/meter {key} appears twice")
            seen.add(key)
    orgs = {o.id for o in p.organizations}
    xf = {t.id for t in p.transformers}
    for m in p.meters[:1000] if len(p.meters) > 10000 else p.meters:
        if m.ror and orgs and m.ror not in orgs:
            raise ProfileError(
                f"{p.source}: meter {m.meter} names ROR {m.ror!r}, which is not among the organizations"
            )
        if m.transformer and xf and m.transformer not in xf:
            raise ProfileError(
                f"{p.source}: meter {m.meter} names transformer {m.transformer!r}, which is not among the transformers"
            )
