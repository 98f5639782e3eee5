"""``cimbus send``, the answer side: what came back for a message, summarised in one line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from cim_models.errors import CodecError
from cim_models.safexml import DEFAULT_LIMITS, Limits, parse_bytes

from ._common import MSG, SUCCESS
from ._input import _children


@dataclass
class Answer:
    """What came back for one message."""

    result: str  # OK | PARTIAL | FAILED | FAULT | TIMEOUT | ERROR | SENT
    summary: str  # one line: what the answer was
    body: bytes | None = None  # the answer's message (a FaultMessage for a SOAP fault)
    errors: list[str] = field(default_factory=list)  # "code (level): reason" per Reply/Error
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result in SUCCESS


def read_answer(body: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Answer:
    """An answer message summarised: its element, Verb/Noun, Reply/Result and errors."""
    try:
        root = parse_bytes(body, limits)
    except CodecError as exc:
        return Answer("ERROR", f"the answer is not readable XML: {exc.reason}", body)
    header = _child(root, "Header")
    reply = _child(root, "Reply")
    verb = _text(header, "Verb")
    result = _text(reply, "Result") or ""
    errors = [
        _error_line(e) for e in (reply.findall(f"{{{MSG}}}Error") if reply is not None else [])
    ]
    element = etree.QName(root).localname
    # a ResponseMessage is what everyone expects; anything else is named
    what = element if not element.endswith("ResponseMessage") else (verb or "reply")
    if element.endswith("FaultMessage"):
        return Answer("FAILED", f"{what}: {_first(errors) or 'a FaultMessage'}", body, errors)
    if not result:
        return Answer("ERROR", f"{what} carries no Reply/Result", body, errors)
    if result not in ("OK", "PARTIAL", "FAILED"):
        return Answer("ERROR", f"{what}: unknown Reply/Result {result!r}", body, errors)
    extra = f": {_first(errors)}" if errors else ""
    return Answer(result, f"{what} {result}{extra}", body, errors)


def _child(root: etree._Element | None, local: str) -> etree._Element | None:
    if root is None:
        return None
    return next((c for c in _children(root) if etree.QName(c).localname == local), None)


def _text(el: etree._Element | None, local: str) -> str | None:
    if el is None:
        return None
    value = el.findtext(f"{{{MSG}}}{local}")
    return value.strip() if value else None


def _error_line(err: etree._Element) -> str:
    code = _text(err, "code") or "?"
    level = _text(err, "level")
    reason = _text(err, "reason") or ""
    return f"{code}{f' ({level})' if level else ''}: {reason}".rstrip(": ")


def _first(errors: list[str]) -> str:
    if not errors:
        return ""
    return errors[0] + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")


def answer_file(folder: Path, name: str, taken: set[str]) -> Path:
    """``<folder>/<stem>.answer.xml`` for a message file (``stdin`` for ``-``), numbered when
    two messages' files share a name."""
    stem = "stdin" if name == "-" else Path(name).stem
    candidate = f"{stem}.answer.xml"
    n = 2
    while candidate in taken:
        candidate = f"{stem}.{n}.answer.xml"
        n += 1
    taken.add(candidate)
    return folder / candidate
