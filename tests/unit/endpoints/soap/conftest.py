"""Fixtures for the SOAP endpoint tests: a stand-in core and an in-process client."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from endpoints.soap import create_app

from .support import StubBus


@pytest.fixture
def bus() -> StubBus:
    return StubBus()


@pytest.fixture
def client(bus: StubBus) -> TestClient:
    with TestClient(create_app(bus)) as c:
        yield c
