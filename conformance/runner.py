"""Run conformance scenarios (issue 5): each in a fresh world, results with their evidence."""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from .harness import World
from .suite import (
    Assertion,
    Context,
    Scenario,
    ScenarioFailed,
    ScenarioNotApplicable,
    ScenarioResult,
)

__all__ = ["run_scenarios"]

Progress = Callable[[str, Scenario, ScenarioResult | None], None]


def run_scenarios(
    scenarios: Sequence[Scenario],
    make_world: Callable[[Scenario], World],
    *,
    progress: Progress | None = None,
    settle: float = 0.2,
    scenario_timeout: float | None = None,
    run_timeout: float | None = None,
) -> list[ScenarioResult]:
    """Run each scenario in a world from ``make_world`` (closed afterwards). A failed check is
    *failed*; anything else raised is *error*; the target that cannot run a check (e.g. its
    clock cannot be moved) is *not-applicable*. Never raises for a scenario's sake.

    ``scenario_timeout`` bounds each scenario (building its world included) and
    ``run_timeout`` the whole run, in seconds: a scenario still running at its limit is an
    *error* naming the limit (its thread is abandoned, its world closed), and the scenarios
    left when the run's limit is reached are *errors* without being started. Every scenario
    gets a verdict, in bounded time."""
    results = []
    run_deadline = time.monotonic() + run_timeout if run_timeout is not None else None
    for sc in scenarios:
        if progress:
            progress("start", sc, None)
        result = ScenarioResult(sc)
        started = time.perf_counter()
        limit, why = scenario_timeout, "its time limit"
        if run_deadline is not None:
            left = run_deadline - time.monotonic()
            if limit is None or left < limit:
                limit, why = max(left, 0.0), "the run's time limit"
        if limit is not None and limit <= 0:
            result.status = "error"
            result.error = f"{sc.id} not run: the run's time limit of {run_timeout:g} s was reached"
        else:
            _run_one(sc, result, make_world, settle, limit, why, scenario_timeout, run_timeout)
        result.duration = time.perf_counter() - started
        results.append(result)
        if progress:
            progress("done", sc, result)
    return results


def _run_one(
    sc: Scenario,
    result: ScenarioResult,
    make_world: Callable[[Scenario], World],
    settle: float,
    limit: float | None,
    why: str,
    scenario_timeout: float | None,
    run_timeout: float | None,
) -> None:
    holder: list[World] = []
    outcome = ScenarioResult(sc)  # filled by the thread; copied into result when it finished

    def body() -> None:
        try:
            world = make_world(sc)
            holder.append(world)
            mark = world.mark()
            try:
                sc.run(Context(world, outcome))
            finally:
                time.sleep(settle)  # let trailing events land in the journals
                outcome.messages = world.observed_since(mark)
        except ScenarioFailed as exc:
            outcome.status, outcome.error = "failed", str(exc)
        except ScenarioNotApplicable as exc:
            outcome.status, outcome.error = "not-applicable", str(exc)
        except Exception as exc:
            outcome.status = "error"
            outcome.error = f"{type(exc).__name__}: {exc}"
            outcome.assertions.append(_trace(exc))

    thread = threading.Thread(target=body, name=f"conformance {sc.id}", daemon=True)
    thread.start()
    thread.join(limit)
    timed_out = thread.is_alive()
    result.assertions = list(outcome.assertions)
    if timed_out:
        seconds = scenario_timeout if why == "its time limit" else run_timeout
        result.status = "error"
        result.error = (
            f"{sc.id} did not finish within {why} of {seconds:g} s "
            "(the target did not answer in time); abandoned"
        )
        result.assertions.append(Assertion(result.error, False))
        if holder:
            with contextlib.suppress(Exception):
                result.messages = holder[0].observed_since(0)
    else:
        result.status, result.error, result.messages = (
            outcome.status,
            outcome.error,
            outcome.messages,
        )
    if holder:
        closer = threading.Thread(target=_close, args=(holder[0],), daemon=True)
        closer.start()
        closer.join(30.0)  # a world that cannot even close is left behind, not waited for


def _close(world: World) -> None:
    with contextlib.suppress(Exception):
        world.close()


def _trace(exc: BaseException) -> Any:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=6))
    return Assertion("the scenario raised an unexpected error", False, tb[-2000:])
