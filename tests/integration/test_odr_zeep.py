"""An integrator's view of ODR (issue 5): zeep loads cimbus's GetMeterReadings WSDL and asks for
non-VEE data as the Rep of Record, against the running SOAP endpoint, with the head-end and
MDMS simulators as the TDSP side."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from zeep import Client

from cim_models.codes import NON_VEE
from conformance.harness import build_world


@pytest.fixture
def world():
    # 14:00 in the profile's time zone: today's intervals since midnight (the end of the last
    # VEE posting) exist whatever the time of day the test runs at
    afternoon = datetime.now(ZoneInfo("America/Chicago")).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
    w = build_world("embedded", soap_port=0, start=afternoon)
    assert w.profile.timezone == "America/Chicago"
    yield w
    w.close()


def _posted_meter(world, index: int):
    m = [m for m in world.profile.meters if m.ams and m.provisioned][index]
    tz = ZoneInfo(world.profile.timezone)
    yesterday = world.clock.now().astimezone(tz).date() - timedelta(days=1)
    world.sim("mdms").post_daily_vee(yesterday, esiids=[m.esiid])
    return m, datetime.combine(yesterday + timedelta(days=1), datetime.min.time(), tzinfo=tz)


def _header(org: str) -> dict:
    return {
        "Verb": "get",
        "Noun": "MeterReadings",
        "Source": "CIS",
        "MessageID": str(uuid.uuid4()),
        "User": {"UserID": "csr.zeep", "Organization": org},
    }


def _request(esiid: str, start: datetime | None = None, end: datetime | None = None) -> dict:
    req: dict = {
        "GetMeterReadings": {
            "UsagePoint": [{"Names": [{"name": esiid, "NameType": {"name": "ESIID"}}]}]
        }
    }
    if start is not None:
        req["StartTime"] = start
        req["EndTime"] = end
    return req


def test_zeep_reads_non_vee_intervals_as_the_ror(world) -> None:
    m, last_vee_end = _posted_meter(world, 25)
    client = Client(f"{world.soap_server.url}/ws/GetMeterReadings?wsdl")
    end = last_vee_end + timedelta(hours=6)
    reply = client.service.GetMeterReadings(
        Header=_header(m.ror), Request=_request(m.esiid, last_vee_end, end)
    )
    assert reply.Reply.Result == "OK"
    assert reply.Header.CorrelationID
    readings = reply.Payload.MeterReadings.MeterReading
    assert len(readings) == 1
    intervals = readings[0].IntervalBlocks[0].IntervalReadings
    assert len(intervals) == 24  # 6 hours of 15-minute intervals
    assert intervals[0].timeStamp == last_vee_end + timedelta(minutes=15)
    assert intervals[-1].timeStamp == end
    for reading in intervals:
        assert [q.ReadingQualityType.ref for q in reading.ReadingQualities] == [NON_VEE]
        assert float(reading.value) >= 0
    names = [n.name for n in readings[0].UsagePoint.Names]
    assert m.esiid in names


def test_zeep_sees_the_refusals_as_failed_replies(world) -> None:
    m, last_vee_end = _posted_meter(world, 26)
    other = next(o.id for o in world.profile.organizations_with("ROR") if o.id != m.ror)
    client = Client(f"{world.soap_server.url}/ws/GetMeterReadings?wsdl")
    refused = client.service.GetMeterReadings(Header=_header(other), Request=_request(m.esiid))
    assert refused.Reply.Result == "FAILED"
    assert refused.Reply.Error[0].code.startswith("3.")
    too_long = client.service.GetMeterReadings(
        Header=_header(m.ror),
        Request=_request(m.esiid, last_vee_end, last_vee_end + timedelta(hours=49)),
    )
    assert too_long.Reply.Result == "FAILED" and too_long.Reply.Error[0].code == "2.7"
    assert "48" in too_long.Reply.Error[0].reason
    first = client.service.GetMeterReadings(Header=_header(m.ror), Request=_request(m.esiid))
    assert first.Reply.Result == "OK"
    second = client.service.GetMeterReadings(Header=_header(m.ror), Request=_request(m.esiid))
    assert second.Reply.Result == "FAILED" and "per day" in second.Reply.Error[0].reason


def test_zeep_gets_a_failed_reply_for_a_header_that_contradicts_the_operation(world) -> None:
    client = Client(f"{world.soap_server.url}/ws/GetMeterReadings?wsdl")
    header = _header("REP-BLUEBONNET")
    header["Noun"] = "OutageRecords"  # does not match the GetMeterReadings operation
    reply = client.service.GetMeterReadings(Header=header, Request=_request("10443720000000001"))
    assert reply.Reply.Result == "FAILED"
    assert reply.Reply.Error[0].code.startswith("2.")
