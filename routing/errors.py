"""The bus's error hierarchy: every leaf carries its IEC 61968-100 reply code and level.

::

    BusError                         code   level     meaning
    ├── MessageRejected              (the input itself is wrong)
    │   ├── MalformedMessage          2.1   FATAL     not well-formed / unsafe XML, broken envelope
    │   ├── InvalidMessage            2.2   FATAL     breaks its XSD profile (SEC-3)
    │   └── HeaderError               2.3   FATAL     Verb/Noun/MessageID missing or inconsistent
    ├── UnsupportedRequest            2.5   FATAL     no route serves this verb + noun (BUS-2)
    ├── DuplicateMessage              2.6   WARNING   MessageID already processed (REL-1)
    ├── BusinessRuleViolation         2.7   FATAL     refused by a business rule (ODR window, throttle)
    ├── OperationFailed               2.4   FATAL     the target could not perform the operation
    ├── UnknownObject                 2.12  FATAL     the object (meter, usage point, exchange) is unknown
    ├── NotAuthenticated              3.1   FATAL     caller not authenticated (SEC-1)
    ├── NotAuthorised                 3.2   FATAL     caller may not do this (SEC-2)
    ├── TargetTimeout                 4.1   FATAL     the serving system did not answer in time (BUS-7)
    ├── TargetUnavailable             4.2   FATAL     the serving system could not be reached
    └── InternalError                 5.0   CATASTROPHIC  a fault inside cimbus

IEC 61968-100 defines Reply/Error/code as "category.index". The codes seen in published
implementations are 0.0 (success), 2.4 (operation failed) and 2.12 (unknown object); the official
catalogue is not public, so cimbus fills the other categories with codes of its own in the same
form (docs/errors.md lists them). The mapping is here and only here: transports render a
:class:`BusError` (Reply/Result FAILED, or a SOAP Fault for a broken envelope) in one place each.
"""

from __future__ import annotations

from dataclasses import dataclass

from cim_models.errors import (
    BindingError,
    CodecError,
    MalformedXmlError,
    SchemaValidationError,
    UnknownMessageError,
    UnsafeXmlError,
)

OK_CODE = "0.0"
ACCEPTED_CODE = "0.1"  # asynchronous request accepted: the reply follows at ReplyAddress


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One Reply/Error entry."""

    code: str
    level: str
    reason: str
    details: str | None = None
    xpath: str | None = None
    object_id: str | None = None
    object_type: str | None = None


class BusError(Exception):
    """Base class. ``code`` / ``level`` are the IEC 61968-100 Reply/Error code and level."""

    code = "2.4"
    level = "FATAL"
    #: True when the message could not even be read as an IEC 61968-100 message: SOAP renders a
    #: SOAP Fault (with a FaultMessage as detail) instead of a ResponseMessage.
    envelope_broken = False

    def __init__(
        self,
        reason: str,
        *,
        details: str | None = None,
        xpath: str | None = None,
        object_id: str | None = None,
        object_type: str | None = None,
        extra: list[ErrorDetail] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details
        self.xpath = xpath
        self.object_id = object_id
        self.object_type = object_type
        self.extra = list(extra or [])

    @property
    def errors(self) -> list[ErrorDetail]:
        """The Reply/Error entries this error renders to (the main one first)."""
        first = ErrorDetail(
            self.code,
            self.level,
            self.reason,
            self.details,
            self.xpath,
            self.object_id,
            self.object_type,
        )
        return [first, *self.extra]

    def __str__(self) -> str:
        return f"[{self.code}] {self.reason}"


class MessageRejected(BusError):
    """The input is not an acceptable IEC 61968-100 message."""

    code = "2.2"


class MalformedMessage(MessageRejected):
    code = "2.1"
    envelope_broken = True


class InvalidMessage(MessageRejected):
    code = "2.2"


class HeaderError(MessageRejected):
    code = "2.3"


class UnsupportedRequest(BusError):
    code = "2.5"


class DuplicateMessage(BusError):
    code = "2.6"
    level = "WARNING"


class BusinessRuleViolation(BusError):
    code = "2.7"


class OperationFailed(BusError):
    code = "2.4"


class UnknownObject(BusError):
    code = "2.12"


class NotAuthenticated(BusError):
    code = "3.1"


class NotAuthorised(BusError):
    code = "3.2"


class TargetTimeout(BusError):
    code = "4.1"


class TargetUnavailable(BusError):
    code = "4.2"


class InternalError(BusError):
    code = "5.0"
    level = "CATASTROPHIC"


def from_codec(exc: CodecError) -> BusError:
    """Map a codec error (cim_models) to the bus error that carries its reply code."""
    issues = exc.issues
    extra = [
        ErrorDetail(InvalidMessage.code, "FATAL", str(i.message), details=_where(i.line, i.path))
        for i in issues[1:]
    ]
    first = issues[0] if issues else None
    details = _where(first.line, first.path) if first else None
    if isinstance(exc, UnsafeXmlError | MalformedXmlError):
        return MalformedMessage(exc.reason)
    if isinstance(exc, UnknownMessageError):
        return MalformedMessage(exc.reason)
    if isinstance(exc, SchemaValidationError):
        return InvalidMessage(exc.reason, details=details, extra=extra)
    if isinstance(exc, BindingError):
        return InvalidMessage(exc.reason)
    return MessageRejected(exc.reason)


def _where(line: int | None, path: str | None) -> str | None:
    parts = [f"line {line}" if line else None, path]
    text = ", ".join(p for p in parts if p)
    return text or None


class ConfigError(ValueError):
    """The configuration (routes, systems, transports) is wrong: raised at start-up with a
    message that names the file, the entry and what to change."""
