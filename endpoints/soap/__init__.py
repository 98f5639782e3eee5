"""The SOAP/HTTP transport (BUS-4, BUS-7, SEC-3): IEC 61968-100 SOAP 1.1, document/literal.

Same surface as the other transports (see :mod:`endpoints`):

* cimbus's side: :func:`create_app` (the FastAPI app: one service per role and noun, WSDLs,
  XSDs, health), :class:`SoapTransport` (``start()`` / ``stop()`` in a background thread),
  :func:`run` (foreground, ``[soap] workers`` processes), and :class:`SoapOutbound` (the
  ``soap`` :class:`routing.transport.Outbound`, registered by :func:`create_app`);
* the other systems' side: :class:`SoapClient` (``request``, ``send``, ``serve``, ``close``).

Modules: ``services`` (the services as data, from the noun profiles), ``wsdl`` (WSDL 1.1 from
them), ``dispatch`` (what a request must be, operation selection), ``faults`` (the one place
SOAP Faults are rendered and read), ``wire`` (envelope wrap / unwrap), ``app``, ``outbound``,
``client``, ``server``. docs/soap.md is the user's guide.
"""

from __future__ import annotations

from .app import create_app
from .client import SoapClient
from .faults import SoapFault
from .outbound import SoapOutbound
from .server import ServerThread, SoapTransport, run
from .services import Operation, Service, services

__all__ = [
    "Operation",
    "ServerThread",
    "Service",
    "SoapClient",
    "SoapFault",
    "SoapOutbound",
    "SoapTransport",
    "create_app",
    "run",
    "services",
]
