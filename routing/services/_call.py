"""cimbus asks another system and waits for the answer (BUS-7, BUS-9), for local services.

A routed sync request (routing/pipeline/route.py) registers a waiter under its MessageID,
opens a ``sync`` correlation entry, delivers the message and waits; the reply comes back in
as an ordinary inbound message and the route step hands it to the waiter. :func:`call` does
the same for a message *cimbus* writes (e.g. the SMT service asking the head-end): no
MessageID claim is needed (cimbus made the ID), and the request is written to the audit
ledger as an ``out`` row whose CorrelationID is the inbound exchange that caused it, so
``Store.trail(<requester's MessageID>)`` shows request -> cimbus's request -> its reply ->
the answer.

:func:`forward` passes a request received by a local service on, unchanged, to the system
the wildcard route names, with that route's semantics (async: correlation + outbox + 0.1
acknowledgement; sync: deliver and wait). The SMT service uses it for EndDeviceControls that
are not power-status pings.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cim_models.build import ReplyError
from cim_models.errors import CodecError

from ..envelope import Envelope, utcnow
from ..errors import (
    BusError,
    HeaderError,
    TargetUnavailable,
    UnsupportedRequest,
    from_codec,
)
from ..pipeline.forward import (
    accepted_ack,
    async_reply_address,
    deliver_and_wait,
    queue_async,
    reply_result,
)
from ..routes import ANY, System
from ..store import AuditEntry

if TYPE_CHECKING:
    from ..bus import Bus


def call(
    bus: Bus,
    system_name: str,
    body: bytes,
    *,
    timeout: float,
    caused_by: str | None = None,
) -> Envelope:
    """Send the request ``body`` (written by cimbus, with its own MessageID) to
    ``system_name`` and return the reply envelope (parsed; validated by the inbound pipeline
    it came through). Raises :class:`~routing.errors.TargetTimeout` (4.1) when no reply comes
    within ``timeout`` seconds and :class:`~routing.errors.TargetUnavailable` (4.2) when the
    system cannot be reached. ``caused_by``: the MessageID of the exchange this call serves
    (audit CorrelationID, BUS-9)."""
    try:
        message = bus.codec.parse(body)
    except CodecError as exc:
        raise from_codec(exc) from None
    system = bus.routes.system(system_name)
    env = Envelope.from_message(message, transport=system.transport, body=body)
    if not env.message_id:
        raise HeaderError("cimbus's own request has no MessageID", xpath="Header/MessageID")
    return exchange(bus, system, env, timeout=timeout, caused_by=caused_by, requester=bus.name)


def exchange(
    bus: Bus,
    system: System,
    env: Envelope,
    *,
    timeout: float,
    caused_by: str | None = None,
    requester: str | None = None,
) -> Envelope:
    """Deliver ``env`` to ``system`` now and wait for the reply matched by its MessageID (the
    sync path of route.py, without the claim). Every outcome is recorded in the audit ledger."""
    assert env.message_id
    started = utcnow()
    error: BusError | None = None
    reply: Envelope | None = None
    try:
        if system.transport == "local":
            reply = _local(bus, system, env)
            return reply
        reply = deliver_and_wait(
            bus, system, env, timeout=timeout, requester=requester, transport=system.transport
        )
        return reply
    except BusError as exc:
        error = exc
        raise
    finally:
        _record(bus, system, env, started, reply, error, caused_by)


def forward(bus: Bus, env: Envelope, *, served_by: str) -> bytes:
    """Pass ``env`` on to the system of the wildcard route for its verb and noun (as if the
    source-specific route to the local service ``served_by`` did not exist) and return what
    the requester gets now: the 0.1 acknowledgement for an async exchange (the reply follows
    at its ReplyAddress), the serving system's reply for a sync one."""
    route = bus.routes.route_for(env.verb, env.noun, ANY)
    target = bus.routes.system(route.target)
    if target.transport == "local" or target.name == served_by:
        raise UnsupportedRequest(
            f"'{env.verb} {env.noun}' from {env.source or '?'} is not something {served_by} "
            f"serves, and the route for everyone else leads to the local system {target.name}",
            object_id=f"{env.verb} {env.noun}",
            object_type="VerbNoun",
        )
    if env.async_reply or route.mode == "async":
        reply_address = async_reply_address(env)
        with bus.store.transaction():
            queue_async(
                bus,
                target,
                env,
                reply_address=reply_address,
                transport=env.transport,
                timeout=route.timeout,
            )
        bus.kick()
        return accepted_ack(bus, env, target.name, reply_address)
    reply = exchange(bus, target, env, timeout=route.timeout, requester=env.source)
    return reply.body


def result_of(reply: Envelope) -> str:
    """Reply/Result of a reply envelope (OK | PARTIAL | FAILED; a FaultMessage is FAILED)."""
    if reply.element.endswith("FaultMessage"):
        return "FAILED"
    root = reply.message.root if reply.message is not None else None
    return "OK" if root is None else reply_result(root)


def reply_errors(reply: Envelope) -> list[ReplyError]:
    """The Reply/Error entries of a reply, as :class:`~cim_models.build.ReplyError`."""
    out: list[ReplyError] = []
    root = reply.message.root if reply.message is not None else None
    if root is None:
        return out
    for child in root:
        if not (isinstance(child.tag, str) and child.tag.endswith("}Reply")):
            continue
        for err in child:
            if not (isinstance(err.tag, str) and err.tag.endswith("}Error")):
                continue
            fields: dict[str, str | None] = {}
            object_type = None
            for f in err:
                if not isinstance(f.tag, str):
                    continue
                name = f.tag.rsplit("}", 1)[-1]
                fields[name] = (f.text or "").strip() or None
                if name == "ID":
                    object_type = f.get("objectType")
            out.append(
                ReplyError(
                    fields.get("code") or "2.4",
                    fields.get("level"),
                    fields.get("reason"),
                    fields.get("details"),
                    None,
                    fields.get("ID"),
                    object_type,
                )
            )
    return out


def _local(bus: Bus, system: System, env: Envelope) -> Envelope:
    body = bus.serve_local(system, env)
    if body is None:
        raise TargetUnavailable(f"{system.name} gave no reply", object_id=system.name)
    try:
        message = bus.codec.parse(body)
    except CodecError as exc:
        raise from_codec(exc) from None
    return Envelope.from_message(message, transport="local", body=body)


def _record(
    bus: Bus,
    system: System,
    env: Envelope,
    started: datetime,
    reply: Envelope | None,
    error: BusError | None,
    caused_by: str | None,
) -> None:
    now = utcnow()
    if error is not None:
        result = "FAILED"
    elif reply is not None:
        result = result_of(reply)
    else:
        result = None
    try:
        bus.store.record(
            AuditEntry(
                direction="out",
                transport=system.transport,
                message_id=env.message_id,
                correlation_id=caused_by or env.correlation_id,
                verb=env.verb,
                noun=env.noun,
                source=env.source,
                target=system.name,
                user=env.user_id,
                organization=env.organization,
                result=result,
                error_code=error.code if error else None,
                error_reason=error.reason[:2000] if error else None,
                received_at=started,
                completed_at=now,
                payload=env.body,
                size=len(env.body),
            )
        )
    except Exception:  # the audit must never turn an answer into a failure
        bus.log.exception("recording %s to %s failed", env.message_id, system.name)
