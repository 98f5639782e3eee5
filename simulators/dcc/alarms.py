"""Which events from the metering system are alarms, and for whom (DCC-3).

"Fleet management: alarms originating from the metering system are routed to the supplier and,
where relevant, the network operator." The DCC classifies each ``EndDeviceEventType`` code
(IEC 61968-9 Annex E, four parts ``type.domain.subDomain.eventOrAction``):

=====================================  ==========================  =========================
events                                  rule                        routed to
=====================================  ==========================  =========================
tamper, cover removed (Security, 12)    domain 12                   supplier
low battery and cleared (Battery, 2)    domain 2                    supplier
unauthorised local switching            ``3.15.26.38``              supplier
power failure, last gasp, restoration   domain 26, action 85/47/216 supplier + network operator
firmware progress (Firmware, 11)        domain 11                   the campaign (DCC-4)
anything else (acknowledgements, ...)   -                           not an alarm: not routed
=====================================  ==========================  =========================
"""

from __future__ import annotations

from dataclasses import dataclass

from cim_models.codes import EndDeviceCode, acknowledgement_for, controls, events

__all__ = ["FIRMWARE_STATES", "Classification", "classify"]

_POWER_ALARMS = {85, 47, 216}  # Failed, LossDetected, Restored


@dataclass(frozen=True)
class Classification:
    kind: str | None  # "alarm" | "firmware" | None
    network: bool = False  # also for the network operator
    name: str | None = None  # symbolic name of the code, when it has one


def _firmware_states() -> dict[str, str]:
    return {
        events.FIRMWARE_UPDATE_STARTED: "started",
        events.FIRMWARE_UPDATE_IN_PROGRESS: "in_progress",
        events.FIRMWARE_READY_FOR_ACTIVATION: "in_progress",
        events.FIRMWARE_UPDATE_SUCCEEDED: "succeeded",
        events.FIRMWARE_ACTIVATED: "succeeded",
        events.FIRMWARE_UPDATE_FAILED: "failed",
        events.FIRMWARE_ACTIVATION_FAILED: "failed",
        acknowledgement_for(controls.FIRMWARE_UPDATE, "processed"): "accepted",
        acknowledgement_for(controls.FIRMWARE_UPDATE, "error"): "failed",
        acknowledgement_for(controls.FIRMWARE_UPDATE, "cancelled"): "failed",
        acknowledgement_for(controls.FIRMWARE_UPDATE, "expired"): "failed",
    }


#: firmware event code -> campaign state of the meter (DCC-4)
FIRMWARE_STATES = _firmware_states()


def classify(code: str | None) -> Classification:
    """What the DCC does with an event of this code."""
    if not code:
        return Classification(None)
    try:
        c = EndDeviceCode.parse(code, strict=False)
    except ValueError:
        return Classification(None)
    name = events.name_of(c)
    if c.domain == 11 or code in FIRMWARE_STATES:
        return Classification("firmware", name=name)
    if c.domain in (12, 2) or code == events.LOCAL_SWITCH_NOT_AUTHORIZED:
        return Classification("alarm", name=name)
    if c.domain == 26 and c.event_or_action in _POWER_ALARMS:
        return Classification("alarm", network=True, name=name)
    return Classification(None, name=name)
