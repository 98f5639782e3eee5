"""BUS-4: one SOAP service per IEC 61968-100 role and noun, derived from the noun profiles."""

from __future__ import annotations

import pytest

from cim_models import namespaces as ns
from endpoints.soap.services import (
    operation_from_action,
    service_for_message,
    services,
    xsd_files,
)


def test_every_profile_gets_its_services() -> None:
    names = set(services())
    for noun, profile in ns.PROFILES.items():
        for role in ("Execute", "Receive", "Send", "Reply"):
            assert f"{role}{noun}" in names
        assert (f"Get{noun}" in names) == bool(profile.get_wrapper_ns)
    assert {"GetMeterReadings", "GetEndDeviceEvents"} <= names
    assert "GetEndDeviceControls" not in names  # no Get profile for EndDeviceControls


def test_execute_operations_take_the_request_elements() -> None:
    s = services()["ExecuteEndDeviceControls"]
    wrapper = "http://iec.ch/TC57/2011/EndDeviceControlsMessage"
    assert s.operation_names == [
        "CreateEndDeviceControls",
        "ChangeEndDeviceControls",
        "CancelEndDeviceControls",
        "CloseEndDeviceControls",
        "DeleteEndDeviceControls",
    ]
    op = s.operation("CancelEndDeviceControls")
    assert op.input == f"{{{wrapper}}}CancelEndDeviceControls"
    assert op.output == f"{{{wrapper}}}EndDeviceControlsResponseMessage"
    assert op.fault == f"{{{wrapper}}}EndDeviceControlsFaultMessage"
    assert op.verb == "cancel"
    assert op.soap_action == "http://iec.ch/TC57/2011/EndDeviceControls/CancelEndDeviceControls"
    assert (s.port_type, s.binding) == ("EndDeviceControls_Port", "EndDeviceControls_Binding")
    assert s.target_namespace == "http://iec.ch/TC57/2011/ExecuteEndDeviceControls"


def test_get_service_lives_in_the_get_wrapper_namespace() -> None:
    s = services()["GetMeterReadings"]
    get_ns = "http://iec.ch/TC57/2011/GetMeterReadingsMessage"
    (op,) = s.operations
    assert op.input == f"{{{get_ns}}}GetMeterReadings"
    assert op.output == f"{{{get_ns}}}MeterReadingsResponseMessage"
    assert op.fault == f"{{{get_ns}}}MeterReadingsFaultMessage"
    assert op.soap_action == "http://iec.ch/TC57/2011/MeterReadings/GetMeterReadings"
    assert s.xsd == "GetMeterReadingsMessage.xsd"


@pytest.mark.parametrize("role", ["Receive", "Send", "Reply"])
def test_event_services(role: str) -> None:
    s = services()[f"{role}EndDeviceEvents"]
    events = [
        f"{p}EndDeviceEvents" for p in ("Created", "Changed", "Canceled", "Closed", "Deleted")
    ]
    assert s.operation_names[:5] == events
    assert [op.verb for op in s.operations[:5]] == [
        "created",
        "changed",
        "canceled",
        "closed",
        "deleted",
    ]
    if role == "Reply":  # async replies (ResponseMessage) come back through the Reply service
        op = s.operation("ReplyEndDeviceEvents")
        assert op.input_local == "EndDeviceEventsResponseMessage"
        assert op.verb == "reply"
    else:
        assert len(s.operations) == 5


def test_cimbus_profiles_keep_their_own_namespace_but_the_one_soap_action_rule() -> None:
    s = services()["ExecuteOutageRecords"]
    assert s.target_namespace == "urn:cimbus:2026:ExecuteOutageRecords"
    assert s.namespace == "urn:cimbus:2026:OutageRecordsMessage"
    assert (
        s.operation("CreateOutageRecords").soap_action
        == "http://iec.ch/TC57/2011/OutageRecords/CreateOutageRecords"
    )


def test_every_service_imports_a_shipped_xsd() -> None:
    files = xsd_files()
    for s in services().values():
        assert s.xsd in files


@pytest.mark.parametrize(
    ("action", "operation"),
    [
        ("http://iec.ch/TC57/2011/MeterReadings/GetMeterReadings", "GetMeterReadings"),
        ('"http://iec.ch/TC57/2011/GetMeterReadings/GetMeterReadings"', "GetMeterReadings"),
        ("CreateEndDeviceControls", "CreateEndDeviceControls"),
        ("urn:x:EndDeviceControls/ChangeEndDeviceControls/", "ChangeEndDeviceControls"),
    ],
)
def test_operation_from_action(action: str, operation: str) -> None:
    assert operation_from_action(action) == operation


@pytest.mark.parametrize(
    ("element", "noun", "verb", "service", "operation"),
    [
        (
            "CreateEndDeviceControls",
            None,
            None,
            "ExecuteEndDeviceControls",
            "CreateEndDeviceControls",
        ),
        ("CreatedEndDeviceEvents", None, None, "ReceiveEndDeviceEvents", "CreatedEndDeviceEvents"),
        ("GetMeterReadings", None, None, "GetMeterReadings", "GetMeterReadings"),
        ("MeterReadingsResponseMessage", None, None, "ReplyMeterReadings", "ReplyMeterReadings"),
        (
            "RequestMessage",
            "EndDeviceControls",
            "cancel",
            "ExecuteEndDeviceControls",
            "CancelEndDeviceControls",
        ),
        ("EventMessage", "OutageRecords", "closed", "ReceiveOutageRecords", "ClosedOutageRecords"),
        ("ResponseMessage", "MeterReadings", "reply", "ReplyMeterReadings", "ReplyMeterReadings"),
    ],
)
def test_service_for_message(element, noun, verb, service, operation) -> None:
    s, op = service_for_message(element, noun, verb)
    assert (s.name, op.name) == (service, operation)


def test_service_for_unknown_message_is_none() -> None:
    assert service_for_message("CreateUsagePoints") is None
    assert service_for_message("RequestMessage", "EndDeviceControls", "get") is None
