"""Codec behaviour (BUS-1, BUS-3, SEC-3): forms, SOAP, namespaces, lenient mode, binding
discipline, serialisation, and the MeterReadings fast path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from bench.bench_codec import make_document
from cim_models import namespaces as ns
from cim_models.codec import Codec, canonical
from cim_models.errors import BindingError, SchemaValidationError, UnknownMessageError
from cim_models.fastpath import count_interval_readings, read_interval_series

codec = Codec()

EDC = b"""<m:CreateEndDeviceControls xmlns:m="{wrapper}" xmlns:msg="{msg}"
    xmlns="http://iec.ch/TC57/2011/EndDeviceControls#">
  <m:Header><msg:Verb>create</msg:Verb><msg:Noun>EndDeviceControls</msg:Noun>
    <msg:Source>ROR-CIS-01</msg:Source><msg:AsyncReplyFlag>true</msg:AsyncReplyFlag>
    <msg:ReplyAddress>http://cis.example/ws/ReplyEndDeviceControls</msg:ReplyAddress>
    <msg:User><msg:UserID>csr17</msg:UserID><msg:Organization>REP-A</msg:Organization></msg:User>
    <msg:MessageID>m-1</msg:MessageID><msg:CorrelationID>c-1</msg:CorrelationID>
    <msg:Property><msg:Name>priority</msg:Name><msg:Value>high</msg:Value></msg:Property>
  </m:Header>
  <m:Payload><EndDeviceControls><EndDeviceControl><EndDeviceControlType ref="3.31.0.23"/>
  </EndDeviceControl></EndDeviceControls></m:Payload>
</m:CreateEndDeviceControls>"""


def edc(
    wrapper: str = "http://iec.ch/TC57/2011/EndDeviceControlsMessage", msg: str = ns.MSG_NS
) -> bytes:
    return EDC.replace(b"{wrapper}", wrapper.encode()).replace(b"{msg}", msg.encode())


def soap(body: bytes, version: str = "1.1") -> bytes:
    env = ns.SOAP11_NS if version == "1.1" else ns.SOAP12_NS
    return (
        f'<s:Envelope xmlns:s="{env}"><s:Header/><s:Body>'.encode()
        + body
        + b"</s:Body></s:Envelope>"
    )


def test_header_is_read_without_binding() -> None:
    m = codec.decode(edc())
    assert (
        m.form == "typed"
        and m.noun == "EndDeviceControls"
        and m.element == "CreateEndDeviceControls"
    )
    h = m.header()
    assert h["Verb"] == "create" and h["MessageID"] == "m-1" and h["CorrelationID"] == "c-1"
    assert h["AsyncReplyFlag"] is True
    assert h["ReplyAddress"] == "http://cis.example/ws/ReplyEndDeviceControls"
    assert h["User"] == {"UserID": "csr17", "Organization": "REP-A"}
    assert h["Property"] == {"priority": "high"}
    assert "bound" not in m.__dict__  # nothing was bound
    m.bind()
    assert m.header() == h  # binding does not consume the tree


@pytest.mark.parametrize(
    "wrapper,msg",
    [
        (
            "http://www.iec.ch/TC57/2011/EndDeviceControlsMessage",
            "http://www.iec.ch/TC57/2011/schema/message",
        ),
        ("http://iec.ch/TC57/2017/EndDeviceControlsMessage", ns.MSG_NS),
        (
            "http://iec.ch/TC57/2011/EndDeviceControlsMessage",
            "http://www.iec.ch/TC57/2011/schema/message",
        ),
    ],
)
def test_legacy_namespaces_are_read_and_written_as_2011(wrapper: str, msg: str) -> None:
    m = codec.decode(edc(wrapper, msg))
    assert m.namespace == "http://iec.ch/TC57/2011/EndDeviceControlsMessage"
    assert m.legacy_namespace in (wrapper, msg)
    out = codec.encode(m.bind())
    assert b"www.iec.ch" not in out and b"/2017/" not in out
    assert canonical(out) == canonical(edc())


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_soap_envelopes_are_opened(version: str) -> None:
    m = codec.decode(soap(edc(), version))
    assert m.soap is not None and m.soap.version == version
    assert m.element == "CreateEndDeviceControls"


@pytest.mark.parametrize(
    "body,fragment",
    [(b"", "Body is empty"), (edc() + edc(), "holds 2 elements")],
)
def test_broken_soap_bodies(body: bytes, fragment: str) -> None:
    with pytest.raises(UnknownMessageError, match=fragment):
        codec.decode(soap(body))


def test_no_namespace_root_is_named() -> None:
    with pytest.raises(UnknownMessageError, match="has no namespace"):
        codec.decode(b"<CreateEndDeviceControls/>")


def test_unknown_element_in_message_namespace() -> None:
    with pytest.raises(UnknownMessageError, match="not a message"):
        codec.decode(f'<msg:Header xmlns:msg="{ns.MSG_NS}"/>'.encode())


def test_unknown_element_in_wrapper_namespace_is_a_schema_error() -> None:
    bad = edc().replace(b"m:CreateEndDeviceControls", b"m:ExplodeEndDeviceControls")
    with pytest.raises(SchemaValidationError, match="No matching global declaration"):
        codec.decode(bad)


def test_bare_payload_and_generic_forms() -> None:
    payload = b'<MeterReadings xmlns="http://iec.ch/TC57/2011/MeterReadings#"/>'
    m = codec.decode(payload)
    assert m.form == "payload" and m.noun == "MeterReadings"
    generic = (
        f'<msg:RequestMessage xmlns:msg="{ns.MSG_NS}"><msg:Header><msg:Verb>get</msg:Verb>'
        f"<msg:Noun>MeterReadings</msg:Noun></msg:Header></msg:RequestMessage>"
    ).encode()
    g = codec.decode(generic)
    assert g.form == "generic" and g.noun == "MeterReadings" and g.verb == "get"


def test_generic_payload_is_validated_against_its_profile() -> None:
    bad = (
        f'<msg:EventMessage xmlns:msg="{ns.MSG_NS}"><msg:Header><msg:Verb>created</msg:Verb>'
        f"<msg:Noun>EndDeviceEvents</msg:Noun></msg:Header><msg:Payload>"
        f'<EndDeviceEvents xmlns="http://iec.ch/TC57/2011/EndDeviceEvents#"><EndDeviceEvent>'
        f"<createdDateTime>yesterday</createdDateTime><EndDeviceEventType ref='3.26.136.47'/>"
        f"</EndDeviceEvent></EndDeviceEvents></msg:Payload></msg:EventMessage>"
    ).encode()
    with pytest.raises(SchemaValidationError, match="createdDateTime"):
        codec.decode(bad)


def test_lenient_accepts_what_binds_and_still_refuses_what_does_not() -> None:
    # elements out of order: a schema violation, but the document binds
    swapped = edc().replace(  # reason belongs before EndDeviceControlType
        b'<EndDeviceControlType ref="3.31.0.23"/>',
        b'<EndDeviceControlType ref="3.31.0.23"/><reason>move-out</reason>',
    )
    with pytest.raises(SchemaValidationError, match="reason': This element is not expected"):
        codec.decode(swapped)
    m = codec.decode(swapped, lenient=True)
    assert [w.level for w in m.warnings] == ["warning"]
    assert m.bind().payload.end_device_controls.end_device_control[0].reason == "move-out"
    # a missing mandatory element does not bind: lenient mode still refuses it
    missing = edc().replace(b'<EndDeviceControlType ref="3.31.0.23"/>', b"")
    with pytest.raises(BindingError, match="end_device_control_type"):
        codec.decode(missing, lenient=True)
    # an invalid enum value does not bind: lenient mode refuses it (converter warning = error)
    bad_enum = edc().replace(b"<msg:Verb>create</msg:Verb>", b"<msg:Verb>explode</msg:Verb>")
    with pytest.raises(BindingError, match="explode"):
        codec.decode(bad_enum, lenient=True)


def test_binding_refuses_unknown_elements() -> None:
    root = etree.fromstring(
        edc().replace(b"<EndDeviceControl>", b"<EndDeviceControl><bogus>x</bogus>")
    )
    with pytest.raises(BindingError, match="bogus"):
        codec.bind(root)


def test_encode_uses_readable_prefixes() -> None:
    out = codec.encode(codec.decode(edc()).bind())
    root = etree.fromstring(out)
    assert root.prefix == "m"
    assert root.nsmap["msg"] == ns.MSG_NS
    assert root.nsmap[None] == "http://iec.ch/TC57/2011/EndDeviceControls#"


# --------------------------------------------------------------------------- fast path


def test_fast_path_matches_binding() -> None:
    data = make_document(3, readings=8)
    m = codec.decode(data)
    series = read_interval_series(m)
    assert len(series) == 3 and all(len(s) == 8 for s in series)
    assert count_interval_readings(data) == 24
    bound = m.bind().payload.meter_readings.meter_reading
    for s, mr in zip(series, bound, strict=True):
        (block,) = mr.interval_blocks
        assert s.reading_type == block.reading_type.ref == "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
        assert s.usage_point == mr.usage_point.m_rid and s.meter == mr.meter.m_rid
        assert s.values == [float(r.value) for r in block.interval_readings]
        assert s.timestamps == [r.time_stamp.to_datetime() for r in block.interval_readings]
        assert s.qualities == [
            tuple(q.reading_quality_type.ref for q in r.reading_qualities)
            for r in block.interval_readings
        ]
    first = series[0]
    assert first.timestamps[0] == datetime(2026, 11, 1, 0, 15, tzinfo=UTC)
    assert first.qualities[0] == ("2.0.0",) and first.qualities[1] == ()


def test_fast_path_reads_bytes_inside_soap() -> None:
    doc = make_document(1, readings=4).split(b"?>", 1)[1]
    series = read_interval_series(soap(doc))
    assert [len(s) for s in series] == [4]


def test_fast_path_refuses_bad_numbers() -> None:
    data = make_document(1, readings=2).replace(b"<value>0.250</value>", b"<value>lots</value>", 1)
    with pytest.raises(ValueError, match="lots"):
        read_interval_series(data)
