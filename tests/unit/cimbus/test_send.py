"""``cimbus send`` over SOAP (BUS-4, BUS-7): golden message files sent with zeep resolving the
WSDL to a real cimbus (uvicorn on a free port, SQLite store, embedded HES and MDMS), to a
"vendor" endpoint known only by its WSDL file, and to targets that misbehave. The broker
transports are in tests/integration/test_send_brokers.py."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response
from lxml import etree
from typer.testing import CliRunner

from cim_models import namespaces as ns
from cim_models.build import build_message
from cimbus.cli import app
from endpoints.embedded import EmbeddedBroker, EmbeddedClient, EmbeddedTransport
from endpoints.soap import SoapTransport
from endpoints.soap.server import ServerThread
from routing.bus import Bus
from routing.config import Config, SoapConfig

EXCHANGES = Path(__file__).resolve().parents[3] / "conformance" / "exchanges"
MSG = ns.MSG_NS
runner = CliRunner()


def _field(data: bytes, name: str) -> str | None:
    return etree.fromstring(data).findtext(f".//{{{MSG}}}{name}")


@dataclass
class Cimbus:
    url: str
    bus: Bus
    hes_got: list[bytes] = field(default_factory=list)
    mdms_got: list[bytes] = field(default_factory=list)

    def mdms_ids(self) -> list[str | None]:
        return [_field(m, "MessageID") for m in self.mdms_got]

    def wait_mdms(self, message_id: str, limit: float = 10.0) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if message_id in self.mdms_ids():
                return True
            time.sleep(0.02)
        return False


@pytest.fixture(scope="module")
def cimbus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cimbus]:
    tmp = tmp_path_factory.mktemp("send")
    config = Config.from_mapping(
        {
            "store": {"url": f"sqlite:///{tmp}/cimbus.db"},
            "bus": {"retry_base": 0.05},
            "systems": {"HES": {"transport": "embedded"}, "MDMS": {"transport": "embedded"}},
            "routes": [
                {"verb": "create", "noun": "EndDeviceControls", "target": "HES", "timeout": 10},
                {"verb": "get", "noun": "MeterReadings", "target": "HES", "timeout": 10},
            ],
            "subscriptions": [
                {"verb": "created", "noun": "MeterReadings", "subscribers": ["MDMS"]},
                {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["MDMS"]},
            ],
        }
    )
    bus = Bus(config)
    broker = EmbeddedBroker()
    embedded = EmbeddedTransport(bus, broker).start()
    soap = SoapTransport(bus, SoapConfig(port=0))
    bus.start()
    soap.start()
    running = Cimbus(soap.url, bus)

    def hes(message: bytes) -> bytes:
        running.hes_got.append(message)
        return build_message(
            "reply",
            _field(message, "Noun") or "EndDeviceControls",
            correlation_id=_field(message, "MessageID"),
            source="HES",
            result="OK",
        )

    def mdms(message: bytes) -> None:
        running.mdms_got.append(message)

    hes_client = EmbeddedClient(broker, "HES")
    hes_client.serve(hes)
    mdms_client = EmbeddedClient(broker, "MDMS")
    mdms_client.serve(mdms)
    try:
        yield running
    finally:
        hes_client.close()
        mdms_client.close()
        soap.stop()
        embedded.stop()
        bus.stop()


def golden(tmp_path: Path, noun: str, element: str, *, sync: bool = False, name: str = "") -> Path:
    """A golden message with a MessageID of its own, written to ``tmp_path``; ``sync`` drops
    AsyncReplyFlag and ReplyAddress (the answer then comes on the SOAP call)."""
    root = etree.parse(str(EXCHANGES / noun / f"{element}.xml")).getroot()
    root.find(f".//{{{MSG}}}MessageID").text = str(uuid.uuid4())
    if sync:
        for tag in ("AsyncReplyFlag", "ReplyAddress"):
            el = root.find(f".//{{{MSG}}}{tag}")
            if el is not None:
                el.getparent().remove(el)
    path = tmp_path / (name or f"{element}.xml")
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return path


def message_id(path: Path) -> str:
    return _field(path.read_bytes(), "MessageID") or ""


def send(*args: str, input: bytes | None = None):
    return runner.invoke(app, ["send", *args], input=input)


# ---------------------------------------------------------------------------- cimbus


def test_an_event_is_sent_to_the_service_cimbus_offers_for_it(cimbus: Cimbus, tmp_path: Path):
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send("--to", cimbus.url, str(path))
    assert result.exit_code == 0, result.stderr
    # summary on stderr, the answer (an acknowledgement of this message) on stdout
    assert result.stderr.startswith(f"OK       {path}: created MeterReadings {message_id(path)}")
    answer = etree.fromstring(result.stdout.encode())
    assert etree.QName(answer).localname == "MeterReadingsResponseMessage"
    assert answer.findtext(f".//{{{MSG}}}CorrelationID") == message_id(path)
    assert answer.findtext(f".//{{{MSG}}}Result") == "OK"
    assert cimbus.wait_mdms(message_id(path))  # and it took effect: MDMS got it


def test_a_request_gets_the_served_systems_reply(cimbus: Cimbus, tmp_path: Path) -> None:
    path = golden(tmp_path, "EndDeviceControls", "CreateEndDeviceControls", sync=True)
    result = send("--to", f"{cimbus.url}/ws/", str(path))  # the /ws folder works as well
    assert result.exit_code == 0, result.stderr
    assert "create EndDeviceControls" in result.stderr
    reply = etree.fromstring(result.stdout.encode())
    assert reply.findtext(f".//{{{MSG}}}Source") == "HES"  # the HES's own reply, relayed
    assert reply.findtext(f".//{{{MSG}}}CorrelationID") == message_id(path)
    assert any(_field(m, "MessageID") == message_id(path) for m in cimbus.hes_got)


def test_a_failed_reply_exits_1_with_its_code_and_reason(cimbus: Cimbus, tmp_path: Path) -> None:
    path = golden(tmp_path, "OutageRecords", "CreatedOutageRecords")  # nobody subscribes
    result = send("--to", cimbus.url, str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("FAILED ")
    assert "2.5 (FATAL): cimbus does not serve 'created OutageRecords'" in result.stderr
    assert _field(result.stdout.encode(), "Result") == "FAILED"


def test_several_files_and_a_folder_one_line_each_and_a_total(cimbus: Cimbus, tmp_path: Path):
    folder = tmp_path / "batch"
    folder.mkdir()
    a = golden(folder, "MeterReadings", "CreatedMeterReadings", name="a.xml")
    b = golden(folder, "EndDeviceEvents", "CreatedEndDeviceEvents", name="b.xml")
    c = golden(tmp_path, "OutageRecords", "CreatedOutageRecords")
    result = send("--to", cimbus.url, "--quiet", str(folder), str(c))
    assert result.exit_code == 1  # one FAILED among them
    lines = result.stderr.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["OK", "OK", "FAILED"]
    assert str(a) in lines[0] and str(b) in lines[1] and str(c) in lines[2]
    assert lines[-1] == "3 messages: 1 FAILED, 2 OK"
    assert result.stdout == ""  # --quiet: no answer XML
    assert cimbus.wait_mdms(message_id(a)) and cimbus.wait_mdms(message_id(b))


def test_fresh_ids_lets_a_golden_file_be_sent_again(cimbus: Cimbus, tmp_path: Path) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    first = send("--to", cimbus.url, str(path))
    again = send("--to", cimbus.url, str(path))
    fresh = send("--to", cimbus.url, "--fresh-ids", str(path))
    assert first.exit_code == again.exit_code == fresh.exit_code == 0
    # the same MessageID is a duplicate: answered, not delivered again (REL-1) ...
    fresh_id = _field(fresh.stdout.encode(), "CorrelationID")
    assert fresh_id not in (None, message_id(path))
    assert cimbus.wait_mdms(fresh_id)
    time.sleep(0.3)
    assert cimbus.mdms_ids().count(message_id(path)) == 1
    # ... a fresh one is a new message; the file itself is left as it was
    assert fresh_id in fresh.stderr and message_id(path) not in fresh.stderr


def test_fresh_ids_adds_a_missing_message_id_where_the_schema_wants_it(tmp_path: Path) -> None:
    from cimbus.send import read_message, refresh_ids

    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    root = etree.parse(str(path)).getroot()
    mid = root.find(f".//{{{MSG}}}MessageID")
    mid.getparent().remove(mid)
    path.write_bytes(etree.tostring(root))
    item = read_message(str(path))
    refresh_ids(item)
    header = item.message.find(f"{{{etree.QName(item.message).namespace}}}Header")
    names = [etree.QName(c).localname for c in header]
    assert names.index("MessageID") == names.index("AckRequired") + 1
    assert item.message_id == header.findtext(f"{{{MSG}}}MessageID")


def test_answers_go_to_out_files(cimbus: Cimbus, tmp_path: Path) -> None:
    one = golden(tmp_path, "MeterReadings", "CreatedMeterReadings", name="x.xml")
    (tmp_path / "other").mkdir()
    two = golden(tmp_path / "other", "MeterReadings", "CreatedMeterReadings", name="x.xml")
    out = tmp_path / "answers" / "deep"
    result = send("--to", cimbus.url, "--out", str(out), str(one), str(two))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    files = sorted(p.name for p in out.iterdir())
    assert files == ["x.2.answer.xml", "x.answer.xml"]
    assert _field((out / "x.answer.xml").read_bytes(), "CorrelationID") == message_id(one)
    assert _field((out / "x.2.answer.xml").read_bytes(), "CorrelationID") == message_id(two)


def test_standard_input(cimbus: Cimbus, tmp_path: Path) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send("--to", cimbus.url, "-", input=path.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("OK       -: created MeterReadings")


def test_a_generic_request_message_goes_in_the_operations_wrapper(cimbus: Cimbus, tmp_path: Path):
    root = etree.parse(str(EXCHANGES / "generic" / "RequestMessage-CreateEndDeviceControls.xml"))
    root = root.getroot()
    root.find(f".//{{{MSG}}}MessageID").text = str(uuid.uuid4())
    for tag in ("AsyncReplyFlag", "ReplyAddress"):
        el = root.find(f".//{{{MSG}}}{tag}")
        if el is not None:
            el.getparent().remove(el)
    path = tmp_path / "generic.xml"
    path.write_bytes(etree.tostring(root))
    result = send("--to", cimbus.url, str(path))
    assert result.exit_code == 0, result.stderr
    got = next(m for m in cimbus.hes_got if _field(m, "MessageID") == message_id(path))
    assert etree.QName(etree.fromstring(got)).localname == "CreateEndDeviceControls"


def test_a_soap_envelope_file_is_sent_as_it_is(cimbus: Cimbus, tmp_path: Path) -> None:
    """Its SOAP Header goes too: a mustUnderstand block cimbus does not know is refused with a
    MustUnderstand fault (SOAP 1.1 4.2.3), which only happens if the header arrived."""
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    env = (
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b'<soapenv:Header><x:Lock xmlns:x="urn:example" soapenv:mustUnderstand="1"/>'
        b"</soapenv:Header><soapenv:Body>"
        + path.read_bytes().split(b"?>", 1)[1]
        + b"</soapenv:Body></soapenv:Envelope>"
    )
    envelope = tmp_path / "envelope.xml"
    envelope.write_bytes(env)
    result = send("--to", cimbus.url, str(envelope))
    assert result.exit_code == 1
    assert result.stderr.startswith("FAULT    ")
    assert "SOAP Fault MustUnderstand (HTTP 500)" in result.stderr


# ---------------------------------------------------------------------------- input


def test_an_invalid_message_sends_nothing(cimbus: Cimbus, tmp_path: Path) -> None:
    good = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    bad = golden(tmp_path, "MeterReadings", "CreatedMeterReadings", name="bad.xml")
    bad.write_bytes(bad.read_bytes().replace(b"<msg:Verb>created</msg:Verb>", b""))
    result = send("--to", cimbus.url, str(good), str(bad))
    assert result.exit_code == 1
    assert f"NOT SENT {bad}: not valid against cimbus's XSD profiles" in result.stderr
    assert "(--no-validate sends it anyway)" in result.stderr
    assert "nothing sent: 1 message(s) cannot be sent as they are" in result.stderr
    time.sleep(0.3)
    assert message_id(good) not in cimbus.mdms_ids()  # not even the good one
    assert not cimbus.bus.store.trail(message_id(good))


def test_no_validate_sends_it_and_cimbus_refuses_it(cimbus: Cimbus, tmp_path: Path) -> None:
    bad = golden(tmp_path, "MeterReadings", "CreatedMeterReadings", name="bad.xml")
    bad.write_bytes(bad.read_bytes().replace(b"<msg:Noun>MeterReadings</msg:Noun>", b""))
    result = send("--to", cimbus.url, "--no-validate", str(bad))
    assert result.exit_code == 1
    assert result.stderr.split()[0] in ("FAILED", "FAULT")
    assert cimbus.bus.store.trail(message_id(bad))  # cimbus got it and recorded the refusal


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty document"),
        (b"<a><b></a>", "not well-formed XML"),
        (b'<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>', "DOCTYPE declarations are not allowed"),
        (
            b'<MeterReadings xmlns="http://iec.ch/TC57/2011/MeterReadings#"/>',
            "is a bare payload, not an IEC 61968-100 message",
        ),
        (b"<x:Thing xmlns:x='urn:other'/>", "is not an IEC 61968-100 message"),
    ],
)
def test_input_that_is_not_a_message_exits_1_naming_the_problem(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "in.xml"
    path.write_bytes(content)
    result = send("--to", "http://127.0.0.1:9", str(path))  # never contacted
    assert result.exit_code == 1
    assert result.stderr.startswith(f"NOT SENT {path}: ")
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_files_and_empty_folders_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = send("--to", "http://127.0.0.1:9", str(tmp_path / "nope.xml"), str(tmp_path / "empty"))
    assert result.exit_code == 2
    assert f"NOT SENT {tmp_path / 'nope.xml'}: no such file or folder" in result.stderr
    assert f"NOT SENT {tmp_path / 'empty'}: no *.xml files in this folder" in result.stderr
    assert send("--to", "http://127.0.0.1:9", "-", "-").exit_code == 2
    big = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send("--to", "http://127.0.0.1:9", "--max-bytes", "100", str(big))
    assert result.exit_code == 1
    assert "over the limit of 100 bytes (--max-bytes)" in result.stderr


def test_out_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send("--to", "http://127.0.0.1:9", "--out", str(path), str(path))
    assert result.exit_code == 2
    assert f"error: --out {path}: not a folder" in result.stderr


# ---------------------------------------------------------------------------- targets


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_target_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send("--to", f"http://127.0.0.1:{free_port()}", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: ")
    assert "cannot reach http://127.0.0.1:" in result.stderr
    assert "Connection refused" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = send("--to", "ftp://x", str(path))
    assert result.exit_code == 2 and "give an http(s):// SOAP URL" in result.stderr


def test_no_wsdl_at_a_service_url_says_so(cimbus: Cimbus, tmp_path: Path) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send("--to", f"{cimbus.url}/nothing/here", str(path))
    assert result.exit_code == 1
    assert f"no WSDL at {cimbus.url}/nothing/here?wsdl (HTTP 404)" in result.stderr


@dataclass
class Vendor:
    """Another vendor's endpoint: its WSDL is a file (cimbus's ReceiveMeterReadings WSDL with
    the vendor's address), and it answers POSTs as ``behaviour`` says."""

    url: str
    wsdl: Path
    behaviour: dict[str, object]
    posts: list[tuple[dict[str, str], bytes]]


@pytest.fixture
def vendor(cimbus: Cimbus, tmp_path: Path) -> Iterator[Vendor]:
    behaviour: dict[str, object] = {"mode": "ok"}
    posts: list[tuple[dict[str, str], bytes]] = []
    api = FastAPI()

    queries: list[str] = []
    behaviour["queries"] = queries

    async def trickle(text: bytes):
        import asyncio

        for i in range(len(text)):
            yield text[i : i + 1]
            await asyncio.sleep(0.2)

    @api.get("/vendor/cim/MeterReadings")
    async def wsdl_get(request: Request) -> Response:
        queries.append(request.url.query)
        return Response(served_wsdl["text"], 200, media_type="text/xml")

    @api.get("/vendor/wsdl/trickle")
    async def wsdl_trickle() -> Response:
        from fastapi.responses import StreamingResponse

        return StreamingResponse(trickle(served_wsdl["text"].encode()), media_type="text/xml")

    @api.api_route("/prefix/ws/{name}", methods=["GET", "POST"])
    async def prefixed(name: str, request: Request) -> Response:
        """cimbus behind a proxy that serves it under /prefix (its [soap] public_url)."""
        answer = httpx.request(
            request.method,
            f"{cimbus.url}/ws/{name}",
            params=request.url.query,
            content=await request.body(),
            headers={
                k: v for k, v in request.headers.items() if k in ("content-type", "soapaction")
            },
        )
        return Response(answer.content, answer.status_code, media_type="text/xml")

    @api.post("/vendor/cim/Moved")
    async def moved(request: Request) -> Response:
        return await post(request)

    @api.post("/vendor/cim/MeterReadings")
    async def post(request: Request) -> Response:
        body = await request.body()
        posts.append((dict(request.headers), body))
        queries.append(request.url.query)
        mode = behaviour["mode"]
        if request.url.path.endswith("/MeterReadings") and mode in ("301", "307"):
            return Response("", int(mode), headers={"Location": "/vendor/cim/Moved"})
        if mode == "202":
            return Response(b"", 202)
        if mode == "trickle":
            from fastapi.responses import StreamingResponse

            return StreamingResponse(trickle(b"<x>" + b"a" * 100 + b"</x>"), media_type="text/xml")
        if mode == "soap12":
            assert request.headers["content-type"].startswith("application/soap+xml")
            assert "action=" in request.headers["content-type"]
            reply = build_message(
                "reply",
                "MeterReadings",
                correlation_id=_field(etree.tostring(etree.fromstring(body)[0][0]), "MessageID"),
                source="VENDOR",
                result="OK",
            )
            env = (
                b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
                + reply.split(b"?>", 1)[1]
                + b"</e:Body></e:Envelope>"
            )
            return Response(env, 200, media_type="application/soap+xml")
        if mode == "html":
            return Response("<html>login</html>", 200, media_type="text/html")
        if mode == "404":
            return Response('{"detail":"Not Found"}', 404, media_type="application/json")
        if mode == "big":
            return Response(b"<x>" + b"a" * 5000 + b"</x>", 200, media_type="text/xml")
        # relay to cimbus, as a vendor's own bus would answer
        answer = httpx.post(
            f"{cimbus.url}/ws/ReceiveMeterReadings",
            content=body,
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": request.headers["soapaction"],
            },
        )
        return Response(answer.content, answer.status_code, media_type="text/xml")

    served_wsdl: dict[str, str] = {}
    server = ServerThread(api).start()
    text = httpx.get(f"{cimbus.url}/ws/ReceiveMeterReadings?wsdl").text
    wsdl = tmp_path / "vendor.wsdl"
    # the XSD imports stay absolute (cimbus serves them), the address is the vendor's
    served_wsdl["text"] = text.replace(
        f'location="{cimbus.url}/ws/ReceiveMeterReadings"',
        f'location="{server.url}/vendor/cim/MeterReadings"',
    )
    wsdl.write_text(served_wsdl["text"])
    assert f"{server.url}/vendor/cim/MeterReadings" in wsdl.read_text()
    try:
        yield Vendor(server.url, wsdl, behaviour, posts)
    finally:
        server.stop()


def test_a_vendor_wsdl_file_names_the_address_and_soap_action(
    cimbus: Cimbus, vendor: Vendor, tmp_path: Path
) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send("--wsdl", str(vendor.wsdl), str(path))
    assert result.exit_code == 0, result.stderr
    headers, body = vendor.posts[-1]
    assert headers["soapaction"] == '"http://iec.ch/TC57/2011/MeterReadings/CreatedMeterReadings"'
    assert headers["content-type"] == "text/xml; charset=utf-8"
    # the message went out as the file has it (inside a SOAP 1.1 envelope)
    sent = etree.fromstring(body)
    assert etree.QName(sent).namespace == "http://schemas.xmlsoap.org/soap/envelope/"
    inner = sent[0][0]
    original = etree.parse(str(path)).getroot()
    assert etree.tostring(inner, method="c14n", exclusive=True) == etree.tostring(
        original, method="c14n", exclusive=True
    )


def test_to_overrides_the_wsdls_address(cimbus: Cimbus, vendor: Vendor, tmp_path: Path) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send(
        "--wsdl", str(vendor.wsdl), "--to", f"{cimbus.url}/ws/ReceiveMeterReadings", str(path)
    )
    assert result.exit_code == 0, result.stderr
    assert vendor.posts == []  # straight to cimbus
    assert cimbus.wait_mdms(message_id(path))


def test_a_wsdl_without_an_operation_for_the_message_lists_what_it_offers(
    vendor: Vendor, tmp_path: Path
) -> None:
    path = golden(tmp_path, "EndDeviceControls", "CreateEndDeviceControls")
    result = send("--wsdl", str(vendor.wsdl), str(path))
    assert result.exit_code == 1
    assert "has no operation that takes CreateEndDeviceControls" in result.stderr
    assert "it offers CanceledMeterReadings, ChangedMeterReadings" in result.stderr
    assert result.stderr.startswith(f"UNSENT   {path}: ")
    assert vendor.posts == []
    # the other messages of the run are still sent; the exit stays 1
    good = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send("--wsdl", str(vendor.wsdl), str(path), str(good))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1].startswith(f"OK       {good}")
    assert len(vendor.posts) == 1
    result = send("--wsdl", str(tmp_path / "missing.wsdl"), str(path))
    assert result.exit_code == 2 and "no such file" in result.stderr
    junk = tmp_path / "junk.wsdl"
    junk.write_text("<not-a-wsdl/>")
    result = send("--wsdl", str(junk), str(path))
    assert result.exit_code == 2 and "junk.wsdl" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_target_that_answers_html_or_too_much(vendor: Vendor, tmp_path: Path) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    vendor.behaviour["mode"] = "html"
    result = send("--wsdl", str(vendor.wsdl), str(path))
    assert result.exit_code == 1
    assert "ERROR" in result.stderr and "is text/html, not a SOAP answer" in result.stderr
    vendor.behaviour["mode"] = "404"
    result = send("--wsdl", str(vendor.wsdl), str(path))
    assert result.exit_code == 1
    assert "HTTP 404 from http://127.0.0.1:" in result.stderr
    assert "no service at this address (check --to, or the WSDL's soap:address)" in result.stderr
    vendor.behaviour["mode"] = "big"
    result = send("--wsdl", str(vendor.wsdl), "--max-bytes", "4096", "--no-validate", str(path))
    assert result.exit_code == 1
    assert "(--max-bytes)" in result.stderr


def test_a_target_that_does_not_answer_times_out(vendor: Vendor, tmp_path: Path) -> None:
    """A server that accepts the connection and never answers: TIMEOUT after --timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []

    def accept() -> None:
        try:
            while True:
                accepted.append(listener.accept()[0])
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    port = listener.getsockname()[1]
    started = time.monotonic()
    try:
        result = send(
            "--wsdl",
            str(vendor.wsdl),
            "--to",
            f"http://127.0.0.1:{port}/x",
            "--timeout",
            "1",
            str(path),
        )
    finally:
        listener.close()
        for s in accepted:
            s.close()
    assert result.exit_code == 1
    assert result.stderr.startswith("TIMEOUT ")
    assert "no complete answer from http://127.0.0.1:" in result.stderr
    assert time.monotonic() - started < 10


def test_a_third_party_wsdl_from_the_reference_set(
    cimbus: Cimbus, cim_reference: Path, tmp_path: Path
) -> None:
    """Interop: the openwms SendMeterReadings WSDL (another publisher's, read in place from
    ../shared/cim-reference) drives the send. Its wrapper namespace is the ``www.iec.ch``
    variant: a message in that namespace finds the operation and cimbus reads it; cimbus's
    canonical message does not match it and is UNSENT with the reason."""
    wsdl = cim_reference / "tree/sixthcolumn__openwms/61968-9/wsdl/SendMeterReadings.wsdl"
    canonical = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    theirs = tmp_path / "theirs.xml"
    theirs.write_bytes(
        canonical.read_bytes().replace(
            b"http://iec.ch/TC57/2011/MeterReadingsMessage",
            b"http://www.iec.ch/TC57/2011/MeterReadingsMessage",
        )
    )
    to = f"{cimbus.url}/ws/ReceiveMeterReadings"  # the WSDL's address is a placeholder
    result = send("--wsdl", str(wsdl), "--to", to, str(theirs))
    assert result.exit_code == 0, result.stderr
    assert cimbus.wait_mdms(message_id(theirs))
    result = send("--wsdl", str(wsdl), "--to", to, "--fresh-ids", str(canonical))
    assert result.exit_code == 1
    assert "takes {http://www.iec.ch/TC57/2011/MeterReadingsMessage}CreatedMeterReadings" in (
        result.stderr
    )
    assert "(another namespace: send a message written in the WSDL's namespaces)" in result.stderr


# ---------------------------------------------------------------------------- HTTPS


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    import shutil
    import subprocess

    exe = shutil.which("openssl")
    if exe is None:  # Debian's openssl is on every machine CI runs on
        pytest.fail("openssl is needed to make the test certificates")
    subprocess.run([exe, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A test CA, a server certificate for 127.0.0.1 and a client certificate it signed."""
    d = tmp_path_factory.mktemp("pki")
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=cimbus test CA", cwd=d,
    )  # fmt: skip
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name in ("server", "client"):
        _openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", f"/CN={name}", cwd=d,
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
            cwd=d,
        )  # fmt: skip
    return Pki(d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem", d / "client.key")


def _https_vendor(app_: FastAPI, pki: Pki, *, client_certs: bool) -> tuple[str, object]:
    import ssl

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app_,
        log_level="warning",
        ssl_certfile=str(pki.server_cert),
        ssl_keyfile=str(pki.server_key),
        ssl_ca_certs=str(pki.ca) if client_certs else None,
        ssl_cert_reqs=ssl.CERT_REQUIRED if client_certs else ssl.CERT_NONE,
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the HTTPS vendor did not start"
        time.sleep(0.01)
    return f"https://127.0.0.1:{port}", server


def _relay_app(cimbus: Cimbus, seen: list[dict[str, str]], *, password: str | None = None):
    """A vendor endpoint that wants HTTP basic auth (when ``password``) and relays to cimbus."""
    import base64

    api = FastAPI()

    @api.post("/cim/MeterReadings")
    async def post(request: Request) -> Response:
        seen.append(dict(request.headers))
        if password is not None:
            expected = "Basic " + base64.b64encode(f"cis:{password}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return Response("", 401, headers={"WWW-Authenticate": 'Basic realm="cim"'})
        answer = httpx.post(
            f"{cimbus.url}/ws/ReceiveMeterReadings",
            content=await request.body(),
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": request.headers["soapaction"],
            },
        )
        return Response(answer.content, answer.status_code, media_type="text/xml")

    return api


def test_https_with_the_servers_ca_basic_auth_and_a_client_certificate(
    cimbus: Cimbus, vendor: Vendor, pki: Pki, tmp_path: Path
) -> None:
    """A vendor endpoint on HTTPS that wants a client certificate and HTTP basic auth (the
    password in the URL): trusted with --ca-file, the certificate given with --cert/--key;
    the password never shows in the output."""
    seen: list[dict[str, str]] = []
    url, server = _https_vendor(_relay_app(cimbus, seen, password="s3cret"), pki, client_certs=True)
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    to = url.replace("https://", "https://cis:s3cret@") + "/cim/MeterReadings"
    wsdl = ["--wsdl", str(vendor.wsdl), "--to", to]
    tls = ["--ca-file", str(pki.ca), "--cert", str(pki.client_cert), "--key", str(pki.client_key)]
    try:
        # the certificate is not trusted without its CA
        result = send(*wsdl, str(path))
        assert result.exit_code == 2
        assert "TLS: the server's certificate is not trusted" in result.stderr
        assert "--ca-file FILE trusts its CA, --insecure skips the check" in result.stderr
        # trusted, but no client certificate: the server refuses the handshake
        result = send(*wsdl, "--ca-file", str(pki.ca), str(path))
        assert result.exit_code == 2
        assert "(if the server wants a client certificate: --cert)" in result.stderr
        # all of it: sent, answered, delivered
        result = send(*wsdl, *tls, str(path))
        assert result.exit_code == 0, result.stderr
        assert seen and seen[-1]["authorization"].startswith("Basic ")
        assert cimbus.wait_mdms(message_id(path))
        # a wrong password: the endpoint's 401 is reported, the password is not
        wrong = to.replace("s3cret", "nope-pw")
        result = send("--wsdl", str(vendor.wsdl), "--to", wrong, *tls, str(path))
        assert result.exit_code == 1
        assert "HTTP 401 from https://cis:***@127.0.0.1:" in result.stderr
        assert "the endpoint wants credentials" in result.stderr
        for output in (result.stderr, result.stdout):
            assert "nope-pw" not in output and "s3cret" not in output
    finally:
        server.should_exit = True


def test_insecure_skips_the_certificate_check_and_says_so(
    cimbus: Cimbus, vendor: Vendor, pki: Pki, tmp_path: Path
) -> None:
    seen: list[dict[str, str]] = []
    url, server = _https_vendor(_relay_app(cimbus, seen), pki, client_certs=False)
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    try:
        result = send(
            "--wsdl", str(vendor.wsdl), "--to", f"{url}/cim/MeterReadings", "--insecure", str(path)
        )
    finally:
        server.should_exit = True
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("warning: --insecure: server certificates are not checked")
    assert "InsecureRequestWarning" not in result.stderr


def test_contradicting_or_missing_tls_files_are_usage_errors(tmp_path: Path, pki: Pki) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    cases = [
        (["--ca-file", str(pki.ca), "--insecure"], "--ca-file and --insecure contradict"),
        (["--key", str(pki.client_key)], "--key needs --cert"),
        (["--cert", str(tmp_path / "nope.pem")], "--cert"),
        (["--ca-file", str(tmp_path / "nope.pem")], "no such file"),
    ]
    for options, expected in cases:
        result = send("--to", "https://127.0.0.1:9", *options, str(path))
        assert result.exit_code == 2, options
        assert expected in result.stderr, (options, result.stderr)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            "HTTPSConnectionPool(...): Max retries exceeded (Caused by SSLError("
            "SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
            "failed: self-signed certificate (_ssl.c:1006)')))",
            "TLS: the server's certificate is not trusted (self-signed certificate; --ca-file",
        ),
        (
            "Caused by SSLError(SSLEOFError(8, 'EOF occurred in violation of protocol "
            "(_ssl.c:2427)'))",
            "TLS: the server closed the connection during the handshake",
        ),
        (
            "Caused by SSLError(SSLError(1, '[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 "
            "alert certificate required (_ssl.c:2580)'))",
            "TLS: the server refused the handshake (it wants a valid client certificate)",
        ),
        (
            "Caused by SSLError(SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong version number "
            "(_ssl.c:1006)'))",
            "TLS: [SSL: WRONG_VERSION_NUMBER] wrong version number",
        ),
    ],
)
def test_tls_failures_read_as_one_line(error: str, expected: str) -> None:
    import requests

    from cimbus.send import request_reason as _request_reason

    assert _request_reason(requests.exceptions.SSLError(error)).startswith(expected)


# ---------------------------------------------------------------------------- what an audit found


def test_a_password_never_shows_even_in_a_broken_url(tmp_path: Path) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    for url in (
        "http://bob:hunter2@127.0.0.1:99999",  # port out of range
        "http://bob:hunter2@[::1:1",  # not a URL
        "amqp://bob:hunter2@[::1:1/%2F",
    ):
        result = send("--to", url, str(path))
        assert result.exit_code == 2, (url, result.stderr)
        assert "hunter2" not in result.stderr + result.stdout
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        assert "is not a usable URL" in result.stderr


def test_a_trickling_answer_is_cut_off_at_the_timeout(vendor: Vendor, tmp_path: Path) -> None:
    vendor.behaviour["mode"] = "trickle"  # 1 byte every 0.2 s: never silent for a read timeout
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    started = time.monotonic()
    result = send("--wsdl", str(vendor.wsdl), "--timeout", "1.5", str(path))
    assert time.monotonic() - started < 8
    assert result.exit_code == 1
    assert result.stderr.startswith("TIMEOUT ")
    assert "no complete answer from http://127.0.0.1:" in result.stderr


def test_a_trickling_wsdl_is_cut_off_at_the_timeout(vendor: Vendor, tmp_path: Path) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    started = time.monotonic()
    result = send("--wsdl", f"{vendor.url}/vendor/wsdl/trickle", "--timeout", "1.5", str(path))
    assert time.monotonic() - started < 8
    assert result.exit_code == 2
    assert "not loaded within 1.5 s" in result.stderr


def test_a_wsdl_that_is_not_xml_or_too_large_is_one_line(tmp_path: Path) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    text = tmp_path / "text.wsdl"
    text.write_text("this is not XML at all\n")
    result = send("--wsdl", str(text), str(path))
    assert result.exit_code == 2
    assert "is not a usable WSDL" in result.stderr and "Traceback" not in result.stderr
    big = tmp_path / "big.wsdl"
    big.write_bytes(b"<a>" + b"x" * 200_000 + b"</a>")
    result = send("--wsdl", str(big), "--max-bytes", "100000", "--no-validate", str(path))
    assert result.exit_code == 2
    assert "larger than 100000 bytes (--max-bytes)" in result.stderr


def test_an_answer_that_cannot_be_written_is_said_and_exits_2(
    cimbus: Cimbus, tmp_path: Path
) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    out = tmp_path / "out"
    (out / "CreatedMeterReadings.answer.xml").mkdir(parents=True)  # in the way
    result = send("--to", cimbus.url, "--out", str(out), str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith("OK       ")  # sent and answered ...
    assert "error: cannot write the answer to" in result.stderr  # ... but not kept
    assert "Traceback" not in result.stderr


def test_out_is_made_only_when_an_answer_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<a><b></a>")
    out = tmp_path / "answers"
    result = send("--to", "http://127.0.0.1:9", "--out", str(out), str(bad))
    assert result.exit_code == 1
    assert not out.exists()


def test_answers_written_into_the_folder_sent_are_not_sent_again(
    cimbus: Cimbus, tmp_path: Path
) -> None:
    folder = tmp_path / "loop"
    folder.mkdir()
    golden(folder, "MeterReadings", "CreatedMeterReadings")
    first = send("--to", cimbus.url, "--fresh-ids", "--out", str(folder), str(folder))
    assert first.exit_code == 0, first.stderr
    again = send("--to", cimbus.url, "--fresh-ids", "--out", str(folder), str(folder))
    assert again.exit_code == 0, again.stderr
    assert "answer.xml" not in again.stderr.split(" -> ")[0]
    assert len(again.stderr.strip().splitlines()) == 1


def test_fresh_ids_on_golden_folders_with_fault_messages(cimbus: Cimbus, tmp_path: Path) -> None:
    """A FaultMessage has no Header: --fresh-ids leaves it as it is instead of refusing the
    folder. cimbus's SOAP services take no FaultMessage: UNSENT (exit 1, not a usage error)."""
    folder = tmp_path / "g"
    folder.mkdir()
    golden(folder, "MeterReadings", "CreatedMeterReadings")
    (folder / "fault.xml").write_bytes(
        (EXCHANGES / "MeterReadings" / "MeterReadingsFaultMessage.xml").read_bytes()
    )
    result = send("--to", cimbus.url, "--fresh-ids", str(folder))
    assert result.exit_code == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("OK       ") and lines[1].startswith("UNSENT   ")
    assert "cimbus offers no SOAP service that takes MeterReadingsFaultMessage" in lines[1]
    assert lines[-1] == "2 messages: 1 OK, 1 UNSENT"


def test_a_generic_get_request_goes_in_the_get_wrapper_with_its_fields(
    cimbus: Cimbus, tmp_path: Path
) -> None:
    root = etree.parse(str(EXCHANGES / "generic" / "RequestMessage-GetMeterReadings.xml"))
    path = tmp_path / "generic-get.xml"
    path.write_bytes(etree.tostring(root))
    result = send("--to", cimbus.url, "--fresh-ids", str(path))
    assert result.exit_code == 0, result.stderr
    got = etree.fromstring(cimbus.hes_got[-1])
    assert etree.QName(got).localname == "GetMeterReadings"
    request = got.find(f"{{{etree.QName(got).namespace}}}Request")
    fields = {etree.QName(c).localname: etree.QName(c).namespace for c in request}
    # the Request's own fields belong to the Get wrapper's namespace (IEC 61968-100)
    assert fields["StartTime"] == fields["Option"] == etree.QName(got).namespace


def test_fresh_ids_keeps_a_legacy_namespace_header_single(tmp_path: Path) -> None:
    from cimbus.send import read_message, refresh_ids

    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    legacy = tmp_path / "legacy.xml"
    legacy.write_bytes(
        path.read_bytes().replace(b"http://iec.ch/TC57/2011/", b"http://www.iec.ch/TC57/2011/")
    )
    item = read_message(str(legacy))
    assert refresh_ids(item)
    ids = [el for el in item.message.iter() if etree.QName(el).localname == "MessageID"]
    assert len(ids) == 1
    assert etree.QName(ids[0]).namespace == "http://www.iec.ch/TC57/2011/schema/message"
    assert ids[0].text == item.message_id != message_id(path)


def test_a_query_string_in_to_is_kept(vendor: Vendor, tmp_path: Path) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    to = f"{vendor.url}/vendor/cim/MeterReadings?apikey=k3y&tenant=7"
    result = send("--to", to, str(path))
    assert result.exit_code == 0, result.stderr
    queries = vendor.behaviour["queries"]
    assert queries[0] == "apikey=k3y&tenant=7&wsdl"  # the WSDL
    assert queries[-1] == "apikey=k3y&tenant=7"  # the POST


def test_a_soap12_only_wsdl_gets_a_soap12_envelope(vendor: Vendor, tmp_path: Path) -> None:
    soap12 = tmp_path / "soap12.wsdl"
    soap12.write_text(
        vendor.wsdl.read_text().replace(
            "http://schemas.xmlsoap.org/wsdl/soap/", "http://schemas.xmlsoap.org/wsdl/soap12/"
        )
    )
    vendor.behaviour["mode"] = "soap12"
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send("--wsdl", str(soap12), str(path))
    assert result.exit_code == 0, result.stderr
    headers, body = vendor.posts[-1]
    assert (
        etree.QName(etree.fromstring(body)).namespace == "http://www.w3.org/2003/05/soap-envelope"
    )
    assert (
        'action="http://iec.ch/TC57/2011/MeterReadings/CreatedMeterReadings"'
        in (headers["content-type"])
    )


def test_a_public_url_with_a_path_is_cimbus_behind_a_proxy(
    cimbus: Cimbus, vendor: Vendor, tmp_path: Path
) -> None:
    config = tmp_path / "cimbus.toml"
    config.write_text(f'[soap]\npublic_url = "{vendor.url}/prefix"\n')
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send("--config", str(config), str(path))
    assert result.exit_code == 0, result.stderr
    assert cimbus.wait_mdms(message_id(path))


def test_redirects(cimbus: Cimbus, vendor: Vendor, tmp_path: Path) -> None:
    """307/308 keep the POST: followed. 301/302/303 would turn it into a GET: reported with
    where the endpoint moved to."""
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    vendor.behaviour["mode"] = "307"
    result = send("--wsdl", str(vendor.wsdl), str(path))
    assert result.exit_code == 0, result.stderr
    assert cimbus.wait_mdms(message_id(path))
    vendor.behaviour["mode"] = "301"
    result = send("--wsdl", str(vendor.wsdl), "--fresh-ids", str(path))
    assert result.exit_code == 1
    assert "HTTP 301 from http://127.0.0.1:" in result.stderr
    assert "the endpoint moved to /vendor/cim/Moved; send there (--to)" in result.stderr


def test_a_one_way_operations_202_is_accepted(vendor: Vendor, tmp_path: Path) -> None:
    vendor.behaviour["mode"] = "202"
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send("--wsdl", str(vendor.wsdl), str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("ACCEPTED ")
    assert "HTTP 202 without an answer (a one-way operation took it)" in result.stderr


def test_options_that_do_not_apply_are_said(tmp_path: Path, pki: Pki) -> None:
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    result = send("--to", "mqtt://127.0.0.1:9", "--insecure", str(path))
    assert result.exit_code == 2
    assert "--insecure apply to https:// SOAP targets" in result.stderr
    der = tmp_path / "client.p12"
    der.write_bytes(b"\x30\x82\x01\x00binary")
    result = send("--to", "https://127.0.0.1:9", "--cert", str(der), str(path))
    assert result.exit_code == 2 and "not a PEM file" in result.stderr
    result = send("--to", f"http://127.0.0.1:{free_port()}", "--as", "CIS", str(path))
    assert result.stderr.startswith("warning: --as names the sending system on AMQP and MQTT")


def test_ctrl_c_says_how_far_it_got(vendor: Vendor, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    vendor.behaviour["mode"] = "trickle"
    path = golden(tmp_path, "MeterReadings", "CreatedMeterReadings")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cimbus.cli", "send", "--wsdl", str(vendor.wsdl), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not vendor.posts and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted after 0 of 1 message(s)" in err
    assert "Traceback" not in err


def test_masking_hides_passwords_not_words() -> None:
    from cimbus.send import Secrets

    secrets = Secrets("amqp://guest:guest@h/%2F", "https://cis:a@h/x", "http://u:s3cr%40t99@h")
    assert (
        secrets.mask("amqp://guest:guest@h/%2F: guest login")
        == "amqp://guest:***@h/%2F: guest login"
    )
    assert secrets.mask("https://cis:a@h/x: a reason") == "https://cis:***@h/x: a reason"
    assert secrets.mask("quoted s3cr@t99 and s3cr%40t99") == "quoted *** and ***"
