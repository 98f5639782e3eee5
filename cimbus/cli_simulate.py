"""``cimbus simulate <name>``: run one simulator alone (issue 4).

One sub-command per simulator in :data:`simulators.SIMULATORS`; each one's help says what it
simulates and which requirement IDs it serves. With ``--transport embedded`` (the default) the
simulator runs beside an in-process cimbus (config/demo.toml), so it works with nothing
installed; with ``amqp`` / ``mqtt`` it attaches to a deployed cimbus's broker. Its REST API
(status, journal, fault knobs, clock, plus its own routes) is served on ``--port``.
``--stats`` loads the population, prints start-up time and memory, and exits (the ``load``
profile has 100,000 meters).

Options are checked before anything starts, each wrong one a single ``error:`` line and exit
2: ``--url`` only with amqp / mqtt (checked whole, its password hidden), ``--config`` only with
embedded, a non-empty ``--system``, a finite ``--speed`` of 0.001 to :data:`MAX_SPEED`.
"""

from __future__ import annotations

import math
import resource
import sys
import time
from pathlib import Path

import typer

from simulators import SIMULATORS

from .cli_common import load_config

#: the fastest simulated clock (simulated seconds per real second): a simulated day per second
MAX_SPEED = 86_400.0

simulate_app = typer.Typer(
    help="Run a simulator of a counterpart system (headend, mdms, cis, oms, dcc, crm, field).",
    no_args_is_help=True,
)


def _run(
    name: str,
    profile: str,
    transport: str,
    url: str | None,
    system: str | None,
    port: int,
    speed: float,
    stats: bool,
    config: Path | None,
) -> None:
    from simulators._core import ProfileError, SimClock, connect, load_profile
    from simulators._core.connect import masked

    t0 = time.perf_counter()
    try:
        prof = load_profile(profile)
    except ProfileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    t_profile = time.perf_counter() - t0
    cls = SIMULATORS[name].load()
    clock = SimClock(prof.start, realtime=True, speed=speed)
    sim = cls(prof, clock=clock, **({"system": system} if system else {}))
    t_total = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    typer.echo(
        f"{name} simulator ({sim.system}): profile {prof.name!r} with {len(prof.meters):,} meters, "
        f"{len(prof.customers):,} customers; loaded in {t_profile:.2f} s, started in {t_total:.2f} s; "
        f"peak memory {rss_mb:,.0f} MB"
    )
    if stats:
        raise typer.Exit(0)
    runtime = None
    broker = None
    if transport == "embedded":
        from cimbus.runtime import Runtime
        from conformance.harness import DEMO_CONFIG

        runtime = Runtime(load_config(config or DEMO_CONFIG)).start()
        broker = runtime.broker
        typer.echo(f"in-process cimbus: {', '.join(runtime.describe())}")
    try:
        sim.attach(connect(transport, sim.system, broker=broker, url=url))
    except Exception as exc:
        reason = str(exc).replace(url, masked(url)) if url else str(exc)
        typer.echo(
            f"error: cannot connect the {name} simulator over {transport}: {reason}", err=True
        )
        if runtime is not None:
            runtime.stop()
        raise typer.Exit(1) from None
    clock.start()
    typer.echo(
        f"serving {', '.join(f'{v} {n}' for v, n in sim.serves) or 'events only'} as {sim.system} over {transport}"
    )
    typer.echo(
        f"REST API: http://127.0.0.1:{port}/ (status, /journal, /faults, /clock); Ctrl-C stops"
    )
    try:
        import uvicorn

        uvicorn.run(sim.api(), host="127.0.0.1", port=port, log_level="warning")
    finally:
        sim.close()
        clock.stop()
        if runtime is not None:
            runtime.stop()


def _checked_options(
    transport: str, url: str | None, system: str | None, speed: float, config: Path | None
) -> str | None:
    """The broker URL to connect to (None for embedded), once the options are checked
    (before anything is loaded or started); ValueError says what is wrong."""
    from simulators._core import TRANSPORTS
    from simulators._core.connect import broker_url

    if transport not in TRANSPORTS:
        raise ValueError(f"--transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
    if not math.isfinite(speed) or not 0.001 <= speed <= MAX_SPEED:
        raise ValueError(
            f"--speed must be a number from 0.001 to {MAX_SPEED:g} (simulated seconds per real "
            f"second), not {speed:g}"
        )
    if system is not None and (
        not system or any(c.isspace() or not c.isprintable() for c in system)
    ):
        raise ValueError(
            f"--system must name a bus system (without spaces or control characters), "
            f"not {system!r}"
        )
    if transport == "embedded":
        if url is not None:
            raise ValueError(
                "--url is for --transport amqp or mqtt: the embedded transport runs cimbus in "
                "this process (drop --url, or add -t amqp / -t mqtt)"
            )
        return None
    if config is not None:
        raise ValueError(
            f"--config is for --transport embedded: over {transport} the simulator attaches to "
            "a deployed cimbus's broker (give its --url instead)"
        )
    return broker_url(transport, url, what="--url")  # also the default, or $CIMBUS_*_URL


def _make_command(name: str) -> None:
    info = SIMULATORS[name]

    def command(
        profile: str = typer.Option(
            "demo", "--profile", help="Profile name (simulators/profiles) or TOML path."
        ),
        transport: str = typer.Option(
            "embedded",
            "--transport",
            "-t",
            help="embedded (beside an in-process cimbus), amqp or mqtt.",
        ),
        url: str | None = typer.Option(
            None, "--url", help="Broker URL for amqp / mqtt (default: the local broker)."
        ),
        system: str | None = typer.Option(
            None, "--system", help=f"Bus system name (default {info.system})."
        ),
        port: int = typer.Option(
            8100, "--port", "-p", min=1, max=65535, help="Port of the simulator's REST API."
        ),
        speed: float = typer.Option(
            1.0, "--speed", help=f"Simulated seconds per real second (0.001 to {MAX_SPEED:g})."
        ),
        stats: bool = typer.Option(
            False, "--stats", help="Print start-up time and memory, then exit."
        ),
        config: Path | None = typer.Option(
            None, "--config", "-c", help="cimbus configuration for --transport embedded."
        ),
    ) -> None:
        try:
            url = _checked_options(transport, url, system, speed, config)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        _run(name, profile, transport, url, system, port, speed, stats, config)

    reqs = ", ".join(info.requirements)
    command.__doc__ = f"{info.summary}\n\nBus system {info.system}. Serves {reqs}."
    simulate_app.command(
        name, help=f"{info.summary} Bus system {info.system}. Requirements: {reqs}."
    )(command)


for _name in SIMULATORS:
    _make_command(_name)


__all__ = ["simulate_app"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(simulate_app())
