"""cimbus's own XSD profiles (BUS-1, BUS-3, SEC-3).

``Message.xsd`` is the IEC 61968-100:2013 envelope; ``<Noun>.xsd`` are the IEC 61968-9:2013 payload
profiles (OutageRecords is cimbus's own, see docs/profiles.md); ``<Noun>Message.xsd`` and
``Get<Noun>Message.xsd`` are the typed wrappers. The generated classes in
``cim_models/generated`` are produced from these files by ``make models``.
"""

from __future__ import annotations

from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent


def schema_files() -> list[Path]:
    """Every XSD profile shipped with cimbus, sorted by name."""
    return sorted(SCHEMA_DIR.glob("*.xsd"))
