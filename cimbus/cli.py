"""The ``cimbus`` command line (typer). Sub-commands import their layers lazily so that
``cimbus --help`` stays fast.

Exit codes follow one rule across commands: 0 success, 1 the input was refused or a check
failed, 2 usage error (bad option, missing file). Bad input never produces a traceback.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
from pathlib import Path

import typer

from . import __version__
from .cli_common import ConfigOption, expand_paths, load_config, open_store

app = typer.Typer(
    name="cimbus",
    help="cimbus: an IEC 61968-100 / IEC 61968-9 (CIM) message bus for electric utilities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cimbus {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """cimbus validates, authorises, routes, correlates, persists and audits CIM messages."""


@app.command()
def validate(
    files: list[Path] = typer.Argument(
        ...,
        exists=True,
        readable=True,
        help="XML files (or folders of *.xml): IEC 61968-100 messages, SOAP envelopes or bare payloads.",
    ),
    lenient: bool = typer.Option(
        False,
        "--lenient",
        help="Report schema violations as warnings when the document is well-formed and binds.",
    ),
    max_bytes: int = typer.Option(
        32 * 1024 * 1024, "--max-bytes", min=1, help="Refuse larger documents."
    ),
    max_depth: int = typer.Option(64, "--max-depth", min=1, max=256, help="Refuse deeper nesting."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only problems."),
) -> None:
    """Validate CIM messages against cimbus's XSD profiles (BUS-1, SEC-3).

    Prints OK per valid file, or every error with its line and path. Exit 0 when all files
    are valid, 1 when any is not, 2 on a usage error.
    """
    from cim_models.codec import Codec
    from cim_models.errors import CodecError, UnsafeXmlError
    from cim_models.safexml import Limits

    codec = Codec(limits=Limits(max_bytes=max_bytes, max_depth=max_depth))
    targets, problems = expand_paths(files)
    failed = len(problems)
    for problem in problems:
        typer.echo(f"INVALID {problem}")
    if not targets and not problems:
        typer.echo("error: no XML files found in the given folders", err=True)
        raise typer.Exit(2)
    for path in targets:
        try:
            with open(path, "rb") as fh:
                data = fh.read(max_bytes + 1)
                size = os.fstat(fh.fileno()).st_size
            if len(data) > max_bytes:  # say the file's size, not how much was read
                raise UnsafeXmlError(
                    f"document is {max(size, len(data))} bytes, over the limit of {max_bytes} "
                    "bytes (--max-bytes)"
                )
            msg = codec.decode(data, lenient=lenient)
        except CodecError as exc:
            failed += 1
            if exc.issues:  # the reason repeats the first issue: name the element, list all
                head = exc.reason.split(": ", 1)[0]
                typer.echo(f"INVALID {path}: {head} ({len(exc.issues)} schema error(s))")
            else:
                typer.echo(f"INVALID {path}: {exc.reason}")
            for issue in exc.issues:
                typer.echo(f"  {issue}")
            continue
        except OSError as exc:
            failed += 1
            typer.echo(f"INVALID {path}: cannot read: {exc.strerror or exc}")
            continue
        except Exception as exc:  # never a traceback for bad input
            failed += 1
            typer.echo(f"INVALID {path}: {type(exc).__name__}: {exc}")
            continue
        what = f"{msg.element}" + (f", noun {msg.noun}" if msg.noun else "") + f", {msg.form}"
        if msg.soap:
            what += f", SOAP {msg.soap.version}"
        if msg.legacy_namespace:
            what += f", read from legacy namespace {msg.legacy_namespace}"
        if msg.warnings:
            typer.echo(f"OK (with {len(msg.warnings)} warning(s)) {path} ({what})")
            for issue in msg.warnings:
                typer.echo(f"  warning: {issue}")
        elif not quiet:
            typer.echo(f"OK {path} ({what})")
    if not quiet or failed:
        typer.echo(f"{len(targets) + len(problems) - failed} valid, {failed} invalid")
    raise typer.Exit(1 if failed else 0)


@app.command()
def explain(
    codes: list[str] = typer.Argument(
        ...,
        help="Codes: ReadingType (18 fields), EndDevice event/control type (4), ReadingQuality (3).",
    ),
) -> None:
    """Explain IEC 61968-9 codes in plain words (ReadingType, EndDeviceEventType /
    EndDeviceControlType, ReadingQualityType). Exit 1 if any code is not valid."""
    from cim_models.codes import (
        CodeError,
        EndDeviceCode,
        OutageEventMap,
        ReadingQualityCode,
        ReadingType,
        controls,
        events,
        results,
    )

    named = {}
    for table in (controls, events, results):
        for name in table:
            named.setdefault(table[name].code, name)
    outage = OutageEventMap.default()
    bad = 0
    for code in codes:
        parts = code.split(".")
        try:
            if len(parts) == 18:
                text = f"ReadingType: {ReadingType.parse(code).describe()}"
            elif len(parts) == 4:
                text = f"EndDevice code: {EndDeviceCode.parse(code, strict=False).describe()}"
                extra = [x for x in (named.get(code), outage.classify(code)) if x]
                if extra:
                    text += f" ({', '.join(str(x) for x in extra)})"
            elif len(parts) == 3:
                text = f"ReadingQuality: {ReadingQualityCode.parse(code).describe()}"
            else:
                raise CodeError(
                    f"{code!r} has {len(parts)} fields; ReadingType codes have 18, EndDevice "
                    "event/control codes 4, ReadingQuality codes 3"
                )
        except CodeError as exc:
            bad += 1
            typer.echo(f"{code}: INVALID: {exc}")
            continue
        typer.echo(f"{code}: {text}")
    raise typer.Exit(1 if bad else 0)


def _register_use_case_commands() -> None:
    """``demo``, ``conformance``, ``simulate`` and ``smt`` live in their own modules (issue 4, 5)."""
    from .cli_conformance import conformance, demo
    from .cli_send import send
    from .cli_simulate import simulate_app
    from .cli_smt import smt_app

    app.command()(demo)
    app.command()(conformance)
    app.command()(send)
    app.add_typer(simulate_app, name="simulate")
    app.add_typer(smt_app, name="smt")


_register_use_case_commands()


@app.command()
def routes(config: Path | None = ConfigOption) -> None:
    """Print the route table: which system serves which request, who gets which events (BUS-8)."""
    from rich.console import Console
    from rich.table import Table

    cfg = load_config(config)
    rows = cfg.routes.rows()
    table = Table(title=f"cimbus routes ({cfg.source})")
    for col in ("kind", "verb", "noun", "source", "to", "transport", "address", "mode"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            *(
                row[c]
                for c in ("kind", "verb", "noun", "source", "to", "transport", "address", "mode")
            )
        )
    console = Console(width=160)
    console.print(table)
    if not rows:
        typer.echo(
            "no routes configured: every request gets a FAILED reply naming its verb and noun"
        )
    if cfg.amqp.enabled:
        from endpoints.amqp.topology import Topology

        topo_rows = Topology.for_config(cfg.amqp, cfg.routes, worker_id="<worker>").rows()
        topo = Table(title="AMQP topology (declared at start-up)")
        for col in topo_rows[0] if topo_rows else ():
            topo.add_column(col)
        for row in topo_rows:
            topo.add_row(*(str(v) for v in row.values()))
        console.print(topo)
        from endpoints.amqp.policy import FailurePolicy

        # "\[": a literal bracket for rich (it read [amqp.on_failure] as markup and dropped it)
        policy = Table(title="AMQP failure policy (\\[amqp.on_failure]; the most specific wins)")
        policy_rows = FailurePolicy.from_config(cfg.amqp.on_failure).rows()
        for col in policy_rows[0]:
            policy.add_column(col)
        for row in policy_rows:
            policy.add_row(*(str(v) for v in row.values()))
        console.print(policy)


@app.command()
def serve(
    config: Path | None = ConfigOption,
    port: int | None = typer.Option(None, "--port", "-p", min=1, max=65535, help="SOAP/HTTP port."),
    host: str | None = typer.Option(None, "--host", help="Address to bind (default 127.0.0.1)."),
) -> None:
    """Run cimbus: SOAP (with /healthz, /readyz) plus the configured transports."""
    import dataclasses

    cfg = load_config(config)
    soap = cfg.soap
    if port is not None:
        soap = dataclasses.replace(soap, port=port)
    if host is not None:
        soap = dataclasses.replace(soap, host=host)
    cfg = dataclasses.replace(cfg, soap=soap)
    problem = _cannot_listen(soap.host, soap.port)
    if problem:  # before anything starts: one line, not a uvicorn error among the log lines
        typer.echo(f"error: cannot serve SOAP on {soap.host}:{soap.port}: {problem}", err=True)
        raise typer.Exit(2)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # pika logs every failed connection attempt at ERROR, several lines and tracebacks each
    # (~60 lines per 10 s with RabbitMQ down); cimbus's AMQP transport says what failed
    # itself, once when it starts failing and then once a minute (endpoints/amqp/_reasons.py)
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    from endpoints.soap import run

    from .runtime import Runtime, settle_heap

    # docker stop, Kubernetes and systemd stop with SIGTERM: shut down as Ctrl-C does (uvicorn
    # drains HTTP, then the runtime stops its transports and the outbox, releasing what this
    # worker had claimed) and exit 0. uvicorn handles the signal while it serves, then raises
    # it again; without this handler the default one killed the process right there (143)
    # and Runtime.stop never ran.
    signal.signal(signal.SIGTERM, _terminate)
    if soap.workers > 1:
        typer.echo(
            f"starting {soap.workers} SOAP worker processes on http://{soap.host}:{soap.port}/ws"
        )
        run(None, cfg, factory="cimbus.runtime:soap_worker_app")
        return
    runtime = Runtime(cfg).start()  # a failed or interrupted start stops what it started
    try:
        settle_heap()
        for line in runtime.describe():
            typer.echo(line)
        typer.echo(f"SOAP services: http://{soap.host}:{soap.port}/ws")
        run(runtime.bus, cfg)
    finally:
        runtime.stop()


def _cannot_listen(host: str, port: int) -> str | None:
    """Why ``cimbus serve`` could not listen on ``host:port`` (None: it can): an empty or
    unknown host, an address not on this machine, a port in use or not allowed."""
    import socket

    if not host.strip():
        return "the host is empty: give an address (0.0.0.0 listens on every interface)"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"unknown host {host!r} ({exc.strerror})"
    family, kind, proto, _name, address = infos[0]
    try:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as exc:
        hint = " (another process listens there: choose another --port)" if exc.errno == 98 else ""
        return f"{exc.strerror or exc}{hint}"
    return None


def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM: leave through the ``finally`` blocks (clean shutdown), once; a second SIGTERM
    while shutting down is ignored (the supervisor's kill timeout is the backstop)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.getLogger("cimbus").info("SIGTERM: shutting down")
    raise SystemExit(0)


dlq_app = typer.Typer(help="Dead letters: list, show, replay (REL-2).", no_args_is_help=True)

#: the largest row id the store's integer keys hold (SQLite and PostgreSQL BIGINT)
MAX_ID = 2**63 - 1
#: the longest retention an option takes (100 years; 0 keeps for ever)
MAX_DAYS = 36500.0


def _finite(value: float | None) -> float | None:
    if value is not None and math.isnan(value):
        raise typer.BadParameter("must be a number of days, not nan")
    return value


app.add_typer(dlq_app, name="dlq")


@dlq_app.command("list")
def dlq_list(
    config: Path | None = ConfigOption,
    all_: bool = typer.Option(False, "--all", help="Include replayed dead letters."),
    limit: int = typer.Option(100, "--limit", min=1, max=1_000_000),
) -> None:
    """List dead letters: id, when, message, target, reason."""
    _cfg, store = open_store(config)
    items = store.dead_letters(limit=limit, include_replayed=all_)
    if not items:
        typer.echo("no dead letters")
        return
    for d in items:
        replayed = f"  replayed {d.replayed_at:%Y-%m-%d %H:%M:%S}" if d.replayed_at else ""
        typer.echo(
            f"{d.id:>6}  {d.created_at:%Y-%m-%d %H:%M:%S}  {d.message_id or '-'}  -> {d.target or '-'}"
            f" ({d.transport or '-'})  attempts={d.attempts}  {d.reason}{replayed}"
        )


@dlq_app.command("show")
def dlq_show(
    dl_id: int = typer.Argument(..., help="Dead letter id.", min=1, max=MAX_ID),
    config: Path | None = ConfigOption,
) -> None:
    """Show one dead letter with its reason, headers and message."""
    _cfg, store = open_store(config)
    d = store.get_dead_letter(dl_id)
    if d is None:
        typer.echo(f"error: no dead letter {dl_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"id:         {d.id}\ncreated:    {d.created_at}\nmessage id: {d.message_id}")
    typer.echo(f"source:     {d.source}\ntarget:     {d.target} ({d.transport} {d.address})")
    typer.echo(f"attempts:   {d.attempts}\nreason:     {d.reason}\nheaders:    {d.headers}")
    typer.echo(f"replayed:   {d.replayed_at or 'no'}\n")
    typer.echo((d.payload or b"").decode("utf-8", "replace"))


@dlq_app.command("replay")
def dlq_replay(
    dl_ids: list[int] = typer.Argument(..., help="Dead letter id(s).", min=1, max=MAX_ID),
    config: Path | None = ConfigOption,
    again: bool = typer.Option(
        False,
        "--again",
        help="Queue a dead letter that was replayed before once more (it is refused otherwise).",
    ),
) -> None:
    """Put dead letters back into the outbox; a running cimbus delivers them (after the fix).
    Each is queued once: a second replay is refused unless --again (REL-2)."""
    from routing.bus import Bus
    from routing.store import AlreadyReplayed

    cfg, store = open_store(config)
    bus = Bus(cfg, store)
    failed = 0
    for dl_id in dict.fromkeys(dl_ids):  # an id given twice is replayed once
        try:
            item = bus.replay_dead_letter(dl_id, again=again)
        except KeyError:
            failed += 1
            typer.echo(f"error: no dead letter {dl_id}", err=True)
            continue
        except AlreadyReplayed as exc:
            failed += 1
            typer.echo(
                f"error: {exc}; its message is in the outbox (or was delivered) already: "
                "`cimbus dlq replay --again` queues it once more",
                err=True,
            )
            continue
        typer.echo(f"dead letter {dl_id} re-queued as outbox entry {item}")
    raise typer.Exit(1 if failed else 0)


store_app = typer.Typer(help="Store maintenance: retention (BUS-9).", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("prune")
def store_prune(
    config: Path | None = ConfigOption,
    audit_days: float | None = typer.Option(
        None,
        "--audit-days",
        min=0,
        max=MAX_DAYS,
        callback=_finite,
        help="Keep audit rows this many days (default: the configuration's audit_days).",
    ),
    outbox_days: float | None = typer.Option(
        None,
        "--outbox-days",
        min=0,
        max=MAX_DAYS,
        callback=_finite,
        help="Keep delivered outbox entries and replayed dead letters this many days.",
    ),
    dedupe_days: float | None = typer.Option(
        None,
        "--dedupe-days",
        min=0,
        max=MAX_DAYS,
        callback=_finite,
        help="Keep processed MessageIDs and closed correlations this many days.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count, delete nothing."),
) -> None:
    """Delete rows older than the retention (the configuration's audit_days, outbox_days,
    dedupe_days in its store section, or the options); 0 keeps a table for ever. A running
    cimbus prunes by itself every prune_every seconds."""
    from routing.store import Retention

    cfg, store = open_store(config)
    retention = Retention(
        audit_days=cfg.store.audit_days if audit_days is None else audit_days,
        outbox_days=cfg.store.outbox_days if outbox_days is None else outbox_days,
        dedupe_days=cfg.store.dedupe_days if dedupe_days is None else dedupe_days,
    )
    if not retention.active:
        typer.echo(
            "nothing to prune: no retention is set ([store] audit_days, outbox_days, "
            "dedupe_days are 0 = keep for ever; or pass --audit-days etc.)"
        )
        return
    counts = store.prune(retention, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for table, n in counts.items():
        typer.echo(f"{verb} {n:>8} {table}")


def main() -> None:
    """Console-script entry point. A store that cannot be opened (BUS-9) is a one-line error
    and exit 1, a configuration error met after loading one and exit 2, not a traceback,
    whichever sub-command met it."""
    from routing.errors import ConfigError
    from routing.store import StoreUnavailable

    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except StoreUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except ConfigError as exc:  # met after loading (e.g. a registry file gone at start-up)
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
