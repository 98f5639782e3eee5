"""Forwarding a request to the system that serves it (BUS-7): the pieces the route step and
the local services (routing/services) share.

* :func:`deliver_and_wait`: the synchronous exchange: register a waiter under the request's
  MessageID, open a ``sync`` correlation entry, deliver now, take an immediate answer (SOAP,
  local) through the inbound pipeline, wait for the reply matched by CorrelationID; no reply in
  time is :class:`~routing.errors.TargetTimeout` (4.1, a later reply is recorded as late), an
  unreachable system :class:`~routing.errors.TargetUnavailable` (4.2).
* :func:`async_reply_address`, :func:`queue_async` and :func:`accepted_ack`: where an
  asynchronous reply goes, the correlation + outbox entries that make the request take effect,
  and the immediate acknowledgement (Result OK, code 0.1) the caller gets.
* :func:`response_root`: a Get is answered in its Get wrapper namespace; :func:`reply_result`:
  the Reply/Result of an answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cim_models.build import ReplyError, build_message

from ..envelope import Envelope
from ..errors import ACCEPTED_CODE, HeaderError, TargetTimeout, TargetUnavailable
from ..routes import System
from ..transport import DeliveryError

if TYPE_CHECKING:
    from ..bus import Bus

__all__ = [
    "accepted_ack",
    "async_reply_address",
    "deliver_and_wait",
    "queue_async",
    "reply_result",
    "response_root",
]


def deliver_and_wait(
    bus: Bus,
    system: System,
    env: Envelope,
    *,
    timeout: float,
    requester: str | None,
    transport: str,
) -> Envelope:
    """Deliver ``env`` to ``system`` now and return its reply (``transport``: where the
    correlation entry says the request came from)."""
    assert env.message_id
    waiter = bus.waiters.register(env.message_id)
    try:
        bus.open_correlation(
            env,
            requester=requester,
            reply_address=None,
            transport=transport,
            mode="sync",
            timeout=timeout,
        )
        try:
            immediate = bus.deliver_now(system, env, sync=True)
        except DeliveryError as exc:
            bus.store.complete_correlation(env.message_id, status="failed", reply=None)
            raise TargetUnavailable(
                f"{system.name} could not be reached over {system.transport}: {exc}",
                object_id=system.name,
                object_type="System",
            ) from None
        if immediate is not None:
            bus.accept_reply_bytes(
                immediate, transport=system.transport, correlation_id=env.message_id
            )
        reply = waiter.wait(timeout)
    finally:
        bus.waiters.discard(env.message_id)
    if reply is None:
        bus.store.complete_correlation(env.message_id, status="timed_out", reply=None)
        raise TargetTimeout(
            f"{system.name} did not answer '{env.verb} {env.noun}' within {timeout:g} s; "
            "a later reply will be recorded",
            object_id=env.message_id,
            object_type="MessageID",
        )
    return reply


def async_reply_address(env: Envelope) -> str:
    """Where the reply of an asynchronous request goes: Header ReplyAddress, else the
    transport's reply address; neither is a HeaderError (2.3)."""
    address = env.reply_address or env.reply_to
    if not address:
        raise HeaderError(
            "AsyncReplyFlag is true but there is no ReplyAddress (and the transport gave no "
            "reply address): cimbus would not know where to send the reply",
            xpath="Header/ReplyAddress",
        )
    return address


def queue_async(
    bus: Bus, system: System, env: Envelope, *, reply_address: str, transport: str, timeout: float
) -> None:
    """An asynchronous request takes effect: the correlation entry that sends the reply to
    ``reply_address`` and the outbox entry that delivers ``env`` to ``system`` (inside the
    caller's transaction)."""
    bus.open_correlation(
        env,
        requester=env.source,
        reply_address=reply_address,
        transport=transport,
        mode="async",
        timeout=timeout,
    )
    bus.enqueue(system, env, sync=False)


def accepted_ack(bus: Bus, env: Envelope, target: str, reply_address: str) -> bytes:
    """The immediate answer to an asynchronous request: Result OK, code 0.1 (accepted)."""
    return build_message(
        "reply",
        env.noun,
        correlation_id=env.message_id,
        source=bus.name,
        result="OK",
        errors=[
            ReplyError(
                ACCEPTED_CODE,
                "INFORM",
                f"accepted for {target}; the reply follows at {reply_address}",
            )
        ],
        form="generic" if env.form == "generic" else None,
        **response_root(env),
    )


def response_root(env: Envelope) -> dict[str, str]:
    """Answer a Get in its Get wrapper namespace, everything else in the noun's wrapper."""
    if env.form == "get" and env.message is not None:
        return {"namespace": env.message.namespace, "element": f"{env.noun}ResponseMessage"}
    return {}


def reply_result(root) -> str:
    """Reply/Result of a parsed ResponseMessage root (OK when it has none)."""
    for child in root:
        if isinstance(child.tag, str) and child.tag.endswith("}Reply"):
            for r in child:
                if isinstance(r.tag, str) and r.tag.endswith("}Result"):
                    return (r.text or "").strip() or "OK"
    return "OK"
