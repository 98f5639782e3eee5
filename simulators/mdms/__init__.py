"""The MDMS simulator (meter data management; ODR-2, ODR-7, B2-4, B2-9, B2-10).

See :mod:`simulators.mdms.simulator` and docs/simulators/mdms.md.
"""

from .simulator import Mdms, RegisterRead, StoredReading, VeePosting
from .vee import VeeReading, day_window, interval_ends, run_vee, spike_limit

__all__ = [
    "Mdms",
    "RegisterRead",
    "StoredReading",
    "VeePosting",
    "VeeReading",
    "day_window",
    "interval_ends",
    "run_vee",
    "spike_limit",
]
