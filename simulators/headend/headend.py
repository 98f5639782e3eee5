"""The head-end simulator: the TDSP's AMI head-end and its AMS meters (issue 4).

It serves ``get MeterReadings`` (sync) and ``create`` / ``change`` / ``cancel
EndDeviceControls`` (routed async by cimbus), and sends ``created EndDeviceEvents``
(acknowledgements, trips, local operations, last gasps, restorations, alarms, firmware progress,
ping results) and ``created MeterReadings`` (the on-demand read at every switch event). Its parts:

================  ===========================================================================
``loadshape``     deterministic 15-minute consumption with daily load shapes (ODR-3)
``meters``        lazy per-meter state; what a meter records (zeros while open, B2-14)
``payloads``      EndDeviceEvents / MeterReadings elements (the shapes other systems match)
``controls``      reading EndDeviceControl elements; the per-meter job
``commands``      the EndDeviceControls handlers and the command book (B2-1..B2-3, B2-11)
``switch``        service switch, limiter, local toggles (B2-8, B2-12, B2-13, B2-15, B2-16)
``outage``        last gasp, restoration, pings, switch-status reads (D11-1, D11-7)
``device``        firmware updates, alarms, in-home display text (DCC-3, DCC-4, B2-6)
``readings``      get MeterReadings (ODR-3, ODR-6)
``api``           REST routes (/meters/{id}, local toggle, demand, outages, alarms)
================  ===========================================================================

Behaviour, Python API, REST routes, profile keys and message shapes: docs/simulators/headend.md.
"""

from __future__ import annotations

from typing import Any

from .commands import CommandsMixin
from .readings import ReadingsMixin

__all__ = ["HeadEnd"]


class HeadEnd(CommandsMixin, ReadingsMixin):
    """The TDSP's AMI head-end and its meters (``name`` "headend", bus system "HES").

    >>> hes = HeadEnd("demo")                       # nothing is created per meter yet
    >>> hes.switch_status("AMS-0001")["switch"]
    'connected'
    """

    def add_routes(self, app: Any) -> None:
        from .api import add_headend_routes

        add_headend_routes(self, app)
