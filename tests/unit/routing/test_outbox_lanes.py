"""REL-1, BUS-4: a slow or hung receiver holds up only its own messages.

The outbox thread used to deliver every transport's batch itself, one after the other, and a
SOAP receiver was called once per message: one system that hung (30 s timeout per message)
stopped every delivery of the process, to every transport, for up to 200 x 30 s. Now each
transport (each system, for SOAP and local handlers) has a delivery lane of its own, and
after a failure the rest of a batch for that system waits for the next round (no attempt)
instead of timing out one by one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from routing.bus import Bus, lane_key
from routing.config import Config
from routing.routes import System
from routing.transport import (
    Delivery,
    DeliveryError,
    PermanentDeliveryError,
    TransportUnavailable,
    deliver_all,
)
from tests.messages import end_device_event
from tests.waiting import wait_until


class Recorder:
    """An outbound transport that records what it delivered; deliveries to ``hang_for``
    block until ``release`` is set."""

    def __init__(self, name: str, hang_for: str | None = None) -> None:
        self.name = name
        self.hang_for = hang_for
        self.release = threading.Event()
        self.sent: list[Delivery] = []
        self.calls = 0

    def deliver(self, delivery: Delivery) -> None:
        self.calls += 1
        if delivery.system.name == self.hang_for:
            self.release.wait(30)
        self.sent.append(delivery)

    def reply_address(self, *, sync: bool) -> str | None:
        return None


@pytest.fixture
def bus(tmp_path: Path):
    b = Bus(
        Config.from_mapping(
            {
                "store": {"url": f"sqlite:///{tmp_path}/cimbus.db"},
                "systems": {
                    "HES": {"transport": "embedded"},
                    "FAST": {"transport": "embedded", "address": "fast"},
                    "SLOW": {"transport": "soap", "address": "http://slow.invalid/ws"},
                    "OK": {"transport": "soap", "address": "http://ok.invalid/ws"},
                },
                "subscriptions": [
                    {
                        "verb": "created",
                        "noun": "EndDeviceEvents",
                        "subscribers": ["FAST", "SLOW", "OK"],
                    }
                ],
            }
        )
    )
    yield b
    b.stop()


def test_a_hung_receiver_holds_up_only_its_own_lane(bus: Bus) -> None:
    embedded, soap = Recorder("embedded"), Recorder("soap", hang_for="SLOW")
    bus.register_transport(embedded)
    bus.register_transport(soap)
    bus.start()
    try:
        for _ in range(5):
            bus.handle(end_device_event(), transport="embedded")
        # the other transport and the other SOAP system get theirs while SLOW hangs
        wait_until(lambda: len(embedded.sent) == 5, "deliveries to FAST", timeout=10)
        wait_until(
            lambda: sum(d.system.name == "OK" for d in soap.sent) == 5, "deliveries to OK", 10
        )
        assert not [d for d in soap.sent if d.system.name == "SLOW"]
        counts = bus.store.outbox_counts()
        assert counts["dead"] == 0
        soap.release.set()  # SLOW answers again
        wait_until(
            lambda: sum(d.system.name == "SLOW" for d in soap.sent) == 5, "deliveries to SLOW", 15
        )
    finally:
        soap.release.set()
    wait_until(lambda: bus.store.outbox_counts()["delivered"] == 15, "marks", timeout=10)


def test_stop_does_not_wait_for_a_hung_receiver_and_hands_its_queue_back(bus: Bus) -> None:
    soap = Recorder("soap", hang_for="SLOW")
    bus.register_transport(Recorder("embedded"))
    bus.register_transport(soap)
    bus.start()
    bus.handle(end_device_event(), transport="embedded")
    wait_until(lambda: soap.calls >= 1 and bus._lanes, "a delivery in flight", timeout=10)
    import routing.bus as bus_module

    bus_module.LANE_STOP_WAIT, saved = 0.5, bus_module.LANE_STOP_WAIT
    try:
        bus.stop()
    finally:
        bus_module.LANE_STOP_WAIT = saved
        soap.release.set()
    counts = bus.store.outbox_counts()
    assert counts["dead"] == 0
    assert counts["pending"] + counts["claimed"] + counts["delivered"] == 3


def test_lane_keys() -> None:
    assert lane_key("amqp", "MDMS") == "amqp"  # one broker link, batched confirms
    assert lane_key("mqtt", "MDMS") == "mqtt"
    assert lane_key("soap", "MDMS") == "soap:MDMS"  # one HTTP receiver each
    assert lane_key("local", "smt") == "local:smt"


def _delivery(system: str) -> Delivery:
    return Delivery(
        system=System(name=system, transport="soap", address="x"), address="x", body=b""
    )


class Failing:
    name = "soap"

    def __init__(self, errors: dict[str, Exception]) -> None:
        self.errors = errors
        self.tried: list[str] = []

    def deliver(self, delivery: Delivery) -> None:
        self.tried.append(delivery.system.name)
        error = self.errors.get(delivery.system.name)
        if error is not None:
            raise error

    def reply_address(self, *, sync: bool) -> None:
        return None


def test_after_a_failure_the_rest_for_that_system_is_not_tried() -> None:
    out = Failing({"A": DeliveryError("read timeout")})
    outcomes = deliver_all(out, [_delivery(n) for n in ("A", "B", "A", "A", "B")])
    assert out.tried == ["A", "B", "B"]  # one timeout for A, not three
    assert isinstance(outcomes[0], DeliveryError) and not isinstance(
        outcomes[0], TransportUnavailable
    )
    assert outcomes[1] is None and outcomes[4] is None
    for skipped in (outcomes[2], outcomes[3]):
        assert isinstance(skipped, TransportUnavailable)  # no attempt counted for them
        assert "not tried: the message before it to A failed (read timeout)" in str(skipped)


def test_a_refused_message_does_not_hold_up_the_next_one() -> None:
    out = Failing({"A": PermanentDeliveryError("HTTP 400")})
    outcomes = deliver_all(out, [_delivery("A"), _delivery("A")])
    assert out.tried == ["A", "A"]
    assert all(isinstance(o, PermanentDeliveryError) for o in outcomes)


def test_the_hand_off_stops_when_the_lanes_hold_enough_not_for_one_hung_lane(bus: Bus) -> None:
    """New outbox entries are claimed for this worker's hand-off only while its lanes keep
    up: once they hold HANDOFF_MAX entries in all, entries stay pending (written once).
    One hung lane holds at most LANE_MAX, so it alone never stops the others' hand-off."""
    from types import SimpleNamespace

    import routing.bus as bus_module

    bus._threads = [threading.current_thread()]  # as if the outbox thread ran
    try:
        bus._lanes = {"soap:SLOW": SimpleNamespace(held=bus_module.LANE_MAX)}
        assert bus.outbox_claimer() == bus.worker_id
        bus._lanes["amqp"] = SimpleNamespace(held=bus_module.HANDOFF_MAX - bus_module.LANE_MAX)
        assert bus.outbox_claimer() is None
    finally:
        bus._threads, bus._lanes = [], {}
