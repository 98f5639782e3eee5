"""Golden messages (BUS-1, BUS-2, BUS-3): one per verb + noun, every one round-trips.

For every global element of every typed wrapper XSD (``<Noun>Message.xsd``,
``Get<Noun>Message.xsd``) a golden message must exist in ``conformance/exchanges``; each one
parses strictly, validates, binds to the generated classes, serialises back to the same
canonical XML, and the serialised form validates again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from cim_models import namespaces as ns
from cim_models.codec import Codec, canonical
from cim_models.schemas import SCHEMA_DIR
from tests.conftest import EXCHANGES

XS = "{http://www.w3.org/2001/XMLSchema}"
codec = Codec()


def wrapper_elements() -> list[tuple[str, str, str]]:
    """(noun, sub-folder, element) for every global element of every wrapper XSD."""
    out = []
    for xsd in sorted(SCHEMA_DIR.glob("*Message.xsd")):
        if xsd.name == "Message.xsd":
            continue
        root = etree.parse(str(xsd)).getroot()
        tns = root.get("targetNamespace")
        noun = ns.noun_of_wrapper(tns)
        assert noun, f"{xsd.name}: namespace {tns} is not registered in cim_models/namespaces.py"
        sub = "get" if ns.is_get_wrapper(tns) else ""
        out.extend((noun, sub, el.get("name")) for el in root.findall(f"{XS}element"))
    return out


def golden_path(noun: str, sub: str, element: str) -> Path:
    return EXCHANGES / noun / sub / f"{element}.xml" if sub else EXCHANGES / noun / f"{element}.xml"


def all_goldens() -> list[Path]:
    return sorted(EXCHANGES.rglob("*.xml"))


def expected_verb(element: str, noun: str) -> str | None:
    if element.endswith("FaultMessage"):
        return None
    if element.endswith("ResponseMessage"):
        return "reply"
    if element == f"Get{noun}":
        return "get"
    prefix = element[: -len(noun)]
    return {v: k for k, v in ns.VERB_PREFIX.items()}[prefix]


def test_every_verb_and_noun_has_a_golden() -> None:
    elements = wrapper_elements()
    # 4 nouns x 12 typed elements + 2 Get wrappers x 3
    assert len(elements) == 4 * 12 + 2 * 3
    missing = [
        str(golden_path(*e).relative_to(EXCHANGES.parent.parent))
        for e in elements
        if not golden_path(*e).is_file()
    ]
    assert not missing, "golden messages missing:\n" + "\n".join(missing)


def test_generic_envelope_goldens_exist() -> None:
    generic = {p.name for p in (EXCHANGES / "generic").glob("*.xml")}
    for form in ("RequestMessage", "ResponseMessage", "EventMessage", "FaultMessage"):
        assert any(name.startswith(form) for name in generic), f"no generic {form} golden"


@pytest.mark.parametrize("path", all_goldens(), ids=lambda p: str(p.relative_to(EXCHANGES)))
def test_golden_round_trips(path: Path) -> None:
    data = path.read_bytes()
    message = codec.decode(data)  # strict parse + validation
    obj = message.bind()
    out = codec.encode(obj)
    assert canonical(out) == canonical(message.to_bytes()), out.decode()
    again = codec.parse(out)
    assert codec.validate(again) == []
    # the bound object is an instance of the generated class for the root element
    assert type(obj).__name__ == message.element
    # binding leaves the message intact
    assert message.header() == codec.decode(data).header()


@pytest.mark.parametrize(
    "noun,sub,element",
    wrapper_elements(),
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_golden_header_matches_element(noun: str, sub: str, element: str) -> None:
    path = golden_path(noun, sub, element)
    if not path.is_file():
        pytest.fail(f"missing golden {path}")
    message = codec.decode(path.read_bytes())
    assert message.element == element
    assert message.noun == noun
    verb = expected_verb(element, noun)
    header = message.header()
    if verb is None:
        assert header == {}
    else:
        assert header["Verb"] == verb
        assert header["Noun"] == noun
        assert header.get("MessageID"), "every golden carries a MessageID"
