"""Step 7, render the reply to the caller (BUS-1, BUS-7): always runs.

A step that failed left a BusError: it becomes a ResponseMessage with Reply/Result FAILED and
one Reply/Error per problem (code, level, reason, details, ID of the offending object), in the
wrapper namespace of the request (the Get wrapper for a Get), or a FaultMessage when the input
could not be read as a message at all. The transport renders that once more for its wire (a
SOAP Fault for a broken envelope). The reply is stored for de-duplication of retries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cim_models.build import ReplyError, build_fault, build_message

from ..errors import DuplicateMessage
from .forward import response_root

if TYPE_CHECKING:
    from ..bus import Bus
    from . import Exchange


class RenderReply:
    name = "reply"
    always = True

    def __call__(self, ex: Exchange, bus: Bus) -> None:
        env = ex.envelope
        if ex.error is not None and not ex.answer:
            ex.result = "FAILED"
            ex.reply = None  # nobody to answer: the refusal is recorded (record step)
            if not ex.outcome:
                ex.outcome = f"refused (no reply address to answer): {ex.error}"
        elif ex.error is not None:
            ex.result = "FAILED"
            errors = [
                ReplyError(
                    e.code, e.level, e.reason, e.details, e.xpath, e.object_id, e.object_type
                )
                for e in ex.error.errors
            ]
            if env is None or ex.error.envelope_broken:
                noun = ex.message.noun if ex.message is not None else None
                ex.reply = build_fault(errors, noun=noun)
            elif env.is_reply:
                ex.reply = None  # never answer a reply with a reply; the error is recorded
            else:
                ex.reply = build_message(
                    "reply",
                    env.noun or "Unknown",
                    correlation_id=env.message_id,
                    source=bus.name,
                    result="FAILED",
                    errors=errors,
                    form="generic" if env.form == "generic" else None,
                    **response_root(env),
                )
            if not ex.outcome:
                ex.outcome = f"refused: {ex.error}"
        if (
            env is not None
            and ex.reply is not None
            and env.message_id
            and ex.result not in ("DUPLICATE", None)
            and not env.is_reply
            and not isinstance(ex.error, DuplicateMessage)  # never overwrite the original's reply
        ):
            bus.store.remember_reply(env.message_id, env.source, ex.reply)
