"""``cimbus conformance`` and ``cimbus demo`` (issue 5).

``conformance`` runs the suites (one scenario per requirement ID) against cimbus in-process or
a deployed target, prints requirement -> verdict, writes JUnit XML and an HTML assertion
document, and exits 1 on any failure. ``demo`` starts cimbus and every simulator on the
embedded default, plays the scenarios while printing every exchange as one line, then keeps
serving (``--once``: exit after the scenarios, 0 only when all passed).
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["conformance", "demo"]


def _scenarios(suite: str | None) -> list[Any]:
    """The scenarios of ``--suite`` (comma-separated; all when None); exit 2 on an unknown one."""
    from conformance.suite import scenarios_for

    try:
        return scenarios_for([s.strip() for s in suite.split(",") if s.strip()] if suite else None)
    except KeyError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(2) from None


def _results_table(results: list[Any], title: str) -> Table:
    table = Table(title=title)
    for col in ("requirement", "scenario", "verdict", "time", "detail"):
        table.add_column(col, overflow="fold")
    colours = {"PASSED": "green", "FAILED": "red", "ERROR": "red", "NOT-APPLICABLE": "yellow"}
    for r in results:
        verdict = r.status.upper()
        table.add_row(
            r.scenario.id,
            r.scenario.title,
            f"[{colours.get(verdict, 'white')}]{verdict}[/]",
            f"{r.duration:.2f} s",
            r.error[:160],
        )
    return table


def _run_with_progress(
    console: Console, scenarios: list[Any], make_world: Any, **limits: Any
) -> list[Any]:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from conformance.runner import run_scenarios

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("conformance", total=len(scenarios))

        def report(phase: str, sc: Any, result: Any) -> None:
            if phase == "start":
                progress.update(task, description=f"{sc.id} {sc.title}")
            else:
                mark = (
                    "[green]PASS[/]"
                    if result.passed
                    else "[red]ERROR[/]"
                    if result.status == "error"
                    else "[red]FAIL[/]"
                )
                progress.console.print(f"{mark} {sc.id} {sc.title} ({result.duration:.2f} s)")
                progress.advance(task)

        return run_scenarios(scenarios, make_world, progress=report, **limits)


def conformance(
    suite: str | None = typer.Option(
        None, "--suite", "-s", help="Comma-separated suites (e.g. ODR); default all."
    ),
    transport: str = typer.Option(
        "embedded", "--transport", "-t", help="embedded | soap | amqp | mqtt."
    ),
    target: str | None = typer.Option(
        None,
        "--target",
        help="A deployed target: http://host:port (SOAP) or amqp://... (default: cimbus in-process).",
    ),
    amqp: str | None = typer.Option(
        None, "--amqp", help="RabbitMQ URL (in-process: the broker to use; deployed: its broker)."
    ),
    mqtt: str | None = typer.Option(
        None, "--mqtt", help="Mosquitto URL for --transport mqtt (default mqtt://127.0.0.1:1884)."
    ),
    junit: Path | None = typer.Option(
        None, "--junit", help="Write JUnit XML here (one test case per requirement)."
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Write the HTML assertion document here."
    ),
    profile: str = typer.Option(
        "demo", "--profile", help="Simulator population (simulators/profiles)."
    ),
    round_: int = typer.Option(
        0,
        "--round",
        min=0,
        help="Which set of the profile's usage points the scenarios use. A deployed target "
        "allows one read per ESIID per day (ODR-5): run again the same day with the next "
        "round (needs a profile with enough meters, e.g. --profile load).",
    ),
    scenario_timeout: float = typer.Option(
        300.0,
        "--scenario-timeout",
        min=1.0,
        help="Seconds a scenario may take (its world included); past it, ERROR naming the limit.",
    ),
    run_timeout: float = typer.Option(
        3600.0,
        "--run-timeout",
        min=1.0,
        help="Seconds the whole run may take; scenarios left at the limit are ERROR, not run.",
    ),
    probe_timeout: float = typer.Option(
        10.0,
        "--probe-timeout",
        min=0.5,
        help="Seconds to wait for the target (and its broker) to answer before the first scenario.",
    ),
) -> None:
    """Run the conformance suites (black-box, one scenario per requirement ID; BUS-7, BUS-9,
    ODR-1..7). Exit 0 when every scenario passed, 1 otherwise, 2 on a usage error, an
    unreachable target or a report that could not be written."""
    from conformance.harness import TRANSPORTS, HarnessError, build_world, probe
    from conformance.report import html_report, junit_xml
    from simulators._core import ProfileError, load_profile

    if transport not in TRANSPORTS:
        typer.echo(
            f"error: --transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}",
            err=True,
        )
        raise typer.Exit(2)
    scenarios = _scenarios(suite)
    try:
        population = load_profile(profile)  # once: every scenario's world shares it
    except ProfileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if any(sc.id.startswith("ODR-") for sc in scenarios):
        from conformance.suites.odr import round_problem

        problem = round_problem(population, round_)
        if problem:
            typer.echo(f"error: --round {round_}: {problem}", err=True)
            raise typer.Exit(2)
    for option, path in (("--junit", junit), ("--html", html)):
        problem = _unwritable(path) if path is not None else None
        if problem:
            typer.echo(f"error: {option} {path}: {problem}", err=True)
            raise typer.Exit(2)
    try:  # before anything is sent anywhere: the target and its broker answer
        probe(transport, target=target, amqp_url=amqp, mqtt_url=mqtt, timeout=probe_timeout)
    except HarnessError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    console = Console(width=150)
    described: list[str] = []

    def make_world(sc: Any) -> Any:
        world = build_world(
            transport,
            target=target,
            amqp_url=amqp,
            mqtt_url=mqtt,
            profile=population,
            simulators=sc.needs or ("cis", "headend", "mdms"),
            round=round_,
        )
        if not described:
            described.append(world.description)
        return world

    try:
        make_world(scenarios[0]).close()  # fail fast (and clearly) when the target is unreachable
    except HarnessError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:
        typer.echo(
            f"error: cannot start the conformance world over {transport}: {type(exc).__name__}: {exc}",
            err=True,
        )
        raise typer.Exit(1) from None
    results = _run_with_progress(
        console,
        scenarios,
        make_world,
        scenario_timeout=scenario_timeout,
        run_timeout=run_timeout,
    )
    where = described[0] if described else transport
    console.print(_results_table(results, f"cimbus conformance: {where}"))
    unwritten = False
    for label, path, write in (("JUnit XML", junit, junit_xml), ("HTML report", html, html_report)):
        if path is None:
            continue
        try:
            write(results, path, target=where)
        except (OSError, ValueError) as exc:
            unwritten = True
            reason = getattr(exc, "strerror", None) or str(exc)
            typer.echo(f"error: cannot write the {label} to {path}: {reason}", err=True)
        else:
            console.print(f"{label}: {path}")
    failed = [r for r in results if not r.passed]
    console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    raise typer.Exit(2 if unwritten else 1 if failed else 0)


def _unwritable(path: Path) -> str | None:
    """Why a report cannot be written to ``path`` (None: it can), found by trying: a
    directory, a path under a regular file, a read-only or virtual file system."""
    import os

    if path.is_dir():
        return "is a directory"
    above = next((p for p in path.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        return f"{above} is not a directory"
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    if not existed:
        with contextlib.suppress(OSError):
            os.unlink(path)
    return None


# ---------------------------------------------------------------------------- demo
def _exchange_line(ex: Any) -> str:
    env = ex.envelope
    when = ex.received_at.strftime("%H:%M:%S.%f")[:-3]
    if env is None:
        return f"{when}  ?      -> cimbus        (unreadable message)  {ex.result or 'FAILED'}  {ex.error.reason if ex.error else ''}"
    ids = f"id={(env.message_id or '-')[:8]}" + (
        f" corr={env.correlation_id[:8]}" if env.correlation_id else ""
    )
    if ex.error is not None and ex.result in (None, "", "FAILED"):
        result = f"FAILED {ex.error.code}"
    else:
        result = ex.result or ""
    to = (
        ex.route.target
        if ex.route is not None
        else ("subscribers" if env.is_event else "requester" if env.is_reply else "-")
    )
    return f"{when}  {env.source or '?':>6} -> {to:<11} {env.verb} {env.noun:<18} {ids:<29} {result:<10} {ex.outcome}"


def demo(
    once: bool = typer.Option(
        False, "--once", help="Exit after the scenarios: 0 only when all passed."
    ),
    port: int = typer.Option(
        8080, "--port", "-p", min=0, max=65535, help="SOAP/HTTP port (0: any free port)."
    ),
    suite: str | None = typer.Option(
        None, "--suite", "-s", help="Comma-separated suites to play (default all)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not print every exchange."),
) -> None:
    """Run cimbus and every simulator on the embedded default, play the use-case scenarios
    (ODR so far) printing every exchange as one line, then keep serving SOAP with the WSDL
    list and a "try it" (BUS-10)."""
    from conformance.harness import build_world
    from simulators import SIMULATORS

    console = Console(width=170, highlight=False)
    scenarios = _scenarios(suite)
    try:
        world = build_world("embedded", simulators=tuple(SIMULATORS), soap_port=port)
    except OSError as exc:
        typer.echo(f"error: cannot serve SOAP on port {port}: {exc} (try --port 0)", err=True)
        raise typer.Exit(2) from None
    lock = threading.Lock()
    if not quiet:

        def show(ex: Any) -> None:
            with lock:
                console.print(_exchange_line(ex), markup=False)

        world.runtime.bus.add_listener(show)
    console.print(f"[bold]cimbus demo[/]: {world.description}")
    console.print(
        f"simulators: {', '.join(f'{n} ({s.system})' for n, s in world.sims.items())}; profile {world.profile.name!r} with {len(world.profile.meters)} meters"
    )
    console.print(
        "time          from   -> to          verb noun               IDs                           result     what happened"
    )
    keep = _KeepOpen(world)
    try:
        results = _run_with_progress(console, scenarios, lambda sc: keep)
        console.print(_results_table(results, "scenarios"))
        failed = [r for r in results if not r.passed]
        console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
        if once:
            raise typer.Exit(1 if failed else 0)
        url = world.soap_server.url
        try_it = _try_it(url, world)  # (posts the try-it meter's VEE data first)
        console.print(f"\n[bold]cimbus is serving[/] SOAP at {url}/ws  (health: {url}/healthz)")
        for line in _wsdl_lines(url):
            console.print(f"  {line}", markup=False)
        console.print(try_it, markup=False)
        console.print("Ctrl-C stops.")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    finally:
        world.close()


class _KeepOpen:
    """One world shared by every scenario of the demo (closing is the demo's job)."""

    def __init__(self, world: Any) -> None:
        self._world = world

    def __getattr__(self, name: str) -> Any:
        return getattr(self._world, name)

    def close(self) -> None:
        pass


def _wsdl_lines(url: str) -> list[str]:
    from endpoints.soap.services import services

    return [f"{name:<28} {url}/ws/{name}?wsdl" for name in services()]


def _try_it(url: str, world: Any) -> str:
    """A zeep snippet and a curl command for an on-demand read of a demo meter (ODR)."""
    import tempfile
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from simulators._core import E, request

    eligible = [m for m in world.profile.meters if m.ams and m.provisioned and m.ror]
    m = eligible[min(30, len(eligible) - 1)]  # the scenarios use the first ones
    caveat = ""
    try:  # give it a VEE posting so the read has a window (ODR-2)
        today = world.clock.now().astimezone(ZoneInfo(world.profile.timezone)).date()
        world.sim("mdms").post_daily_vee(today - timedelta(days=1), esiids=[m.esiid])
    except Exception as exc:  # the snippet still works; the read then says why it has no window
        caveat = (
            f"\n(note: the demo could not post yesterday's VEE for {m.esiid}: {exc}; the read"
            " below may then be refused for want of a VEE posting)\n"
        )
    body = request(
        "get",
        "MeterReadings",
        source="CIS",
        organization=m.ror,
        user_id="csr.demo",
        get_filter=E.gmr(
            "GetMeterReadings",
            E.gmr(
                "UsagePoint",
                E.gmr("Names", E.gmr("name", m.esiid), E.gmr("NameType", E.gmr("name", "ESIID"))),
            ),
        ),
    )
    envelope = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        + body.split(b"?>", 1)[1]
        + b"</soapenv:Body></soapenv:Envelope>\n"
    )
    path = Path(tempfile.gettempdir()) / "cimbus-demo-GetMeterReadings.xml"
    path.write_bytes(envelope)
    return f"""
Try it: an on-demand read as the Rep of Record {m.ror} for ESIID {m.esiid} (ODR: one successful
read per ESIID per day, and the demo's scenarios used other ESIIDs; sending the same file again
returns the stored reply, as for any repeated MessageID: change the MessageID for a new request,
or send it with cimbus send --fresh-ids).
{caveat}
  cimbus send (prints the reply on standard output, a summary line on standard error):
    cimbus send --to {url} {path}

  curl (SOAP 1.1):
    curl -s {url}/ws/GetMeterReadings -H 'Content-Type: text/xml; charset=utf-8' \\
      -H 'SOAPAction: "http://iec.ch/TC57/2011/MeterReadings/GetMeterReadings"' --data-binary @{path}

  zeep:
    from zeep import Client
    client = Client("{url}/ws/GetMeterReadings?wsdl")
    reply = client.service.GetMeterReadings(
        Header={{"Verb": "get", "Noun": "MeterReadings", "Source": "CIS", "MessageID": str(uuid.uuid4()),
                "User": {{"UserID": "csr.demo", "Organization": "{m.ror}"}}}},
        Request={{"GetMeterReadings": {{"UsagePoint": [{{"Names": [{{"name": "{m.esiid}", "NameType": {{"name": "ESIID"}}}}]}}]}}}})
    print(reply.Reply.Result, len(reply.Payload.MeterReadings.MeterReading[0].IntervalBlocks[0].IntervalReadings))
"""
