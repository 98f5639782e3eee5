"""SQLite fixtures for the store contract (tests/unit/routing/store/contract.py).

Migrating takes longer than a test, so the schema is migrated once per session into a
template file that each test copies.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from routing.store import Store

# the shared store behaviours (tests/unit/routing/store/contract.py) get pytest's assert messages
pytest.register_assert_rewrite("tests.unit.routing.store.contract")
pytest.register_assert_rewrite("tests.unit.routing.store.contract_batch")
pytest.register_assert_rewrite("tests.unit.routing.store.contract_retention")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store-template") / "template.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.close()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def make_store(tmp_path: Path, sqlite_template: Path) -> Iterator[Callable[..., Store]]:
    path = tmp_path / "cimbus.db"
    shutil.copyfile(sqlite_template, path)
    opened: list[Store] = []

    def make(**options) -> Store:
        store = Store(f"sqlite:///{path}", **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def make_empty_store(tmp_path: Path) -> Iterator[Callable[..., Store]]:
    opened: list[Store] = []

    def make(**options) -> Store:
        store = Store(f"sqlite:///{tmp_path}/empty/cimbus.db", **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: Callable[..., Store]) -> Store:
    return make_store(payload_policy="all")
