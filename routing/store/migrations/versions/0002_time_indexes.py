"""Indexes for the time-ordered queries: audit by received_at (``audit(since=...)``, trail
order), open correlations by deadline (timeout sweep), dead letters not yet replayed.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_received_at", "audit", ["received_at"])
    op.create_index("ix_correlations_status_deadline", "correlations", ["status", "deadline"])
    op.create_index("ix_dead_letters_replayed_at", "dead_letters", ["replayed_at"])


def downgrade() -> None:
    op.drop_index("ix_dead_letters_replayed_at", table_name="dead_letters")
    op.drop_index("ix_correlations_status_deadline", table_name="correlations")
    op.drop_index("ix_audit_received_at", table_name="audit")
