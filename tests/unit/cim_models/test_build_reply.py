"""``build_reply`` (BUS-7: the acknowledgement of every event) gives the same bytes as
``build_message("reply", ...)`` for every shape, from a template, and falls back to it for
values it cannot paste as they are."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cim_models import namespaces as ns
from cim_models.build import build_message, build_reply
from cim_models.codec import Codec

NOUNS = [*sorted(ns.PROFILES), "SomethingElse"]
text = st.one_of(
    st.none(),
    st.text(alphabet="abcXYZ019-_.:+/@ ", min_size=1, max_size=40),
    st.text(min_size=1, max_size=20).filter(lambda t: t.strip() == t and t.isprintable()),
)


@settings(max_examples=300, deadline=None)
@given(
    noun=st.sampled_from(NOUNS),
    generic=st.booleans(),
    result=st.sampled_from(["OK", "PARTIAL", "FAILED"]),
    correlation_id=text,
    source=text,
    message_id=st.text(alphabet="0123456789abcdef-", min_size=1, max_size=36),
)
def test_same_bytes_as_build_message(noun, generic, result, correlation_id, source, message_id):
    kw = {
        "correlation_id": correlation_id,
        "source": source,
        "result": result,
        "form": "generic" if generic else None,
        "message_id": message_id,
        "timestamp": "2026-12-03T07:00:00.000Z",
    }
    assert build_reply(noun, **kw) == build_message("reply", noun, **kw)


def test_a_get_answer_in_its_get_wrapper_namespace_validates() -> None:
    profile = ns.PROFILES["MeterReadings"]
    kw = {
        "correlation_id": "req-1",
        "source": "CIMBUS",
        "namespace": profile.get_wrapper_ns,
        "element": "MeterReadingsResponseMessage",
    }
    body = build_reply("MeterReadings", **kw)
    assert body == build_message(
        "reply",
        "MeterReadings",
        result="OK",
        message_id=Codec().parse(body).header()["MessageID"],
        timestamp=Codec().parse(body).header()["Timestamp"],
        **kw,
    )
    Codec().validate(Codec().parse(body))


def test_values_that_need_escaping_are_escaped() -> None:
    body = build_reply("EndDeviceEvents", correlation_id="a<b&c", source="X")
    assert b"a&lt;b&amp;c" in body
    assert Codec().parse(body).header()["CorrelationID"] == "a<b&c"
