"""Initial schema: audit ledger, processed MessageIDs, outbox, correlations, dead letters.

Revision ID: 0001
Revises:
Create Date: 2025-11-23

Self-contained on purpose (no import of the models): a revision describes the schema as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", ID, primary_key=True),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("transport", sa.String(), nullable=False),
        sa.Column("message_id", sa.String()),
        sa.Column("correlation_id", sa.String()),
        sa.Column("verb", sa.String()),
        sa.Column("noun", sa.String()),
        sa.Column("source", sa.String()),
        sa.Column("target", sa.String()),
        sa.Column("user_id", sa.String()),
        sa.Column("organization", sa.String()),
        sa.Column("result", sa.String(16)),
        sa.Column("error_code", sa.String(16)),
        sa.Column("error_reason", sa.Text()),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("completed_at", TS),
        sa.Column("size", sa.Integer()),
        sa.Column("payload", sa.LargeBinary()),
        sa.Column("payload_truncated", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_audit_message_id", "audit", ["message_id"])
    op.create_index("ix_audit_correlation_id", "audit", ["correlation_id"])

    op.create_table(
        "processed_messages",
        sa.Column("id", ID, primary_key=True),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("reply", sa.LargeBinary()),
        sa.Column("replied_at", TS),
        sa.UniqueConstraint("message_id", "source", name="uq_processed_message"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", ID, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("transport", sa.String(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String()),
        sa.Column("correlation_id", sa.String()),
        sa.Column("verb", sa.String()),
        sa.Column("noun", sa.String()),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("claimed_by", sa.String()),
        sa.Column("lease_until", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_status_lease_until", "outbox", ["status", "lease_until"])
    op.create_index("ix_outbox_message_id", "outbox", ["message_id"])

    op.create_table(
        "correlations",
        sa.Column("correlation_id", sa.String(), primary_key=True),
        sa.Column("request_message_id", sa.String(), nullable=False),
        sa.Column("requester", sa.String()),
        sa.Column("reply_address", sa.Text()),
        sa.Column("reply_transport", sa.String()),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("verb", sa.String()),
        sa.Column("noun", sa.String()),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reply", sa.LargeBinary()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("closed_at", TS),
    )

    op.create_table(
        "dead_letters",
        sa.Column("id", ID, primary_key=True),
        sa.Column("message_id", sa.String()),
        sa.Column("correlation_id", sa.String()),
        sa.Column("verb", sa.String()),
        sa.Column("noun", sa.String()),
        sa.Column("source", sa.String()),
        sa.Column("target", sa.String()),
        sa.Column("transport", sa.String()),
        sa.Column("address", sa.Text()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.BigInteger()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("replayed_at", TS),
    )
    op.create_index("ix_dead_letters_message_id", "dead_letters", ["message_id"])


def downgrade() -> None:
    for table in ("dead_letters", "correlations", "outbox", "processed_messages", "audit"):
        op.drop_table(table)
