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
