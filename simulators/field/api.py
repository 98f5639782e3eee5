"""REST routes of the field simulator: ``GET /orders``, ``GET /orders/{id}``,
``POST /orders/{id}/status``, ``GET /crews``, ``POST /crews/{id}/position``, ``GET /prompts``,
``GET /latency``, ``GET|POST /local-switch``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Body, HTTPException

from simulators._core.api import rest_call

from .sim import FieldError

if TYPE_CHECKING:
    from .sim import Field


_BODY = Body(...)  # one required JSON body marker shared by the routes


def _errors(fn: Any) -> Any:
    return rest_call(fn, conflict=(FieldError,))


def add_routes(sim: Field, app: Any) -> None:
    @app.get("/orders")
    def orders(active: bool = False) -> list[dict[str, Any]]:
        with sim._lock:
            return [o.to_dict() for o in sim.orders.values() if o.active or not active]

    @app.get("/orders/{key}")
    def order(key: str) -> dict[str, Any]:
        with sim._lock:
            return _errors(lambda: sim.order(key).to_dict())

    @app.post("/orders/{key}/status")
    def set_status(key: str, body: dict[str, Any] = _BODY) -> dict[str, Any]:
        """The status button: ``{"status": "enRoute" | "onSite" | "ertSet" (with "ert") |
        "restored" (optional "cause", "causeKind") | "fieldComplete" (optional "ert",
        "lineCrew", "reason": creates the linked line-crew work order)}``."""
        status = body.get("status")
        actions = {
            "dispatched": lambda: sim.assign(key, body.get("crew")),
            "enRoute": lambda: sim.en_route(key),
            "onSite": lambda: sim.on_site(key),
            "ertSet": lambda: sim.set_ert(
                key,
                body["ert"],
                source=body.get("source"),
                confidence=body.get("confidence", "high"),
            ),
            "restored": lambda: sim.restored(
                key, cause=body.get("cause"), cause_kind=body.get("causeKind")
            ),
            "fieldComplete": lambda: sim.cannot_restore(
                key, body.get("ert"), line_crew=body.get("lineCrew"), reason=body.get("reason")
            ),
        }
        if status not in actions:
            raise HTTPException(422, f"status must be one of {', '.join(actions)}")
        if status == "ertSet" and "ert" not in body:
            raise HTTPException(422, "ertSet needs the new ert")
        changed = _errors(actions[status])
        return changed.to_dict()

    @app.get("/crews")
    def crews() -> list[dict[str, Any]]:
        with sim._lock:
            return [c.to_dict() for c in sim.crews.values()]

    @app.post("/crews/{crew}/position")
    def position(crew: str, body: dict[str, Any] = _BODY) -> dict[str, Any]:
        """``{"lat": .., "lon": ..}``: the vehicle's GPS; returns the orders now on site."""
        try:
            lat, lon = float(body["lat"]), float(body["lon"])
        except (KeyError, TypeError, ValueError):
            raise HTTPException(422, "give lat and lon in decimal degrees") from None
        arrived = _errors(lambda: sim.move_vehicle(crew, lat, lon))
        return {"crew": crew, "position": [lat, lon], "on_site": arrived}

    @app.get("/prompts")
    def prompts() -> list[dict[str, Any]]:
        with sim._lock:
            return list(sim.prompts)

    @app.get("/latency")
    def latency(limit: int = 100) -> dict[str, Any]:
        with sim._lock:
            return {"summary": sim.latency_summary(), "recent": list(sim.latencies)[-limit:]}

    @app.get("/local-switch")
    def local_log() -> list[dict[str, Any]]:
        with sim._lock:
            return list(sim.local_switch_log)

    @app.post("/local-switch", status_code=201)
    def local_switch(body: dict[str, Any] = _BODY) -> dict[str, Any]:
        """``{"crew": .., "meter": .., "action": "connect" | "disconnect", "at": ISO (optional),
        "user": .. (optional)}`` (B2-16)."""
        missing = [k for k in ("crew", "meter", "action") if k not in body]
        if missing:
            raise HTTPException(422, f"missing field(s): {', '.join(missing)}")
        return _errors(
            lambda: sim.local_switch(
                str(body["crew"]),
                str(body["meter"]),
                str(body["action"]),
                at=body.get("at"),
                user=body.get("user"),
            )
        )
