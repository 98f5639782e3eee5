"""Step 1, parse safely (SEC-3): bytes -> identified CIM message -> Envelope.

Uses the codec's strict, safe parser (no DTD/entities, size and depth limits, SOAP unwrap,
legacy namespaces). Anything unreadable is a MalformedMessage (2.1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cim_models.errors import CodecError

from ..envelope import Envelope
from ..errors import from_codec

if TYPE_CHECKING:
    from ..bus import Bus
    from . import Exchange


class SafeParse:
    name = "parse"
    always = False

    def __call__(self, ex: Exchange, bus: Bus) -> None:
        try:
            ex.message = bus.codec.parse(ex.raw)
        except CodecError as exc:
            raise from_codec(exc) from None
        ex.envelope = Envelope.from_message(
            ex.message, transport=ex.transport, reply_to=ex.reply_to, raw=ex.meta.get("raw")
        )
