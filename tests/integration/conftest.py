"""Fixtures shared by the integration tests (real servers, marked ``broker``).

``postgres_url``: the PostgreSQL URL ($CIMBUS_TEST_POSTGRES_URL, default the local ``test``
database as ``postgres``, which .ci/run creates); skips when nothing answers on a developer
machine, fails when CI is true (the same rule as tests/conftest.py).
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from tests.conftest import in_ci

# the shared store behaviours (tests/unit/routing/store/contract.py) get pytest's assert messages
pytest.register_assert_rewrite("tests.unit.routing.store.contract")
pytest.register_assert_rewrite("tests.unit.routing.store.contract_batch")
pytest.register_assert_rewrite("tests.unit.routing.store.contract_retention")

POSTGRES_URL = os.environ.get(
    "CIMBUS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    engine = create_engine(POSTGRES_URL, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as exc:
        where = engine.url.render_as_string(hide_password=True)
        msg = f"PostgreSQL does not answer at {where}: {type(exc).__name__}: {exc}"
        if in_ci():
            pytest.fail(f"{msg} (CI must run the broker tests)")
        pytest.skip(msg)
    finally:
        engine.dispose()
    return POSTGRES_URL
