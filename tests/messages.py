"""Small CIM messages the tests send through the bus (one definition, not one per module)."""

from __future__ import annotations

import uuid

from lxml import etree

from cim_models.build import build_message

EDE = "http://iec.ch/TC57/2011/EndDeviceEvents#"


def end_device_event(source: str = "HES") -> bytes:
    """A valid CreatedEndDeviceEvents event (one event, a fresh MessageID)."""
    payload = etree.fromstring(
        f'<EndDeviceEvents xmlns="{EDE}"><EndDeviceEvent><createdDateTime>2026-11-01T10:00:00Z'
        f'</createdDateTime><EndDeviceEventType ref="3.26.136.47"/></EndDeviceEvent>'
        f"</EndDeviceEvents>".encode()
    )
    return build_message(
        "created", "EndDeviceEvents", message_id=str(uuid.uuid4()), source=source, payload=[payload]
    )
