"""The head-end simulator behind cimbus, on the embedded bus and on RabbitMQ (issue 4; ODR-3,
B2-3, B2-4, B2-8, B2-10): a CIS-like client reads meters (sync) and commands the switch (async
route); the acknowledgement and the on-demand read reach the MDMS through cimbus's
subscriptions; fault knobs change the outcome."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from cim_models.codec import Codec
from cim_models.codes import acknowledgement_for, controls, results
from simulators._core import E, Incoming, Simulator, request, texts
from simulators.headend import HeadEnd
from simulators.headend.payloads import end_device_control, event_dicts, get_meter_readings_filter
from tests.unit.simulators.stubs import wait_for

pytest_plugins = ["tests.integration.amqp_fixtures", "tests.integration.sim_fixtures"]

CODEC = Codec()
M1 = "AMS-0001"
SUBSCRIPTIONS = [
    {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["MDMS", "CIS"]},
    {"verb": "created", "noun": "MeterReadings", "subscribers": ["MDMS"]},
]


def routes(get_timeout: float = 10) -> list[dict[str, Any]]:
    return [
        {"verb": "get", "noun": "MeterReadings", "target": "HES", "timeout": get_timeout},
        {
            "verb": "create",
            "noun": "EndDeviceControls",
            "target": "HES",
            "mode": "async",
            "timeout": 20,
        },
        {
            "verb": "cancel",
            "noun": "EndDeviceControls",
            "target": "HES",
            "mode": "async",
            "timeout": 20,
        },
    ]


class Recorder(Simulator):
    """A CIS / MDMS stand-in that keeps every event and async reply it receives."""

    name = "recorder"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inbox: list[Incoming] = []

    def on_event(self, incoming: Incoming) -> None:
        self.inbox.append(incoming)

    def on_reply(self, incoming: Incoming) -> None:
        self.inbox.append(incoming)

    def got(self, verb: str, noun: str) -> list[Incoming]:
        return [i for i in list(self.inbox) if i.verb == verb and i.noun == noun]


def _world(sim_world: Any, get_timeout: float = 10) -> tuple[Any, HeadEnd, Recorder, Recorder]:
    world = sim_world(routes=routes(get_timeout), subscriptions=SUBSCRIPTIONS)
    hes = world.attach(HeadEnd("demo"))
    cis = world.attach(Recorder("demo"), "CIS")
    mdms = world.attach(Recorder("demo"), "MDMS")
    return world, hes, cis, mdms


def _get(cis: Recorder, esiid: str, **kw: Any) -> Incoming:
    body = request(
        "get",
        "MeterReadings",
        source="CIS",
        organization="REP-BLUEBONNET",
        get_filter=get_meter_readings_filter(esiids=[esiid]),
        **kw,
    )
    return cis.request(body, timeout=20)


def _create(cis: Recorder, code: str, mrid: str, **kw: Any) -> Incoming:
    body = request(
        "create",
        "EndDeviceControls",
        source="CIS",
        organization="REP-BLUEBONNET",
        payload=[
            E.edc(
                "EndDeviceControls",
                end_device_control(code, mrid=mrid, meter=M1, issuer="CIS", **kw),
            )
        ],
        async_reply=True,
        reply_address=cis.client.queue,
    )
    return cis.request(body, timeout=20)


def _events(inbox: list[Incoming], tracking: str) -> list[dict[str, Any]]:
    return [
        e
        for i in inbox
        if i.noun == "EndDeviceEvents"
        for e in event_dicts(i.body)
        if e["tracking"] == tracking
    ]


def test_cis_reads_and_commands_the_head_end_through_cimbus(sim_world) -> None:
    _, hes, cis, mdms = _world(sim_world)
    esiid = hes.spec(M1).esiid
    read = _get(cis, esiid, start="2026-05-11T00:00:00-05:00", end="2026-05-12T00:00:00-05:00")
    assert read.result == "OK", read.errors
    assert len(texts(read.payload[0], ".//mr:IntervalReadings/mr:value")) == 96
    assert len(hes.received("get", "MeterReadings")) == 1

    hes.clock.advance(timedelta(minutes=7))  # 09:07: the turn-off waits for 09:15 (B2-8)
    accepted = _create(cis, controls.REMOTE_DISCONNECT, "d-int-1")
    assert accepted.result == "OK" and accepted.errors[0]["code"] == "0.1"  # cimbus: accepted
    (answer,) = wait_for(lambda: cis.got("reply", "EndDeviceControls"))
    assert (
        answer.result == "OK"
        and "completes at 2026-05-12T09:15:00-05:00" in answer.errors[0]["reason"]
    )
    assert mdms.got("created", "EndDeviceEvents") == []

    hes.clock.advance(timedelta(minutes=8))  # the boundary: the switch opens, ack + read go out
    wait_for(
        lambda: mdms.got("created", "EndDeviceEvents") and mdms.got("created", "MeterReadings")
    )
    acks = _events(mdms.got("created", "EndDeviceEvents"), "d-int-1")
    assert [e["code"] for e in acks] == [
        acknowledgement_for(controls.REMOTE_DISCONNECT, "processed"),
        results.DISCONNECTED,
    ]
    assert (
        acks[0]["meter"] == M1
        and acks[0]["esiid"] == esiid
        and acks[0]["details"]["ContactorStatus"] == "Opened"
    )
    (on_demand,) = mdms.got("created", "MeterReadings")
    CODEC.decode(on_demand.body)
    assert (
        len(texts(on_demand.payload[0], ".//mr:IntervalReadings/mr:value")) == 37
    )  # 00:15 .. 09:15
    wait_for(
        lambda: _events(cis.got("created", "EndDeviceEvents"), "d-int-1")
    )  # CIS subscribes too

    hes.clock.advance(timedelta(minutes=45))
    zeros = _get(cis, esiid, start="2026-05-12T09:15:00-05:00", end="2026-05-12T10:00:00-05:00")
    assert texts(zeros.payload[0], ".//mr:IntervalReadings/mr:value") == ["0.000"] * 3  # B2-14


def test_fault_knobs_change_the_outcome(sim_world) -> None:
    _, hes, cis, mdms = _world(sim_world, get_timeout=1.0)
    esiid = hes.spec(M1).esiid
    assert _get(cis, esiid).result == "OK"

    hes.faults.set(M1, disconnect=True)  # the meter stops answering the head-end
    silent = _get(cis, esiid)
    assert (
        silent.result == "FAILED"
        and silent.errors[0]["code"] == "4.1"
        and M1 in silent.errors[0]["reason"]
    )
    _create(cis, controls.REMOTE_CONNECT, "c-int-1")
    (answer,) = wait_for(lambda: cis.got("reply", "EndDeviceControls"))
    assert answer.result == "OK"  # accepted by the head-end ...
    hes.clock.advance(hes.no_answer_after)  # ... which reports the silence after its timeout
    (failure,) = wait_for(lambda: _events(mdms.got("created", "EndDeviceEvents"), "c-int-1"))
    assert failure["code"] == acknowledgement_for(controls.REMOTE_CONNECT, "error")
    assert failure["details"]["Outcome"] == "NoAnswer"
    assert mdms.got("created", "MeterReadings") == []  # no data (B2-4 5.2)

    hes.faults.clear()
    hes.faults.set(latency=1.5)  # the whole head-end answers later than the route allows
    late = _get(cis, esiid)
    assert late.result == "FAILED" and late.errors[0]["code"] == "4.1"
    time.sleep(0.6)  # let the late answer go out before the world is torn down
