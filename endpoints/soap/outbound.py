"""cimbus -> SOAP systems: the ``soap`` outbound transport (BUS-4, BUS-7, REL-2).

:class:`SoapOutbound` implements :class:`routing.transport.Outbound` over a pooled
``httpx.Client``: it POSTs each message in a SOAP 1.1 envelope with the operation's SOAPAction
and hands the reply in the HTTP response back to the core (a synchronous reply).

Where a message goes (``delivery.address``, a system's ``address`` in the route table or a
requester's http(s) ReplyAddress):

* when the address's last path segment is an IEC service name (``Get…``, ``Execute…``,
  ``Request…``, ``Receive…``, ``Send…``, ``Reply…``, e.g.
  ``https://cis.example/cim/2011/ReplyEndDeviceControls``), it is the service URL: used as is;
* otherwise it is the folder holding the system's services and the IEC service for the
  message is appended: requests -> ``Execute<Noun>``, get -> ``Get<Noun>``, events ->
  ``Receive<Noun>``, replies -> ``Reply<Noun>``. cimbus's own folder is
  ``http://host:port/ws``, so another cimbus (or :class:`~.client.SoapClient.serve`) is
  reached with ``address = "http://host:port/ws"``.

What comes back:

* a request's reply (ResponseMessage, OK or FAILED) is returned to the core, except an
  "accepted" acknowledgement (Reply/Error code 0.1): the real reply follows asynchronously;
* an event's or forwarded reply's acknowledgement is checked and not returned (it answers
  nothing the core waits for); a FAILED acknowledgement is a refusal;
* a receiver that cannot be connected to (refused, unreachable, connect timeout: nothing
  was sent) raises :class:`~routing.transport.TransportUnavailable` (the outbox tries again
  in a few seconds without counting an attempt);
* timeouts waiting for the answer, broken connections, HTTP 5xx and ``soapenv:Server``
  faults raise :class:`~routing.transport.DeliveryError` (the outbox retries with backoff); HTTP 4xx,
  ``soapenv:Client`` faults, refusals and unreadable answers to an accepted POST raise
  :class:`~routing.transport.PermanentDeliveryError` (dead letter at once: retrying could
  execute a command twice).
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit, urlunsplit

import httpx
from lxml import etree

from cim_models import namespaces as ns
from cim_models.errors import CodecError
from cim_models.safexml import DEFAULT_LIMITS, Limits, parse_bytes
from routing.errors import ACCEPTED_CODE
from routing.transport import (
    Delivery,
    DeliveryError,
    PermanentDeliveryError,
    TransportUnavailable,
)

from . import wire
from .faults import SoapFault
from .services import service_for_message

SERVICE_NAME = re.compile(r"^(Get|Execute|Request|Receive|Send|Reply)[A-Z]\w*$")
_REQUEST_VERBS = frozenset((*ns.REQUEST_VERBS, "get"))


def resolve(address: str, element: str, verb: str, noun: str) -> tuple[str, str]:
    """(URL, SOAPAction) for a message whose root element is ``element`` (see module doc)."""
    found = service_for_message(element, noun or None, verb or None)
    if found is not None:
        service, op = found
        service_name, action = service.name, op.soap_action
    else:  # a noun without a cimbus profile: the same naming rules, by verb
        if verb == "reply":
            service_name, op_name = f"Reply{noun}", f"Reply{noun}"
        elif verb == "get":
            service_name, op_name = f"Get{noun}", f"Get{noun}"
        else:
            prefix = ns.VERB_PREFIX.get(verb, verb.capitalize())
            role = "Receive" if verb in ns.EVENT_VERBS else "Execute"
            service_name, op_name = f"{role}{noun}", f"{prefix}{noun}"
        action = f"{ns.IEC_BASE}{noun}/{op_name}"
    parts = urlsplit(address)
    last = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if SERVICE_NAME.match(last):
        return address, action
    path = parts.path.rstrip("/") + "/" + service_name
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, "")), action


def reply_code(message: etree._Element) -> tuple[str | None, list[str], list[str]]:
    """(Result, Error codes, Error reasons) of a response message."""
    result = None
    codes: list[str] = []
    reasons: list[str] = []
    for child in message:
        if isinstance(child.tag, str) and etree.QName(child).localname == "Reply":
            result = (child.findtext(f"{{{ns.MSG_NS}}}Result") or "").strip() or None
            for err in child.findall(f"{{{ns.MSG_NS}}}Error"):
                codes.append((err.findtext(f"{{{ns.MSG_NS}}}code") or "").strip())
                reason = (err.findtext(f"{{{ns.MSG_NS}}}reason") or "").strip()
                if reason:
                    reasons.append(reason)
    return result, codes, reasons


class SoapOutbound:
    """Deliver messages to SOAP systems (name ``soap``)."""

    name = "soap"

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        limits: Limits = DEFAULT_LIMITS,
        max_connections: int = 100,
        client: httpx.Client | None = None,
    ) -> None:
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self.limits = limits
        self.max_connections = max_connections
        self._client = client
        self._owned = client is None
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=self.timeout,
                    limits=httpx.Limits(
                        max_connections=self.max_connections,
                        max_keepalive_connections=min(20, self.max_connections),
                    ),
                    follow_redirects=False,
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None and self._owned:
                self._client.close()
                self._client = None

    # ------------------------------------------------------------------ Outbound
    def reply_address(self, *, sync: bool) -> str | None:
        """None: a SOAP reply comes back in the HTTP response; async replies go to the
        requester's own ReplyAddress URL."""
        return None

    def deliver(self, delivery: Delivery) -> bytes | None:
        who = delivery.system.name
        try:
            message = parse_bytes(delivery.body, self.limits)
        except CodecError as exc:
            raise PermanentDeliveryError(f"message for {who} cannot be read: {exc}") from exc
        url, action = resolve(
            delivery.address, etree.QName(message).localname, delivery.verb, delivery.noun
        )
        try:
            response = self.client.post(
                url,
                content=wire.wrap(message, limits=self.limits),
                headers={"Content-Type": wire.CONTENT_TYPE, "SOAPAction": f'"{action}"'},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # nothing was sent: waiting for the receiver is no attempt of the message (REL-1)
            raise TransportUnavailable(f"{who} at {url}: cannot connect ({exc})") from exc
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"{who} at {url}: no answer in time ({exc!r})") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{who} at {url}: {type(exc).__name__}: {exc}") from exc
        return self._answer(response, delivery, url)

    def _answer(self, response: httpx.Response, delivery: Delivery, url: str) -> bytes | None:
        who = delivery.system.name
        status = response.status_code
        reply: bytes | None = None
        unreadable: Exception | None = None
        if response.content.strip():
            try:
                reply = wire.unwrap(response.content, limits=self.limits, status=status)
            except SoapFault as fault:
                if fault.client_error or 400 <= status < 500:
                    raise PermanentDeliveryError(
                        f"{who} at {url} refused the message: {fault}"
                    ) from fault
                raise DeliveryError(f"{who} at {url} failed: {fault}") from fault
            except (wire.NotSoap, CodecError) as exc:
                unreadable = exc
        said = _said(response)
        if status >= 500:
            raise DeliveryError(f"{who} at {url}: HTTP {status}{said}")
        if status >= 400:
            raise PermanentDeliveryError(
                f"{who} at {url}: HTTP {status} {response.reason_phrase}{said}"
            )
        if status >= 300:
            raise PermanentDeliveryError(
                f"{who} at {url}: HTTP {status} (redirects are not followed; fix the address)"
            )
        if unreadable is not None:
            raise PermanentDeliveryError(
                f"{who} at {url} accepted the message (HTTP {status}) but its answer cannot be "
                f"read: {unreadable}"
            )
        if reply is None:
            return None
        root = parse_bytes(reply, self.limits)
        result, codes, reasons = reply_code(root)
        if delivery.verb in _REQUEST_VERBS:
            if ACCEPTED_CODE in codes and result != "FAILED":
                return None  # accepted: the reply follows asynchronously
            return reply
        if result == "FAILED":
            raise PermanentDeliveryError(
                f"{who} at {url} refused the {delivery.verb} {delivery.noun}: "
                + ("; ".join(reasons) or "Result FAILED")
            )
        return None


__all__ = ["SERVICE_NAME", "SoapOutbound", "resolve"]


def _said(response: httpx.Response, limit: int = 300) -> str:
    """What the receiver said with an HTTP error (first line of its body), for the dead letter's
    reason: an operator must see why a message was refused without digging in its logs."""
    text = response.text.strip() if response.content else ""
    if not text:
        return ""
    first = " ".join(text.split())[:limit]
    return f": {first}"
