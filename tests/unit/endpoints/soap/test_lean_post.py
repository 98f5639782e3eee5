"""``POST /ws/<Service>`` is served straight from the ASGI call (issue 3, BUS-4), not through
FastAPI's routing and middleware: the same answers, at a fraction of the event loop's cost.
These tests pin that the lean path is the one taken, and that what a caller gets from it is
what the FastAPI route (still registered, for a POST the lean path does not take) gives."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from cim_models.build import build_message
from endpoints.soap import create_app

from .support import StubBus, envelope, post

ACTION = "http://iec.ch/TC57/2011/MeterReadings/CreatedMeterReadings"
BODY = envelope(
    build_message("created", "MeterReadings", message_id="lean-1", source="HES").split(b"?>", 1)[1]
)


class _Counting:
    """A pure ASGI middleware that counts the requests FastAPI's middleware stack sees."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            _Counting.log.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)

    log: ClassVar[list[tuple[str, str]]] = []


@pytest.fixture
def counted() -> tuple[Any, StubBus]:
    _Counting.log = []
    bus = StubBus()
    app = create_app(bus)
    app.add_middleware(_Counting)
    return app, bus


def test_a_soap_post_does_not_go_through_fastapi(counted: tuple[Any, StubBus]) -> None:
    app, bus = counted
    with TestClient(app) as client:
        r = post(client, "ReceiveMeterReadings", BODY, action=ACTION)
        assert r.status_code == 200, r.text
        assert len(bus.calls) == 1
        assert ("POST", "/ws/ReceiveMeterReadings") not in _Counting.log
        # everything else still does
        assert client.get("/ws/ReceiveMeterReadings?wsdl").status_code == 200
        assert ("GET", "/ws/ReceiveMeterReadings") in _Counting.log


def test_the_fastapi_route_answers_the_same(counted: tuple[Any, StubBus]) -> None:
    """The route the lean path stands in for gives the same status, headers and body."""
    app, _bus = counted
    with TestClient(app) as client:
        lean = post(client, "ReceiveMeterReadings", BODY, action=ACTION)
        unknown = post(client, "NoSuchService", BODY, action=ACTION)
    routed_app = create_app(StubBus())
    routed_app.state.soap_post = None  # the lean path steps aside: FastAPI's route serves
    with TestClient(routed_app) as client:
        routed = post(client, "ReceiveMeterReadings", BODY, action=ACTION)
        routed_unknown = post(client, "NoSuchService", BODY, action=ACTION)
    for a, b in ((lean, routed), (unknown, routed_unknown)):
        assert a.status_code == b.status_code
        assert a.headers["content-type"] == b.headers["content-type"]
        assert _stable(a.content) == _stable(b.content)


def _stable(body: bytes) -> bytes:
    """The answer without what differs per call (the reply's own MessageID and Timestamp)."""
    return re.sub(rb"<(\w+:)?(MessageID|Timestamp)>[^<]*<", rb"<\1\2>-<", body)


def test_root_path_and_paths_below_a_service(counted: tuple[Any, StubBus]) -> None:
    app, bus = counted
    with TestClient(app, root_path="/cimbus") as client:
        r = post(client, "ReceiveMeterReadings", BODY, action=ACTION)
        assert r.status_code == 200 and len(bus.calls) == 1
        # not a service: FastAPI decides (a path below /ws/<name> is no SOAP endpoint)
        deeper = client.post("/ws/ReceiveMeterReadings/more", content=b"<a/>")
        assert deeper.status_code in (404, 405)
        assert len(bus.calls) == 1


def test_body_limit_and_chunked_bodies_on_the_lean_path() -> None:
    from cim_models.safexml import Limits

    bus = StubBus(limits=Limits(max_bytes=4096))
    with TestClient(create_app(bus)) as client:
        big = client.post(
            "/ws/ReceiveMeterReadings",
            content=b"<x>" + b"a" * 5000 + b"</x>",
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ACTION}"'},
        )
        assert big.status_code == 413 and b"4096" in big.content
        chunks = iter([b"<soapenv:Envelope", b" xmlns:soapenv='x'/>"])
        streamed = client.post(
            "/ws/ReceiveMeterReadings",
            content=chunks,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ACTION}"'},
        )
        assert streamed.status_code == 500  # read whole (two chunks), then refused as SOAP
        assert b"Fault" in streamed.content
    assert bus.calls == []
