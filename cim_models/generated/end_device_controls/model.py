from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from xsdata.models.datatype import XmlDateTime

__NAMESPACE__ = "http://iec.ch/TC57/2011/EndDeviceControls#"


@dataclass(kw_only=True)
class ControlledAppliance:
    """
    Kinds of appliance a PAN demand-response event applies to (true = included).
    """

    is_electric_vehicle: None | bool = field(
        default=None,
        metadata={
            "name": "isElectricVehicle",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    is_exterior_lighting: None | bool = field(
        default=None,
        metadata={
            "name": "isExteriorLighting",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    is_generation_system: None | bool = field(
        default=None,
        metadata={
            "name": "isGenerationSystem",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    is_hvac_compressor_or_furnace: None | bool = field(
        default=None,
        metadata={
            "name": "isHvacCompressorOrFurnace",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    is_interior_lighting: None | bool = field(
        default=None,
        metadata={
            "name": "isInteriorLighting",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    is_irrigation_pump: None | bool = field(
        default=None,
        metadata={
            "name": "isIrrigationPump",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    is_managed_commercial_industrial_load: None | bool = field(
        default=None,
        metadata={
            "name": "isManagedCommercialIndustrialLoad",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    is_pool_pump_spa_jacuzzi: None | bool = field(
        default=None,
        metadata={
            "name": "isPoolPumpSpaJacuzzi",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    is_simple_misc_load: None | bool = field(
        default=None,
        metadata={
            "name": "isSimpleMiscLoad",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    is_smart_appliance: None | bool = field(
        default=None,
        metadata={
            "name": "isSmartAppliance",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    is_strip_and_baseboard_heater: None | bool = field(
        default=None,
        metadata={
            "name": "isStripAndBaseboardHeater",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    is_water_heater: None | bool = field(
        default=None,
        metadata={
            "name": "isWaterHeater",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class DateTimeInterval:
    end: None | XmlDateTime = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    start: None | XmlDateTime = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class ElectronicAddress:
    email1: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    email2: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    lan: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    mac: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    password: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    radio: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    user_id: None | str = field(
        default=None,
        metadata={
            "name": "userID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    web: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class NameTypeAuthority:
    description: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        }
    )


@dataclass(kw_only=True)
class PanPricingDetail:
    alternate_cost_delivered: None | float = field(
        default=None,
        metadata={
            "name": "alternateCostDelivered",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    alternate_cost_unit: None | str = field(
        default=None,
        metadata={
            "name": "alternateCostUnit",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    current_time_date: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "currentTimeDate",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    generation_price: None | Decimal = field(
        default=None,
        metadata={
            "name": "generationPrice",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    generation_price_ratio: None | float = field(
        default=None,
        metadata={
            "name": "generationPriceRatio",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    price: None | Decimal = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    price_ratio: None | float = field(
        default=None,
        metadata={
            "name": "priceRatio",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    price_tier: None | int = field(
        default=None,
        metadata={
            "name": "priceTier",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    price_tier_count: None | int = field(
        default=None,
        metadata={
            "name": "priceTierCount",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    price_tier_label: None | str = field(
        default=None,
        metadata={
            "name": "priceTierLabel",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    rate_label: None | str = field(
        default=None,
        metadata={
            "name": "rateLabel",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    register_tier: None | str = field(
        default=None,
        metadata={
            "name": "registerTier",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    unit_of_measure: None | str = field(
        default=None,
        metadata={
            "name": "unitOfMeasure",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


class RandomisationKind(Enum):
    """
    Whether the device spreads the start and/or end of the control over a random delay.
    """

    DEFAULT = "default"
    END = "end"
    NONE = "none"
    START = "start"
    START_AND_END = "startAndEnd"


class TransmissionModeKind(Enum):
    ANONYMOUS = "anonymous"
    BOTH = "both"
    NORMAL = "normal"


@dataclass(kw_only=True)
class EndDeviceTiming:
    duration: None | float = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    duration_indefinite: None | bool = field(
        default=None,
        metadata={
            "name": "durationIndefinite",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    randomisation: None | RandomisationKind = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    interval: None | DateTimeInterval = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class NameType:
    description: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        }
    )
    name_type_authority: None | NameTypeAuthority = field(
        default=None,
        metadata={
            "name": "NameTypeAuthority",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class PanDemandResponse:
    avg_load_adjustment: None | float = field(
        default=None,
        metadata={
            "name": "avgLoadAdjustment",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    cancel_control_mode: None | str = field(
        default=None,
        metadata={
            "name": "cancelControlMode",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    cancel_date_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "cancelDateTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    cancel_now: None | bool = field(
        default=None,
        metadata={
            "name": "cancelNow",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    command: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    cooling_offset: None | float = field(
        default=None,
        metadata={
            "name": "coolingOffset",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    cooling_setpoint: None | float = field(
        default=None,
        metadata={
            "name": "coolingSetpoint",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    criticality_level: None | str = field(
        default=None,
        metadata={
            "name": "criticalityLevel",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    duration: None | float = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    duration_indefinite: None | bool = field(
        default=None,
        metadata={
            "name": "durationIndefinite",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    duty_cycle: None | float = field(
        default=None,
        metadata={
            "name": "dutyCycle",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    enrollment_group: None | str = field(
        default=None,
        metadata={
            "name": "enrollmentGroup",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    heating_offset: None | float = field(
        default=None,
        metadata={
            "name": "heatingOffset",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    heating_setpoint: None | float = field(
        default=None,
        metadata={
            "name": "heatingSetpoint",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    start_date_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "startDateTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    appliance: None | ControlledAppliance = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class PanDisplay:
    command: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    confirmation_required: None | bool = field(
        default=None,
        metadata={
            "name": "confirmationRequired",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    duration: None | float = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    duration_indefinite: None | bool = field(
        default=None,
        metadata={
            "name": "durationIndefinite",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    priority: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    start_date_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "startDateTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    text_message: None | str = field(
        default=None,
        metadata={
            "name": "textMessage",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    transmission_mode: None | TransmissionModeKind = field(
        default=None,
        metadata={
            "name": "transmissionMode",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class PanPricing:
    command: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    duration: None | float = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    duration_indefinite: None | bool = field(
        default=None,
        metadata={
            "name": "durationIndefinite",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    provider_id: None | int = field(
        default=None,
        metadata={
            "name": "providerID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    start_date_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "startDateTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    pan_pricing_details: list[PanPricingDetail] = field(
        default_factory=list,
        metadata={
            "name": "PanPricingDetails",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class Name:
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        }
    )
    name_type: None | NameType = field(
        default=None,
        metadata={
            "name": "NameType",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class EndDevice:
    """
    :ivar m_rid:
    :ivar install_code:
    :ivar is_pan: True for a device on the premises area network (e.g. an in-home display).
    :ivar electronic_address:
    :ivar names:
    """

    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    install_code: None | str = field(
        default=None,
        metadata={
            "name": "installCode",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    is_pan: None | bool = field(
        default=None,
        metadata={
            "name": "isPan",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    electronic_address: None | ElectronicAddress = field(
        default=None,
        metadata={
            "name": "electronicAddress",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class EndDeviceControlType:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    domain: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    event_or_action: None | str = field(
        default=None,
        metadata={
            "name": "eventOrAction",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    sub_domain: None | str = field(
        default=None,
        metadata={
            "name": "subDomain",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    type_value: None | str = field(
        default=None,
        metadata={
            "name": "type",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
            "min_occurs": 1,
        },
    )


@dataclass(kw_only=True)
class EndDeviceGroup:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class UsagePoint:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class UsagePointGroup:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )


@dataclass(kw_only=True)
class EndDeviceControl:
    """
    :ivar m_rid: Identifies the command; repeats with the same mRID are not executed twice.
    :ivar dr_program_level:
    :ivar dr_program_mandatory:
    :ivar issuer_id:
    :ivar issuer_tracking_id:
    :ivar price_signal:
    :ivar reason:
    :ivar pan_demand_response:
    :ivar pan_display: A text message for an in-home display.
    :ivar pan_pricing:
    :ivar end_device_control_type: Control code, type.domain.subDomain.eventOrAction (e.g.
        3.31.0.23), in ref.
    :ivar end_device_groups:
    :ivar end_devices:
    :ivar primary_device_timing: When the control takes effect (interval.start = scheduled
        time).
    :ivar secondary_device_timing:
    :ivar usage_point_groups:
    :ivar usage_points:
    """

    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    dr_program_level: None | int = field(
        default=None,
        metadata={
            "name": "drProgramLevel",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    dr_program_mandatory: None | bool = field(
        default=None,
        metadata={
            "name": "drProgramMandatory",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    issuer_id: None | str = field(
        default=None,
        metadata={
            "name": "issuerID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    issuer_tracking_id: None | str = field(
        default=None,
        metadata={
            "name": "issuerTrackingID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    price_signal: None | float = field(
        default=None,
        metadata={
            "name": "priceSignal",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    reason: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    pan_demand_response: None | PanDemandResponse = field(
        default=None,
        metadata={
            "name": "PanDemandResponse",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    pan_display: None | PanDisplay = field(
        default=None,
        metadata={
            "name": "PanDisplay",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    pan_pricing: None | PanPricing = field(
        default=None,
        metadata={
            "name": "PanPricing",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    end_device_control_type: EndDeviceControl.EndDeviceControlType = field(
        metadata={
            "name": "EndDeviceControlType",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        }
    )
    end_device_groups: list[EndDeviceGroup] = field(
        default_factory=list,
        metadata={
            "name": "EndDeviceGroups",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    end_devices: list[EndDevice] = field(
        default_factory=list,
        metadata={
            "name": "EndDevices",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    primary_device_timing: None | EndDeviceTiming = field(
        default=None,
        metadata={
            "name": "primaryDeviceTiming",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    secondary_device_timing: None | EndDeviceTiming = field(
        default=None,
        metadata={
            "name": "secondaryDeviceTiming",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    usage_point_groups: list[UsagePointGroup] = field(
        default_factory=list,
        metadata={
            "name": "UsagePointGroups",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )
    usage_points: list[UsagePoint] = field(
        default_factory=list,
        metadata={
            "name": "UsagePoints",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceControls#",
        },
    )

    @dataclass(kw_only=True)
    class EndDeviceControlType:
        ref: None | str = field(
            default=None,
            metadata={
                "type": "Attribute",
            },
        )


@dataclass(kw_only=True)
class EndDeviceControls:
    """
    :ivar end_device_control:
    :ivar end_device_control_type: Optional dictionary: full descriptions of the control
        codes used above.
    """

    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceControls#"

    end_device_control: list[EndDeviceControl] = field(
        default_factory=list,
        metadata={
            "name": "EndDeviceControl",
            "type": "Element",
        },
    )
    end_device_control_type: list[EndDeviceControlType] = field(
        default_factory=list,
        metadata={
            "name": "EndDeviceControlType",
            "type": "Element",
        },
    )
