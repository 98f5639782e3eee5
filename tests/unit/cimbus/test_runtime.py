"""The composition root (cimbus.runtime.Runtime): configuration reaches the transports."""

from __future__ import annotations

from pathlib import Path

import pytest

from cimbus.runtime import Runtime
from routing.config import Config


def _amqp(runtime: Runtime):
    from endpoints.amqp import AmqpTransport

    (transport,) = [t for t in runtime.transports if isinstance(t, AmqpTransport)]
    return transport


@pytest.mark.parametrize(
    "batch,handler", [(None, True), (250, True), (1, False)], ids=["default", "250", "off"]
)
def test_amqp_batch_reaches_the_transport(tmp_path: Path, batch: int | None, handler: bool) -> None:
    """``[amqp] batch`` (default 100; 1 = off) is the AmqpTransport's batch size: events and
    replies on cimbus.in are handled up to that many per store transaction."""
    amqp = {"enabled": True} | ({"batch": batch} if batch is not None else {})
    cfg = Config.from_mapping({"store": {"url": f"sqlite:///{tmp_path}/r.db"}, "amqp": amqp})
    assert cfg.amqp.batch == (batch or 100)
    runtime = Runtime(cfg)  # built, not started: nothing connects to RabbitMQ
    inbound = _amqp(runtime)._inbound
    assert inbound.max_batch == (batch or 100)
    assert (inbound.batch_handler is not None) is handler
    runtime.bus.store.close()
