"""Step 1, parse safely (SEC-3): bytes -> identified CIM message -> Envelope.

Uses the codec's strict, safe parser (no DTD/entities, size and depth limits, SOAP unwrap,
legacy namespaces). Anything unreadable is a MalformedMessage (2.1)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cim_models.errors import CodecError

from ..envelope import Envelope
from ..errors import from_codec

if TYPE_CHECKING:
    from ..bus import Bus
    from . import Exchange


#: ``Exchange.meta`` key: the tree ``cim_models.safexml.parse_bytes(raw, bus.codec.limits)``
#: returned for this exchange's raw bytes (parsed once, not twice).
PARSED = "parsed_root"


class SafeParse:
    name = "parse"
    always = False

    def __call__(self, ex: Exchange, bus: Bus) -> None:
        parsed = ex.meta.pop(PARSED, None)
        try:
            # a transport that already parsed these very bytes with the codec's safe parser
            # and limits (the SOAP endpoint, for its envelope checks) hands the tree over
            ex.message = (
                bus.codec.identify(parsed) if parsed is not None else bus.codec.parse(ex.raw)
            )
        except CodecError as exc:
            raise from_codec(exc) from None
        ex.envelope = Envelope.from_message(
            ex.message,
            transport=ex.transport,
            reply_to=ex.reply_to,
            raw=ex.meta.get("raw"),
            body=ex.raw if _already_canonical(ex.raw, ex.message) else None,
        )


def _already_canonical(raw: bytes, message) -> bool:
    """Whether the bytes that came in are already what the envelope's body must be (the
    message itself, UTF-8, canonical namespaces, no SOAP wrapper, nothing the safe parser
    drops: comments, processing instructions), so they need not be serialised again."""
    if message.soap is not None or message.legacy_namespace is not None:
        return False
    if not isinstance(raw, bytes):
        return False
    declaration = _UTF8_DECLARATION.match(raw)
    # after the declaration: no other processing instruction, comment, DOCTYPE or CDATA
    # section (one scan of the bytes)
    return declaration is not None and _DROPPED.search(raw, declaration.end()) is None


#: an XML declaration that names UTF-8 (any case, either quote)
_UTF8_DECLARATION = re.compile(rb"<\?xml\s[^>]*?encoding\s*=\s*[\"'](?i:utf-8)[\"'][^>]*?\?>")
#: what the safe parser drops or the canonical form does not keep
_DROPPED = re.compile(rb"<[?!]")
