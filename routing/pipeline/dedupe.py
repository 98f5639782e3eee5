"""Step 5, de-duplication by MessageID (REL-1).

A message whose MessageID (from the same Source) was already processed is not processed
again: the caller gets the reply stored the first time, so a retried request is idempotent.
Requests served synchronously are checked here, before anything is forwarded. Events and
async requests are checked by the atomic claim in the exchange's one transaction (cheaper: no
extra read), which answers a duplicate the same way (see ``Pipeline.run``).
A duplicate of a message still in progress, or whose first processing was interrupted before
it answered, is refused with DuplicateMessage (2.6, level WARNING): a command must never run
twice. The claim itself is made where the message takes effect (see ``route``), atomically
with its outbox entries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import DuplicateMessage

if TYPE_CHECKING:
    from ..bus import Bus
    from . import Exchange


class Dedupe:
    name = "dedupe"
    always = False

    def __call__(self, ex: Exchange, bus: Bus) -> None:
        env = ex.envelope
        assert env is not None
        if not bus.config.bus.dedupe or not env.message_id or env.is_reply:
            return
        if not _checked_up_front(env, bus):
            return
        if not bus.store.is_known_message(env.message_id, env.source):
            return
        stored = bus.store.stored_reply(env.message_id, env.source)
        if stored is not None:
            ex.finish(
                f"duplicate of {env.message_id}: answered with the stored reply",
                result="DUPLICATE",
                reply=stored,
            )
            return
        raise DuplicateMessage(
            f"MessageID {env.message_id} was already received; it is being processed or its "
            "processing was interrupted. Send a new request with a new MessageID",
            object_id=env.message_id,
            object_type="MessageID",
        )


def _checked_up_front(env, bus: Bus) -> bool:
    """Sync and local requests: yes. Events and async requests: their claim at commit time."""
    if not env.is_request or env.async_reply:
        return False
    try:
        route = bus.routes.route_for(env.verb, env.noun, env.source)
    except Exception:  # no route: the route step answers that
        return False
    return route.mode == "sync"
