"""Running the SOAP app: under uvicorn in the foreground (:func:`run`), or in a background
thread (:class:`SoapTransport`, :class:`ServerThread`: tests, simulators, embedded use).

Worker processes: the SOAP handler is CPU-bound (safe parse, XSD validation, store writes), so
``[soap] workers = N`` runs N uvicorn worker processes. uvicorn then needs an import string of
an app factory, which the caller passes (``cimbus serve`` passes ``cimbus.runtime:soap_worker_app``,
which builds each worker's own Runtime: Bus, local services, transports) from ``$CIMBUS_CONFIG``
(:func:`run` sets it from the config file it was given). The workers share the store (use PostgreSQL for more than one: SQLite serialises
writers) and the durable broker queues; each runs its own outbox worker, and a sync request
waits for its reply in the worker that took it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from routing.config import Config, SoapConfig

from .app import create_app

log = logging.getLogger("cimbus.soap")


class ServerThread:
    """An ASGI app under uvicorn in a daemon thread, on ``host:port`` (port 0: a free port)."""

    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ServerThread:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"soap-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the SOAP server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None


class SoapTransport:
    """cimbus's side of SOAP with the common transport surface: ``start()`` serves the app
    (create_app) on ``config.host:config.port`` in a background thread, ``stop()`` ends it.
    The app registers the ``soap`` outbound on the bus."""

    name = "soap"

    def __init__(self, bus: Any, config: SoapConfig | Config | None = None) -> None:
        self.bus = bus
        self.config = config.soap if isinstance(config, Config) else (config or SoapConfig())
        self.app = create_app(bus, self.config)
        self._server: ServerThread | None = None

    @property
    def url(self) -> str:
        """The server root (``http://host:port``); services are under ``<url>/ws``."""
        if self._server is None:
            raise RuntimeError("the SOAP transport is not started")
        return self._server.url

    def start(self) -> SoapTransport:
        self._server = ServerThread(self.app, self.config.host, self.config.port).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def run(bus: Any, config: Config | SoapConfig, *, factory: str | None = None) -> None:
    """Serve SOAP in the foreground until interrupted. With ``workers > 1`` ``bus`` is not used:
    uvicorn imports ``factory`` ("module:function", called with no arguments) in every worker
    process, which builds its own bus from ``$CIMBUS_CONFIG`` (set here from ``config``'s file
    when it came from one)."""
    soap = config.soap if isinstance(config, Config) else config
    if soap.workers > 1:
        if not factory:
            raise ValueError(
                "[soap] workers > 1 needs an app factory import string (module:function)"
            )
        source = getattr(config, "source", "")
        if source and not source.startswith("<") and Path(source).is_file():
            os.environ.setdefault("CIMBUS_CONFIG", str(Path(source).resolve()))
        uvicorn.run(
            factory,
            factory=True,
            host=soap.host,
            port=soap.port,
            workers=soap.workers,
            access_log=False,
        )
        return
    if bus is None:
        raise ValueError("run() needs a bus when [soap] workers = 1")
    uvicorn.run(create_app(bus, soap), host=soap.host, port=soap.port, access_log=False)


__all__ = ["ServerThread", "SoapTransport", "run"]
