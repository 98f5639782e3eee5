"""The SMT on-demand-read state (ODR-2, ODR-4..ODR-7): usage-point registry, last VEE posting
per ESIID, and the per-ESIID per-day throttle slots.

The throttle (ODR-5) must hold across several cimbus workers sharing the database, so the
check and the increment are one step: :meth:`SmtMixin.odr_reserve` counts the slots already
taken for (ESIID, kind, day) and takes one, under a lock that serialises exactly those
callers (a transaction-scoped advisory lock on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` write
lock). The caller asks the head-end only after the slot is committed, then settles it:
``succeeded`` (counts for the day) or ``released`` (a failed read never counts). A worker that
dies in between leaves a ``reserved`` slot that stops counting at ``expires_at``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, or_, select, text, update
from sqlalchemy.orm import Session

from ._base import StoreBase
from ._types import as_utc, utcnow
from .smt_models import SmtRequestRow, SmtUsagePointRow, SmtVeePostingRow

ODR_KINDS = ("read", "ping")
SLOT_STATUSES = ("reserved", "succeeded", "released")


@dataclass(frozen=True, kw_only=True, slots=True)
class UsagePoint:
    """One ESIID known to SMT (ODR-4, ODR-6).

    ``ror``: the organisation id of the Rep of Record (compared with Header/User/Organization);
    ``ams``: an AMS (smart) meter; ``provisioned``: installed and provisioned by the TDSP;
    ``interval_minutes``: the interval data the meter records (ODR needs 15);
    ``daily_read``: the meter provides a daily register read.
    """

    esiid: str
    meter_number: str | None = None
    ror: str | None = None
    ams: bool = True
    provisioned: bool = True
    interval_minutes: int | None = 15
    daily_read: bool = True


def _lock_key(*parts: str) -> int:
    """A signed 64-bit key for ``pg_advisory_xact_lock`` (stable across processes)."""
    digest = hashlib.blake2b("|".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class SmtMixin(StoreBase):
    # ------------------------------------------------------------------ registry (ODR-4, ODR-6)
    def upsert_usage_points(self, points: Iterable[UsagePoint]) -> int:
        """Insert or replace usage points by ESIID (the VEE state is not touched); returns how
        many were written."""
        rows = [
            {
                "esiid": p.esiid,
                "meter_number": p.meter_number,
                "ror": p.ror,
                "ams": p.ams,
                "provisioned": p.provisioned,
                "interval_minutes": p.interval_minutes,
                "daily_read": p.daily_read,
                "updated_at": utcnow(),
            }
            for p in points
        ]
        if not rows:
            return 0
        stmt = self._insert(SmtUsagePointRow)
        stmt = stmt.on_conflict_do_update(
            index_elements=["esiid"],
            set_={k: stmt.excluded[k] for k in rows[0] if k != "esiid"},
        )
        with self._session() as s:
            s.connection().execute(stmt, rows)
        return len(rows)

    def usage_point(self, esiid: str) -> UsagePoint | None:
        with self._session(read=True) as s:
            row = s.get(SmtUsagePointRow, esiid)
            return _usage_point(row) if row is not None else None

    def usage_points(self) -> list[UsagePoint]:
        """Every registered usage point, by ESIID."""
        with self._session(read=True) as s:
            rows = s.scalars(select(SmtUsagePointRow).order_by(SmtUsagePointRow.esiid))
            return [_usage_point(r) for r in rows]

    # ------------------------------------------------------------------ VEE postings (ODR-7)
    def record_vee_end(self, esiid: str, end: datetime, *, message_id: str | None = None) -> bool:
        """Move the end of the last VEE data of ``esiid`` to ``end``; never backwards (an
        older posting, e.g. a re-sent file, changes nothing). True when it moved."""
        stmt = self._insert(SmtVeePostingRow).values(
            esiid=esiid, last_vee_end=as_utc(end), message_id=message_id, updated_at=utcnow()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["esiid"],
            set_={
                "last_vee_end": stmt.excluded.last_vee_end,
                "message_id": stmt.excluded.message_id,
                "updated_at": stmt.excluded.updated_at,
            },
            where=SmtVeePostingRow.last_vee_end < stmt.excluded.last_vee_end,
        ).returning(SmtVeePostingRow.esiid)
        with self._session() as s:
            return s.connection().execute(stmt).first() is not None

    def last_vee_end(self, esiid: str) -> datetime | None:
        """Where the last VEE-validated data posted for ``esiid`` ends (None: nothing yet)."""
        with self._session(read=True) as s:
            return s.scalar(
                select(SmtVeePostingRow.last_vee_end).where(SmtVeePostingRow.esiid == esiid)
            )

    # ------------------------------------------------------------------ throttle (ODR-5)
    def odr_reserve(
        self,
        esiid: str,
        kind: str,
        day: str,
        *,
        limit: int,
        now: datetime,
        expires_at: datetime,
        message_id: str | None = None,
    ) -> int | None:
        """Take one slot of ``kind`` (read | ping) for ``esiid`` on local date ``day`` if fewer
        than ``limit`` are taken (0: unlimited). Returns the slot id, or None when the limit is
        reached. Race-free across threads and processes."""
        if kind not in ODR_KINDS:
            raise ValueError(f"throttle kind must be one of {', '.join(ODR_KINDS)}, not {kind!r}")
        with self._session() as s:
            if self._engine.dialect.name == "postgresql":
                s.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"),
                    {"key": _lock_key("smt", esiid, kind, day)},
                )
            if limit > 0 and self._odr_used(s, esiid, kind, day, now) >= limit:
                return None
            row = SmtRequestRow(
                esiid=esiid,
                kind=kind,
                day=day,
                status="reserved",
                message_id=message_id,
                reserved_at=as_utc(now),
                expires_at=as_utc(expires_at),
            )
            s.add(row)
            s.flush()
            return int(row.id)

    def odr_settle(self, slot_id: int, *, succeeded: bool, now: datetime | None = None) -> None:
        """Close a reserved slot: ``succeeded`` keeps it counted for the day, otherwise it is
        released (a failed or refused read never counts)."""
        stmt = (
            update(SmtRequestRow)
            .where(SmtRequestRow.id == bindparam("slot"), SmtRequestRow.status == "reserved")
            .values(status=bindparam("status"), settled_at=bindparam("now"))
        )
        params = {
            "slot": slot_id,
            "status": "succeeded" if succeeded else "released",
            "now": as_utc(now or utcnow()),
        }
        with self._session() as s:
            s.connection().execute(stmt, params)

    def odr_used(self, esiid: str, kind: str, day: str, *, now: datetime) -> int:
        """Slots of ``kind`` counted for ``esiid`` on ``day``: succeeded, or reserved and not
        expired at ``now``."""
        with self._session(read=True) as s:
            return self._odr_used(s, esiid, kind, day, now)

    @staticmethod
    def _odr_used(s: Session, esiid: str, kind: str, day: str, now: datetime) -> int:
        return int(
            s.scalar(
                select(func.count())
                .select_from(SmtRequestRow)
                .where(
                    SmtRequestRow.esiid == esiid,
                    SmtRequestRow.kind == kind,
                    SmtRequestRow.day == day,
                    or_(
                        SmtRequestRow.status == "succeeded",
                        and_(
                            SmtRequestRow.status == "reserved",
                            SmtRequestRow.expires_at > as_utc(now),
                        ),
                    ),
                )
            )
            or 0
        )


def _usage_point(r: SmtUsagePointRow) -> UsagePoint:
    return UsagePoint(
        esiid=r.esiid,
        meter_number=r.meter_number,
        ror=r.ror,
        ams=r.ams,
        provisioned=r.provisioned,
        interval_minutes=r.interval_minutes,
        daily_read=r.daily_read,
    )
