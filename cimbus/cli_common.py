"""What several ``cimbus`` sub-command modules share: the ``--config`` option, loading the
configuration (a usage error, exit 2, names the problem) and opening its migrated store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

__all__ = ["ConfigOption", "load_config", "open_store"]

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


def open_store(config: Path | None) -> tuple[Any, Any]:
    """The configuration and its store, migrated."""
    from routing.store import Store

    cfg = load_config(config)
    store = Store(
        cfg.store.url,
        payload_policy=cfg.store.payload_policy,
        max_payload_bytes=cfg.store.max_payload_bytes,
        background_checkpoints=cfg.store.wal_checkpoint == "background",
    )
    store.migrate()
    return cfg, store
