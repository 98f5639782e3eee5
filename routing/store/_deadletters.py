"""Dead letters (REL-2): messages that could not be delivered, with the reason, kept for an
operator to inspect and replay. Replaying (putting the message back into the outbox) is the
bus's job; the store records that it happened (``mark_replayed``) so the list shows what is
still to do."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ._base import StoreBase
from ._types import utcnow
from .models import DeadLetterRow
from .records import DeadLetter, DeadLetterRecord


class AlreadyReplayed(Exception):
    """The dead letter was put back into the outbox before (REL-2): replaying it again
    would queue its message a second time."""

    def __init__(self, dl_id: int, replayed_at: datetime) -> None:
        super().__init__(
            f"dead letter {dl_id} was replayed already, at {replayed_at:%Y-%m-%d %H:%M:%S}"
        )
        self.dl_id, self.replayed_at = dl_id, replayed_at


class DeadLetterMixin(StoreBase):
    def dead_letter(self, d: DeadLetter) -> int:
        """Write a dead letter directly (e.g. an inbound message that cannot be routed);
        outbox entries get theirs through ``to_dead_letter``. Returns its id."""
        row = DeadLetterRow(
            message_id=d.message_id,
            correlation_id=d.correlation_id,
            verb=d.verb,
            noun=d.noun,
            source=d.source,
            target=d.target,
            transport=d.transport,
            address=d.address,
            reason=d.reason,
            payload=bytes(d.payload),
            headers=dict(d.headers),
            attempts=d.attempts,
            outbox_id=d.outbox_id,
            created_at=utcnow(),
        )
        with self._session() as s:
            s.add(row)
            s.flush()
            return row.id

    def dead_letters(
        self, *, limit: int = 100, include_replayed: bool = False
    ) -> list[DeadLetterRecord]:
        """Dead letters, oldest first (a queue to work through); replayed ones only on request."""
        stmt = select(DeadLetterRow)
        if not include_replayed:
            stmt = stmt.where(DeadLetterRow.replayed_at.is_(None))
        stmt = stmt.order_by(DeadLetterRow.id).limit(limit)
        with self._session(read=True) as s:
            return [_dead_letter_record(r) for r in s.scalars(stmt)]

    def get_dead_letter(self, dl_id: int) -> DeadLetterRecord | None:
        with self._session(read=True) as s:
            row = s.get(DeadLetterRow, dl_id)
            return _dead_letter_record(row) if row is not None else None

    def take_for_replay(self, dl_id: int, *, again: bool = False) -> DeadLetterRecord:
        """Lock the dead letter and mark it replayed, in the caller's ``transaction()`` (the
        bus enqueues its message in the same one, so a replay happens once or not at all,
        also when two operators replay at the same moment). KeyError if unknown;
        :class:`AlreadyReplayed` if it was replayed before, unless ``again``."""
        with self._session() as s:
            row = s.get(DeadLetterRow, dl_id, with_for_update=True)
            if row is None:
                raise KeyError(dl_id)
            if row.replayed_at is not None and not again:
                raise AlreadyReplayed(dl_id, row.replayed_at)
            row.replayed_at = utcnow()
            s.flush()
            return _dead_letter_record(row)

    def mark_replayed(self, dl_id: int) -> None:
        """Record that the dead letter was put back into the outbox (KeyError if unknown)."""
        with self._session() as s:
            row = s.get(DeadLetterRow, dl_id, with_for_update=True)
            if row is None:
                raise KeyError(f"no dead letter {dl_id}")
            row.replayed_at = utcnow()


def _dead_letter_record(r: DeadLetterRow) -> DeadLetterRecord:
    return DeadLetterRecord(
        id=r.id,
        message_id=r.message_id,
        correlation_id=r.correlation_id,
        verb=r.verb,
        noun=r.noun,
        source=r.source,
        target=r.target,
        transport=r.transport,
        address=r.address,
        reason=r.reason,
        payload=r.payload,
        headers=dict(r.headers or {}),
        attempts=r.attempts,
        outbox_id=r.outbox_id,
        created_at=r.created_at,
        replayed_at=r.replayed_at,
    )
