"""Safe XML parsing: the one place where cimbus turns untrusted bytes into a tree (SEC-3).

Every byte that reaches cimbus from a SOAP caller, a broker or a file goes through
:func:`parse_bytes`. It uses lxml with a locked-down parser:

* no DTD is loaded, no entity is resolved, no network access, no XInclude;
* a document that carries a DOCTYPE (internal or external subset) is refused outright, so
  external-entity (XXE) and entity-expansion ("billion laughs") attacks never get a foothold;
* ``recover`` is off: a truncated or malformed document is an error, never half a document
  (xsdata's own parser runs lxml in recover mode, which is why untrusted bytes never go there);
* size (bytes) and nesting depth are limited (:class:`Limits`, configurable); libxml2's hard
  limit of 256 levels stays in force because ``huge_tree`` is never enabled;
* comments and processing instructions are dropped.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from .errors import MalformedXmlError, UnsafeXmlError

LIBXML2_MAX_DEPTH = 256
_CONTENT = re.compile(rb"[^ \t\n\r\x0b\x0c]")  # what bytes.strip() would keep
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Limits:
    """Input limits (SEC-3). ``max_bytes`` caps the document size, ``max_depth`` the element
    nesting (at most 256, libxml2's own limit)."""

    max_bytes: int = 32 * 1024 * 1024
    max_depth: int = 64

    def __post_init__(self) -> None:
        if self.max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {self.max_bytes}")
        if not 1 <= self.max_depth <= LIBXML2_MAX_DEPTH:
            raise ValueError(
                f"max_depth must be between 1 and {LIBXML2_MAX_DEPTH}, got {self.max_depth}"
            )


DEFAULT_LIMITS = Limits()

_local = threading.local()


def _parser() -> etree.XMLParser:
    """One locked-down parser per thread (lxml parsers must not be shared across threads)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            load_dtd=False,
            dtd_validation=False,
            no_network=True,
            huge_tree=False,
            recover=False,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


@lru_cache(maxsize=16)
def _too_deep(max_depth: int) -> etree.XPath:
    # True when an element exists at depth max_depth + 1: evaluated in C, linear in the tree.
    return etree.XPath("boolean(/*" + "/*" * max_depth + ")")


def parse_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> etree._Element:
    """Parse ``data`` safely and return the root element.

    Raises :class:`UnsafeXmlError` (DOCTYPE, size, depth) or :class:`MalformedXmlError`.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_bytes expects bytes; read files and sockets in binary mode")
    size = len(data)
    if size > limits.max_bytes:
        raise UnsafeXmlError(
            f"document is {size} bytes, over the limit of {limits.max_bytes} bytes"
        )
    data = data if type(data) is bytes else bytes(data)
    if _CONTENT.search(data, 0, 65536) is None:
        raise MalformedXmlError("empty document: no XML content")
    # Fast refusal before parsing; the docinfo check after parsing catches a DOCTYPE that sits
    # further down the prolog or in another encoding.
    if _DOCTYPE.search(data, 0, 4096) is not None:
        raise UnsafeXmlError(
            "DOCTYPE declarations are not allowed: cimbus never processes DTDs or entities"
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        err = exc.error_log.last_error if len(exc.error_log) else None
        msg = (err.message if err is not None else str(exc)).strip()
        if "Excessive depth" in msg:
            raise UnsafeXmlError(
                f"elements nested deeper than the limit of {limits.max_depth} levels"
            ) from None
        if "XML_PARSE_HUGE" in msg:  # libxml2's hint names a parser option nobody can set here
            where = f" (line {err.line})" if err is not None and err.line else ""
            raise UnsafeXmlError(
                "a text node, attribute or name is larger than the parser's limit (10 MB for "
                f"text); cimbus never lifts it{where}"
            ) from None
        where = f" (line {err.line}, column {err.column})" if err is not None and err.line else ""
        raise MalformedXmlError(f"not well-formed XML: {msg}{where}") from None
    except ValueError as exc:  # e.g. unicode strings with an encoding declaration
        raise MalformedXmlError(f"not well-formed XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXmlError(
            "DOCTYPE declarations are not allowed: cimbus never processes DTDs or entities"
        )
    if limits.max_depth < LIBXML2_MAX_DEPTH and _too_deep(limits.max_depth)(root):
        raise UnsafeXmlError(f"elements nested deeper than the limit of {limits.max_depth} levels")
    return root


def parse_file(path: str, limits: Limits = DEFAULT_LIMITS) -> etree._Element:
    """Read a file in binary mode (at most ``max_bytes`` + 1 bytes) and parse it safely."""
    with open(path, "rb") as fh:
        data = fh.read(limits.max_bytes + 1)
    return parse_bytes(data, limits)
