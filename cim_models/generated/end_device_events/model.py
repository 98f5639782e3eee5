from __future__ import annotations

from dataclasses import dataclass, field

from xsdata.models.datatype import XmlDateTime

__NAMESPACE__ = "http://iec.ch/TC57/2011/EndDeviceEvents#"


@dataclass(kw_only=True)
class EndDeviceEventDetail:
    """
    A free name/value pair carrying event data (e.g. switch status).
    """

    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        }
    )
    value: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class NameTypeAuthority:
    description: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        }
    )


@dataclass(kw_only=True)
class Status:
    date_time: None | XmlDateTime = field(
        default=None,
        metadata={
            "name": "dateTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    reason: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    remark: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    value: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class NameType:
    description: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        }
    )
    name_type_authority: None | NameTypeAuthority = field(
        default=None,
        metadata={
            "name": "NameTypeAuthority",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class Name:
    name: str = field(
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        }
    )
    name_type: None | NameType = field(
        default=None,
        metadata={
            "name": "NameType",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class Asset:
    """
    The device (meter, communication module, ...) that reported the event.
    """

    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class EndDeviceEventType:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    domain: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    event_or_action: None | str = field(
        default=None,
        metadata={
            "name": "eventOrAction",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    sub_domain: None | str = field(
        default=None,
        metadata={
            "name": "subDomain",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    type_value: None | str = field(
        default=None,
        metadata={
            "name": "type",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
            "min_occurs": 1,
        },
    )


@dataclass(kw_only=True)
class UsagePoint:
    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )


@dataclass(kw_only=True)
class EndDeviceEvent:
    """
    :ivar m_rid:
    :ivar created_date_time: When the event happened at the device.
    :ivar issuer_id:
    :ivar issuer_tracking_id: The issuer's own reference, e.g. the mRID of the control being
        acknowledged.
    :ivar reason:
    :ivar severity:
    :ivar user_id:
    :ivar assets:
    :ivar end_device_event_details:
    :ivar end_device_event_type: Event code in ref, e.g. 3.26.0.85 power failure, 3.31.0.68
        disconnected.
    :ivar names:
    :ivar status:
    :ivar usage_point:
    """

    m_rid: None | str = field(
        default=None,
        metadata={
            "name": "mRID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    created_date_time: XmlDateTime = field(
        metadata={
            "name": "createdDateTime",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        }
    )
    issuer_id: None | str = field(
        default=None,
        metadata={
            "name": "issuerID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    issuer_tracking_id: None | str = field(
        default=None,
        metadata={
            "name": "issuerTrackingID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    reason: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    severity: None | str = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    user_id: None | str = field(
        default=None,
        metadata={
            "name": "userID",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    assets: None | Asset = field(
        default=None,
        metadata={
            "name": "Assets",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    end_device_event_details: list[EndDeviceEventDetail] = field(
        default_factory=list,
        metadata={
            "name": "EndDeviceEventDetails",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    end_device_event_type: EndDeviceEvent.EndDeviceEventType = field(
        metadata={
            "name": "EndDeviceEventType",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        }
    )
    names: list[Name] = field(
        default_factory=list,
        metadata={
            "name": "Names",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    status: None | Status = field(
        default=None,
        metadata={
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )
    usage_point: None | UsagePoint = field(
        default=None,
        metadata={
            "name": "UsagePoint",
            "type": "Element",
            "namespace": "http://iec.ch/TC57/2011/EndDeviceEvents#",
        },
    )

    @dataclass(kw_only=True)
    class EndDeviceEventType:
        ref: None | str = field(
            default=None,
            metadata={
                "type": "Attribute",
            },
        )


@dataclass(kw_only=True)
class EndDeviceEvents:
    """
    :ivar end_device_event:
    :ivar end_device_event_type: Optional dictionary: full descriptions of the event codes
        used above.
    """

    class Meta:
        namespace = "http://iec.ch/TC57/2011/EndDeviceEvents#"

    end_device_event: list[EndDeviceEvent] = field(
        default_factory=list,
        metadata={
            "name": "EndDeviceEvent",
            "type": "Element",
        },
    )
    end_device_event_type: list[EndDeviceEventType] = field(
        default_factory=list,
        metadata={
            "name": "EndDeviceEventType",
            "type": "Element",
        },
    )
