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
    target = fresh / "message" / "model.py"
    target.write_text(target.read_text() + "\n# hand edit\n")
    (fresh / "stray.py").write_text("")
    problems = regenerate.diff(fresh, regenerate.GENERATED)
    assert problems == [
        f"missing from {regenerate.GENERATED}: stray.py",
        "differs: message/model.py",
    ]


def test_one_package_per_namespace() -> None:
    packages = [p for p in regenerate.GENERATED.iterdir() if (p / "__init__.py").is_file()]
    by_ns: dict[str, list[str]] = {}
    for pkg in packages:
        model = importlib.import_module(f"cim_models.generated.{pkg.name}.model")
        by_ns.setdefault(model.__NAMESPACE__, []).append(pkg.name)
    for profile in ns.PROFILES.values():
        for namespace in (
            profile.payload_ns,
            profile.wrapper_ns,
            profile.get_ns,
            profile.get_wrapper_ns,
        ):
            if namespace is not None:
                assert len(by_ns.pop(namespace, [])) == 1, namespace
    assert list(by_ns) == [ns.MSG_NS]


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
    assert type(payload) is _class(PAYLOAD_CLASS[noun])


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
    assert type(payload) is _class(PAYLOAD_CLASS[noun])


def _class(dotted: str) -> type:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
