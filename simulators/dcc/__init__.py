"""The DCC simulator: a UK-style data and communications company (DCC-1..DCC-5). See
:mod:`simulators.dcc.dcc` and docs/simulators/dcc.md."""

from .alarms import Classification, classify
from .campaigns import Campaign, CampaignMeter
from .dcc import Dcc, Switch
from .readings import Read, local_read
from .registry import ACTIONS, FUELS, Period, Registry

__all__ = [
    "ACTIONS",
    "FUELS",
    "Campaign",
    "CampaignMeter",
    "Classification",
    "Dcc",
    "Period",
    "Read",
    "Registry",
    "Switch",
    "classify",
    "local_read",
]
