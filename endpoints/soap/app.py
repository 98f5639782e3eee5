"""The SOAP/HTTP endpoint: a FastAPI app serving one IEC 61968-100 service per role and noun
(BUS-4, BUS-7, SEC-3).

=========================  ==================================================================
``POST /ws/<Service>``     a SOAP 1.1 request (``text/xml``, ``SOAPAction``), answered with the
                           operation's ``<Noun>ResponseMessage`` or a SOAP Fault
``GET /ws/<Service>?wsdl`` the service's WSDL 1.1 (document/literal), address = the real URL
``GET /ws/xsd/<File>.xsd`` the XSD profiles the WSDLs import (``cim_models/schemas``)
``GET /ws``                every service with its WSDL URL and operations (HTML or JSON)
``GET /healthz``           the process is alive
``GET /readyz``            the store answers (``bus.store.outbox_backlog()``)
=========================  ==================================================================

A request goes through :mod:`.dispatch` (content type, SOAPAction, size, envelope, operation),
then the whole envelope goes to :meth:`routing.bus.Bus.handle` unchanged: the codec unwraps SOAP
1.1 itself, the audit store keeps exactly the bytes that came over the wire, and nothing is
serialised again on the way in. The endpoint parses the envelope once for its own checks (with
the core's limits); the core parses it again (small next to validation and the store).

How the core's answer becomes HTTP (:func:`render_exchange`):

* ``ex.error.envelope_broken``: SOAP Fault (HTTP 500, ``soapenv:Client``, faultstring = the
  reason, detail = the ``<Noun>FaultMessage`` the core rendered);
* a business failure: HTTP 200 with the ResponseMessage (Result FAILED) from ``ex.reply``;
* success: HTTP 200 with ``ex.reply``;
* no reply (a reply handed to the request waiting for it): HTTP 200 with a minimal
  ``<Noun>ResponseMessage`` (Result OK, or FAILED with the error when the core refused it);
* a FaultMessage from the serving system: SOAP Fault ``soapenv:Server`` with it as detail.

A worker's app for ``uvicorn --workers N`` is built by the composition root
(``cimbus.runtime:soap_worker_app``), not here: endpoints do not import cimbus.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
import threading
from collections.abc import Callable, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from lxml import etree
from starlette.concurrency import run_in_threadpool

from cim_models.build import build_message
from cim_models.errors import CodecError
from cim_models.safexml import parse_bytes
from routing.config import Config, SoapConfig
from routing.envelope import EVENT_VERBS
from routing.errors import BusError, MalformedMessage
from routing.pipeline.parse import PARSED

from . import dispatch, faults, wire
from .faults import SoapFault
from .outbound import SoapOutbound
from .services import Operation, Service, services, xsd_files
from .wsdl import render_wsdl

if TYPE_CHECKING:
    from routing.pipeline import Exchange

log = logging.getLogger("cimbus.soap")

OTHER_METHODS = ["PUT", "DELETE", "PATCH", "OPTIONS"]
#: every resource served to GET answers HEAD too (RFC 9110 section 9.3.2: load-balancer
#: probes, WSDL tooling checking a URL); uvicorn sends the headers without the body
GET_METHODS = ["GET", "HEAD"]
#: a body with a Content-Encoding up to this size is inflated on the event loop
_INLINE_DECODE = 256 * 1024


def _soap_config(config: SoapConfig | Config | None) -> SoapConfig:
    if config is None:
        return SoapConfig()
    return config.soap if isinstance(config, Config) else config


class SoapEndpoint:
    """The request handling behind the routes (sync: it runs in the thread pool)."""

    def __init__(self, bus: Any, config: SoapConfig) -> None:
        self.bus = bus
        self.config = config
        self.limits = bus.codec.limits
        self._bases: dict[tuple[Any, ...], str] = {}

    # ------------------------------------------------------------------ URLs
    def base_url(self, request: Request) -> str:
        if self.config.public_url:
            return self.config.public_url.rstrip("/")
        # Starlette rebuilds request.base_url from the scope for every request: remembered
        # per what it is built from (a bounded number: the Host header is the caller's)
        scope = request.scope
        server = scope.get("server")
        key = (
            scope.get("scheme"),
            tuple(server) if server else None,
            request.headers.get("host"),
            scope.get("root_path", ""),
            scope.get("app_root_path", ""),
        )
        base = self._bases.get(key)
        if base is None:
            base = str(request.base_url).rstrip("/")
            if len(self._bases) < 64:
                self._bases[key] = base
        return base

    # ------------------------------------------------------------------ requests
    def handle(self, service: Service, body: bytes, action: str | None, base: str) -> Response:
        prepared = self._prepare(service, body, action, base)
        if isinstance(prepared, Response):
            return prepared
        meta, op, actor = prepared
        return self.render_exchange(self._bus_handle(body, meta), service, op, actor)

    def handle_many(
        self, items: list[tuple[Service, bytes, str | None, str]]
    ) -> list[Response | Exception]:
        """Several requests with ONE pass through ``Bus.handle_many`` (one store transaction
        for those that never wait; see :class:`_Batcher`). Per request the Response (or the
        exception, answered like one of :meth:`handle`)."""
        results: list[Response | Exception | None] = [None] * len(items)
        to_bus: list[tuple[int, bytes, dict[str, Any], Service, Operation | None, str]] = []
        for i, (service, body, action, base) in enumerate(items):
            try:
                prepared = self._prepare(service, body, action, base)
            except Exception as exc:  # answered with a SOAP fault by the route
                results[i] = exc
                continue
            if isinstance(prepared, Response):
                results[i] = prepared
            else:
                meta, op, actor = prepared
                to_bus.append((i, body, meta, service, op, actor))
        if to_bus:
            exs = self.bus.handle_many(
                [(body, None, meta) for _, body, meta, *_ in to_bus], transport="soap"
            )
            for (i, _, _, service, op, actor), ex in zip(to_bus, exs, strict=True):
                try:
                    results[i] = self.render_exchange(ex, service, op, actor)
                except Exception as exc:
                    results[i] = exc
        return [r if r is not None else RuntimeError("not handled") for r in results]

    def _prepare(
        self, service: Service, body: bytes, action: str | None, base: str
    ) -> Response | tuple[dict[str, Any], Operation | None, str]:
        """The endpoint's own checks: a SOAP fault Response, or what the core gets (meta,
        the operation, the actor URL)."""
        actor = f"{base}/ws/{service.name}"
        meta: dict[str, Any] = {
            "soap_header": None,
            "soap_action": action,
            "service": service.name,
            "principal": None,
        }
        try:
            root = parse_bytes(body, self.limits)
        except CodecError:
            # Unreadable or unsafe XML: the core decides (and records the attempt).
            return meta, None, actor
        try:
            request = dispatch.check_request(root, service, action, actor)
        except SoapFault as fault:
            fault.actor = actor
            log.info("SOAP fault on %s: %s", service.name, fault.reason)
            return faults.response(fault)
        meta["soap_header"] = request.header_bytes
        meta["operation"] = request.operation.name
        meta[PARSED] = root  # parsed with the core's limits: the core does not parse again
        return meta, request.operation, actor

    def _bus_handle(self, body: bytes, meta: dict[str, Any]) -> Exchange:
        return self.bus.handle(body, transport="soap", reply_to=None, meta=meta)

    # ------------------------------------------------------------------ answers
    def render_exchange(
        self, ex: Exchange, service: Service, op: Operation | None, actor: str
    ) -> Response:
        """The HTTP answer for a finished exchange (see the module docstring)."""
        err = ex.error
        if err is not None and err.envelope_broken:
            log.info("SOAP fault on %s: %s", service.name, err.reason)
            return faults.response(faults.fault_for_exchange(ex, service, actor=actor))
        reply = ex.reply
        if reply is None:
            reply = self._minimal_reply(ex, service, err)
        expected = op.output if op else service.response_element
        wrapped = _wrap_as_is(reply, expected)
        if wrapped is not None:  # already the promised element, as cimbus writes it
            return Response(wrapped, 200, media_type=wire.CONTENT_TYPE)
        root = parse_bytes(reply, self.limits)
        if etree.QName(root).localname.endswith("FaultMessage"):
            return faults.response(
                faults.fault_for_reply(wire.to_bytes(root), service, actor=actor)
            )
        root = wire.conform(root, expected)
        # a tree of our own, parsed for this answer: moved into the envelope, not copied
        return Response(wire.wrap(root, take=True), 200, media_type=wire.CONTENT_TYPE)

    def _minimal_reply(self, ex: Exchange, service: Service, err: BusError | None) -> bytes:
        env = ex.envelope
        return build_message(
            "reply",
            service.noun,
            correlation_id=env.message_id if env else None,
            source=getattr(self.bus, "name", None),
            result="FAILED" if err is not None else "OK",
            errors=faults.reply_errors(err) if err is not None else (),
            namespace=service.namespace,
            element=f"{service.noun}ResponseMessage",
        )


_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>"
_ROOT_TAG = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)[\s/>]")
_ENVELOPE_START = (
    _DECLARATION
    + b"\n"
    + f'<soapenv:Envelope xmlns:soapenv="{wire.SOAP11_NS}"><soapenv:Body>'.encode()
)
_ENVELOPE_END = b"</soapenv:Body></soapenv:Envelope>"


def _wrap_as_is(reply: bytes, expected: str) -> bytes | None:
    """The reply in a SOAP envelope without parsing it again, when it is already what the
    operation promises (``expected``: ``{namespace}local``) in the form cimbus writes it (lxml's
    UTF-8 declaration; no comment, CDATA, DOCTYPE or processing instruction). The bytes are
    the same as :func:`wire.wrap` would give. None: take the parsing path."""
    if not reply.startswith(_DECLARATION):
        return None
    body = reply[len(_DECLARATION) :].lstrip()
    m = _ROOT_TAG.match(body)
    if m is None or b"<!" in body or b"<?" in body:
        return None
    prefix, local = m.group(1), m.group(2)
    start = body[: body.find(b">")]
    attr = b"xmlns:" + prefix + b'="' if prefix else b'xmlns="'
    i = start.find(attr)
    if i < 0:
        return None
    j = start.find(b'"', i + len(attr))
    namespace = start[i + len(attr) : j]
    if b"{" + namespace + b"}" + local != expected.encode() or local.endswith(b"FaultMessage"):
        return None
    return _ENVELOPE_START + body.rstrip() + _ENVELOPE_END


class _Batcher:
    """SOAP requests that never wait for anything (events; replies sent to cimbus) are not run
    one per pool thread: they queue for ONE thread, which takes every request that arrived
    meanwhile (at most ``max_batch``) and runs them through :meth:`SoapEndpoint.handle_many`,
    so the batch shares one store transaction and the requests do not contend for the GIL
    with each other. Each caller is answered once its message is durable (the batch's commit).
    A lone request is handled at once. Requests, which may wait for the serving system, keep
    the thread pool (:func:`run_in_threadpool`)."""

    def __init__(self, endpoint: SoapEndpoint, max_batch: int = 64) -> None:
        self.endpoint = endpoint
        self.max_batch = max_batch
        self.batches = 0  # for tests and metrics
        self._cond = threading.Condition()
        self._queue: list[tuple[Any, ...]] = []
        self._thread: threading.Thread | None = None
        self._stopping = False

    async def handle(
        self, service: Service, body: bytes, action: str | None, base: str
    ) -> Response:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Response] = loop.create_future()
        with self._cond:
            if self._thread is None or self._stopping:
                self._stopping = False
                self._thread = threading.Thread(
                    target=self._run, name="cimbus-soap-batch", daemon=True
                )
                self._thread.start()
            self._queue.append((service, body, action, base, loop, future))
            self._cond.notify()
        return await future

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    return
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
            items = [(service, body, action, base) for service, body, action, base, *_ in batch]
            try:
                if len(items) == 1:
                    results: list[Response | Exception] = [self.endpoint.handle(*items[0])]
                else:
                    results = self.endpoint.handle_many(items)
            except Exception as exc:  # answered with a SOAP fault by the route
                results = [exc] * len(batch)
            self.batches += 1
            # one wake-up of each event loop per batch, not one per request
            answers: dict[int, tuple[Any, list[tuple[Any, Response | Exception]]]] = {}
            for (*_, loop, future), result in zip(batch, results, strict=True):
                answers.setdefault(id(loop), (loop, []))[1].append((future, result))
            for loop, pairs in answers.values():
                with contextlib.suppress(RuntimeError):  # the event loop is gone (shutdown)
                    loop.call_soon_threadsafe(_resolve_all, pairs)


def _resolve_all(pairs: list[tuple[asyncio.Future[Response], Response | Exception]]) -> None:
    for future, result in pairs:
        if future.done():  # the client went away
            continue
        if isinstance(result, Exception):
            future.set_exception(result)
        else:
            future.set_result(result)


def _never_waits(service: Service, action: str | None) -> bool:
    """Whether the SOAPAction names an operation whose message never waits for a reply from
    another system (an event, or a reply to cimbus); ``check_request`` then makes sure the
    Body holds that operation's message."""
    if not dispatch.action_given(action):
        return False
    name = dispatch.operation_from_action(action)
    op = service.operation(name) if name else None
    return op is not None and (op.verb == "reply" or op.verb in EVENT_VERBS)


class _Disconnected(Exception):
    """The client closed the connection while its request body was being read."""


class _Headers:
    """The request headers of an ASGI scope, looked up by lower-case name (the first value)."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self._raw = raw

    def get(self, name: str) -> str | None:
        key = name.encode("latin-1")
        for k, v in self._raw:
            if k.lower() == key:
                return v.decode("latin-1")
        return None


async def _read_body(headers: _Headers, receive: Any, limit: int) -> bytes | None:
    """The request body, or None when it is over ``limit``: a larger Content-Length is refused
    unread, and reading stops as soon as more than ``limit`` bytes have arrived."""
    length = headers.get("content-length") or ""
    if length.isdigit() and int(length) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


_WS_PREFIX = "/ws/"


class _SoapApp(FastAPI):
    """The SOAP app. ``POST /ws/<Service>`` (the hot path: every CIM message sent over SOAP)
    is served straight from the ASGI call, without FastAPI's routing, middleware stack and
    Request/Response objects, which cost more than the rest of the HTTP handling together
    (issue 3, BUS-4: measured in bench/bench_bus.py). Everything else (WSDLs, XSDs, listing,
    health, other methods, paths below a service) goes through FastAPI as usual. What the
    request gets is the same either way (tests/unit/endpoints/soap/test_lean_post.py). So
    middleware added with ``app.add_middleware`` does not see SOAP POSTs: wrap the whole app
    (an ASGI middleware around it) to act on them too."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            root = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]  # as Starlette's routing sees it
            name = path[4:] if path.startswith(_WS_PREFIX) else ""
            # /ws/<Service>/ is the service too (SOAP stacks do not follow a redirect of a
            # POST); a deeper path is no service: answered by find_service with a 404 fault
            name = name[:-1] if name.endswith("/") else name
            soap_post = getattr(self.state, "soap_post", None)
            if name and soap_post is not None:
                await self._soap(soap_post, name, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _soap(self, soap_post: Any, name: str, scope: Any, receive: Any, send: Any) -> None:
        scope.setdefault("app", self)
        endpoint: SoapEndpoint = self.state.endpoint

        def base() -> str:
            return endpoint.base_url(Request(scope))

        try:
            response = await soap_post(name, _Headers(scope["headers"]), receive, base)
        except Exception:  # a bug: still an answer, never a dropped connection
            log.exception("SOAP request on %s failed", scope["path"])
            response = Response(b"internal error", 500, media_type="text/plain")
        if response is None:
            return
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": response.raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": response.body})


def create_app(
    bus: Any,
    config: SoapConfig | Config | None = None,
    *,
    on_startup: Iterable[Callable[[], Any]] = (),
    on_shutdown: Iterable[Callable[[], Any]] = (),
    threads: int = 100,
    batch: bool = True,
) -> FastAPI:
    """The SOAP app for ``bus``. Registers a :class:`SoapOutbound` ("soap") on the bus unless
    it has one, so the core can deliver to SOAP systems and to http(s) ReplyAddresses.

    Requests run ``bus.handle`` in the thread pool; a synchronous request holds its thread
    while it waits for the serving system, so the pool gets at least ``threads`` threads.
    Events and replies (which never wait) go to one batch thread instead (``batch``; see
    :class:`_Batcher`)."""
    soap_config = _soap_config(config)
    owned: SoapOutbound | None = None
    if "soap" not in getattr(bus, "outbound", {}):
        bus_config = getattr(bus, "config", None)
        timeout = getattr(getattr(bus_config, "bus", None), "default_timeout", 30.0)
        owned = SoapOutbound(timeout=timeout, limits=bus.codec.limits)
        bus.register_transport(owned)
    startup, shutdown = list(on_startup), list(on_shutdown)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, threads)
        for fn in startup:
            await run_in_threadpool(fn)
        try:
            yield
        finally:
            if batcher is not None:
                await run_in_threadpool(batcher.stop)
            for fn in shutdown:
                await run_in_threadpool(fn)
            if owned is not None:
                owned.close()

    app = _SoapApp(
        title="cimbus SOAP endpoint",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    endpoint = SoapEndpoint(bus, soap_config)
    app.state.endpoint = endpoint
    batcher = _Batcher(endpoint) if batch and hasattr(bus, "handle_many") else None
    app.state.batcher = batcher
    xsd_cache: dict[str, bytes] = {}

    async def soap_post(
        name: str, headers: _Headers, receive: Any, base: Callable[[], str]
    ) -> Response | None:
        """``POST /ws/<name>``: the SOAP request path (see :class:`_SoapApp`). None: the
        client went away before its request was read (nobody to answer)."""
        try:
            service = dispatch.find_service(name)
            dispatch.check_content_type(headers.get("content-type"), service)
            action = headers.get("soapaction")
            dispatch.check_soap_action(action, service)
        except SoapFault as fault:
            log.info("SOAP fault on %s: %s", name, fault.reason)
            return faults.response(fault)
        try:
            body = await _read_body(headers, receive, endpoint.limits.max_bytes)
        except _Disconnected:
            return None
        if body is None:
            return faults.response(dispatch.oversize(endpoint.limits.max_bytes, service))
        coding, content_type = headers.get("content-encoding"), headers.get("content-type")
        if coding or dispatch.declared_charset(content_type):
            try:  # a large compressed body is inflated off the event loop
                if len(body) > _INLINE_DECODE:
                    body = await run_in_threadpool(
                        dispatch.decode_body, body, coding, content_type, endpoint.limits, service
                    )
                else:
                    body = dispatch.decode_body(
                        body, coding, content_type, endpoint.limits, service
                    )
            except SoapFault as fault:
                log.info("SOAP fault on %s: %s", name, fault.reason)
                return faults.response(fault)
        try:
            if batcher is not None and _never_waits(service, action):
                return await batcher.handle(service, body, action, base())
            return await run_in_threadpool(endpoint.handle, service, body, action, base())
        except Exception as exc:  # a bug must still answer with a SOAP fault, not HTML
            log.exception("SOAP request on %s failed", name)
            return faults.response(
                faults.fault_for_error(
                    MalformedMessage(f"internal error: {type(exc).__name__}"),
                    service,
                    code=faults.SERVER,
                )
            )

    app.state.soap_post = soap_post

    # The same path through FastAPI, for a POST the lean path above does not take (it takes
    # every POST /ws/<name>; this keeps the route table complete for anything wrapping the app)
    @app.post("/ws/{name}")
    async def post(name: str, request: Request) -> Response:
        response = await soap_post(
            name,
            _Headers(request.scope["headers"]),
            request.receive,
            lambda: endpoint.base_url(request),
        )
        return response if response is not None else Response(status_code=400)

    @app.api_route("/healthz", methods=GET_METHODS)
    def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.api_route("/readyz", methods=GET_METHODS)
    def readyz() -> Response:
        try:  # the backlog only: counting every delivered entry grows with the table
            counts = bus.store.outbox_backlog()
        except Exception as exc:  # any store failure means "not ready"
            return JSONResponse(
                {"status": "not ready", "reason": f"store: {type(exc).__name__}: {exc}"}, 503
            )
        body: dict[str, Any] = {"status": "ready", "outbox": _jsonable(counts)}
        # a broker link that is down does not make cimbus unready: it still accepts and keeps
        # messages (those for that transport wait in the outbox); the probe shows it
        links = getattr(bus, "transport_links", None)
        if links is not None and (states := links()):
            body["transports"] = states
        return JSONResponse(body)

    @app.api_route("/ws", methods=GET_METHODS)
    def listing(request: Request) -> Response:
        base = endpoint.base_url(request)
        rows = [
            {
                "name": s.name,
                "role": s.role,
                "noun": s.noun,
                "address": f"{base}/ws/{s.name}",
                "wsdl": f"{base}/ws/{s.name}?wsdl",
                "operations": [
                    {"name": op.name, "soapAction": op.soap_action, "input": op.input}
                    for op in s.operations
                ],
            }
            for s in services().values()
        ]
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(_listing_html(rows))
        return JSONResponse(
            {"services": rows, "xsd": [f"{base}/ws/xsd/{name}" for name in xsd_files()]}
        )

    @app.api_route("/ws/xsd/{name}", methods=GET_METHODS)
    def xsd(name: str) -> Response:
        path = xsd_files().get(name)
        if path is None:
            return JSONResponse(
                {"error": f"no schema {name!r}; schemas: {', '.join(xsd_files())}"}, 404
            )
        if name not in xsd_cache:
            xsd_cache[name] = path.read_bytes()
        return Response(xsd_cache[name], media_type="text/xml; charset=utf-8")

    @app.api_route("/ws/{name}", methods=GET_METHODS)
    def wsdl(name: str, request: Request) -> Response:
        try:
            service = dispatch.find_service(name)
        except SoapFault as fault:
            return faults.response(fault)
        if not any(k.lower() == "wsdl" for k in request.query_params):
            return _not_allowed(service, request.method, wsdl=False)
        return Response(
            render_wsdl(service, endpoint.base_url(request)), media_type="text/xml; charset=utf-8"
        )

    @app.api_route("/ws/{name}", methods=OTHER_METHODS)
    def other(name: str, request: Request) -> Response:
        try:
            service = dispatch.find_service(name)
        except SoapFault as fault:
            return faults.response(fault)
        wsdl = any(k.lower() == "wsdl" for k in request.query_params)
        return _not_allowed(service, request.method, wsdl=wsdl)

    return app


def _not_allowed(service: Service, method: str, *, wsdl: bool) -> Response:
    allow = "GET, HEAD" if wsdl else "POST"
    hint = (
        f"GET {service.name}?wsdl for the WSDL"
        if wsdl
        else f"POST a SOAP 1.1 request to /ws/{service.name} (GET /ws/{service.name}?wsdl for the WSDL)"
    )
    fault = faults.fault_for_error(
        MalformedMessage(f"method {method} is not allowed here: {hint}"),
        service,
        status=405,
        headers={"Allow": allow},
    )
    return faults.response(fault)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _listing_html(rows: list[dict[str, Any]]) -> str:
    e = html.escape
    items = []
    for r in rows:
        ops = "".join(
            f"<li><code>{e(op['name'])}</code> <small>SOAPAction {e(op['soapAction'])}</small></li>"
            for op in r["operations"]
        )
        items.append(
            f'<tr><td><a href="{e(r["wsdl"])}">{e(r["name"])}</a></td><td>{e(r["role"])}</td>'
            f"<td>{e(r['noun'])}</td><td><code>{e(r['address'])}</code></td><td><ul>{ops}</ul></td></tr>"
        )
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>cimbus SOAP services</title>'
        "</head><body><h1>cimbus SOAP services (IEC 61968-100, SOAP 1.1 document/literal)</h1>"
        '<table border="1" cellpadding="4"><tr><th>service (WSDL)</th><th>role</th><th>noun</th>'
        "<th>address</th><th>operations</th></tr>" + "".join(items) + "</table></body></html>"
    )


__all__ = ["SoapEndpoint", "create_app"]
