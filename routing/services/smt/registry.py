"""The usage-point registry file (ODR-4, ODR-6): which ESIIDs SMT knows, their meter, their
Rep of Record and their capabilities. Named by ``[smt] registry`` and upserted into the store
at start-up (``SmtService.load_registry``); ``SmtService.provision`` adds one from code.

TOML (``.toml``)::

    [[usage_points]]
    esiid = "10443720001234567"      # required
    meter_number = "118822734"
    ror = "REP-BLUEBONNET"           # Header/User/Organization of the Rep of Record
    ams = true                       # default true
    provisioned = true               # default true
    interval_minutes = 15            # default 15
    daily_read = true                # default true

CSV (``.csv``, header row, same column names; only ``esiid`` is required; booleans
true/false, yes/no, 1/0; an empty cell takes the default)::

    esiid,meter_number,ror,ams,provisioned,interval_minutes,daily_read
    10443720001234567,118822734,REP-BLUEBONNET,true,true,15,true

A wrong file is a :class:`~routing.errors.ConfigError` naming the file, the entry and the field.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...store import UsagePoint

FIELDS = ("esiid", "meter_number", "ror", "ams", "provisioned", "interval_minutes", "daily_read")
_BOOLS = ("ams", "provisioned", "daily_read")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def load_registry(path: str | Path) -> list[UsagePoint]:
    """The usage points in a TOML or CSV registry file (by its extension)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"[smt] registry {p} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".toml":
        return _from_toml(p)
    if suffix == ".csv":
        return _from_csv(p)
    raise ConfigError(f"[smt] registry {p}: use a .toml or .csv file")


def usage_point(entry: Mapping[str, Any], *, where: str) -> UsagePoint:
    """One usage point from a mapping of the registry fields (values as TOML gives them, or
    as strings from CSV)."""
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}"
        )
    esiid = _text(entry.get("esiid"))
    if not esiid:
        raise ConfigError(f"{where}: esiid is missing")
    values: dict[str, Any] = {"esiid": esiid}
    for key in ("meter_number", "ror"):
        if _text(entry.get(key)):
            values[key] = _text(entry.get(key))
    for key in _BOOLS:
        if key in entry and _text(entry[key]) is not None:
            values[key] = _bool(entry[key], where=f"{where}: {key}")
    if "interval_minutes" in entry and _text(entry["interval_minutes"]) is not None:
        raw = entry["interval_minutes"]
        try:
            if isinstance(raw, bool):
                raise ValueError
            values["interval_minutes"] = int(raw)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{where}: interval_minutes must be a whole number, not {raw!r}"
            ) from None
    return UsagePoint(**values)


def _from_toml(p: Path) -> list[UsagePoint]:
    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"[smt] registry {p}: not valid TOML: {exc}") from None
    entries = data.get("usage_points")
    if not isinstance(entries, list) or set(data) - {"usage_points"}:
        raise ConfigError(
            f"[smt] registry {p}: expected only [[usage_points]] tables (found: "
            f"{', '.join(sorted(data)) or 'nothing'})"
        )
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"[smt] registry {p}: usage_points[{i}] must be a table")
        out.append(usage_point(entry, where=f"[smt] registry {p}: usage_points[{i}]"))
    return out


def _from_csv(p: Path) -> list[UsagePoint]:
    with open(p, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        if "esiid" not in header:
            raise ConfigError(
                f"[smt] registry {p}: the first line must name the columns ({', '.join(FIELDS)})"
            )
        out = []
        for row in reader:
            entry = {
                (k or "").strip(): v for k, v in row.items() if k is not None and v is not None
            }
            if not any((v or "").strip() for v in entry.values()):
                continue  # blank line
            out.append(usage_point(entry, where=f"[smt] registry {p}: line {reader.line_num}"))
        return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _bool(value: Any, *, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{where} must be true or false, not {value!r}")
