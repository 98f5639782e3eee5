"""Publisher confirm bookkeeping: delivery tags, multiple acks, nacks, returns (BUS-5)."""

from __future__ import annotations

from concurrent.futures import Future

import pika

from endpoints.amqp._publisher import (
    ConfirmTracker,
    Nacked,
    Publish,
    Unroutable,
    _BatchWaiter,
    _Slot,
)
from routing.transport import DeliveryError


def _item(key: str, message_id: str) -> Publish:
    return Publish("cimbus", key, b"<x/>", pika.BasicProperties(message_id=message_id))


def _track(tracker: ConfirmTracker, n: int, key: str = "q") -> list[Future[None]]:
    futures: list[Future[None]] = []
    for i in range(n):
        f: Future[None] = Future()
        assert tracker.published(_item(key, f"m{i}"), f) == i + 1
        futures.append(f)
    return futures


def test_multiple_ack_settles_every_tag_up_to_it() -> None:
    t = ConfirmTracker()
    _track(t, 5)
    settled = t.confirmed(3, multiple=True, ack=True)
    assert [exc for _, exc in settled] == [None, None, None]
    assert len(t) == 2
    assert t.confirmed(3, multiple=False, ack=True) == []  # already settled
    assert len(t.confirmed(5, multiple=False, ack=True)) == 1
    assert len(t) == 1


def test_nack_fails_with_nacked() -> None:
    t = ConfirmTracker()
    _track(t, 2)
    ((_, exc1), (_, exc2)) = t.confirmed(2, multiple=True, ack=False)
    assert isinstance(exc1, Nacked) and isinstance(exc2, DeliveryError)


def test_return_marks_the_matching_message_unroutable() -> None:
    t = ConfirmTracker()
    t.published(_item("a", "m1"), Future())
    t.published(_item("b", "m1"), Future())  # same MessageID fanned out to another queue
    assert t.returned("cimbus", "b", "m1", "unroutable: 312 NO_ROUTE")
    assert not t.returned("cimbus", "c", "m1", "nothing matches")
    outcomes = [exc for _, exc in t.confirmed(2, multiple=True, ack=True)]
    assert outcomes[0] is None
    assert isinstance(outcomes[1], Unroutable) and "NO_ROUTE" in str(outcomes[1])


def test_fail_all_and_reset() -> None:
    t = ConfirmTracker()
    _track(t, 3)
    failed = t.fail_all(DeliveryError("connection lost"))
    assert len(failed) == 3 and len(t) == 0
    t.reset()
    assert t.published(_item("q", "x"), Future()) == 1


def test_publish_many_waiter_reports_timeouts_and_errors_per_message() -> None:
    batch = _BatchWaiter(3)
    ok, bad, _pending = (_Slot(batch, i) for i in range(3))
    ok.set_result(None)
    bad.set_exception(Nacked("no"))
    bad.set_exception(Nacked("twice"))  # settled once: the first outcome stays
    assert ok.done() and bad.done() and not _pending.done()
    out = batch.wait(timeout=0.05)
    assert out[0] is None
    assert isinstance(out[1], Nacked) and "twice" not in str(out[1])
    assert isinstance(out[2], DeliveryError) and "no publisher confirm" in str(out[2])
