"""Code tables loaded from the package's TOML data files.

Every code list of :mod:`cim_models.codes` is data: ``cim_models/codes/data/*.toml``, read once
with :mod:`tomllib` and cached. This module turns one list of values into a :class:`CodeTable`:
an immutable mapping ``code -> CodeValue`` that also resolves readable names (the IEC literal,
aliases, the English label, case- and punctuation-insensitively when that is unambiguous).
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ._errors import CodeError

__all__ = ["CodeTable", "CodeValue", "load_data"]

_INT_RE = re.compile(r"-?[0-9]+")


@functools.cache
def load_data(name: str) -> Mapping[str, Any]:
    """Return the parsed ``data/<name>.toml`` of this package (cached; do not mutate)."""
    path = resources.files(__package__).joinpath("data").joinpath(f"{name}.toml")
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _normalise(text: str) -> str:
    """Key for forgiving look-ups: case-folded letters and digits ("15-minute" -> "15minute")."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@dataclass(frozen=True, slots=True)
class CodeValue:
    """One value of a code list."""

    code: int
    #: the IEC enumeration literal, e.g. "fifteenMinute", "RCDSwitch", "Wh"
    name: str
    #: short English, e.g. "15-minute"
    label: str
    aliases: tuple[str, ...] = ()
    #: length in minutes (ReadingType macroPeriod / measuringPeriod)
    minutes: int | None = None
    #: printed symbol when it differs from the name (unit and multiplier symbols)
    symbol: str | None = None
    #: EndDeviceEventOrAction only: "command", "event" or "command or event"
    kind: str | None = None
    #: set when the value is a vendor extension rather than part of the IEC value set
    extension: str | None = None

    @property
    def display_symbol(self) -> str:
        """The symbol to print (``symbol`` if given, else ``name``)."""
        return self.name if self.symbol is None else self.symbol


class CodeTable(Mapping[int, CodeValue]):
    """An immutable code list: ``table[code] -> CodeValue``, plus name resolution.

    ``open_set`` tables (ReadingType currency, ReadingQualityType index) accept any non-negative
    integer; their entries only supply readable names.
    """

    __slots__ = ("_by_code", "_exact", "_normalised", "open_set", "title")

    def __init__(self, title: str, values: Iterable[CodeValue], *, open_set: bool = False) -> None:
        self.title = title
        self.open_set = open_set
        self._by_code: dict[int, CodeValue] = {}
        for value in values:
            if value.code in self._by_code:
                raise CodeError(f"{title} table lists code {value.code} twice", field=title)
            self._by_code[value.code] = value
        # Exact spellings: names win over aliases, aliases over labels.
        self._exact: dict[str, int] = {}
        for attr in ("name", "aliases", "label"):
            level: dict[str, set[int]] = {}
            for value in self._by_code.values():
                spellings = value.aliases if attr == "aliases" else (getattr(value, attr),)
                for spelling in spellings:
                    level.setdefault(spelling, set()).add(value.code)
            for spelling, codes in level.items():
                if spelling in self._exact:
                    continue
                if len(codes) > 1:
                    if attr == "name":
                        raise CodeError(f"{title} table uses name {spelling!r} twice", field=title)
                    continue  # an ambiguous alias or label resolves nothing
                self._exact[spelling] = next(iter(codes))
        # Forgiving spellings: only those that point at a single value.
        normalised: dict[str, set[int]] = {}
        for spelling, code in self._exact.items():
            normalised.setdefault(_normalise(spelling), set()).add(code)
        self._normalised = {key: codes for key, codes in normalised.items() if key}

    # Mapping protocol -----------------------------------------------------------------------
    def __getitem__(self, code: int) -> CodeValue:
        return self._by_code[code]

    def __iter__(self) -> Iterator[int]:
        return iter(self._by_code)

    def __len__(self) -> int:
        return len(self._by_code)

    def __repr__(self) -> str:
        return f"<CodeTable {self.title}: {len(self)} values>"

    # Look-ups -------------------------------------------------------------------------------
    def is_valid(self, code: int) -> bool:
        """True if ``code`` is in the table, or the table is open and ``code`` is >= 0."""
        return code in self._by_code or (self.open_set and code >= 0)

    def name(self, code: int) -> str:
        """The literal name of ``code``; the number itself when the table does not know it."""
        value = self._by_code.get(code)
        return value.name if value else str(code)

    def label(self, code: int) -> str:
        """The English label of ``code``; ``"<title> <code>"`` when the table does not know it."""
        value = self._by_code.get(code)
        return value.label if value else f"{self.title} {code}"

    def resolve(self, token: int | str) -> int:
        """Turn an int, a numeric string, a literal name, an alias or a label into a code.

        Exact spellings are tried first (so "M" is mega and "m" is milli), then a case- and
        punctuation-insensitive match ("Fifteen-Minute", "15 minute") if it is unambiguous.

        Raises:
            CodeError: unknown value or name (with close matches suggested), or an ambiguous one.
        """
        if isinstance(token, bool) or not isinstance(token, int | str):
            raise CodeError(
                f"{self.title} value must be an int or a name, got {type(token).__name__}",
                field=self.title,
                value=token,
            )
        if isinstance(token, str) and _INT_RE.fullmatch(token.strip()):
            token = int(token)
        if isinstance(token, int):
            if not self.is_valid(token):
                raise CodeError(
                    f"{self.title} has unknown value {token}", field=self.title, value=token
                )
            return token
        if token in self._exact:
            return self._exact[token]
        codes = self._normalised.get(_normalise(token), set())
        if len(codes) == 1:
            return next(iter(codes))
        if len(codes) > 1:
            names = ", ".join(repr(self.name(c)) for c in sorted(codes))
            raise CodeError(
                f"{self.title} name {token!r} is ambiguous: it could be {names}",
                field=self.title,
                value=token,
            )
        close = difflib.get_close_matches(token, list(self._exact), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise CodeError(
            f"{self.title} has no value named {token!r}{hint}", field=self.title, value=token
        )


def value_from_toml(entry: Mapping[str, Any], *, code: int | None = None) -> CodeValue:
    """Build a :class:`CodeValue` from one inline table of a data file."""
    return CodeValue(
        code=entry["code"] if code is None else code,
        name=entry["name"],
        label=entry.get("label", entry["name"]),
        aliases=tuple(entry.get("aliases", ())),
        minutes=entry.get("minutes"),
        symbol=entry.get("symbol"),
        kind=entry.get("kind"),
        extension=entry.get("extension"),
    )


def split_code(
    code: object,
    *,
    kind: str,
    fields: tuple[str, ...],
    item: str = "field",
    signed: frozenset[int] = frozenset(),
) -> tuple[int, ...]:
    """Split a dotted code into exactly ``len(fields)`` integers, or raise a precise CodeError.

    ``kind`` names the code in messages ("ReadingType"), ``item`` its pieces ("field" or "part");
    ``fields`` are the IEC names of the pieces;
    ``signed`` holds the 0-based positions that may be negative (ReadingType multiplier).
    Surrounding whitespace is ignored; anything else that is not ASCII digits is an error.
    """
    if not isinstance(code, str):
        raise TypeError(f"{kind} code must be a str, got {type(code).__name__}")
    text = code.strip()
    expected = len(fields)
    layout = ".".join(fields)
    if not text:
        raise CodeError(
            f"{kind} code is empty; expected {expected} dot-separated integers ({layout}), "
            f"starting with {item} 1 ({fields[0]})",
            code=code,
            field=fields[0],
            value=code,
        )
    parts = text.split(".")
    if len(parts) < expected:
        missing = len(parts)
        raise CodeError(
            f"{kind} code {code!r} has {len(parts)} {item}s, expected {expected}: {item} "
            f"{missing + 1} ({fields[missing]}) onward is missing (layout {layout})",
            code=code,
            field=fields[missing],
        )
    if len(parts) > expected:
        raise CodeError(
            f"{kind} code {code!r} has {len(parts)} {item}s, expected {expected}: {item} "
            f"{expected + 1} onward is extra (the last {item} is {expected} ({fields[-1]}))",
            code=code,
            field=fields[-1],
        )
    values: list[int] = []
    for position, (part, field) in enumerate(zip(parts, fields, strict=True)):
        number = f"{item} {position + 1} ({field})"
        if not part:
            raise CodeError(
                f"{kind} {number} is empty in {code!r}", code=code, field=field, value=part
            )
        if not _INT_RE.fullmatch(part):
            what = "an integer" if position in signed else "a non-negative integer"
            raise CodeError(
                f"{kind} {number} is not {what}: {part!r} in {code!r}",
                code=code,
                field=field,
                value=part,
            )
        value = int(part)
        if value < 0 and position not in signed:
            raise CodeError(
                f"{kind} {number} must not be negative: {part!r} in {code!r}",
                code=code,
                field=field,
                value=value,
            )
        values.append(value)
    return tuple(values)


def check_parts(kind: str, names: Iterable[str], values: Iterable[object]) -> None:
    """Every part of a dotted code must be a non-negative int (not a bool): raise CodeError
    naming the part otherwise."""
    for position, (part, value) in enumerate(zip(names, values, strict=True)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CodeError(
                f"{kind} part {position + 1} ({part}) must be a non-negative int, got {value!r}",
                field=part,
                value=value,
            )
