"""The audit ledger's two ID indexes become one per exchange: ``ix_audit_thread`` on
``coalesce(correlation_id, message_id)`` and ``ix_audit_message_id_answered`` on
``message_id`` where ``correlation_id`` is set, instead of one on each column. They find the
same rows (``trail()`` is written for them), but a message without a CorrelationID and its
acknowledgement now share a key in one index: one random index page per message in a batch's
commit instead of two (bench/README.md, fourth round). Rows are kept; the indexes are rebuilt
from them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_audit_message_id", table_name="audit")
    op.drop_index("ix_audit_correlation_id", table_name="audit")
    op.create_index("ix_audit_thread", "audit", [sa.text("coalesce(correlation_id, message_id)")])
    op.create_index(
        "ix_audit_message_id_answered",
        "audit",
        ["message_id"],
        sqlite_where=sa.text("correlation_id IS NOT NULL"),
        postgresql_where=sa.text("correlation_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_message_id_answered", table_name="audit")
    op.drop_index("ix_audit_thread", table_name="audit")
    op.create_index("ix_audit_correlation_id", "audit", ["correlation_id"])
    op.create_index("ix_audit_message_id", "audit", ["message_id"])
