"""``cimbus smt``: the SMT on-demand-read service's registry of usage points (ODR-4, ODR-6).

``cimbus smt load FILE`` upserts a TOML or CSV registry into the configured store (what a
TDSP's provisioning feed does); ``cimbus smt registry --profile demo`` writes a simulator
profile's usage points in that format, to provision a deployed target for the conformance
suites; ``cimbus smt show ESIID`` prints what SMT knows of one ESIID.
"""

from __future__ import annotations

from pathlib import Path

import typer

from .cli_common import ConfigOption, open_store

smt_app = typer.Typer(
    help="SMT on-demand read: usage-point registry (ODR-4, ODR-6).", no_args_is_help=True
)


@smt_app.command("load")
def load(
    # checked by load_registry (one line naming the file: missing, a directory, not UTF-8...)
    file: Path = typer.Argument(..., help="Registry file (.toml or .csv)."),
    config: Path | None = ConfigOption,
) -> None:
    """Upsert every usage point of a registry file into the store."""
    from routing.errors import ConfigError
    from routing.services.smt.registry import load_registry

    try:
        points = load_registry(file)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    # loading the registry is a set-up step: it may come before the first `cimbus serve`
    _cfg, store = open_store(config, create=True)
    n = store.upsert_usage_points(points)
    typer.echo(f"{n} usage point(s) loaded from {file}")


@smt_app.command("registry")
def registry(
    profile: str = typer.Option(
        "demo", "--profile", help="Simulator profile (simulators/profiles) or TOML path."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write here instead of standard output."
    ),
) -> None:
    """Write a simulator profile's usage points as a registry file (TOML)."""
    from conformance.harness import registry_toml
    from simulators._core import ProfileError, load_profile

    try:
        text = registry_toml(load_profile(profile))
    except ProfileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if output is None:
        typer.echo(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            typer.echo(f"error: cannot write {output}: {exc.strerror or exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"registry written to {output}")


@smt_app.command("show")
def show(esiid: str = typer.Argument(...), config: Path | None = ConfigOption) -> None:
    """What SMT knows of one ESIID: registry entry and last VEE end."""
    _cfg, store = open_store(config)
    point = store.usage_point(esiid)
    if point is None:
        typer.echo(f"ESIID {esiid} is not in the SMT registry")
        raise typer.Exit(1)
    typer.echo(
        f"ESIID {point.esiid}: meter {point.meter_number or '-'}, ROR {point.ror or '-'}, "
        f"AMS {point.ams}, provisioned {point.provisioned}, interval {point.interval_minutes} min, "
        f"daily read {point.daily_read}; last VEE end {store.last_vee_end(esiid) or 'none posted'}"
    )


__all__ = ["smt_app"]
