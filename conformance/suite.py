"""Scenarios, one per requirement ID, and the context they run in (issue 5; STYLE practice 8).

A scenario is a function registered with :func:`scenario`; its name carries the requirement ID
and its docstring the requirement text. It drives the simulators (the counterpart systems) and
checks what comes back, black-box: it reaches the system under test only over the wire, so the
same scenario runs against cimbus in-process, a deployed cimbus, or another vendor's endpoint::

    @scenario("ODR-4", suite="ODR", title="Only the ROR of record may ask")
    def odr_4_only_ror_of_record(ctx: Context) -> None:
        '''Only the ROR of record for that ESIID may ask; others get a FAILED reply ...'''
        answer = ctx.sim("cis").on_demand_read(esiid, org="REP-OTHER")
        ctx.check(answer.result == "FAILED", "a retailer that is not the ROR is refused", answer=answer)

Every :meth:`Context.check` is recorded (passed or not) with its evidence; the first failed
check ends the scenario. The messages the simulators exchanged with the target during the
scenario are collected from their journals, in order, for the assertion document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "SCENARIOS",
    "Assertion",
    "Context",
    "Observed",
    "Scenario",
    "ScenarioFailed",
    "ScenarioResult",
    "scenario",
    "scenarios_for",
]


class ScenarioFailed(AssertionError):
    """A check failed (the scenario stops there)."""


class ScenarioNotApplicable(Exception):
    """The target cannot run this check (e.g. its clock cannot be moved); reported as such."""


@dataclass(frozen=True)
class Scenario:
    id: str  # requirement ID, e.g. ODR-2
    suite: str  # ODR, B2, D11, ...
    title: str
    requirement: str  # the requirement text (the function's docstring)
    run: Callable[[Context], None]
    needs: tuple[str, ...] = ()  # simulators the scenario drives


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    req_id: str, *, suite: str, title: str, needs: tuple[str, ...] = ()
) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    """Register a scenario for requirement ``req_id`` (one per ID)."""

    def register(fn: Callable[[Context], None]) -> Callable[[Context], None]:
        if req_id in SCENARIOS:
            raise ValueError(
                f"requirement {req_id} already has a scenario ({SCENARIOS[req_id].run.__name__})"
            )
        doc = " ".join((fn.__doc__ or "").split())
        if not doc:
            raise ValueError(f"scenario {fn.__name__} needs the requirement text as its docstring")
        SCENARIOS[req_id] = Scenario(req_id, suite, title, doc, fn, needs)
        return fn

    return register


def _load_suites() -> None:
    from . import suites  # noqa: F401  (registers the scenarios)


def scenarios_for(suites: list[str] | None = None) -> list[Scenario]:
    """The scenarios of the named suites (all when None), in requirement order."""
    _load_suites()
    wanted = {s.upper() for s in suites} if suites else None
    unknown = (wanted or set()) - {s.suite for s in SCENARIOS.values()}
    if unknown:
        known = ", ".join(sorted({s.suite for s in SCENARIOS.values()}))
        raise KeyError(f"unknown suite(s) {', '.join(sorted(unknown))}; known: {known}")

    def order(s: Scenario) -> tuple[str, int]:
        prefix, _, num = s.id.partition("-")
        return prefix, int(num) if num.isdigit() else 0

    return sorted((s for s in SCENARIOS.values() if wanted is None or s.suite in wanted), key=order)


@dataclass(frozen=True)
class Assertion:
    description: str
    passed: bool
    evidence: str = ""


@dataclass(frozen=True)
class Observed:
    """One message seen at a simulator: ``frm`` -> ``to`` (the target is "cimbus")."""

    seq: int
    at: str
    frm: str
    to: str
    verb: str
    noun: str
    message_id: str | None
    correlation_id: str | None
    result: str | None
    note: str = ""

    def line(self) -> str:
        ids = f"id={self.message_id or '-'}" + (
            f" corr={self.correlation_id}" if self.correlation_id else ""
        )
        res = f"  {self.result}" if self.result else ""
        return f"{self.at}  {self.frm} -> {self.to}  {self.verb} {self.noun}  {ids}{res}{'  ' + self.note if self.note else ''}"


@dataclass
class ScenarioResult:
    scenario: Scenario
    status: str = "passed"  # passed | failed | error | not-applicable
    duration: float = 0.0
    assertions: list[Assertion] = field(default_factory=list)
    messages: list[Observed] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        return self.status in ("passed", "not-applicable")


class Context:
    """What a scenario sees: the simulators, the profile, the clock, checks."""

    def __init__(self, world: Any, result: ScenarioResult) -> None:
        self.world = world
        self.result = result
        self.clock = world.clock
        self.profile = world.profile

    def sim(self, name: str) -> Any:
        return self.world.sim(name)

    @property
    def round(self) -> int:
        """Which set of usage points to use (``cimbus conformance --round``; 0 by default)."""
        return self.world.round

    @property
    def can_move_clock(self) -> bool:
        """True when the target's clock is the harness's (cimbus in-process)."""
        return self.world.controls_clock

    def now(self) -> datetime:
        return self.clock.now()

    def check(self, condition: Any, description: str, **evidence: Any) -> None:
        text = "; ".join(f"{k}={_show(v)}" for k, v in evidence.items())
        self.result.assertions.append(Assertion(description, bool(condition), text))
        if not condition:
            raise ScenarioFailed(f"{description}" + (f" ({text})" if text else ""))

    def note(self, text: str) -> None:
        self.result.assertions.append(Assertion(f"note: {text}", True))

    def not_applicable(self, why: str) -> None:
        raise ScenarioNotApplicable(why)


def _show(value: Any) -> str:
    summary = getattr(value, "summary", None)
    if callable(summary):
        errors = getattr(value, "errors", None)
        extra = f" errors={errors}" if errors else ""
        return f"[{summary()}{extra}]"
    text = str(value)
    return text if len(text) <= 300 else text[:297] + "..."
