"""IEC 61968-9 Annex D ReadingQualityType codes: ``<system>.<category>.<index>``.

``3.5.258`` is MDM (system 3) / reasonability (category 5) / suspect (index 258). A reading may
carry several qualities (MeterReadings ... Reading.ReadingQualities.ReadingQualityType/@ref).
Tables: ``data/reading_quality.toml``.

ODR-3 (an on-demand read is returned "not validated (non-VEE)") is served by :data:`NON_VEE`:

* system 2, the head-end / metering data collection system, is who vouches for the value;
* category 0 / index 0, "data valid", says the head-end found nothing wrong;
* and it is *not* ``x.0.1`` "validated" nor any system-3 (MDM) quality, which is what VEE adds.

An MDM that has run VEE marks the reading :data:`VEE_VALIDATED` (``3.0.1``) or with its findings
(``3.5.x`` reasonability, ``3.7.x`` edited, ``3.8.x`` estimated ...); :func:`vee_applied` tells
the two apart. The argument is written out in docs/codes.md.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from ._errors import CodeError
from ._tables import CodeTable, CodeValue, check_parts, load_data, split_code, value_from_toml

__all__ = [
    "DEVICE_VALID",
    "KNOWN_MISSING_READ",
    "MDM_EDITED",
    "MDM_ESTIMATED",
    "MDM_SUSPECT",
    "NON_VEE",
    "QUALITY_PARTS",
    "VEE_VALIDATED",
    "ReadingQualityCode",
    "quality_index_table",
    "reading_quality_table",
    "vee_applied",
]

QUALITY_PARTS: Final[tuple[str, ...]] = ("system", "category", "index")
_KIND: Final = "ReadingQualityType"
_MDM: Final = 3

#: ODR-3: head-end data, no VEE applied (head-end / valid / data valid).
NON_VEE: Final = "2.0.0"
#: Validated by the MDM's VEE and found valid (MDM / valid / validated).
VEE_VALIDATED: Final = "3.0.1"
#: The meter itself reports the value valid (end device / valid / data valid).
DEVICE_VALID: Final = "1.0.0"
#: MDM reasonability check: suspect (seen in interoperability samples).
MDM_SUSPECT: Final = "3.5.258"
#: Edited in the MDM (seen in interoperability samples).
MDM_EDITED: Final = "3.7.0"
#: Estimated by the MDM with a specific rule.
MDM_ESTIMATED: Final = "3.8.0"
#: The head-end knows a value is missing (e.g. an on-demand read that got no answer).
KNOWN_MISSING_READ: Final = "2.5.259"


@functools.cache
def reading_quality_table(part: str) -> CodeTable:
    """The table of ``"system"`` or ``"category"`` (closed value sets)."""
    if part not in ("system", "category"):
        raise CodeError(f"ReadingQualityType has no closed table {part!r}; use system or category")
    data = load_data("reading_quality")[part]
    return CodeTable(part, (value_from_toml(v) for v in data["values"]))


@functools.cache
def quality_index_table() -> Mapping[tuple[int, int], CodeValue]:
    """Known indexes: ``(category, index) -> CodeValue`` (the index value set is open)."""
    out: dict[tuple[int, int], CodeValue] = {}
    for entry in load_data("reading_quality")["index"]["values"]:
        category, index = (int(p) for p in entry["code"].split("."))
        out[(category, index)] = value_from_toml(entry, code=index)
    return out


@dataclass(frozen=True, slots=True, order=True)
class ReadingQualityCode:
    """One ReadingQualityType code.

    >>> ReadingQualityCode.parse("3.5.258").describe()
    'MDM / reasonability / suspect'
    """

    system: int
    category: int
    index: int

    def __post_init__(self) -> None:
        check_parts(_KIND, QUALITY_PARTS, (self.system, self.category, self.index))

    @classmethod
    def parse(cls, code: str, *, strict: bool = True) -> ReadingQualityCode:
        """Parse ``<system>.<category>.<index>``: three non-negative integers.

        With ``strict`` (the default) system and category must be in their tables. The index is
        open (vendors add their own), so any index is accepted.
        """
        parsed = cls(*split_code(code, kind=_KIND, fields=QUALITY_PARTS, item="part"))
        if strict:
            for position, part in enumerate(QUALITY_PARTS[:2]):
                value = (parsed.system, parsed.category)[position]
                if value not in reading_quality_table(part):
                    raise CodeError(
                        f"{_KIND} part {position + 1} ({part}) has unknown value {value} "
                        f"in {code!r}",
                        code=code,
                        field=part,
                        value=value,
                    )
        return parsed

    @classmethod
    def build(
        cls, *, system: int | str, category: int | str, index: int | str = 0
    ) -> ReadingQualityCode:
        """Build from names or ints.

        >>> ReadingQualityCode.build(system="mdm", category="reasonability", index="suspect").code
        '3.5.258'
        """
        system_code = _resolve("system", system)
        category_code = _resolve("category", category)
        if isinstance(index, str) and not index.isdigit():
            matches = [
                i
                for (c, i), v in quality_index_table().items()
                if c == category_code and v.name == index
            ]
            if not matches:
                raise CodeError(
                    f"{_KIND} part 3 (index): category "
                    f"{reading_quality_table('category').name(category_code)} has no index named "
                    f"{index!r}",
                    field="index",
                    value=index,
                )
            index_code = matches[0]
        else:
            index_code = int(index)
        return cls(system_code, category_code, index_code)

    @property
    def code(self) -> str:
        return f"{self.system}.{self.category}.{self.index}"

    def __str__(self) -> str:
        return self.code

    def names(self) -> dict[str, str]:
        """Part -> literal name (the number for an index no table knows)."""
        known = quality_index_table().get((self.category, self.index))
        return {
            "system": reading_quality_table("system").name(self.system),
            "category": reading_quality_table("category").name(self.category),
            "index": known.name if known else str(self.index),
        }

    def describe(self) -> str:
        """e.g. ``"MDM / reasonability / suspect"``; an unknown index as ``"index 1234"``."""
        known = quality_index_table().get((self.category, self.index))
        return " / ".join(
            (
                reading_quality_table("system").label(self.system),
                reading_quality_table("category").label(self.category),
                known.label if known else f"index {self.index}",
            )
        )

    @property
    def is_mdm(self) -> bool:
        """True if the MDM (system 3) assessed the reading, i.e. VEE has been applied."""
        return self.system == _MDM


def _resolve(part: str, token: int | str) -> int:
    try:
        return reading_quality_table(part).resolve(token)
    except CodeError as exc:
        position = QUALITY_PARTS.index(part) + 1
        raise CodeError(
            f"{_KIND} part {position} ({part}): {exc}", field=part, value=token
        ) from None


def vee_applied(qualities: Iterable[str | ReadingQualityCode]) -> bool:
    """True if any of a reading's qualities comes from the MDM (system 3): VEE has run.

    ``vee_applied([NON_VEE])`` is False: that is how ODR-3 data is recognised downstream.
    """
    return any(
        (
            q if isinstance(q, ReadingQualityCode) else ReadingQualityCode.parse(q, strict=False)
        ).is_mdm
        for q in qualities
    )
