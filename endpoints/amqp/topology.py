"""The RabbitMQ topology as data (BUS-5, REL-2): what cimbus declares, printable for the docs
and ``cimbus routes``, declared idempotently by every connection that needs it.

::

    exchange  cimbus       topic, durable   systems -> cimbus and cimbus -> systems
    exchange  cimbus.dlx   direct, durable  dead letters (routing key = the queue they died in)

    queue  cimbus.in               durable   everything sent to cimbus (requests, events, replies)
    queue  cimbus.system.<name>    durable   what cimbus routes to system <name> (transport amqp)
    queue  cimbus.reply.<worker>   exclusive, auto-delete   sync replies for one cimbus worker
    queue  <queue>.dead            durable   dead letters of <queue> (cimbus.reply.dead for all
                                             reply queues)

Routing keys on ``cimbus`` are ``<queue>.<verb>.<noun>`` (for example
``cimbus.system.HES.get.MeterReadings``); every queue is bound with ``<queue>.*.*`` and with the
bare ``<queue>`` (a message whose verb and noun are unknown, such as an unreadable one, still
reaches cimbus and gets its FAILED reply). The queues are per *destination*, not per noun: a
system consumes one queue, so what cimbus sends it keeps its order across nouns (create then
cancel EndDeviceControls, the MeterReadings it triggers), and adding a noun needs no new queue
or consumer. The noun is in the routing key, so an operator can still bind a per-noun queue or
an audit tap without code changes, e.g. ``#.EndDeviceEvents`` or ``cimbus.system.HES.*.MeterReadings``.

Replies to an AMQP ``reply_to`` that is not a topology queue (a client's own reply queue) go
through the default exchange, straight to the named queue, as AMQP 0-9-1 intends.

Every durable queue carries ``x-dead-letter-exchange`` / ``x-dead-letter-routing-key`` so a
message RabbitMQ itself dead-letters (``basic_reject(requeue=False)``, expiry) lands in
``<queue>.dead``; cimbus's own dead-lettering republishes there with the reason in the headers
(see :mod:`endpoints.amqp.policy`). Queue arguments are part of a queue's identity in RabbitMQ:
changing them here (or ``max_length``) needs the old queue deleted first, or the declaration is
refused with PRECONDITION_FAILED (logged, retried).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routing.config import AmqpConfig
    from routing.routes import RouteTable

DEAD_SUFFIX = ".dead"


@dataclass(frozen=True)
class ExchangeSpec:
    name: str
    type: str  # topic | direct
    durable: bool = True
    purpose: str = ""


@dataclass(frozen=True)
class QueueSpec:
    name: str
    purpose: str = ""
    durable: bool = True
    exclusive: bool = False
    auto_delete: bool = False
    dead_letter_key: str | None = None  # routing key on the DLX; None: no dead-lettering
    max_length: int | None = None  # with overflow reject-publish: publishers get nacks (REL-3)
    bound: bool = True  # bound to the main exchange with <name> and <name>.*.*

    def arguments(self, dead_letter_exchange: str) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self.dead_letter_key is not None:
            args["x-dead-letter-exchange"] = dead_letter_exchange
            args["x-dead-letter-routing-key"] = self.dead_letter_key
        if self.max_length is not None:
            args["x-max-length"] = self.max_length
            args["x-overflow"] = "reject-publish"
        return args

    @property
    def flags(self) -> str:
        if self.exclusive:
            return "exclusive, auto-delete" if self.auto_delete else "exclusive"
        return "durable" if self.durable else "transient"


@dataclass(frozen=True)
class BindingSpec:
    exchange: str
    queue: str
    routing_key: str


@dataclass(frozen=True)
class Topology:
    """Exchanges, queues and bindings; ``declare`` / ``operations`` put them on a channel."""

    exchange: str
    dead_letter_exchange: str
    inbound: str
    reply_queue: str | None
    exchanges: tuple[ExchangeSpec, ...]
    queues: tuple[QueueSpec, ...]
    bindings: tuple[BindingSpec, ...] = field(default=())

    # ---------------------------------------------------------------- construction
    @classmethod
    def build(
        cls,
        *,
        exchange: str = "cimbus",
        dead_letter_exchange: str = "cimbus.dlx",
        inbound: str = "cimbus.in",
        systems: Iterable[tuple[str, str]] = (),
        worker_id: str | None = None,
        max_length: int | None = None,
    ) -> Topology:
        """``systems``: (name, queue) of every system reached over AMQP; ``worker_id``: adds
        this worker's exclusive sync reply queue ``<exchange>.reply.<worker_id>``."""
        queues: list[QueueSpec] = [
            QueueSpec(
                inbound,
                "everything sent to cimbus: requests, events, replies",
                dead_letter_key=inbound,
                max_length=max_length,
            )
        ]
        seen = {inbound}
        for name, queue in systems:
            if queue in seen:
                continue
            seen.add(queue)
            queues.append(
                QueueSpec(
                    queue,
                    f"what cimbus routes to {name}",
                    dead_letter_key=queue,
                    max_length=max_length,
                )
            )
        reply_dead_key = f"{exchange}.reply"
        reply_queue = None
        if worker_id:
            reply_queue = f"{exchange}.reply.{worker_id}"
            queues.append(
                QueueSpec(
                    reply_queue,
                    "sync replies to requests this cimbus worker waits for",
                    durable=False,
                    exclusive=True,
                    auto_delete=True,
                    dead_letter_key=reply_dead_key,
                    bound=False,
                )
            )
        dead: list[QueueSpec] = []
        bindings: list[BindingSpec] = []
        for q in queues:
            if q.bound:
                bindings.append(BindingSpec(exchange, q.name, q.name))
                bindings.append(BindingSpec(exchange, q.name, f"{q.name}.*.*"))
        for key in dict.fromkeys(q.dead_letter_key for q in queues if q.dead_letter_key):
            assert key is not None
            dq = key + DEAD_SUFFIX
            dead.append(QueueSpec(dq, f"dead letters of {key}", bound=False))
            bindings.append(BindingSpec(dead_letter_exchange, dq, key))
        return cls(
            exchange=exchange,
            dead_letter_exchange=dead_letter_exchange,
            inbound=inbound,
            reply_queue=reply_queue,
            exchanges=(
                ExchangeSpec(exchange, "topic", purpose="systems <-> cimbus"),
                ExchangeSpec(dead_letter_exchange, "direct", purpose="dead letters"),
            ),
            queues=(*queues, *dead),
            bindings=tuple(bindings),
        )

    @classmethod
    def for_config(
        cls,
        config: AmqpConfig,
        routes: RouteTable | None = None,
        *,
        worker_id: str | None = None,
        max_length: int | None = None,
    ) -> Topology:
        """cimbus's topology: the configured names and every system whose transport is amqp."""
        systems = []
        if routes is not None:
            systems = [
                (s.name, s.address)
                for s in sorted(routes.systems.values(), key=lambda s: s.name)
                if s.transport == "amqp"
            ]
        return cls.build(
            exchange=config.exchange,
            dead_letter_exchange=config.dead_letter_exchange,
            inbound=config.inbound_queue,
            systems=systems,
            worker_id=worker_id,
            max_length=max_length,
        )

    # ---------------------------------------------------------------- lookups
    def queue(self, name: str) -> QueueSpec | None:
        return self._queues_by_name.get(name)

    @cached_property
    def _queues_by_name(self) -> dict[str, QueueSpec]:
        """Queue specs by name (the first of a name wins): ``route`` looks one up for every
        message published, and a deployment has a queue per system and noun."""
        by_name: dict[str, QueueSpec] = {}
        for q in self.queues:
            by_name.setdefault(q.name, q)
        return by_name

    def route(self, address: str, verb: str = "", noun: str = "") -> tuple[str, str]:
        """(exchange, routing key) to publish a message for queue ``address``: topology queues
        through the ``cimbus`` exchange with ``<queue>.<verb>.<noun>``, any other queue (a
        client's reply queue) through the default exchange."""
        q = self.queue(address)
        if q is None or not q.bound:
            return "", address
        if verb and noun and "." not in verb + noun:
            return self.exchange, f"{address}.{verb}.{noun}"
        return self.exchange, address

    def dead_letter_key(self, queue: str) -> str:
        """The routing key on the dead-letter exchange for a message that died in ``queue``."""
        q = self.queue(queue)
        return q.dead_letter_key if q is not None and q.dead_letter_key else queue

    def names(self) -> list[str]:
        """Every exchange and queue name (for clean-up in tests and ``rabbitmqctl`` checks)."""
        return [e.name for e in self.exchanges] + [q.name for q in self.queues]

    def with_queue(self, spec: QueueSpec) -> Topology:
        """This topology plus one more queue (a client's own queue)."""
        return Topology(
            exchange=self.exchange,
            dead_letter_exchange=self.dead_letter_exchange,
            inbound=self.inbound,
            reply_queue=self.reply_queue,
            exchanges=self.exchanges,
            queues=(*self.queues, spec),
            bindings=self.bindings,
        )

    # ---------------------------------------------------------------- declaration
    def operations(self, *, exclusive: bool = True) -> list[tuple[str, dict[str, Any]]]:
        """The declarations as (channel method, keyword arguments), in order; the same list
        drives a BlockingChannel and an asynchronous one. ``exclusive=False`` leaves out
        exclusive queues (only their owning connection may declare them)."""
        ops: list[tuple[str, dict[str, Any]]] = [
            (
                "exchange_declare",
                {"exchange": e.name, "exchange_type": e.type, "durable": e.durable},
            )
            for e in self.exchanges
        ]
        declared = set()
        for q in self.queues:
            if q.exclusive and not exclusive:
                continue
            declared.add(q.name)
            ops.append(
                (
                    "queue_declare",
                    {
                        "queue": q.name,
                        "durable": q.durable,
                        "exclusive": q.exclusive,
                        "auto_delete": q.auto_delete,
                        "arguments": q.arguments(self.dead_letter_exchange) or None,
                    },
                )
            )
        ops.extend(
            (
                "queue_bind",
                {"queue": b.queue, "exchange": b.exchange, "routing_key": b.routing_key},
            )
            for b in self.bindings
            if b.queue in declared
        )
        return ops

    def declare(self, channel: Any, *, exclusive: bool = True) -> None:
        """Declare everything on a ``pika`` BlockingChannel (idempotent)."""
        for method, kwargs in self.operations(exclusive=exclusive):
            getattr(channel, method)(**kwargs)

    def declare_async(
        self, channel: Any, done: Callable[[], None], *, exclusive: bool = False
    ) -> None:
        """Declare everything on an asynchronous ``pika`` channel, one operation after the
        other, then call ``done`` (a failure closes the channel, as in RabbitMQ)."""
        ops = list(self.operations(exclusive=exclusive))

        def step(_frame: Any = None) -> None:
            if not ops:
                done()
                return
            method, kwargs = ops.pop(0)
            getattr(channel, method)(callback=step, **kwargs)

        step()

    # ---------------------------------------------------------------- printing
    def rows(self) -> list[dict[str, str]]:
        """One row per exchange and queue (for ``cimbus routes`` and the docs)."""
        out = [
            {
                "kind": "exchange",
                "name": e.name,
                "flags": f"{e.type}, durable" if e.durable else e.type,
                "bindings": "",
                "dead letters": "",
                "purpose": e.purpose,
            }
            for e in self.exchanges
        ]
        for q in self.queues:
            keys = [f"{b.exchange}: {b.routing_key}" for b in self.bindings if b.queue == q.name]
            out.append(
                {
                    "kind": "queue",
                    "name": q.name,
                    "flags": q.flags + (f", max {q.max_length}" if q.max_length else ""),
                    "bindings": "; ".join(keys),
                    "dead letters": (q.dead_letter_key or "") + DEAD_SUFFIX
                    if q.dead_letter_key
                    else "",
                    "purpose": q.purpose,
                }
            )
        return out

    def render(self) -> str:
        """The topology as a Markdown table."""
        cols = ["kind", "name", "flags", "bindings", "dead letters", "purpose"]
        rows = self.rows()
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in rows:
            cells = [f"`{r[c]}`" if c == "name" else r[c] for c in cols]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)


__all__ = ["BindingSpec", "ExchangeSpec", "QueueSpec", "Topology"]
