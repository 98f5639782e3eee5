"""IEC 61968-9 code lists as data, with a small typed API.

The CIM messages of IEC 61968-9 identify what things are with dotted numeric codes. This package
decodes, builds, checks and explains them. The values live in TOML files beside the code
(``cim_models/codes/data/*.toml``), loaded once with :mod:`tomllib`; nothing here imports the
rest of cimbus (``routing``, ``endpoints``, ``simulators``, ``conformance``): it is the lowest
layer. Where the values come from and every choice the project made: ``docs/codes.md``.

* ReadingType, 18 fields (Annex C): :class:`ReadingType`, :func:`is_interval`,
  :func:`interval_minutes`, :data:`INTERVAL_15MIN_KWH_DELIVERED` and friends.
  Serves ODR-3, B2-8, B2-10.
* EndDeviceControlType / EndDeviceEventType, 4 parts (Annex E): :class:`EndDeviceCode`,
  the named codes :data:`controls`, :data:`events`, :data:`results`, and the acknowledgement
  rules :func:`acknowledgement_for`, :func:`semantic_result`, :func:`acknowledgement_outcome`.
  Serves B2-* (B2-4 for acknowledgements), DCC-3.
* Vendor aliases of outage events: :class:`OutageEventMap`. Serves D11-1.
* ReadingQualityType, 3 parts (Annex D): :class:`ReadingQualityCode`, :data:`NON_VEE`,
  :data:`VEE_VALIDATED`, :func:`vee_applied`. Serves ODR-3.

Errors: everything raises :class:`CodeError` (a :class:`ValueError`) with the field, the value and
the code in the message and as attributes; a non-string code is a :class:`TypeError`.

>>> from cim_models.codes import ReadingType, controls, acknowledgement_for
>>> print(ReadingType.parse("0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0").describe())
15-minute interval, delta data, forward (delivered), electricity secondary metered, energy, kWh
>>> acknowledgement_for(controls.REMOTE_DISCONNECT, "processed")
'3.31.0.44'
"""

from __future__ import annotations

from ._errors import CodeError
from ._tables import CodeTable, CodeValue
from .end_device import (
    ACK_OUTCOMES,
    END_DEVICE_PARTS,
    AckOutcome,
    EndDeviceCode,
    NamedCode,
    NamedCodes,
    acknowledgement_for,
    acknowledgement_outcome,
    controls,
    end_device_table,
    events,
    results,
    semantic_result,
)
from .outage import IGNORE, OUTAGE_MEANINGS, OutageAlias, OutageEventMap, OutageMeaning
from .reading_quality import (
    DEVICE_VALID,
    KNOWN_MISSING_READ,
    MDM_EDITED,
    MDM_ESTIMATED,
    MDM_SUSPECT,
    NON_VEE,
    QUALITY_PARTS,
    VEE_VALIDATED,
    ReadingQualityCode,
    quality_index_table,
    reading_quality_table,
    vee_applied,
)
from .reading_type import (
    DAILY_KWH_DELIVERED,
    INTERVAL_15MIN_KWH_DELIVERED,
    INTERVAL_15MIN_KWH_RECEIVED,
    INTERVAL_60MIN_KWH_DELIVERED,
    READING_TYPE_FIELDS,
    REGISTER_KWH_DELIVERED,
    REGISTER_KWH_RECEIVED,
    ReadingType,
    interval_minutes,
    is_interval,
    reading_type_table,
)

__all__ = [
    "ACK_OUTCOMES",
    "DAILY_KWH_DELIVERED",
    "DEVICE_VALID",
    "END_DEVICE_PARTS",
    "IGNORE",
    "INTERVAL_15MIN_KWH_DELIVERED",
    "INTERVAL_15MIN_KWH_RECEIVED",
    "INTERVAL_60MIN_KWH_DELIVERED",
    "KNOWN_MISSING_READ",
    "MDM_EDITED",
    "MDM_ESTIMATED",
    "MDM_SUSPECT",
    "NON_VEE",
    "OUTAGE_MEANINGS",
    "QUALITY_PARTS",
    "READING_TYPE_FIELDS",
    "REGISTER_KWH_DELIVERED",
    "REGISTER_KWH_RECEIVED",
    "VEE_VALIDATED",
    "AckOutcome",
    "CodeError",
    "CodeTable",
    "CodeValue",
    "EndDeviceCode",
    "NamedCode",
    "NamedCodes",
    "OutageAlias",
    "OutageEventMap",
    "OutageMeaning",
    "ReadingQualityCode",
    "ReadingType",
    "acknowledgement_for",
    "acknowledgement_outcome",
    "controls",
    "end_device_table",
    "events",
    "interval_minutes",
    "is_interval",
    "quality_index_table",
    "reading_quality_table",
    "reading_type_table",
    "results",
    "semantic_result",
    "vee_applied",
]
