"""SMT on-demand read (ODR-2, ODR-4..ODR-7): the usage-point registry, the last VEE posting
per ESIID and the per-ESIID per-day throttle slots. New tables only: an existing database
keeps every row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-05-12

Self-contained on purpose (no import of the models): a revision describes the schema as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "smt_usage_points",
        sa.Column("esiid", sa.String(64), primary_key=True),
        sa.Column("meter_number", sa.String()),
        sa.Column("ror", sa.String()),
        sa.Column("ams", sa.Boolean(), nullable=False),
        sa.Column("provisioned", sa.Boolean(), nullable=False),
        sa.Column("interval_minutes", sa.Integer()),
        sa.Column("daily_read", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "smt_vee_postings",
        sa.Column("esiid", sa.String(64), primary_key=True),
        sa.Column("last_vee_end", TS, nullable=False),
        sa.Column("message_id", sa.String()),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "smt_requests",
        sa.Column("id", ID, primary_key=True),
        sa.Column("esiid", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String()),
        sa.Column("reserved_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("settled_at", TS),
    )
    op.create_index("ix_smt_requests_esiid_kind_day", "smt_requests", ["esiid", "kind", "day"])


def downgrade() -> None:
    op.drop_index("ix_smt_requests_esiid_kind_day", table_name="smt_requests")
    op.drop_table("smt_requests")
    op.drop_table("smt_vee_postings")
    op.drop_table("smt_usage_points")
