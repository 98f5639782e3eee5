"""BUS-4, BUS-7, SEC-3 against the real core (Bus + SQLite store): the endpoint keeps the core's
decision (SOAP Fault for a broken envelope, ResponseMessage FAILED for a refused message), and
keeps serving after hostile input."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from cim_models.build import build_message
from endpoints.embedded import EmbeddedBroker, EmbeddedClient, EmbeddedTransport
from endpoints.soap import create_app
from routing.bus import Bus
from routing.config import Config

from .support import (
    EDC_ACTION,
    MSG,
    body_of,
    envelope,
    fault_of,
    fresh,
    golden,
    post,
    result_of,
)

SERVICE = "ExecuteEndDeviceControls"
CREATE = golden("CreateEndDeviceControls.xml")


def _sync(message: bytes) -> bytes:
    """The golden as a synchronous request (no AsyncReplyFlag / ReplyAddress), new MessageID."""
    root = etree.fromstring(fresh(message))
    for name in ("AsyncReplyFlag", "ReplyAddress"):
        for el in root.iter(f"{{{MSG}}}{name}"):
            el.getparent().remove(el)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def _bus(tmp_path: Path, mapping: dict, **bus: object) -> Bus:
    data = {"store": {"url": f"sqlite:///{tmp_path}/cimbus.db"}, "bus": dict(bus), **mapping}
    return Bus(Config.from_mapping(data))


@pytest.fixture
def local_bus(tmp_path: Path) -> Iterator[Bus]:
    """create EndDeviceControls is served inside cimbus by a local handler answering OK."""
    bus = _bus(
        tmp_path,
        {
            "systems": {"LOCAL": {"transport": "local"}},
            "routes": [{"verb": "create", "noun": "EndDeviceControls", "target": "LOCAL"}],
        },
        max_depth=32,
    )
    bus.register_local(
        "LOCAL",
        lambda env, b: build_message(
            "reply", env.noun, correlation_id=env.message_id, source="LOCAL", result="OK"
        ),
    )
    bus.start(outbox=False)
    yield bus
    bus.stop()


@pytest.fixture
def core(local_bus: Bus) -> Iterator[TestClient]:
    with TestClient(create_app(local_bus)) as c:
        yield c


def _ok(client: TestClient) -> None:
    r = post(client, SERVICE, envelope(_sync(CREATE)), action=EDC_ACTION)
    assert r.status_code == 200, r.text
    reply = body_of(r)
    assert etree.QName(reply).localname == "EndDeviceControlsResponseMessage"
    assert result_of(reply) == "OK"


def test_valid_request_is_served(core: TestClient) -> None:
    _ok(core)


def _with_header_field(name: str, value: str) -> bytes:
    root = etree.fromstring(_sync(CREATE))
    root.find(f".//{{{MSG}}}{name}").text = value
    return etree.tostring(root)


ENV_HEAD = (
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
)
DEEP = (
    b'<m:CreateEndDeviceControls xmlns:m="http://iec.ch/TC57/2011/EndDeviceControlsMessage">'
    + b"<m:x>" * 100
    + b"</m:x>" * 100
    + b"</m:CreateEndDeviceControls>"
)
BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]>\n"
    + ENV_HEAD
    + b"<x>&lol9;</x></soapenv:Body></soapenv:Envelope>"
)
XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    + ENV_HEAD
    + b"<x>&x;</x></soapenv:Body></soapenv:Envelope>"
)

# hostile input the core judges: body -> (HTTP status, faultcode or None for a ResponseMessage,
# a piece of the reason, IEC code)
CORE_CASES: dict[str, tuple[bytes, int, str | None, str, str]] = {
    "not well-formed": (
        ENV_HEAD + b"<m:CreateEndDeviceControls xmlns:m='x'><a></b></m:CreateEndDeviceControls>"
        b"</soapenv:Body></soapenv:Envelope>",
        500,
        "soapenv:Client",
        "not well-formed XML",
        "2.1",
    ),
    "truncated": (
        envelope(_sync(CREATE))[:-60],
        500,
        "soapenv:Client",
        "not well-formed XML",
        "2.1",
    ),
    "XXE": (XXE, 500, "soapenv:Client", "DOCTYPE declarations are not allowed", "2.1"),
    "entity bomb": (BOMB, 500, "soapenv:Client", "DOCTYPE declarations are not allowed", "2.1"),
    "deep nesting": (
        ENV_HEAD + DEEP + b"</soapenv:Body></soapenv:Envelope>",
        500,
        "soapenv:Client",
        "nested deeper than the limit of 32 levels",
        "2.1",
    ),
    "wrong namespace": (
        envelope(
            _sync(CREATE).replace(b"http://iec.ch/TC57/2011/EndDeviceControlsMessage", b"urn:evil")
        ),
        500,
        "soapenv:Client",
        "{urn:evil}CreateEndDeviceControls is not an IEC 61968-100 message",
        "2.1",
    ),
    "invalid Verb": (
        envelope(_with_header_field("Verb", "frobnicate")),
        200,
        None,
        "Verb 'frobnicate' is not an IEC 61968-100 verb",
        "2.3",
    ),
    "invalid dateTime": (
        envelope(_with_header_field("Timestamp", "yesterday at noon")),
        200,
        None,
        "yesterday at noon",
        "2.2",
    ),
}


@pytest.mark.parametrize("case", list(CORE_CASES))
def test_hostile_input_keeps_the_cores_decision(core: TestClient, case: str) -> None:
    body, status, faultcode, text, code = CORE_CASES[case]
    r = post(core, SERVICE, body, action="")
    assert r.status_code == status, r.text
    if faultcode is not None:
        got_code, reason, detail = fault_of(r)
        assert got_code == faultcode
        assert text in reason
        assert detail.tag.endswith("}EndDeviceControlsFaultMessage")
        assert detail.findtext(f".//{{{MSG}}}code") == code
    else:
        reply = body_of(r)
        assert etree.QName(reply).localname == "EndDeviceControlsResponseMessage"
        assert result_of(reply) == "FAILED"
        assert reply.findtext(f".//{{{MSG}}}code") == code
        assert text in reply.findtext(f".//{{{MSG}}}reason")
    _ok(core)


def test_hostile_input_is_audited(core: TestClient, local_bus: Bus) -> None:
    """Unreadable XML reaches the core, so it is recorded like any message (BUS-9)."""
    seen = []
    local_bus.add_listener(seen.append)
    post(core, SERVICE, XXE, action="")
    (ex,) = seen
    assert ex.transport == "soap"
    assert ex.error is not None and ex.error.envelope_broken
    assert ex.raw == XXE


def test_oversize_uses_the_bus_limit(tmp_path: Path) -> None:
    bus = _bus(tmp_path, {}, max_bytes=2048).start(outbox=False)
    try:
        with TestClient(create_app(bus)) as c:
            r = post(c, SERVICE, envelope(_sync(CREATE)) + b" " * 2048, action="")
            assert r.status_code == 413
            assert fault_of(r)[1] == "document is over the limit of 2048 bytes"
    finally:
        bus.stop()


def test_no_route_is_a_business_failure_not_a_fault(tmp_path: Path) -> None:
    """BUS-2: a verb + noun nobody serves gets HTTP 200 and a ResponseMessage FAILED 2.5."""
    bus = _bus(tmp_path, {}).start(outbox=False)
    try:
        with TestClient(create_app(bus)) as c:
            request = _sync(CREATE)
            r = post(c, SERVICE, envelope(request), action=EDC_ACTION)
            assert r.status_code == 200
            reply = body_of(r)
            assert etree.QName(reply).localname == "EndDeviceControlsResponseMessage"
            assert result_of(reply) == "FAILED"
            assert reply.findtext(f".//{{{MSG}}}code") == "2.5"
            assert "create EndDeviceControls" in reply.findtext(f".//{{{MSG}}}reason")
            mid = etree.fromstring(request).findtext(f".//{{{MSG}}}MessageID")
            assert reply.findtext(f".//{{{MSG}}}CorrelationID") == mid

            r = post(
                c, "GetMeterReadings", envelope(_sync(golden("GetMeterReadings.xml"))), action=""
            )
            reply = body_of(r)
            assert (
                reply.tag
                == "{http://iec.ch/TC57/2011/GetMeterReadingsMessage}MeterReadingsResponseMessage"
            )
            assert result_of(reply) == "FAILED"
    finally:
        bus.stop()


def test_registers_the_soap_outbound_once(local_bus: Bus) -> None:
    create_app(local_bus)
    first = local_bus.outbound["soap"]
    create_app(local_bus)
    assert local_bus.outbound["soap"] is first


def test_readyz_and_healthz(core: TestClient, local_bus: Bus) -> None:
    assert core.get("/healthz").json() == {"status": "alive"}
    r = core.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "outbox": {"pending": 0, "claimed": 0}}


def test_readyz_does_not_count_the_delivered_entries(
    core: TestClient, local_bus: Bus, monkeypatch
) -> None:
    """A probe runs every few seconds; counting every delivered entry ever kept took ~0.1 s
    per million rows (and the outbox keeps them for ever by default)."""

    def full_scan() -> None:
        raise AssertionError("readyz counted the whole outbox")

    monkeypatch.setattr(local_bus.store, "outbox_counts", full_scan)
    r = core.get("/readyz")
    assert r.status_code == 200 and r.json()["outbox"] == {"pending": 0, "claimed": 0}


def test_readyz_fails_when_the_store_does(core: TestClient, local_bus: Bus, monkeypatch) -> None:
    def down() -> None:
        raise OSError("database is locked forever")

    monkeypatch.setattr(local_bus.store, "outbox_backlog", down)
    r = core.get("/readyz")
    assert r.status_code == 503
    assert "database is locked forever" in r.json()["reason"]


def test_reply_consumed_by_the_waiting_request_gets_a_minimal_ok(tmp_path: Path) -> None:
    """BUS-7: the serving system answers a sync request by posting its ResponseMessage to the
    Reply service; the core hands it to the waiting request (no reply of its own), and the
    endpoint still answers that POST with a valid ResponseMessage OK."""
    bus = _bus(
        tmp_path,
        {
            "systems": {"HES": {"transport": "embedded"}},
            "routes": [
                {"verb": "create", "noun": "EndDeviceControls", "target": "HES", "timeout": 10}
            ],
        },
    )
    broker = EmbeddedBroker()
    EmbeddedTransport(bus, broker).start()
    bus.start()
    answers: list = []
    with TestClient(create_app(bus)) as c:

        def hes(message: bytes) -> None:
            mid = etree.fromstring(message).findtext(f".//{{{MSG}}}MessageID")
            reply = build_message(
                "reply",
                "EndDeviceControls",
                correlation_id=mid,
                message_id=str(uuid.uuid4()),
                source="HES",
                result="OK",
                reply_ids=["HES-42"],
            )
            r = post(c, "ReplyEndDeviceControls", envelope(reply), action="")
            answers.append(r)
            return None  # answered over SOAP, not over the broker

        client = EmbeddedClient(broker, "HES")
        client.serve(hes)
        try:
            r = post(c, SERVICE, envelope(_sync(CREATE)), action=EDC_ACTION)
            reply = body_of(r)
            assert result_of(reply) == "OK"
            assert reply.findtext(f".//{{{MSG}}}ID") == "HES-42"  # the HES's own reply
            deadline = time.monotonic() + 5
            while not answers and time.monotonic() < deadline:
                time.sleep(0.01)  # the HES's POST may return after the request's answer
            (ack,) = answers
            assert ack.status_code == 200
            minimal = body_of(ack)
            assert (
                minimal.tag
                == "{http://iec.ch/TC57/2011/EndDeviceControlsMessage}EndDeviceControlsResponseMessage"
            )
            assert result_of(minimal) == "OK"
            assert minimal.findtext(f".//{{{MSG}}}Source") == bus.name
        finally:
            client.close()
            bus.stop()


def test_unknown_reply_gets_failed_not_silence(core: TestClient) -> None:
    """A reply nobody waits for is refused by the core without a reply of its own; the SOAP
    caller still gets a ResponseMessage, FAILED with the core's reason."""
    reply = build_message(
        "reply", "EndDeviceControls", correlation_id=str(uuid.uuid4()), source="HES", result="OK"
    )
    r = post(core, "ReplyEndDeviceControls", envelope(reply), action="")
    assert r.status_code == 200
    answer = body_of(r)
    assert result_of(answer) == "FAILED"
    assert answer.findtext(f".//{{{MSG}}}code") == "2.12"


def test_concurrent_requests(core: TestClient) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                _ok(core)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_factory_builds_a_worker_from_cimbus_config(tmp_path: Path, monkeypatch) -> None:
    """`uvicorn --factory cimbus.runtime:soap_worker_app --workers N`: each worker builds its Bus
    from $CIMBUS_CONFIG, starts it with the app and stops it on shutdown."""
    from cimbus.runtime import soap_worker_app as factory

    config = tmp_path / "cimbus.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/w.db"\n[bus]\nsystem_name = "W1"\n')
    monkeypatch.setenv("CIMBUS_CONFIG", str(config))
    app = factory()
    bus = app.state.endpoint.bus
    assert bus.name == "W1"
    assert "soap" in bus.outbound
    with TestClient(app) as c:
        assert bus._threads  # the outbox worker runs while the app does
        assert c.get("/readyz").status_code == 200
        r = post(c, SERVICE, envelope(_sync(CREATE)), action=EDC_ACTION)
        assert body_of(r).findtext(f".//{{{MSG}}}Source") == "W1"
    assert not bus._threads


def test_factory_worker_serves_local_services(tmp_path: Path, monkeypatch) -> None:
    """A worker built by ``factory()`` (``[soap] workers > 1``) has what ``cimbus serve``'s
    Runtime has: a request routed to the local SMT service is served there (not 2.5, "no
    local handler"), with the ``[smt] registry`` file loaded at start-up."""
    from cimbus.runtime import soap_worker_app as factory
    from tests.unit.routing.services.odr_messages import get_request

    registry = tmp_path / "usage_points.csv"
    registry.write_text(
        "esiid,meter_number,ror,ams,provisioned,interval_minutes,daily_read\n"
        "10443720005555555,118800000,REP-BLUEBONNET,false,true,15,true\n",
        encoding="utf-8",
    )
    config = tmp_path / "cimbus.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path}/w.db"\n'
        f'[smt]\nregistry = "{registry.name}"\n'
        '[systems.CIS]\ntransport = "embedded"\n'
        '[systems.HES]\ntransport = "embedded"\n'
        '[systems.SMT]\ntransport = "local"\naddress = "smt"\n'
        '[[routes]]\nverb = "get"\nnoun = "MeterReadings"\nsource = "CIS"\ntarget = "SMT"\n'
    )
    monkeypatch.setenv("CIMBUS_CONFIG", str(config))
    app = factory()
    bus = app.state.endpoint.bus
    assert "smt" in bus.local
    with TestClient(app) as c:
        r = post(
            c,
            "GetMeterReadings",
            envelope(get_request("10443720005555555")),
            action="http://iec.ch/TC57/2011/MeterReadings/GetMeterReadings",
        )
        assert r.status_code == 200, r.text
        answer = body_of(r)
        assert result_of(answer) == "FAILED"
        # the SMT service answered from the registry it loaded (ODR-6), not the core's 2.5
        assert answer.findtext(f".//{{{MSG}}}code") == "2.7", r.text
        assert "is not an AMS meter" in etree.tostring(answer, encoding="unicode"), r.text
    assert not bus._threads


def test_run_with_workers_uses_the_factory(tmp_path: Path, monkeypatch) -> None:
    import endpoints.soap.server as server

    config_file = tmp_path / "cimbus.toml"
    config_file.write_text("[soap]\nworkers = 3\nport = 18080\n")
    monkeypatch.setenv("CIMBUS_CONFIG", "")  # so that the variable run() sets is undone after
    monkeypatch.delenv("CIMBUS_CONFIG")
    calls = []
    monkeypatch.setattr(server.uvicorn, "run", lambda *a, **kw: calls.append((a, kw)))
    with pytest.raises(ValueError, match="factory"):
        server.run(None, Config.load(config_file, env={}))
    server.run(None, Config.load(config_file, env={}), factory="pkg.mod:make_app")
    ((args, kwargs),) = calls
    assert args == ("pkg.mod:make_app",)
    assert kwargs["factory"] is True
    assert (kwargs["workers"], kwargs["port"]) == (3, 18080)
    assert os.environ["CIMBUS_CONFIG"] == str(config_file.resolve())


def test_readyz_shows_each_broker_link(core: TestClient, local_bus: Bus) -> None:
    """A broker that is down does not make cimbus unready (it still accepts and keeps
    messages; those for that transport wait in the outbox), but the probe says so."""

    class Link:
        def __init__(self, name: str, ready: bool) -> None:
            self.name, self.ready = name, ready

        def deliver(self, delivery):  # pragma: no cover - never called here
            raise AssertionError

        def reply_address(self, *, sync: bool) -> None:
            return None

    local_bus.register_transport(Link("amqp", True))
    local_bus.register_transport(Link("mqtt", False))
    r = core.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "ready"
    assert r.json()["transports"] == {"amqp": "connected", "mqtt": "reconnecting"}
