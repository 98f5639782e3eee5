"""Drop ``ix_outbox_message_id``: no query reads the outbox by MessageID (workers claim by
status and time, dead letters and the audit ledger answer "where is message X"), and every
outbox entry paid for it with an insert on a random page of the index: on SQLite one more
4 KB WAL frame per message in a batch's commit (bench/README.md, fourth round). Rows are kept.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_outbox_message_id", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_message_id", "outbox", ["message_id"])
