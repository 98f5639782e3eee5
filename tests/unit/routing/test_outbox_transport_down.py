"""REL-1: a transport that is not connected (``TransportUnavailable``: the broker is down,
cimbus reconnecting) does not use up the attempts of the messages waiting for it. Before, each
outbox round counted one attempt per message, so an outage longer than the retry schedule
(~54 minutes with the defaults) turned everything accepted meanwhile into dead letters that
needed a manual ``cimbus dlq replay``. A message the transport did send but lost (a
``DeliveryError``) still counts, so a message that breaks the connection ends as a dead
letter."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from routing.bus import UNAVAILABLE_RETRY, Bus
from routing.config import Config
from routing.envelope import utcnow
from routing.transport import Delivery, DeliveryError, TransportUnavailable
from tests.messages import end_device_event


class FlakyOutbound:
    """A stand-in for the AMQP outbound whose link is down until ``up`` is set."""

    name = "amqp"

    def __init__(self) -> None:
        self.up = False
        self.error: Exception = TransportUnavailable("not connected to the broker (reconnecting)")
        self.sent: list[Delivery] = []

    def deliver(self, delivery: Delivery) -> None:
        if not self.up:
            raise self.error
        self.sent.append(delivery)

    def reply_address(self, *, sync: bool) -> str | None:
        return None


@pytest.fixture
def setup(tmp_path: Path):
    bus = Bus(
        Config.from_mapping(
            {
                "store": {"url": f"sqlite:///{tmp_path}/cimbus.db"},
                "bus": {"max_attempts": 3, "retry_base": 0.01, "retry_max": 0.01},
                "systems": {
                    "HES": {"transport": "embedded"},
                    "MDMS": {"transport": "embedded"},
                },
                "subscriptions": [
                    {"verb": "created", "noun": "EndDeviceEvents", "subscribers": ["MDMS"]}
                ],
            }
        )
    )
    bus.store.migrate()
    outbound = FlakyOutbound()
    bus.register_transport(outbound)
    # MDMS is reached over the flaky transport
    bus.routes.systems["MDMS"] = dataclasses.replace(
        bus.routes.systems["MDMS"], transport="amqp", address="mdms"
    )
    yield bus, outbound
    bus.stop()


def _rounds(bus: Bus, n: int) -> None:
    """n outbox rounds, each once the entries are due again (as if time passed)."""
    for _ in range(n):
        later = utcnow() + timedelta(seconds=UNAVAILABLE_RETRY * 2)
        for item in bus.store.claim_due(bus.worker_id, now=later):
            bus._handoff.append(item)
        bus.run_outbox_once()


def test_an_outage_longer_than_the_retry_schedule_loses_no_attempt(setup, caplog) -> None:
    bus, outbound = setup
    for _ in range(3):
        bus.handle(end_device_event(), transport="embedded")
    with caplog.at_level(logging.WARNING, logger=bus.log.name):
        _rounds(bus, 10)  # far more rounds than max_attempts = 3
    assert bus.store.dead_letters() == []
    counts = bus.store.outbox_counts()
    assert counts["dead"] == 0 and counts["pending"] == 3
    warnings = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once when the outage starts, not once per round
    assert "transport amqp unavailable" in warnings[0] and "no attempts counted" in warnings[0]
    outbound.up = True
    _rounds(bus, 1)
    assert bus.store.outbox_counts()["delivered"] == 3
    assert len(outbound.sent) == 3


def test_the_entries_wait_with_the_reason_and_no_attempt(setup) -> None:
    bus, _outbound = setup
    bus.handle(end_device_event(), transport="embedded")
    _rounds(bus, 4)
    [item] = bus.store.claim_due(bus.worker_id, now=utcnow() + timedelta(seconds=60))
    assert item.attempts == 0
    assert item.last_error == ("TransportUnavailable: not connected to the broker (reconnecting)")


def test_a_message_lost_in_flight_still_counts_and_ends_as_a_dead_letter(setup) -> None:
    bus, outbound = setup
    outbound.error = DeliveryError("connection lost before the confirm")
    bus.handle(end_device_event(), transport="embedded")
    _rounds(bus, 5)
    [dead] = bus.store.dead_letters()
    assert "gave up after 3 attempts" in dead.reason
