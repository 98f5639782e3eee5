"""The benchmark scripts answer bad arguments with a usage message, not a traceback (issue 3:
`python bench/bench_bus_amqp.py --help` used to raise ValueError from int("--help"))."""

from __future__ import annotations

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
