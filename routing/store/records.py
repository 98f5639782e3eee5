"""What goes into the store and what comes back: plain frozen dataclasses, no ORM objects.

The ``*Entry`` / ``*Item`` classes are what a caller writes; the ``*Record`` classes are what
the store returns: the same fields plus what the store adds (id, status, timestamps). Every
datetime is timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ._types import utcnow

#: Audit results: the IEC 61968-100 Reply/Result values plus the bus's own outcomes.
SUCCESS_RESULTS = frozenset({"OK", "ACCEPTED", "DUPLICATE"})
FAILURE_RESULTS = frozenset({"FAILED", "PARTIAL"})

OUTBOX_STATUSES = ("pending", "claimed", "delivered", "dead")
CORRELATION_STATUSES = ("open", "replied", "timed_out", "failed", "late")


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditEntry:
    """One message in or out of the bus (BUS-9).

    ``payload`` is kept or dropped per the store's payload policy and cut to its
    ``max_payload_bytes``; ``size`` is always the full size (computed from ``payload`` when
    not given).
    """

    direction: str  # "in" | "out"
    transport: str  # "soap" | "amqp" | "mqtt" | "embedded" | ...
    message_id: str | None = None
    correlation_id: str | None = None
    verb: str | None = None
    noun: str | None = None
    source: str | None = None
    target: str | None = None
    user: str | None = None  # Header/User/UserID
    organization: str | None = None  # Header/User/Organization
    result: str | None = None  # OK | PARTIAL | FAILED | ACCEPTED | DUPLICATE | None
    error_code: str | None = None
    error_reason: str | None = None
    received_at: datetime = field(default_factory=utcnow)
    completed_at: datetime | None = None
    payload: bytes | None = None
    size: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditRecord(AuditEntry):
    """A stored audit row. ``payload_truncated`` says the stored payload is only the first
    ``max_payload_bytes`` of ``size``; ``duration_ms`` is completed_at - received_at."""

    id: int
    duration_ms: float | None = None
    payload_truncated: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxItem:
    """A message to deliver to ``target`` at ``address`` over ``transport``, retried until the
    receiver acknowledges it (REL-1). ``next_attempt_at`` None means now."""

    target: str
    transport: str
    address: str
    payload: bytes
    message_id: str | None = None
    correlation_id: str | None = None
    verb: str | None = None
    noun: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    max_attempts: int = 20
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxRecord(OutboxItem):
    """A stored outbox entry. ``attempts`` counts finished delivery attempts; ``status`` is
    pending | claimed (a worker holds it until ``lease_until``) | delivered | dead."""

    id: int
    status: str
    attempts: int = 0
    last_error: str | None = None
    claimed_by: str | None = None
    lease_until: datetime | None = None
    created_at: datetime
    delivered_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Correlation:
    """An exchange waiting for its reply, matched by CorrelationID (BUS-7).

    ``verb`` / ``noun`` of the request are optional (they let a timeout reply name its noun).
    """

    correlation_id: str
    request_message_id: str
    requester: str | None
    reply_address: str | None
    reply_transport: str | None
    mode: str  # "sync" | "async"
    deadline: datetime
    verb: str | None = None
    noun: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CorrelationRecord(Correlation):
    """A stored correlation: status open | replied | timed_out | failed | late (a reply came
    after the exchange was closed; it is kept in ``reply`` when there was none)."""

    status: str
    reply: bytes | None = None
    created_at: datetime
    closed_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DeadLetter:
    """A message that could not be delivered, with the reason (REL-2)."""

    message_id: str | None
    source: str | None
    target: str | None
    transport: str | None
    address: str | None
    reason: str
    payload: bytes
    headers: dict[str, str] = field(default_factory=dict)
    attempts: int = 0
    correlation_id: str | None = None
    verb: str | None = None
    noun: str | None = None
    outbox_id: int | None = None  # the outbox entry it came from, if any


@dataclass(frozen=True, kw_only=True, slots=True)
class DeadLetterRecord(DeadLetter):
    """A stored dead letter; ``replayed_at`` is set once an operator replayed it."""

    id: int
    created_at: datetime
    replayed_at: datetime | None = None
