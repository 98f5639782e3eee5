"""Step 8, record (BUS-9): always runs. One audit row for the message in, one for the reply
out, with IDs, parties, verb/noun, result, error code and reason, timings and (per the
store's payload policy) the bytes, so an exchange can be followed end to end by CorrelationID
(``Store.trail``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..envelope import new_message_id, utcnow

if TYPE_CHECKING:
    from ..bus import Bus
    from . import Exchange


class Record:
    name = "record"
    always = True

    def __call__(self, ex: Exchange, bus: Bus) -> None:
        from ..store import AuditEntry

        env = ex.envelope
        err = ex.error
        now = utcnow()
        result = ex.result or ("FAILED" if err else "OK")
        bus.store.record(
            AuditEntry(
                direction="in",
                transport=ex.transport,
                message_id=env.message_id if env else None,
                correlation_id=env.correlation_id if env else None,
                verb=env.verb if env else None,
                noun=env.noun if env else None,
                source=env.source if env else None,
                target=ex.route.target if ex.route else bus.name,
                user=env.user_id if env else None,
                organization=env.organization if env else None,
                result=result,
                error_code=err.code if err else None,
                error_reason=(err.reason if err else ex.outcome)[:2000]
                if (err or ex.outcome)
                else None,
                received_at=ex.received_at,
                completed_at=now,
                payload=ex.raw,
                size=len(ex.raw),
            )
        )
        if ex.reply is not None:
            reply_id = _reply_id(ex.reply) or new_message_id()
            bus.store.record(
                AuditEntry(
                    direction="out",
                    transport=ex.transport,
                    message_id=reply_id,
                    correlation_id=env.message_id if env else None,
                    verb="reply",
                    noun=env.noun if env else None,
                    source=bus.name,
                    target=env.source if env else None,
                    user=None,
                    organization=None,
                    result=result,
                    error_code=err.code if err else None,
                    error_reason=err.reason[:2000] if err else None,
                    received_at=now,
                    completed_at=now,
                    payload=ex.reply,
                    size=len(ex.reply),
                )
            )


def _reply_id(reply: bytes) -> str | None:
    start = reply.find(b"MessageID>")
    if start < 0:
        return None
    end = reply.find(b"<", start)
    return reply[start + len(b"MessageID>") : end].decode("utf-8", "replace").strip() or None
