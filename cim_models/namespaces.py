"""XML namespaces of the IEC 61968-100 envelope, the typed wrappers and the payload profiles.

cimbus writes the IEC 61968-100:2013 / IEC 61968-9:2013 forms (``http://iec.ch/TC57/2011/...``)
and reads three generations (BUS-1):

* ``http://iec.ch/TC57/2011/...``      the standard (canonical, used for output);
* ``http://www.iec.ch/TC57/2011/...``  pre-FDIS 2011 interoperability-test peers (with ``www.``);
* ``http://iec.ch/TC57/2017/<Noun>Message``  newer wrapper namespace (CIMug templates); only the
  wrapper year changed, the payload stays ``.../2011/<Noun>#``.

Legacy forms are rewritten to the canonical one on input (:func:`canonical`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
MSG_NS = "http://iec.ch/TC57/2011/schema/message"
IEC_BASE = "http://iec.ch/TC57/2011/"
CIMBUS_BASE = "urn:cimbus:2026:"

#: IEC 61968-100 generic message forms (root elements in MSG_NS).
GENERIC_ROOTS = ("Message", "RequestMessage", "ResponseMessage", "EventMessage", "FaultMessage")

REQUEST_VERBS = ("create", "change", "cancel", "close", "delete", "execute")
EVENT_VERBS = ("created", "changed", "canceled", "closed", "deleted", "executed")
VERBS = (*REQUEST_VERBS, *EVENT_VERBS, "get", "reply")

#: Verb <-> the prefix of a typed wrapper element (CreateMeterReadings, CreatedMeterReadings, ...).
VERB_PREFIX = {
    "create": "Create",
    "change": "Change",
    "cancel": "Cancel",
    "close": "Close",
    "delete": "Delete",
    "created": "Created",
    "changed": "Changed",
    "canceled": "Canceled",
    "closed": "Closed",
    "deleted": "Deleted",
}


@dataclass(frozen=True, slots=True)
class Profile:
    """One information object (noun): its payload profile and its wrapper namespaces."""

    noun: str
    payload_ns: str
    wrapper_ns: str
    get_ns: str | None = None  # Get<Noun> filter profile (payload of the Get request)
    get_wrapper_ns: str | None = None  # Get<Noun>Message wrapper
    iec: bool = True  # False: a cimbus profile (no IEC message schema exists)


def _iec(noun: str, *, get: bool = False) -> Profile:
    return Profile(
        noun=noun,
        payload_ns=f"{IEC_BASE}{noun}#",
        wrapper_ns=f"{IEC_BASE}{noun}Message",
        get_ns=f"{IEC_BASE}Get{noun}#" if get else None,
        get_wrapper_ns=f"{IEC_BASE}Get{noun}Message" if get else None,
    )


#: The nouns cimbus has profiles for (cim_models/schemas/). Later use cases add rows here and an
#: XSD pair in schemas/.
PROFILES: dict[str, Profile] = {
    p.noun: p
    for p in (
        _iec("MeterReadings", get=True),
        _iec("EndDeviceControls"),
        _iec("EndDeviceEvents", get=True),
        Profile(
            noun="OutageRecords",
            payload_ns=f"{CIMBUS_BASE}OutageRecords#",
            wrapper_ns=f"{CIMBUS_BASE}OutageRecordsMessage",
            iec=False,
        ),
    )
}

_WRAPPER_TO_NOUN = {p.wrapper_ns: p.noun for p in PROFILES.values()}
_WRAPPER_TO_NOUN.update({p.get_wrapper_ns: p.noun for p in PROFILES.values() if p.get_wrapper_ns})
_PAYLOAD_TO_NOUN = {p.payload_ns: p.noun for p in PROFILES.values()}


def noun_of_wrapper(ns: str) -> str | None:
    """The noun whose typed wrapper (or Get wrapper) lives in namespace ``ns``."""
    return _WRAPPER_TO_NOUN.get(ns)


def noun_of_payload(ns: str) -> str | None:
    """The noun whose payload profile lives in namespace ``ns``."""
    return _PAYLOAD_TO_NOUN.get(ns)


def is_get_wrapper(ns: str) -> bool:
    return any(p.get_wrapper_ns == ns for p in PROFILES.values())


_LEGACY = (
    # pre-FDIS 2011 drafts used www.iec.ch for the envelope and the wrappers
    (re.compile(r"^http://www\.iec\.ch/TC57/2011/(.+)$"), IEC_BASE + r"\1"),
    # 2017 wrapper namespace (payloads stayed 2011)
    (re.compile(r"^http://(?:www\.)?iec\.ch/TC57/2017/(\w+Message)$"), IEC_BASE + r"\1"),
)


@lru_cache(maxsize=512)  # every message asks for its root's and header's namespace
def canonical(ns: str | None) -> str | None:
    """The canonical (2011, no ``www.``) form of a namespace; unknown namespaces are unchanged."""
    if not ns or "iec.ch/TC57/" not in ns:
        return ns
    for pattern, repl in _LEGACY:
        if pattern.match(ns):
            return pattern.sub(repl, ns)
    return ns


def is_legacy(ns: str | None) -> bool:
    return canonical(ns) != ns
