"""What the simulator tests (unit and over the wire) share: building the messages a stub
head-end sends, reading what a simulator posted, waiting for an asynchronous outcome."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from lxml import etree

from cim_models.codes import DEVICE_VALID, INTERVAL_15MIN_KWH_DELIVERED, REGISTER_KWH_DELIVERED
from simulators._core import E, Incoming, Simulator, event, handles, parse_time, reply, text
from simulators._core.cim import meter_el, usage_point_el

__all__ = [
    "MR",
    "RegisterHes",
    "asked_for",
    "device_event",
    "interval_meter_reading",
    "readings_of",
    "wait_for",
]

MR = "{http://iec.ch/TC57/2011/MeterReadings#}"
_T = TypeVar("_T")


def wait_for(condition: Callable[[], _T], timeout: float = 15.0, poll: float = 0.02) -> _T:
    """Poll ``condition`` until it is truthy (its value) or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"condition not met within {timeout} s")


def device_event(
    code: str,
    *,
    tracking: str | None = None,
    created: datetime | str | None = None,
    mrid: str | None = None,
    issuer: str | None = None,
    meter: str | None = None,
    esiid: str | None = None,
    details: Mapping[str, str] | None = None,
    source: str = "HES",
    timestamp: datetime | str | None = None,
) -> bytes:
    """``created EndDeviceEvents`` with one event (EndDeviceEvents.xsd order), as a head-end
    sends it: ``tracking`` is the control mRID it answers, ``meter`` / ``esiid`` name the
    meter (Assets) and the usage point."""
    ede = E.ede
    return event(
        "created",
        "EndDeviceEvents",
        [
            ede(
                "EndDeviceEvents",
                ede(
                    "EndDeviceEvent",
                    ede("mRID", mrid) if mrid else None,
                    ede("createdDateTime", created) if created is not None else None,
                    ede("issuerID", issuer) if issuer else None,
                    ede("issuerTrackingID", tracking) if tracking else None,
                    meter_el(meter, prefix="ede", tag="Assets") if meter else None,
                    [
                        ede("EndDeviceEventDetails", ede("name", k), ede("value", v))
                        for k, v in (details or {}).items()
                    ],
                    ede("EndDeviceEventType", ref=code),
                    usage_point_el(esiid, prefix="ede") if esiid else None,
                ),
            )
        ],
        source=source,
        timestamp=timestamp,
    )


def interval_meter_reading(
    esiid: str,
    meter: str,
    ends: Iterable[datetime],
    *,
    value: str = "0.250",
    register: tuple[datetime, str] | None = None,
) -> etree._Element:
    """A head-end's ``MeterReading``: ``value`` kWh (DEVICE_VALID) for each 15-minute interval
    ending at ``ends``, and the register read ``(timeStamp, value)`` when given."""
    return E.mr(
        "MeterReading",
        E.mr(
            "IntervalBlocks",
            [
                E.mr(
                    "IntervalReadings",
                    E.mr("timeStamp", ts.isoformat()),
                    E.mr("value", value),
                    E.mr("ReadingQualities", E.mr("ReadingQualityType", ref=DEVICE_VALID)),
                )
                for ts in ends
            ],
            E.mr("ReadingType", ref=INTERVAL_15MIN_KWH_DELIVERED),
        ),
        meter_el(meter),
        E.mr(
            "Readings",
            E.mr("timeStamp", register[0].isoformat()),
            E.mr("value", register[1]),
            E.mr("ReadingQualities", E.mr("ReadingQualityType", ref=DEVICE_VALID)),
            E.mr("ReadingType", ref=REGISTER_KWH_DELIVERED),
        )
        if register is not None
        else None,
        usage_point_el(esiid),
    )


def asked_for(msg: Incoming, now: datetime) -> tuple[datetime, datetime, list[str]]:
    """The window (default: the day up to ``now``) and the ESIIDs of a get MeterReadings."""
    start_text, end_text = msg.window()
    end = parse_time(end_text) if end_text else now
    start = parse_time(start_text) if start_text else end - timedelta(days=1)
    esiids = [up.findtext("{*}Names/{*}name") for up in msg.get_filter.findall("{*}UsagePoint")]
    return start, end, esiids


def readings_of(msg: Incoming) -> dict[str, list[tuple[Any, Any, Any]]]:
    """ESIID -> [(timeStamp, value, quality)] of the MeterReadings a message carries."""
    out = {}
    for mr in msg.payload[0].findall(f"{MR}MeterReading"):
        esiid = mr.findtext(f"{MR}UsagePoint/{MR}Names/{MR}name")
        out[esiid] = [
            (
                ir.findtext(f"{MR}timeStamp"),
                ir.findtext(f"{MR}value"),
                ir.find(f"{MR}ReadingQualities/{MR}ReadingQualityType").get("ref"),
            )
            for ir in mr.findall(f"{MR}IntervalBlocks/{MR}IntervalReadings")
        ]
    return out


class RegisterHes(Simulator):
    """A stub head-end for the DCC: answers register reads (``value`` kWh, DEVICE_VALID, at the
    window end) and accepts controls; ``seen`` keeps every request it received."""

    name = "stub-hes"
    system = "HES"
    value = "23456.789"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[Incoming] = []

    @handles("get", "MeterReadings")
    def read(self, msg: Incoming) -> bytes:
        self.seen.append(msg)
        _, end = msg.window()
        meter = text(msg.get_filter, "gmr:EndDevice/gmr:mRID") or "?"
        reading = E.mr(
            "MeterReading",
            E.mr("Meter", E.mr("mRID", meter)),
            E.mr(
                "Readings",
                E.mr("timeStamp", end or self.clock.now()),
                E.mr("value", self.value),
                E.mr("ReadingQualities", E.mr("ReadingQualityType", ref=DEVICE_VALID)),
                E.mr("ReadingType", ref=REGISTER_KWH_DELIVERED),
            ),
        )
        return reply(msg, source="HES", payload=[E.mr("MeterReadings", reading)])

    @handles("create", "EndDeviceControls")
    def control(self, msg: Incoming) -> bytes:
        self.seen.append(msg)
        return reply(msg, source="HES")
