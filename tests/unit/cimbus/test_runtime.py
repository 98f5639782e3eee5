"""The composition root (cimbus.runtime.Runtime): configuration reaches the transports."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cimbus.runtime import Runtime
from routing.config import Config
from routing.errors import ConfigError


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


def test_settle_heap_freezes_what_start_up_left() -> None:
    """``cimbus serve`` and every SOAP worker process call it once started: the garbage
    collector then no longer walks start-up's objects in each full collection."""
    import gc

    from cimbus.runtime import settle_heap

    before = gc.get_freeze_count()
    try:
        settle_heap()
        assert gc.get_freeze_count() > max(before, 10_000)
    finally:
        gc.unfreeze()


def test_serve_settles_the_heap_after_start_up(tmp_path: Path, monkeypatch) -> None:
    """`cimbus serve` (one process): the runtime is started, then the heap settled, then the
    SOAP server runs."""
    from typer.testing import CliRunner

    import cimbus.runtime
    import endpoints.soap
    from cimbus.cli import app

    order: list[str] = []
    monkeypatch.setattr(cimbus.runtime, "settle_heap", lambda: order.append("settle"))
    monkeypatch.setattr(endpoints.soap, "run", lambda bus, cfg: order.append("serve"))
    config = tmp_path / "cimbus.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/s.db"\n')
    result = CliRunner().invoke(app, ["serve", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert order == ["settle", "serve"]


def test_soap_workers_settle_the_heap_once_started(tmp_path: Path, monkeypatch) -> None:
    """``[soap] workers > 1``: each worker process's app settles its heap on start-up, after
    the runtime has started."""
    from fastapi.testclient import TestClient

    import cimbus.runtime

    calls: list[bool] = []
    monkeypatch.setattr(
        cimbus.runtime, "settle_heap", lambda: calls.append(bool(runtime.bus._threads))
    )
    config = tmp_path / "cimbus.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/w.db"\n')
    monkeypatch.setenv("CIMBUS_CONFIG", str(config))
    app = cimbus.runtime.soap_worker_app()
    runtime = app.state.runtime
    with TestClient(app):
        assert calls == [True]  # once, with the bus already running


class _Recorder:
    def __init__(self, name: str, log: list[str], fail: BaseException | None = None) -> None:
        self.name, self.log, self.fail = name, log, fail

    def start(self) -> None:
        self.log.append(f"start {self.name}")
        if self.fail is not None:
            raise self.fail

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")


@pytest.mark.parametrize(
    "fail", [ConnectionError("broker down"), KeyboardInterrupt(), SystemExit(0)]
)
def test_a_failed_or_interrupted_start_stops_what_it_started(
    tmp_path: Path, fail: BaseException
) -> None:
    """A transport that cannot start (or SIGTERM / Ctrl-C during start-up) must not leave the
    transports already started, and the bus's outbox thread, running: they would keep the
    process alive and hold outbox claims until their lease expires."""
    cfg = Config.from_mapping({"store": {"url": f"sqlite:///{tmp_path}/r.db"}})
    runtime = Runtime(cfg)
    log: list[str] = []
    runtime.transports[:] = [_Recorder("a", log), _Recorder("b", log, fail), _Recorder("c", log)]
    with pytest.raises(type(fail)):
        runtime.start()
    assert log == ["start a", "start b", "stop b", "stop a"]  # c never started, never stopped
    worker = runtime.bus.worker_id
    alive = [t.name for t in threading.enumerate() if worker in t.name]
    assert not alive  # the bus's threads (outbox, WAL checkpoints) stopped
    runtime.stop()  # a second stop is harmless
    runtime.bus.store.close()


def _smt_config(tmp_path: Path, registry: Path) -> Config:
    config = tmp_path / "cimbus.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path}/r.db"\n[smt]\nregistry = "{registry.name}"\n'
    )
    return Config.load(config, env={})


def _nothing_runs(runtime: Runtime) -> None:
    worker = runtime.bus.worker_id
    assert not [t.name for t in threading.enumerate() if worker in t.name]
    runtime.bus.store.close()


def test_a_registry_gone_since_the_configuration_was_read_is_a_config_error(
    tmp_path: Path,
) -> None:
    """Config.check refuses a missing ``[smt] registry`` when the configuration is read; one
    removed before start-up is a ConfigError naming the configuration file and the registry,
    and what start() had started is stopped."""
    registry = tmp_path / "usage_points.csv"
    registry.write_text("esiid\n10443720001234567\n")
    cfg = _smt_config(tmp_path, registry)
    registry.unlink()
    runtime = Runtime(cfg)
    with pytest.raises(ConfigError) as info:
        runtime.start()
    message = str(info.value)
    assert message.startswith(f"{cfg.source}: [smt] registry {registry}"), message
    assert "does not exist" in message
    _nothing_runs(runtime)


def test_a_registry_that_cannot_be_read_at_start_up_is_a_config_error(
    tmp_path: Path, monkeypatch
) -> None:
    """An OSError opening the registry (permissions changed since the configuration was read)
    is a ConfigError too, not a traceback from deep in the loader."""
    from routing.services import SmtService

    registry = tmp_path / "usage_points.csv"
    registry.write_text("esiid\n10443720001234567\n")
    cfg = _smt_config(tmp_path, registry)

    def denied(self, path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(SmtService, "load_registry", denied)
    runtime = Runtime(cfg)
    with pytest.raises(ConfigError) as info:
        runtime.start()
    assert str(info.value) == (
        f"{cfg.source}: [smt] registry {registry} cannot be read: permission denied"
    )
    _nothing_runs(runtime)


def test_the_registry_is_loaded_at_start_up(tmp_path: Path) -> None:
    registry = tmp_path / "usage_points.csv"
    registry.write_text("esiid,ror\n10443720001234567,REP\n")
    runtime = Runtime(_smt_config(tmp_path, registry)).start()
    try:
        assert runtime.bus.store.usage_point("10443720001234567").ror == "REP"
    finally:
        runtime.stop()
        runtime.bus.store.close()
