"""The head-end's own REST routes (added to the common simulator API, simulators/_core/api.py).

``GET /meters/{id}`` state, log and controls of a meter (meter number or ESIID) ·
``GET /meters/{id}/readings?start=&end=`` what it recorded ·
``POST /meters/{id}/local-toggle`` ``{"user": "...", "authorized": true, "action": "toggle",
"at": null}`` (B2-16) · ``POST /meters/{id}/customer-reconnect`` ``{"user": "customer"}``
(B2-13) · ``POST /meters/{id}/demand`` ``{"kw": 14.5}`` (``null``: back to the load shape) ·
``POST /meters/{id}/alarm`` ``{"kind": "tamper"}`` (DCC-3) · ``POST /meters/{id}/ping`` ·
``POST /power-down`` / ``POST /power-up`` ``{"meters": [...], "transformer": "...",
"feeder": "..."}`` (D11-1) · ``GET /stats``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Body, FastAPI, HTTPException

from simulators._core import SimError, iso

if TYPE_CHECKING:
    from .headend import HeadEnd


JsonBody = Annotated[dict[str, Any], Body()]
OptionalBody = Annotated[dict[str, Any] | None, Body()]


def _guard(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except SimError as err:
        raise HTTPException(404 if err.code == "2.12" else 422, err.reason) from None
    except (TypeError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None


def add_headend_routes(hes: HeadEnd, app: FastAPI) -> None:
    @app.get("/meters/{meter}")
    def meter_state(meter: str) -> dict[str, Any]:
        def get() -> dict[str, Any]:
            st = hes.peek(meter)
            return {
                "state": hes.switch_status(meter),
                "log": list(st.log) if st else [],
                "controls": hes.jobs(meter),
            }

        return _guard(get)

    @app.get("/meters/{meter}/readings")
    def meter_readings(
        meter: str, start: str | None = None, end: str | None = None
    ) -> dict[str, Any]:
        def get() -> dict[str, Any]:
            r = hes.readings(meter, start, end)
            return {
                **r,
                "intervals": [[iso(t), round(v, 3)] for t, v in r["intervals"]],
                "register": [iso(r["register"][0]), round(r["register"][1], 3)],
            }

        return _guard(get)

    @app.post("/meters/{meter}/local-toggle")
    def local_toggle(meter: str, body: JsonBody) -> dict[str, Any]:
        if "user" not in body or "authorized" not in body:
            raise HTTPException(422, "give user and authorized (and optionally action, at)")
        result = _guard(
            lambda: hes.local_toggle(
                meter,
                str(body["user"]),
                bool(body["authorized"]),
                at=body.get("at"),
                action=body.get("action", "toggle"),
            )
        )
        if result["result"].startswith("refused"):
            raise HTTPException(403, result)
        return result

    @app.post("/meters/{meter}/customer-reconnect")
    def customer_reconnect(meter: str, body: OptionalBody = None) -> dict[str, Any]:
        result = _guard(
            lambda: hes.customer_reconnect(meter, str((body or {}).get("user", "customer")))
        )
        if result["result"] == "refused":
            raise HTTPException(409, result)
        return result

    @app.post("/meters/{meter}/demand")
    def demand(meter: str, body: JsonBody) -> dict[str, Any]:
        kw = body.get("kw")
        return _guard(lambda: hes.set_demand(meter, None if kw is None else float(kw)))

    @app.post("/meters/{meter}/alarm")
    def alarm(meter: str, body: JsonBody) -> dict[str, Any]:
        _guard(lambda: hes.raise_alarm(meter, str(body.get("kind", ""))))
        return {"meter": meter, "alarm": body.get("kind")}

    @app.post("/meters/{meter}/ping")
    def ping(meter: str) -> dict[str, Any]:
        return {"meter": meter, "energised": _guard(lambda: hes.ping(meter))}

    def _outage(fn: Callable[..., list[str]], body: dict[str, Any]) -> dict[str, Any]:
        meters = _guard(
            lambda: fn(
                body.get("meters"), transformer=body.get("transformer"), feeder=body.get("feeder")
            )
        )
        return {"meters": meters, "count": len(meters)}

    @app.post("/power-down")
    def power_down(body: JsonBody) -> dict[str, Any]:
        return _outage(hes.power_down, body)

    @app.post("/power-up")
    def power_up(body: JsonBody) -> dict[str, Any]:
        return _outage(hes.power_up, body)

    @app.get("/stats")
    def stats() -> dict[str, Any]:
        return hes.stats()
