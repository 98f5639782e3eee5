"""IEC 61968-9 Annex C ReadingType codes: 18 dot-separated integers.

A ReadingType says what a reading measures: ``0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0`` is a
15-minute interval (measuringPeriod 2) of delta data (accumulation 4) of energy (measurementKind
12) delivered to the customer (flowDirection 1, forward) in kWh (multiplier 3 = kilo, unit 72 = Wh).
The field order is::

    macroPeriod . aggregate . measuringPeriod . accumulation . flowDirection . commodity .
    measurementKind . interharmonic.numerator . interharmonic.denominator .
    argument.numerator . argument.denominator . tou . cpp . consumptionTier . phases .
    multiplier (power of ten) . unit . currency (ISO 4217 numeric)

The value tables live in ``data/reading_type.toml``. Requirements served: ODR-3 (on-demand reads
carry interval and register ReadingTypes), B2-10 (the interval and register read sent to the MDMS
at every connect / disconnect / limit), B2-8 (15-minute billing interval boundary).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Final

from ._errors import CodeError
from ._tables import CodeTable, load_data, split_code, value_from_toml

__all__ = [
    "DAILY_KWH_DELIVERED",
    "INTERVAL_15MIN_KWH_DELIVERED",
    "INTERVAL_15MIN_KWH_RECEIVED",
    "INTERVAL_60MIN_KWH_DELIVERED",
    "READING_TYPE_FIELDS",
    "REGISTER_KWH_DELIVERED",
    "REGISTER_KWH_RECEIVED",
    "ReadingType",
    "interval_minutes",
    "is_interval",
    "reading_type_table",
]

#: IEC names of the 18 fields, in code order.
READING_TYPE_FIELDS: Final[tuple[str, ...]] = (
    "macroPeriod",
    "aggregate",
    "measuringPeriod",
    "accumulation",
    "flowDirection",
    "commodity",
    "measurementKind",
    "interharmonic.numerator",
    "interharmonic.denominator",
    "argument.numerator",
    "argument.denominator",
    "tou",
    "cpp",
    "consumptionTier",
    "phases",
    "multiplier",
    "unit",
    "currency",
)

#: Fields whose value comes from a closed table (an unknown value is an error when strict).
_ENUM_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "macroPeriod",
        "aggregate",
        "measuringPeriod",
        "accumulation",
        "flowDirection",
        "commodity",
        "measurementKind",
        "phases",
        "multiplier",
        "unit",
    }
)
_MULTIPLIER_POSITION: Final = READING_TYPE_FIELDS.index("multiplier")

# Well-known codes ----------------------------------------------------------------------------
#: 15-minute interval, delta data, forward (delivered), electricity, energy, kWh (A+ load profile).
INTERVAL_15MIN_KWH_DELIVERED: Final = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
#: 15-minute interval, delta data, reverse (received from the customer, e.g. solar), kWh.
INTERVAL_15MIN_KWH_RECEIVED: Final = "0.0.2.4.19.1.12.0.0.0.0.0.0.0.0.3.72.0"
#: 60-minute interval, delta data, forward (delivered), kWh.
INTERVAL_60MIN_KWH_DELIVERED: Final = "0.0.7.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
#: Daily (macroPeriod 11) delta kWh delivered.
DAILY_KWH_DELIVERED: Final = "11.0.0.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
#: Register read: bulk quantity (accumulation 1) of kWh delivered.
REGISTER_KWH_DELIVERED: Final = "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
#: Register read: bulk quantity of kWh received.
REGISTER_KWH_RECEIVED: Final = "0.0.0.1.19.1.12.0.0.0.0.0.0.0.0.3.72.0"


@functools.cache
def reading_type_table(field: str) -> CodeTable:
    """The value table of one enumerated ReadingType field, by IEC field name.

    ``field`` is one of macroPeriod, aggregate, measuringPeriod, accumulation, flowDirection,
    commodity, measurementKind, phases, multiplier, unit, or currency (an open table: any ISO 4217
    numeric code is valid, the table only names common ones).
    """
    data = load_data("reading_type")
    if field not in data:
        known = ", ".join(data)
        raise CodeError(f"ReadingType field {field!r} has no table; tables: {known}", field=field)
    section = data[field]
    return CodeTable(
        field,
        (value_from_toml(entry) for entry in section["values"]),
        open_set=bool(section.get("open", False)),
    )


@dataclass(frozen=True, slots=True, order=True)
class ReadingType:
    """One ReadingType code, as its 18 integer fields (IEC 61968-9 Annex C).

    Construct it from a code (:meth:`parse`), from readable names (:meth:`build`) or from ints.
    The constructor checks only the shape (ints; only ``multiplier`` may be negative); call
    :meth:`validate` or use ``parse(strict=True)`` to check the values against the tables.

    >>> print(ReadingType.parse("0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0").describe())
    15-minute interval, delta data, forward (delivered), electricity secondary metered, energy, kWh
    """

    macro_period: int = 0
    aggregate: int = 0
    measuring_period: int = 0
    accumulation: int = 0
    flow_direction: int = 0
    commodity: int = 0
    measurement_kind: int = 0
    interharmonic_numerator: int = 0
    interharmonic_denominator: int = 0
    argument_numerator: int = 0
    argument_denominator: int = 0
    tou: int = 0
    cpp: int = 0
    consumption_tier: int = 0
    phases: int = 0
    multiplier: int = 0
    unit: int = 0
    currency: int = 0

    def __post_init__(self) -> None:
        for position, (attr, field) in enumerate(
            zip(self._attrs(), READING_TYPE_FIELDS, strict=True)
        ):
            value = getattr(self, attr)
            if isinstance(value, bool) or not isinstance(value, int):
                raise CodeError(
                    f"ReadingType field {position + 1} ({field}) must be an int, got {value!r}",
                    field=field,
                    value=value,
                )
            if value < 0 and position != _MULTIPLIER_POSITION:
                raise CodeError(
                    f"ReadingType field {position + 1} ({field}) must not be negative, got {value}",
                    field=field,
                    value=value,
                )

    # Construction ---------------------------------------------------------------------------
    @classmethod
    def parse(cls, code: str, *, strict: bool = True) -> ReadingType:
        """Parse an 18-field ReadingType code.

        The code must be exactly 18 dot-separated integers, non-negative except ``multiplier``
        (a power of ten: ``-3`` is milli). With ``strict`` (the default) every enumerated field
        must hold a value of its table; ``strict=False`` accepts unknown values (vendor codes)
        and :meth:`describe` then shows them by number.

        Raises:
            CodeError: naming the field, the value and the code.
        """
        values = split_code(
            code,
            kind="ReadingType",
            fields=READING_TYPE_FIELDS,
            signed=frozenset({_MULTIPLIER_POSITION}),
        )
        reading_type = cls(*values)
        if strict:
            reading_type._check_tables(code)
        return reading_type

    @classmethod
    def build(
        cls,
        *,
        macro_period: int | str = 0,
        aggregate: int | str = 0,
        measuring_period: int | str = 0,
        accumulation: int | str = 0,
        flow_direction: int | str = 0,
        commodity: int | str = 0,
        measurement_kind: int | str = 0,
        interharmonic_numerator: int = 0,
        interharmonic_denominator: int = 0,
        argument_numerator: int = 0,
        argument_denominator: int = 0,
        tou: int = 0,
        cpp: int = 0,
        consumption_tier: int = 0,
        phases: int | str = 0,
        multiplier: int | str = 0,
        unit: int | str = 0,
        currency: int | str = 0,
    ) -> ReadingType:
        """Build a ReadingType from readable names or ints; every value is checked.

        Enumerated fields take the IEC literal (``"fifteenMinute"``, ``"deltaData"``), the English
        label (``"15-minute"``), an alias (``"delivered"``) or the int. Multiplier takes the SI
        prefix symbol (``"k"``, ``"M"``, ``"m"``: exact case matters there) and unit the symbol
        (``"Wh"``). Currency takes an ISO 4217 numeric code or a common letter code (``"USD"``).

        >>> ReadingType.build(measuring_period="fifteenMinute", accumulation="deltaData",
        ...     flow_direction="forward", commodity="electricitySecondaryMetered",
        ...     measurement_kind="energy", multiplier="k", unit="Wh").code
        '0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0'
        """
        given = {
            "macroPeriod": macro_period,
            "aggregate": aggregate,
            "measuringPeriod": measuring_period,
            "accumulation": accumulation,
            "flowDirection": flow_direction,
            "commodity": commodity,
            "measurementKind": measurement_kind,
            "interharmonic.numerator": interharmonic_numerator,
            "interharmonic.denominator": interharmonic_denominator,
            "argument.numerator": argument_numerator,
            "argument.denominator": argument_denominator,
            "tou": tou,
            "cpp": cpp,
            "consumptionTier": consumption_tier,
            "phases": phases,
            "multiplier": multiplier,
            "unit": unit,
            "currency": currency,
        }
        values: list[int] = []
        for position, field in enumerate(READING_TYPE_FIELDS):
            token = given[field]
            if field in _ENUM_FIELDS or field == "currency":
                try:
                    values.append(reading_type_table(field).resolve(token))
                except CodeError as exc:
                    raise CodeError(
                        f"ReadingType field {position + 1} ({field}): {exc}",
                        field=field,
                        value=token,
                    ) from None
            else:
                values.append(token)  # type: ignore[arg-type]  # checked in __post_init__
        return cls(*values)

    # Rendering ------------------------------------------------------------------------------
    @property
    def code(self) -> str:
        """The 18-field dotted code."""
        return ".".join(str(v) for v in self.values())

    def __str__(self) -> str:
        return self.code

    def values(self) -> tuple[int, ...]:
        """The 18 field values in code order."""
        return tuple(getattr(self, attr) for attr in self._attrs())

    def validate(self) -> None:
        """Raise :class:`CodeError` if an enumerated field holds a value not in its table."""
        self._check_tables(self.code)

    def names(self) -> dict[str, str]:
        """Field (IEC name) -> readable name: the IEC literal if enumerated, else the number.

        >>> ReadingType.parse("0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0").names()["measuringPeriod"]
        'fifteenMinute'
        """
        out: dict[str, str] = {}
        for field, value in zip(READING_TYPE_FIELDS, self.values(), strict=True):
            if field in _ENUM_FIELDS or field == "currency":
                out[field] = reading_type_table(field).name(value)
            else:
                out[field] = str(value)
        return out

    def unit_symbol(self) -> str:
        """Multiplier prefix and unit symbol, e.g. ``"kWh"``; empty when there is no unit.

        Units without a symbol (count, timestamp, status ...) are shown by their label.
        """
        multipliers = reading_type_table("multiplier")
        units = reading_type_table("unit")
        if self.unit in units:
            value = units[self.unit]
            unit = value.display_symbol or (value.label if self.unit else "")
            has_symbol = bool(value.display_symbol)
        else:
            unit, has_symbol = f"unit {self.unit}", False
        if self.multiplier == 0:
            return unit
        if self.multiplier in multipliers and has_symbol:
            return f"{multipliers[self.multiplier].display_symbol}{unit}"
        return f"{unit} ×10^{self.multiplier}".strip()

    def describe(self) -> str:
        """Readable English, omitting fields that are 0 (not applicable).

        >>> ReadingType.parse("11.0.0.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0").describe()
        'daily, delta data, forward (delivered), electricity secondary metered, energy, kWh'
        """
        parts: list[str] = []

        def label(field: str, value: int) -> str:
            return reading_type_table(field).label(value)

        if self.macro_period:
            parts.append(label("macroPeriod", self.macro_period))
        if self.aggregate:
            parts.append(label("aggregate", self.aggregate))
        if self.measuring_period:
            text = label("measuringPeriod", self.measuring_period)
            table = reading_type_table("measuringPeriod")
            plain = self.measuring_period in table and text.endswith(("-minute", "-hour"))
            parts.append(f"{text} interval" if plain else text)
        for field, value in (
            ("accumulation", self.accumulation),
            ("flowDirection", self.flow_direction),
            ("commodity", self.commodity),
            ("measurementKind", self.measurement_kind),
        ):
            if value:
                parts.append(label(field, value))
        if self.interharmonic_numerator or self.interharmonic_denominator:
            parts.append(
                f"interharmonic {self.interharmonic_numerator}/{self.interharmonic_denominator}"
            )
        if self.argument_numerator or self.argument_denominator:
            parts.append(f"argument {self.argument_numerator}/{self.argument_denominator}")
        if self.tou:
            parts.append(f"TOU {self.tou}")
        if self.cpp:
            parts.append(f"CPP {self.cpp}")
        if self.consumption_tier:
            parts.append(f"tier {self.consumption_tier}")
        if self.phases:
            parts.append(label("phases", self.phases))
        symbol = self.unit_symbol()
        if symbol:
            parts.append(symbol)
        if self.currency:
            currencies = reading_type_table("currency")
            if self.currency in currencies:
                parts.append(f"currency {currencies.name(self.currency)}")
            else:
                parts.append(f"currency {self.currency}")
        return ", ".join(parts) if parts else "not applicable"

    # Interval helpers -----------------------------------------------------------------------
    def interval_minutes(self) -> int | None:
        """Length in minutes of the period each reading covers, or None if it is not periodic.

        A non-zero macroPeriod decides (daily -> 1440, weekly -> 10080, monthly / billing period
        -> None: not a fixed length); otherwise measuringPeriod does (2 -> 15, 7 -> 60, 6 -> 5,
        4 -> 1440, fixed blocks -> their length; rolling blocks, present / previous -> None).
        """
        if self.macro_period:
            table = reading_type_table("macroPeriod")
            return table[self.macro_period].minutes if self.macro_period in table else None
        table = reading_type_table("measuringPeriod")
        if self.measuring_period in table:
            return table[self.measuring_period].minutes
        return None

    def is_interval(self) -> bool:
        """True if each reading covers a fixed period (see :meth:`interval_minutes`)."""
        return self.interval_minutes() is not None

    # Internals ------------------------------------------------------------------------------
    @staticmethod
    def _attrs() -> tuple[str, ...]:
        return _ATTRS

    def _check_tables(self, code: str) -> None:
        for position, (field, value) in enumerate(
            zip(READING_TYPE_FIELDS, self.values(), strict=True)
        ):
            if field in _ENUM_FIELDS and not reading_type_table(field).is_valid(value):
                raise CodeError(
                    f"ReadingType field {position + 1} ({field}) has unknown value {value} "
                    f"in {code!r}",
                    code=code,
                    field=field,
                    value=value,
                )


_ATTRS: Final[tuple[str, ...]] = tuple(f.name for f in fields(ReadingType))


def _as_reading_type(code: str | ReadingType) -> ReadingType:
    return code if isinstance(code, ReadingType) else ReadingType.parse(code, strict=False)


def interval_minutes(code: str | ReadingType) -> int | None:
    """Minutes per reading of ``code`` (15 for ``0.0.2...``, 1440 for daily), None if not periodic.

    Unknown enumeration values are tolerated (a vendor code still gets an answer when its period
    fields are standard); a malformed code raises :class:`CodeError`.
    """
    return _as_reading_type(code).interval_minutes()


def is_interval(code: str | ReadingType) -> bool:
    """True if ``code`` is interval data: every reading covers a fixed number of minutes."""
    return _as_reading_type(code).is_interval()
