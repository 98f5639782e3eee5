"""What the probe tests share (tests/conformance/test_amqp_probe.py, test_mqtt_probe.py,
test_bounded_run.py): the ``impostor`` fixture (a plain socket server playing a port that is no
broker), the autouse check that no probe thread is left behind, a port nothing listens on, the
one-line probe error, and ``cimbus conformance`` run through the CLI.

A test module takes the fixtures by name, as ``impostor = probe_support.impostor`` and
``no_thread_left_behind = probe_support.thread_check(...)``: through ``pytest_plugins`` the
autouse check would apply to every test of the session."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from click.testing import Result
from typer.testing import CliRunner

from cimbus.cli import app
from conformance.harness import HarnessError, probe

#: the name of the thread the probe runs its handshake in
PROBE_THREAD = "conformance probe"

runner = CliRunner()


class Impostor(Protocol):
    def __call__(self, answer: bytes | None, *, greet: bool = False, hold: bool = False) -> int:
        """Start a server answering ``answer``; its port."""
        ...


def thread_check(*prefixes: str) -> Any:
    """An autouse fixture for a test module: when a test ends, no thread named
    ``PROBE_THREAD`` is left, nor one whose name starts with one of ``prefixes``."""

    @pytest.fixture(autouse=True, name="no_thread_left_behind")
    def no_thread_left_behind() -> Iterator[None]:
        yield
        left = [
            t.name
            for t in threading.enumerate()
            if t.name == PROBE_THREAD or t.name.startswith(prefixes)
        ]
        assert not left, f"threads left behind by the probe: {left}"

    return no_thread_left_behind


@pytest.fixture
def impostor() -> Iterator[Impostor]:
    """``impostor(answer, greet=False, hold=False)``: a TCP server on a free port; returns its
    port. It sends ``answer`` when a client connected (``greet``) or once it received something
    (the protocol header), then closes the connection, or holds it open until the end of the
    test (``hold``). ``answer=None``: it never says anything and holds the connection;
    ``b""``: it closes at once."""
    servers: list[socket.socket] = []
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve(listener: socket.socket, answer: bytes | None, greet: bool, hold: bool) -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if answer is None:
                held.append(conn)
                continue
            if answer:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    if not greet:
                        conn.recv(1024)
                    conn.sendall(answer)
            if hold:
                held.append(conn)
            else:
                conn.close()

    def start(answer: bytes | None, *, greet: bool = False, hold: bool = False) -> int:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        servers.append(listener)
        threading.Thread(target=serve, args=(listener, answer, greet, hold), daemon=True).start()
        return listener.getsockname()[1]

    yield start
    stop.set()
    for s in servers + held:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on (a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: ``harness.probe_amqp`` or ``harness.probe_mqtt``
TransportProbe = Callable[[str, float], None]


def probe_error(probe_transport: TransportProbe, url: str, timeout: float) -> str:
    """The message of the ``HarnessError`` ``probe_transport(url, timeout)`` raises: one line."""
    with pytest.raises(HarnessError) as caught:
        probe_transport(url, timeout)
    message = str(caught.value)
    assert "\n" not in message
    return message


def probe_passes(probe_transport: TransportProbe, transport: str, url: str) -> None:
    """``url`` passes ``probe_transport`` and ``harness.probe(transport, <transport>_url=url)``,
    both within 5 s."""
    started = time.monotonic()
    probe_transport(url, 5.0)
    probe(transport, **{f"{transport}_url": url}, timeout=5.0)
    assert time.monotonic() - started < 5


def run_conformance(tmp_path: Path, *options: str) -> tuple[Result, Path, float]:
    """``cimbus conformance --suite ODR <options> --junit <tmp_path>/j.xml``: its result, the
    JUnit path and the seconds it took."""
    junit = tmp_path / "j.xml"
    started = time.monotonic()
    result = runner.invoke(app, ["conformance", "--suite", "ODR", *options, "--junit", str(junit)])
    return result, junit, time.monotonic() - started
