"""Readable reasons for RabbitMQ connection failures, and logging them without flooding
(BUS-5, REL-3).

pika's connection errors often have an empty ``str()`` (``AMQPConnectionError`` wraps a
workflow failure that wraps the socket error), so ``"%s" % exc`` logged nothing useful; and
each consumer thread and the publisher retried every 0.1-5 s, each logging every attempt.
"""

from __future__ import annotations

import logging
import time


def describe(exc: BaseException) -> str:
    """One line saying why: the innermost cause pika wrapped (``Connection refused``,
    ``ACCESS_REFUSED - Login was refused ...``, ``NOT_FOUND - no vhost ...``)."""
    for _ in range(6):
        inner = getattr(exc, "exceptions", None)  # AMQPConnectionWorkflowFailed
        if inner:
            exc = inner[-1]
            continue
        wrapped = getattr(exc, "exception", None)  # AMQPConnectorPhaseErrorBase
        if isinstance(wrapped, BaseException):
            exc = wrapped
            continue
        if exc.args and isinstance(exc.args[0], BaseException):
            exc = exc.args[0]
            continue
        break
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).strip() or type(exc).__name__


class RetryLog:
    """For one connection that keeps retrying: a warning when it starts failing or the reason
    changes, then one every ``every`` seconds (with how long and how many attempts), and an
    info line once it is connected again."""

    def __init__(self, log: logging.Logger, name: str, every: float = 60.0) -> None:
        self.log, self.name, self.every = log, name, every
        self._since: float | None = None
        self._last = 0.0
        self._reason: str | None = None
        self._attempts = 0

    def failed(self, reason: str, what: str = "reconnecting") -> None:
        now = time.monotonic()
        self._attempts += 1
        if self._since is None:
            self._since = now
        if reason != self._reason or now - self._last >= self.every:
            extra = (
                f"; failing for {now - self._since:.0f} s, {self._attempts} attempts"
                if self._attempts > 1
                else ""
            )
            self.log.warning("%s: %s (%s%s)", self.name, reason, what, extra)
            self._last, self._reason = now, reason

    @property
    def failing(self) -> bool:
        return self._since is not None

    def last_reason(self) -> str | None:
        return self._reason

    def connected(self) -> None:
        if self._since is not None:
            self.log.info(
                "%s: connected to RabbitMQ again after %.0f s",
                self.name,
                time.monotonic() - self._since,
            )
        self._since, self._reason, self._attempts = None, None, 0
