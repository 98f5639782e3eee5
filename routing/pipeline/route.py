"""Step 6, route (BUS-2, BUS-7, BUS-8, REL-1): make the message take effect.

* **request** (get, create, change, cancel, close, delete, execute): the route table names the
  serving system.

  - *sync*: cimbus forwards the request and waits (route timeout) for the system's reply,
    which goes back to the caller unchanged; no reply in time is TargetTimeout (4.1), and a
    reply arriving later is recorded as late, not lost.
  - *async* (AsyncReplyFlag true, or an async route): the request goes into the outbox
    (delivered with retries until the system accepts it), a correlation entry remembers where
    the reply must go (Header ReplyAddress, else the transport's reply address), and the caller
    gets an immediate acknowledgement (Result OK, code 0.1).
  - *local* systems are served inside cimbus by a registered handler (the MessageID is
    claimed first, as for a sync request).
* **event** (created, changed, ...): fanned out through the outbox to every subscriber; the
  sender gets Result OK.
* **reply**: matched by CorrelationID to the waiting request (sync) or to the correlation entry
  (async, forwarded to the requester's reply address through the outbox). A reply nobody waits
  for any more is recorded as late; one that matches nothing is UnknownObject (2.12).

Everything that must survive a crash (outbox entries, correlation, the MessageID claim) is
written in one store transaction before the caller or the broker is acknowledged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cim_models.build import build_reply

from ..envelope import Envelope
from ..errors import (
    DuplicateMessage,
    HeaderError,
    UnknownObject,
)
from . import DuplicateClaim
from .forward import (
    accepted_ack,
    async_reply_address,
    deliver_and_wait,
    queue_async,
    reply_result,
    response_root,
)

if TYPE_CHECKING:
    from ..bus import Bus
    from . import Exchange


class RouteMessage:
    name = "route"
    always = False

    def __call__(self, ex: Exchange, bus: Bus) -> None:
        env = ex.envelope
        assert env is not None
        if env.is_reply:
            self._reply(ex, env, bus)
        elif env.is_event:
            self._event(ex, env, bus)
        else:
            self._request(ex, env, bus)

    # ------------------------------------------------------------------ requests
    def _request(self, ex: Exchange, env: Envelope, bus: Bus) -> None:
        route = bus.routes.route_for(env.verb, env.noun, env.source)
        ex.route = route
        target = bus.routes.system(route.target)
        if target.transport == "local":
            # claimed before the service runs, like a sync request: a copy arriving while it
            # is served is refused, so a local service never acts twice for one MessageID
            if not bus.claim(env):
                raise DuplicateMessage(f"MessageID {env.message_id} was already received")
            reply = bus.serve_local(target, env)
            ex.finish(
                f"served by {target.name} inside cimbus", result=_result_of(bus, reply), reply=reply
            )
            return
        if env.async_reply or route.mode == "async":
            reply_address = async_reply_address(env)

            def effects(reply_address: str = reply_address) -> None:
                _claim(bus, env)
                queue_async(
                    bus,
                    target,
                    env,
                    reply_address=reply_address,
                    transport=ex.transport,
                    timeout=route.timeout,
                )

            ex.effects.append(effects)
            ex.claims = True
            ack = accepted_ack(bus, env, target.name, reply_address)
            ex.finish(
                f"queued for {target.name} (async; reply to {reply_address})",
                result="ACCEPTED",
                reply=ack,
            )
            return
        # synchronous: forward now and wait for the reply in this process
        if not bus.claim(env):
            raise DuplicateMessage(f"MessageID {env.message_id} was already received")
        reply = deliver_and_wait(
            bus, target, env, timeout=route.timeout, requester=env.source, transport=ex.transport
        )
        ex.finish(
            f"served by {target.name} (sync)", result=_result_of(bus, reply.body), reply=reply.body
        )

    # ------------------------------------------------------------------ events
    def _event(self, ex: Exchange, env: Envelope, bus: Bus) -> None:
        subscribers = bus.routes.subscribers_for(env.verb, env.noun, env.source)
        remote = [s for s in subscribers if s.transport != "local"]

        def effects() -> None:
            _claim(bus, env)
            for system in remote:
                bus.enqueue(system, env, sync=False)

        ex.effects.append(effects)
        ex.claims = True
        for system in subscribers:
            if system.transport == "local":
                bus.serve_local(system, env)
        names = ", ".join(s.name for s in subscribers) or "nobody (only the sender subscribes)"
        ack = (
            build_reply(  # the same bytes as build_message, from a template (hot path)
                env.noun,
                correlation_id=env.message_id,
                source=bus.name,
                result="OK",
                form="generic" if env.form == "generic" else None,
                **response_root(env),
            )
            if ex.answer
            else None
        )
        ex.finish(f"fanned out to {names}", result="OK", reply=ack)

    # ------------------------------------------------------------------ replies
    def _reply(self, ex: Exchange, env: Envelope, bus: Bus) -> None:
        corr = env.correlation_id
        if not corr:
            raise HeaderError("a reply needs a CorrelationID", xpath="Header/CorrelationID")
        if bus.waiters.is_waiting(corr):
            ex.after_commit.append(lambda: bus.waiters.resolve(corr, env))
            ex.effects.append(
                lambda: bus.store.complete_correlation(corr, status="replied", reply=env.body)
            )
            ex.finish(f"reply to {corr} handed to the waiting request", result="OK")
            return
        record = bus.store.correlation(corr)
        if record is None:
            raise UnknownObject(
                f"no exchange with CorrelationID {corr} is known to cimbus",
                object_id=corr,
                object_type="CorrelationID",
            )
        if record.status == "open" and record.mode == "async" and record.reply_address:

            def forward(record=record) -> None:
                bus.store.complete_correlation(corr, status="replied", reply=env.body)
                bus.enqueue_reply(record, env)

            ex.effects.append(forward)
            ex.finish(
                f"reply to {corr} forwarded to {record.requester or '?'} at {record.reply_address}",
                result="OK",
            )
            return
        ex.effects.append(
            lambda: bus.store.complete_correlation(corr, status="late", reply=env.body)
        )
        ex.finish(f"late reply to {corr} recorded (the request had {record.status})", result="OK")


def _claim(bus: Bus, env: Envelope) -> None:
    """Claim the MessageID inside the exchange's transaction (REL-1)."""
    if not bus.claim(env):
        raise DuplicateClaim(f"MessageID {env.message_id} was already received")


def _result_of(bus: Bus, reply: bytes | None) -> str:
    if reply is None:
        return "OK"
    try:
        message = bus.codec.parse(reply)
    except Exception:
        return "FAILED"
    return reply_result(message.root)
