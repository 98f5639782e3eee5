"""The CIS simulator (retail provider / Rep of Record and billing; ODR-1, ODR-4, ODR-5, B2-1,
B2-2, B2-15, B2-17).

See :mod:`simulators.cis.simulator` and docs/simulators/cis.md.
"""

from .orders import ACCEPTED, CANCELLED, COMPLETED, FAILED, REPLIED, SENT, Order
from .simulator import Cis, PingRecord, ReadRecord

__all__ = [
    "ACCEPTED",
    "CANCELLED",
    "COMPLETED",
    "FAILED",
    "REPLIED",
    "SENT",
    "Cis",
    "Order",
    "PingRecord",
    "ReadRecord",
]
