"""REST routes of the OMS simulator: ``GET /outages``, ``GET /outages/{id}``,
``POST /outages/planned``, ``POST /outages/{id}/verify``, ``POST /calls``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Body, HTTPException

if TYPE_CHECKING:
    from .sim import Oms


_BODY = Body(...)  # one required JSON body marker shared by the routes


def add_routes(oms: Oms, app: Any) -> None:
    @app.get("/outages")
    def outages(status: str = "all") -> list[dict[str, Any]]:
        """Every outage (``?status=open`` or ``closed`` to filter)."""
        with oms._lock:
            items = list(oms.outages.values())
            if status == "open":
                items = [o for o in items if o.open]
            elif status == "closed":
                items = [o for o in items if not o.open]
            return [o.summary() for o in items]

    @app.get("/outages/{key}")
    def outage(key: str) -> dict[str, Any]:
        with oms._lock:
            try:
                return oms.detail(oms.outage(key))
            except KeyError as exc:
                raise HTTPException(404, str(exc)) from None

    @app.post("/outages/planned", status_code=201)
    def planned(body: dict[str, Any] = _BODY) -> dict[str, Any]:
        """``{"targets": [ESIID | meter | transformer | feeder, ...], "start": ISO, "end": ISO,
        "reason": "..."}`` -> the announced outage (D11-9)."""
        missing = [k for k in ("targets", "start", "end", "reason") if k not in body]
        if missing:
            raise HTTPException(422, f"missing field(s): {', '.join(missing)}")
        try:
            o = oms.plan_outage(body["targets"], body["start"], body["end"], str(body["reason"]))
        except KeyError as exc:
            raise HTTPException(404, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return o.summary()

    @app.post("/outages/{key}/verify")
    def verify(key: str) -> dict[str, Any]:
        """Start a restoration-verification round now (D11-7)."""
        try:
            rnd = oms.verify(key)
        except KeyError as exc:
            raise HTTPException(404, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from None
        return rnd.to_dict() if rnd else {}

    @app.post("/calls", status_code=202)
    def calls(body: dict[str, Any] = _BODY) -> dict[str, Any]:
        """``{"esiid": "...", "at": ISO (optional)}``: a customer reports no power (D11-1)."""
        esiid = body.get("esiid") or body.get("meter")
        if not esiid:
            raise HTTPException(422, "give the caller's esiid")
        try:
            oms.report_call(str(esiid), body.get("at"))
        except KeyError as exc:
            raise HTTPException(404, str(exc)) from None
        found = oms.outage_of(str(esiid))
        return {"esiid": esiid, "outage": found.number if found else None}
