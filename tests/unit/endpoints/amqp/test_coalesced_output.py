"""The publisher's connection writes the frames of many publishes at once (CoalescedOutput,
endpoints/amqp/_publisher.py; BUS-5 speed): pika hands its transport each frame on its own and
the transport sends each with its own system call, three per published message."""

from __future__ import annotations

from endpoints.amqp._publisher import CoalescedOutput


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)


class _PikaConnection:
    """What pika's BaseConnection does with a marshaled frame."""

    def __init__(self) -> None:
        self._transport: _Transport | None = _Transport()

    def _adapter_emit_data(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)


class _Connection(CoalescedOutput, _PikaConnection):
    pass


def _publish(conn: _Connection, i: int) -> None:  # method, header and body frames
    for part in (b"M", b"H", b"B"):
        conn._adapter_emit_data(part + str(i).encode())


def test_frames_inside_the_block_leave_in_one_write() -> None:
    conn = _Connection()
    with conn.coalesced():
        for i in range(100):
            _publish(conn, i)
        assert conn._transport.writes == []  # held until the block ends
    (written,) = conn._transport.writes
    assert written == b"".join(p + str(i).encode() for i in range(100) for p in (b"M", b"H", b"B"))
    assert conn.coalesced_writes == 1


def test_frames_outside_a_block_pass_straight_through() -> None:
    conn = _Connection()
    conn._adapter_emit_data(b"heartbeat")
    with conn.coalesced():
        _publish(conn, 1)
    conn._adapter_emit_data(b"ack")
    assert conn._transport.writes == [b"heartbeat", b"M1H1B1", b"ack"]


def test_large_blocks_are_written_in_bounded_buffers() -> None:
    conn = _Connection()
    conn.COALESCE_BYTES = 10
    with conn.coalesced():
        for _ in range(4):
            conn._adapter_emit_data(b"x" * 6)
    assert conn._transport.writes == [b"x" * 12, b"x" * 12]


def test_nested_blocks_write_once_at_the_outer_end() -> None:
    conn = _Connection()
    with conn.coalesced():
        _publish(conn, 1)
        with conn.coalesced():
            _publish(conn, 2)
        assert conn._transport.writes == []
    assert conn._transport.writes == [b"M1H1B1M2H2B2"]


def test_an_error_in_the_block_still_writes_what_was_marshaled() -> None:
    conn = _Connection()
    try:
        with conn.coalesced():
            _publish(conn, 1)
            raise RuntimeError("channel closed")
    except RuntimeError:
        pass
    assert conn._transport.writes == [b"M1H1B1"]
    conn._adapter_emit_data(b"after")  # the block is over: straight through again
    assert conn._transport.writes[-1] == b"after"


def test_a_closed_connection_drops_the_held_frames_without_raising() -> None:
    conn = _Connection()
    with conn.coalesced():
        _publish(conn, 1)
        conn._transport = None  # closed meanwhile: the close callback fails the unconfirmed
    assert conn.coalesced_writes == 0
