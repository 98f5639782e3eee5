"""The MQTT topic scheme (BUS-6: topics per system, noun and device), without a broker."""

from __future__ import annotations

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from endpoints.mqtt.topics import TOPICS, TopicInfo, TopicScheme, decode_segment, encode_segment

scheme = TopicScheme("cimbus")


def test_topics_per_source_system_noun_and_device() -> None:
    assert scheme.inbound("HES", "EndDeviceEvents") == "cimbus/in/HES/EndDeviceEvents"
    assert scheme.inbound("HES", "EndDeviceEvents", "MTR-119047211") == (
        "cimbus/in/HES/EndDeviceEvents/MTR-119047211"
    )
    assert scheme.system("MDMS", "MeterReadings") == "cimbus/system/MDMS/MeterReadings"
    assert (
        scheme.system("HES", "EndDeviceControls", "42") == "cimbus/system/HES/EndDeviceControls/42"
    )
    assert scheme.reply("host-12-abc") == "cimbus/reply/host-12-abc"
    assert scheme.client_reply("CIS-1") == "cimbus/client/CIS-1/reply"


def test_filters_cover_the_topics_they_are_for() -> None:
    assert scheme.inbound_filter == "cimbus/in/#"
    for topic in (scheme.inbound("HES", "EndDeviceEvents", "7"), scheme.inbound_root):
        assert mqtt.topic_matches_sub(scheme.inbound_filter, topic)
    assert mqtt.topic_matches_sub(scheme.system_filter("HES"), scheme.system("HES", "X", "d"))
    # the system's own address (its topic prefix) is inside its subscription too
    assert mqtt.topic_matches_sub(scheme.system_filter("HES"), "cimbus/system/HES")
    assert not mqtt.topic_matches_sub(scheme.system_filter("HES"), scheme.system("HESX", "X"))


def test_parse_is_the_inverse_of_build() -> None:
    assert scheme.parse(scheme.inbound("HES", "EndDeviceEvents", "MTR/1")) == TopicInfo(
        "inbound", "HES", "EndDeviceEvents", "MTR/1"
    )
    assert scheme.parse(scheme.system("OMS", "OutageRecords")) == TopicInfo(
        "system", "OMS", "OutageRecords", None
    )
    assert scheme.parse("cimbus/in") == TopicInfo("inbound")
    assert scheme.parse(scheme.reply("w1")) == TopicInfo("reply", "w1")
    assert scheme.parse(scheme.client_reply("c1")) == TopicInfo("client_reply", "c1")
    assert scheme.parse("other/in/HES/X").kind == "unknown"
    assert scheme.parse("cimbus/in/a/b/c/d").kind == "unknown"


def test_wildcards_and_separators_in_values_stay_inside_one_segment() -> None:
    topic = scheme.inbound("HES", "EndDeviceEvents", "a/+/#")
    assert topic == "cimbus/in/HES/EndDeviceEvents/a%2F%2B%2F%23"
    assert "+" not in topic and "#" not in topic
    assert scheme.parse(topic).device == "a/+/#"
    with pytest.raises(ValueError):
        scheme.inbound("", "EndDeviceEvents")


@given(st.text(min_size=1, max_size=40))
def test_segment_encoding_round_trips(value: str) -> None:
    encoded = encode_segment(value)
    assert "/" not in encoded and "+" not in encoded and "#" not in encoded
    assert decode_segment(encoded) == value


@pytest.mark.parametrize("prefix", ["", "a/+/b", "x/#", "$SYS", "a//b"])
def test_bad_prefixes_fail_at_start_up(prefix: str) -> None:
    with pytest.raises(ValueError):
        TopicScheme(prefix)


def test_a_prefix_with_levels_isolates_a_deployment() -> None:
    s = TopicScheme("utility/test-1")
    assert s.inbound("HES", "EndDeviceEvents") == "utility/test-1/in/HES/EndDeviceEvents"
    assert s.parse("utility/test-1/system/HES/X").party == "HES"


def test_the_scheme_is_data_and_lists_itself() -> None:
    rows = TopicScheme("acme").rows()
    assert [r["kind"] for r in rows] == list(TOPICS)
    assert rows[0]["topic"] == "acme/in/{source}/{noun}[/{device}]"
    assert all("{prefix}" not in r["use"] for r in rows)
