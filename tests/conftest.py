"""Shared pytest fixtures.

Material outside the repository (../shared/cim-reference: third-party IEC schemas and samples)
is used for interoperability checks. Tests that need it skip only when it is absent on a
developer's machine; in CI (CI=true) its absence is a failure, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# shared contract modules imported by several test packages get pytest's assert messages
pytest.register_assert_rewrite("tests.unit.routing.services.smt_store_contract")

REPO = Path(__file__).resolve().parents[1]
EXCHANGES = REPO / "conformance" / "exchanges"


def _shared_dir() -> Path:
    env = os.environ.get("CIMBUS_SHARED")
    return Path(env) if env else REPO.parent / "shared"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def cim_reference() -> Path:
    """../shared/cim-reference (third-party IEC schemas and samples)."""
    ref = _shared_dir() / "cim-reference"
    if not ref.is_dir():
        if in_ci():
            pytest.fail(f"{ref} is missing: CI must run the interoperability tests")
        pytest.skip(f"{ref} is absent (developer machine without ../shared)")
    return ref


@pytest.fixture(scope="session")
def exchanges() -> Path:
    return EXCHANGES
