"""The Smart Meter Texas role: on-demand read of non-VEE 15-minute data (ODR-1..ODR-7).

Public surface: :class:`SmtService` (the local handler), the registry loader and the error
classes. docs/smt.md describes the flow, the rules, the configuration and the error codes.
"""

from .errors import (
    MeterNotEligible,
    NoVeePosting,
    OdrRequestInvalid,
    ThrottleLimitReached,
    WindowRefused,
)
from .registry import load_registry
from .service import SmtService

__all__ = [
    "MeterNotEligible",
    "NoVeePosting",
    "OdrRequestInvalid",
    "SmtService",
    "ThrottleLimitReached",
    "WindowRefused",
    "load_registry",
]
