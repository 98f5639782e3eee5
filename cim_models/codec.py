"""The CIM codec: bytes -> checked message -> (optionally) bound objects -> bytes.

Requirements: BUS-1 (IEC 61968-100 envelopes), BUS-3 (payloads bound to the generated classes),
SEC-3 (safe parsing, schema validation with named errors).

Pipeline of :meth:`Codec.decode`:

1. :func:`cim_models.safexml.parse_bytes`: strict, safe lxml parse (no DTD/entities, limits);
2. SOAP unwrap: a SOAP 1.1 or 1.2 envelope is opened and its single Body child taken;
3. namespace canonicalisation: ``http://www.iec.ch/TC57/2011/...`` and the 2017 wrapper
   namespace are rewritten to ``http://iec.ch/TC57/2011/...`` (see :mod:`cim_models.namespaces`);
4. identification: typed wrapper (``CreatedMeterReadings``), Get wrapper (``GetMeterReadings``),
   generic envelope (``RequestMessage`` ...) or bare payload (``MeterReadings``);
5. lxml XSD validation against every cimbus profile (:mod:`cim_models.validation`).

Binding to the xsdata classes is separate and lazy (:meth:`CimMessage.bind`): it starts from the
validated lxml tree (never from raw bytes: xsdata's own parser recovers from broken XML) and
treats converter warnings as errors. Routing only needs the header, which
:meth:`CimMessage.header` reads straight from the tree.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
import sys
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lxml import etree
from xsdata.exceptions import ConverterWarning, ParserError
from xsdata.formats.dataclass.context import XmlContext
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig
from xsdata.formats.dataclass.parsers.handlers import LxmlEventHandler
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig

from . import namespaces as ns
from .errors import (
    BindingError,
    CodecError,
    Issue,
    SchemaValidationError,
    UnknownMessageError,
)
from .safexml import DEFAULT_LIMITS, Limits, parse_bytes
from .validation import SchemaSet, project_schemas

_MSG_PREFIX = "{" + ns.MSG_NS + "}"
_HEADER_FIELDS = frozenset(
    {
        "Verb",
        "Noun",
        "Revision",
        "Context",
        "Timestamp",
        "Source",
        "AsyncReplyFlag",
        "ReplyAddress",
        "AckRequired",
        "MessageID",
        "CorrelationID",
        "Comment",
    }
)


@dataclass(slots=True)
class SoapInfo:
    """What the SOAP envelope around a message said (the endpoint uses it, the codec only reads)."""

    version: str  # "1.1" or "1.2"
    header: etree._Element | None = None


@dataclass
class CimMessage:
    """A parsed, identified CIM message (or bare payload) backed by its lxml tree.

    ``form`` is ``typed`` (``<Verb><Noun>`` wrapper), ``get`` (``Get<Noun>`` wrapper),
    ``generic`` (``RequestMessage`` / ``ResponseMessage`` / ``EventMessage`` /
    ``FaultMessage`` / ``Message``) or ``payload`` (a bare profile root such as
    ``MeterReadings``).
    """

    root: etree._Element
    form: str
    noun: str | None
    soap: SoapInfo | None = None
    legacy_namespace: str | None = None  # the namespace it arrived in, when not canonical
    warnings: list[Issue] = field(default_factory=list)
    _codec: Codec | None = field(default=None, repr=False)

    @property
    def element(self) -> str:
        """Local name of the message root, e.g. ``CreatedMeterReadings``."""
        return etree.QName(self.root).localname

    @property
    def namespace(self) -> str:
        return etree.QName(self.root).namespace or ""

    def _header_el(self) -> etree._Element | None:
        for child in self.root:
            tag = child.tag
            if isinstance(tag, str) and (tag == "Header" or tag.endswith("}Header")):
                return child
        return None

    def header(self) -> dict[str, Any]:
        """The IEC 61968-100 header fields as strings (booleans as bool), plus ``User`` and
        ``Property`` when present. Read from the tree without binding."""
        h = self._header_el()
        if h is None:
            return {}
        out: dict[str, Any] = {}
        for child in h:
            tag = child.tag
            # only elements of the message namespace: "{MSG_NS}Name" (no QName per child)
            if not isinstance(tag, str) or not tag.startswith(_MSG_PREFIX):
                continue
            name = tag[len(_MSG_PREFIX) :]
            if name in _HEADER_FIELDS:
                text = (child.text or "").strip()
                if name in ("AsyncReplyFlag", "AckRequired"):
                    out[name] = text in ("true", "1")
                else:
                    out[name] = text
            elif name == "User":
                out["User"] = {
                    etree.QName(c).localname: (c.text or "").strip()
                    for c in child
                    if isinstance(c.tag, str)
                }
            elif name == "Property":
                props = out.setdefault("Property", {})
                vals = {etree.QName(c).localname: (c.text or "") for c in child}
                props[vals.get("Name", "")] = vals.get("Value")
        return out

    @property
    def verb(self) -> str | None:
        return self.header().get("Verb")

    def payload_elements(self) -> list[etree._Element]:
        """The payload objects: children of ``Payload`` (or the root itself for a bare payload)."""
        if self.form == "payload":
            return [self.root]
        for child in self.root:
            if isinstance(child.tag, str) and etree.QName(child).localname == "Payload":
                return [
                    c
                    for c in child
                    if isinstance(c.tag, str)
                    and etree.QName(c).namespace != self.namespace
                    and etree.QName(c).namespace != ns.MSG_NS
                ]
        return []

    def bind(self) -> Any:
        """Bind the whole message to the generated classes (cached)."""
        return self.bound

    @cached_property
    def bound(self) -> Any:
        codec = self._codec or default_codec()
        return codec.bind(self.root)

    def to_bytes(self) -> bytes:
        """The message (without its SOAP envelope) in canonical namespaces."""
        return etree.tostring(self.root, encoding="UTF-8", xml_declaration=True)


class Codec:
    """Strict, safe reader and writer of IEC 61968-100 messages (BUS-1, BUS-3, SEC-3)."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, schemas: SchemaSet | None = None) -> None:
        self.limits = limits
        self._schemas = schemas
        self._context: XmlContext | None = None

    # ------------------------------------------------------------------ reading
    @property
    def schemas(self) -> SchemaSet:
        if self._schemas is None:
            self._schemas = project_schemas()
        return self._schemas

    def parse(self, data: bytes) -> CimMessage:
        """Safe parse, SOAP unwrap, namespace canonicalisation and identification (no
        validation). Raises a :class:`CodecError` subclass."""
        root = parse_bytes(data, self.limits)
        return self.identify(root)

    def identify(self, root: etree._Element) -> CimMessage:
        soap = None
        q = etree.QName(root)
        if q.localname == "Envelope" and q.namespace in (ns.SOAP11_NS, ns.SOAP12_NS):
            root, soap = _unwrap_soap(root, q.namespace)
        legacy = _canonicalise(root)
        q = etree.QName(root)
        namespace, local = q.namespace or "", q.localname
        if namespace == ns.MSG_NS:
            if local not in ns.GENERIC_ROOTS:
                raise UnknownMessageError(
                    f"element {local!r} in the IEC 61968-100 message namespace is not a message; "
                    f"expected one of {', '.join(ns.GENERIC_ROOTS)}"
                )
            noun = _text(root, ns.MSG_NS, "Header", "Noun")
            form = "generic"
        elif (noun := ns.noun_of_wrapper(namespace)) is not None:
            form = "get" if ns.is_get_wrapper(namespace) else "typed"
        elif (
            noun := ns.noun_of_payload(namespace)
        ) is not None or namespace in self.schemas.namespaces:
            form = "payload"
        else:
            raise UnknownMessageError(
                f"root element {{{namespace}}}{local} is not an IEC 61968-100 message or a payload "
                f"cimbus knows (expected namespace {ns.MSG_NS} or "
                f"http://iec.ch/TC57/2011/<Noun>Message; known nouns: {', '.join(ns.PROFILES)})"
                if namespace
                else f"root element {local!r} has no namespace; IEC 61968-100 messages are in "
                f"{ns.MSG_NS} or http://iec.ch/TC57/2011/<Noun>Message"
            )
        return CimMessage(
            root=root, form=form, noun=noun, soap=soap, legacy_namespace=legacy, _codec=self
        )

    def validate(self, message: CimMessage) -> list[Issue]:
        """Every XSD violation of the message (empty when valid)."""
        return self.schemas.validate(message.root)

    def decode(self, data: bytes, *, lenient: bool = False) -> CimMessage:
        """Parse and validate. Schema violations raise :class:`SchemaValidationError`, or, with
        ``lenient=True``, become warnings provided the message still binds."""
        message = self.parse(data)
        issues = self.validate(message)
        if issues:
            if not lenient:
                raise SchemaValidationError(
                    f"{message.element} breaks its schema: {issues[0]}"
                    + (f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""),
                    issues=issues,
                )
            message.warnings = [Issue(i.message, i.line, i.path, level="warning") for i in issues]
            message.bind()  # lenient only for documents that still bind
        return message

    # ------------------------------------------------------------------ binding
    @property
    def context(self) -> XmlContext:
        if self._context is None:
            load_generated()  # every generated class must be imported before lookups
            self._context = XmlContext()
        return self._context

    def class_for(self, qname: str) -> type:
        """The generated class of a global element, e.g. ``{...MeterReadingsMessage}CreatedMeterReadings``."""
        clazz = self.context.find_type(qname)
        if clazz is None:
            raise BindingError(f"no generated class for element {qname}")
        return clazz

    def bind(self, element: etree._Element) -> Any:
        """Bind a (validated) lxml element to its generated class. Converter warnings (an
        invalid enum value, date or number) and unknown properties are errors."""
        qname = element.tag
        clazz = self.class_for(qname)
        parser = XmlParser(
            context=self.context,
            config=ParserConfig(fail_on_unknown_properties=True, fail_on_converter_warnings=True),
            handler=LxmlEventHandler,
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", ConverterWarning)
                # xsdata's lxml handler clears each element once it is read: bind a copy so the
                # message tree (header, payload, bytes) stays intact. Copying is C-level and
                # small next to binding itself.
                return parser.parse(copy.deepcopy(element), clazz)
        except (ParserError, ConverterWarning, ValueError, TypeError) as exc:
            raise BindingError(f"cannot bind {etree.QName(element).localname}: {exc}") from exc

    # ------------------------------------------------------------------ writing
    def encode(self, obj: Any, *, pretty: bool = True, xml_declaration: bool = True) -> bytes:
        """Serialise a generated object to XML in the canonical (2011) namespaces with readable
        prefixes: ``msg`` for the envelope, ``m`` for the wrapper, the payload as default."""
        serializer = XmlSerializer(
            context=self.context,
            config=SerializerConfig(
                indent="  " if pretty else None,
                xml_declaration=xml_declaration,
                encoding="UTF-8",
            ),
        )
        text = serializer.render(obj, ns_map=_ns_map_for(obj))
        return text.encode("utf-8")


# ---------------------------------------------------------------------------- helpers


def load_generated() -> list[str]:
    """Import every generated package (one per namespace) so that xsdata can find each class
    by its qualified name, including payloads inside generic-envelope wildcards."""
    from . import generated

    names = sorted(m.name for m in pkgutil.iter_modules(generated.__path__) if m.ispkg)
    for name in names:
        importlib.import_module(f"{generated.__name__}.{name}")
    return names


def _text(root: etree._Element, namespace: str, *path: str) -> str | None:
    el = root
    for step in path:
        nxt = None
        for child in el:
            if isinstance(child.tag, str) and etree.QName(child).localname == step:
                nxt = child
                break
        if nxt is None:
            return None
        el = nxt
    return (el.text or "").strip() or None


def soap_parts(
    envelope: etree._Element, soap_ns: str
) -> tuple[etree._Element | None, etree._Element]:
    """The Header (or None) and the Body of a SOAP envelope whose structure is checked as SOAP
    1.1 section 4.1.1 and the WS-I Basic Profile (R1011) require: at most one Header, as the
    first element child; exactly one Body, right after it (or first); nothing after the Body.
    A second Header, a Header after the Body, two Bodies or a trailing element would otherwise
    be read partly (a mustUnderstand block in a second Header never checked, a second Body
    ignored). Raises :class:`UnknownMessageError` naming what is wrong."""
    version = "1.1" if soap_ns == ns.SOAP11_NS else "1.2"
    header_tag, body_tag = f"{{{soap_ns}}}Header", f"{{{soap_ns}}}Body"
    header = body = None
    for child in envelope:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if tag == header_tag:
            if header is not None:
                problem = "holds two Header elements; SOAP allows one"
            elif body is not None:
                problem = "has its Header after the Body; the Header must come first"
            else:
                header = child
                continue
        elif tag == body_tag:
            if body is not None:
                problem = "holds two Body elements; SOAP allows one"
            else:
                body = child
                continue
        elif body is not None:
            problem = f"has {_local(tag)} after the Body; nothing may follow it (WS-I Basic Profile R1011)"
        else:
            problem = f"has {_local(tag)} before the Body; only a Header may precede it"
        raise UnknownMessageError(f"SOAP {version} envelope {problem}")
    if body is None:
        raise UnknownMessageError(f"SOAP {version} envelope has no Body")
    return header, body


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _unwrap_soap(envelope: etree._Element, soap_ns: str) -> tuple[etree._Element, SoapInfo]:
    version = "1.1" if soap_ns == ns.SOAP11_NS else "1.2"
    header, body = soap_parts(envelope, soap_ns)
    children = [c for c in body if isinstance(c.tag, str)]
    if not children:
        raise UnknownMessageError(f"SOAP {version} Body is empty: no message inside")
    if len(children) > 1:
        raise UnknownMessageError(
            f"SOAP {version} Body holds {len(children)} elements; document/literal IEC 61968-100 "
            "services take exactly one message"
        )
    return children[0], SoapInfo(version=version, header=header)


def _namespace_of(tag: str) -> str | None:
    """The namespace of a Clark-notation tag (``{ns}local``), as ``etree.QName`` gives it."""
    return tag[1 : tag.index("}")] if tag[:1] == "{" else None


def _canonicalise(root: etree._Element) -> str | None:
    """Rewrite legacy IEC namespaces (``www.iec.ch``, 2017 wrappers) to the 2011 forms, in
    place. Only documents whose root or header is legacy are walked (the common case costs
    one check). Returns the legacy root namespace, or None."""
    root_ns = _namespace_of(root.tag)
    header_ns = None
    for first in root:
        if isinstance(first.tag, str):
            for verb in first:
                if isinstance(verb.tag, str):
                    header_ns = _namespace_of(verb.tag)
                    break
            break
    if not (ns.is_legacy(root_ns) or ns.is_legacy(header_ns)):
        return None
    cache: dict[str | None, str | None] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        q = etree.QName(el)
        if q.namespace not in cache:
            cache[q.namespace] = ns.canonical(q.namespace)
        new = cache[q.namespace]
        if new != q.namespace:
            el.tag = f"{{{new}}}{q.localname}"
    etree.cleanup_namespaces(root)
    return root_ns if ns.is_legacy(root_ns) else header_ns


def _ns_map_for(obj: Any) -> dict[str | None, str]:
    """Prefixes for output: ``msg`` (envelope), ``m`` (typed wrapper), ``get`` (Get filter) and
    the payload profile as the default namespace."""
    meta = getattr(type(obj), "Meta", None)
    namespace = getattr(meta, "namespace", None)
    if namespace is None:
        module = sys.modules.get(type(obj).__module__)
        namespace = getattr(module, "__NAMESPACE__", None)
    noun = None
    if namespace == ns.MSG_NS:  # generic envelope: the payload noun is in the header
        header = getattr(obj, "header", None)
        noun = getattr(header, "noun", None)
    elif namespace:
        noun = ns.noun_of_wrapper(namespace) or ns.noun_of_payload(namespace)
    out: dict[str | None, str] = {"msg": ns.MSG_NS}
    profile = ns.PROFILES.get(noun) if noun else None
    if profile is not None:
        out[None] = profile.payload_ns
        if namespace in (profile.wrapper_ns, profile.get_wrapper_ns):
            out["m"] = namespace
        is_get = namespace == profile.get_wrapper_ns or (
            namespace == ns.MSG_NS
            and getattr(getattr(obj, "header", None), "verb", None) is not None
            and getattr(obj.header.verb, "value", obj.header.verb) == "get"
        )
        if profile.get_ns and is_get:
            out["get"] = profile.get_ns
    return out


_default: Codec | None = None


def default_codec() -> Codec:
    """A process-wide codec with the default limits."""
    global _default
    if _default is None:
        _default = Codec()
    return _default


__all__ = ["CimMessage", "Codec", "CodecError", "SoapInfo", "canonical", "default_codec"]


def canonical(xml: bytes | etree._Element) -> str:
    """Canonical XML (C14N 2.0, whitespace-only text dropped, namespace prefixes rewritten) for
    comparing two documents regardless of formatting and prefix choice (golden tests,
    conformance)."""
    if isinstance(xml, bytes | bytearray):
        xml = parse_bytes(bytes(xml))
    return etree.canonicalize(xml, strip_text=True, rewrite_prefixes=True)
