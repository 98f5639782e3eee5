"""Interoperability with real IEC 61968-100 / -9 material published by others (BUS-1, BUS-3).

* schema-valid real-world samples (Connexo MDM, cim4) are accepted by ``cimbus validate``;
* the Connexo GetUsagePointReadingsResponse, which breaks its own schema (ReadingQualityType
  without Names), is reported with that precise violation and accepted with ``--lenient``;
* every message the codec produces (from the golden exchanges) validates against the
  reference schemas: the Connexo wrapper + payload XSDs for typed messages, and the IEC
  61968-100 FDIS Message.xsd (cim4 copy) plus reference payload XSDs for generic envelopes.

The reference files live in ../shared/cim-reference and are never copied into the project.
These tests skip only when that folder is absent on a developer machine, never in CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cim_models import namespaces as ns
from cim_models.codec import Codec
from cim_models.validation import schema_set_for
from cimbus.cli import app
from tests.conftest import EXCHANGES

codec = Codec()

CONNEXO_IN_COKO = "tree/chandangeek__Connexo_Code/coko/com.elster.jupiter.cim.webservices.inbound.soap/src/test/resources/samples"
CONNEXO_IN_COMU = "tree/chandangeek__Connexo_Code/comu/com.energyict.mdc.cim.webservices.inbound.soap/src/test/resources/samples"
CONNEXO_OUT_COKO = "tree/chandangeek__Connexo_Code/coko/com.elster.jupiter.cim.webservices.outbound.soap/src/main/resources/wsdl"
CONNEXO_OUT_COMU = "tree/chandangeek__Connexo_Code/comu/com.energyict.mdc.cim.webservices.outbound.soap/src/main/resources/wsdl"
CIM4_XSD = "tree/r0ckflite__cim4/src/main/webapp/WEB-INF/wsdl/xsd"

ACCEPTED = [
    f"{CONNEXO_IN_COKO}/meterreadings/GetUsagePointReadingsRequest.xml",
    f"{CONNEXO_IN_COMU}/getenddeviceevents/GetEndDeviceEventsRequest.xml",
    f"{CONNEXO_IN_COMU}/enddeviceevents/CreatedEndDeviceEventsRequest.xml",
    f"{CONNEXO_IN_COMU}/enddeviceevents/ClosedEndDeviceEvents.xml",
    "samples/cim4_readme/ReadMe_sample1_CreateEndDeviceControls.xml",
    "samples/cim4_readme/ReadMe_sample2_EndDeviceControlsResponseMessage.xml",
]
BROKEN = f"{CONNEXO_IN_COKO}/meterreadings/GetUsagePointReadingsResponse.xml"

# reference schema set per wrapper namespace: (folder, files)
REFERENCE_WRAPPERS = {
    "http://iec.ch/TC57/2011/MeterReadingsMessage": (
        f"{CONNEXO_OUT_COKO}/meterreadings/xsd",
        ["MeterReadingsMessage.xsd"],
    ),
    "http://iec.ch/TC57/2011/GetMeterReadingsMessage": (
        f"{CONNEXO_OUT_COKO}/meterreadings/xsd",
        ["GetMeterReadingsMessage.xsd"],
    ),
    "http://iec.ch/TC57/2011/EndDeviceControlsMessage": (
        f"{CONNEXO_OUT_COMU}/enddevicecontrols/xsd",
        ["EndDeviceControlsMessage.xsd"],
    ),
    "http://iec.ch/TC57/2011/EndDeviceEventsMessage": (
        f"{CONNEXO_OUT_COMU}/enddeviceevents/xsd",
        ["EndDeviceEventsMessage.xsd"],
    ),
    "http://iec.ch/TC57/2011/GetEndDeviceEventsMessage": (
        f"{CONNEXO_OUT_COMU}/getenddeviceevents/xsd",
        ["GetEndDeviceEventsMessage.xsd"],
    ),
}


@pytest.mark.shared
@pytest.mark.parametrize("sample", ACCEPTED, ids=lambda s: Path(s).name)
def test_schema_valid_samples_are_accepted(cim_reference: Path, sample: str) -> None:
    path = cim_reference / sample
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"OK {path}")


@pytest.mark.shared
def test_connexo_response_violation_is_named_and_lenient_accepts_it(cim_reference: Path) -> None:
    path = cim_reference / BROKEN
    strict = CliRunner().invoke(app, ["validate", str(path)])
    assert strict.exit_code == 1
    lines = strict.output.splitlines()
    assert lines[0].startswith(f"INVALID {path}: MeterReadingsResponseMessage breaks its schema")
    issues = [line for line in lines[1:] if line.startswith("  ")]
    assert len(issues) == 5
    for line in issues:
        assert "ReadingQualityType" in line
        assert (
            "Missing child element(s). Expected is ( {http://iec.ch/TC57/2011/MeterReadings#}Names )"
            in line
        )
        assert line.lstrip().startswith("line ")
    lenient = CliRunner().invoke(app, ["validate", "--lenient", str(path)])
    assert lenient.exit_code == 0, lenient.output
    assert "OK (with 5 warning(s))" in lenient.output
    # and the lenient message is usable: its readings bind
    message = codec.decode(path.read_bytes(), lenient=True)
    readings = message.bind().payload.meter_readings
    assert len(readings.reading_quality_type) == 5
    assert (
        sum(len(b.interval_readings) for mr in readings.meter_reading for b in mr.interval_blocks)
        > 100
    )


def _typed_goldens() -> list[Path]:
    """Goldens of the IEC nouns (OutageRecords is cimbus's own profile: IEC publishes no outage
    message schema to check it against, so its goldens are checked against cimbus's only)."""
    iec = {p.noun for p in ns.PROFILES.values() if p.iec}
    return sorted(p for p in EXCHANGES.rglob("*.xml") if p.relative_to(EXCHANGES).parts[0] in iec)


def test_every_iec_wrapper_has_a_reference_schema() -> None:
    for profile in ns.PROFILES.values():
        for wrapper in (profile.wrapper_ns, profile.get_wrapper_ns):
            if profile.iec and wrapper:
                assert wrapper in REFERENCE_WRAPPERS


@pytest.mark.shared
@pytest.mark.parametrize("golden", _typed_goldens(), ids=lambda p: str(p.relative_to(EXCHANGES)))
def test_codec_output_validates_against_reference_wrappers(
    cim_reference: Path, golden: Path
) -> None:
    message = codec.decode(golden.read_bytes())
    folder, names = REFERENCE_WRAPPERS[message.namespace]
    reference = schema_set_for(*(str(cim_reference / folder / n) for n in names))
    out = codec.encode(message.bind())
    issues = reference.validate(codec.parse(out).root)
    assert issues == [], "\n".join(map(str, issues))


@pytest.mark.shared
@pytest.mark.parametrize(
    "golden", sorted((EXCHANGES / "generic").glob("*.xml")), ids=lambda p: p.name
)
def test_generic_output_validates_against_fdis_envelope(cim_reference: Path, golden: Path) -> None:
    reference = schema_set_for(
        str(cim_reference / CIM4_XSD / "Message.xsd"),  # IEC 61968-100:2013 FDIS text
        str(cim_reference / CIM4_XSD / "EndDeviceControls.xsd"),
        str(cim_reference / CIM4_XSD / "EndDeviceEvents.xsd"),
        str(cim_reference / CONNEXO_OUT_COKO / "meterreadings/xsd/MeterReadings.xsd"),
        str(cim_reference / CONNEXO_OUT_COKO / "meterreadings/xsd/GetMeterReadings.xsd"),
    )
    assert reference.skips_payload  # so each known payload is validated separately
    message = codec.decode(golden.read_bytes())
    out = codec.encode(message.bind())
    issues = reference.validate(codec.parse(out).root)
    assert issues == [], "\n".join(map(str, issues))


@pytest.mark.shared
def test_reference_check_catches_a_broken_payload(cim_reference: Path) -> None:
    """The reference validation is real: a payload breaking the reference profile fails."""
    reference = schema_set_for(
        str(cim_reference / CIM4_XSD / "Message.xsd"),
        str(cim_reference / CIM4_XSD / "EndDeviceEvents.xsd"),
    )
    bad = (
        f'<msg:EventMessage xmlns:msg="{ns.MSG_NS}"><msg:Header><msg:Verb>created</msg:Verb>'
        f"<msg:Noun>EndDeviceEvents</msg:Noun></msg:Header><msg:Payload>"
        f'<EndDeviceEvents xmlns="http://iec.ch/TC57/2011/EndDeviceEvents#"><EndDeviceEvent/>'
        f"</EndDeviceEvents></msg:Payload></msg:EventMessage>"
    ).encode()
    issues = reference.validate(codec.parse(bad).root)
    assert any("createdDateTime" in i.message for i in issues)
