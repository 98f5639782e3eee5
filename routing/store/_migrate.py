"""Schema migrations with alembic, driven from code: no alembic.ini for users (BUS-10).

``Store(url).migrate()`` upgrades the database to the newest revision and keeps its data.
The revisions live in ``routing/store/migrations/versions``; :func:`new_revision` (or
``python -m routing.store revision -m "..."``) writes the next one. See docs/store.md.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from ._types import UTCDateTime

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PG_MIGRATION_LOCK = 0x43494D42  # "CIMB": pg_advisory_xact_lock key serialising migrate()


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An alembic Config built in code. ``connection`` (used as is, inside its transaction)
    wins over ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade to ``revision`` in one transaction. Concurrent callers are serialised (an
    advisory lock on PostgreSQL, the write lock on SQLite), so the second finds the work done."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})")
        command.upgrade(alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def new_revision(message: str, *, autogenerate: bool = True) -> Path:
    """Write the next revision file (numbered 0001, 0002, ...). With ``autogenerate`` alembic
    compares the models with a scratch SQLite database at head and writes the difference;
    review it (and make it work on PostgreSQL too) before committing."""
    script = ScriptDirectory.from_config(alembic_config())
    rev_id = f"{len(list(script.walk_revisions())) + 1:04d}"
    if not autogenerate:
        found = command.revision(alembic_config(), message, rev_id=rev_id)
        return Path(_path_of(found))
    from ._engine import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/scratch.db")
        try:
            upgrade(engine)
            with engine.begin() as connection:
                found = command.revision(
                    alembic_config(connection), message, rev_id=rev_id, autogenerate=True
                )
        finally:
            engine.dispose()
    return Path(_path_of(found))


#: indexes on an expression: SQLite's reflection cannot read them back, so autogenerate
#: cannot compare them there (PostgreSQL's can); a test checks they exist on both backends
EXPRESSION_INDEXES = ("ix_audit_thread",)


@contextmanager
def expression_index_warnings_muted() -> Iterator[None]:
    """Mute SQLAlchemy's and alembic's warnings that they skip :data:`EXPRESSION_INDEXES`
    when comparing the models with a SQLite database (they say nothing else)."""
    with warnings.catch_warnings():
        for name in EXPRESSION_INDEXES:
            warnings.filterwarnings(
                "ignore", message=f"Skipped unsupported reflection of expression-based index {name}"
            )
            warnings.filterwarnings(
                "ignore",
                message=f"autogenerate skipping metadata-specified expression-based index '{name}'",
            )
        yield


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Autogenerate hook: write the store's own column types as plain SQLAlchemy types, so a
    revision never imports cimbus code (it must describe the schema as it was)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _path_of(found: object) -> str:
    script = found[0] if isinstance(found, list) else found
    return script.path  # type: ignore[union-attr]
