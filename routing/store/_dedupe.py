"""De-duplication by MessageID (REL-1): a message is processed once, a retry gets the reply
that was sent the first time.

The claim is an INSERT into ``processed_messages`` guarded by a unique constraint on
(message_id, source), with ``ON CONFLICT DO NOTHING``: atomic across threads and processes,
and it never aborts the surrounding transaction (so it can sit in one ``transaction()`` with
the outbox entries it guards). On PostgreSQL a second claimer waits for the first claimer's
transaction: if that commits the second gets False, if it rolls back the second wins.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from ._base import StoreBase
from ._types import utcnow
from .models import ProcessedMessage


def _key(source: str | None) -> str:
    return source or ""  # NULLs never collide in a unique constraint


class DedupeMixin(StoreBase):
    def _dedupe_statements(self) -> tuple[Any, Any]:
        """The claim and remember statements, built once per store (statement construction
        costs more than executing them on the hot path). The claim returns the key it
        inserted (``claim_many`` runs it for many keys at once)."""
        cached = getattr(self, "_dedupe_stmts", None)
        if cached is None:
            claim = (
                self._insert(ProcessedMessage)
                .values(
                    message_id=bindparam("mid"),
                    source=bindparam("src"),
                    received_at=bindparam("now"),
                )
                .on_conflict_do_nothing(index_elements=["message_id", "source"])
                .returning(ProcessedMessage.message_id, ProcessedMessage.source)
            )
            remember = self._insert(ProcessedMessage).values(
                message_id=bindparam("mid"),
                source=bindparam("src"),
                received_at=bindparam("now"),
                reply=bindparam("reply"),
                replied_at=bindparam("now"),
            )
            remember = remember.on_conflict_do_update(
                index_elements=["message_id", "source"],
                set_={"reply": remember.excluded.reply, "replied_at": remember.excluded.replied_at},
            )
            cached = self._dedupe_stmts = (claim, remember)
        return cached

    def claim_message_id(self, message_id: str, source: str | None) -> bool:
        """True the first time (MessageID, Source) is seen, False for a duplicate."""
        pending = self._pending()
        if pending is not None:
            key = (message_id, _key(source))
            if key in pending.claimed:
                pending.claimed.discard(key)  # won by claim_many: once
                return True
            if key in pending.deferred:  # claimed in this batch, row written at its end
                return False
        with self._session() as s:  # a row comes back only when this call inserted it
            conn = s.connection()
            if self._engine.dialect.name == "sqlite":  # plain SQL, as in a batch's claims
                from ._batch import _sqlite_claim

                return bool(_sqlite_claim(conn, [(message_id, _key(source))], utcnow()))
            claim, _remember = self._dedupe_statements()
            params = {"mid": message_id, "src": _key(source), "now": utcnow()}
            return conn.execute(claim, params).first() is not None

    def is_known_message(self, message_id: str, source: str | None) -> bool:
        """Whether (MessageID, Source) was claimed or answered before (a duplicate)."""
        pending = self._pending()
        if pending is not None and (message_id, _key(source)) in pending.deferred:
            return True
        with self._session(read=True) as s:
            found = s.scalar(
                select(ProcessedMessage.id).where(
                    ProcessedMessage.message_id == message_id,
                    ProcessedMessage.source == _key(source),
                )
            )
            return found is not None

    def remember_reply(self, message_id: str, source: str | None, reply: bytes) -> None:
        """Store the reply sent for that message (the last one wins); marks the MessageID as
        seen if it was not claimed (a message refused before it took effect)."""
        _claim, remember = self._dedupe_statements()
        params = {"mid": message_id, "src": _key(source), "now": utcnow(), "reply": reply}
        pending = self._pending()
        if pending is not None:  # inside a batch(): written with the others at its end
            pending.replies.append(params)
            return
        with self._session() as s:
            s.connection().execute(remember, params)

    def stored_reply(self, message_id: str, source: str | None) -> bytes | None:
        """The reply to re-send to a duplicate (None: none was stored yet)."""
        with self._session(read=True) as s:
            return s.scalar(
                select(ProcessedMessage.reply).where(
                    ProcessedMessage.message_id == message_id,
                    ProcessedMessage.source == _key(source),
                )
            )
