"""Vendor aliases for outage events: which EndDeviceEventType codes mean power down / up (D11-1).

Head-ends disagree: power down is ``3.26.0.85`` (Aclara), ``3.26.0.47`` (Itron/SSN at AEP) or
``0.26.38.85`` (Connexo); power up is ``3.26.0.216`` or ``0.26.38.49``; the last gasp is
``3.26.136.47``. An :class:`OutageEventMap` maps such codes to three canonical meanings so that
the OMS side (D11-1: confirm an outage from last-gasp events) never hard-codes a vendor.

The default table is ``data/outage_aliases.toml``. A utility adds or replaces aliases with a file
of the same shape::

    mode = "extend"            # "extend" (default): on top of the defaults; "replace": alone
    [aliases]
    "3.26.17.185" = "power_down"
    "3.26.0.47" = "ignore"     # drop a default alias
    "3.26.136.66" = { meaning = "last_gasp", source = "our Itron fleet" }

Codes must be quoted in TOML (an unquoted ``3.26.0.85`` is a nested key). A code with
EndDeviceType 0 is a wildcard for every device type, unless the exact code has its own entry.
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from ._errors import CodeError
from ._tables import load_data
from .end_device import EndDeviceCode

__all__ = ["IGNORE", "OUTAGE_MEANINGS", "OutageAlias", "OutageEventMap", "OutageMeaning"]

OutageMeaning = Literal["power_down", "last_gasp", "power_up"]
#: The canonical meanings, in the order an outage unfolds.
OUTAGE_MEANINGS: Final[tuple[OutageMeaning, ...]] = ("power_down", "last_gasp", "power_up")
#: Meaning that removes an alias when a utility file extends the defaults.
IGNORE: Final = "ignore"
_MODES: Final = ("extend", "replace")
_ALIAS_KEYS: Final = frozenset({"meaning", "source"})


@dataclass(frozen=True, slots=True)
class OutageAlias:
    """One vendor code and what it means."""

    code: str
    meaning: OutageMeaning
    source: str = ""


class OutageEventMap:
    """Classify EndDeviceEventType codes as power_down / last_gasp / power_up (D11-1).

    Immutable; build it with :meth:`default`, :meth:`from_toml` or :meth:`from_mapping`.

    >>> OutageEventMap.default().classify("3.26.136.47")
    'last_gasp'
    """

    __slots__ = ("_aliases", "_exact", "_wildcards")

    def __init__(
        self, aliases: Iterable[OutageAlias] = (), *, origin: str = "outage aliases"
    ) -> None:
        self._aliases: dict[str, OutageAlias] = {}
        for alias in aliases:
            code = _canonical(alias.code, origin)
            if alias.meaning not in OUTAGE_MEANINGS:
                raise CodeError(
                    f"{origin}: alias {alias.code!r} has unknown meaning {alias.meaning!r}; "
                    f"expected one of {', '.join(OUTAGE_MEANINGS)}",
                    code=alias.code,
                    value=alias.meaning,
                )
            if code in self._aliases:
                raise CodeError(f"{origin}: alias {code!r} is listed twice", code=code)
            self._aliases[code] = OutageAlias(code, alias.meaning, alias.source)
        self._exact: dict[str, OutageMeaning] = {c: a.meaning for c, a in self._aliases.items()}
        self._wildcards: dict[tuple[int, int, int], OutageMeaning] = {}
        for code, alias in self._aliases.items():
            parsed = EndDeviceCode.parse(code, strict=False)
            if parsed.device_type == 0:
                key = (parsed.domain, parsed.subdomain, parsed.event_or_action)
                self._wildcards[key] = alias.meaning

    # Construction ---------------------------------------------------------------------------
    @classmethod
    def default(cls) -> OutageEventMap:
        """The built-in aliases (``data/outage_aliases.toml``)."""
        return _default_map()

    @classmethod
    def from_mapping(
        cls,
        aliases: Mapping[str, Any],
        *,
        mode: str = "extend",
        base: OutageEventMap | None = None,
        origin: str = "outage aliases",
    ) -> OutageEventMap:
        """Build a map from ``{code: meaning}`` or ``{code: {"meaning": ..., "source": ...}}``.

        ``mode="extend"`` (default) starts from ``base`` (default: :meth:`default`) and adds or
        overrides its entries; the meaning ``"ignore"`` removes one. ``mode="replace"`` uses only
        ``aliases``. Every code must be a 4-part code of non-negative integers (unknown part values
        are allowed: vendors use them) and every meaning one of :data:`OUTAGE_MEANINGS`.

        Raises:
            CodeError: a malformed code, an unknown meaning or key, a code listed twice.
        """
        if mode not in _MODES:
            raise CodeError(
                f"{origin}: mode must be 'extend' or 'replace', got {mode!r}", value=mode
            )
        if not isinstance(aliases, Mapping):
            raise CodeError(
                f"{origin}: aliases must be a table of code = meaning, got {type(aliases).__name__}"
            )
        merged: dict[str, OutageAlias] = {}
        if mode == "extend":
            merged.update((a.code, a) for a in (base or cls.default()).aliases)
        seen: set[str] = set()
        for raw_code, value in aliases.items():
            code = _canonical(raw_code, origin, value)
            if code in seen:
                raise CodeError(f"{origin}: alias {code!r} is listed twice", code=code)
            seen.add(code)
            meaning, source = _meaning_and_source(code, value, origin)
            if meaning == IGNORE:
                merged.pop(code, None)
            else:
                merged[code] = OutageAlias(code, meaning, source)
        return cls(merged.values(), origin=origin)

    @classmethod
    def from_toml(
        cls, path: str | os.PathLike[str], *, base: OutageEventMap | None = None
    ) -> OutageEventMap:
        """Load a utility's alias file (format in the module docstring and docs/codes.md).

        Raises:
            CodeError: invalid TOML or content (the message names the file).
            OSError: the file cannot be read.
        """
        origin = os.fspath(path)
        with open(path, "rb") as fh:
            try:
                document = tomllib.load(fh)
            except tomllib.TOMLDecodeError as exc:
                raise CodeError(f"{origin}: not valid TOML: {exc}") from exc
        unknown = set(document) - {"mode", "aliases"}
        if unknown:
            raise CodeError(
                f"{origin}: unknown top-level key(s) {', '.join(sorted(unknown))}; "
                "expected 'mode' and an [aliases] table",
                value=sorted(unknown),
            )
        if "aliases" not in document:
            raise CodeError(f"{origin}: missing the [aliases] table")
        return cls.from_mapping(
            document["aliases"], mode=document.get("mode", "extend"), base=base, origin=origin
        )

    # Queries --------------------------------------------------------------------------------
    def classify(self, code: str | EndDeviceCode) -> OutageMeaning | None:
        """``"power_down"``, ``"last_gasp"``, ``"power_up"`` or None for any other code.

        An exact entry wins; otherwise an entry with EndDeviceType 0 matches any device type.
        A malformed code raises :class:`CodeError`.
        """
        parsed = (
            code if isinstance(code, EndDeviceCode) else EndDeviceCode.parse(code, strict=False)
        )
        meaning = self._exact.get(parsed.code)
        if meaning is not None:
            return meaning
        return self._wildcards.get((parsed.domain, parsed.subdomain, parsed.event_or_action))

    def codes_for(self, meaning: str) -> tuple[str, ...]:
        """The codes listed for ``meaning``, in table order."""
        if meaning not in OUTAGE_MEANINGS:
            raise CodeError(
                f"unknown outage meaning {meaning!r}; expected one of {', '.join(OUTAGE_MEANINGS)}",
                value=meaning,
            )
        return tuple(c for c, a in self._aliases.items() if a.meaning == meaning)

    @property
    def aliases(self) -> tuple[OutageAlias, ...]:
        return tuple(self._aliases.values())

    def as_dict(self) -> dict[str, str]:
        """``{code: meaning}``, e.g. for logging the effective configuration at start-up."""
        return dict(self._exact)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str | EndDeviceCode) and self.classify(code) is not None

    def __iter__(self) -> Iterator[OutageAlias]:
        return iter(self._aliases.values())

    def __len__(self) -> int:
        return len(self._aliases)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OutageEventMap) and self._aliases == other._aliases

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        counts = ", ".join(f"{m}={len(self.codes_for(m))}" for m in OUTAGE_MEANINGS)
        return f"<OutageEventMap {counts}>"


def _canonical(code: object, origin: str, value: object = None) -> str:
    if not isinstance(code, str):
        raise CodeError(f"{origin}: alias code must be a string, got {code!r}", value=code)
    if isinstance(value, Mapping) and "meaning" not in value and code.isdigit():
        raise CodeError(
            f"{origin}: alias key {code!r} looks like the start of an unquoted code; "
            'quote codes in TOML: "3.26.0.85" = "power_down"',
            value=code,
        )
    try:
        return EndDeviceCode.parse(code, strict=False).code
    except CodeError as exc:
        raise CodeError(
            f"{origin}: alias {code!r} is not an EndDeviceEventType code: {exc}",
            code=code,
            field=exc.field,
            value=exc.value,
        ) from None


def _meaning_and_source(code: str, value: object, origin: str) -> tuple[str, str]:
    if isinstance(value, str):
        meaning, source = value, ""
    elif isinstance(value, Mapping):
        unknown = set(value) - _ALIAS_KEYS
        if unknown:
            raise CodeError(
                f"{origin}: alias {code!r} has unknown key(s) {', '.join(sorted(unknown))}; "
                "allowed: meaning, source",
                code=code,
                value=sorted(unknown),
            )
        if "meaning" not in value:
            raise CodeError(f"{origin}: alias {code!r} has no meaning", code=code)
        meaning, source = value["meaning"], value.get("source", "")
        if not isinstance(source, str):
            raise CodeError(f"{origin}: alias {code!r} source must be a string", code=code)
    else:
        raise CodeError(
            f"{origin}: alias {code!r} must map to a meaning or a table, got {value!r}",
            code=code,
            value=value,
        )
    if meaning != IGNORE and meaning not in OUTAGE_MEANINGS:
        raise CodeError(
            f"{origin}: alias {code!r} has unknown meaning {meaning!r}; expected one of "
            f"{', '.join((*OUTAGE_MEANINGS, IGNORE))}",
            code=code,
            value=meaning,
        )
    return meaning, source


@functools.cache
def _default_map() -> OutageEventMap:
    data = load_data("outage_aliases")
    return OutageEventMap.from_mapping(
        data["aliases"], mode="replace", origin="outage_aliases.toml (built-in)"
    )
