"""Ack / requeue / dead-letter policy for AMQP consumers (REL-1, REL-2), as data.

A delivery is **acked** once its outcome is recorded: for cimbus, after ``Bus.handle`` returned
and its reply (if any) was confirmed by the broker. ``Bus.handle`` never raises for bad input:
a malformed or refused message gets a FAILED reply and is acked like any other. Only a fault
*inside* the consumer (an exception out of the handler) goes through this policy:

==================  ============================  =========================================
delivery            default action                meaning
==================  ============================  =========================================
first failure       ``requeue``                   ``basic_nack(requeue=True)``: try again
already redelivered ``dead_letter``               republish to the dead-letter exchange with
                                                  headers ``x-death-reason`` and
                                                  ``x-death-queue``, then ack; if that
                                                  republish fails, ``basic_reject(requeue=
                                                  False)`` so RabbitMQ dead-letters it itself
==================  ============================  =========================================

Actions are ``requeue``, ``dead_letter`` and ``drop`` (ack and log: for messages that are
worthless once they failed, such as telemetry). A redelivered message may not be requeued
again (that would loop for ever on a poison message). AMQP 0-9-1 only says whether a message
was delivered before, not how often, so "first" and "redelivered" are the two cases.

A broker-side failure while acknowledging (the publisher is reconnecting) is not the message's
fault: the delivery is requeued whatever the policy says. So is a message cimbus could not
store because the database is unreachable (``Exchange.store_down``); a store failure caused by
the message itself goes through this policy (REL-1).

Rules are keyed by verb and noun, ``"*"`` matching any; the most specific wins. In the
configuration (``[amqp.on_failure]``, read by :meth:`FailurePolicy.from_config`)::

    [amqp.on_failure]
    default = { first = "requeue", redelivered = "dead_letter" }
    "* EndDeviceEvents" = { first = "dead_letter" }
    "created MeterReadings" = { redelivered = "drop" }

or in code::

    FailurePolicy(rules={
        ("*", "EndDeviceEvents"): OnFailure(first="dead_letter"),   # never retry device events
        ("created", "MeterReadings"): OnFailure(redelivered="drop"),
    })
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

REQUEUE = "requeue"
DEAD_LETTER = "dead_letter"
DROP = "drop"
ACTIONS = (REQUEUE, DEAD_LETTER, DROP)
ANY = "*"


@dataclass(frozen=True)
class OnFailure:
    """What to do with a delivery whose handler raised."""

    first: str = REQUEUE
    redelivered: str = DEAD_LETTER

    def __post_init__(self) -> None:
        for name in ("first", "redelivered"):
            value = getattr(self, name)
            if value not in ACTIONS:
                raise ValueError(f"OnFailure.{name}: {value!r} is not one of {', '.join(ACTIONS)}")
        if self.redelivered == REQUEUE:
            raise ValueError(
                "OnFailure.redelivered may not be 'requeue': a poison message would loop for ever"
            )


@dataclass(frozen=True)
class FailurePolicy:
    default: OnFailure = field(default_factory=OnFailure)
    rules: Mapping[tuple[str, str], OnFailure] = field(default_factory=dict)

    def for_message(self, verb: str | None, noun: str | None) -> OnFailure:
        verb, noun = verb or "", noun or ""
        for key in ((verb, noun), (ANY, noun), (verb, ANY), (ANY, ANY)):
            rule = self.rules.get(key)
            if rule is not None:
                return rule
        return self.default

    def decide(self, verb: str | None, noun: str | None, *, redelivered: bool) -> str:
        rule = self.for_message(verb, noun)
        return rule.redelivered if redelivered else rule.first

    @classmethod
    def from_mapping(cls, data: Mapping[str, Mapping[str, str]]) -> FailurePolicy:
        """From configuration: ``{"default": {...}, "created MeterReadings": {...}, "* *": ...}``."""
        default = OnFailure()
        rules: dict[tuple[str, str], OnFailure] = {}
        for key, spec in data.items():
            rule = OnFailure(**dict(spec))
            if key == "default":
                default = rule
                continue
            parts = key.split()
            if len(parts) != 2:
                raise ValueError(f"failure policy key {key!r}: use 'verb noun' ('*' for any)")
            rules[(parts[0], parts[1])] = rule
        return cls(default=default, rules=rules)

    @classmethod
    def from_config(
        cls, on_failure: Iterable[tuple[str, Iterable[tuple[str, str]]]]
    ) -> FailurePolicy:
        """From ``AmqpConfig.on_failure`` (``[amqp.on_failure]``, checked at start-up by
        routing.config)."""
        return cls.from_mapping({key: dict(spec) for key, spec in on_failure})

    def rows(self) -> list[dict[str, str]]:
        out = [{"verb": ANY, "noun": ANY, **_row(self.default), "rule": "default"}]
        out += [
            {"verb": v, "noun": n, **_row(r), "rule": "configured"}
            for (v, n), r in sorted(self.rules.items())
        ]
        return out


def _row(r: OnFailure) -> dict[str, str]:
    return {"first failure": r.first, "redelivered": r.redelivered}


__all__ = ["ACTIONS", "DEAD_LETTER", "DROP", "REQUEUE", "FailurePolicy", "OnFailure"]
