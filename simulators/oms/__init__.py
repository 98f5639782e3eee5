"""The outage management system simulator (D11-1, D11-3, D11-6, D11-7, D11-9): see
:mod:`simulators.oms.sim` and docs/simulators/oms.md."""

from .messages import DeviceEvent, device_events_of, end_device_events, ping_control
from .records import RecordData, TroubleOrderData, outage_records, records_of
from .sim import MeterState, Oms, OmsConfig, Outage, VerifyRound

__all__ = [
    "DeviceEvent",
    "MeterState",
    "Oms",
    "OmsConfig",
    "Outage",
    "RecordData",
    "TroubleOrderData",
    "VerifyRound",
    "device_events_of",
    "end_device_events",
    "outage_records",
    "ping_control",
    "records_of",
]
