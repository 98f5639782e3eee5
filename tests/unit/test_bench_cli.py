"""The benchmark scripts answer bad arguments with a usage message, not a traceback (issue 3:
`python bench/bench_bus_amqp.py --help` used to raise ValueError from int("--help"))."""

from __future__ import annotations

import os
import time

import pytest

from bench import bench_bus_amqp


def test_amqp_bench_help_exits_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        bench_bus_amqp.main(["--help"])
    assert exc.value.code == 0
    assert "messages per run" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arg", "says"), [("abc", "not a whole number: 'abc'"), ("0", "must be at least 1, got 0")]
)
def test_amqp_bench_refuses_a_bad_message_count(
    arg: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        bench_bus_amqp.main([arg])
    assert exc.value.code == 2
    assert says in capsys.readouterr().err


def test_cpu_meter_sees_this_process_and_the_machine() -> None:
    with bench_bus_amqp.CpuMeter() as meter:
        deadline = time.process_time() + 0.2
        while time.process_time() < deadline:  # burn 0.2 s of CPU in this process
            pass
    assert meter.seconds["load generator"] >= 0.1
    assert 0.0 < meter.machine_busy <= 1.0
    assert meter.per_message(1000)["load generator"] >= 100  # us per message


def test_the_machine_budget_names_the_ceiling(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_bus_amqp.cpu_ceiling(500, 2) == 4000
    assert bench_bus_amqp.cpu_ceiling(0, 2) == 0
    raw, routed = bench_bus_amqp.CpuMeter(), bench_bus_amqp.CpuMeter()
    raw.seconds = {"load generator": 1.0, "RabbitMQ": 1.0, "cimbus": 0.0}
    routed.seconds = {"load generator": 1.0, "RabbitMQ": 2.0, "cimbus": 2.0}
    bench_bus_amqp._print_machine_budget(raw, routed, 10_000, 8_000.0)
    out = capsys.readouterr().out
    assert "raw pika" in out and "200 us  (load generator 100, RabbitMQ 100)" in out
    assert "500 us  (load generator 100, RabbitMQ 200, cimbus 200)" in out
    cpus = os.cpu_count() or 1
    ceiling = cpus / 500e-6
    assert f"carry at most {ceiling:,.0f} msg/s" in out
    assert f"= {ceiling / 8000:.2f}x of raw" in out


def test_the_budget_is_that_of_the_sqlite_one_worker_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """bench_amqp prints the machine budget of the one-worker SQLite run, not of the one-worker
    PostgreSQL run measured after it (both record their CPU; the later one used to win)."""
    import contextlib

    b = bench_bus_amqp

    class _Conn:
        def close(self) -> None:
            pass

    def meter(cimbus_seconds: float) -> bench_bus_amqp.CpuMeter:
        m = b.CpuMeter()
        m.seconds = {"load generator": 1.0, "RabbitMQ": 1.0, "cimbus": cimbus_seconds}
        return m

    def raw_pika(bodies: list[bytes]) -> float:
        b.LAST_CPU["raw"] = meter(0.0)
        return 8000.0

    def through_cimbus(bodies, *, own_process=True, workers=1, store_url=None):
        if own_process and workers == 1:
            b.LAST_CPU["cimbus"] = meter(3.0 if store_url else 2.0)  # PostgreSQL costs more
            b.LAST_THREADS[:] = [(200.0, "cimbus-amqp-in batch")]
            b.LAST_BATCHES[:] = [10]
        return 2000.0, {"pending": 0}

    @contextlib.contextmanager
    def postgres_store():
        yield "postgresql+psycopg://fake/db"

    monkeypatch.setattr(b.pika, "BlockingConnection", lambda params: _Conn())
    monkeypatch.setattr(b, "raw_pika", raw_pika)
    monkeypatch.setattr(b, "raw_relay", lambda bodies: 6000.0)
    monkeypatch.setattr(b, "through_cimbus", through_cimbus)
    monkeypatch.setattr(b, "_postgres_store", postgres_store)
    b.bench_amqp(10)
    out = capsys.readouterr().out
    # 10 messages: 2.0 s of cimbus CPU = 200,000 us per message (the SQLite run's)
    assert "cimbus 200000)" in out, out
    assert "cimbus 300000)" not in out
