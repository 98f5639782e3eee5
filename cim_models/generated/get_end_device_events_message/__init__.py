from cim_models.generated.get_end_device_events_message.model import (
    EndDeviceEventsFaultMessage,
    EndDeviceEventsFaultMessageType,
    EndDeviceEventsPayloadType,
    EndDeviceEventsResponseMessage,
    EndDeviceEventsResponseMessageType,
    GetEndDeviceEvents,
    GetEndDeviceEventsRequestMessageType,
    GetEndDeviceEventsRequestType,
)

__all__ = [
    "EndDeviceEventsFaultMessage",
    "EndDeviceEventsFaultMessageType",
    "EndDeviceEventsPayloadType",
    "EndDeviceEventsResponseMessage",
    "EndDeviceEventsResponseMessageType",
    "GetEndDeviceEvents",
    "GetEndDeviceEventsRequestMessageType",
    "GetEndDeviceEventsRequestType",
]
