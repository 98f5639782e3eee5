"""Errors raised by the CIM codec (BUS-1, BUS-3, SEC-3).

The tree::

    CodecError (ValueError)            anything the codec refuses; has .kind and .reason
    ├── UnsafeXmlError                 DOCTYPE / entities, size or depth over the limits (SEC-3)
    ├── MalformedXmlError              not well-formed: truncated, empty, bad syntax
    ├── UnknownMessageError            well-formed, but not a CIM message cimbus knows
    │                                  (wrong namespace, unknown root, broken SOAP envelope)
    ├── SchemaValidationError          well-formed, known, but breaks the XSD profile;
    │                                  .issues lists every violation with line and path
    └── BindingError                   valid XML that the generated classes cannot hold
                                       (converter warnings are errors here)

These errors say *what* is wrong with a document. Mapping them to IEC 61968-100 reply codes
and to a transport's wire format (Reply/Result FAILED, SOAP Fault, CLI exit code) is done once
per transport, above this layer (routing/ and endpoints/).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a document: where (line, path) and what (message)."""

    message: str
    line: int | None = None
    path: str | None = None
    level: str = "error"  # "error" or "warning" (lenient mode)

    def __str__(self) -> str:
        where = []
        if self.line:
            where.append(f"line {self.line}")
        if self.path:
            where.append(self.path)
        prefix = f"{', '.join(where)}: " if where else ""
        return f"{prefix}{self.message}"


class CodecError(ValueError):
    """Base class: the document was refused. ``kind`` is a stable short word for the class."""

    kind = "codec"

    def __init__(self, reason: str, *, issues: list[Issue] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.issues: list[Issue] = list(issues or [])


class UnsafeXmlError(CodecError):
    """The input uses a feature cimbus never processes (DTD, entities) or exceeds a limit."""

    kind = "unsafe"


class MalformedXmlError(CodecError):
    """The input is not well-formed XML (for example a truncated document)."""

    kind = "malformed"


class UnknownMessageError(CodecError):
    """Well-formed XML that is not an IEC 61968-100 message or payload cimbus knows."""

    kind = "unknown"


class SchemaValidationError(CodecError):
    """The document breaks its XSD profile; ``issues`` holds every violation."""

    kind = "invalid"


class BindingError(CodecError):
    """The document could not be bound to the generated classes."""

    kind = "binding"
