"""Hostile input (SEC-3): each one is refused with a clear, specific message within a second,
by the codec and by ``cimbus validate`` (one line of reason, no traceback, exit 1)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cim_models.codec import Codec
from cim_models.errors import (
    CodecError,
    MalformedXmlError,
    SchemaValidationError,
    UnknownMessageError,
    UnsafeXmlError,
)
from cim_models.safexml import Limits
from cimbus.cli import app

VALID = b"""<?xml version="1.0" encoding="UTF-8"?>
<m:CreateEndDeviceControls xmlns:m="http://iec.ch/TC57/2011/EndDeviceControlsMessage"
    xmlns:msg="http://iec.ch/TC57/2011/schema/message" xmlns="http://iec.ch/TC57/2011/EndDeviceControls#">
  <m:Header>
    <msg:Verb>create</msg:Verb>
    <msg:Noun>EndDeviceControls</msg:Noun>
    <msg:Timestamp>2026-11-23T09:00:00Z</msg:Timestamp>
    <msg:MessageID>0b0f4a57-7e55-4c3e-9f0c-6a0f2d1b9a11</msg:MessageID>
  </m:Header>
  <m:Payload>
    <EndDeviceControls>
      <EndDeviceControl>
        <mRID>5d0c6f3e-1b1a-4c55-8a8e-2f1e0c9d7b10</mRID>
        <EndDeviceControlType ref="3.31.0.23"/>
        <EndDevices><mRID>MTR00001234</mRID></EndDevices>
      </EndDeviceControl>
    </EndDeviceControls>
  </m:Payload>
</m:CreateEndDeviceControls>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<m:CreateEndDeviceControls xmlns:m="http://iec.ch/TC57/2011/EndDeviceControlsMessage">&x;</m:CreateEndDeviceControls>"""

BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<lolz>&lol9;</lolz>"
)

DEEP = b"<a>" * 10_000 + b"</a>" * 10_000

CASES = {
    "doctype-external-entity": (
        XXE,
        Limits(),
        UnsafeXmlError,
        "DOCTYPE declarations are not allowed",
    ),
    "entity-expansion-bomb": (
        BOMB,
        Limits(),
        UnsafeXmlError,
        "DOCTYPE declarations are not allowed",
    ),
    "truncated": (VALID[: len(VALID) // 2], Limits(), MalformedXmlError, "not well-formed XML"),
    "oversize": (VALID, Limits(max_bytes=512), UnsafeXmlError, "over the limit of 512 bytes"),
    "deep-nesting": (DEEP, Limits(), UnsafeXmlError, "nested deeper than the limit of 64 levels"),
    "wrong-namespace": (
        VALID.replace(
            b"http://iec.ch/TC57/2011/EndDeviceControlsMessage", b"http://example.com/Controls"
        ),
        Limits(),
        UnknownMessageError,
        "is not an IEC 61968-100 message",
    ),
    "invalid-verb": (
        VALID.replace(b"<msg:Verb>create</msg:Verb>", b"<msg:Verb>explode</msg:Verb>"),
        Limits(),
        SchemaValidationError,
        "'explode' is not an element of the set",
    ),
    "invalid-datetime": (
        VALID.replace(b"2026-11-23T09:00:00Z", b"2026-13-45T25:61:00Z"),
        Limits(),
        SchemaValidationError,
        "'2026-13-45T25:61:00Z' is not a valid value of the atomic type 'xs:dateTime'",
    ),
}


def test_the_base_message_is_valid() -> None:
    assert Codec().decode(VALID).element == "CreateEndDeviceControls"


@pytest.mark.parametrize("name", sorted(CASES))
def test_codec_refuses_hostile_input_quickly(name: str) -> None:
    data, limits, error, fragment = CASES[name]
    t0 = time.perf_counter()
    with pytest.raises(error) as info:
        Codec(limits=limits).decode(data)
    elapsed = time.perf_counter() - t0
    text = str(info.value) + " ".join(str(i) for i in info.value.issues)
    assert fragment in text
    assert "\n" not in info.value.reason
    assert elapsed < 1.0, f"{name} took {elapsed:.2f}s"


def test_schema_errors_name_line_and_path() -> None:
    bad = CASES["invalid-verb"][0]
    with pytest.raises(SchemaValidationError) as info:
        Codec().decode(bad)
    (issue,) = info.value.issues
    assert issue.line == 5
    assert issue.path and issue.path.endswith("/m:Header/msg:Verb")


def test_no_xxe_file_content_leaks() -> None:
    with pytest.raises(CodecError) as info:
        Codec().decode(XXE)
    assert "root:" not in str(info.value)


def test_default_depth_still_accepts_real_messages() -> None:
    # the deepest real nesting (SOAP + wrapper + payload) is far below the default limit
    assert Codec(limits=Limits(max_depth=16)).decode(VALID)


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_gives_one_line_reason(name: str, tmp_path: Path) -> None:
    data, limits, _error, fragment = CASES[name]
    f = tmp_path / f"{name}.xml"
    f.write_bytes(data)
    args = ["validate", str(f)]
    if limits.max_bytes != Limits().max_bytes:
        args += ["--max-bytes", str(limits.max_bytes)]
    t0 = time.perf_counter()
    result = CliRunner().invoke(app, args)
    assert time.perf_counter() - t0 < 1.0
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    first = result.output.splitlines()[0]
    assert first.startswith(f"INVALID {f}: ")
    assert fragment in result.output


def test_cli_process_never_prints_a_traceback(tmp_path: Path) -> None:
    """The real console script, as a user runs it."""
    files = []
    for name, (data, _limits, _e, _f) in CASES.items():
        f = tmp_path / f"{name}.xml"
        f.write_bytes(data)
        files.append(str(f))
    good = tmp_path / "good.xml"
    good.write_bytes(VALID)
    proc = subprocess.run(
        [sys.executable, "-m", "cimbus.cli", "validate", str(good), *files],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"OK {good}" in proc.stdout
    assert proc.stdout.count("INVALID ") == len(CASES) - 1  # oversize passes with the default limit
    assert proc.stdout.rstrip().endswith("2 valid, 7 invalid")


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["validate"]).exit_code == 2
    assert runner.invoke(app, ["validate", str(tmp_path / "missing.xml")]).exit_code == 2
    assert runner.invoke(app, ["validate", "--max-depth", "999", str(tmp_path)]).exit_code == 2
