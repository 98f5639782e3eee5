"""``cimbus send``: send IEC 61968-100 messages from files to cimbus, or to another vendor's
endpoint, and report each answer (BUS-4, BUS-5, BUS-6, BUS-7).

What an integrator wiring a real system does first: send one golden message and look at the
answer. The messages are checked before anything is sent (:func:`read_messages`: safe parse,
IEC 61968-100 message, valid against cimbus's XSD profiles unless ``--no-validate``), so a
batch with a broken file sends nothing. Then, per message:

* **SOAP** (:class:`SoapSender`, ``--to http(s)://...``): zeep loads the WSDL and names the
  operation whose input element is the message's root element (document/literal), its
  SOAPAction and its address; the message goes out exactly as written (a file that is a whole
  SOAP envelope is sent as it is, SOAP Header included; a generic ``RequestMessage`` /
  ``EventMessage`` / ``ResponseMessage`` is put into the operation's typed wrapper, which has
  the same structure). The WSDL is, for a cimbus base URL (``http://host:port`` or ``.../ws``),
  the service cimbus offers for the message (``/ws/<Service>?wsdl``); for any other URL that
  URL plus ``?wsdl`` (a service endpoint), or the URL itself when it asks for a WSDL; or the
  ``--wsdl`` URL or file (another vendor's published WSDL, whose soap:address is used unless
  ``--to`` names one).
* **AMQP** (``--to amqp(s)://...``) and **MQTT** (``--to mqtt(s)://...``)
  (:class:`BrokerSender`): published to cimbus's inbound exchange / topics as the sending
  system (``--as``, default the message's Header/Source) with publisher confirms / QoS 1,
  then the answer correlated by MessageID is awaited (a reply sent to cimbus is not answered:
  it is reported as published). Broker and topic names come from a cimbus configuration
  (``--config``) when the deployment changed them.

Each answer is summarised as an :class:`Answer` (OK / PARTIAL / FAILED / FAULT / TIMEOUT /
SENT, or UNSENT when the target has no operation for it) with the Reply/Error codes and
reasons; a message that cannot be sent as it is raises :class:`InputError`, a target that
cannot be reached :class:`TargetError`.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from lxml import etree

from cim_models import namespaces as ns
from cim_models.build import now_iso
from cim_models.codec import Codec
from cim_models.errors import CodecError, UnsafeXmlError
from cim_models.ids import new_message_id
from cim_models.safexml import DEFAULT_LIMITS, Limits, parse_bytes

MSG = ns.MSG_NS
SOAP11 = ns.SOAP11_NS
SOAP12 = ns.SOAP12_NS
GENERIC = ("RequestMessage", "EventMessage", "ResponseMessage")
#: IEC 61968-100 Header elements in schema order (a MessageID added by ``--fresh-ids`` goes
#: where the schema wants it)
HEADER_ORDER = (
    "Verb",
    "Noun",
    "Revision",
    "ReplayDetection",
    "Context",
    "Timestamp",
    "Source",
    "AsyncReplyFlag",
    "ReplyAddress",
    "AckRequired",
    "User",
    "MessageID",
    "CorrelationID",
    "Comment",
    "Property",
)
#: results that end the command with exit 0
SUCCESS = frozenset({"OK", "SENT"})
DEFAULT_SOAP = "http://127.0.0.1:8080"


class InputError(Exception):
    """A message file cannot be sent as it is (nothing is sent). ``unreadable``: the file could
    not be read at all (a usage error, exit 2), rather than refused (exit 1)."""

    def __init__(self, reason: str, *, unreadable: bool = False) -> None:
        super().__init__(reason)
        self.unreadable = unreadable


class TargetError(Exception):
    """The target cannot take a message: no WSDL, no operation for it (that message is not
    sent: UNSENT, exit 2 at the end), or, ``fatal``, the target cannot be reached at all (the
    run stops there, exit 2)."""

    def __init__(self, reason: str, *, fatal: bool = False) -> None:
        super().__init__(reason)
        self.fatal = fatal


# ---------------------------------------------------------------------------- input


@dataclass
class Outgoing:
    """One message to send. ``message`` is the message element (the Body's child when the
    file was a SOAP envelope, which is kept in ``envelope`` and sent as it is over SOAP)."""

    name: str  # the file as the user named it ("-": standard input)
    message: etree._Element
    envelope: etree._Element | None = None
    form: str = "typed"
    header: dict[str, Any] = field(default_factory=dict)

    @property
    def element(self) -> str:
        return etree.QName(self.message).localname

    @property
    def qname(self) -> str:
        return self.message.tag

    @property
    def verb(self) -> str | None:
        return self.header.get("Verb") or None

    @property
    def noun(self) -> str | None:
        return self.header.get("Noun") or None

    @property
    def message_id(self) -> str | None:
        return self.header.get("MessageID") or None

    @property
    def source(self) -> str | None:
        return self.header.get("Source") or None

    @property
    def is_reply(self) -> bool:
        """A reply or fault sent to cimbus: nobody answers it on a broker."""
        return self.verb == "reply" or self.element.endswith("FaultMessage")

    def body(self) -> bytes:
        """The message (without any SOAP envelope), as sent on a broker."""
        return etree.tostring(self.message, encoding="UTF-8", xml_declaration=True)

    def describe(self) -> str:
        what = " ".join(x for x in (self.verb, self.noun) if x) or self.element
        return f"{what} {self.message_id or '(no MessageID)'}"


def read_messages(
    names: list[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
    validate: bool = True,
    fresh_ids: bool = False,
    codec: Codec | None = None,
    stdin: Any = None,
) -> tuple[list[Outgoing], list[tuple[str, InputError]]]:
    """Every message to send, and (file, problem) for each that cannot be sent: it cannot be
    read, is not XML, is not an IEC 61968-100 message, or is not valid against cimbus's
    profiles."""
    codec = codec or Codec(limits=limits)
    out: list[Outgoing] = []
    problems: list[tuple[str, InputError]] = []
    for name in names:
        try:
            item = read_message(name, limits=limits, validate=validate, codec=codec, stdin=stdin)
            if fresh_ids:
                refresh_ids(item)
        except InputError as exc:
            problems.append((name, exc))
            continue
        out.append(item)
    return out, problems


def read_message(
    name: str,
    *,
    limits: Limits = DEFAULT_LIMITS,
    validate: bool = True,
    codec: Codec | None = None,
    stdin: Any = None,
) -> Outgoing:
    codec = codec or Codec(limits=limits)
    data = _read(name, limits, stdin)
    try:
        root = parse_bytes(data, limits)
    except CodecError as exc:
        raise InputError(exc.reason) from None
    envelope = None
    q = etree.QName(root)
    if q.localname == "Envelope" and q.namespace in (SOAP11, SOAP12):
        envelope = root
        body = [c for c in _children(root) if etree.QName(c).localname == "Body"]
        content = [c for c in _children(body[0])] if len(body) == 1 else []
        if len(content) != 1:
            raise InputError(
                "a SOAP envelope to send must hold exactly one message in one Body "
                f"(found {len(body)} Body, {len(content)} element(s) in it)"
            )
        message = content[0]
    else:
        message = root
    try:
        # identified (and validated) on a copy: the codec rewrites legacy namespaces, and the
        # message goes out as the file has it
        msg = codec.identify(copy.deepcopy(message))
    except CodecError as exc:
        raise InputError(exc.reason) from None
    if msg.form == "payload":
        raise InputError(
            f"{msg.element} is a bare payload, not an IEC 61968-100 message: put it in a "
            "message's Payload (with a Header saying verb, noun and MessageID)"
        )
    if validate:
        issues = codec.validate(msg)
        if issues:
            listed = "; ".join(str(i) for i in issues[:5])
            more = f" (and {len(issues) - 5} more)" if len(issues) > 5 else ""
            raise InputError(
                f"not valid against cimbus's XSD profiles: {listed}{more} "
                "(--no-validate sends it anyway)"
            )
    return Outgoing(name, message, envelope, msg.form, msg.header())


def _read(name: str, limits: Limits, stdin: Any) -> bytes:
    try:
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            data = stream.read(limits.max_bytes + 1)
        else:
            with open(name, "rb") as fh:
                data = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", unreadable=True) from None
    if isinstance(data, str):
        data = data.encode()
    if len(data) > limits.max_bytes:
        raise InputError(f"over the limit of {limits.max_bytes} bytes (--max-bytes)")
    return data


def _children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def refresh_ids(item: Outgoing) -> None:
    """A new MessageID and Timestamp in the message's Header (``--fresh-ids``), added in schema
    order when missing, so a golden file can be sent again without being answered as a
    duplicate of its first sending (REL-1 de-duplication by MessageID)."""
    header = next(
        (c for c in _children(item.message) if etree.QName(c).localname == "Header"), None
    )
    if header is None:
        raise InputError("the message has no Header to give a new MessageID")
    for name, value in (("MessageID", new_message_id()), ("Timestamp", now_iso())):
        _set_header(header, name, value)
        item.header[name] = value


def _set_header(header: etree._Element, name: str, value: str) -> None:
    tag = f"{{{MSG}}}{name}"
    existing = header.find(tag)
    if existing is not None:
        existing.text = value
        return
    new = etree.Element(tag)
    new.text = value
    rank = HEADER_ORDER.index(name)
    before = next(
        (
            c
            for c in _children(header)
            if etree.QName(c).localname in HEADER_ORDER
            and HEADER_ORDER.index(etree.QName(c).localname) > rank
        ),
        None,
    )
    if before is None:
        header.append(new)
    else:
        before.addprevious(new)


# ---------------------------------------------------------------------------- answers


@dataclass
class Answer:
    """What came back for one message."""

    result: str  # OK | PARTIAL | FAILED | FAULT | TIMEOUT | ERROR | SENT
    summary: str  # one line: what the answer was
    body: bytes | None = None  # the answer's message (a FaultMessage for a SOAP fault)
    errors: list[str] = field(default_factory=list)  # "code (level): reason" per Reply/Error
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result in SUCCESS


def read_answer(body: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Answer:
    """An answer message summarised: its element, Verb/Noun, Reply/Result and errors."""
    try:
        root = parse_bytes(body, limits)
    except CodecError as exc:
        return Answer("ERROR", f"the answer is not readable XML: {exc.reason}", body)
    header = _child(root, "Header")
    reply = _child(root, "Reply")
    verb = _text(header, "Verb")
    result = _text(reply, "Result") or ""
    errors = [
        _error_line(e) for e in (reply.findall(f"{{{MSG}}}Error") if reply is not None else [])
    ]
    element = etree.QName(root).localname
    # a ResponseMessage is what everyone expects; anything else is named
    what = element if not element.endswith("ResponseMessage") else (verb or "reply")
    if element.endswith("FaultMessage"):
        return Answer("FAILED", f"{what}: {_first(errors) or 'a FaultMessage'}", body, errors)
    if not result:
        return Answer("ERROR", f"{what} carries no Reply/Result", body, errors)
    if result not in ("OK", "PARTIAL", "FAILED"):
        return Answer("ERROR", f"{what}: unknown Reply/Result {result!r}", body, errors)
    extra = f": {_first(errors)}" if errors else ""
    return Answer(result, f"{what} {result}{extra}", body, errors)


def _child(root: etree._Element | None, local: str) -> etree._Element | None:
    if root is None:
        return None
    return next((c for c in _children(root) if etree.QName(c).localname == local), None)


def _text(el: etree._Element | None, local: str) -> str | None:
    if el is None:
        return None
    value = el.findtext(f"{{{MSG}}}{local}")
    return value.strip() if value else None


def _error_line(err: etree._Element) -> str:
    code = _text(err, "code") or "?"
    level = _text(err, "level")
    reason = _text(err, "reason") or ""
    return f"{code}{f' ({level})' if level else ''}: {reason}".rstrip(": ")


def _first(errors: list[str]) -> str:
    if not errors:
        return ""
    return errors[0] + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")


# ---------------------------------------------------------------------------- SOAP


@dataclass(frozen=True)
class SoapTarget:
    """Where and how one message goes over SOAP."""

    address: str
    action: str
    operation: str
    input_element: str  # Clark name the operation takes
    wsdl: str


def _is_wsdl_url(url: str) -> bool:
    query = urlsplit(url).query.lower()
    return query == "wsdl" or query.startswith("wsdl") or "&wsdl" in query


def _strip_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _masked(url: str) -> str:
    from routing.config import masked

    return masked(url)


def _session_class() -> type:
    import requests

    class Session(requests.Session):
        """requests lets $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE override a session's ``verify``
        for every request that does not pass its own (zeep's WSDL loads do not): an explicit
        ``--ca-file`` or ``--insecure`` must win over the environment."""

        def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[override]
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if verify is None and self.verify is not True:
                settings["verify"] = self.verify
            return settings

    return Session


def _Session() -> Any:
    global _SESSION_CLASS
    if _SESSION_CLASS is None:
        _SESSION_CLASS = _session_class()
    return _SESSION_CLASS()


_SESSION_CLASS: type | None = None


@dataclass(frozen=True)
class TlsOptions:
    """HTTPS settings for SOAP: ``verify`` True (the system's CAs), a CA bundle file, or False
    (``--insecure``); ``cert`` / ``key``: a client certificate (PEM) for endpoints that ask for
    one (mutual TLS)."""

    verify: bool | str = True
    cert: str | None = None
    key: str | None = None


class SoapSender:
    """Sends over SOAP 1.1 with zeep resolving WSDL, operation, SOAPAction and address."""

    def __init__(
        self,
        to: str | None = None,
        *,
        wsdl: str | None = None,
        timeout: float = 30.0,
        limits: Limits = DEFAULT_LIMITS,
        tls: TlsOptions | None = None,
    ) -> None:
        import zeep

        self.to = to
        self.wsdl = wsdl
        self.timeout = timeout
        self.limits = limits
        if to is not None:
            parts = urlsplit(to)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise TargetError(f"--to {_masked(to)!r} is not an http(s):// URL with a host")
        self.session = _Session()
        # the same session loads the WSDL and its XSDs and posts the messages: one TLS setting
        # and one set of credentials (user:password in the URL: HTTP basic) for all of them
        tls = tls or TlsOptions()
        self.session.verify = tls.verify
        if tls.cert:
            self.session.cert = (tls.cert, tls.key) if tls.key else tls.cert
        self.transport = zeep.Transport(
            session=self.session, timeout=timeout, operation_timeout=timeout
        )
        # another vendor's WSDL is untrusted input too: no DTDs, no entities (SEC-3)
        self.settings = zeep.Settings(strict=False, forbid_dtd=True, forbid_entities=True)
        self._clients: dict[str, Any] = {}

    # ------------------------------------------------------------------ where
    def wsdl_for(self, item: Outgoing) -> tuple[str, str | None]:
        """(WSDL location, the address the user named or None to take the WSDL's)."""
        if self.wsdl is not None:
            return self.wsdl, self.to
        to = self.to or DEFAULT_SOAP
        if _is_wsdl_url(to):
            return to, None
        path = urlsplit(to).path.rstrip("/")
        if path in ("", "/ws") or path.endswith("/ws"):
            from endpoints.soap.services import service_for_message

            found = service_for_message(item.element, item.noun, item.verb)
            if found is None:
                raise TargetError(
                    f"cimbus offers no SOAP service that takes {item.element} "
                    f"(known nouns: {', '.join(ns.PROFILES)})"
                )
            service, _ = found
            base = _strip_query(to).rstrip("/")
            folder = base if base.endswith("/ws") else f"{base}/ws"
            url = f"{folder}/{service.name}"
            return f"{url}?wsdl", url
        return f"{_strip_query(to)}?wsdl", _strip_query(to)

    def _reason(self, exc: BaseException, shown: str) -> str:
        """Why a connection failed; over TLS 1.3 a server that wants a client certificate
        completes the handshake and then drops the connection: say what may be missing."""
        reason = _request_reason(exc)
        if (
            shown.startswith("https:")
            and not self.session.cert
            and any(
                hint in reason
                for hint in ("closed connection", "closed the connection", "refused the handshake")
            )
        ):
            reason += " (if the server wants a client certificate: --cert)"
        return reason

    def client(self, location: str) -> Any:
        client = self._clients.get(location)
        if client is None:
            client = self._clients[location] = self._load(location)
        return client

    def _load(self, location: str) -> Any:
        import requests
        import zeep
        import zeep.exceptions

        shown = _masked(location)
        if "://" not in location and not os.path.exists(location):
            raise TargetError(f"WSDL {location}: no such file", fatal=True)
        try:
            return zeep.Client(location, transport=self.transport, settings=self.settings)
        except requests.exceptions.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            raise TargetError(
                f"no WSDL at {shown} (HTTP {status}); give the service's URL with --to or its "
                "WSDL with --wsdl"
            ) from None
        except requests.exceptions.Timeout:
            raise TargetError(f"{shown}: no answer within {self.timeout:g} s", fatal=True) from None
        except requests.exceptions.RequestException as exc:
            raise TargetError(
                f"cannot reach {shown}: {self._reason(exc, shown)}", fatal=True
            ) from None
        except (zeep.exceptions.Error, etree.LxmlError, ValueError, OSError, KeyError) as exc:
            reason = str(exc) or type(exc).__name__
            raise TargetError(f"{shown} is not a usable WSDL: {reason}") from None

    def target(self, item: Outgoing) -> SoapTarget:
        location, address = self.wsdl_for(item)
        client = self.client(location)
        ops = _operations(client)
        if not ops:
            raise TargetError(f"WSDL {_masked(location)} has no document/literal SOAP operation")
        wanted = item.qname
        found = next((op for op in ops if op[2] == wanted), None)
        if found is None and item.element in GENERIC and item.noun and item.verb:
            name = _operation_name(item.verb, item.noun)
            found = next((op for op in ops if op[0] == name), None)
        if found is None:
            same_local = [op for op in ops if etree.QName(op[2]).localname == item.element]
            if same_local:
                raise TargetError(
                    f"WSDL {_masked(location)}: operation {same_local[0][0]} takes "
                    f"{same_local[0][2]}, the message is {wanted} (another namespace: send a "
                    "message written in the WSDL's namespaces)"
                )
            offered = ", ".join(sorted(op[0] for op in ops))
            raise TargetError(
                f"WSDL {_masked(location)} has no operation that takes {item.element}; it "
                f"offers {offered}"
            )
        name, action, element, wsdl_address = found
        return SoapTarget(address or wsdl_address, action, name, element, location)

    # ------------------------------------------------------------------ send
    def send(self, item: Outgoing) -> Answer:
        """Send one message and read the answer. A message the target has no operation for is
        UNSENT; an unreachable target raises :class:`TargetError` (``fatal``)."""
        try:
            target = self.target(item)
        except TargetError as exc:
            if exc.fatal:
                raise
            return Answer("UNSENT", str(exc))
        if not target.address:
            return Answer(
                "UNSENT", f"WSDL {_masked(target.wsdl)} names no address; give it with --to"
            )
        return self._post(item, target)

    def _post(self, item: Outgoing, target: SoapTarget) -> Answer:
        import requests

        soap12 = item.envelope is not None and etree.QName(item.envelope).namespace == SOAP12
        if item.envelope is not None:
            data = etree.tostring(item.envelope, encoding="UTF-8", xml_declaration=True)
        else:
            message = item.message
            if message.tag != target.input_element:
                message = _conform(message, target.input_element)
            data = _envelope(message)
        if soap12:
            headers = {
                "Content-Type": f'application/soap+xml; charset=utf-8; action="{target.action}"'
            }
        else:
            headers = {
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f'"{target.action}"',
            }
        started = time.monotonic()
        deadline = started + self.timeout
        shown = _masked(target.address)
        try:
            response = self.session.post(
                target.address,
                data=data,
                headers=headers,
                timeout=(min(5.0, self.timeout), self.timeout),
                stream=True,
            )
            with response:
                content = self._read(response, deadline)
        except _TooLarge as exc:
            return Answer("ERROR", f"{shown}: {exc.reason} (--max-bytes)")
        except _Trickle:
            return Answer("TIMEOUT", f"the answer from {shown} took longer than {self.timeout:g} s")
        except requests.exceptions.ConnectTimeout:
            raise TargetError(
                f"cannot reach {shown}: no connection within 5 s", fatal=True
            ) from None
        except requests.exceptions.ReadTimeout:
            return Answer("TIMEOUT", f"no answer from {shown} within {self.timeout:g} s")
        except requests.exceptions.ConnectionError as exc:
            raise TargetError(
                f"cannot reach {shown}: {self._reason(exc, shown)}", fatal=True
            ) from None
        except requests.exceptions.RequestException as exc:
            return Answer("ERROR", f"{shown}: {_request_reason(exc)}")
        answer = self._answer(response.status_code, response.headers, content, shown)
        answer.seconds = time.monotonic() - started
        return answer

    def _read(self, response: Any, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > self.limits.max_bytes:
                raise _TooLarge(size)
            if time.monotonic() > deadline:
                raise _Trickle
        return b"".join(chunks)

    def _answer(self, status: int, headers: Any, content: bytes, shown: str) -> Answer:
        from endpoints.soap import wire
        from endpoints.soap.faults import SoapFault

        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if (ctype and not ctype.endswith("xml")) or (status >= 400 and not content.strip()):
            what = HTTP_MEANING.get(status)
            if what is not None:  # a status that says more than "not SOAP"
                return Answer("ERROR", f"HTTP {status} from {shown}: {what}")
            if ctype:
                return Answer("ERROR", f"HTTP {status} from {shown} is {ctype}, not a SOAP answer")
        try:
            message = wire.unwrap(content, limits=self.limits, status=status)
        except SoapFault as fault:
            errors: list[str] = []
            if fault.detail:
                errors = read_answer(fault.detail, limits=self.limits).errors
            extra = f"; {_first(errors)}" if errors else ""
            return Answer(
                "FAULT",
                f"SOAP Fault {fault.code} (HTTP {status}): {fault.reason}{extra}",
                fault.detail,
                errors,
            )
        except (wire.NotSoap, CodecError) as exc:
            reason = exc.reason if isinstance(exc, CodecError) else str(exc)
            return Answer("ERROR", f"HTTP {status} from {shown} is not a SOAP answer: {reason}")
        answer = read_answer(message, limits=self.limits)
        if status != 200 and answer.result == "OK":
            answer.result = "ERROR"
            answer.summary += f" (but HTTP {status})"
        return answer

    def close(self) -> None:
        self.session.close()


#: what an HTTP status without a SOAP answer means for someone sending a message
HTTP_MEANING = {
    401: "the endpoint wants credentials (https://user:password@host/... in --to, or --cert)",
    403: "the endpoint refused these credentials or this client",
    404: "no service at this address (check --to, or the WSDL's soap:address)",
    405: "this address does not take POST (is it the service's address?)",
    413: "the message is larger than the endpoint takes",
    415: "the endpoint does not take text/xml (a SOAP 1.2 endpoint?)",
    502: "the gateway in front of the endpoint got no answer from it",
    503: "the endpoint is unavailable",
    504: "the gateway in front of the endpoint timed out",
}


class _Trickle(Exception):
    pass


class _TooLarge(UnsafeXmlError):
    def __init__(self, size: int) -> None:
        super().__init__(f"the answer is over {size} bytes")


def _request_reason(exc: BaseException) -> str:
    """The innermost readable reason of a requests error (urllib3 nests them)."""
    import requests

    if isinstance(exc, requests.exceptions.SSLError):
        return _tls_reason(exc)
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        inner = seen.__context__ or seen.__cause__
        if inner is None:
            inner = next(
                (a for a in getattr(seen, "args", ()) if isinstance(a, BaseException)), None
            )
        if inner is None:
            break
        seen = inner
    text = str(seen or exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host"):
        if marker in text:
            return marker
    return text or type(exc).__name__


def _tls_reason(exc: BaseException) -> str:
    """A failed TLS handshake in one line, with what to do about it."""
    import re

    text = str(exc)
    found = re.search(r"certificate verify failed: ([^(')\]]+)", text)
    if found:
        return (
            f"TLS: the server's certificate is not trusted ({found.group(1).strip()}; "
            "--ca-file FILE trusts its CA, --insecure skips the check)"
        )
    lowered = text.lower()
    if "alert" in lowered and "certificate" in lowered:
        return "TLS: the server refused the handshake (it wants a valid client certificate)"
    if "eof occurred in violation of protocol" in lowered or "unexpected eof" in lowered:
        return "TLS: the server closed the connection during the handshake"
    found = re.search(r"\[SSL: [^\]]+\][^(')]*", text) or re.search(
        r"SSL\w*Error\(\d+, '([^']+)'", text
    )
    if found:
        return f"TLS: {(found.group(1) if found.groups() else found.group(0)).strip()}"
    return f"TLS: {text}"


def _operations(client: Any) -> list[tuple[str, str, str, str]]:
    """(name, SOAPAction, input element, address) of each document/literal operation of the
    WSDL's SOAP 1.1 ports (SOAP 1.2 ports when it has no 1.1 port)."""
    from zeep.wsdl.bindings.soap import Soap11Binding

    ports = [port for service in client.wsdl.services.values() for port in service.ports.values()]
    soap11 = [p for p in ports if isinstance(p.binding, Soap11Binding)]
    out: list[tuple[str, str, str, str]] = []
    for port in soap11 or ports:
        address = (port.binding_options or {}).get("address") or ""
        for name, op in port.binding._operations.items():
            body = getattr(op.input, "body", None)
            qname = getattr(body, "qname", None)
            if qname is None:
                continue
            out.append((name, op.soapaction or "", qname.text, address))
    return out


def _operation_name(verb: str, noun: str) -> str:
    if verb == "reply":
        return f"Reply{noun}"
    if verb == "get":
        return f"Get{noun}"
    return f"{ns.VERB_PREFIX.get(verb, verb.capitalize())}{noun}"


def _conform(message: etree._Element, element: str) -> etree._Element:
    """A generic-form message put into the operation's typed wrapper (same structure: the
    wrapper and its Header/Request/Reply/Payload children change namespace, their content
    does not)."""
    want = etree.QName(element)
    old = etree.QName(message).namespace
    nsmap = {k: v for k, v in message.nsmap.items() if k != "m"}
    nsmap["m"] = want.namespace
    nsmap.setdefault("msg", MSG)
    new = etree.Element(element, nsmap=nsmap)
    for child in message:
        child = copy.deepcopy(child)
        if isinstance(child.tag, str) and etree.QName(child).namespace == old:
            local = etree.QName(child).localname
            if local in ("Header", "Request", "Reply", "Payload"):
                child.tag = f"{{{want.namespace}}}{local}"
        new.append(child)
    return new


def _envelope(message: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soapenv": SOAP11})
    etree.SubElement(env, f"{{{SOAP11}}}Body").append(copy.deepcopy(message))
    return etree.tostring(env, encoding="UTF-8", xml_declaration=True)


# ---------------------------------------------------------------------------- brokers


class BrokerSender:
    """Sends to cimbus over AMQP or MQTT as a counterpart system would (one client per sending
    system), waiting for the answer correlated by MessageID."""

    def __init__(self, url: str, *, system: str | None, timeout: float, config: Any) -> None:
        scheme = urlsplit(url).scheme
        if scheme in ("amqp", "amqps"):
            self.transport = "amqp"
        elif scheme in ("mqtt", "mqtts"):
            self.transport = "mqtt"
        else:
            raise TargetError(
                f"--to {_masked(url)!r}: give an http(s):// SOAP URL, an amqp(s):// or an "
                "mqtt(s):// broker URL"
            )
        self.url = url
        self.system = system
        self.timeout = timeout
        self.config = config
        self._clients: dict[str, Any] = {}
        self._probed = False

    def _probe(self) -> None:
        from conformance.harness import HarnessError, probe_amqp, probe_mqtt

        probe = probe_amqp if self.transport == "amqp" else probe_mqtt
        try:
            probe(self.url, min(self.timeout, 10.0))
        except HarnessError as exc:
            raise TargetError(str(exc), fatal=True) from None
        self._probed = True

    def client(self, system: str) -> Any:
        found = self._clients.get(system)
        if found is not None:
            return found
        if not self._probed:
            self._probe()
        if self.transport == "amqp":
            from endpoints.amqp import AmqpClient

            amqp = self.config.amqp
            client = AmqpClient(
                self.url,
                system,
                exchange=amqp.exchange,
                inbound=amqp.inbound_queue,
                dead_letter_exchange=amqp.dead_letter_exchange,
                serves=False,
                # a request nobody answered in time expires unconsumed: it is not executed
                # later, after this command has reported that it got no answer
                message_ttl=self.timeout,
            )
        else:
            from endpoints.mqtt import MqttClient

            mqtt = self.config.mqtt
            client = MqttClient(
                self.url,
                system,
                topic_prefix=mqtt.topic_prefix,
                qos=mqtt.qos,
                timeout=self.timeout,
                message_expiry=self.timeout,  # as the AMQP TTL above
            )
        self._clients[system] = client
        return client

    def send(self, item: Outgoing) -> Answer:
        from endpoints.client import ReplyTimeout

        system = self.system or item.source or "cimbus-send"
        client = self.client(system)
        started = time.monotonic()
        try:
            if item.is_reply:
                client.send(item.body())
                what = (
                    "RabbitMQ confirmed it"
                    if self.transport == "amqp"
                    else "the broker acknowledged it"
                )
                return Answer(
                    "SENT", f"published as {system}; {what} (cimbus does not answer a reply)"
                )
            body = client.request(item.body(), timeout=self.timeout)
        except ReplyTimeout:
            expiry = " (it expires unconsumed on the broker)"
            return Answer("TIMEOUT", f"no answer from cimbus within {self.timeout:g} s{expiry}")
        except Exception as exc:  # a broker that went away meanwhile: one line, not a traceback
            return Answer("ERROR", f"{self.transport.upper()}: {exc or type(exc).__name__}")
        answer = read_answer(body)
        answer.seconds = time.monotonic() - started
        return answer

    def close(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):  # closing must not hide the report
                client.close()
        self._clients.clear()


def sender_for(
    to: str | None,
    *,
    wsdl: str | None,
    system: str | None,
    timeout: float,
    config: Any,
    limits: Limits = DEFAULT_LIMITS,
    tls: TlsOptions | None = None,
) -> SoapSender | BrokerSender:
    """The sender for ``--to`` (SOAP when it is http(s):// or not given)."""
    if wsdl is not None or to is None or urlsplit(to).scheme in ("http", "https"):
        if to is None and wsdl is None:
            to = _default_soap(config)
        return SoapSender(to, wsdl=wsdl, timeout=timeout, limits=limits, tls=tls)
    return BrokerSender(to, system=system, timeout=timeout, config=config)


def _default_soap(config: Any) -> str:
    soap = config.soap
    if soap.public_url:
        return soap.public_url
    host = soap.host if soap.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{soap.port}"


def answer_file(folder: Path, name: str, taken: set[str]) -> Path:
    """``<folder>/<stem>.answer.xml`` for a message file (``stdin`` for ``-``), numbered when
    two messages' files share a name."""
    stem = "stdin" if name == "-" else Path(name).stem
    candidate = f"{stem}.answer.xml"
    n = 2
    while candidate in taken:
        candidate = f"{stem}.{n}.answer.xml"
        n += 1
    taken.add(candidate)
    return folder / candidate


__all__ = [
    "Answer",
    "BrokerSender",
    "InputError",
    "Outgoing",
    "SoapSender",
    "TargetError",
    "TlsOptions",
    "answer_file",
    "read_answer",
    "read_messages",
    "refresh_ids",
    "sender_for",
]
