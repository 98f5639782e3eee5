"""Business services that cimbus itself serves, as ``local`` systems (BUS-8: still routed as
data; a route or subscription whose target system has ``transport = "local"`` reaches the
handler registered under the system's address with :meth:`routing.bus.Bus.register_local`).

=====================  ==================================================  ==============
service                verb / noun served                                  requirements
=====================  ==================================================  ==============
:class:`SmtService`    get MeterReadings (on-demand read, Get wrapper),    ODR-1..ODR-7,
                       create EndDeviceControls (power-status ping),       SEC-2
                       created MeterReadings (daily VEE posting, event)
=====================  ==================================================  ==============

:mod:`routing.services._call` lets a service ask another system and wait for its answer
(the same correlation, waiter and audit machinery as a routed sync request).
"""

from .smt import SmtService

__all__ = ["SmtService"]
