"""The tables (SQLAlchemy 2 typed ORM). The schema itself is owned by the alembic revisions in
``migrations/versions``; these classes must describe the same thing (a test compares them).

=====================  ==========================================================  =========
table                  one row per                                                 serves
=====================  ==========================================================  =========
``audit``              message in or out of the bus                                BUS-9
``processed_messages`` MessageID (+ Source) seen, with the reply sent for it       REL-1
``outbox``             delivery still to do / done / given up                      REL-1
``outbox_payloads``    the bytes of an outbox entry (same id)                      REL-1
``correlations``       exchange waiting for (or closed by) its reply               BUS-7
``dead_letters``       message that could not be delivered, with the reason        REL-2
=====================  ==========================================================  =========
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ._types import BigId, UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        str: String(),
        bytes: LargeBinary(),
    }


class AuditRow(Base):
    """BUS-9: the ledger; ``trail()`` follows an exchange through message_id/correlation_id.

    Two indexes find a row by either ID (revision 0005): ``ix_audit_thread`` on
    ``coalesce(correlation_id, message_id)`` (the ID of the exchange a row belongs to: its
    CorrelationID, or its own MessageID when it has none) and ``ix_audit_message_id_answered``
    on ``message_id`` for the rows that have a CorrelationID. A message without a
    CorrelationID and its acknowledgement (CorrelationID = that MessageID) then share one key in
    one index (one page written, not two on random pages of two indexes), and the
    acknowledgement's own MessageID (time-ordered, cimbus made it) is appended to the other."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_received_at", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))
    transport: Mapped[str]
    message_id: Mapped[str | None]
    correlation_id: Mapped[str | None]
    verb: Mapped[str | None]
    noun: Mapped[str | None]
    source: Mapped[str | None]
    target: Mapped[str | None]
    user: Mapped[str | None] = mapped_column("user_id", String())  # "user" is reserved in SQL
    organization: Mapped[str | None]
    result: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_reason: Mapped[str | None] = mapped_column(Text())
    received_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    size: Mapped[int | None] = mapped_column(Integer())
    payload: Mapped[bytes | None]
    payload_truncated: Mapped[bool] = mapped_column(Boolean(), default=False)


#: the exchange a row belongs to (see AuditRow); trail() queries use this very expression
AUDIT_THREAD = func.coalesce(AuditRow.correlation_id, AuditRow.message_id)
Index("ix_audit_thread", AUDIT_THREAD)
Index(
    "ix_audit_message_id_answered",
    AuditRow.message_id,
    sqlite_where=AuditRow.correlation_id.is_not(None),
    postgresql_where=AuditRow.correlation_id.is_not(None),
)


class ProcessedMessage(Base):
    """REL-1: one row per (MessageID, Source); the unique constraint makes the claim atomic.
    ``source`` is "" rather than NULL, since NULLs never collide in a unique constraint."""

    __tablename__ = "processed_messages"
    __table_args__ = (UniqueConstraint("message_id", "source", name="uq_processed_message"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[str]
    source: Mapped[str] = mapped_column(String(), default="")
    received_at: Mapped[datetime]
    reply: Mapped[bytes | None]
    replied_at: Mapped[datetime | None]


class OutboxRow(Base):
    """REL-1: transactional outbox. Workers claim due rows (status + next_attempt_at, or an
    expired lease) and report delivered / failed / dead.

    The message itself is in :class:`OutboxPayloadRow` under the same id (revision 0006): an
    entry's row is rewritten when it is claimed, delivered or retried, and with a 2 KB payload
    inside, marking 500 confirmed entries delivered rewrote ~250 table pages (a third of the
    WAL an AMQP-routed message cost); the payload is written once and only read."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_status_lease_until", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    target: Mapped[str]
    transport: Mapped[str]
    address: Mapped[str] = mapped_column(Text())
    message_id: Mapped[str | None]
    correlation_id: Mapped[str | None]
    verb: Mapped[str | None]
    noun: Mapped[str | None]
    headers: Mapped[dict[str, str]] = mapped_column(JSON(), default=dict)
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    max_attempts: Mapped[int] = mapped_column(Integer(), default=20)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text())
    claimed_by: Mapped[str | None]
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class OutboxPayloadRow(Base):
    """REL-1: the bytes an outbox entry delivers; ``id`` is the entry's. Written with the
    entry, read when it is claimed, deleted with it (retention)."""

    __tablename__ = "outbox_payloads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    payload: Mapped[bytes]


class CorrelationRow(Base):
    """BUS-7: where the reply to a request must go, and what became of it."""

    __tablename__ = "correlations"
    __table_args__ = (Index("ix_correlations_status_deadline", "status", "deadline"),)

    correlation_id: Mapped[str] = mapped_column(String(), primary_key=True)
    request_message_id: Mapped[str]
    requester: Mapped[str | None]
    reply_address: Mapped[str | None] = mapped_column(Text())
    reply_transport: Mapped[str | None]
    mode: Mapped[str] = mapped_column(String(8))
    verb: Mapped[str | None]
    noun: Mapped[str | None]
    deadline: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")
    reply: Mapped[bytes | None]
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class DeadLetterRow(Base):
    """REL-2: undeliverable messages with the reason; replayable."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_message_id", "message_id"),
        Index("ix_dead_letters_replayed_at", "replayed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[str | None]
    correlation_id: Mapped[str | None]
    verb: Mapped[str | None]
    noun: Mapped[str | None]
    source: Mapped[str | None]
    target: Mapped[str | None]
    transport: Mapped[str | None]
    address: Mapped[str | None] = mapped_column(Text())
    reason: Mapped[str] = mapped_column(Text())
    payload: Mapped[bytes]
    headers: Mapped[dict[str, str]] = mapped_column(JSON(), default=dict)
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    outbox_id: Mapped[int | None] = mapped_column(BigInteger())
    created_at: Mapped[datetime]
    replayed_at: Mapped[datetime | None]
