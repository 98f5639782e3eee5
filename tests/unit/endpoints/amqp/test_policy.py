"""The ack / requeue / dead-letter policy as data (REL-2)."""

from __future__ import annotations

import pytest

from endpoints.amqp.policy import DEAD_LETTER, DROP, REQUEUE, FailurePolicy, OnFailure


def test_default_requeues_once_then_dead_letters() -> None:
    policy = FailurePolicy()
    assert policy.decide("get", "MeterReadings", redelivered=False) == REQUEUE
    assert policy.decide("get", "MeterReadings", redelivered=True) == DEAD_LETTER


def test_most_specific_rule_wins() -> None:
    policy = FailurePolicy(
        rules={
            ("*", "EndDeviceEvents"): OnFailure(first=DEAD_LETTER),
            ("created", "EndDeviceEvents"): OnFailure(first=DROP, redelivered=DROP),
            ("create", "*"): OnFailure(first=REQUEUE, redelivered=DROP),
        }
    )
    assert policy.decide("created", "EndDeviceEvents", redelivered=False) == DROP
    assert policy.decide("changed", "EndDeviceEvents", redelivered=False) == DEAD_LETTER
    assert policy.decide("create", "EndDeviceControls", redelivered=True) == DROP
    assert policy.decide("get", "MeterReadings", redelivered=True) == DEAD_LETTER
    assert policy.decide(None, None, redelivered=False) == REQUEUE


def test_from_mapping() -> None:
    policy = FailurePolicy.from_mapping(
        {
            "default": {"first": "dead_letter"},
            "created MeterReadings": {"redelivered": "drop"},
        }
    )
    assert policy.decide("get", "X", redelivered=False) == DEAD_LETTER
    assert policy.decide("created", "MeterReadings", redelivered=True) == DROP
    assert policy.rows()[0]["rule"] == "default"
    with pytest.raises(ValueError, match="verb noun"):
        FailurePolicy.from_mapping({"MeterReadings": {}})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"redelivered": "requeue"}, "loop for ever"), ({"first": "retry"}, "not one of")],
)
def test_refuses_policies_that_loop_or_are_unknown(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        OnFailure(**kwargs)
