"""Applying the failure policy to a delivery (REL-2): requeue, dead-letter, reject, drop."""

from __future__ import annotations

import pika
import pytest

from endpoints.amqp._consumer import (
    ACK,
    REJECT,
    REQUEUE,
    Inbound,
    dead_letter_properties,
    settle_failure,
)
from endpoints.amqp.policy import DROP, FailurePolicy, OnFailure
from endpoints.amqp.properties import WireFields


def _inbound(*, redelivered: bool) -> Inbound:
    props = WireFields(
        message_id="m-1", verb="created", noun="EndDeviceEvents", source="HES"
    ).to_properties()
    return Inbound(
        queue="cimbus.in",
        body=b"<x/>",
        fields=WireFields.from_properties(props),
        properties=props,
        redelivered=redelivered,
        exchange="cimbus",
        routing_key="cimbus.in.created.EndDeviceEvents",
        delivery_tag=7,
    )


def test_first_failure_is_requeued() -> None:
    dead: list[str] = []
    action = settle_failure(
        _inbound(redelivered=False),
        RuntimeError("boom"),
        policy=FailurePolicy(),
        dead_letter=lambda m, reason: dead.append(reason),
        who="cimbus",
    )
    assert action == REQUEUE and dead == []


def test_a_redelivered_failure_is_dead_lettered_with_the_reason_then_acked() -> None:
    dead: list[str] = []
    action = settle_failure(
        _inbound(redelivered=True),
        RuntimeError("boom"),
        policy=FailurePolicy(),
        dead_letter=lambda m, reason: dead.append(reason),
        who="cimbus",
    )
    assert action == ACK
    assert dead == ["cimbus failed again: RuntimeError: boom"]


def test_when_republishing_fails_rabbitmq_dead_letters_it() -> None:
    def broken(m: Inbound, reason: str) -> None:
        raise OSError("publisher down")

    action = settle_failure(
        _inbound(redelivered=True),
        RuntimeError("boom"),
        policy=FailurePolicy(),
        dead_letter=broken,
        who="cimbus",
    )
    assert action == REJECT


@pytest.mark.parametrize("redelivered", [False, True])
def test_drop_acks(redelivered: bool) -> None:
    policy = FailurePolicy(
        rules={("*", "EndDeviceEvents"): OnFailure(first=DROP, redelivered=DROP)}
    )
    action = settle_failure(
        _inbound(redelivered=redelivered),
        RuntimeError("boom"),
        policy=policy,
        dead_letter=lambda m, r: None,
        who="x",
    )
    assert action == ACK


def test_dead_letter_properties_keep_the_original_and_add_the_reason() -> None:
    m = _inbound(redelivered=True)
    props = dead_letter_properties(m, "why")
    assert isinstance(props, pika.BasicProperties)
    assert props.message_id == "m-1"
    assert props.type == "createdEndDeviceEvents"
    assert props.headers["x-death-reason"] == "why"
    assert props.headers["x-death-queue"] == "cimbus.in"
    assert props.headers["verb"] == "created"
    assert props.delivery_mode == 2
