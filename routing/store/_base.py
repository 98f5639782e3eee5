"""What every part of :class:`~routing.store.Store` shares: the engine, the session factory
and the per-thread unit of work that ``Store.transaction()`` opens."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ._engine import READ_ONLY


class StoreBase:
    _engine: Engine
    _sessions: sessionmaker[Session]
    _local: threading.local

    @contextmanager
    def _session(self, *, read: bool = False) -> Iterator[Session]:
        """The open ``transaction()`` of this thread if there is one (its writes commit with
        it), else a new session committed on exit and rolled back on an exception."""
        current: Session | None = getattr(self._local, "session", None)
        if current is not None:
            yield current
            return
        with self._sessions() as session, session.begin():
            if read:
                session.connection(execution_options={READ_ONLY: True})
            yield session

    def _pending(self) -> Any:
        """The writes a ``batch()`` open in this thread collects (None: no batch), see
        ``_batch.PendingWrites``."""
        return getattr(self._local, "pending", None)

    def _insert(self, model: Any) -> Any:
        """INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` for the backend."""
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(model)
