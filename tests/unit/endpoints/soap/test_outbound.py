"""BUS-4, BUS-7, REL-2: SoapOutbound delivers to SOAP systems with the operation's SOAPAction,
hands a synchronous reply back, and classifies failures as retryable or permanent."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree

from cim_models.build import ReplyError, build_message
from endpoints.soap import SoapOutbound, faults, wire
from endpoints.soap.outbound import resolve
from routing.errors import MalformedMessage
from routing.routes import System
from routing.transport import (
    Delivery,
    DeliveryError,
    Outbound,
    PermanentDeliveryError,
    TransportUnavailable,
)

from .support import golden

HES = System(name="HES", transport="soap", address="http://hes.example/cim")
CREATE = golden("CreateEndDeviceControls.xml")
CREATED = golden("CreatedEndDeviceEvents.xml")


def _delivery(
    body: bytes = CREATE, verb: str = "create", noun: str = "EndDeviceControls", **kw
) -> Delivery:
    return Delivery(
        system=HES,
        address=kw.pop("address", HES.address),
        body=body,
        message_id="m-1",
        verb=verb,
        noun=noun,
        **kw,
    )


def _reply(result: str = "OK", code: str | None = None, noun: str = "EndDeviceControls") -> bytes:
    errors = [ReplyError(code, "INFORM", "accepted")] if code else []
    return wire.wrap(
        build_message("reply", noun, correlation_id="m-1", result=result, errors=errors)
    )


class Recorder:
    def __init__(self, respond) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)


def _outbound(respond) -> tuple[SoapOutbound, Recorder]:
    rec = Recorder(respond)
    return SoapOutbound(client=httpx.Client(transport=httpx.MockTransport(rec))), rec


def test_is_an_outbound() -> None:
    out = SoapOutbound()
    assert isinstance(out, Outbound)
    assert out.name == "soap"
    assert out.reply_address(sync=True) is None
    assert out.reply_address(sync=False) is None


def test_delivers_a_request_and_returns_the_reply() -> None:
    out, rec = _outbound(
        lambda r: httpx.Response(200, content=_reply(), headers={"Content-Type": "text/xml"})
    )
    reply = out.deliver(_delivery())
    (req,) = rec.requests
    assert str(req.url) == "http://hes.example/cim/ExecuteEndDeviceControls"
    assert (
        req.headers["SOAPAction"]
        == '"http://iec.ch/TC57/2011/EndDeviceControls/CreateEndDeviceControls"'
    )
    assert req.headers["Content-Type"].startswith("text/xml")
    sent = etree.fromstring(req.content)
    assert etree.QName(sent[0][0]).localname == "CreateEndDeviceControls"
    root = etree.fromstring(reply)
    assert etree.QName(root).localname == "EndDeviceControlsResponseMessage"


@pytest.mark.parametrize(
    ("address", "element", "verb", "noun", "url", "action"),
    [
        (
            "http://h/ws",
            "GetMeterReadings",
            "get",
            "MeterReadings",
            "http://h/ws/GetMeterReadings",
            "MeterReadings/GetMeterReadings",
        ),
        (
            "http://h/ws/",
            "CreatedEndDeviceEvents",
            "created",
            "EndDeviceEvents",
            "http://h/ws/ReceiveEndDeviceEvents",
            "EndDeviceEvents/CreatedEndDeviceEvents",
        ),
        (
            "https://cis.example/cim/2011/ReplyEndDeviceControls",
            "EndDeviceControlsResponseMessage",
            "reply",
            "EndDeviceControls",
            "https://cis.example/cim/2011/ReplyEndDeviceControls",
            "EndDeviceControls/ReplyEndDeviceControls",
        ),
        (
            "http://h/x/SendMeterReadings",
            "CreatedMeterReadings",
            "created",
            "MeterReadings",
            "http://h/x/SendMeterReadings",
            "MeterReadings/CreatedMeterReadings",
        ),
        (
            "http://h/ws?key=1",
            "CreateEndDeviceControls",
            "create",
            "EndDeviceControls",
            "http://h/ws/ExecuteEndDeviceControls?key=1",
            "EndDeviceControls/CreateEndDeviceControls",
        ),
        (
            "http://h/ws",
            "RequestMessage",
            "create",
            "UsagePoints",
            "http://h/ws/ExecuteUsagePoints",
            "UsagePoints/CreateUsagePoints",
        ),
    ],
)
def test_address_rule(address, element, verb, noun, url, action) -> None:
    assert resolve(address, element, verb, noun) == (url, f"http://iec.ch/TC57/2011/{action}")


def test_accepted_acknowledgement_is_not_the_reply() -> None:
    out, _ = _outbound(lambda r: httpx.Response(200, content=_reply(code="0.1")))
    assert out.deliver(_delivery()) is None


def test_event_acknowledgement_is_not_returned() -> None:
    out, rec = _outbound(lambda r: httpx.Response(200, content=_reply(noun="EndDeviceEvents")))
    assert out.deliver(_delivery(CREATED, "created", "EndDeviceEvents")) is None
    assert str(rec.requests[0].url) == "http://hes.example/cim/ReceiveEndDeviceEvents"


def test_event_refused_is_permanent() -> None:
    out, _ = _outbound(
        lambda r: httpx.Response(200, content=_reply("FAILED", noun="EndDeviceEvents"))
    )
    with pytest.raises(PermanentDeliveryError, match="refused the created EndDeviceEvents"):
        out.deliver(_delivery(CREATED, "created", "EndDeviceEvents"))


def test_request_failed_reply_is_returned() -> None:
    out, _ = _outbound(lambda r: httpx.Response(200, content=_reply("FAILED")))
    reply = out.deliver(_delivery())
    assert b"FAILED" in reply


def _fault(code: str, status: int = 500) -> httpx.Response:
    fault = faults.fault_for_error(MalformedMessage("no"), None, code=code)
    return httpx.Response(status, content=faults.render(fault))


@pytest.mark.parametrize(
    ("respond", "error"),
    [
        (lambda r: httpx.Response(503, text="busy"), DeliveryError),
        (lambda r: httpx.Response(500), DeliveryError),
        (lambda r: _fault("Server"), DeliveryError),
        (lambda r: _fault("Client"), PermanentDeliveryError),
        (lambda r: _fault("VersionMismatch"), PermanentDeliveryError),
        (lambda r: httpx.Response(404, text="nope"), PermanentDeliveryError),
        (lambda r: httpx.Response(400, content=b""), PermanentDeliveryError),
        (lambda r: httpx.Response(302, headers={"Location": "http://x"}), PermanentDeliveryError),
        (lambda r: httpx.Response(200, text="<html>hello</html>"), PermanentDeliveryError),
    ],
    ids=[
        "503",
        "500",
        "server fault",
        "client fault",
        "version mismatch",
        "404",
        "400",
        "302",
        "not soap",
    ],
)
def test_failures(respond, error) -> None:
    out, _ = _outbound(respond)
    with pytest.raises(DeliveryError) as info:
        out.deliver(_delivery())
    assert type(info.value) is error
    assert "HES" in str(info.value)


def test_connection_errors_and_timeouts_are_retryable() -> None:
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request):
        raise httpx.ReadTimeout("timed out", request=request)

    for respond in (refuse, slow):
        out, _ = _outbound(respond)
        with pytest.raises(DeliveryError) as info:
            out.deliver(_delivery())
        assert not isinstance(info.value, PermanentDeliveryError)


@pytest.mark.parametrize(
    "error", [httpx.ConnectError("connection refused"), httpx.ConnectTimeout("no SYN-ACK")]
)
def test_a_receiver_that_cannot_be_reached_is_no_attempt(error) -> None:
    """Nothing was sent: TransportUnavailable (the outbox waits without counting an attempt,
    REL-1); a timeout after sending stays an ordinary, counted DeliveryError."""

    def fail(request):
        error.request = request
        raise error

    out, _ = _outbound(fail)
    with pytest.raises(TransportUnavailable, match=r"HES at .*: cannot connect"):
        out.deliver(_delivery())

    def slow(request):
        raise httpx.ReadTimeout("timed out", request=request)

    out, _ = _outbound(slow)
    with pytest.raises(DeliveryError) as info:
        out.deliver(_delivery())
    assert not isinstance(info.value, TransportUnavailable)


def test_unreadable_message_is_permanent() -> None:
    out, rec = _outbound(lambda r: httpx.Response(200))
    with pytest.raises(PermanentDeliveryError):
        out.deliver(_delivery(b"<broken"))
    assert not rec.requests


def test_empty_200_is_no_reply() -> None:
    out, _ = _outbound(lambda r: httpx.Response(202))
    assert out.deliver(_delivery()) is None


def test_close_then_reuse_creates_a_new_pool() -> None:
    out = SoapOutbound()
    first = out.client
    out.close()
    assert out.client is not first
    out.close()
