"""The common client surface of every transport (for simulators, tests and scripts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

#: A system's handler: the message cimbus routed to it -> the reply to send back (or None).
Handler = Callable[[bytes], bytes | None]


class ReplyTimeout(TimeoutError):
    """No reply arrived in time."""


class BusClient(Protocol):
    """How a counterpart system talks to cimbus, whatever the transport."""

    system: str

    def request(self, body: bytes, timeout: float = 30.0) -> bytes:
        """Send a message to cimbus and wait for its answer (reply, acknowledgement or FAILED)."""
        ...

    def send(self, body: bytes) -> None:
        """Send without waiting for cimbus's answer."""
        ...

    def serve(self, handler: Handler) -> None:
        """Answer what cimbus routes to this system (requests, events, async replies)."""
        ...

    def close(self) -> None: ...
