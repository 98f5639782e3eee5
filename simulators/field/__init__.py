"""The consolidated field mobile solution simulator (D11-3, D11-5, D11-6, D11-10, B2-16): see
:mod:`simulators.field.sim` and docs/simulators/field.md."""

from .geo import distance_m, site_for
from .sim import CAUSE_KINDS, Crew, Field, FieldConfig, FieldError, Order

__all__ = [
    "CAUSE_KINDS",
    "Crew",
    "Field",
    "FieldConfig",
    "FieldError",
    "Order",
    "distance_m",
    "site_for",
]
