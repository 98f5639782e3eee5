"""The ``cimbus`` command line (typer). Sub-commands import their layers lazily so that
``cimbus --help`` stays fast.

Exit codes follow one rule across commands: 0 success, 1 the input was refused or a check
failed, 2 usage error (bad option, missing file). Bad input never produces a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from . import __version__

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


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*.xml") if q.is_file()))
        else:
            out.append(p)
    return out


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
    from cim_models.errors import CodecError
    from cim_models.safexml import Limits

    codec = Codec(limits=Limits(max_bytes=max_bytes, max_depth=max_depth))
    failed = 0
    targets = _expand(files)
    if not targets:
        typer.echo("error: no XML files found in the given folders", err=True)
        raise typer.Exit(2)
    for path in targets:
        try:
            with open(path, "rb") as fh:
                data = fh.read(max_bytes + 1)
            msg = codec.decode(data, lenient=lenient)
        except CodecError as exc:
            failed += 1
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
        typer.echo(f"{len(targets) - failed} valid, {failed} invalid")
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


@app.command()
def demo(
    once: bool = typer.Option(
        True, "--once/--serve", help="Exit after the scenarios (the only mode so far)."
    ),
) -> None:
    """Run the system on the embedded default and play the known exchanges.

    So far cimbus has its foundation (profiles, codec, code lists): the demo reads every golden
    exchange in conformance/exchanges, validates it, binds it, writes it back and checks the
    round trip, printing one line per exchange. The bus, simulators and use cases join the
    demo as they land. Exit 0 only when every exchange passed.
    """
    from cim_models.codec import Codec, canonical
    from cim_models.errors import CodecError
    from cim_models.fastpath import read_interval_series
    from conformance import EXCHANGES_DIR

    codec = Codec()
    files = sorted(EXCHANGES_DIR.rglob("*.xml"))
    if not files:
        typer.echo(f"error: no golden exchanges under {EXCHANGES_DIR}", err=True)
        raise typer.Exit(1)
    typer.echo(f"cimbus {__version__} demo: {len(files)} golden exchanges through the CIM codec")
    failed = 0
    for path in files:
        rel = path.relative_to(EXCHANGES_DIR)
        try:
            msg = codec.decode(path.read_bytes())
            out = codec.encode(msg.bind())
            same = canonical(out) == canonical(msg.to_bytes())
        except CodecError as exc:
            failed += 1
            typer.echo(f"FAIL {rel}: {exc.reason}")
            continue
        h = msg.header()
        line = (
            f"{h.get('Timestamp', '-'):<26} {h.get('Source', '-'):<12} "
            f"{(h.get('Verb', '') + ' ' + (msg.noun or '')).strip():<26} {msg.element:<34} "
            f"id={h.get('MessageID', '-')[:8]} corr={h.get('CorrelationID', '-')[:8]}"
        )
        if not same:
            failed += 1
            typer.echo(f"FAIL {line}  round trip changed the message")
            continue
        extra = ""
        if msg.noun == "MeterReadings":
            series = read_interval_series(msg)
            n = sum(len(x) for x in series)
            if n:
                extra = f"  {n} interval readings"
        typer.echo(f"ok   {line}{extra}")
    typer.echo(f"{len(files) - failed} passed, {failed} failed")
    raise typer.Exit(1 if failed else 0)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
