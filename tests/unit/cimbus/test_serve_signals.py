"""`cimbus serve` stops cleanly on SIGTERM (docker stop, Kubernetes, systemd): HTTP drained,
transports and the outbox stopped (claims released), exit status 0 (BUS-10, REL-1). uvicorn
handles the signal while it serves, then raises it again; with the default SIGTERM handler
the process died there (status 143) and ``Runtime.stop`` never ran."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path: Path, extra: str = "") -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    config = tmp_path / "cimbus.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path}/cimbus.db"\n[soap]\nport = {port}\n'
        '[systems.MDMS]\ntransport = "embedded"\n' + extra
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIMBUS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cimbus.cli", "serve", "--config", str(config)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"cimbus serve exited early:\n{proc.stdout.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("cimbus serve did not answer /healthz within 60 s")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_shuts_down_cleanly_and_exits_0(tmp_path: Path, sig: signal.Signals) -> None:
    proc, _port = _serve(tmp_path)
    proc.send_signal(sig)
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, output
    assert "cimbus stopped" in output  # Runtime.stop ran: transports, outbox, store
    assert "Traceback" not in output


def test_rabbitmq_down_is_said_once_per_connection_and_sigterm_still_stops(
    tmp_path: Path,
) -> None:
    """[amqp] enabled, nothing listening on its port: cimbus serves SOAP meanwhile, each
    AMQP connection says once why it cannot connect (pika's own ERROR lines and tracebacks,
    ~60 per 10 s, are silenced), and SIGTERM stops it cleanly while it is reconnecting."""
    amqp = f'[amqp]\nenabled = true\nurl = "amqp://guest:guest@127.0.0.1:{_free_port()}/"\n'
    proc, port = _serve(tmp_path, amqp)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
        ready = json.loads(r.read())
    assert r.status == 200 and ready["transports"] == {"amqp": "reconnecting"}
    time.sleep(3)  # several reconnect rounds (backoff 0.1 s doubling to 5 s)
    proc.send_signal(signal.SIGTERM)
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 0, output
    assert "cimbus stopped" in output
    lines = output.splitlines()
    assert not [line for line in lines if " pika." in line], output
    refused = [
        line
        for line in lines
        if "cannot connect to RabbitMQ" in line or "Connection refused" in line
    ]
    assert refused and all("Connection refused" in line for line in refused), output
    names = [line.split(" cimbus.amqp: ", 1)[1].split(":", 1)[0] for line in refused]
    assert len(names) == len(set(names)), refused  # one line per connection, not per attempt
    assert "Traceback" not in output


@pytest.mark.parametrize(
    "argv, text",
    [
        (["--port", "PORT"], "Address already in use (another process listens there"),
        (["--host", ""], "the host is empty: give an address (0.0.0.0 listens"),
        (["--host", "no.such.host.invalid"], "unknown host 'no.such.host.invalid'"),
    ],
    ids=["port in use", "empty host", "unknown host"],
)
def test_serve_that_cannot_listen_says_why_in_one_line(tmp_path: Path, argv, text) -> None:
    config = tmp_path / "cimbus.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/cimbus.db"\n')
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIMBUS_")}
        done = subprocess.run(
            [sys.executable, "-m", "cimbus.cli", "serve", "--config", str(config)]
            + [port if a == "PORT" else a for a in argv]
            + ([] if "--port" in argv else ["--port", port]),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: cannot serve SOAP on "), done.stderr
    assert text in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "cimbus.db").exists()  # nothing started
