"""The REST API every simulator offers (issue 4): inspect, drive, misbehave.

``GET /`` status · ``GET /journal?limit=`` messages in and out · ``GET /faults`` ·
``PUT /faults`` / ``PUT /faults/{key}`` set knobs (JSON body, e.g. ``{"latency": 2}``) ·
``DELETE /faults`` · ``GET /clock`` · ``POST /clock/advance`` (``{"seconds": 120}``).
Each simulator adds its own routes (``add_routes``), e.g. the head-end's ``/meters/{id}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Body, FastAPI, HTTPException

if TYPE_CHECKING:
    from .base import Simulator


def rest_call(
    fn: Callable[..., Any],
    *args: Any,
    conflict: tuple[type[Exception], ...] = (),
    unavailable: tuple[type[Exception], ...] = (),
    **kwargs: Any,
) -> Any:
    """``fn(*args, **kwargs)`` for a REST route, its errors as HTTP statuses: KeyError 404
    (unknown object), ``conflict`` 409, ValueError 422, ``unavailable`` 503."""
    try:
        return fn(*args, **kwargs)
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0]) if exc.args else "not found") from None
    except conflict as exc:
        raise HTTPException(409, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    except unavailable as exc:
        raise HTTPException(503, str(exc)) from None


def build_api(sim: Simulator) -> FastAPI:
    app = FastAPI(title=f"cimbus {sim.name} simulator", description=sim.title)

    @app.get("/")
    def status() -> dict[str, Any]:
        return sim.status()

    @app.get("/journal")
    def journal(limit: int = 100) -> list[dict[str, Any]]:
        return sim.journal_dicts(limit)

    @app.get("/faults")
    def faults() -> dict[str, Any]:
        return sim.faults.describe()

    @app.put("/faults")
    def set_faults(values: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return rest_call(sim.faults.set, None, **values).to_dict()

    @app.put("/faults/{key}")
    def set_key_faults(key: str, values: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return rest_call(sim.faults.set, key, **values).to_dict()

    @app.delete("/faults")
    def clear_faults() -> dict[str, Any]:
        sim.faults.clear()
        return sim.faults.describe()

    @app.get("/clock")
    def clock() -> dict[str, Any]:
        return sim.clock.describe()

    @app.post("/clock/advance")
    def advance(body: Annotated[dict[str, float], Body()]) -> dict[str, Any]:
        seconds = float(body.get("seconds", 0))
        if seconds < 0:
            raise HTTPException(422, "the simulated clock only moves forward")
        fired = sim.clock.advance(seconds)
        return {**sim.clock.describe(), "fired": fired}

    sim.add_routes(app)
    return app
