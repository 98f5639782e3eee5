from cim_models.generated.get_meter_readings_message.model import (
    GetMeterReadings,
    GetMeterReadingsRequestMessageType,
    GetMeterReadingsRequestType,
    MeterReadingsFaultMessage,
    MeterReadingsFaultMessageType,
    MeterReadingsPayloadType,
    MeterReadingsResponseMessage,
    MeterReadingsResponseMessageType,
)

__all__ = [
    "GetMeterReadings",
    "GetMeterReadingsRequestMessageType",
    "GetMeterReadingsRequestType",
    "MeterReadingsFaultMessage",
    "MeterReadingsFaultMessageType",
    "MeterReadingsPayloadType",
    "MeterReadingsResponseMessage",
    "MeterReadingsResponseMessageType",
]
