"""The one contract between the core and the transports (BUS-4..BUS-6, BUS-10).

The core never imports a transport library. Each endpoint package (``endpoints/embedded``,
``endpoints/amqp``, ``endpoints/mqtt``, ``endpoints/soap``) does two things:

* inbound: turn what it received into bytes + transport metadata and call
  :meth:`routing.bus.Bus.handle`, then render the :class:`~routing.bus.Response` on its wire;
* outbound: implement :class:`Outbound` so the core can deliver a message to a system reached
  over that transport, and register it with :meth:`routing.bus.Bus.register_transport`.

``deliver`` returns the reply bytes when the transport answers in the same call (SOAP over
HTTP, local handlers); otherwise the reply arrives later as an inbound message with the
request's MessageID as CorrelationID. A failed delivery raises :class:`DeliveryError`
(retried with backoff by the outbox), :class:`TransportUnavailable` (not connected: retried
without counting an attempt) or :class:`PermanentDeliveryError` (dead letter at once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from .routes import System


@dataclass(frozen=True)
class Delivery:
    """One message to put on the wire towards ``system`` at ``address``."""

    system: System
    address: str
    body: bytes
    message_id: str | None = None
    correlation_id: str | None = None
    verb: str = ""
    noun: str = ""
    reply_to: str | None = None  # where the receiver should answer (transport address)
    headers: dict[str, str] = field(default_factory=dict)
    sync: bool = False  # the core waits for the reply


class DeliveryError(Exception):
    """The delivery failed but may succeed later (broker down, HTTP 503, timeout)."""


class TransportUnavailable(DeliveryError):
    """The transport could not even try: it is not connected to its broker (reconnecting)
    or it is stopping. Nothing was sent, so this is no attempt of the message: the outbox
    puts it back without counting one, however long the outage lasts (REL-1), and tries
    again in a few seconds. A message lost *in flight* (the connection dropped before the
    broker confirmed it) is an ordinary :class:`DeliveryError`: it may be the message itself
    that breaks the connection, and counting attempts is what dead-letters it in the end."""


class PermanentDeliveryError(DeliveryError):
    """The delivery can never succeed as it is (HTTP 4xx, message refused): dead-letter it."""


@runtime_checkable
class Outbound(Protocol):
    """What the core needs from a transport to reach systems."""

    name: str

    def deliver(self, delivery: Delivery) -> bytes | None:
        """Send one message; return the reply if the transport is synchronous."""
        ...

    def reply_address(self, *, sync: bool) -> str | None:
        """Where systems should send replies to this cimbus process (``sync``: this worker's
        own reply address, so a waiting request is answered in the process that waits)."""
        ...


def deliver_all(
    outbound: Outbound, deliveries: Sequence[Delivery]
) -> list[Exception | bytes | None]:
    """Deliver several messages; transports with a faster batch path (AMQP publisher confirms)
    provide ``deliver_batch`` themselves. Returns, per delivery, the reply or the exception."""
    batch = getattr(outbound, "deliver_batch", None)
    if batch is not None:
        return batch(deliveries)
    out: list[Exception | bytes | None] = []
    failed: dict[str, Exception] = {}  # system -> why its last delivery failed
    for d in deliveries:
        earlier = failed.get(d.system.name)
        if earlier is not None:
            # one at a time to the same receiver: after a failure (down, timing out) the
            # rest of the batch is not tried now, so a hung receiver costs one timeout per
            # round, not one per message, and only that message counts an attempt
            out.append(
                TransportUnavailable(
                    f"not tried: the message before it to {d.system.name} failed ({earlier})"
                )
            )
            continue
        try:
            out.append(outbound.deliver(d))
        except PermanentDeliveryError as exc:  # this message only
            out.append(exc)
        except Exception as exc:  # reported per item, retried by the outbox
            out.append(exc)
            failed[d.system.name] = exc
    return out
