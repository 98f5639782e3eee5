"""IEC 61968-9 Annex E EndDeviceEventType / EndDeviceControlType codes.

Both are four dot-separated integers::

    <EndDeviceType> . <EndDeviceDomain> . <EndDeviceSubdomain> . <EndDeviceEventOrAction>

``3.31.0.23`` is ElectricMeter / RCDSwitch / NA / Disconnect: the remote-disconnect control
(EndDeviceControl.EndDeviceControlType/@ref). The meter's answer is an EndDeviceEvent whose type
is the same code with another last part: ``3.31.0.44`` (Processed), ``3.31.0.79`` (Error), or the
semantic result ``3.31.0.68`` (Disconnected) / ``3.31.0.84`` (DisconnectFailed).

The four part tables are ``data/end_device.toml``; the codes the use cases name
(:data:`controls`, :data:`events`, :data:`results`) and the acknowledgement rules are
``data/end_device_codes.toml``.

Requirements served: B2-* (connect / disconnect / limit controls and their acknowledgements,
B2-4 in particular), D11-1 (outage events, see :mod:`.outage`), DCC-3 (meter alarms routed on).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Final, Literal

from ._errors import CodeError
from ._tables import CodeTable, check_parts, load_data, split_code, value_from_toml

__all__ = [
    "ACK_OUTCOMES",
    "END_DEVICE_PARTS",
    "AckOutcome",
    "EndDeviceCode",
    "NamedCode",
    "NamedCodes",
    "acknowledgement_for",
    "acknowledgement_outcome",
    "controls",
    "end_device_table",
    "events",
    "results",
    "semantic_result",
]

#: IEC names of the four parts, in code order.
END_DEVICE_PARTS: Final[tuple[str, ...]] = (
    "EndDeviceType",
    "EndDeviceDomain",
    "EndDeviceSubdomain",
    "EndDeviceEventOrAction",
)
_TABLE_KEYS: Final = ("deviceType", "domain", "subdomain", "eventOrAction")
_KIND: Final = "EndDeviceEventType/ControlType"

AckOutcome = Literal["processed", "error", "cancelled", "expired"]
#: The generic acknowledgement outcomes (B2-4), see :func:`acknowledgement_for`.
ACK_OUTCOMES: Final[tuple[AckOutcome, ...]] = ("processed", "error", "cancelled", "expired")


@functools.cache
def end_device_table(part: str) -> CodeTable:
    """The value table of one code part.

    ``part`` is the IEC name (``"EndDeviceDomain"``) or the short key used in the data file and
    in :meth:`EndDeviceCode.build` (``"deviceType"``, ``"domain"``, ``"subdomain"``,
    ``"eventOrAction"``).
    """
    key = _TABLE_KEYS[END_DEVICE_PARTS.index(part)] if part in END_DEVICE_PARTS else part
    data = load_data("end_device")
    if key not in _TABLE_KEYS:
        raise CodeError(
            f"end device code has no part {part!r}; parts: {', '.join(END_DEVICE_PARTS)}",
            field=part,
        )
    section = data[key]
    return CodeTable(section["title"], (value_from_toml(v) for v in section["values"]))


def _tables() -> tuple[CodeTable, CodeTable, CodeTable, CodeTable]:
    return (
        end_device_table("deviceType"),
        end_device_table("domain"),
        end_device_table("subdomain"),
        end_device_table("eventOrAction"),
    )


@dataclass(frozen=True, slots=True, order=True)
class EndDeviceCode:
    """One EndDeviceEventType or EndDeviceControlType code, as its four integer parts.

    >>> EndDeviceCode.parse("3.31.0.23").describe()
    'ElectricMeter / RCDSwitch / NA / Disconnect'
    >>> str(EndDeviceCode.parse("3.31.0.23").with_event_or_action("Processed"))
    '3.31.0.44'
    """

    device_type: int
    domain: int
    subdomain: int
    event_or_action: int

    def __post_init__(self) -> None:
        check_parts(_KIND, END_DEVICE_PARTS, self._values())

    # Construction ---------------------------------------------------------------------------
    @classmethod
    def parse(cls, code: str, *, strict: bool = True) -> EndDeviceCode:
        """Parse ``<type>.<domain>.<subdomain>.<eventOrAction>``.

        Exactly four non-negative integers. With ``strict`` (the default) every part must be in
        its table; ``strict=False`` accepts unknown values, which vendors do use (one head-end
        reports power down as ``3.26.17.185``; 185 is in no table).

        Raises:
            CodeError: naming the part, the value and the code.
        """
        values = split_code(code, kind=_KIND, fields=END_DEVICE_PARTS, item="part")
        parsed = cls(*values)
        if strict:
            parsed._check_tables(code)
        return parsed

    @classmethod
    def build(
        cls,
        *,
        device_type: int | str = 0,
        domain: int | str = 0,
        subdomain: int | str = 0,
        event_or_action: int | str = 0,
    ) -> EndDeviceCode:
        """Build a code from literal names or ints, each checked against its table.

        >>> EndDeviceCode.build(device_type="ElectricMeter", domain="RCDSwitch",
        ...     event_or_action="Disconnect").code
        '3.31.0.23'
        """
        given = (device_type, domain, subdomain, event_or_action)
        values = [
            _resolve(table, part, token)
            for table, part, token in zip(_tables(), END_DEVICE_PARTS, given, strict=True)
        ]
        return cls(*values)

    # Rendering ------------------------------------------------------------------------------
    @property
    def code(self) -> str:
        """The dotted code, e.g. ``"3.31.0.23"``."""
        return ".".join(str(v) for v in self._values())

    def __str__(self) -> str:
        return self.code

    def names(self) -> dict[str, str]:
        """Part (IEC name) -> literal name; the number for a value no table knows."""
        return {
            part: table.name(value)
            for part, table, value in zip(END_DEVICE_PARTS, _tables(), self._values(), strict=True)
        }

    def describe(self) -> str:
        """``"ElectricMeter / RCDSwitch / NA / Disconnect"``; unknown parts as ``"?185"``."""
        return " / ".join(
            table[value].name if value in table else f"?{value}"
            for table, value in zip(_tables(), self._values(), strict=True)
        )

    def validate(self) -> None:
        """Raise :class:`CodeError` if a part is not in its table."""
        self._check_tables(self.code)

    @property
    def is_command(self) -> bool:
        """True if the EventOrAction is a request (Connect, Disconnect, Enable, Start, ...)."""
        table = end_device_table("eventOrAction")
        kind = table[self.event_or_action].kind if self.event_or_action in table else None
        return kind is not None and "command" in kind

    # Derivation -----------------------------------------------------------------------------
    def with_event_or_action(self, event_or_action: int | str) -> EndDeviceCode:
        """The same device / domain / subdomain with another last part (name or int).

        This is how acknowledgements are derived: ``3.31.0.23`` -> ``3.31.0.44`` (Processed).
        """
        table = end_device_table("eventOrAction")
        return replace(self, event_or_action=_resolve(table, END_DEVICE_PARTS[3], event_or_action))

    def with_device_type(self, device_type: int | str) -> EndDeviceCode:
        """The same code for another EndDeviceType (e.g. 0 -> 3 when an MDM stores wildcards)."""
        table = end_device_table("deviceType")
        return replace(self, device_type=_resolve(table, END_DEVICE_PARTS[0], device_type))

    def wildcard_match(self, other: str | EndDeviceCode) -> bool:
        """True if ``other`` matches this code used as a pattern.

        EndDeviceType 0 (NA) in the pattern matches any device type (MDMs store ``0.31.0.23``
        and substitute the device's type); the other three parts must be equal. A malformed
        ``other`` raises :class:`CodeError`; unknown part values are fine.
        """
        candidate = (
            other if isinstance(other, EndDeviceCode) else EndDeviceCode.parse(other, strict=False)
        )
        if self.device_type not in (0, candidate.device_type):
            return False
        return (self.domain, self.subdomain, self.event_or_action) == (
            candidate.domain,
            candidate.subdomain,
            candidate.event_or_action,
        )

    # Internals ------------------------------------------------------------------------------
    def _values(self) -> tuple[int, int, int, int]:
        return (self.device_type, self.domain, self.subdomain, self.event_or_action)

    def _check_tables(self, code: str) -> None:
        for position, (part, table, value) in enumerate(
            zip(END_DEVICE_PARTS, _tables(), self._values(), strict=True)
        ):
            if value not in table:
                raise CodeError(
                    f"{_KIND} part {position + 1} ({part}) has unknown value {value} in {code!r}",
                    code=code,
                    field=part,
                    value=value,
                )


def _resolve(table: CodeTable, part: str, token: int | str) -> int:
    try:
        return table.resolve(token)
    except CodeError as exc:
        position = END_DEVICE_PARTS.index(part) + 1
        raise CodeError(
            f"{_KIND} part {position} ({part}): {exc}", field=part, value=token
        ) from None


def _as_code(code: str | EndDeviceCode) -> EndDeviceCode:
    return code if isinstance(code, EndDeviceCode) else EndDeviceCode.parse(code, strict=False)


# -------------------------------------------------------------------------------------------
# Named codes (data/end_device_codes.toml)
# -------------------------------------------------------------------------------------------
_NAME_RE = re.compile(r"[A-Z][A-Z0-9_]*")
_GROUPS: Final = ("controls", "results", "events")


@dataclass(frozen=True, slots=True)
class NamedCode:
    """A code the use cases refer to by name, with where it comes from."""

    name: str
    code: str
    summary: str
    #: requirement IDs served (REQUIREMENTS.md)
    requirements: tuple[str, ...]
    #: "observed" (used by a public implementation, see ``source``) or "project" (a cimbus
    #: choice argued in ``note`` and docs/codes.md)
    origin: Literal["observed", "project"]
    source: str = ""
    note: str = ""

    @property
    def end_device_code(self) -> EndDeviceCode:
        return EndDeviceCode.parse(self.code)


@functools.cache
def _named(group: str) -> Mapping[str, NamedCode]:
    data = load_data("end_device_codes")
    out: dict[str, NamedCode] = {}
    for name, entry in data.get(group, {}).items():
        where = f"end_device_codes.toml [{group}.{name}]"
        if not _NAME_RE.fullmatch(name):
            raise CodeError(f"{where}: names are UPPER_SNAKE_CASE", field=group, value=name)
        code = EndDeviceCode.parse(entry["code"]).code  # strict: a typo fails loudly
        origin = entry.get("origin")
        if origin not in ("observed", "project"):
            raise CodeError(f"{where}: origin must be 'observed' or 'project'", value=origin)
        if origin == "observed" and not entry.get("source"):
            raise CodeError(f"{where}: an observed code needs a source", value=name)
        if origin == "project" and not entry.get("note"):
            raise CodeError(f"{where}: a project choice needs a note", value=name)
        out[name] = NamedCode(
            name=name,
            code=code,
            summary=entry["summary"],
            requirements=tuple(entry.get("requirements", ())),
            origin=origin,
            source=entry.get("source", ""),
            note=" ".join(entry.get("note", "").split()),
        )
    return out


class NamedCodes(Mapping[str, NamedCode]):
    """Symbolic names for codes of one group, loaded from data on first use.

    Attribute access gives the code string (``controls.REMOTE_DISCONNECT == "3.31.0.23"``);
    item access gives the :class:`NamedCode` with its provenance.
    """

    __slots__ = ("_group",)

    def __init__(self, group: str) -> None:
        if group not in _GROUPS:
            raise ValueError(f"unknown group {group!r}; groups: {', '.join(_GROUPS)}")
        self._group = group

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return _named(self._group)[name].code
        except KeyError:
            close = difflib.get_close_matches(name, list(_named(self._group)), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise AttributeError(f"{self._group} has no code named {name!r}{hint}") from None

    def __getitem__(self, name: str) -> NamedCode:
        return _named(self._group)[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_named(self._group))

    def __len__(self) -> int:
        return len(_named(self._group))

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(_named(self._group)))

    def __repr__(self) -> str:
        return f"<NamedCodes {self._group}: {len(self)} codes>"

    def name_of(self, code: str | EndDeviceCode) -> str | None:
        """The symbolic name of ``code`` in this group, or None."""
        text = _as_code(code).code
        return next((n.name for n in _named(self._group).values() if n.code == text), None)


#: Controls (EndDeviceControlType): ``controls.REMOTE_DISCONNECT == "3.31.0.23"``.
controls: Final = NamedCodes("controls")
#: Semantic results of controls: ``results.DISCONNECTED == "3.31.0.68"``.
results: Final = NamedCodes("results")
#: Events (EndDeviceEventType): ``events.LAST_GASP == "3.26.136.47"``.
events: Final = NamedCodes("events")


# -------------------------------------------------------------------------------------------
# Acknowledgements (B2-4)
# -------------------------------------------------------------------------------------------
@functools.cache
def _ack_actions() -> Mapping[str, int]:
    table = end_device_table("eventOrAction")
    data = load_data("end_device_codes")["acknowledgement"]
    if set(data) != set(ACK_OUTCOMES):
        raise CodeError(f"end_device_codes.toml [acknowledgement] must define {ACK_OUTCOMES}")
    return {outcome: table.resolve(data[outcome]) for outcome in ACK_OUTCOMES}


@functools.cache
def _semantic_actions() -> Mapping[int, tuple[int, int]]:
    table = end_device_table("eventOrAction")
    data = load_data("end_device_codes")["semantic_results"]
    return {
        table.resolve(command): (table.resolve(success), table.resolve(failure))
        for command, (success, failure) in data.items()
    }


def _control(control_code: str | EndDeviceCode) -> EndDeviceCode:
    control = _as_code(control_code)
    table = end_device_table("eventOrAction")
    if control.event_or_action in table and not control.is_command:
        name = table.name(control.event_or_action)
        raise CodeError(
            f"{control.code} is not a control: its EventOrAction {name} "
            f"({control.event_or_action}) is an event",
            code=control.code,
            field=END_DEVICE_PARTS[3],
            value=control.event_or_action,
        )
    return control


def acknowledgement_for(control_code: str | EndDeviceCode, outcome: AckOutcome) -> str:
    """The generic acknowledgement event code for a control (B2-4).

    The control code with its EventOrAction replaced: processed -> 44, error -> 79,
    cancelled -> 10, expired -> 64.

    >>> acknowledgement_for("3.31.0.23", "processed")
    '3.31.0.44'
    """
    actions = _ack_actions()
    if outcome not in actions:
        raise CodeError(
            f"unknown acknowledgement outcome {outcome!r}; "
            f"expected one of {', '.join(ACK_OUTCOMES)}",
            value=outcome,
        )
    return replace(_control(control_code), event_or_action=actions[outcome]).code


def semantic_result(control_code: str | EndDeviceCode, success: bool) -> str:
    """The event code that states the result of a control in the standard's own words (B2-4).

    Disconnect -> Disconnected / DisconnectFailed, Connect -> Connected / ConnectFailed,
    Enable -> Enabled / EnableFailed, and so on (``[semantic_results]`` in the data file).

    >>> semantic_result("3.31.0.23", True), semantic_result("3.31.0.18", False)
    ('3.31.0.68', '3.31.0.67')
    """
    control = _control(control_code)
    pairs = _semantic_actions()
    if control.event_or_action not in pairs:
        name = end_device_table("eventOrAction").name(control.event_or_action)
        raise CodeError(
            f"no semantic result is defined for EventOrAction {name} ({control.event_or_action}) "
            f"of {control.code}; use acknowledgement_for()",
            code=control.code,
            field=END_DEVICE_PARTS[3],
            value=control.event_or_action,
        )
    success_action, failure_action = pairs[control.event_or_action]
    return replace(control, event_or_action=success_action if success else failure_action).code


def acknowledgement_outcome(
    control_code: str | EndDeviceCode, event_code: str | EndDeviceCode
) -> Literal["processed", "error", "cancelled", "expired", "succeeded", "failed"] | None:
    """How ``event_code`` answers ``control_code``, or None if it is not an answer to it.

    The event must share the control's domain and subdomain (device type 0 on either side
    matches any type) and carry a generic acknowledgement (Processed, Error, Cancelled,
    Expired) or the control's semantic result ("succeeded" / "failed").

    >>> acknowledgement_outcome("3.31.0.23", "3.31.0.84")
    'failed'
    """
    control = _control(control_code)
    event = _as_code(event_code)
    same_type = 0 in (control.device_type, event.device_type) or (
        control.device_type == event.device_type
    )
    if not same_type or (control.domain, control.subdomain) != (event.domain, event.subdomain):
        return None
    for outcome, action in _ack_actions().items():
        if event.event_or_action == action:
            return outcome
    pair = _semantic_actions().get(control.event_or_action)
    if pair is not None:
        if event.event_or_action == pair[0]:
            return "succeeded"
        if event.event_or_action == pair[1]:
            return "failed"
    return None
