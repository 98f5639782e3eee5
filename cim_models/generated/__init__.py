from cim_models.generated.end_device_controls import (
    ControlledAppliance,
    ElectronicAddress,
    EndDeviceControl,
    EndDeviceControls,
    EndDeviceControlType,
    EndDeviceTiming,
    PanDemandResponse,
    PanDisplay,
    PanPricing,
    PanPricingDetail,
    RandomisationKind,
    TransmissionModeKind,
)
from cim_models.generated.end_device_controls import (
    DateTimeInterval as ControlsDateTimeInterval,
)
from cim_models.generated.end_device_controls import (
    EndDevice as EndDeviceControlsEndDevice,
)
from cim_models.generated.end_device_controls import (
    EndDeviceGroup as ControlsEndDeviceGroup,
)
from cim_models.generated.end_device_controls import (
    Name as EndDeviceControlsName,
)
from cim_models.generated.end_device_controls import (
    NameType as EndDeviceControlsNameType,
)
from cim_models.generated.end_device_controls import (
    NameTypeAuthority as EndDeviceControlsNameTypeAuthority,
)
from cim_models.generated.end_device_controls import (
    UsagePoint as ControlsUsagePoint,
)
from cim_models.generated.end_device_controls import (
    UsagePointGroup as EndDeviceControlsUsagePointGroup,
)
from cim_models.generated.end_device_controls_message import (
    CanceledEndDeviceControls,
    CancelEndDeviceControls,
    ChangedEndDeviceControls,
    ChangeEndDeviceControls,
    ClosedEndDeviceControls,
    CloseEndDeviceControls,
    CreatedEndDeviceControls,
    CreateEndDeviceControls,
    DeletedEndDeviceControls,
    DeleteEndDeviceControls,
    EndDeviceControlsEventMessageType,
    EndDeviceControlsFaultMessage,
    EndDeviceControlsFaultMessageType,
    EndDeviceControlsPayloadType,
    EndDeviceControlsRequestMessageType,
    EndDeviceControlsResponseMessage,
    EndDeviceControlsResponseMessageType,
)
from cim_models.generated.end_device_events import (
    Asset as Asset,
)
from cim_models.generated.end_device_events import (
    EndDeviceEvent as EndDeviceEvent,
)
from cim_models.generated.end_device_events import (
    EndDeviceEventDetail as EndDeviceEventDetail,
)
from cim_models.generated.end_device_events import (
    EndDeviceEvents,
)
from cim_models.generated.end_device_events import (
    EndDeviceEventType as EndDeviceEventType,
)
from cim_models.generated.end_device_events import (
    Name as EndDeviceEventsName,
)
from cim_models.generated.end_device_events import (
    NameType as EndDeviceEventsNameType,
)
from cim_models.generated.end_device_events import (
    NameTypeAuthority as EndDeviceEventsNameTypeAuthority,
)
from cim_models.generated.end_device_events import (
    Status as Status,
)
from cim_models.generated.end_device_events import (
    UsagePoint as EventsUsagePoint,
)
from cim_models.generated.end_device_events_message import (
    CanceledEndDeviceEvents,
    CancelEndDeviceEvents,
    ChangedEndDeviceEvents,
    ChangeEndDeviceEvents,
    ClosedEndDeviceEvents,
    CloseEndDeviceEvents,
    CreatedEndDeviceEvents,
    CreateEndDeviceEvents,
    DeletedEndDeviceEvents,
    DeleteEndDeviceEvents,
    EndDeviceEventsEventMessageType,
    EndDeviceEventsRequestMessageType,
)
from cim_models.generated.end_device_events_message import (
    EndDeviceEventsFaultMessage as EndDeviceEventsFaultMessage,
)
from cim_models.generated.end_device_events_message import (
    EndDeviceEventsFaultMessageType as EndDeviceEventsFaultMessageType,
)
from cim_models.generated.end_device_events_message import (
    EndDeviceEventsPayloadType as EndDeviceEventsPayloadType,
)
from cim_models.generated.end_device_events_message import (
    EndDeviceEventsResponseMessage as EndDeviceEventsResponseMessage,
)
from cim_models.generated.end_device_events_message import (
    EndDeviceEventsResponseMessageType as EndDeviceEventsResponseMessageType,
)
from cim_models.generated.get_end_device_events import (
    Asset as GetAsset,
)
from cim_models.generated.get_end_device_events import (
    Customer,
    ServiceCategory,
    ServiceKind,
)
from cim_models.generated.get_end_device_events import (
    DateTimeInterval as GetEventsDateTimeInterval,
)
from cim_models.generated.get_end_device_events import (
    EndDeviceEvent as GetEndDeviceEvent,
)
from cim_models.generated.get_end_device_events import (
    EndDeviceEventDetail as GetEndDeviceEventDetail,
)
from cim_models.generated.get_end_device_events import (
    EndDeviceEventType as GetEndDeviceEventType,
)
from cim_models.generated.get_end_device_events import (
    EndDeviceGroup as GetEventsEndDeviceGroup,
)
from cim_models.generated.get_end_device_events import (
    GetEndDeviceEvents as GetEndDeviceEvents,
)
from cim_models.generated.get_end_device_events import (
    Meter as EndDeviceEventsMeter,
)
from cim_models.generated.get_end_device_events import (
    Name as GetName,
)
from cim_models.generated.get_end_device_events import (
    NameType as GetNameType,
)
from cim_models.generated.get_end_device_events import (
    NameTypeAuthority as GetNameTypeAuthority,
)
from cim_models.generated.get_end_device_events import (
    Status as GetStatus,
)
from cim_models.generated.get_end_device_events import (
    TimeSchedule as EndDeviceEventsTimeSchedule,
)
from cim_models.generated.get_end_device_events import (
    UsagePoint as GetUsagePoint,
)
from cim_models.generated.get_end_device_events_message import (
    EndDeviceEventsFaultMessage as GetEndDeviceEventsFaultMessage,
)
from cim_models.generated.get_end_device_events_message import (
    EndDeviceEventsFaultMessageType as GetEndDeviceEventsFaultMessageType,
)
from cim_models.generated.get_end_device_events_message import (
    EndDeviceEventsPayloadType as GetEndDeviceEventsPayloadType,
)
from cim_models.generated.get_end_device_events_message import (
    EndDeviceEventsResponseMessage as GetEndDeviceEventsResponseMessage,
)
from cim_models.generated.get_end_device_events_message import (
    EndDeviceEventsResponseMessageType as GetEndDeviceEventsResponseMessageType,
)
from cim_models.generated.get_end_device_events_message import (
    GetEndDeviceEvents as MessageGetEndDeviceEvents,
)
from cim_models.generated.get_end_device_events_message import (
    GetEndDeviceEventsRequestMessageType,
    GetEndDeviceEventsRequestType,
)
from cim_models.generated.get_meter_readings import (
    CoincidentReading,
    TransformerTank,
)
from cim_models.generated.get_meter_readings import (
    DateTimeInterval as MeterReadingsDateTimeInterval,
)
from cim_models.generated.get_meter_readings import (
    EndDevice as GetMeterReadingsEndDevice,
)
from cim_models.generated.get_meter_readings import (
    EndDeviceEvent as MeterReadingsEndDeviceEvent,
)
from cim_models.generated.get_meter_readings import (
    EndDeviceEventType as MeterReadingsEndDeviceEventType,
)
from cim_models.generated.get_meter_readings import (
    EndDeviceGroup as MeterReadingsEndDeviceGroup,
)
from cim_models.generated.get_meter_readings import (
    GetMeterReadings as GetMeterReadings,
)
from cim_models.generated.get_meter_readings import (
    Meter as MeterReadingsMeter,
)
from cim_models.generated.get_meter_readings import (
    MeterReadings as GetMeterReadings,
)
from cim_models.generated.get_meter_readings import (
    Name as MeterReadingsName,
)
from cim_models.generated.get_meter_readings import (
    NameType as MeterReadingsNameType,
)
from cim_models.generated.get_meter_readings import (
    NameTypeAuthority as MeterReadingsNameTypeAuthority,
)
from cim_models.generated.get_meter_readings import (
    Reading as GetReading,
)
from cim_models.generated.get_meter_readings import (
    ReadingQuality as GetReadingQuality,
)
from cim_models.generated.get_meter_readings import (
    ReadingQualityType as GetReadingQualityType,
)
from cim_models.generated.get_meter_readings import (
    ReadingReasonKind as GetReadingReasonKind,
)
from cim_models.generated.get_meter_readings import (
    ReadingType as GetReadingType,
)
from cim_models.generated.get_meter_readings import (
    TimeSchedule as MeterReadingsTimeSchedule,
)
from cim_models.generated.get_meter_readings import (
    UsagePoint as MeterReadingsUsagePoint,
)
from cim_models.generated.get_meter_readings import (
    UsagePointGroup as GetMeterReadingsUsagePointGroup,
)
from cim_models.generated.get_meter_readings_message import (
    GetMeterReadings as MessageGetMeterReadings,
)
from cim_models.generated.get_meter_readings_message import (
    GetMeterReadingsRequestMessageType,
    GetMeterReadingsRequestType,
)
from cim_models.generated.get_meter_readings_message import (
    MeterReadingsFaultMessage as GetMeterReadingsFaultMessage,
)
from cim_models.generated.get_meter_readings_message import (
    MeterReadingsFaultMessageType as GetMeterReadingsFaultMessageType,
)
from cim_models.generated.get_meter_readings_message import (
    MeterReadingsPayloadType as GetMeterReadingsPayloadType,
)
from cim_models.generated.get_meter_readings_message import (
    MeterReadingsResponseMessage as GetMeterReadingsResponseMessage,
)
from cim_models.generated.get_meter_readings_message import (
    MeterReadingsResponseMessageType as GetMeterReadingsResponseMessageType,
)
from cim_models.generated.message import (
    ErrorType,
    EventMessage,
    EventMessageType,
    FaultMessage,
    FaultMessageType,
    HeaderType,
    IdkindType,
    Idtype,
    LevelType,
    LocationType,
    Message,
    MessageProperty,
    MessageType,
    ObjectType,
    OperationSet,
    OperationType,
    OptionType,
    PayloadType,
    ReplayDetectionType,
    ReplyType,
    RequestMessage,
    RequestMessageType,
    RequestType,
    ResponseMessage,
    ResponseMessageType,
    ResultType,
    UserType,
    VerbType,
)
from cim_models.generated.message import (
    Name as MessageName,
)
from cim_models.generated.message import (
    NameType as MessageNameType,
)
from cim_models.generated.message import (
    NameTypeAuthority as MessageNameTypeAuthority,
)
from cim_models.generated.meter_readings import (
    Asset as MeterReadingsAsset,
)
from cim_models.generated.meter_readings import (
    DateTimeInterval as DateTimeInterval,
)
from cim_models.generated.meter_readings import (
    EndDeviceEvent as EndDeviceEvent,
)
from cim_models.generated.meter_readings import (
    EndDeviceEventDetail as MeterReadingsEndDeviceEventDetail,
)
from cim_models.generated.meter_readings import (
    EndDeviceEventType as EndDeviceEventType,
)
from cim_models.generated.meter_readings import (
    IntervalBlock,
    IntervalReading,
    MeterReading,
    PendingCalculation,
    RationalNumber,
    ReadingInterharmonic,
)
from cim_models.generated.meter_readings import (
    Meter as Meter,
)
from cim_models.generated.meter_readings import (
    MeterReadings as MeterReadings,
)
from cim_models.generated.meter_readings import (
    Name as Name,
)
from cim_models.generated.meter_readings import (
    NameType as NameType,
)
from cim_models.generated.meter_readings import (
    NameTypeAuthority as NameTypeAuthority,
)
from cim_models.generated.meter_readings import (
    Reading as Reading,
)
from cim_models.generated.meter_readings import (
    ReadingQuality as ReadingQuality,
)
from cim_models.generated.meter_readings import (
    ReadingQualityType as ReadingQualityType,
)
from cim_models.generated.meter_readings import (
    ReadingReasonKind as ReadingReasonKind,
)
from cim_models.generated.meter_readings import (
    ReadingType as ReadingType,
)
from cim_models.generated.meter_readings import (
    Status as MeterReadingsStatus,
)
from cim_models.generated.meter_readings import (
    UsagePoint as UsagePoint,
)
from cim_models.generated.meter_readings_message import (
    CanceledMeterReadings,
    CancelMeterReadings,
    ChangedMeterReadings,
    ChangeMeterReadings,
    ClosedMeterReadings,
    CloseMeterReadings,
    CreatedMeterReadings,
    CreateMeterReadings,
    DeletedMeterReadings,
    DeleteMeterReadings,
    MeterReadingsEventMessageType,
    MeterReadingsRequestMessageType,
)
from cim_models.generated.meter_readings_message import (
    MeterReadingsFaultMessage as MeterReadingsFaultMessage,
)
from cim_models.generated.meter_readings_message import (
    MeterReadingsFaultMessageType as MeterReadingsFaultMessageType,
)
from cim_models.generated.meter_readings_message import (
    MeterReadingsPayloadType as MeterReadingsPayloadType,
)
from cim_models.generated.meter_readings_message import (
    MeterReadingsResponseMessage as MeterReadingsResponseMessage,
)
from cim_models.generated.meter_readings_message import (
    MeterReadingsResponseMessageType as MeterReadingsResponseMessageType,
)
from cim_models.generated.outage_records import (
    Crew,
    ErtconfidenceKind,
    EstimatedRestorationTime,
    Incident,
    OutageCauseKind,
    OutageMagnitudeKind,
    OutageRecord,
    OutageRecords,
    OutageStatusKind,
    PlannedOutage,
    TelephoneNumber,
    TroubleOrder,
    TroubleOrderStatusKind,
    UnplannedOutage,
    WorkOrder,
)
from cim_models.generated.outage_records import (
    DateTimeInterval as OutageRecordsDateTimeInterval,
)
from cim_models.generated.outage_records import (
    Name as OutageRecordsName,
)
from cim_models.generated.outage_records import (
    NameType as OutageRecordsNameType,
)
from cim_models.generated.outage_records import (
    NameTypeAuthority as OutageRecordsNameTypeAuthority,
)
from cim_models.generated.outage_records import (
    UsagePoint as OutageRecordsUsagePoint,
)
from cim_models.generated.outage_records_message import (
    CanceledOutageRecords,
    CancelOutageRecords,
    ChangedOutageRecords,
    ChangeOutageRecords,
    ClosedOutageRecords,
    CloseOutageRecords,
    CreatedOutageRecords,
    CreateOutageRecords,
    DeletedOutageRecords,
    DeleteOutageRecords,
    OutageRecordsEventMessageType,
    OutageRecordsFaultMessage,
    OutageRecordsFaultMessageType,
    OutageRecordsPayloadType,
    OutageRecordsRequestMessageType,
    OutageRecordsResponseMessage,
    OutageRecordsResponseMessageType,
)

__all__ = [
    "ControlledAppliance",
    "ControlsDateTimeInterval",
    "ElectronicAddress",
    "EndDeviceControlsEndDevice",
    "EndDeviceControl",
    "EndDeviceControlType",
    "EndDeviceControls",
    "ControlsEndDeviceGroup",
    "EndDeviceTiming",
    "EndDeviceControlsName",
    "EndDeviceControlsNameType",
    "EndDeviceControlsNameTypeAuthority",
    "PanDemandResponse",
    "PanDisplay",
    "PanPricing",
    "PanPricingDetail",
    "RandomisationKind",
    "TransmissionModeKind",
    "ControlsUsagePoint",
    "EndDeviceControlsUsagePointGroup",
    "CancelEndDeviceControls",
    "CanceledEndDeviceControls",
    "ChangeEndDeviceControls",
    "ChangedEndDeviceControls",
    "CloseEndDeviceControls",
    "ClosedEndDeviceControls",
    "CreateEndDeviceControls",
    "CreatedEndDeviceControls",
    "DeleteEndDeviceControls",
    "DeletedEndDeviceControls",
    "EndDeviceControlsEventMessageType",
    "EndDeviceControlsFaultMessage",
    "EndDeviceControlsFaultMessageType",
    "EndDeviceControlsPayloadType",
    "EndDeviceControlsRequestMessageType",
    "EndDeviceControlsResponseMessage",
    "EndDeviceControlsResponseMessageType",
    "Asset",
    "EndDeviceEvent",
    "EndDeviceEventDetail",
    "EndDeviceEventType",
    "EndDeviceEvents",
    "EndDeviceEventsName",
    "EndDeviceEventsNameType",
    "EndDeviceEventsNameTypeAuthority",
    "Status",
    "EventsUsagePoint",
    "CancelEndDeviceEvents",
    "CanceledEndDeviceEvents",
    "ChangeEndDeviceEvents",
    "ChangedEndDeviceEvents",
    "CloseEndDeviceEvents",
    "ClosedEndDeviceEvents",
    "CreateEndDeviceEvents",
    "CreatedEndDeviceEvents",
    "DeleteEndDeviceEvents",
    "DeletedEndDeviceEvents",
    "EndDeviceEventsEventMessageType",
    "EndDeviceEventsFaultMessage",
    "EndDeviceEventsFaultMessageType",
    "EndDeviceEventsPayloadType",
    "EndDeviceEventsRequestMessageType",
    "EndDeviceEventsResponseMessage",
    "EndDeviceEventsResponseMessageType",
    "GetAsset",
    "Customer",
    "GetEventsDateTimeInterval",
    "GetEndDeviceEvent",
    "GetEndDeviceEventDetail",
    "GetEndDeviceEventType",
    "GetEventsEndDeviceGroup",
    "GetEndDeviceEvents",
    "EndDeviceEventsMeter",
    "GetName",
    "GetNameType",
    "GetNameTypeAuthority",
    "ServiceCategory",
    "ServiceKind",
    "GetStatus",
    "EndDeviceEventsTimeSchedule",
    "GetUsagePoint",
    "GetEndDeviceEventsFaultMessage",
    "GetEndDeviceEventsFaultMessageType",
    "GetEndDeviceEventsPayloadType",
    "GetEndDeviceEventsResponseMessage",
    "GetEndDeviceEventsResponseMessageType",
    "MessageGetEndDeviceEvents",
    "GetEndDeviceEventsRequestMessageType",
    "GetEndDeviceEventsRequestType",
    "CoincidentReading",
    "MeterReadingsDateTimeInterval",
    "GetMeterReadingsEndDevice",
    "MeterReadingsEndDeviceEvent",
    "MeterReadingsEndDeviceEventType",
    "MeterReadingsEndDeviceGroup",
    "GetMeterReadings",
    "MeterReadingsMeter",
    "GetMeterReadings",
    "MeterReadingsName",
    "MeterReadingsNameType",
    "MeterReadingsNameTypeAuthority",
    "GetReading",
    "GetReadingQuality",
    "GetReadingQualityType",
    "GetReadingReasonKind",
    "GetReadingType",
    "MeterReadingsTimeSchedule",
    "TransformerTank",
    "MeterReadingsUsagePoint",
    "GetMeterReadingsUsagePointGroup",
    "MessageGetMeterReadings",
    "GetMeterReadingsRequestMessageType",
    "GetMeterReadingsRequestType",
    "GetMeterReadingsFaultMessage",
    "GetMeterReadingsFaultMessageType",
    "GetMeterReadingsPayloadType",
    "GetMeterReadingsResponseMessage",
    "GetMeterReadingsResponseMessageType",
    "ErrorType",
    "EventMessage",
    "EventMessageType",
    "FaultMessage",
    "FaultMessageType",
    "HeaderType",
    "IdkindType",
    "Idtype",
    "LevelType",
    "LocationType",
    "Message",
    "MessageProperty",
    "MessageType",
    "MessageName",
    "MessageNameType",
    "MessageNameTypeAuthority",
    "ObjectType",
    "OperationSet",
    "OperationType",
    "OptionType",
    "PayloadType",
    "ReplayDetectionType",
    "ReplyType",
    "RequestMessage",
    "RequestMessageType",
    "RequestType",
    "ResponseMessage",
    "ResponseMessageType",
    "ResultType",
    "UserType",
    "VerbType",
    "MeterReadingsAsset",
    "DateTimeInterval",
    "EndDeviceEvent",
    "MeterReadingsEndDeviceEventDetail",
    "EndDeviceEventType",
    "IntervalBlock",
    "IntervalReading",
    "Meter",
    "MeterReading",
    "MeterReadings",
    "Name",
    "NameType",
    "NameTypeAuthority",
    "PendingCalculation",
    "RationalNumber",
    "Reading",
    "ReadingInterharmonic",
    "ReadingQuality",
    "ReadingQualityType",
    "ReadingReasonKind",
    "ReadingType",
    "MeterReadingsStatus",
    "UsagePoint",
    "CancelMeterReadings",
    "CanceledMeterReadings",
    "ChangeMeterReadings",
    "ChangedMeterReadings",
    "CloseMeterReadings",
    "ClosedMeterReadings",
    "CreateMeterReadings",
    "CreatedMeterReadings",
    "DeleteMeterReadings",
    "DeletedMeterReadings",
    "MeterReadingsEventMessageType",
    "MeterReadingsFaultMessage",
    "MeterReadingsFaultMessageType",
    "MeterReadingsPayloadType",
    "MeterReadingsRequestMessageType",
    "MeterReadingsResponseMessage",
    "MeterReadingsResponseMessageType",
    "Crew",
    "OutageRecordsDateTimeInterval",
    "ErtconfidenceKind",
    "EstimatedRestorationTime",
    "Incident",
    "OutageRecordsName",
    "OutageRecordsNameType",
    "OutageRecordsNameTypeAuthority",
    "OutageCauseKind",
    "OutageMagnitudeKind",
    "OutageRecord",
    "OutageRecords",
    "OutageStatusKind",
    "PlannedOutage",
    "TelephoneNumber",
    "TroubleOrder",
    "TroubleOrderStatusKind",
    "UnplannedOutage",
    "OutageRecordsUsagePoint",
    "WorkOrder",
    "CancelOutageRecords",
    "CanceledOutageRecords",
    "ChangeOutageRecords",
    "ChangedOutageRecords",
    "CloseOutageRecords",
    "ClosedOutageRecords",
    "CreateOutageRecords",
    "CreatedOutageRecords",
    "DeleteOutageRecords",
    "DeletedOutageRecords",
    "OutageRecordsEventMessageType",
    "OutageRecordsFaultMessage",
    "OutageRecordsFaultMessageType",
    "OutageRecordsPayloadType",
    "OutageRecordsRequestMessageType",
    "OutageRecordsResponseMessage",
    "OutageRecordsResponseMessageType",
]
