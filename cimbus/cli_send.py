"""``cimbus send``: send IEC 61968-100 message files to cimbus or another vendor's endpoint
over SOAP (zeep), AMQP or MQTT, and print each answer (BUS-4..BUS-7; logic in
:mod:`cimbus.send`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .cli_common import ConfigOption, expand_paths, load_config

if TYPE_CHECKING:
    from .send import TlsOptions

MAX_TIMEOUT = 3600.0


def send(
    messages: list[str] = typer.Argument(
        ...,
        metavar="MESSAGE...",
        help="Message files or folders of *.xml (sent in name order): IEC 61968-100 messages "
        "or whole SOAP envelopes; - reads one message from standard input.",
    ),
    to: str | None = typer.Option(
        None,
        "--to",
        "-t",
        help="Where to send: a cimbus base URL (http://host:port; the service is chosen per "
        "message), a SOAP service URL or WSDL URL (...?wsdl) of any endpoint, or an "
        "amqp(s):// / mqtt(s):// broker URL. Default: the cimbus of --config, else "
        "http://127.0.0.1:8080.",
    ),
    wsdl: str | None = typer.Option(
        None,
        "--wsdl",
        help="SOAP: the WSDL (URL or file) naming the operation and address; --to, if given, "
        "overrides its address.",
    ),
    system: str | None = typer.Option(
        None,
        "--as",
        help="AMQP/MQTT: the sending system's name (default: each message's Header/Source).",
    ),
    timeout: float = typer.Option(
        30.0, "--timeout", min=0.1, max=MAX_TIMEOUT, help="Seconds to wait for each answer."
    ),
    fresh_ids: bool = typer.Option(
        False,
        "--fresh-ids",
        help="Give each message a new MessageID and Timestamp before sending (a golden file "
        "sent again is otherwise answered as a duplicate of its first sending).",
    ),
    validate: bool = typer.Option(
        True,
        "--validate/--no-validate",
        help="Check each message against cimbus's XSD profiles first and send nothing when "
        "one is invalid (--no-validate: send as is, e.g. to test a target's refusals).",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Write each answer to DIR/<file>.answer.xml instead of standard output.",
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Only the summary lines (no answer XML on standard output)."
    ),
    ca_file: Path | None = typer.Option(
        None, "--ca-file", help="HTTPS: trust the server certificates this CA bundle (PEM) signed."
    ),
    insecure: bool = typer.Option(
        False, "--insecure", "-k", help="HTTPS: do not check the server's certificate (tests only)."
    ),
    cert: Path | None = typer.Option(
        None, "--cert", help="HTTPS: client certificate (PEM; with its key unless --key)."
    ),
    key: Path | None = typer.Option(
        None, "--key", help="HTTPS: the client certificate's key (PEM)."
    ),
    max_bytes: int = typer.Option(
        32 * 1024 * 1024, "--max-bytes", min=1, help="Refuse larger messages and answers."
    ),
    config: Path | None = ConfigOption,
) -> None:
    """Send CIM messages to cimbus or another endpoint and print the answers (BUS-4..BUS-7).

    One summary line per message goes to standard error (OK / PARTIAL / FAILED / FAULT /
    TIMEOUT / ERROR, the Reply/Error codes and reasons; ACCEPTED for a one-way operation's
    HTTP 202, SENT for a reply published to a broker, UNSENT when the target has no operation
    for it); the answer messages go to standard output (or --out). Every message is checked
    before anything is sent. Exit 0 when every answer is OK (or ACCEPTED / SENT), 1 when any
    is not (or a message is invalid: nothing is sent), 2 on a usage error, an unreadable
    file, an answer that could not be written, or a target that cannot be used at all (the
    run stops).
    """
    from cim_models.codec import Codec
    from cim_models.safexml import Limits

    from .send import SUCCESS, Secrets, TargetError, read_messages, sender_for

    secrets = Secrets(to, wsdl)

    def say(line: str, *, err: bool = True) -> None:
        """Every line printed goes through here: passwords in URLs never show."""
        typer.echo(secrets.mask(line), err=err)

    cfg = load_config(config)
    tls = _tls_options(ca_file, insecure, cert, key, broker=_is_broker(to) and wsdl is None)
    if system is not None and not (_is_broker(to) and wsdl is None):
        say("warning: --as names the sending system on AMQP and MQTT only; SOAP ignores it")
    if out is not None:
        problem = _out_problem(out)
        if problem:
            say(f"error: --out {out}: {problem}")
            raise typer.Exit(2)
    if messages.count("-") > 1:
        say("error: - (standard input) can be given once")
        raise typer.Exit(2)
    names, unreadable = _files(messages)
    limits = Limits(max_bytes=max_bytes)
    items, invalid = read_messages(
        names, limits=limits, validate=validate, fresh_ids=fresh_ids, codec=Codec(limits=limits)
    )
    unreadable.extend(f"{name}: {exc}" for name, exc in invalid if exc.unreadable)
    refused = [f"{name}: {exc}" for name, exc in invalid if not exc.unreadable]
    for problem in [*unreadable, *refused]:
        say(f"NOT SENT {problem}")
    if unreadable or refused:
        say(f"nothing sent: {len(unreadable) + len(refused)} message(s) cannot be sent as they are")
        raise typer.Exit(2 if unreadable else 1)

    try:
        sender = sender_for(
            to, wsdl=wsdl, system=system, timeout=timeout, config=cfg, limits=limits, tls=tls
        )
        for warning in sender.prepare() if hasattr(sender, "prepare") else []:
            say(f"warning: {warning}")
    except TargetError as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from None
    taken: set[str] = set()
    counts: dict[str, int] = {}
    unwritten = 0
    try:
        for item in items:
            try:
                answer = sender.send(item)
            except TargetError as exc:  # fatal: the target cannot be used at all
                say(f"error: {exc}")
                if counts:
                    say(f"stopped after {sum(counts.values())} message(s): {_counts(counts)}")
                raise typer.Exit(2) from None
            counts[answer.result] = counts.get(answer.result, 0) + 1
            took = f" ({answer.seconds * 1000:.0f} ms)" if answer.seconds else ""
            say(f"{answer.result:<8} {item.name}: {item.describe()} -> {answer.summary}{took}")
            for line in answer.errors[1:]:
                say(f"         {line}")
            if answer.body is None or (quiet and out is None):
                continue
            if out is not None:
                problem = _write_answer(out, item.name, taken, answer.body)
                if problem:
                    unwritten += 1
                    say(f"error: {problem}")
            else:
                say(answer.body.decode("utf-8", errors="replace").rstrip("\n"), err=False)
    except KeyboardInterrupt:
        done = f": {_counts(counts)}" if counts else ""
        say(f"interrupted after {sum(counts.values())} of {len(items)} message(s){done}")
        raise typer.Exit(130) from None
    finally:
        sender.close()
    if len(items) > 1:
        say(f"{len(items)} messages: {_counts(counts)}")
    if unwritten:
        raise typer.Exit(2)
    raise typer.Exit(0 if all(r in SUCCESS for r in counts) else 1)


def _is_broker(to: str | None) -> bool:
    return bool(to) and to.split("://", 1)[0].lower() in ("amqp", "amqps", "mqtt", "mqtts")


def _files(messages: list[str]) -> tuple[list[str], list[str]]:
    """The files to send (folders expanded; answers written by an earlier ``--out`` into the
    same folder, ``*.answer.xml``, are not messages) and the problems found."""
    names: list[str] = []
    unreadable: list[str] = []
    for name in messages:
        if name == "-":
            names.append(name)
            continue
        path = Path(name)
        if not path.exists():
            unreadable.append(f"{name}: no such file or folder")
            continue
        found, problems = expand_paths([path])
        if path.is_dir():
            found = [p for p in found if not p.name.lower().endswith(".answer.xml")]
        unreadable.extend(problems)
        if path.is_dir() and not found and not problems:
            unreadable.append(f"{name}: no *.xml files in this folder")
        names.extend(str(p) for p in found)
    return names, unreadable


def _write_answer(out: Path, name: str, taken: set[str], body: bytes) -> str | None:
    """Write one answer into ``out`` (made on the first answer); why it failed, or None."""
    from .send import answer_file

    path = answer_file(out, name, taken)
    try:
        out.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    except OSError as exc:
        return f"cannot write the answer to {path}: {exc.strerror or exc}"
    return None


def _tls_options(
    ca_file: Path | None, insecure: bool, cert: Path | None, key: Path | None, *, broker: bool
) -> TlsOptions:
    """The HTTPS options checked (a missing or non-PEM file, contradicting options, options a
    broker target does not use: exit 2)."""
    from .send import TlsOptions

    problem = None
    given = [
        o for o, v in (("--ca-file", ca_file), ("--insecure", insecure), ("--cert", cert)) if v
    ]
    if broker and given:
        problem = (
            f"{', '.join(given)} apply to https:// SOAP targets; amqps:// and mqtts:// use the "
            "system's CAs"
        )
    elif ca_file is not None and insecure:
        problem = "--ca-file and --insecure contradict each other"
    elif key is not None and cert is None:
        problem = "--key needs --cert"
    else:
        for option, path in (("--ca-file", ca_file), ("--cert", cert), ("--key", key)):
            if path is None:
                continue
            if not path.is_file():
                problem = f"{option} {path}: no such file"
                break
            if not _is_pem(path):
                problem = f"{option} {path}: not a PEM file (-----BEGIN ...); convert it, e.g. openssl pkcs12 -in FILE -out FILE.pem -nodes"
                break
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    if insecure:
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        typer.echo("warning: --insecure: server certificates are not checked", err=True)
    return TlsOptions(
        verify=False if insecure else (str(ca_file) if ca_file else True),
        cert=str(cert) if cert else None,
        key=str(key) if key else None,
    )


def _is_pem(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return b"-----BEGIN " in fh.read(1 << 20)
    except OSError:
        return False


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {result}" for result, n in sorted(counts.items()))


def _out_problem(folder: Path) -> str | None:
    """Why answers cannot be written to ``folder`` (made on the first answer), or None."""
    import os

    if folder.exists():
        if not folder.is_dir():
            return "not a folder"
        return None if os.access(folder, os.W_OK | os.X_OK) else "not writable"
    parent = folder.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot be made: {parent} is not writable"
    return None
