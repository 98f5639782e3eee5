"""The outbox's payloads move to a table of their own, ``outbox_payloads`` (same id as the
entry). An outbox row is rewritten each time its entry is claimed, delivered or retried; with
the 2 KB message inside, marking a confirmed batch of 500 entries delivered rewrote ~250 table
pages, a third of the WAL an AMQP-routed message cost on SQLite and the longest hold of the
writer lock (bench/README.md, seventh round). The payload is now written once and only read.

Every payload is copied, then the column is dropped (on SQLite the outbox table is rebuilt:
for a large outbox the upgrade takes a while, and needs room for a second copy of it).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox_payloads",
        sa.Column("id", ID, primary_key=True, autoincrement=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
    )
    op.execute("INSERT INTO outbox_payloads (id, payload) SELECT id, payload FROM outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("payload")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("payload", sa.LargeBinary()))
    op.execute(
        "UPDATE outbox SET payload = "
        "(SELECT p.payload FROM outbox_payloads p WHERE p.id = outbox.id)"
    )
    # revision 0001 made the column NOT NULL: an entry whose payload went missing keeps none
    empty = "''::bytea" if op.get_context().dialect.name == "postgresql" else "X''"
    op.execute(f"UPDATE outbox SET payload = {empty} WHERE payload IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("payload", existing_type=sa.LargeBinary(), nullable=False)
    op.drop_table("outbox_payloads")
