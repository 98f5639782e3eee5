"""MessageIDs cimbus generates (BUS-1, REL-1): RFC 9562 version 7 UUIDs, time-ordered."""

from __future__ import annotations

import re
import time
import uuid

from cim_models.build import build_message, build_reply
from cim_models.codec import default_codec
from cim_models.ids import new_message_id, uuid7
from routing.envelope import new_message_id as envelope_new_message_id

UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_a_message_id_is_a_version_7_uuid_in_its_usual_text_form() -> None:
    text = new_message_id()
    assert UUID_TEXT.match(text)
    parsed = uuid.UUID(text)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    assert str(parsed) == text


def test_the_first_48_bits_are_the_unix_time_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000
    assert before <= value.int >> 80 <= after


def test_ids_sort_in_creation_order_across_milliseconds() -> None:
    ids = []
    for _ in range(5):
        ids.append(new_message_id())
        time.sleep(0.002)
    assert ids == sorted(ids)  # text order is time order: the store's indexes append


def test_ids_are_unique() -> None:
    ids = {new_message_id() for _ in range(50_000)}
    assert len(ids) == 50_000


def test_messages_and_replies_cimbus_builds_carry_version_7_ids() -> None:
    for raw in (
        build_message("created", "MeterReadings", source="CIMBUS"),
        build_reply("MeterReadings", correlation_id="c-1", source="CIMBUS"),
    ):
        message_id = default_codec().parse(raw).header().get("MessageID")
        assert message_id is not None and uuid.UUID(message_id).version == 7
    assert uuid.UUID(envelope_new_message_id()).version == 7


def test_an_id_the_caller_gives_is_kept() -> None:
    raw = build_message("created", "MeterReadings", message_id="their-own-id")
    assert default_codec().parse(raw).header().get("MessageID") == "their-own-id"
