"""A throwaway Mosquitto for benchmarks and tests (bench/bench_mqtt_latency.py, the MQTT probe
tests): a configuration of the caller's in a folder of its own, on a port of its own, stopped
when the ``with`` block ends."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


def mosquitto_binary() -> str | None:
    """The mosquitto executable (Debian installs it in /usr/sbin, often not on PATH)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


@contextlib.contextmanager
def throwaway_mosquitto(
    run: Path, config: str, port: int, *, binary: str | None = None, wait: float = 10.0
) -> Iterator[str]:
    """Start Mosquitto with ``config`` (written to ``run/mosquitto.conf``; it must listen on
    127.0.0.1:``port``) and yield its URL. :class:`RuntimeError` with Mosquitto's own words
    (its stderr, the end of a ``mosquitto.log`` in ``run``) when it does not answer within
    ``wait`` seconds."""
    binary = binary or mosquitto_binary()
    if binary is None:
        raise RuntimeError("mosquitto is not installed")
    (run / "mosquitto.conf").write_text(config, encoding="utf-8")
    if os.geteuid() == 0:  # Mosquitto drops to its user: let it read its files
        with contextlib.suppress(KeyError, LookupError, OSError):
            for path in (run, *run.iterdir()):
                shutil.chown(path, "mosquitto")
    proc = subprocess.Popen(
        [binary, "-c", str(run / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + wait
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                log = run / "mosquitto.log"
                why = proc.stderr.read() if proc.poll() is not None and proc.stderr else b""
                why += log.read_bytes()[-500:] if log.exists() else b""
                raise RuntimeError(
                    f"the throwaway Mosquitto on port {port} did not start: "
                    f"{why.decode(errors='replace').strip()}"
                )
            time.sleep(0.05)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()
