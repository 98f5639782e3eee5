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

from typing import Any
from urllib.parse import urlsplit

from cim_models.safexml import DEFAULT_LIMITS, Limits

from ._answer import Answer, answer_file, read_answer
from ._brokers import BrokerSender
from ._common import SUCCESS, InputError, Secrets, TargetError
from ._input import Outgoing, read_message, read_messages, refresh_ids
from ._soap import SoapSender, TlsOptions, request_reason


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
    """The sender for ``--to``: SOAP when it is http(s):// or not given (then the cimbus of
    ``config``), a broker for amqp(s):// and mqtt(s)://."""
    try:
        scheme = urlsplit(to).scheme if to else ""
    except ValueError:
        scheme = ""
    if wsdl is not None or to is None or scheme in ("http", "https"):
        cimbus = to is None and wsdl is None
        if cimbus:
            to = _default_soap(config)
        return SoapSender(to, wsdl=wsdl, timeout=timeout, limits=limits, tls=tls, cimbus=cimbus)
    return BrokerSender(to, system=system, timeout=timeout, config=config, limits=limits)


def _default_soap(config: Any) -> str:
    """The cimbus of a configuration: its ``[soap] public_url`` (which may carry a path
    prefix behind a proxy), else its host and port."""
    soap = config.soap
    if soap.public_url:
        return soap.public_url
    host = soap.host if soap.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{soap.port}"


__all__ = [
    "SUCCESS",
    "Answer",
    "BrokerSender",
    "InputError",
    "Outgoing",
    "Secrets",
    "SoapSender",
    "TargetError",
    "TlsOptions",
    "answer_file",
    "read_answer",
    "read_message",
    "read_messages",
    "refresh_ids",
    "request_reason",
    "sender_for",
]
