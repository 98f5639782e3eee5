"""Generated classes (BUS-3): reproducible from the XSDs, and wildcard payloads bind to the
right class for every noun."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from cim_models import namespaces as ns
from cim_models import regenerate
from cim_models.codec import Codec

codec = Codec()


def test_generated_code_matches_the_xsds(tmp_path: Path) -> None:
    """Regenerating from the committed XSDs and config gives exactly the committed package."""
    fresh = regenerate.generate_into(tmp_path)
    problems = regenerate.diff(fresh, regenerate.GENERATED)
    assert not problems, "run `make models`:\n" + "\n".join(problems)


def test_drift_is_detected(tmp_path: Path) -> None:
    """The drift check really compares content: a hand edit is reported."""
    fresh = regenerate.generate_into(tmp_path)
    target = fresh / "message.py"
    target.write_text(target.read_text() + "\n# hand edit\n")
    problems = regenerate.diff(fresh, regenerate.GENERATED)
    assert problems == ["differs: message.py"]


def test_one_module_per_namespace() -> None:
    for profile in ns.PROFILES.values():
        for namespace in (
            profile.payload_ns,
            profile.wrapper_ns,
            profile.get_ns,
            profile.get_wrapper_ns,
        ):
            if namespace is None:
                continue
            found = [
                p.stem
                for p in regenerate.GENERATED.glob("*.py")
                if p.stem != "__init__"
                and getattr(
                    importlib.import_module(f"cim_models.generated.{p.stem}"), "__NAMESPACE__", None
                )
                == namespace
            ]
            assert len(found) == 1, f"{namespace}: modules {found}"


PAYLOAD_CLASS = {
    "MeterReadings": "cim_models.generated.meter_readings.MeterReadings",
    "EndDeviceControls": "cim_models.generated.end_device_controls.EndDeviceControls",
    "EndDeviceEvents": "cim_models.generated.end_device_events.EndDeviceEvents",
    "OutageRecords": "cim_models.generated.outage_records.OutageRecords",
}


def _minimal_payload(noun: str) -> str:
    profile = ns.PROFILES[noun]
    return f'<{noun} xmlns="{profile.payload_ns}"/>'


@pytest.mark.parametrize("noun", sorted(ns.PROFILES))
@pytest.mark.parametrize(
    "form,verb",
    [("EventMessage", "created"), ("RequestMessage", "create"), ("ResponseMessage", "reply")],
)
def test_generic_payload_binds_to_the_right_class(noun: str, form: str, verb: str) -> None:
    """xsdata resolves wildcard Payload content by qualified name across every loaded module;
    each noun's payload must come back as its own generated class, not AnyElement and not a
    same-named class from another namespace (e.g. GetMeterReadings#MeterReadings)."""
    reply = (
        "<msg:Reply><msg:Result>OK</msg:Result></msg:Reply>" if form == "ResponseMessage" else ""
    )
    xml = (
        f'<msg:{form} xmlns:msg="{ns.MSG_NS}"><msg:Header><msg:Verb>{verb}</msg:Verb>'
        f"<msg:Noun>{noun}</msg:Noun></msg:Header>{reply}<msg:Payload>{_minimal_payload(noun)}"
        f"</msg:Payload></msg:{form}>"
    ).encode()
    obj = codec.decode(xml).bind()
    (payload,) = obj.payload.other_element
    module, _, name = PAYLOAD_CLASS[noun].rpartition(".")
    assert type(payload) is getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("noun", sorted(ns.PROFILES))
def test_typed_wrapper_binds_payload_class(noun: str) -> None:
    profile = ns.PROFILES[noun]
    xml = (
        f'<m:Created{noun} xmlns:m="{profile.wrapper_ns}" xmlns:msg="{ns.MSG_NS}">'
        f"<m:Header><msg:Verb>created</msg:Verb><msg:Noun>{noun}</msg:Noun></m:Header>"
        f"<m:Payload>{_minimal_payload(noun)}</m:Payload></m:Created{noun}>"
    ).encode()
    obj = codec.decode(xml).bind()
    assert type(obj).__name__ == f"Created{noun}"
    payload = getattr(obj.payload, _snake(noun))
    assert f"{type(payload).__module__}.{type(payload).__name__}" == PAYLOAD_CLASS[noun]


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
