"""The correlation table for request/reply (BUS-7): which request a reply answers, where the
reply must go (ReplyAddress / reply_to for async exchanges), and what became of the exchange.

Status::

    open ──complete(replied | timed_out | failed)──► closed
      └────────── a reply after closing ───────────► late (the reply is kept, never lost)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ._base import StoreBase
from ._types import as_utc, utcnow
from .models import CorrelationRow
from .records import CORRELATION_STATUSES, Correlation, CorrelationRecord

_CLOSING = frozenset(CORRELATION_STATUSES) - {"open"}


class CorrelationMixin(StoreBase):
    def open_correlation(self, c: Correlation) -> None:
        """Remember an exchange waiting for its reply. Re-opening a known CorrelationID
        replaces it (the bus claims MessageIDs first, so this only happens on purpose)."""
        if c.mode not in ("sync", "async"):
            raise ValueError(f"correlation mode must be 'sync' or 'async', not {c.mode!r}")
        with self._session() as s:
            row = s.get(CorrelationRow, c.correlation_id, with_for_update=True)
            if row is None:
                row = CorrelationRow(correlation_id=c.correlation_id)
                s.add(row)
            row.request_message_id = c.request_message_id
            row.requester = c.requester
            row.reply_address = c.reply_address
            row.reply_transport = c.reply_transport
            row.mode = c.mode
            row.verb = c.verb
            row.noun = c.noun
            row.deadline = as_utc(c.deadline)
            row.status = "open"
            row.reply = None
            row.created_at = utcnow()
            row.closed_at = None

    def correlation(self, correlation_id: str) -> CorrelationRecord | None:
        with self._session(read=True) as s:
            row = s.get(CorrelationRow, correlation_id)
            return _correlation_record(row) if row is not None else None

    def complete_correlation(
        self, correlation_id: str, *, status: str, reply: bytes | None
    ) -> CorrelationRecord | None:
        """Close an open exchange with ``status`` (replied | timed_out | failed | late).

        Returns None for an unknown CorrelationID. An exchange that is already closed is not
        reopened or overwritten: a reply arriving then marks it ``late`` and is kept (in
        ``reply`` if the exchange had none, the usual case after a timeout; otherwise the
        first reply stays and the extra one is in the audit ledger); a closing without a reply
        (a timeout sweep racing the reply) changes nothing."""
        if status not in _CLOSING:
            raise ValueError(f"cannot complete a correlation with status {status!r}")
        with self._session() as s:
            row = s.get(CorrelationRow, correlation_id, with_for_update=True)
            if row is None:
                return None
            if row.status == "open":
                row.status = status
                row.reply = reply
                row.closed_at = utcnow()
            elif reply is not None:
                row.status = "late"
                if row.reply is None:
                    row.reply = reply
            s.flush()
            return _correlation_record(row)

    def expired_correlations(self, now: datetime | None = None) -> list[CorrelationRecord]:
        """Open exchanges past their deadline, earliest deadline first."""
        now = as_utc(now) if now is not None else utcnow()
        stmt = (
            select(CorrelationRow)
            .where(CorrelationRow.status == "open", CorrelationRow.deadline <= now)
            .order_by(CorrelationRow.deadline)
        )
        with self._session(read=True) as s:
            return [_correlation_record(r) for r in s.scalars(stmt)]


def _correlation_record(r: CorrelationRow) -> CorrelationRecord:
    return CorrelationRecord(
        correlation_id=r.correlation_id,
        request_message_id=r.request_message_id,
        requester=r.requester,
        reply_address=r.reply_address,
        reply_transport=r.reply_transport,
        mode=r.mode,
        deadline=r.deadline,
        verb=r.verb,
        noun=r.noun,
        status=r.status,
        reply=r.reply,
        created_at=r.created_at,
        closed_at=r.closed_at,
    )
