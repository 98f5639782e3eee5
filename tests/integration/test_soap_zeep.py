"""BUS-4, BUS-7: zeep loads every WSDL unchanged from a real server and calls every operation
of every service with the golden messages.

cimbus runs under uvicorn on a free port with a real Bus (SQLite store). Requests are routed
to a head-end (HES) on the embedded transport that answers each with a ResponseMessage OK;
events fan out to it. The golden requests that ask for an asynchronous reply get their
ReplyAddress pointed at a CIS served by ``SoapClient.serve``, so the async replies travel back
over SOAP too (SoapOutbound). ``Reply<Noun>`` is called with the ResponseMessage to a request
the HES holds back: cimbus forwards it to the CIS.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import zeep
from lxml import etree

from cim_models import namespaces as ns
from cim_models.build import build_message, payload_elements
from endpoints.embedded import EmbeddedBroker, EmbeddedClient, EmbeddedTransport
from endpoints.soap import SoapClient, SoapTransport, services
from routing.bus import Bus
from routing.config import Config, SoapConfig

EXCHANGES = Path(__file__).resolve().parents[2] / "conformance" / "exchanges"
MSG = ns.MSG_NS


def _golden(noun: str, element: str) -> etree._Element:
    for path in (EXCHANGES / noun / f"{element}.xml", EXCHANGES / noun / "get" / f"{element}.xml"):
        if path.is_file():
            return etree.parse(str(path)).getroot()
    raise AssertionError(f"no golden message {noun}/{element}.xml")


def _set(root: etree._Element, name: str, value: str) -> None:
    el = root.find(f".//{{{MSG}}}{name}")
    assert el is not None, name
    el.text = value


def _field(message: bytes | etree._Element, name: str) -> str | None:
    root = etree.fromstring(message) if isinstance(message, bytes) else message
    return root.findtext(f".//{{{MSG}}}{name}")


@dataclass
class Systems:
    held: set[str] = field(default_factory=set)  # requests the HES does not answer
    hes_seen: list[bytes] = field(default_factory=list)
    cis_got: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hes(self, message: bytes) -> bytes | None:
        with self.lock:
            self.hes_seen.append(message)
        root = etree.fromstring(message)
        verb, noun, mid = _field(root, "Verb"), _field(root, "Noun"), _field(root, "MessageID")
        if verb in ns.EVENT_VERBS or mid in self.held:
            return None
        return build_message(
            "reply",
            noun,
            correlation_id=mid,
            message_id=str(uuid.uuid4()),
            source="HES",
            result="OK",
        )

    def cis(self, message: bytes) -> None:
        with self.lock:
            self.cis_got.append(message)

    def wait_cis(self, correlation_ids: set[str], timeout: float = 10.0) -> set[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                got = {_field(m, "CorrelationID") for m in self.cis_got}
            if correlation_ids <= got:
                return got
            time.sleep(0.05)
        return got


@dataclass
class Running:
    url: str
    bus: Bus
    systems: Systems
    cis_address: str
    seen: list  # every exchange the bus finished


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("soap-zeep")
    systems = Systems()
    cis = SoapClient("http://unused", "CIS")
    cis_address = cis.serve(systems.cis)
    request_verbs = ("create", "change", "cancel", "close", "delete")
    routes = []
    for noun, profile in ns.PROFILES.items():
        routes += [{"verb": v, "noun": noun, "target": "HES", "timeout": 10} for v in request_verbs]
        if profile.get_wrapper_ns:
            routes.append({"verb": "get", "noun": noun, "target": "HES", "timeout": 10})
    config = Config.from_mapping(
        {
            "store": {"url": f"sqlite:///{tmp}/cimbus.db"},
            "bus": {"retry_base": 0.05},
            "systems": {
                "HES": {"transport": "embedded"},
                "CIS": {"transport": "soap", "address": cis_address},
            },
            "routes": routes,
            "subscriptions": [
                {"verb": v, "noun": noun, "subscribers": ["HES"]}
                for noun in ns.PROFILES
                for v in ns.EVENT_VERBS
                if v != "executed"
            ],
        }
    )
    bus = Bus(config)
    seen: list = []
    bus.add_listener(seen.append)
    broker = EmbeddedBroker()
    embedded = EmbeddedTransport(bus, broker).start()
    soap = SoapTransport(bus, SoapConfig(port=0))
    bus.start()
    soap.start()
    hes = EmbeddedClient(broker, "HES")
    hes.serve(systems.hes)
    try:
        yield Running(soap.url, bus, systems, cis_address, seen)
    finally:
        hes.close()
        soap.stop()
        embedded.stop()
        bus.stop()
        cis.close()


def _input(running: Running, noun: str, element: str) -> etree._Element:
    """The golden input with a new MessageID; async requests reply to the test's CIS."""
    root = _golden(noun, element)
    _set(root, "MessageID", str(uuid.uuid4()))
    for el in root.iter(f"{{{MSG}}}ReplyAddress"):
        el.text = f"{running.cis_address}/Reply{noun}"
    return root


def _call(client: zeep.Client, operation: str, element: str, message: etree._Element):
    """Call ``operation`` the zeep way: the golden parsed by zeep's own schema (from the WSDL)
    into keyword arguments (Header, Request, Reply, Payload)."""
    value = client.get_element(element).parse(message, client.wsdl.types)
    return getattr(client.service, operation)(**{key: value[key] for key in value})


def test_zeep_loads_every_wsdl_and_calls_every_operation(running: Running) -> None:
    async_ids: set[str] = set()
    calls = 0
    for name, service in services().items():
        client = zeep.Client(f"{running.url}/ws/{name}?wsdl")  # unchanged WSDL, over HTTP
        binding = next(iter(next(iter(client.wsdl.services.values())).ports.values())).binding
        assert sorted(binding._operations) == sorted(service.operation_names)
        for op in service.operations:
            assert binding._operations[op.name].soapaction == op.soap_action
            if op.verb == "reply":
                continue  # test_reply_operations
            message = _input(running, service.noun, op.input_local)
            mid = _field(message, "MessageID")
            if _field(message, "AsyncReplyFlag") == "true":
                async_ids.add(mid)
            result = _call(client, op.name, op.input, message)
            calls += 1
            assert result.Reply.Result == "OK", (name, op.name, result.Reply)
            assert result.Header.Verb == "reply"
            assert result.Header.CorrelationID == mid
            ex = next(
                e for e in reversed(running.seen) if e.envelope and e.envelope.message_id == mid
            )
            assert ex.meta["service"] == name
            assert ex.meta["operation"] == op.name
            assert ex.meta["soap_action"].strip('"') == op.soap_action  # zeep sent it
    assert calls == sum(len(s.operations) for s in services().values()) - sum(
        1 for s in services().values() if s.role == "Reply"
    )
    assert async_ids  # the goldens include asynchronous requests
    # BUS-7: their replies reached the CIS's ReplyAddress over SOAP
    got = running.systems.wait_cis(async_ids)
    assert async_ids <= got


def test_reply_operations(running: Running) -> None:
    """Reply<Noun>: the HES holds a request back; its ResponseMessage, posted by zeep to
    Reply<Noun>, is forwarded by cimbus to the requester (the CIS) over SOAP."""
    soap = SoapClient(running.url, "CIS")
    expected: set[str] = set()
    posted: dict[str, str] = {}  # request MessageID -> MessageID of the reply posted to Reply<Noun>
    try:
        for noun in ns.PROFILES:
            mid = str(uuid.uuid4())
            request = build_message(
                "create",
                noun,
                message_id=mid,
                source="CIS",
                async_reply=True,
                reply_address=f"{running.cis_address}/Reply{noun}",
                payload=payload_elements(etree.tostring(_golden(noun, f"Create{noun}"))),
            )
            running.systems.held.add(mid)
            ack = soap.request(request)
            assert _field(ack, "Result") == "OK"
            assert _field(ack, "code") == "0.1"  # accepted; the reply follows

            client = zeep.Client(f"{running.url}/ws/Reply{noun}?wsdl")
            response = _input(running, noun, f"{noun}ResponseMessage")
            _set(response, "CorrelationID", mid)
            posted[mid] = _field(response, "MessageID")
            result = _call(
                client, f"Reply{noun}", f"{{{response.nsmap['m']}}}{noun}ResponseMessage", response
            )
            assert result.Reply.Result == "OK"
            expected.add(mid)
    finally:
        soap.close()
    assert expected <= running.systems.wait_cis(expected)
    with running.systems.lock:
        forwarded = [m for m in running.systems.cis_got if _field(m, "CorrelationID") in expected]
    assert len(forwarded) == len(expected)
    for message in forwarded:
        root = etree.fromstring(message)
        assert etree.QName(root).localname.endswith("ResponseMessage")
        # the reply posted through zeep, passed on unchanged
        assert _field(root, "MessageID") == posted[_field(root, "CorrelationID")]


def test_zeep_sees_a_fault_for_a_broken_message(running: Running) -> None:
    """A message zeep can send but the core cannot take (an unknown wrapper namespace inside
    the Body) comes back as a SOAP Fault with the FaultMessage as detail."""
    client = zeep.Client(f"{running.url}/ws/ExecuteEndDeviceControls?wsdl")
    message = _input(running, "EndDeviceControls", "CreateEndDeviceControls")
    body = etree.tostring(message).replace(
        b"http://iec.ch/TC57/2011/EndDeviceControlsMessage", b"urn:not-iec"
    )
    with client.settings(raw_response=True):
        envelope = (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            + body
            + b"</s:Body></s:Envelope>"
        )
        response = client.transport.post_xml(
            f"{running.url}/ws/ExecuteEndDeviceControls",
            etree.fromstring(envelope),
            {"SOAPAction": '""', "Content-Type": "text/xml; charset=utf-8"},
        )
    binding = next(iter(next(iter(client.wsdl.services.values())).ports.values())).binding
    with pytest.raises(zeep.exceptions.Fault) as info:
        binding.process_reply(client, binding.get("CreateEndDeviceControls"), response)
    assert info.value.code == "soapenv:Client"
    assert "urn:not-iec" in info.value.message
    assert etree.QName(info.value.detail[0]).localname == "EndDeviceControlsFaultMessage"
