"""What several ``cimbus`` sub-command modules share: the ``--config`` option, loading the
configuration (a usage error, exit 2, names the problem) and opening its migrated store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

__all__ = ["ConfigOption", "expand_paths", "load_config", "open_store"]

ConfigOption = typer.Option(
    None,
    "--config",
    "-c",
    help="TOML configuration (default: $CIMBUS_CONFIG, else built-in defaults).",
)


def load_config(config: Path | None) -> Any:
    """The checked configuration, or exit 2 with the error."""
    from routing.config import Config
    from routing.errors import ConfigError

    try:
        return Config.load(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def open_store(config: Path | None, *, create: bool = False) -> tuple[Any, Any]:
    """The configuration and its store, migrated (BUS-9, REL-2).

    The commands that inspect or maintain a store (``cimbus dlq``, ``cimbus store prune``,
    ``cimbus smt``) open an existing one: with ``create`` False a SQLite file that does not
    exist is an error naming the path and where it was configured, and nothing is created (a
    typo in the path must not answer "no dead letters" from a fresh, empty store). ``cimbus
    serve`` creates the store, as ``python -m routing.store upgrade`` does; a command that
    should too passes ``create=True``. A store that cannot be opened (unreachable, not a
    database) is one line and exit 1."""
    from routing.store import Store, StoreUnavailable

    cfg = load_config(config)
    store = Store(
        cfg.store.url,
        payload_policy=cfg.store.payload_policy,
        max_payload_bytes=cfg.store.max_payload_bytes,
        background_checkpoints=cfg.store.wal_checkpoint == "background",
    )
    try:
        if not create and store.file is not None and not store.file.exists():
            raise StoreUnavailable(
                f"no store at {store.file.absolute()} ({cfg.origin('store', 'url')}): the file does not "
                "exist and nothing was created (fix the path; cimbus serve creates a new store)"
            )
        store.migrate()
    except StoreUnavailable as exc:
        store.close()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    return cfg, store


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The files to read: the files given, and every ``*.xml`` under the folders given
    (any case: ``X.XML`` too; a broken link is listed, so it is reported, not skipped), plus
    a problem line for each folder that could not be read (it is not silently left out)."""
    out: list[Path] = []
    problems: list[str] = []
    for p in paths:
        if not p.is_dir():
            out.append(p)
            continue

        def unreadable(exc: OSError) -> None:
            problems.append(f"{exc.filename}: cannot read folder: {exc.strerror or exc}")

        found = []
        for folder, dirs, names in os.walk(p, onerror=unreadable):
            dirs.sort()
            found.extend(Path(folder) / n for n in names if n.lower().endswith(".xml"))
        out.extend(sorted(found))
    return out, problems
