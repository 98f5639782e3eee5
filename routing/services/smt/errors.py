"""The SMT service's refusals, each a :class:`~routing.errors.BusError` with its IEC 61968-100
reply code (rendered as Reply/Result FAILED by the pipeline's reply step, in the Get wrapper
namespace for a Get request).

::

    BusinessRuleViolation (2.7)
    ├── OdrRequestInvalid      2.7   the request names no (or several) ESIIDs, a bad window or ReadingType
    ├── MeterNotEligible       2.7   known ESIID, but not an AMS meter installed, provisioned, 15-min + daily (ODR-6)
    ├── NoVeePosting           2.7   no VEE data posted yet for the ESIID: no window to start from (ODR-2, ODR-7)
    ├── WindowRefused          2.7   outside [last VEE end, last VEE end + 48 h] or longer than 48 h (ODR-2)
    └── ThrottleLimitReached   2.7   the day's successful reads / pings for the ESIID are used (ODR-5)
    UnknownObject (2.12)             the ESIID is not known to SMT (ODR-6)
    NotAuthorised (3.2)              not the ROR of record, or not an organisation the system acts for (ODR-4, SEC-2)
"""

from __future__ import annotations

from ...errors import BusinessRuleViolation


class OdrRequestInvalid(BusinessRuleViolation):
    """The on-demand read or ping request cannot be served as written."""


class MeterNotEligible(BusinessRuleViolation):
    """ODR-6: the meter is not an AMS meter installed and provisioned with 15-minute interval
    and daily read capability."""


class NoVeePosting(BusinessRuleViolation):
    """ODR-2 / ODR-7: nothing VEE-validated was posted for the ESIID yet, so the on-demand
    window has no start."""


class WindowRefused(BusinessRuleViolation):
    """ODR-2: the requested window is not inside [last VEE end, last VEE end + 48 h]."""


class ThrottleLimitReached(BusinessRuleViolation):
    """ODR-5 (functional rule CR016.1): the ESIID's successful reads or pings for the day are
    used up."""
