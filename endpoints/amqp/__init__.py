"""The AMQP 0-9-1 endpoint (RabbitMQ, pika): BUS-5, BUS-7, REL-1..REL-3.

Same surface as every transport package (see :mod:`endpoints`):

* :class:`AmqpTransport` (cimbus's side): consumes ``cimbus.in`` and its worker's sync reply
  queue with manual acks and prefetch, hands each message to ``Bus.handle``, answers the
  delivery's ``reply_to``; delivers to system queues with publisher confirms in batches;
* :class:`AmqpClient` (a counterpart system's side): ``request`` / ``send`` / ``serve`` /
  ``close``.

The pieces: :mod:`.topology` (exchanges, queues, bindings as data), :mod:`.properties`
(IEC 61968-100 Header <-> AMQP properties), :mod:`.policy` (ack / requeue / dead-letter),
``_publisher`` (confirms) and ``_consumer`` (consumers, reconnect). docs/amqp.md explains them.
The embedded transport (:mod:`endpoints.embedded`) has the same queue names and semantics.
"""

from __future__ import annotations

from ._publisher import Nacked, NotConnected, PublisherUnavailable, Unroutable
from .client import AmqpClient
from .policy import FailurePolicy, OnFailure
from .properties import WireFields
from .topology import Topology
from .transport import AmqpTransport

__all__ = [
    "AmqpClient",
    "AmqpTransport",
    "FailurePolicy",
    "Nacked",
    "NotConnected",
    "OnFailure",
    "PublisherUnavailable",
    "Topology",
    "Unroutable",
    "WireFields",
]
