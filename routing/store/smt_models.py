"""Tables of the SMT on-demand-read service (ODR-2, ODR-4..ODR-7; routing/services/smt).

=======================  ========================================================  ===========
table                    one row per                                               serves
=======================  ========================================================  ===========
``smt_usage_points``     ESIID known to SMT: meter, ROR of record, capabilities    ODR-4, ODR-6
``smt_vee_postings``     ESIID: where its last VEE-validated data ends             ODR-2, ODR-7
``smt_requests``         on-demand read or ping slot taken for an ESIID and day    ODR-5
=======================  ========================================================  ===========

Created by alembic revision 0003. They live on the store's one ``Base`` so that the test
comparing the models with the migrations covers them too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ._types import BigId
from .models import Base


class SmtUsagePointRow(Base):
    """ODR-4 / ODR-6: the registry (loaded from ``[smt] registry`` or ``provision``)."""

    __tablename__ = "smt_usage_points"

    esiid: Mapped[str] = mapped_column(String(64), primary_key=True)
    meter_number: Mapped[str | None]
    ror: Mapped[str | None]  # the ROR organisation id (Header/User/Organization)
    ams: Mapped[bool] = mapped_column(Boolean())
    provisioned: Mapped[bool] = mapped_column(Boolean())
    interval_minutes: Mapped[int | None] = mapped_column(Integer())
    daily_read: Mapped[bool] = mapped_column(Boolean())
    updated_at: Mapped[datetime]


class SmtVeePostingRow(Base):
    """ODR-7: the end of the last VEE-validated interval data posted for an ESIID (never moves
    backwards). Kept apart from the registry so reloading the registry never touches it."""

    __tablename__ = "smt_vee_postings"

    esiid: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_vee_end: Mapped[datetime]
    message_id: Mapped[str | None]
    updated_at: Mapped[datetime]


class SmtRequestRow(Base):
    """ODR-5: one row per throttled request that took a slot. ``status``: reserved (the
    head-end is being asked; counts until ``expires_at``), succeeded (counts for the whole
    day), released (failed: does not count)."""

    __tablename__ = "smt_requests"
    __table_args__ = (Index("ix_smt_requests_esiid_kind_day", "esiid", "kind", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    esiid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # read | ping
    day: Mapped[str] = mapped_column(String(10))  # local date, YYYY-MM-DD ([smt] timezone)
    status: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str | None]
    reserved_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]
