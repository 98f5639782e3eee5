from cim_models.generated.end_device_events.model import (
    Asset,
    EndDeviceEvent,
    EndDeviceEventDetail,
    EndDeviceEvents,
    EndDeviceEventType,
    Name,
    NameType,
    NameTypeAuthority,
    Status,
    UsagePoint,
)

__all__ = [
    "Asset",
    "EndDeviceEvent",
    "EndDeviceEventDetail",
    "EndDeviceEventType",
    "EndDeviceEvents",
    "Name",
    "NameType",
    "NameTypeAuthority",
    "Status",
    "UsagePoint",
]
