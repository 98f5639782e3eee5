"""``cimbus send`` over SOAP (BUS-4, BUS-7): zeep resolves the WSDL, the operation that takes
the message, its SOAPAction, SOAP version and address; the message is posted as the file has
it. Every network step is bounded: a WSDL (and the XSDs it imports) by ``--max-bytes`` and
``--timeout``, each exchange by ``--timeout`` as a whole (a server that trickles its answer is
cut off, not only one that stays silent)."""

from __future__ import annotations

import copy
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree

from cim_models import namespaces as ns
from cim_models.errors import CodecError
from cim_models.safexml import DEFAULT_LIMITS, Limits

from ._answer import Answer, _first, read_answer
from ._common import DEFAULT_SOAP, GENERIC, MSG, SOAP11, SOAP12, Secrets, TargetError, masked
from ._input import Outgoing

#: what an HTTP status without a SOAP answer means for someone sending a message
HTTP_MEANING = {
    401: "the endpoint wants credentials (https://user:password@host/... in --to, or --cert)",
    403: "the endpoint refused these credentials or this client",
    404: "no service at this address (check --to, or the WSDL's soap:address)",
    405: "this address does not take POST (is it the service's address?)",
    413: "the message is larger than the endpoint takes",
    415: "the endpoint does not take this content type (SOAP 1.1 text/xml against a SOAP 1.2 "
    "endpoint, or the reverse?)",
    502: "the gateway in front of the endpoint got no answer from it",
    503: "the endpoint is unavailable",
    504: "the gateway in front of the endpoint timed out",
}
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class TlsOptions:
    """HTTPS settings for SOAP: ``verify`` True (the system's CAs), a CA bundle file, or False
    (``--insecure``); ``cert`` / ``key``: a client certificate (PEM) for endpoints that ask for
    one (mutual TLS)."""

    verify: bool | str = True
    cert: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Operation:
    """A document/literal operation of a WSDL port."""

    name: str
    action: str
    element: str | None  # Clark name of the input element; None: zeep could not resolve it
    address: str
    soap: str  # "1.1" or "1.2"


@dataclass(frozen=True)
class SoapTarget:
    """Where and how one message goes over SOAP."""

    address: str
    action: str
    operation: str
    input_element: str  # Clark name the operation takes
    wsdl: str
    soap: str = "1.1"


class _Overdue(Exception):
    """A bounded step did not finish in time (its thread is left to end on its own)."""


def _within(fn: Any, seconds: float) -> Any:
    """``fn()`` in a daemon thread for at most ``seconds``: its result or its exception, or
    :class:`_Overdue`. A blocked socket read cannot be interrupted portably, so the thread is
    abandoned (it ends when the server answers or closes; the process does not wait for it)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=run, name="cimbus-send-http", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise _Overdue
    if "error" in box:
        raise box["error"]
    return box["value"]


class _TooLarge(Exception):
    def __init__(self, url: str, limit: int) -> None:
        super().__init__(f"{url} is larger than {limit} bytes (--max-bytes)")
        self.url = url


class _Fetched(Exception):
    """An HTTP status (>= 400) from a WSDL or XSD fetch, with the URL that answered it."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.url = url
        self.status = status


_CLASSES: dict[str, type] = {}


def _classes() -> tuple[type, type]:
    """(Session, Transport) made on first use (requests and zeep are imported lazily)."""
    if not _CLASSES:
        import requests
        import zeep

        class Session(requests.Session):
            """requests lets $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE override a session's
            ``verify`` for every request that does not pass its own (zeep's WSDL loads do
            not): an explicit ``--ca-file`` or ``--insecure`` must win over the environment."""

            def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[override]
                settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
                if verify is None and self.verify is not True:
                    settings["verify"] = self.verify
                return settings

        class Transport(zeep.Transport):
            """zeep's transport with each WSDL / XSD document bounded in size, read as a
            stream, and an HTTP error naming the document that failed (an import, not the
            WSDL, may be the one missing)."""

            max_bytes = DEFAULT_LIMITS.max_bytes

            def load(self, url: str) -> bytes:  # type: ignore[override]
                scheme = urlsplit(url).scheme
                if scheme not in ("http", "https", "file") and url:
                    path = os.path.expanduser(url)
                    if os.path.getsize(path) > self.max_bytes:
                        raise _TooLarge(url, self.max_bytes)
                return super().load(url)

            def _load_remote_data(self, url: str) -> bytes:  # type: ignore[override]
                response = self.session.get(url, timeout=self.load_timeout, stream=True)
                with response:
                    if response.status_code >= 400:
                        raise _Fetched(url, response.status_code)
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in response.iter_content(65536):
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise _TooLarge(url, self.max_bytes)
                        chunks.append(chunk)
                    return b"".join(chunks)

        _CLASSES["session"] = Session
        _CLASSES["transport"] = Transport
    return _CLASSES["session"], _CLASSES["transport"]


def _is_wsdl_url(url: str) -> bool:
    query = urlsplit(url).query.lower()
    return any(part.split("=")[0] == "wsdl" for part in query.split("&"))


def _with_path(url: str, path: str) -> str:
    """``url`` with ``path`` instead of its path, its query kept (API keys of a gateway)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _wsdl_of(url: str) -> str:
    """The WSDL URL of a service address: its query plus ``wsdl``."""
    parts = urlsplit(url)
    query = f"{parts.query}&wsdl" if parts.query else "wsdl"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _without_wsdl(url: str) -> str:
    parts = urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if p and p.split("=")[0].lower() != "wsdl")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def check_url(url: str, option: str = "--to") -> None:
    """An http(s) URL with a host and a valid port, or :class:`TargetError` (fatal)."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port out of range
        host = parts.hostname
    except ValueError as exc:
        raise TargetError(
            f"{option} {masked(url)!r} is not a usable URL: {exc}", fatal=True
        ) from None
    if parts.scheme not in ("http", "https") or not host:
        raise TargetError(
            f"{option} {masked(url)!r} is not an http(s):// URL with a host", fatal=True
        )
    del port


class SoapSender:
    """Sends over SOAP with zeep resolving WSDL, operation, SOAPAction, version and address.

    ``to``: a cimbus base URL (``cimbus=True``, or a path that is empty or ends in ``/ws``:
    the service is chosen per message), a service address (its WSDL at ``?wsdl``) or a WSDL
    URL; ``wsdl``: a WSDL URL or file whose soap:address is used unless ``to`` is given."""

    def __init__(
        self,
        to: str | None = None,
        *,
        wsdl: str | None = None,
        timeout: float = 30.0,
        limits: Limits = DEFAULT_LIMITS,
        tls: TlsOptions | None = None,
        cimbus: bool = False,
    ) -> None:
        import zeep

        if to is not None:
            check_url(to)
        if wsdl is not None and "://" in wsdl:
            check_url(wsdl, "--wsdl")
        self.to = to
        self.wsdl = wsdl
        self.cimbus = cimbus
        self.timeout = timeout
        self.limits = limits
        self.secrets = Secrets(to, wsdl)
        session_class, transport_class = _classes()
        self.session = session_class()
        # the same session loads the WSDL and its XSDs and posts the messages: one TLS setting
        # and one set of credentials (user:password in the URL: HTTP basic) for all of them
        tls = tls or TlsOptions()
        self.session.verify = tls.verify
        if tls.cert:
            self.session.cert = (tls.cert, tls.key) if tls.key else tls.cert
        self.transport = transport_class(
            session=self.session, timeout=timeout, operation_timeout=timeout
        )
        self.transport.max_bytes = limits.max_bytes
        # another vendor's WSDL is untrusted input too: no DTDs, no entities (SEC-3)
        self.settings = zeep.Settings(strict=False, forbid_dtd=True, forbid_entities=True)
        self._clients: dict[str, Any] = {}
        self._failed: dict[str, TargetError] = {}

    def _shown(self, text: str) -> str:
        return self.secrets.mask(masked(text) if "://" in text and " " not in text else text)

    # ------------------------------------------------------------------ where
    def wsdl_for(self, item: Outgoing) -> tuple[str, str | None]:
        """(WSDL location, the address the user named or None to take the WSDL's)."""
        if self.wsdl is not None:
            return self.wsdl, self.to
        to = self.to or DEFAULT_SOAP
        if _is_wsdl_url(to):
            return to, None
        path = urlsplit(to).path.rstrip("/")
        if self.cimbus or path == "" or path.endswith("/ws"):
            from endpoints.soap.services import service_for_message

            found = service_for_message(item.element, item.noun, item.verb)
            if found is None:
                raise TargetError(
                    f"cimbus offers no SOAP service that takes {item.element} "
                    f"(known nouns: {', '.join(ns.PROFILES)})"
                )
            service, _ = found
            folder = path if path.endswith("/ws") else f"{path}/ws"
            url = _with_path(to, f"{folder}/{service.name}")
            return _wsdl_of(url), url
        return _wsdl_of(to), to

    def client(self, location: str) -> Any:
        if location in self._failed:
            raise self._failed[location]
        client = self._clients.get(location)
        if client is None:
            try:
                client = self._clients[location] = self._load(location)
            except TargetError as exc:
                if self.wsdl is not None:  # the one WSDL of the run: nothing can be sent
                    exc.fatal = True
                self._failed[location] = exc
                raise
        return client

    def _load(self, location: str) -> Any:
        import requests
        import zeep

        shown = self._shown(location)
        if "://" not in location and not os.path.isfile(location):
            raise TargetError(f"WSDL {location}: no such file", fatal=True)
        try:
            return _within(
                lambda: zeep.Client(location, transport=self.transport, settings=self.settings),
                self.timeout,
            )
        except _Overdue:
            raise TargetError(
                f"WSDL {shown} (with the XSDs it imports) not loaded within {self.timeout:g} s",
                fatal=True,
            ) from None
        except _TooLarge as exc:
            raise TargetError(f"WSDL {shown}: {self._shown(str(exc))}") from None
        except _Fetched as exc:
            if _without_wsdl(exc.url) == _without_wsdl(location) or exc.url == location:
                raise TargetError(
                    f"no WSDL at {shown} (HTTP {exc.status}); give the service's URL with --to "
                    "or its WSDL with --wsdl"
                ) from None
            raise TargetError(
                f"WSDL {shown} imports {self._shown(exc.url)}, which answers HTTP {exc.status}"
            ) from None
        except requests.exceptions.Timeout:
            raise TargetError(f"{shown}: no answer within {self.timeout:g} s", fatal=True) from None
        except requests.exceptions.RequestException as exc:
            raise TargetError(
                f"cannot reach {shown}: {self._reason(exc, shown)}", fatal=True
            ) from None
        except Exception as exc:  # zeep, lxml, anything a broken WSDL raises: one line
            reason = self._shown(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
            what = reason or type(exc).__name__
            if isinstance(exc, AttributeError | TypeError) or "NoneType" in what:
                what = "not an XML document zeep can read"
            raise TargetError(f"{shown} is not a usable WSDL: {what}") from None

    def _reason(self, exc: BaseException, shown: str) -> str:
        """Why a connection failed; over TLS 1.3 a server that wants a client certificate
        completes the handshake and then drops the connection: say what may be missing."""
        reason = self.secrets.mask(request_reason(exc))
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

    def target(self, item: Outgoing) -> SoapTarget:
        location, address = self.wsdl_for(item)
        client = self.client(location)
        shown = self._shown(location)
        all_ops = _operations(client)
        ops = [op for op in all_ops if op.element is not None]
        if not ops:  # nothing can be sent through this WSDL: with --wsdl, the run stops
            if all_ops:
                raise TargetError(
                    f"WSDL {shown}: zeep could not resolve the input elements of its operations "
                    "(an XSD import without schemaLocation, or one that failed to load?)",
                    fatal=self.wsdl is not None,
                )
            raise TargetError(
                f"WSDL {shown} defines no document/literal SOAP operation (is it a WSDL?)",
                fatal=self.wsdl is not None,
            )
        found = _match(item, ops)
        if found is None:
            same_local = [op for op in ops if etree.QName(op.element).localname == item.element]
            if same_local:
                op = same_local[0]
                raise TargetError(
                    f"WSDL {shown}: operation {op.name} takes {op.element}, the message is "
                    f"{item.qname} (another namespace: send a message written in the WSDL's "
                    "namespaces)"
                )
            named = [op for op in ops if op.name == item.element]
            offered = ", ".join(sorted({op.name for op in ops}))
            extra = f" ({named[0].name} takes {named[0].element})" if named else ""
            raise TargetError(
                f"WSDL {shown} has no operation that takes {item.element}; it offers "
                f"{offered}{extra}"
            )
        return SoapTarget(
            address or found.address, found.action, found.name, found.element or "", location,
            found.soap,
        )  # fmt: skip

    # ------------------------------------------------------------------ send
    def send(self, item: Outgoing) -> Answer:
        """Send one message and read the answer. A message the target has no operation for is
        UNSENT; a target that cannot be used raises :class:`TargetError` (``fatal``)."""
        try:
            target = self.target(item)
        except TargetError as exc:
            if exc.fatal:
                raise
            return Answer("UNSENT", str(exc))
        if not target.address:
            return Answer(
                "UNSENT", f"WSDL {self._shown(target.wsdl)} names no address; give it with --to"
            )
        return self._exchange(item, target)

    def _payload(self, item: Outgoing, target: SoapTarget) -> tuple[bytes, dict[str, str]]:
        soap = target.soap
        if item.envelope is not None:  # sent as it is, in its own SOAP version
            data = etree.tostring(item.envelope, encoding="UTF-8", xml_declaration=True)
            soap = "1.2" if etree.QName(item.envelope).namespace == SOAP12 else "1.1"
        else:
            message = item.message
            if message.tag != target.input_element:
                message = conform(message, target.input_element)
            data = envelope(message, soap)
        if soap == "1.2":
            return data, {
                "Content-Type": f'application/soap+xml; charset=utf-8; action="{target.action}"'
            }
        return data, {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{target.action}"'}

    def _exchange(self, item: Outgoing, target: SoapTarget) -> Answer:
        import requests

        data, headers = self._payload(item, target)
        started = time.monotonic()
        shown = self._shown(target.address)
        try:
            status, response_headers, content, url = _within(
                lambda: self._post(target.address, data, headers), self.timeout
            )
        except _Overdue:
            return Answer("TIMEOUT", f"no complete answer from {shown} within {self.timeout:g} s")
        except _TooLarge:
            return Answer(
                "ERROR",
                f"the answer from {shown} is larger than {self.limits.max_bytes} bytes (--max-bytes)",
            )
        except requests.exceptions.ConnectTimeout:
            raise TargetError(
                f"cannot reach {shown}: no connection within {min(5.0, self.timeout):g} s",
                fatal=True,
            ) from None
        except requests.exceptions.ReadTimeout:
            return Answer("TIMEOUT", f"no answer from {shown} within {self.timeout:g} s")
        except requests.exceptions.ConnectionError as exc:
            raise TargetError(
                f"cannot reach {shown}: {self._reason(exc, shown)}", fatal=True
            ) from None
        except requests.exceptions.RequestException as exc:
            return Answer("ERROR", f"{shown}: {self.secrets.mask(request_reason(exc))}")
        answer = self._answer(status, response_headers, content, self._shown(url))
        answer.seconds = time.monotonic() - started
        return answer

    def _post(self, url: str, data: bytes, headers: dict[str, str]) -> tuple[int, Any, bytes, str]:
        """POST, following 307/308 (which keep the method and body); a 301/302/303 is
        returned as it is (following it would turn the POST into a GET)."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self.session.post(
                url,
                data=data,
                headers=headers,
                timeout=(min(5.0, self.timeout), self.timeout),
                stream=True,
                allow_redirects=False,
            )
            with response:
                if response.status_code in (307, 308) and response.headers.get("location"):
                    url = urljoin(url, response.headers["location"])
                    continue
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_content(65536):
                    size += len(chunk)
                    if size > self.limits.max_bytes:
                        raise _TooLarge(url, self.limits.max_bytes)
                    chunks.append(chunk)
                return response.status_code, response.headers, b"".join(chunks), url
        return 310, {}, b"", url  # too many redirects (answered below)

    def _answer(self, status: int, headers: Any, content: bytes, shown: str) -> Answer:
        from endpoints.soap import wire
        from endpoints.soap.faults import SoapFault

        if status in (301, 302, 303):
            where = headers.get("location", "")
            return Answer(
                "ERROR",
                f"HTTP {status} from {shown}: the endpoint moved to {self._shown(where)}; send "
                "there (--to): following it would turn the POST into a GET",
            )
        if status == 310:
            return Answer("ERROR", f"{shown}: more than {MAX_REDIRECTS} redirects")
        if status in (200, 202) and not content.strip():
            return Answer(
                "ACCEPTED", f"HTTP {status} without an answer (a one-way operation took it)"
            )
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
            what = HTTP_MEANING.get(status)
            if what is not None:
                return Answer("ERROR", f"HTTP {status} from {shown}: {what}")
            return Answer("ERROR", f"HTTP {status} from {shown} is not a SOAP answer: {reason}")
        answer = read_answer(message, limits=self.limits)
        if status != 200 and answer.result == "OK":
            answer.result = "ERROR"
            answer.summary += f" (but HTTP {status})"
        return answer

    def close(self) -> None:
        self.session.close()


def request_reason(exc: BaseException) -> str:
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


def _operations(client: Any) -> list[Operation]:
    """The document/literal operations of the WSDL's SOAP 1.1 ports (SOAP 1.2 ports when it
    has no 1.1 port), with the SOAP version each binding speaks."""
    from zeep.wsdl.bindings.soap import Soap11Binding, Soap12Binding

    ports = [port for service in client.wsdl.services.values() for port in service.ports.values()]
    soap11 = [p for p in ports if isinstance(p.binding, Soap11Binding)]
    soap12 = [p for p in ports if isinstance(p.binding, Soap12Binding)]
    out: list[Operation] = []
    for port in soap11 or soap12:
        version = "1.2" if isinstance(port.binding, Soap12Binding) else "1.1"
        address = (port.binding_options or {}).get("address") or ""
        for name, op in port.binding._operations.items():
            body = getattr(op.input, "body", None)
            qname = getattr(body, "qname", None)
            out.append(
                Operation(
                    name, op.soapaction or "", qname.text if qname else None, address, version
                )
            )
    return out


def _match(item: Outgoing, ops: list[Operation]) -> Operation | None:
    """The operation that takes the message: its element exactly; a generic-form message by
    the operation its verb and noun name; a typed message whose wrapper namespace is the
    other IEC wrapper of the same noun (a Get reply written in ``Get<Noun>Message``) by
    element name."""
    found = next((op for op in ops if op.element == item.qname), None)
    if found is not None:
        return found
    if item.element in GENERIC and item.noun and item.verb:
        name = operation_name(item.verb, item.noun)
        return next((op for op in ops if op.name == name), None)
    noun = ns.noun_of_wrapper(etree.QName(item.message).namespace or "")
    if noun is None:
        return None
    for op in ops:
        q = etree.QName(op.element or "")
        if q.localname == item.element and ns.noun_of_wrapper(q.namespace or "") == noun:
            return op
    return None


def operation_name(verb: str, noun: str) -> str:
    if verb == "reply":
        return f"Reply{noun}"
    if verb == "get":
        return f"Get{noun}"
    return f"{ns.VERB_PREFIX.get(verb, verb.capitalize())}{noun}"


_WRAPPER_LEVEL = ("Header", "Request", "Reply", "Payload")
_REQUEST_FIELDS = ("StartTime", "EndTime", "Option", "ID")


def conform(message: etree._Element, element: str) -> etree._Element:
    """The message put into the operation's wrapper ``element`` (same structure: a generic
    ``RequestMessage`` into ``CreateEndDeviceControls``, a reply written in another IEC wrapper
    namespace of its noun into the one the operation takes). The wrapper and its Header /
    Request / Reply / Payload children change namespace; in a ``Get<Noun>`` wrapper the
    Request's own fields (StartTime, EndTime, Option, ID) belong to the wrapper namespace
    too, as IEC 61968-100 defines it; nothing else changes."""
    want = etree.QName(element)
    old = etree.QName(message).namespace
    get_wrapper = ns.is_get_wrapper(want.namespace or "")
    nsmap = {k: v for k, v in message.nsmap.items() if k != "m"}
    nsmap["m"] = want.namespace
    nsmap.setdefault("msg", MSG)
    new = etree.Element(element, nsmap=nsmap)
    for child in message:
        child = copy.deepcopy(child)
        if isinstance(child.tag, str) and etree.QName(child).namespace == old:
            local = etree.QName(child).localname
            if local in _WRAPPER_LEVEL:
                child.tag = f"{{{want.namespace}}}{local}"
                if local == "Request":
                    _request_fields(child, want.namespace if get_wrapper else MSG)
        new.append(child)
    return new


def _request_fields(request: etree._Element, namespace: str) -> None:
    for field_ in request:
        if not isinstance(field_.tag, str):
            continue
        q = etree.QName(field_)
        if (
            q.localname in _REQUEST_FIELDS
            and q.namespace != namespace
            and (q.namespace == MSG or ns.noun_of_wrapper(q.namespace or "") is not None)
        ):
            field_.tag = f"{{{namespace}}}{q.localname}"


def envelope(message: etree._Element, soap: str = "1.1") -> bytes:
    soap_ns = SOAP12 if soap == "1.2" else SOAP11
    env = etree.Element(f"{{{soap_ns}}}Envelope", nsmap={"soapenv": soap_ns})
    etree.SubElement(env, f"{{{soap_ns}}}Body").append(copy.deepcopy(message))
    return etree.tostring(env, encoding="UTF-8", xml_declaration=True)
