"""XSD validation with lxml against cimbus's profiles (BUS-1, SEC-3).

All profiles in ``cim_models/schemas`` are compiled once into one :class:`lxml.etree.XMLSchema`
(a small in-memory catalogue schema imports every namespace), so any typed wrapper, generic
envelope or bare payload validates against the same object. lxml (libxml2) validation is the
hot path: it is about two orders of magnitude faster than pure-Python validators.

The generic IEC 61968-100 envelope lets ``Payload`` carry anything (``processContents="skip"``),
so for a generic message each payload child whose namespace has a cimbus profile is validated
against that profile as well (:meth:`SchemaSet.validate` does both).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from lxml import etree

from .errors import Issue
from .namespaces import MSG_NS
from .schemas import schema_files

_XS = "http://www.w3.org/2001/XMLSchema"


def _target_namespace(path: Path) -> str:
    return etree.parse(str(path), _schema_parser()).getroot().get("targetNamespace", "")


def _schema_parser() -> etree.XMLParser:
    # Schemas are our own files, but load them with the same discipline: no network, no DTD.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _payload_is_skipped(path: Path) -> bool:
    """True for an IEC 61968-100 envelope schema whose PayloadType wildcard is "skip"."""
    doc = etree.parse(str(path), _schema_parser()).getroot()
    if doc.get("targetNamespace") != MSG_NS:
        return False
    for ctype in doc.iter(f"{{{_XS}}}complexType"):
        if ctype.get("name") == "PayloadType":
            return any(a.get("processContents") == "skip" for a in ctype.iter(f"{{{_XS}}}any"))
    return False


class SchemaSet:
    """A compiled set of XSDs; ``validate`` returns every violation as an :class:`Issue`."""

    def __init__(self, files: list[Path]) -> None:
        if not files:
            raise ValueError("a schema set needs at least one XSD")
        imports = "".join(
            f'<xs:import namespace="{_target_namespace(f)}" schemaLocation="{f.resolve().as_uri()}"/>'
            for f in files
        )
        catalogue = (
            f'<xs:schema xmlns:xs="{_XS}" targetNamespace="urn:cimbus:catalogue" '
            f'elementFormDefault="qualified">{imports}</xs:schema>'
        )
        doc = etree.fromstring(catalogue.encode(), _schema_parser())
        self._schema = etree.XMLSchema(doc)
        self.namespaces = frozenset(_target_namespace(f) for f in files)
        self.skips_payload = any(_payload_is_skipped(f) for f in files)
        # XMLSchema objects keep an error log per call; guard them per thread.
        self._lock = threading.Lock()

    def _run(self, element: etree._Element) -> list[Issue]:
        with self._lock:
            ok = self._schema.validate(element)
            if ok:
                return []
            return [
                Issue(message=e.message, line=e.line or None, path=e.path or None)
                for e in self._schema.error_log
            ]

    def validate(self, element: etree._Element) -> list[Issue]:
        """Validate ``element`` (a message or payload root). cimbus's envelope validates known
        payloads itself (lax wildcard); with an envelope schema that skips its payload (the
        standard's own text), each payload object is validated against its profile here."""
        issues = self._run(element)
        if self.skips_payload and etree.QName(element).namespace == MSG_NS:
            payload = element.find(f"{{{MSG_NS}}}Payload")
            if payload is not None:
                for child in payload:
                    ns = etree.QName(child).namespace
                    if ns != MSG_NS and ns in self.namespaces:
                        issues.extend(self._run(child))
        return issues

    def is_valid(self, element: etree._Element) -> bool:
        return not self.validate(element)


@lru_cache(maxsize=1)
def project_schemas() -> SchemaSet:
    """The compiled set of all cimbus profiles (built once per process)."""
    return SchemaSet(schema_files())


@lru_cache(maxsize=8)
def schema_set_for(*files: str) -> SchemaSet:
    """A compiled set of other XSD files (tests use this to validate cimbus output against
    third-party copies of the IEC schemas). When two files share a namespace the first wins."""
    return SchemaSet([Path(f) for f in files])
