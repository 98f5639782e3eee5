"""What every simulator shares: clock, fault knobs, profiles, CIM helpers, base class, REST."""

from .base import JournalEntry, Simulator, SimulatorError, by_key, handles
from .cim import NS, E, Incoming, SimError, event, failed, iso, reply, request, text, texts
from .clock import SimClock, Timer, next_boundary, parse_time
from .connect import TRANSPORTS, connect
from .faults import FAULT_KINDS, FaultKnobs, Faults
from .profile import (
    Customer,
    MeterSpec,
    Organization,
    Profile,
    ProfileError,
    Transformer,
    load_profile,
)

__all__ = [
    "FAULT_KINDS",
    "NS",
    "TRANSPORTS",
    "Customer",
    "E",
    "FaultKnobs",
    "Faults",
    "Incoming",
    "JournalEntry",
    "MeterSpec",
    "Organization",
    "Profile",
    "ProfileError",
    "SimClock",
    "SimError",
    "Simulator",
    "SimulatorError",
    "Timer",
    "Transformer",
    "by_key",
    "connect",
    "event",
    "failed",
    "handles",
    "iso",
    "load_profile",
    "next_boundary",
    "parse_time",
    "reply",
    "request",
    "text",
    "texts",
]
