"""Run conformance scenarios (issue 5): each in a fresh world, results with their evidence."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from .harness import World
from .suite import Context, Scenario, ScenarioFailed, ScenarioNotApplicable, ScenarioResult

__all__ = ["run_scenarios"]

Progress = Callable[[str, Scenario, ScenarioResult | None], None]


def run_scenarios(
    scenarios: Sequence[Scenario],
    make_world: Callable[[Scenario], World],
    *,
    progress: Progress | None = None,
    settle: float = 0.2,
) -> list[ScenarioResult]:
    """Run each scenario in a world from ``make_world`` (closed afterwards). A failed check is
    *failed*; anything else raised is *error*; the target that cannot run a check (e.g. its
    clock cannot be moved) is *not-applicable*. Never raises for a scenario's sake."""
    results = []
    for sc in scenarios:
        if progress:
            progress("start", sc, None)
        result = ScenarioResult(sc)
        started = time.perf_counter()
        world: World | None = None
        try:
            world = make_world(sc)
            mark = world.mark()
            try:
                sc.run(Context(world, result))
            finally:
                time.sleep(settle)  # let trailing events land in the journals
                result.messages = world.observed_since(mark)
        except ScenarioFailed as exc:
            result.status, result.error = "failed", str(exc)
        except ScenarioNotApplicable as exc:
            result.status, result.error = "not-applicable", str(exc)
        except Exception as exc:
            result.status = "error"
            result.error = f"{type(exc).__name__}: {exc}"
            result.assertions.append(_trace(exc))
        finally:
            if world is not None:
                world.close()
        result.duration = time.perf_counter() - started
        results.append(result)
        if progress:
            progress("done", sc, result)
    return results


def _trace(exc: BaseException) -> Any:
    from .suite import Assertion

    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=6))
    return Assertion("the scenario raised an unexpected error", False, tb[-2000:])
