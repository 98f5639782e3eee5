"""The audit ledger (BUS-9): every message in and out, followed end to end by CorrelationID.

Payload policy (what of the bytes is kept; IDs, parties and timing always are):

* ``"all"``: every payload;
* ``"failed"`` (default): only payloads of messages that failed (result FAILED or PARTIAL, or
  carrying an error code), which is what an operator needs to diagnose;
* ``"none"``: no payloads.

A kept payload is cut to ``max_payload_bytes`` and flagged ``payload_truncated`` (a bound on
what one hostile or runaway message can cost the store, in the spirit of SEC-3's size limits).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select

from ._base import StoreBase
from ._types import as_utc
from .models import AUDIT_THREAD, AuditRow
from .records import FAILURE_RESULTS, AuditEntry, AuditRecord

PAYLOAD_POLICIES = ("all", "failed", "none")
_AUDIT_INSERT = AuditRow.__table__.insert()


def keeps_payload(policy: str, entry: AuditEntry) -> bool:
    if policy == "all":
        return True
    if policy == "none":
        return False
    return entry.result in FAILURE_RESULTS or entry.error_code is not None


class AuditMixin(StoreBase):
    payload_policy: str
    max_payload_bytes: int

    def record(self, entry: AuditEntry) -> int:
        """Append one audit row; returns its id (0 inside a ``batch()``: written at its end)."""
        values = self._audit_values(entry)
        pending = self._pending()
        if pending is not None:
            pending.audit.append(values)
            return 0
        # Core INSERT (not ORM add/flush): the ledger takes two rows per message on the hot path
        with self._session() as s:
            result = s.connection().execute(_AUDIT_INSERT, values)
            return int(result.inserted_primary_key[0])

    def _audit_values(self, entry: AuditEntry) -> dict[str, object]:
        if entry.direction not in ("in", "out"):
            raise ValueError(f"audit direction must be 'in' or 'out', not {entry.direction!r}")
        payload = entry.payload if keeps_payload(self.payload_policy, entry) else None
        truncated = payload is not None and len(payload) > self.max_payload_bytes
        if truncated:
            assert payload is not None
            payload = payload[: self.max_payload_bytes]
        size = entry.size
        if size is None and entry.payload is not None:
            size = len(entry.payload)
        return {
            "direction": entry.direction,
            "transport": entry.transport,
            "message_id": entry.message_id,
            "correlation_id": entry.correlation_id,
            "verb": entry.verb,
            "noun": entry.noun,
            "source": entry.source,
            "target": entry.target,
            "user_id": entry.user,  # column name ("user" is reserved in SQL)
            "organization": entry.organization,
            "result": entry.result,
            "error_code": entry.error_code,
            "error_reason": entry.error_reason,
            "received_at": as_utc(entry.received_at),
            "completed_at": as_utc(entry.completed_at) if entry.completed_at else None,
            "size": size,
            "payload": bytes(payload) if payload is not None else None,
            "payload_truncated": truncated,
        }

    def trail(self, correlation_id: str) -> list[AuditRecord]:
        """The whole exchange in time order: rows whose MessageID or CorrelationID is
        ``correlation_id``, plus the rows answering any of those (their CorrelationID is one of
        the first rows' MessageIDs: e.g. the acknowledgement of a forwarded async reply)."""
        with self._session(read=True) as s:
            # written so that each term matches one of the two indexes (see AuditRow):
            # "message_id = X or correlation_id = X" is the same set of rows
            answered = AuditRow.correlation_id.is_not(None)
            first = s.scalars(
                select(AuditRow).where(
                    or_(
                        correlation_id == AUDIT_THREAD,
                        and_(AuditRow.message_id == correlation_id, answered),
                    )
                )
            ).all()
            rows = {r.id: r for r in first}
            ids = {r.message_id for r in first if r.message_id} - {correlation_id}
            if ids:  # "correlation_id in ids"
                more = s.scalars(select(AuditRow).where(AUDIT_THREAD.in_(ids), answered))
                rows.update((r.id, r) for r in more)
            ordered = sorted(rows.values(), key=lambda r: (r.received_at, r.id))
            return [_audit_record(r) for r in ordered]

    def audit(
        self,
        *,
        limit: int = 100,
        verb: str | None = None,
        noun: str | None = None,
        source: str | None = None,
        result: str | None = None,
        since: datetime | None = None,
    ) -> list[AuditRecord]:
        """The latest audit rows, newest first, optionally filtered."""
        stmt = select(AuditRow)
        for column, value in (
            (AuditRow.verb, verb),
            (AuditRow.noun, noun),
            (AuditRow.source, source),
            (AuditRow.result, result),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if since is not None:
            stmt = stmt.where(AuditRow.received_at >= as_utc(since))
        stmt = stmt.order_by(AuditRow.received_at.desc(), AuditRow.id.desc()).limit(limit)
        with self._session(read=True) as s:
            return [_audit_record(r) for r in s.scalars(stmt)]


def _audit_record(r: AuditRow) -> AuditRecord:
    duration = None
    if r.completed_at is not None:
        duration = (r.completed_at - r.received_at).total_seconds() * 1000.0
    return AuditRecord(
        id=r.id,
        direction=r.direction,
        transport=r.transport,
        message_id=r.message_id,
        correlation_id=r.correlation_id,
        verb=r.verb,
        noun=r.noun,
        source=r.source,
        target=r.target,
        user=r.user,
        organization=r.organization,
        result=r.result,
        error_code=r.error_code,
        error_reason=r.error_reason,
        received_at=r.received_at,
        completed_at=r.completed_at,
        payload=r.payload,
        size=r.size,
        duration_ms=duration,
        payload_truncated=r.payload_truncated,
    )
