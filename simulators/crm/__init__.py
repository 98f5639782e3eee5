"""The CRM simulator: customer notification during outages and before scheduled switching
(D11-2, D11-4, D11-8, D11-9, D11-11, B2-6). See :mod:`simulators.crm.crm` and
docs/simulators/crm.md."""

from .crm import DEFAULT_INFO_PHONE, Crm, Notification
from .preferences import (
    CHANNELS,
    EDITORS,
    NOTIFICATION_TYPES,
    PreferenceChange,
    PreferenceError,
    PreferenceNotAllowed,
    Preferences,
    PreferenceStore,
    Receiver,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_INFO_PHONE",
    "EDITORS",
    "NOTIFICATION_TYPES",
    "Crm",
    "Notification",
    "PreferenceChange",
    "PreferenceError",
    "PreferenceNotAllowed",
    "PreferenceStore",
    "Preferences",
    "Receiver",
]
