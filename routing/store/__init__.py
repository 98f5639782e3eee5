"""routing.store: the bus's persistent state, on SQLite (embedded default) or PostgreSQL.

=====================  =====================================================  ==============
part                   API                                                    requirement
=====================  =====================================================  ==============
audit ledger           ``record``, ``trail``, ``audit``                       BUS-9
de-duplication         ``claim_message_id``, ``remember_reply``,              REL-1
                       ``stored_reply``, ``is_known_message``
outbox                 ``enqueue``, ``claim_due``, ``mark_delivered``,        REL-1
                       ``mark_failed``, ``to_dead_letter``,
                       ``outbox_counts``, ``outbox_backlog``
correlation table      ``open_correlation``, ``correlation``,                 BUS-7
                       ``complete_correlation``, ``expired_correlations``
dead letters           ``dead_letter``, ``dead_letters``,                     REL-2
                       ``get_dead_letter``, ``mark_replayed``
SMT on-demand read     ``upsert_usage_points``, ``usage_point``,              ODR-2,
                       ``record_vee_end``, ``last_vee_end``,                  ODR-4..ODR-7
                       ``odr_reserve``, ``odr_settle``, ``odr_used``
unit of work           ``transaction()``                                      REL-1
schema                 ``migrate()`` (alembic, keeps data)                    BUS-10
=====================  =====================================================  ==============

::

    store = Store("sqlite:///var/cimbus.db")        # or postgresql+psycopg://cimbus@db/cimbus
    store.migrate()
    with store.transaction():
        if store.claim_message_id(mid, source):
            store.enqueue(OutboxItem(target="HES", transport="amqp", address="hes.in",
                                     message_id=mid, payload=body))

SQLAlchemy 2 and alembic only: nothing here imports a transport, a simulator or the codec.
docs/store.md describes the tables, the outbox semantics and how to add a migration.
"""

from ._deadletters import AlreadyReplayed
from ._retention import Retention
from ._smt import UsagePoint
from .records import (
    AuditEntry,
    AuditRecord,
    Correlation,
    CorrelationRecord,
    DeadLetter,
    DeadLetterRecord,
    OutboxItem,
    OutboxRecord,
)
from .store import DEFAULT_URL, Store, StoreUnavailable, unavailable

__all__ = [
    "DEFAULT_URL",
    "AlreadyReplayed",
    "AuditEntry",
    "AuditRecord",
    "Correlation",
    "CorrelationRecord",
    "DeadLetter",
    "DeadLetterRecord",
    "OutboxItem",
    "OutboxRecord",
    "Retention",
    "Store",
    "StoreUnavailable",
    "UsagePoint",
    "unavailable",
]
