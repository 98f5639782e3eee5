"""The usage-point registry file (ODR-4, ODR-6): which ESIIDs SMT knows, their meter, their
Rep of Record and their capabilities. Named by ``[smt] registry`` and upserted into the store
at start-up (``SmtService.load_registry``); ``SmtService.provision`` adds one from code.

TOML (``.toml``, UTF-8)::

    [[usage_points]]
    esiid = "10443720001234567"      # required: 17 or 22 digits
    meter_number = "118822734"
    ror = "REP-BLUEBONNET"           # Header/User/Organization of the Rep of Record
    ams = true                       # default true
    provisioned = true               # default true
    interval_minutes = 15            # default 15; 0 = no interval data
    daily_read = true                # default true

CSV (``.csv``, UTF-8, header row, same column names, each at most once; only ``esiid`` is
required; booleans true/false, yes/no, 1/0; an empty cell takes the default; every row has as
many cells as the header has columns)::

    esiid,meter_number,ror,ams,provisioned,interval_minutes,daily_read
    10443720001234567,118822734,REP-BLUEBONNET,true,true,15,true

An ESIID appears once per file. ``interval_minutes`` is one of :data:`INTERVALS` or 0 (a meter
that records no interval data, e.g. a legacy meter).

A wrong file is a :class:`~routing.errors.ConfigError` naming the file, the entry (TOML
``usage_points[i]``, CSV ``line N``) and the field; nothing is skipped or merged silently.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ...errors import ConfigError
from ...store import UsagePoint

FIELDS = ("esiid", "meter_number", "ror", "ams", "provisioned", "interval_minutes", "daily_read")
_BOOLS = ("ams", "provisioned", "daily_read")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
#: an ESIID (ERCOT Electric Service Identifier): 17 digits, like 10443720007574303 in the SMT
#: documents, or 22 digits (the longer form one TDSP uses)
ESIID_RE = re.compile(r"[0-9]{17}|[0-9]{22}")
#: the interval lengths (minutes) a meter may record: the CIM ReadingType measuring periods
#: that divide an hour (ODR itself needs 15, ODR-6); 0 = the meter records no interval data
INTERVALS = (1, 2, 3, 5, 10, 12, 15, 20, 30, 60)
_WHOLE = re.compile(r"[+-]?[0-9]+")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def load_registry(path: str | Path) -> list[UsagePoint]:
    """The usage points in a TOML or CSV registry file (by its extension)."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"[smt] registry {p} is a directory, not a .toml or .csv file")
    if not p.exists():
        raise ConfigError(f"[smt] registry {p} does not exist")
    if not p.is_file():
        raise ConfigError(f"[smt] registry {p} is not a regular file")
    suffix = p.suffix.lower()
    if suffix not in (".toml", ".csv"):
        raise ConfigError(f"[smt] registry {p}: use a .toml or .csv file")
    text = _read_text(p)
    points = _from_toml(p, text) if suffix == ".toml" else _from_csv(p, text)
    return [point for point, _where in points]


def usage_point(entry: Mapping[str, Any], *, where: str) -> UsagePoint:
    """One usage point from a mapping of the registry fields (values as TOML gives them, or
    as strings from CSV)."""
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}"
        )
    esiid = _text(entry.get("esiid"), where=f"{where}: esiid")
    if not esiid:
        raise ConfigError(f"{where}: esiid is missing")
    if not ESIID_RE.fullmatch(esiid):
        raise ConfigError(
            f"{where}: esiid {esiid!r} is not an ESIID (17 or 22 digits, e.g. 10443720001234567)"
        )
    values: dict[str, Any] = {"esiid": esiid}
    for key in ("meter_number", "ror"):
        text = _text(entry.get(key), where=f"{where}: {key}")
        if text:
            values[key] = text
    for key in _BOOLS:
        if key in entry and _blank(entry[key]) is False:
            values[key] = _bool(entry[key], where=f"{where}: {key}")
    if "interval_minutes" in entry and _blank(entry["interval_minutes"]) is False:
        values["interval_minutes"] = _interval(entry["interval_minutes"], where=where)
    return UsagePoint(**values)


# ---------------------------------------------------------------------------- reading
def _read_text(p: Path) -> str:
    """The file as text: UTF-8 (a byte-order mark is allowed); anything else is refused."""
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"[smt] registry {p} cannot be read: {exc.strerror or exc}") from None
    if data.startswith(_UTF16_BOMS):
        raise ConfigError(f"[smt] registry {p} is UTF-16 text: save it as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ConfigError(
            f"[smt] registry {p}: line {_line_of(data, nul)} holds a NUL byte: "
            "not a text file (save it as UTF-8 text)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"[smt] registry {p}: line {_line_of(data, exc.start)} is not UTF-8 text "
            "(save the file as UTF-8)"
        ) from None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _from_toml(p: Path, text: str) -> list[tuple[UsagePoint, str]]:
    try:
        data = tomllib.loads(text)
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
        where = f"usage_points[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"[smt] registry {p}: {where} must be a table")
        out.append((usage_point(entry, where=f"[smt] registry {p}: {where}"), where))
    return _once(p, out)


def _from_csv(p: Path, text: str) -> list[tuple[UsagePoint, str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
        columns = _columns(p, header)
        out = []
        line = reader.line_num + 1  # the first line of the next row
        for cells in reader:
            where = f"line {line}"
            line = reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue  # a blank line
            if len(cells) != len(columns):
                raise ConfigError(
                    f"[smt] registry {p}: {where} has {len(cells)} cell(s) but the header names "
                    f"{len(columns)} column(s) ({', '.join(columns)}); nothing was loaded"
                )
            entry = dict(zip(columns, cells, strict=True))
            out.append((usage_point(entry, where=f"[smt] registry {p}: {where}"), where))
    except csv.Error as exc:
        raise ConfigError(
            f"[smt] registry {p}: line {reader.line_num}: not valid CSV: {exc}"
        ) from None
    return _once(p, out)


def _columns(p: Path, header: list[str]) -> list[str]:
    """The header row's column names: each known, named once, ``esiid`` among them."""
    if "esiid" not in header:
        raise ConfigError(
            f"[smt] registry {p}: the first line must name the columns ({', '.join(FIELDS)}); "
            "it has no esiid column"
        )
    seen: dict[str, int] = {}
    for n, name in enumerate(header, 1):
        if not name:
            raise ConfigError(f"[smt] registry {p}: line 1: column {n} has no name")
        if name in seen:
            raise ConfigError(
                f"[smt] registry {p}: line 1: column {name!r} appears twice (columns "
                f"{seen[name]} and {n})"
            )
        seen[name] = n
    unknown = [name for name in header if name not in FIELDS]
    if unknown:
        raise ConfigError(
            f"[smt] registry {p}: line 1: unknown column(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(FIELDS)}"
        )
    return header


def _once(p: Path, points: Iterable[tuple[UsagePoint, str]]) -> list[tuple[UsagePoint, str]]:
    """Every ESIID at most once in a file (the store keeps one entry per ESIID, so a second
    one would silently replace the first)."""
    first: dict[str, str] = {}
    out = []
    for point, where in points:
        if point.esiid in first:
            raise ConfigError(
                f"[smt] registry {p}: {where}: ESIID {point.esiid} appears twice (first at "
                f"{first[point.esiid]}); nothing was loaded"
            )
        first[point.esiid] = where
        out.append((point, where))
    return out


# ---------------------------------------------------------------------------- values
def _blank(value: Any) -> bool:
    """An empty (CSV) cell: the field takes its default."""
    return isinstance(value, str) and not value.strip()


def _text(value: Any, *, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"{where} must be text, not {value!r}")
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


def _interval(raw: Any, *, where: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        minutes = raw
    elif isinstance(raw, str) and _WHOLE.fullmatch(raw.strip()):
        minutes = int(raw.strip())
    else:
        raise ConfigError(f"{where}: interval_minutes must be a whole number, not {raw!r}")
    if minutes != 0 and minutes not in INTERVALS:
        raise ConfigError(
            f"{where}: interval_minutes {minutes} is not an interval a meter records: use one "
            f"of {', '.join(map(str, INTERVALS))} (minutes), or 0 for a meter without "
            "interval data"
        )
    return minutes
