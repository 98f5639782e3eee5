"""Retention (BUS-9, REL-1, operations): deleting what is old enough to go, so the store does not
grow for ever under a steady message flow.

:meth:`RetentionMixin.prune` deletes, by age,

* audit rows whose ``received_at`` is older than ``audit_days``;
* outbox entries that are finished (``delivered``, or ``dead``: their dead letter keeps the
  message) and were created more than ``outbox_days`` ago, with their payloads (in the same
  transaction); pending and claimed entries are never touched;
* processed MessageIDs (with their stored replies) older than ``dedupe_days``: a message sent
  again after that is processed again, so this is the de-duplication window (REL-1);
* closed correlations created more than ``dedupe_days`` ago (open ones never);
* replayed dead letters older than ``outbox_days`` (unreplayed ones wait for an operator).

``0`` keeps a table for ever (the default for all of them: deleting audit data is the
operator's decision). Rows go in chunks, each chunk its own short transaction, so a prune of
millions of rows never holds SQLite's write lock for long, and the hot path keeps running in
between. The scan walks the rowid (primary key) from the oldest row, which is insertion order
and so (nearly) time order, and stops at the first chunk that reaches rows young enough to
stay: a prune with nothing to delete reads one chunk, however large the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from ._base import StoreBase
from ._types import utcnow
from .models import (
    AuditRow,
    CorrelationRow,
    DeadLetterRow,
    OutboxPayloadRow,
    OutboxRow,
    ProcessedMessage,
)

CHUNK = 2000
FINISHED_OUTBOX = ("delivered", "dead")


@dataclass(frozen=True)
class Retention:
    """Days each kind of row is kept (0 = for ever). ``[store] audit_days``, ``outbox_days``,
    ``dedupe_days``."""

    audit_days: float = 0
    outbox_days: float = 0
    dedupe_days: float = 0

    @property
    def active(self) -> bool:
        return bool(self.audit_days or self.outbox_days or self.dedupe_days)


class RetentionMixin(StoreBase):
    def prune(
        self,
        retention: Retention,
        *,
        now: datetime | None = None,
        chunk: int = CHUNK,
        dry_run: bool = False,
    ) -> dict[str, int]:
        """Delete what ``retention`` says may go (see the module docstring); returns how many
        rows per table (with ``dry_run``: how many would go, nothing deleted)."""
        now = now or utcnow()
        counts = {"audit": 0, "outbox": 0, "processed_messages": 0, "correlations": 0}
        counts["dead_letters"] = 0
        if retention.audit_days:
            cutoff = now - timedelta(days=retention.audit_days)
            counts["audit"] = self._prune_by_id(AuditRow, "received_at", cutoff, chunk, dry_run)
        if retention.outbox_days:
            cutoff = now - timedelta(days=retention.outbox_days)
            counts["outbox"] = self._prune_by_id(
                OutboxRow,
                "created_at",
                cutoff,
                chunk,
                dry_run,
                statuses=FINISHED_OUTBOX,
                same_ids=OutboxPayloadRow,
            )
            counts["dead_letters"] = self._prune_where(
                DeadLetterRow,
                DeadLetterRow.id,
                (DeadLetterRow.replayed_at.is_not(None), DeadLetterRow.replayed_at < cutoff),
                chunk,
                dry_run,
            )
        if retention.dedupe_days:
            cutoff = now - timedelta(days=retention.dedupe_days)
            counts["processed_messages"] = self._prune_by_id(
                ProcessedMessage, "received_at", cutoff, chunk, dry_run
            )
            counts["correlations"] = self._prune_where(
                CorrelationRow,
                CorrelationRow.correlation_id,
                (CorrelationRow.status != "open", CorrelationRow.created_at < cutoff),
                chunk,
                dry_run,
            )
        return counts

    def _prune_by_id(
        self,
        model: Any,
        time_col: str,
        cutoff: datetime,
        chunk: int,
        dry_run: bool,
        *,
        statuses: tuple[str, ...] | None = None,
        same_ids: Any = None,
    ) -> int:
        """Walk ``model`` in id order from the oldest row, ``chunk`` rows at a time; delete the
        rows whose ``time_col`` is before ``cutoff`` (and whose status is one of ``statuses``),
        and the rows of ``same_ids`` with their ids in the same transaction; stop at the first
        chunk that reaches a row at or after ``cutoff`` (the rest is younger)."""
        table = model.__table__
        columns = [table.c.id, table.c[time_col]]
        if statuses is not None:
            columns.append(table.c.status)
        after = 0
        total = 0
        while True:
            with self._session(read=True) as s:
                rows = s.execute(
                    select(*columns).where(table.c.id > after).order_by(table.c.id).limit(chunk)
                ).all()
            if not rows:
                return total
            after = rows[-1][0]
            doomed = [
                r[0] for r in rows if r[1] < cutoff and (statuses is None or r[2] in statuses)
            ]
            if doomed and not dry_run:
                with self._session() as s:
                    s.execute(delete(table).where(table.c.id.in_(doomed)))
                    if same_ids is not None:
                        also = same_ids.__table__
                        s.execute(delete(also).where(also.c.id.in_(doomed)))
            total += len(doomed)
            if len(rows) < chunk or any(r[1] >= cutoff for r in rows):
                return total

    def _prune_where(
        self, model: Any, key: Any, conditions: tuple[Any, ...], chunk: int, dry_run: bool
    ) -> int:
        """Delete the rows matching ``conditions`` (a small table, or an indexed condition),
        ``chunk`` at a time; with ``dry_run`` count them."""
        if dry_run:
            with self._session(read=True) as s:
                return s.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
        total = 0
        while True:
            with self._session() as s:
                keys = s.scalars(select(key).where(*conditions).limit(chunk)).all()
                if keys:
                    s.execute(delete(model.__table__).where(key.in_(keys)))
            total += len(keys)
            if len(keys) < chunk:
                return total
