"""MessageIDs cimbus generates (BUS-1, REL-1): UUID version 7 (RFC 9562).

IEC 61968-100 only asks a MessageID to be unique (the samples use UUIDs). cimbus writes
version 7: the first 48 bits are the Unix time in milliseconds, the rest random (74 bits). They
are as unique as version 4, and they sort by creation time, so the store's indexes on
MessageID and CorrelationID (the audit ledger, the de-duplication table) take new keys at their
end instead of on a random page: a batch of messages dirties a few index pages instead of one
per key, which is most of what a SQLite commit writes (measured in bench/README.md) and keeps
PostgreSQL's B-trees compact too. IDs other systems send are used as they come.
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION = 0x7 << 76  # the version nibble: bits 48-51 from the top of 128
_VARIANT = 0x2 << 62  # RFC 9562 variant (0b10)
_RAND_A = (1 << 12) - 1
_RAND_B = (1 << 62) - 1


def _uuid7_int() -> int:
    """unix_ts_ms(48) | ver(4) | rand_a(12) | var(2) | rand_b(62), as one integer."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10))
    return (
        (ms & 0xFFFF_FFFF_FFFF) << 80
        | _VERSION
        | ((rand >> 62) & _RAND_A) << 64
        | _VARIANT
        | (rand & _RAND_B)
    )


def uuid7() -> uuid.UUID:
    """A new RFC 9562 version 7 UUID."""
    return uuid.UUID(int=_uuid7_int())


def new_message_id() -> str:
    """A new MessageID: a version 7 UUID in its usual text form (what ``str(uuid7())`` gives,
    without the UUID object: one of these per reply on the hot path)."""
    h = f"{_uuid7_int():032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
