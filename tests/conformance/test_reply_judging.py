"""A target whose GetMeterReadings replies are wrong never passes (the auditor's fake target,
in-process): schema breaks, the wrong response element or payload namespace, no payload,
readings outside the window, a wrong CorrelationID."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from lxml import etree

from conformance.harness import build_world
from conformance.runner import run_scenarios
from conformance.suite import scenarios_for

MSG = "http://iec.ch/TC57/2011/schema/message"
MR = "http://iec.ch/TC57/2011/MeterReadings#"
GMR = "http://iec.ch/TC57/2011/GetMeterReadingsMessage"


def _retag(env: etree._Element, old: str, new: str, rename: Any = None) -> None:
    for el in env.iter():
        if isinstance(el.tag, str) and etree.QName(el).namespace == old:
            local = etree.QName(el).localname
            el.tag = f"{{{new}}}{rename(local) if rename else local}"
    etree.cleanup_namespaces(env)


def corrupt(mode: str, data: bytes) -> bytes:
    env = etree.fromstring(data)
    if etree.QName(env).localname != "MeterReadingsResponseMessage":
        return data
    if mode == "wrongcorr":
        for el in env.iter(f"{{{MSG}}}CorrelationID"):
            el.text = str(uuid.uuid4())
    elif mode == "nopayload":
        for el in list(env):
            if etree.QName(el).localname == "Payload":
                env.remove(el)
    elif mode == "badschema":
        for el in env.iter(f"{{{MR}}}IntervalReadings"):
            value = el.find(f"{{{MR}}}value")
            if value is not None:
                value.text = "twelve kWh"
            etree.SubElement(el, f"{{{MR}}}NotInTheSchema").text = "x"
    elif mode == "shift":
        for el in env.iter(f"{{{MR}}}timeStamp"):
            t = datetime.fromisoformat(el.text.replace("Z", "+00:00"))
            el.text = (t - timedelta(days=30)).isoformat()
    elif mode == "wrongns":
        _retag(env, MR, "http://iec.ch/TC57/2011/EndDeviceEvents#")
    elif mode == "wrongwrapper":
        _retag(
            env,
            GMR,
            "http://iec.ch/TC57/2011/EndDeviceControlsMessage",
            lambda n: n.replace("MeterReadings", "EndDeviceControls"),
        )
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


class Corrupting:
    """The CIS's client, with the target's answers corrupted on the way back."""

    def __init__(self, inner: Any, mode: str) -> None:
        self.inner, self.mode, self.system = inner, mode, inner.system

    def request(self, body: bytes, timeout: float = 30.0) -> bytes:
        return corrupt(self.mode, self.inner.request(body, timeout=timeout))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _run(mode: str, ids: tuple[str, ...]) -> dict[str, Any]:
    def make_world(sc: Any) -> Any:
        world = build_world("embedded")
        cis = world.sims["cis"]
        cis.client = Corrupting(cis.client, mode)
        return world

    scenarios = [s for s in scenarios_for(["ODR"]) if s.id in ids]
    return {r.scenario.id: r for r in run_scenarios(scenarios, make_world, settle=0)}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("badschema", "breaks its schema: line"),
        ("wrongwrapper", "EndDeviceControlsResponseMessage, expected"),
        ("wrongns", "payload in namespace http://iec.ch/TC57/2011/EndDeviceEvents#, expected"),
        ("nopayload", "Result OK but no Payload"),
        ("wrongcorr", "is not the request's MessageID"),
        ("shift", "inside the requested window"),
    ],
)
def test_a_wrong_reply_fails_every_reading_scenario(mode: str, expected: str) -> None:
    results = _run(mode, ("ODR-1", "ODR-3", "ODR-7"))
    for req, r in results.items():
        assert r.status == "failed", (req, r.status, r.error)
        assert expected in r.error, (req, r.error)
    if mode != "shift":
        assert all(r.error.startswith(f"{req}: ") for req, r in results.items())
