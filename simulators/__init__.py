"""Simulators of the counterpart systems cimbus connects (issue 4).

One package per simulated system; each speaks CIM to cimbus over the wire (embedded bus, AMQP,
MQTT), loads its population from a profile (``simulators/profiles``), reads a simulated clock
and has fault knobs (``simulators._core``). ``SIMULATORS`` is the catalogue the CLI
(``cimbus simulate``), the demo and the conformance harness use; loading a class is lazy.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

__all__ = ["SIMULATORS", "SimulatorInfo"]


@dataclass(frozen=True)
class SimulatorInfo:
    name: str
    target: str  # "module:Class"
    system: str  # default bus system name
    summary: str
    requirements: tuple[str, ...]

    def load(self) -> type[Any]:
        module, _, cls = self.target.partition(":")
        return getattr(import_module(module), cls)


SIMULATORS: dict[str, SimulatorInfo] = {
    info.name: info
    for info in (
        SimulatorInfo(
            "headend",
            "simulators.headend:HeadEnd",
            "HES",
            "The TDSP's AMI head-end and its meters: 15-minute interval data and register reads, "
            "the service switch (remote connect / disconnect / load limit, trips and automatic "
            "reconnection, local toggles), pings, last gasp and restoration, firmware, alarms.",
            (
                "ODR-3",
                "ODR-6",
                "B2-3",
                "B2-4",
                "B2-8",
                "B2-10",
                "B2-11",
                "B2-12",
                "B2-13",
                "B2-14",
                "B2-15",
                "B2-16",
                "D11-1",
                "D11-7",
                "DCC-3",
                "DCC-4",
            ),
        ),
        SimulatorInfo(
            "mdms",
            "simulators.mdms:Mdms",
            "MDMS",
            "Meter data management: stores MeterReadings per usage point with VEE status, posts "
            "the daily VEE data that defines 'last VEE' for ODR, serves GetMeterReadings, receives "
            "on-demand reads and switch events.",
            ("ODR-2", "ODR-7", "B2-4", "B2-9", "B2-10"),
        ),
        SimulatorInfo(
            "cis",
            "simulators.cis:Cis",
            "CIS",
            "The retail provider / Rep of Record and billing: customers, accounts, usage points, "
            "ROR of record per ESIID, credit status; issues on-demand reads and connect / "
            "disconnect / limit orders; records the replies and events it receives.",
            ("ODR-1", "ODR-4", "ODR-5", "B2-1", "B2-2", "B2-15", "B2-17"),
        ),
        SimulatorInfo(
            "oms",
            "simulators.oms:Oms",
            "OMS",
            "Outage management: outage records from last-gasp events grouped by topology "
            "(isolated / neighbourhood / area), trouble orders and their statuses, estimated "
            "restoration times, restoration verification by pinging meters.",
            ("D11-1", "D11-3", "D11-6", "D11-7", "D11-9"),
        ),
        SimulatorInfo(
            "crm",
            "simulators.crm:Crm",
            "CRM",
            "Customer notification: preferences per customer and notification type (IHD by "
            "default, SMS, e-mail, phone; several receivers), one outbox per channel recording "
            "every notification (nothing is really sent), HAN / in-home display messages.",
            ("D11-2", "D11-4", "D11-8", "D11-9", "D11-11", "B2-6"),
        ),
        SimulatorInfo(
            "dcc",
            "simulators.dcc:Dcc",
            "DCC",
            "A UK-style DCC: supplier registration per meter with change-of-supplier dates, gas "
            "shipper registration, alarm subscriptions per party, firmware campaigns.",
            ("DCC-1", "DCC-2", "DCC-3", "DCC-4", "DCC-5"),
        ),
        SimulatorInfo(
            "field",
            "simulators.field:Field",
            "FIELD",
            "The consolidated field mobile solution: trouble-order status updates (Dispatched, "
            "En Route, On Site when the vehicle enters the job-site geofence, ERT set and updated, "
            "Restored), linked work orders for line crews.",
            ("D11-3", "D11-5", "D11-6", "D11-10", "B2-16"),
        ),
    )
}
