"""Composition root: build the bus and the configured transports from a Config (BUS-10).

The embedded transport always runs (in-process systems such as the simulators attach to it);
AMQP and MQTT run when enabled; SOAP is served by ``cimbus serve``. Each cimbus process is one
worker; several workers share the store (PostgreSQL) and the durable broker queues.

Local services: with ``[smt] enabled`` (the default) the Smart Meter Texas on-demand-read
service (routing/services/smt, ODR-1..ODR-7) is registered as the local handler
``[smt] handler`` ("smt"); its ``[smt] registry`` file is loaded when the runtime starts (after
the store is migrated). ``clock`` gives the services "now" (a simulated clock in tests/demo).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from endpoints.embedded import EmbeddedBroker, EmbeddedTransport
from routing.bus import Bus
from routing.config import Config
from routing.errors import ConfigError
from routing.services import SmtService

log = logging.getLogger("cimbus")


@dataclass
class Runtime:
    config: Config
    clock: Callable[[], datetime] | None = None
    bus: Bus = field(init=False)
    broker: EmbeddedBroker = field(init=False)
    transports: list[Any] = field(default_factory=list, init=False)
    smt: SmtService | None = field(default=None, init=False)
    #: the transports start() has started (None: start() never ran; stop() stops them all)
    _started: list[Any] | None = field(default=None, init=False, repr=False)
    _running: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self.bus = Bus(self.config)
        if self.config.smt.enabled:
            self.smt = SmtService(self.bus, self.config.smt, clock=self.clock)
            self.bus.register_local(self.config.smt.handler, self.smt)
        self.broker = EmbeddedBroker()
        self.transports.append(
            EmbeddedTransport(self.bus, self.broker, consumers=self.config.bus.embedded_consumers)
        )
        if self.config.amqp.enabled:
            from endpoints.amqp import AmqpTransport

            self.transports.append(
                AmqpTransport(
                    self.bus,
                    self.config.amqp,
                    workers=self.config.amqp.workers,
                    batch=self.config.amqp.batch,
                )
            )
        if self.config.mqtt.enabled:
            from endpoints.mqtt import MqttTransport

            self.transports.append(
                MqttTransport(self.bus, self.config.mqtt, consumers=self.config.mqtt.consumers)
            )

    def start(self) -> Runtime:
        """Start the bus, load the SMT registry, start each transport. If any of it fails (or
        is interrupted: SIGTERM, Ctrl-C), what was started is stopped again before the error
        goes on, so no thread keeps the process alive and no outbox claim stays held."""
        self._started = []
        try:
            self.bus.start()
            self._load_registry()
            for t in self.transports:
                self._started.append(t)
                t.start()
        except BaseException:
            self.stop()
            raise
        self._running = True
        return self

    def _load_registry(self) -> None:
        """Upsert ``[smt] registry`` (when set and the service is enabled). Config.check made
        sure the file was there and readable when the configuration was read; a file gone or
        unreadable since, or one whose entries are wrong, is a ConfigError naming the
        configuration (never an OSError or UnicodeDecodeError from deep in the loader)."""
        registry = self.config.smt.registry_path(self.config.source)
        if self.smt is None or registry is None:
            return
        where = self.config.source
        try:
            self.smt.load_registry(registry)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        except OSError as exc:
            if exc.filename is None:  # not opening the file: something else's failure
                raise
            reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
            raise ConfigError(
                f"{where}: [smt] registry {registry} cannot be read: {reason}"
            ) from None
        except UnicodeDecodeError:
            raise ConfigError(f"{where}: [smt] registry {registry} is not UTF-8 text") from None

    def stop(self) -> None:
        """Stop the transports (last started first), then the bus (outbox thread, delivered
        marks, claims released). Safe after a partial start and when called twice."""
        started = self.transports if self._started is None else self._started
        for t in reversed(started):
            try:
                t.stop()
            except Exception:  # stopping must not hide the other transports' shutdown
                log.exception("stopping %s failed", getattr(t, "name", t))
        self._started = []
        self.bus.stop()
        if self._running:  # a start that failed says why itself, nothing more
            self._running = False
            log.info("cimbus stopped")

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def describe(self) -> list[str]:
        names = ", ".join(getattr(t, "name", type(t).__name__) for t in self.transports)
        return [
            f"config: {self.config.source}",
            f"store: {self.config.store.url}",
            f"transports: {names}" + (", soap" if self.config.soap.enabled else ""),
            f"routes: {len(self.config.routes.routes)} request routes, "
            f"{len(self.config.routes.subscriptions)} subscriptions, {len(self.config.routes.systems)} systems",
            "smt: "
            + (
                f"on-demand read served as local handler {self.config.smt.handler!r}, head-end "
                f"{self.config.smt.headend}"
                if self.smt is not None
                else "disabled"
            ),
        ]


def settle_heap() -> None:
    """Once a serving process has started (``cimbus serve``, each ``[soap] workers`` process):
    collect once, then move every object alive to the permanent generation (``gc.freeze()``),
    so that the cyclic garbage collector stops walking the ~120,000 objects of start-up (XSD
    schemas, SQLAlchemy's mappers and compiled statements, pika, FastAPI) in each full
    collection. Measured in the pipeline's batch thread: 10.3 -> 3.5 us of garbage collection
    per message (bench/README.md, sixth round). Not part of :meth:`Runtime.start`: an
    in-process cimbus (tests, the demo's simulators) must not keep what it later drops."""
    gc.collect()
    gc.freeze()


def config_from_mapping(data: dict[str, Any], *, source: str = "<mapping>") -> Config:
    """A checked :class:`~routing.config.Config` from TOML-shaped data, for code that builds
    an in-process cimbus without reaching into ``routing`` (the conformance harness, the
    demo): the composition root is the one place that knows how cimbus is assembled."""
    return Config.from_mapping(data, source=source)


def soap_worker_app() -> Any:
    """One uvicorn worker's SOAP app (``[soap] workers = N``; ``uvicorn --factory
    cimbus.runtime:soap_worker_app --workers N``): the worker process builds what ``cimbus
    serve`` builds in its one process, a :class:`Runtime` from ``$CIMBUS_CONFIG`` (the Bus, the
    local services such as the SMT on-demand read with its ``[smt] registry``, the embedded
    transport, AMQP / MQTT when enabled), started with the app and stopped on shutdown. The
    workers share the store and the durable broker queues; each worker's embedded broker is its
    own (in-process). BUS-4 (SOAP worker processes), BUS-10."""
    from endpoints.soap import create_app

    runtime = Runtime(Config.load())
    app = create_app(
        runtime.bus,
        runtime.config.soap,
        on_startup=[runtime.start, settle_heap],
        on_shutdown=[runtime.stop],
    )
    app.state.runtime = runtime
    return app
