"""The AMQP benchmark leaves nothing behind (issue 3): each run used to leave its SQLite
store (up to ~100 MB) in /tmp and three exchanges / one durable queue in RabbitMQ, so
repeated runs (CI, tuning sessions) filled both."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from types import SimpleNamespace

import pika
import pytest

from bench import bench_bus_amqp
from cim_models.build import build_message

pytest_plugins = ["tests.integration.amqp_fixtures"]
pytestmark = pytest.mark.broker


def _exists(url: str, *, queue: str | None = None, exchange: str | None = None) -> bool:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        try:
            if queue is not None:
                ch.queue_declare(queue, passive=True)
            else:
                ch.exchange_declare(exchange, passive=True)
            return True
        except pika.exceptions.ChannelClosedByBroker as exc:
            assert exc.reply_code == 404
            return False
    finally:
        if conn.is_open:
            conn.close()


def test_a_run_removes_its_store_exchanges_and_queues(
    rabbitmq: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(bench_bus_amqp, "URL", rabbitmq)
    made: list[Path] = []

    def mkdtemp(prefix: str = "") -> str:
        path = tempfile.mkdtemp(prefix=prefix, dir=tmp_path)
        made.append(Path(path))
        return path

    # the bench module's own names only (the modules themselves stay untouched)
    monkeypatch.setattr(bench_bus_amqp, "tempfile", SimpleNamespace(mkdtemp=mkdtemp))
    tag = uuid.uuid4()
    monkeypatch.setattr(bench_bus_amqp, "uuid", SimpleNamespace(uuid4=lambda: tag))
    prefix = f"bench{tag.hex[:6]}"
    bodies = [
        build_message("created", "MeterReadings", message_id=f"m-{i}", source="HES")
        for i in range(20)
    ]
    rate, counts = bench_bus_amqp.through_cimbus(bodies, own_process=False)
    assert rate > 0 and counts["delivered"] + counts["claimed"] == 20
    assert made and not any(p.exists() for p in made)  # the store's folder is gone
    for name in (f"{prefix}.in", f"{prefix}.system.MDMS", f"{prefix}.in.dead"):
        assert not _exists(rabbitmq, queue=name), name
    assert not _exists(rabbitmq, queue=f"{prefix}.reply.dead")  # was left behind
    for name in (prefix, f"{prefix}.dlx"):
        assert not _exists(rabbitmq, exchange=name), name  # were left behind
