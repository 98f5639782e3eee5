"""cimbus conformance: golden exchanges (``exchanges/``) and, later, black-box suites per
requirement ID. It reaches the adapter only over the wire; it may use ``cim_models``."""

from pathlib import Path

#: Golden messages: ``<Noun>/<Element>.xml`` per typed wrapper element,
#: ``<Noun>/get/<Element>.xml`` per Get wrapper element, ``generic/`` for IEC 61968-100
#: generic envelopes.
EXCHANGES_DIR = Path(__file__).resolve().parent / "exchanges"
