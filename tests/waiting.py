"""Waiting in tests for something that happens in other threads or processes."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    cond: Callable[[], object], what: str, timeout: float = 20.0, *, interval: float = 0.02
) -> None:
    """Return as soon as ``cond()`` is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
