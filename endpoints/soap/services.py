"""The SOAP services cimbus offers, generated from the noun profiles (BUS-4).

IEC 61968-100 exposes each information object (noun) through one WSDL per *role*; every
operation takes one typed wrapper element and answers ``<Noun>ResponseMessage`` (or a SOAP
Fault whose detail is ``<Noun>FaultMessage``):

============== ============================================================ ===================
service        operations (input element = operation name)                  used by
============== ============================================================ ===================
Get<Noun>      Get<Noun> (``Get<Noun>Message`` namespace)                   requests for data
Execute<Noun>  Create / Change / Cancel / Close / Delete<Noun>              commands
Receive<Noun>  Created / Changed / Canceled / Closed / Deleted<Noun>        events sent to cimbus
Send<Noun>     Created / Changed / Canceled / Closed / Deleted<Noun>        (same, IEC naming)
Reply<Noun>    the five event operations, plus Reply<Noun>                  async replies
               (input ``<Noun>ResponseMessage``)
============== ============================================================ ===================

``Get<Noun>`` exists only for nouns with a Get profile. SOAPAction is
``http://iec.ch/TC57/2011/<Noun>/<Operation>`` for every noun (one rule, e.g.
``http://iec.ch/TC57/2011/MeterReadings/GetMeterReadings``); the WSDL target namespace is
``http://iec.ch/TC57/2011/<Service>`` for the IEC nouns and ``urn:cimbus:2026:<Service>`` for
cimbus's own profiles (OutageRecords), whose elements are in cimbus namespaces too.

Everything here is derived from :data:`cim_models.namespaces.PROFILES`: adding a noun there (and
its XSDs) adds its services, WSDLs and routes on the SOAP endpoint with no code change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

from cim_models import namespaces as ns
from cim_models.schemas import schema_files

REQUEST_PREFIXES = ("Create", "Change", "Cancel", "Close", "Delete")
EVENT_PREFIXES = ("Created", "Changed", "Canceled", "Closed", "Deleted")
ROLES = ("Get", "Execute", "Receive", "Send", "Reply")

_PREFIX_VERB = {prefix: verb for verb, prefix in ns.VERB_PREFIX.items()}


@dataclass(frozen=True, slots=True)
class Operation:
    """One WSDL operation: its input, output and fault elements (``{namespace}local``)."""

    name: str
    verb: str
    input: str
    output: str
    fault: str
    soap_action: str

    @property
    def input_local(self) -> str:
        return etree.QName(self.input).localname


@dataclass(frozen=True, slots=True)
class Service:
    """One IEC 61968-100 SOAP service (one WSDL) for one role and one noun."""

    name: str
    role: str
    noun: str
    namespace: str  # the wrapper namespace holding the operations' elements
    target_namespace: str  # the WSDL's own namespace
    xsd: str  # the wrapper XSD file (it imports the rest)
    operations: tuple[Operation, ...]

    @property
    def port_type(self) -> str:
        return f"{self.noun}_Port"

    @property
    def binding(self) -> str:
        return f"{self.noun}_Binding"

    @property
    def operation_names(self) -> list[str]:
        return [op.name for op in self.operations]

    @property
    def response_element(self) -> str:
        return f"{{{self.namespace}}}{self.noun}ResponseMessage"

    @property
    def fault_element(self) -> str:
        return f"{{{self.namespace}}}{self.noun}FaultMessage"

    def operation(self, name: str) -> Operation | None:
        return next((op for op in self.operations if op.name == name), None)

    def operation_for_element(self, local_name: str) -> Operation | None:
        """The operation whose input element has this local name (dispatch on the Body)."""
        return next((op for op in self.operations if op.input_local == local_name), None)


def namespace_base(profile: ns.Profile) -> str:
    """IEC nouns live under ``http://iec.ch/TC57/2011/``, cimbus's own under ``urn:cimbus:2026:``."""
    return ns.IEC_BASE if profile.iec else ns.CIMBUS_BASE


def soap_action(profile: ns.Profile, operation: str) -> str:
    """The SOAPAction of ``operation`` on ``profile``'s noun:
    ``http://iec.ch/TC57/2011/<Noun>/<Operation>``."""
    return f"{ns.IEC_BASE}{profile.noun}/{operation}"


def operation_from_action(action: str) -> str:
    """The operation a SOAPAction names: its last path segment, quotes stripped
    (``"http://iec.ch/TC57/2011/MeterReadings/GetMeterReadings"`` -> ``GetMeterReadings``)."""
    action = action.strip().strip('"').strip()
    return action.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _service(profile: ns.Profile, role: str) -> Service | None:
    noun = profile.noun
    if role == "Get":
        if not profile.get_wrapper_ns:
            return None
        wrapper = profile.get_wrapper_ns
        specs = [(f"Get{noun}", "get", f"Get{noun}")]
    elif role == "Execute":
        wrapper = profile.wrapper_ns
        specs = [(f"{p}{noun}", _PREFIX_VERB[p], f"{p}{noun}") for p in REQUEST_PREFIXES]
    else:
        wrapper = profile.wrapper_ns
        specs = [(f"{p}{noun}", _PREFIX_VERB[p], f"{p}{noun}") for p in EVENT_PREFIXES]
        if role == "Reply":
            specs.append((f"Reply{noun}", "reply", f"{noun}ResponseMessage"))
    name = f"{role}{noun}"
    operations = tuple(
        Operation(
            name=op_name,
            verb=verb,
            input=f"{{{wrapper}}}{element}",
            output=f"{{{wrapper}}}{noun}ResponseMessage",
            fault=f"{{{wrapper}}}{noun}FaultMessage",
            soap_action=soap_action(profile, op_name),
        )
        for op_name, verb, element in specs
    )
    return Service(
        name=name,
        role=role,
        noun=noun,
        namespace=wrapper,
        target_namespace=f"{namespace_base(profile)}{name}",
        xsd=xsd_for_namespace(wrapper),
        operations=operations,
    )


@cache
def services() -> dict[str, Service]:
    """Every service, by name, in a stable order (noun, then role)."""
    out: dict[str, Service] = {}
    for profile in ns.PROFILES.values():
        for role in ROLES:
            service = _service(profile, role)
            if service is not None:
                out[service.name] = service
    return out


def service_for_message(
    element: str, noun: str | None = None, verb: str | None = None
) -> tuple[Service, Operation] | None:
    """The service and operation a message is sent to, from its root element's local name
    (``CreateEndDeviceControls`` -> Execute, ``Created*`` -> Receive, ``Get*`` -> Get,
    ``*ResponseMessage`` -> Reply). A generic-form message (``RequestMessage`` ...) is mapped
    through its ``verb`` and ``noun``. None when no service takes it."""
    all_services = services()
    if noun is None or element not in ("RequestMessage", "EventMessage", "ResponseMessage"):
        for role in ("Get", "Execute", "Receive", "Reply"):
            for service in all_services.values():
                if service.role != role:
                    continue
                op = service.operation_for_element(element)
                if op is not None:
                    return service, op
        return None
    if verb == "reply":
        op_name, role = f"Reply{noun}", "Reply"
    elif verb == "get":
        op_name, role = f"Get{noun}", "Get"
    elif verb in ns.VERB_PREFIX:
        prefix = ns.VERB_PREFIX[verb]
        op_name = f"{prefix}{noun}"
        role = "Receive" if verb in ns.EVENT_VERBS else "Execute"
    else:
        return None
    service = all_services.get(f"{role}{noun}")
    op = service.operation(op_name) if service else None
    return (service, op) if service and op else None


# ---------------------------------------------------------------------------- XSD files


@cache
def xsd_files() -> dict[str, Path]:
    """The XSD profiles served at ``/ws/xsd/<File>.xsd``, by file name."""
    return {p.name: p for p in schema_files()}


@cache
def _xsd_namespaces() -> dict[str, str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    out = {}
    for name, path in xsd_files().items():
        tns = etree.parse(str(path), parser).getroot().get("targetNamespace", "")
        out.setdefault(tns, name)
    return out


def xsd_for_namespace(namespace: str) -> str:
    """The XSD file whose targetNamespace is ``namespace``."""
    try:
        return _xsd_namespaces()[namespace]
    except KeyError:
        raise LookupError(
            f"no XSD in cim_models/schemas has targetNamespace {namespace!r}"
        ) from None


__all__ = [
    "ROLES",
    "Operation",
    "Service",
    "operation_from_action",
    "service_for_message",
    "services",
    "soap_action",
    "xsd_files",
    "xsd_for_namespace",
]
