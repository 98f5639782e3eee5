"""A counterpart system talking to cimbus over SOAP (simulators, tests, integrators' scripts).

:class:`SoapClient` implements the :class:`endpoints.client.BusClient` surface with httpx:

* ``request(body)`` wraps the message in a SOAP 1.1 envelope, picks the service and SOAPAction
  from the message element (``Create*`` -> ``Execute<Noun>``, ``Created*`` -> ``Receive<Noun>``,
  ``Get*`` -> ``Get<Noun>``, ``*ResponseMessage`` -> ``Reply<Noun>``), POSTs it to
  ``<base_url>/ws/<Service>`` and returns the message in the answer; a SOAP Fault is raised as
  :class:`~.faults.SoapFault` (``code``, ``reason``, ``detail`` = the FaultMessage, ``status``);
* ``send(body)`` does the same and drops the answer (HTTP has no fire-and-forget: it still
  waits for the response, and still raises on a fault);
* ``serve(handler)`` answers what cimbus delivers to this system: a small app on a free local
  port (``/ws/<Service>``); the handler's return value is the synchronous reply (None: a
  ResponseMessage OK). It returns the folder URL (``http://127.0.0.1:PORT/ws``) to use as the
  system's ``address`` in cimbus's route table, or as a request's ReplyAddress
  (``<folder>/Reply<Noun>``) for asynchronous replies (BUS-7);
* ``close()`` stops the servers and the connection pool.
"""

from __future__ import annotations

import time

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from lxml import etree
from starlette.concurrency import run_in_threadpool

from cim_models import namespaces as ns
from cim_models.build import build_message
from cim_models.errors import CodecError
from cim_models.ids import new_message_id
from cim_models.safexml import DEFAULT_LIMITS, Limits, parse_bytes

from ..client import Handler, ReplyTimeout
from . import faults, wire
from .faults import SoapFault
from .server import ServerThread
from .services import service_for_message


def header_field(message: etree._Element, name: str) -> str | None:
    """A Header field (``Verb``, ``Noun``, ``MessageID``...) of a message tree."""
    for child in message:
        if isinstance(child.tag, str) and etree.QName(child).localname == "Header":
            value = child.findtext(f"{{{ns.MSG_NS}}}{name}")
            return value.strip() if value else None
    return None


class SoapClient:
    """A system (``system``) talking to the cimbus at ``base_url`` (``http://host:port``)."""

    def __init__(
        self,
        base_url: str,
        system: str,
        *,
        timeout: float = 30.0,
        limits: Limits = DEFAULT_LIMITS,
        http: httpx.Client | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        self.services_url = base if base.endswith("/ws") else f"{base}/ws"
        self.system = system
        self.limits = limits
        self.timeout = timeout
        self.http = http or httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0))
        self._owned = http is None
        self._servers: list[ServerThread] = []
        self.address: str | None = None  # set by serve(): this system's folder URL

    def target(self, message: etree._Element) -> tuple[str, str]:
        """(URL, SOAPAction) for a message (see the module docstring)."""
        element = etree.QName(message).localname
        found = service_for_message(
            element, header_field(message, "Noun"), header_field(message, "Verb")
        )
        if found is None:
            raise ValueError(
                f"no cimbus SOAP service takes a {element} message (known nouns: "
                f"{', '.join(ns.PROFILES)})"
            )
        service, op = found
        return f"{self.services_url}/{service.name}", op.soap_action

    def request(self, body: bytes, timeout: float = 30.0) -> bytes:
        """POST the message and return the message in the answer. ``timeout`` bounds the whole
        exchange (connecting, sending, and reading the answer), not only each gap between
        reads: a target that trickles its answer is cut off (:class:`ReplyTimeout`)."""
        message = parse_bytes(body, self.limits)
        url, action = self.target(message)
        deadline = time.monotonic() + timeout
        try:
            with self.http.stream(
                "POST",
                url,
                content=wire.wrap(message, limits=self.limits),
                headers={"Content-Type": wire.CONTENT_TYPE, "SOAPAction": f'"{action}"'},
                timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
            ) as response:
                content = _read_until(response, deadline, url, timeout)
        except httpx.TimeoutException as exc:
            raise ReplyTimeout(f"no answer from cimbus at {url} within {timeout:g} s") from exc
        ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype and not ctype.endswith("xml"):
            raise wire.NotSoap(
                f"{url}: the target answered {ctype} (HTTP {response.status_code}), "
                "not a SOAP envelope"
            )
        try:
            return wire.unwrap(content, limits=self.limits, status=response.status_code)
        except (wire.NotSoap, CodecError) as exc:
            raise wire.NotSoap(
                f"HTTP {response.status_code} from {url} is not a SOAP answer: {exc}"
            ) from exc

    def send(self, body: bytes) -> None:
        self.request(body)

    def serve(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0) -> str:
        server = ServerThread(_system_app(handler, self.system, self.limits), host, port).start()
        self._servers.append(server)
        self.address = f"{server.url}/ws"
        return self.address

    def close(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers.clear()
        if self._owned:
            self.http.close()

    def __enter__(self) -> SoapClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_until(response: httpx.Response, deadline: float, url: str, timeout: float) -> bytes:
    """The response body, unless the deadline passes first (checked after every chunk; a
    single wait is bounded by the read timeout)."""
    chunks = []
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        if time.monotonic() > deadline:
            raise ReplyTimeout(
                f"the answer from {url} did not arrive within {timeout:g} s "
                f"({sum(map(len, chunks))} bytes so far)"
            )
    return b"".join(chunks)


def _system_app(handler: Handler, system: str, limits: Limits) -> FastAPI:
    """A system's SOAP side: every ``POST /ws/<Service>`` goes to ``handler``."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/ws/{name}")
    async def post(name: str, request: Request) -> Response:
        body = await request.body()
        try:
            message = wire.unwrap(body, limits=limits)
        except SoapFault as fault:
            fault.status = 500
            return faults.response(fault)
        except (wire.NotSoap, CodecError) as exc:
            return faults.response(SoapFault(faults.CLIENT, f"{system}: {exc}"))
        try:
            reply = await run_in_threadpool(handler, message)
        except Exception as exc:  # the system failed: tell cimbus (it retries)
            return faults.response(
                SoapFault(faults.SERVER, f"{system}: {type(exc).__name__}: {exc}")
            )
        if reply is None:
            root = parse_bytes(message, limits)
            reply = build_message(
                "reply",
                header_field(root, "Noun") or "Unknown",
                correlation_id=header_field(root, "MessageID"),
                message_id=new_message_id(),
                source=system,
                result="OK",
            )
        return Response(wire.wrap(reply, limits=limits), media_type=wire.CONTENT_TYPE)

    return app


__all__ = ["SoapClient", "header_field"]
