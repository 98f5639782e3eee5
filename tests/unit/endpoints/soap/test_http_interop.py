"""BUS-4, SEC-3: what real SOAP stacks send (Apache CXF / JAX-WS, WCF, SoapUI, load balancers)
is read correctly, and a misbuilt envelope is refused with a specific fault instead of being
read partly.

* the SOAP 1.1 envelope structure (section 4.1.1, WS-I BP R1011): one Header first, one Body,
  nothing after it; a mustUnderstand block in a second Header was never checked before;
* mustUnderstand only for blocks addressed to cimbus (``actor``), and its fault has no detail
  (section 4.4);
* ``Content-Encoding: gzip`` / ``deflate`` bodies, bounded when inflated; ``charset=``;
* HEAD wherever GET answers; ``POST /ws/<Service>/``; a quoted blank SOAPAction.
"""

from __future__ import annotations

import gzip
import zlib

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from cim_models.codec import Codec
from cim_models.errors import UnknownMessageError
from cim_models.safexml import Limits
from endpoints.soap import create_app

from .support import EDC_ACTION, StubBus, body_of, fault_of, fresh, golden, result_of

SERVICE = "ExecuteEndDeviceControls"
CREATE = golden("CreateEndDeviceControls.xml")
ENV_OPEN = b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
ENV_CLOSE = b"</soapenv:Envelope>"
SECURITY = (
    b'<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/'
    b'oasis-200401-wss-wssecurity-secext-1.0.xsd" soapenv:mustUnderstand="1"{actor}/>'
)


def _message() -> bytes:
    return fresh(CREATE).split(b"?>", 1)[1]


def _body() -> bytes:
    return b"<soapenv:Body>" + _message() + b"</soapenv:Body>"


def _envelope(*parts: bytes) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ENV_OPEN + b"".join(parts) + ENV_CLOSE


def _ok(client: TestClient, body: bytes, **headers: str):
    r = client.post(
        f"/ws/{SERVICE}",
        content=body,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{EDC_ACTION}"'}
        | headers,
    )
    return r


# ---------------------------------------------------------------------------- envelope structure

MISBUILT = {
    "second Header with a mustUnderstand block": (
        lambda: _envelope(
            b"<soapenv:Header/>",
            b"<soapenv:Header>" + SECURITY.replace(b"{actor}", b"") + b"</soapenv:Header>",
            _body(),
        ),
        "the SOAP envelope holds two Header elements; SOAP allows one",
    ),
    "Header after the Body": (
        lambda: _envelope(_body(), b"<soapenv:Header/>"),
        "the SOAP envelope has its Header after the Body",
    ),
    "two Bodies": (
        lambda: _envelope(_body(), _body()),
        "the SOAP envelope holds two Body elements",
    ),
    "element after the Body": (
        lambda: _envelope(_body(), b'<x:Trailer xmlns:x="urn:x"/>'),
        "the SOAP envelope has Trailer after the Body; nothing may follow it",
    ),
    "element before the Body": (
        lambda: _envelope(b'<x:Lead xmlns:x="urn:x"/>', _body()),
        "the SOAP envelope has Lead before the Body; only a Header may precede it",
    ),
}


@pytest.mark.parametrize("case", list(MISBUILT))
def test_a_misbuilt_envelope_is_refused_not_read_partly(
    client: TestClient, bus: StubBus, case: str
) -> None:
    build, text = MISBUILT[case]
    r = _ok(client, build())
    assert r.status_code == 500, r.text
    code, reason, detail = fault_of(r)
    assert code == "soapenv:Client"
    assert text in reason
    assert detail is not None and detail.findtext(".//{*}code") == "2.1"
    assert not bus.calls  # the core never saw it


@pytest.mark.parametrize("case", list(MISBUILT))
def test_the_codec_refuses_the_same_envelopes_on_every_transport(case: str) -> None:
    build, text = MISBUILT[case]
    with pytest.raises(UnknownMessageError) as info:
        Codec().parse(build())
    assert text.replace("the SOAP envelope", "SOAP 1.1 envelope") in str(info.value)


def test_a_well_built_envelope_with_a_header_still_passes(client: TestClient, bus: StubBus) -> None:
    r = _ok(
        client, _envelope(b'<soapenv:Header><t:Trace xmlns:t="urn:t"/></soapenv:Header>', _body())
    )
    assert r.status_code == 200, r.text
    assert result_of(body_of(r)) == "OK"
    assert b"Trace" in bus.calls[0].meta["soap_header"]


# ---------------------------------------------------------------------------- mustUnderstand


def _with_security(actor: bytes = b"") -> bytes:
    return _envelope(
        b"<soapenv:Header>" + SECURITY.replace(b"{actor}", actor) + b"</soapenv:Header>", _body()
    )


@pytest.mark.parametrize(
    "actor",
    [
        b"",
        b' soapenv:actor="http://schemas.xmlsoap.org/soap/actor/next"',
        b' soapenv:actor="http://testserver/ws/ExecuteEndDeviceControls"',
    ],
    ids=["no actor", "next", "this service"],
)
def test_must_understand_fault_for_blocks_addressed_to_cimbus_has_no_detail(
    client: TestClient, bus: StubBus, actor: bytes
) -> None:
    r = _ok(client, _with_security(actor))
    assert r.status_code == 500
    code, reason, detail = fault_of(r)
    assert code == "soapenv:MustUnderstand"
    assert "Security" in reason and "mustUnderstand" in reason
    # SOAP 1.1 section 4.4: detail is for errors of the Body, never of header entries
    fault = etree.fromstring(r.content).find(".//{*}Fault")
    assert fault.find("detail") is None and detail is None
    assert fault.findtext("faultactor") == f"http://testserver/ws/{SERVICE}"
    assert not bus.calls


def test_a_block_for_another_actor_is_not_ours_to_understand(
    client: TestClient, bus: StubBus
) -> None:
    r = _ok(client, _with_security(b' soapenv:actor="urn:some-other-node"'))
    assert r.status_code == 200, r.text
    assert result_of(body_of(r)) == "OK"
    assert len(bus.calls) == 1


# ---------------------------------------------------------------------------- Content-Encoding


def _plain() -> bytes:
    return _envelope(_body())


@pytest.mark.parametrize(
    "coding, pack",
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some clients send it
        ("identity", lambda b: b),
        ("gzip, identity", gzip.compress),
    ],
    ids=["gzip", "x-gzip", "deflate", "raw deflate", "identity", "gzip then identity"],
)
def test_compressed_bodies_are_inflated_before_anything_reads_them(
    client: TestClient, bus: StubBus, coding: str, pack
) -> None:
    envelope = _plain()
    r = _ok(client, pack(envelope), **{"Content-Encoding": coding})
    assert r.status_code == 200, r.text
    assert result_of(body_of(r)) == "OK"
    (ex,) = bus.calls
    assert ex.raw == envelope  # the core (and so the audit) gets the envelope itself


def test_gzip_in_several_members_is_read_whole(client: TestClient, bus: StubBus) -> None:
    envelope = _plain()
    half = len(envelope) // 2
    packed = gzip.compress(envelope[:half]) + gzip.compress(envelope[half:])
    r = _ok(client, packed, **{"Content-Encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert bus.calls[0].raw == envelope


def test_a_compressed_bomb_is_stopped_at_the_size_limit() -> None:
    bus = StubBus(limits=Limits(max_bytes=64 * 1024))
    bomb = gzip.compress(_plain()[:-40] + b" " * (50 * 1024 * 1024) + _plain()[-40:])
    assert len(bomb) < 64 * 1024  # the compressed body itself is under the limit
    with TestClient(create_app(bus)) as client:
        r = _ok(client, bomb, **{"Content-Encoding": "gzip"})
        assert r.status_code == 413
        _, reason, _ = fault_of(r)
        assert reason == "the inflated document is over the limit of 65536 bytes"
        assert not bus.calls
        assert _ok(client, _plain()).status_code == 200  # still serving


def test_an_unsupported_coding_is_415_with_accept_encoding(
    client: TestClient, bus: StubBus
) -> None:
    r = _ok(client, _plain(), **{"Content-Encoding": "br"})
    assert r.status_code == 415
    assert r.headers["accept-encoding"] == "gzip, deflate, identity"
    code, reason, _ = fault_of(r)
    assert code == "soapenv:Client"
    assert "Content-Encoding 'br' is not supported" in reason
    assert not bus.calls


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_body_that_is_not_what_its_coding_says_is_a_client_fault(
    client: TestClient, bus: StubBus, coding: str
) -> None:
    r = _ok(client, _plain(), **{"Content-Encoding": coding})
    assert r.status_code == 500
    code, reason, detail = fault_of(r)
    assert code == "soapenv:Client"
    assert reason.startswith(f"the body is not valid {coding} data (Content-Encoding: {coding})")
    assert detail.findtext(".//{*}code") == "2.1"
    assert not bus.calls


def test_truncated_gzip_is_a_client_fault(client: TestClient, bus: StubBus) -> None:
    r = _ok(client, gzip.compress(_plain())[:-30], **{"Content-Encoding": "gzip"})
    assert r.status_code == 500
    assert "the compressed data ends early" in fault_of(r)[1]
    assert not bus.calls


# ---------------------------------------------------------------------------- charset


def _latin1_envelope() -> bytes:
    text = _plain().decode("utf-8").split("?>", 1)[1]  # no XML declaration
    text = text.replace("</soapenv:Body>", "<!-- Zählerstände -->" + "</soapenv:Body>")
    return text.encode("iso-8859-1")


def test_the_content_type_charset_is_honoured_without_a_declaration(
    client: TestClient, bus: StubBus
) -> None:
    body = _latin1_envelope()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")  # read as UTF-8 it would not even parse
    r = _ok(client, body, **{"Content-Type": "text/xml; charset=ISO-8859-1"})
    assert r.status_code == 200, r.text
    (ex,) = bus.calls
    assert ex.raw == body.decode("iso-8859-1").encode("utf-8")


def test_a_declaration_in_the_document_wins(client: TestClient, bus: StubBus) -> None:
    body = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + _latin1_envelope()
    r = _ok(client, body, **{"Content-Type": "text/xml; charset=ISO-8859-1"})
    assert r.status_code == 200, r.text
    assert bus.calls[0].raw == body  # untouched: the parser reads the declaration


def test_unknown_charset_and_bytes_outside_it(client: TestClient, bus: StubBus) -> None:
    r = _ok(client, _latin1_envelope(), **{"Content-Type": "text/xml; charset=klingon-8"})
    assert r.status_code == 415
    assert "charset 'klingon-8', which cimbus does not know" in fault_of(r)[1]
    r = _ok(
        client,
        _latin1_envelope().replace(b"</soapenv:Body>", b"\x81</soapenv:Body>"),
        **{"Content-Type": 'text/xml; charset="windows-1252"'},
    )
    assert r.status_code == 500
    assert "the body is not valid windows-1252" in fault_of(r)[1]
    assert not bus.calls


# ---------------------------------------------------------------------------- HEAD, paths, SOAPAction


@pytest.mark.parametrize(
    "path",
    [f"/ws/{SERVICE}?wsdl", "/ws/xsd/Message.xsd", "/ws", "/healthz", "/readyz"],
)
def test_head_answers_wherever_get_does(client: TestClient, path: str) -> None:
    get = client.get(path)
    head = client.head(path)
    assert get.status_code == (503 if path == "/readyz" else 200)  # the stub has no store
    assert head.status_code == get.status_code, head.text
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


def test_head_on_an_unknown_service_or_the_post_url(client: TestClient) -> None:
    assert client.head("/ws/Nope?wsdl").status_code == 404
    r = client.head(f"/ws/{SERVICE}")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    r = client.put(f"/ws/{SERVICE}?wsdl")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"


def test_a_trailing_slash_is_the_service_itself(client: TestClient, bus: StubBus) -> None:
    r = client.post(
        f"/ws/{SERVICE}/",
        content=_plain(),
        headers={"Content-Type": "text/xml", "SOAPAction": f'"{EDC_ACTION}"'},
        follow_redirects=False,
    )
    assert r.status_code == 200, (r.status_code, r.headers)
    assert result_of(body_of(r)) == "OK"
    assert bus.calls[0].meta["service"] == SERVICE


def test_a_path_below_a_service_is_a_soap_404(client: TestClient, bus: StubBus) -> None:
    r = client.post(
        f"/ws/{SERVICE}/extra",
        content=_plain(),
        headers={"Content-Type": "text/xml", "SOAPAction": f'"{EDC_ACTION}"'},
    )
    assert r.status_code == 404
    code, reason, _ = fault_of(r)
    assert code == "soapenv:Client"
    assert f"there is no SOAP service '{SERVICE}/extra' here" in reason
    assert not bus.calls


def test_a_quoted_blank_soap_action_dispatches_on_the_body(
    client: TestClient, bus: StubBus
) -> None:
    r = client.post(
        f"/ws/{SERVICE}",
        content=_plain(),
        headers={"Content-Type": "text/xml", "SOAPAction": '" "'},
    )
    assert r.status_code == 200, r.text
    assert bus.calls[0].meta["operation"] == "CreateEndDeviceControls"
