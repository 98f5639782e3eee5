"""The RabbitMQ topology as data (BUS-5, REL-2): names, flags, bindings, declaration order."""

from __future__ import annotations

from endpoints.amqp.topology import Topology
from routing.config import AmqpConfig, Config


def _config() -> Config:
    return Config.from_mapping(
        {
            "amqp": {"enabled": True},
            "systems": {
                "HES": {"transport": "amqp"},
                "MDMS": {"transport": "amqp", "address": "mdms.inbox"},
                "CIS": {"transport": "embedded"},
            },
            "routes": [{"verb": "get", "noun": "MeterReadings", "target": "HES"}],
        }
    )


def test_default_names_match_the_embedded_transport() -> None:
    cfg = _config()
    topo = Topology.for_config(cfg.amqp, cfg.routes, worker_id="w1")
    names = [q.name for q in topo.queues]
    assert names == [
        "cimbus.in",
        "cimbus.system.HES",
        "mdms.inbox",
        "cimbus.reply.w1",
        "cimbus.in.dead",
        "cimbus.system.HES.dead",
        "mdms.inbox.dead",
        "cimbus.reply.dead",
    ]
    assert [(e.name, e.type) for e in topo.exchanges] == [
        ("cimbus", "topic"),
        ("cimbus.dlx", "direct"),
    ]
    assert topo.reply_queue == "cimbus.reply.w1"


def test_only_amqp_systems_get_queues() -> None:
    cfg = _config()
    topo = Topology.for_config(cfg.amqp, cfg.routes)
    assert topo.queue("cimbus.system.CIS") is None
    assert topo.reply_queue is None


def test_queue_flags_and_dead_letter_arguments() -> None:
    topo = Topology.for_config(AmqpConfig(), None, worker_id="w1")
    inbound = topo.queue("cimbus.in")
    reply = topo.queue("cimbus.reply.w1")
    dead = topo.queue("cimbus.in.dead")
    assert inbound and reply and dead
    assert inbound.durable and not inbound.exclusive
    assert inbound.arguments("cimbus.dlx") == {
        "x-dead-letter-exchange": "cimbus.dlx",
        "x-dead-letter-routing-key": "cimbus.in",
    }
    assert reply.exclusive and reply.auto_delete and not reply.durable
    assert reply.arguments("cimbus.dlx")["x-dead-letter-routing-key"] == "cimbus.reply"
    assert dead.durable and dead.arguments("cimbus.dlx") == {}


def test_bindings_carry_verb_and_noun() -> None:
    topo = Topology.for_config(AmqpConfig(), _config().routes, worker_id="w1")
    keys = {(b.exchange, b.queue, b.routing_key) for b in topo.bindings}
    assert ("cimbus", "cimbus.system.HES", "cimbus.system.HES.*.*") in keys
    assert ("cimbus", "cimbus.in", "cimbus.in") in keys
    assert ("cimbus.dlx", "cimbus.system.HES.dead", "cimbus.system.HES") in keys
    assert ("cimbus.dlx", "cimbus.reply.dead", "cimbus.reply") in keys
    assert not any(b.queue == "cimbus.reply.w1" for b in topo.bindings)


def test_route_uses_the_exchange_for_topology_queues_only() -> None:
    topo = Topology.for_config(AmqpConfig(), _config().routes, worker_id="w1")
    assert topo.route("cimbus.system.HES", "get", "MeterReadings") == (
        "cimbus",
        "cimbus.system.HES.get.MeterReadings",
    )
    assert topo.route("cimbus.in") == ("cimbus", "cimbus.in")
    assert topo.route("client.CIS.1234.reply", "reply", "MeterReadings") == (
        "",
        "client.CIS.1234.reply",
    )
    assert topo.route("cimbus.reply.w1", "reply", "MeterReadings") == ("", "cimbus.reply.w1")
    assert topo.dead_letter_key("cimbus.reply.w1") == "cimbus.reply"
    assert topo.dead_letter_key("cimbus.in") == "cimbus.in"


def test_operations_declare_exchanges_then_queues_then_bindings() -> None:
    topo = Topology.for_config(AmqpConfig(), _config().routes, worker_id="w1")
    ops = topo.operations()
    methods = [m for m, _ in ops]
    assert methods == sorted(
        methods,
        key=["exchange_declare", "queue_declare", "queue_bind"].index,
    )
    shared = topo.operations(exclusive=False)
    assert not any(kw.get("queue") == "cimbus.reply.w1" for _, kw in shared)
    assert len(shared) == len(ops) - 1


def test_declare_calls_the_channel() -> None:
    calls: list[tuple[str, dict]] = []

    class FakeChannel:
        def __getattr__(self, name: str):
            return lambda **kw: calls.append((name, kw))

    topo = Topology.for_config(AmqpConfig(), None, worker_id="w1")
    topo.declare(FakeChannel())
    assert calls == topo.operations()

    async_calls: list[str] = []
    done: list[bool] = []

    class FakeAsyncChannel:
        def __getattr__(self, name: str):
            def call(callback, **kw):
                async_calls.append(name)
                callback(None)

            return call

    topo.declare_async(FakeAsyncChannel(), lambda: done.append(True))
    assert done == [True]
    assert len(async_calls) == len(topo.operations(exclusive=False))


def test_max_length_rejects_publishes_when_full() -> None:
    topo = Topology.build(systems=[("HES", "cimbus.system.HES")], max_length=1000)
    q = topo.queue("cimbus.system.HES")
    assert q is not None
    assert q.arguments("cimbus.dlx")["x-overflow"] == "reject-publish"
    assert q.arguments("cimbus.dlx")["x-max-length"] == 1000


def test_render_is_a_markdown_table() -> None:
    text = Topology.for_config(AmqpConfig(), _config().routes, worker_id="<worker>").render()
    lines = text.splitlines()
    assert lines[0].startswith("| kind | name |")
    assert any("`cimbus.system.HES`" in line and "cimbus.system.HES.*.*" in line for line in lines)
    assert any("`cimbus.reply.<worker>`" in line and "exclusive" in line for line in lines)
    assert len(lines) == 2 + 2 + 8  # header, exchanges, queues
