"""Batched pipeline and group commit (issue 3): ``Bus.handle_many`` / ``Pipeline.run_many``
give every message the outcome ``Bus.handle`` one after the other would give it, with one
store transaction for the batch; concurrent ``handle`` calls share commits."""

from __future__ import annotations

import threading

import pytest

from routing.bus import Bus

from .conftest import msg


def _events(n: int, **kw) -> list[bytes]:
    return [msg("created", "EndDeviceEvents", **kw) for _ in range(n)]


def _outcomes(exs) -> list[tuple]:
    return [(ex.result, ex.error.code if ex.error else None) for ex in exs]


def test_a_batch_of_events_is_one_transaction_with_every_row(bus: Bus, monkeypatch) -> None:
    commits = []
    real = bus.store.batch

    def counting(**kw):
        commits.append(1)
        return real(**kw)

    monkeypatch.setattr(bus.store, "batch", counting)
    bodies = _events(5)
    exs = bus.handle_many([(b, "cimbus.reply.x", None) for b in bodies], transport="embedded")
    assert _outcomes(exs) == [("OK", None)] * 5
    assert len(commits) == 1
    assert all(ex.reply is not None for ex in exs)
    assert bus.store.outbox_counts()["pending"] == 5  # to MDMS (CIS sent them)
    assert len(bus.store.audit(limit=100)) == 10  # in + out per message (BUS-9)
    for ex in exs:  # claimed, with the reply stored for a retry
        assert bus.store.stored_reply(ex.envelope.message_id, "CIS") == ex.reply


def test_same_outcomes_as_one_by_one(tmp_path, bus: Bus) -> None:
    """Duplicates inside the batch, of an earlier message, invalid and unroutable messages."""
    first = msg("created", "EndDeviceEvents", message_id="dup-1")
    bodies = [
        first,
        msg("created", "EndDeviceEvents", message_id="ok-1"),
        first,  # a duplicate inside the batch: answered with the stored reply
        b"<not-xml",
        msg("created", "EndDeviceEvents", message_id="ok-2"),
        msg("reply", "EndDeviceEvents", correlation_id="nobody-asked"),
        msg("created", "EndDeviceEvents", message_id="ok-1"),  # repeats ok-1
    ]
    batched = bus.handle_many([(b, "r", None) for b in bodies], transport="embedded")

    from routing.config import Config
    from routing.store import Store

    from .conftest import CONFIG, FakeOutbound

    other = Bus(Config.from_mapping(CONFIG), Store(f"sqlite:///{tmp_path}/o.db"))
    other.store.migrate()
    other.register_transport(FakeOutbound())
    single = [other.handle(b, transport="embedded", reply_to="r") for b in bodies]
    assert _outcomes(batched) == _outcomes(single)
    assert [ex.result for ex in batched][2] == "DUPLICATE"
    assert batched[2].reply == batched[0].reply
    assert bus.store.outbox_counts() == other.store.outbox_counts()
    assert len(bus.store.audit(limit=100)) == len(other.store.audit(limit=100))
    other.stop()


def test_a_duplicate_of_an_earlier_batch_gets_the_stored_reply(bus: Bus) -> None:
    bodies = _events(3)
    first = bus.handle_many([(b, "r", None) for b in bodies], transport="embedded")
    again = bus.handle_many([(b, "r", None) for b in bodies], transport="embedded")
    assert [ex.result for ex in again] == ["DUPLICATE"] * 3
    assert [ex.reply for ex in again] == [ex.reply for ex in first]
    assert bus.store.outbox_counts()["pending"] == 3  # not enqueued twice


def test_a_batch_inside_an_open_transaction_is_not_its_own_duplicate(bus: Bus) -> None:
    """``handle_many`` joining a caller's transaction: the MessageIDs the batch claims up front
    are still its own, so every event takes effect (none is refused as a duplicate of itself)."""
    bodies = _events(3)
    with bus.store.transaction():
        exs = bus.handle_many([(b, "r", None) for b in bodies], transport="embedded")
    assert _outcomes(exs) == [("OK", None)] * 3
    assert bus.store.outbox_counts()["pending"] == 3


def test_a_failing_batch_runs_each_message_on_its_own(bus: Bus, monkeypatch) -> None:
    real = bus.store.claim_many
    calls = []

    def broken(keys):
        calls.append(1)
        raise RuntimeError("store hiccup")

    monkeypatch.setattr(bus.store, "claim_many", broken)
    exs = bus.handle_many([(b, "r", None) for b in _events(4)], transport="embedded")
    monkeypatch.setattr(bus.store, "claim_many", real)
    assert calls == [1]
    assert _outcomes(exs) == [("OK", None)] * 4  # committed one by one instead
    assert bus.store.outbox_counts()["pending"] == 4
    assert len(bus.store.audit(limit=100)) == 8


def test_requests_that_wait_or_act_run_on_their_own(bus: Bus) -> None:
    """A local request (served inside cimbus) commits the batch before it: it must see it."""
    served = []
    bus.register_local("ODR", lambda env, b: served.append(env.message_id) or None)
    events = _events(2)
    local = msg("get", "EndDeviceEvents", message_id="odr-1")
    exs = bus.handle_many(
        [(events[0], "r", None), (local, "r", None), (local, "r", None), (events[1], "r", None)],
        transport="embedded",
    )
    assert served == ["odr-1"]  # the repeated request did not run the handler twice
    assert exs[0].result == "OK" and exs[3].result == "OK"
    assert exs[2].result == "DUPLICATE" or exs[2].error.code == "2.6"  # never served twice


def test_batch_entries_go_to_the_outbox_thread_from_memory(bus: Bus) -> None:
    bus.start()
    exs = bus.handle_many([(b, None, None) for b in _events(3)], transport="embedded")
    assert all(ex.result == "OK" for ex in exs)
    deadline = threading.Event()
    for _ in range(100):
        if len(bus.fake.delivered) == 3:
            break
        deadline.wait(0.05)
    assert len(bus.fake.delivered) == 3
    bus.stop()  # marks what was confirmed delivered
    assert bus.store.outbox_counts()["delivered"] == 3


@pytest.mark.parametrize("threads", [8])
def test_concurrent_messages_share_commits(bus: Bus, threads: int) -> None:
    bodies = _events(threads * 10)
    barrier = threading.Barrier(threads)
    results: list = []

    def work(chunk: list[bytes]) -> None:
        barrier.wait()
        for b in chunk:
            results.append(bus.handle(b, transport="embedded", reply_to="r"))

    ts = [threading.Thread(target=work, args=(bodies[i::threads],)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(results) == len(bodies) and all(ex.result == "OK" for ex in results)
    assert len(bus.store.audit(limit=1000)) == 2 * len(bodies)
    assert bus.store.outbox_counts()["pending"] == len(bodies)
    group = bus.pipeline._group
    assert group.groups <= len(bodies)
