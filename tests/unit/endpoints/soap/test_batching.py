"""The SOAP endpoint's fast paths (issue 3): events go to one batch thread and share a store
transaction; a reply cimbus wrote in the promised element is wrapped without parsing it again
(byte for byte what the parsing path gives)."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cim_models.build import ReplyError, build_message
from cim_models.safexml import parse_bytes
from endpoints.embedded import EmbeddedBroker, EmbeddedTransport
from endpoints.soap import create_app, dispatch, wire
from endpoints.soap.app import _wrap_as_is
from routing.bus import Bus
from routing.config import Config

MR_RESPONSE = "{http://iec.ch/TC57/2011/MeterReadingsMessage}MeterReadingsResponseMessage"
ACTION = '"http://iec.ch/TC57/2011/MeterReadings/CreatedMeterReadings"'


@pytest.mark.parametrize(
    "reply",
    [
        build_message("reply", "MeterReadings", correlation_id="x", source="CIMBUS", result="OK"),
        build_message(
            "reply",
            "MeterReadings",
            correlation_id="x",
            result="FAILED",
            errors=[ReplyError("2.2", "FATAL", "bad & <worse>")],
        ),
    ],
)
def test_wrapping_without_parsing_gives_the_same_bytes(reply: bytes) -> None:
    slow = wire.wrap(wire.conform(parse_bytes(reply), MR_RESPONSE), take=True)
    assert _wrap_as_is(reply, MR_RESPONSE) == slow


def test_anything_unusual_takes_the_parsing_path() -> None:
    ok = build_message("reply", "MeterReadings", correlation_id="x", result="OK")
    other = "{http://iec.ch/TC57/2011/GetMeterReadingsMessage}MeterReadingsResponseMessage"
    assert _wrap_as_is(ok, other) is None  # another wrapper namespace: conform() renames it
    assert _wrap_as_is(ok.replace(b"<m:Header>", b"<!-- c --><m:Header>"), MR_RESPONSE) is None
    assert _wrap_as_is(ok.split(b"?>", 1)[1], MR_RESPONSE) is None  # not as cimbus writes it
    fault = build_message("reply", "MeterReadings", correlation_id="x", result="FAILED")
    assert _wrap_as_is(fault.replace(b"ResponseMessage", b"FaultMessage"), MR_RESPONSE) is None


def _soap(mid: str) -> bytes:
    message = build_message("created", "MeterReadings", message_id=mid, source="HES")
    inner = message.split(b"?>", 1)[1]
    return (
        f'<soapenv:Envelope xmlns:soapenv="{wire.SOAP11_NS}"><soapenv:Body>'.encode()
        + inner
        + b"</soapenv:Body></soapenv:Envelope>"
    )


@pytest.fixture
def bus(tmp_path: Path):
    cfg = Config.from_mapping(
        {
            "store": {"url": f"sqlite:///{tmp_path}/cimbus.db"},
            "systems": {"MDMS": {"transport": "embedded"}},
            "subscriptions": [
                {"verb": "created", "noun": "MeterReadings", "subscribers": ["MDMS"]}
            ],
        }
    )
    b = Bus(cfg).start(outbox=False)
    EmbeddedTransport(b, EmbeddedBroker())
    yield b
    b.stop()


def test_concurrent_events_are_answered_from_the_batch_thread(bus: Bus) -> None:
    app = create_app(bus)
    mids = [str(uuid.uuid4()) for _ in range(12)]
    answers: dict[str, tuple[int, bytes]] = {}
    with TestClient(app) as client:

        def send(mid: str) -> None:
            r = client.post(
                "/ws/ReceiveMeterReadings",
                content=_soap(mid),
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": ACTION},
            )
            answers[mid] = (r.status_code, r.content)

        threads = [threading.Thread(target=send, args=(m,)) for m in mids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert app.state.batcher.batches >= 1
    for mid in mids:
        status, body = answers[mid]
        assert status == 200 and b"<msg:Result>OK</msg:Result>" in body
        assert f"<msg:CorrelationID>{mid}</msg:CorrelationID>".encode() in body
    assert len(bus.store.audit(limit=100)) == 2 * len(mids)
    assert bus.store.outbox_counts()["pending"] == len(mids)


def test_handle_many_answers_each_request_like_handle(bus: Bus) -> None:
    app = create_app(bus)
    endpoint = app.state.endpoint
    service = dispatch.find_service("ReceiveMeterReadings")
    good, again = str(uuid.uuid4()), _soap("dup")
    items = [
        (service, _soap(good), ACTION, "http://x"),
        (service, b"<soapenv:Envelope", ACTION, "http://x"),  # unreadable: the core decides
        (service, b"<a/>", ACTION, "http://x"),  # not an envelope: the endpoint's fault
        (service, again, ACTION, "http://x"),
        (service, again, ACTION, "http://x"),  # a retry inside the batch: the stored reply
    ]
    out = endpoint.handle_many(items)
    assert [r.status_code for r in out] == [200, 500, 500, 200, 200]
    assert out[3].body == out[4].body
