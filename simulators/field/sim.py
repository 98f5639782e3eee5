"""The consolidated field mobile solution (CMS) simulator (D11-3, D11-5, D11-6, D11-10, B2-16).

What is simulated:

* **Crews** from the profile (``[field] crews``: id, kind ``trouble`` or ``line``, home
  ``[lat, lon]``), each with a vehicle position (at home to start with).
* **Dispatch (D11-3).** Every new trouble order in a ``created`` / ``changed OutageRecords``
  from the OMS (status awaitingCrewAssignment) is dispatched at once to the least busy, nearest
  crew of the right kind (trouble crews for unplanned outages, line crews for planned outages
  and work orders): status *dispatched*.
* **The worker's status button (D11-3, D11-6).** :meth:`Field.en_route`,
  :meth:`Field.move_vehicle` (the vehicle's GPS: entering the job-site geofence,
  ``[field] geofence_m``, sets *onSite* by itself), :meth:`Field.on_site`,
  :meth:`Field.set_ert` (*ertSet* with a new EstimatedRestorationTime), :meth:`Field.restored`,
  :meth:`Field.cannot_restore` (*fieldComplete* and a linked work order for a line crew with a
  new ERT, estimated like a work-management system would - travel time plus standard repair
  time - unless the worker gives one; field staff may override it later with ``set_ert``).
  Each change goes to cimbus as ``changed OutageRecords`` (record mRID, the TroubleOrders
  entry, the new ERT when relevant); cimbus fans it out to OMS, CIS and CRM.
* **ERT validation prompt (D11-5).** ``[field] ert_prompt_minutes`` (default 30) simulated
  minutes before an order's ERT the worker is prompted to validate it (:attr:`Field.prompts`,
  the journal, ``GET /prompts``); a new ERT reschedules the prompt. An ERT closer than that
  when it is set gets no prompt (the worker has just set it).
* **Latency (D11-10).** For every publication the simulated and wall-clock time since the
  status change (for a dispatch: since the order was received) is recorded in
  :attr:`Field.latencies` (``GET /latency``); targets 60 s for dispatch and 600 s for field
  updates, the adapter's goal being sub-second. ``[field] uplink_delay_s`` (default 0) delays
  every publication by that much simulated time, to model a slow mobile network.
* **Local switch operation (B2-16).** :meth:`Field.local_switch` logs a field employee's local
  connect / disconnect at a meter, now or at a later time, with user identity and whether the
  employee is authorised (a crew of the profile); the meter-side effect is the head-end's
  business: set :attr:`Field.local_switch_hook` to forward it (the AMI learns of it from the
  meter).

Without a bus (unit tests) everything the field solution would send is kept in
:attr:`Field.sent`.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .._core import Incoming, Simulator, Timer, by_key, event, iso, parse_time
from ..oms.records import RecordData, TroubleOrderData, outage_records, records_of
from .geo import centre, distance_m, site_for

__all__ = ["CAUSE_KINDS", "Crew", "Field", "FieldConfig", "FieldError", "Order"]

#: OutageCauseKind literals (the CIM spelling, "lightingStrike" included).
CAUSE_KINDS = ("animal", "lightingStrike", "lineDown", "poleDown", "treeDown")
_BEFORE_ARRIVAL = ("assigned", "dispatched", "acknowledged", "enRoute", "ertSet")


class FieldError(ValueError):
    """A status change the order's state does not allow (REST: 409)."""


@dataclass(frozen=True)
class CrewSpec:
    id: str
    kind: str
    home: tuple[float, float]


@dataclass(frozen=True)
class FieldConfig:
    """``[field]`` profile keys."""

    crews: tuple[CrewSpec, ...] = ()
    geofence_m: float = 150.0
    ert_prompt_minutes: float = 30.0
    uplink_delay_s: float = 0.0
    speed_kmh: float = 40.0
    line_repair_minutes: float = 180.0
    site_min_m: float = 1000.0
    site_max_m: float = 5000.0

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> FieldConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(section) - known
        if unknown:
            raise ValueError(
                f"[field]: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})"
            )
        values = dict(section)
        crews = []
        for i, c in enumerate(values.pop("crews", [])):
            try:
                kind = str(c.get("kind", "trouble"))
                if kind not in ("trouble", "line"):
                    raise ValueError(f"kind must be trouble or line, not {kind!r}")
                home = tuple(float(x) for x in c["home"])
                if len(home) != 2:
                    raise ValueError("home is [lat, lon]")
                crews.append(CrewSpec(str(c["id"]), kind, (home[0], home[1])))
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"[field] crews[{i}]: {exc}") from None
        return cls(crews=tuple(crews), **{k: float(v) for k, v in values.items()})


@dataclass
class Crew:
    id: str
    kind: str  # trouble | line
    home: tuple[float, float]
    position: tuple[float, float]
    orders: list[str] = field(default_factory=list)  # active order mRIDs

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "home": list(self.home),
            "position": list(self.position),
            "orders": list(self.orders),
        }


@dataclass
class Order:
    """A trouble order (from the OMS) or a line-crew work order (created in the field)."""

    mrid: str
    number: str
    kind: str  # trouble | work
    outage: str  # OutageRecord mRID
    status: str
    status_time: datetime
    site: tuple[float, float]
    site_key: str
    crew: str | None = None
    ert: datetime | None = None
    ert_source: str | None = None
    ert_confidence: str | None = None
    ert_by_field: bool = False
    arrived: bool = False
    linked: str | None = None
    linked_number: str | None = None
    closed: bool = False
    received_wall: float | None = None
    received_sim: datetime | None = None
    history: list[tuple[str, str]] = field(default_factory=list)
    prompt_timer: Timer | None = None

    @property
    def active(self) -> bool:
        return not self.closed and self.status not in ("fieldComplete", "restored")

    def data(self) -> TroubleOrderData:
        """The order as a ``TroubleOrders`` entry."""
        if self.kind == "work":
            return TroubleOrderData(
                self.mrid,
                self.status,
                self.status_time,
                self.crew,
                self.number,
                "work",
                linked_trouble_order=self.linked_number,
            )
        return TroubleOrderData(
            self.mrid,
            self.status,
            self.status_time,
            self.crew,
            self.number,
            "trouble",
            work_order=self.linked,
            work_order_number=self.linked_number,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mrid": self.mrid,
            "number": self.number,
            "kind": self.kind,
            "outage": self.outage,
            "status": self.status,
            "status_time": iso(self.status_time),
            "crew": self.crew,
            "site": list(self.site),
            "site_key": self.site_key,
            "arrived": self.arrived,
            "ert": iso(self.ert) if self.ert else None,
            "ert_source": self.ert_source,
            "linked": self.linked_number,
            "active": self.active,
            "history": [{"at": at, "status": s} for at, s in self.history],
        }


class Field(Simulator):
    """The field mobile solution (see the module docstring). Subscribes to ``created`` /
    ``changed`` / ``closed OutageRecords``; publishes ``changed OutageRecords``."""

    name = "field"
    system = "FIELD"
    title = (
        "Field mobile solution: trouble-order status, GPS geofence, ERT prompts, linked work orders"
    )
    requirements = ("D11-3", "D11-5", "D11-6", "D11-10", "B2-16")

    def __init__(self, profile: Any = None, **kwargs: Any) -> None:
        super().__init__(profile, **kwargs)
        self.config = FieldConfig.from_section(self.profile.section("field"))
        self.crews: dict[str, Crew] = {
            c.id: Crew(c.id, c.kind, c.home, c.home) for c in self.config.crews
        }
        self.centre = centre(c.home for c in self.config.crews)
        self.records: dict[str, RecordData] = {}
        self.orders: dict[str, Order] = {}
        self.prompts: list[dict[str, Any]] = []
        self.latencies: deque[dict[str, Any]] = deque(maxlen=10_000)
        self.local_switch_log: list[dict[str, Any]] = []
        #: called with each local switch entry when it is carried out (B2-16), e.g. the head-end
        #: simulator's local-toggle method in a demo wiring.
        self.local_switch_hook: Callable[[dict[str, Any]], object] | None = None
        self.sent: deque[bytes] = deque(maxlen=10_000)
        self._wo_seq = 0
        self._sites: dict[str, tuple[float, float]] = {}

    # ================================================================== geography
    def job_site(self, key: str) -> tuple[float, float]:
        """The deterministic position of a transformer (or usage point) job site."""
        if key not in self._sites:
            self._sites[key] = site_for(
                key, self.centre, min_m=self.config.site_min_m, max_m=self.config.site_max_m
            )
        return self._sites[key]

    def _site_of(self, record: RecordData) -> tuple[str, tuple[float, float]]:
        """The job site of an outage: the transformer with most affected usage points."""
        counts: dict[str, int] = {}
        for up in record.usage_points:
            spec = self.profile.find_meter(up)
            key = (spec.transformer or spec.esiid) if spec else up
            counts[key] = counts.get(key, 0) + 1
        if not counts:
            key = record.number or record.mrid
        else:
            key = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        return key, self.job_site(key)

    # ================================================================== inbound
    def on_event(self, incoming: Incoming) -> None:
        """Outage records from the OMS: new trouble orders are dispatched (D11-3)."""
        if incoming.noun != "OutageRecords" or incoming.source == self.system:
            return
        wall0, sim0 = time.perf_counter(), self.clock.now()
        with self._lock:
            for rec in records_of(incoming.payload):
                if incoming.verb == "closed" or rec.status == "closed":
                    self._closed(rec)
                elif incoming.verb in ("created", "changed"):
                    self.receive(rec, _wall0=wall0, _sim0=sim0)

    def receive(
        self, record: RecordData, *, _wall0: float | None = None, _sim0: datetime | None = None
    ) -> list[Order]:
        """Take an outage record from the OMS; returns the orders dispatched."""
        wall0 = _wall0 if _wall0 is not None else time.perf_counter()
        with self._lock:
            sim0 = _sim0 or self.clock.now()
            self.records[record.mrid] = record
            dispatched: list[Order] = []
            for t in record.trouble_orders:
                if t.mrid in self.orders:
                    continue
                key, site = self._site_of(record)
                order = Order(
                    mrid=t.mrid,
                    number=t.number or t.mrid[:8],
                    kind=t.kind,
                    outage=record.mrid,
                    status=t.status,
                    status_time=t.status_time or sim0,
                    site=site,
                    site_key=key,
                    crew=t.crew,
                    ert=record.ert,
                    ert_source=record.ert_source,
                    ert_confidence=record.ert_confidence,
                    received_wall=wall0,
                    received_sim=sim0,
                )
                order.history.append((iso(sim0), f"received ({t.status})"))
                self.orders[order.mrid] = order
                if t.status in ("awaitingCrewAssignment", "assigned") and not t.crew:
                    if self._dispatch(order, None, wall0=wall0, sim0=sim0):
                        dispatched.append(order)
                elif t.crew in self.crews and order.active:
                    self.crews[t.crew].orders.append(order.mrid)
            if record.ert is not None:
                for order in self._orders_of(record.mrid):
                    if order.active and not order.ert_by_field and order.ert != record.ert:
                        order.ert, order.ert_source, order.ert_confidence = (
                            record.ert,
                            record.ert_source,
                            record.ert_confidence,
                        )
                    self._schedule_prompt(order)
            return dispatched

    def _closed(self, record: RecordData) -> None:
        self.records[record.mrid] = record
        for order in self._orders_of(record.mrid):
            if not order.closed:
                order.closed = True
                order.history.append((iso(self.clock.now()), "outage closed"))
                self._release(order)

    def _orders_of(self, outage: str) -> list[Order]:
        return [o for o in self.orders.values() if o.outage == outage]

    # ================================================================== dispatch
    def _pick_crew(self, kind: str, site: tuple[float, float]) -> Crew | None:
        pool = [c for c in self.crews.values() if c.kind == kind] or list(self.crews.values())
        if not pool:
            return None
        return min(pool, key=lambda c: (len(c.orders), distance_m(c.position, site), c.id))

    def assign(self, order: str, crew: str | None = None) -> Order:
        """(Re)assign ``order`` to ``crew`` (default: chosen as on receipt) and mark it
        dispatched."""
        with self._lock:
            o = self.order(order)
            if not o.active:
                raise FieldError(f"{o.number} is {o.status}: it cannot be dispatched")
            if crew is not None and crew not in self.crews:
                raise KeyError(f"unknown crew {crew!r}")
            self._release(o)
            o.arrived = False
            if not self._dispatch(o, crew, wall0=time.perf_counter(), sim0=self.clock.now()):
                raise FieldError("no crew is available")
            return o

    def _dispatch(self, order: Order, crew_id: str | None, *, wall0: float, sim0: datetime) -> bool:
        record = self.records.get(order.outage)
        kind = (
            "line" if order.kind == "work" or (record is not None and record.planned) else "trouble"
        )
        crew = self.crews[crew_id] if crew_id else self._pick_crew(kind, order.site)
        if crew is None:
            self._remark(f"{order.number}: no crew available")
            return False
        order.crew = crew.id
        crew.orders.append(order.mrid)
        self._set(order, "dispatched")
        self._report(
            order.outage,
            [order],
            comment=f"{order.number} dispatched to crew {crew.id}",
            wall0=wall0,
            sim0=sim0,
            target_s=60.0,
            what="dispatch",
        )
        return True

    def _release(self, order: Order) -> None:
        if order.prompt_timer is not None:
            order.prompt_timer.cancel()
            order.prompt_timer = None
        crew = self.crews.get(order.crew or "")
        if crew is not None and order.mrid in crew.orders:
            crew.orders.remove(order.mrid)

    # ================================================================== the status button
    def order(self, key: str) -> Order:
        """An order by mRID or number (KeyError otherwise)."""
        return by_key(self.orders, key, "order")

    def _active(self, key: str) -> Order:
        o = self.order(key)
        if not o.active:
            raise FieldError(
                f"{o.number} is {'closed' if o.closed else o.status}: no further status changes"
            )
        if o.crew is None:
            raise FieldError(f"{o.number} has no crew yet")
        return o

    def _set(self, order: Order, status: str) -> None:
        order.status = status
        order.status_time = self.clock.now()
        order.history.append((iso(order.status_time), status))

    def _started(self) -> tuple[float, datetime]:
        """When a status change started (wall, simulated), for its latency (D11-10)."""
        return time.perf_counter(), self.clock.now()

    def _press(
        self,
        o: Order,
        status: str,
        comment: str,
        started: tuple[float, datetime],
        *,
        release: bool = False,
        prompt: bool = False,
        **report: Any,
    ) -> Order:
        """The worker presses a status button: ``o`` takes ``status`` (``release``: the crew is
        done with it; ``prompt``: its ERT prompt is rescheduled) and the OMS is told."""
        self._set(o, status)
        if release:
            self._release(o)
        if prompt:
            self._schedule_prompt(o)
        wall0, sim0 = started
        self._report(o.outage, [o], comment=comment, wall0=wall0, sim0=sim0, **report)
        return o

    def en_route(self, order: str) -> Order:
        """The worker leaves for the job site (D11-3)."""
        with self._lock:
            o = self._active(order)
            if o.arrived or o.status not in ("assigned", "dispatched", "acknowledged"):
                raise FieldError(
                    f"{o.number} is {o.status}: en route only after dispatch and before arrival"
                )
            started = self._started()
            return self._press(o, "enRoute", f"crew {o.crew} en route to {o.number}", started)

    def on_site(self, order: str, *, note: str | None = None) -> Order:
        """The worker is at the job site (also set by the geofence, :meth:`move_vehicle`)."""
        with self._lock:
            o = self._active(order)
            if o.arrived:
                raise FieldError(f"{o.number} is already on site")
            started = self._started()
            o.arrived = True
            return self._press(
                o, "onSite", note or f"crew {o.crew} on site for {o.number}", started
            )

    def move_vehicle(self, crew: str, lat: float, lon: float) -> list[str]:
        """The crew's vehicle reports a GPS position; every order of the crew whose job site
        is within the geofence turns onSite by itself (D11-3). Returns those order numbers."""
        with self._lock:
            c = self.crews.get(crew)
            if c is None:
                raise KeyError(f"unknown crew {crew!r}")
            c.position = (float(lat), float(lon))
            arrived = []
            for mrid in list(c.orders):
                o = self.orders[mrid]
                if not o.active or o.arrived or o.status not in _BEFORE_ARRIVAL:
                    continue
                d = distance_m(c.position, o.site)
                if d <= self.config.geofence_m:
                    self.on_site(
                        o.mrid,
                        note=f"crew {c.id} on site for {o.number}: vehicle entered the job-site vicinity ({d:.0f} m)",
                    )
                    arrived.append(o.number)
            return arrived

    def set_ert(
        self,
        order: str,
        when: datetime | str,
        *,
        source: str | None = None,
        confidence: str = "high",
    ) -> Order:
        """The worker sets or updates the ERT (status ertSet, D11-3); it overrides any ERT
        before it, including the work-management estimate of a work order (D11-6). The
        validation prompt is rescheduled (D11-5)."""
        ert = parse_time(when)
        if confidence not in ("high", "low"):
            raise ValueError("ERT confidence is high or low")
        with self._lock:
            o = self._active(order)
            if ert <= self.clock.now():
                raise FieldError(f"the ERT {iso(ert)} is not in the future")
            started = self._started()
            o.ert, o.ert_by_field, o.ert_confidence = ert, True, confidence
            o.ert_source = source or f"Field: {self._who(o)}"
            return self._press(
                o,
                "ertSet",
                f"{o.number}: ERT {iso(ert)} set by {self._who(o)}",
                started,
                prompt=True,
                ert=o,
            )

    def restored(
        self, order: str, *, cause: str | None = None, cause_kind: str | None = None
    ) -> Order:
        """The crew restored power (D11-3); the OMS then verifies by pinging the meters."""
        if cause_kind is not None and cause_kind not in CAUSE_KINDS:
            raise ValueError(f"cause kind must be one of {', '.join(CAUSE_KINDS)}")
        with self._lock:
            o = self._active(order)
            if not o.arrived:
                raise FieldError(f"{o.number}: the crew must be on site to restore power")
            return self._press(
                o,
                "restored",
                f"{o.number}: power restored by crew {o.crew}",
                self._started(),
                release=True,
                cause=cause,
                cause_kind=cause_kind,
            )

    def cannot_restore(
        self,
        order: str,
        new_ert: datetime | str | None = None,
        *,
        line_crew: str | None = None,
        reason: str | None = None,
    ) -> Order:
        """The trouble worker cannot restore (D11-6): the trouble order becomes fieldComplete,
        a work order linked to it is created for a line crew with a new ERT (``new_ert``, or the
        work-management estimate: travel time plus ``line_repair_minutes``), then dispatched to
        the line crew. Returns the work order."""
        ert_given = parse_time(new_ert) if new_ert is not None else None
        with self._lock:
            o = self._active(order)
            if o.kind != "trouble":
                raise FieldError(
                    f"{o.number} is a work order; only a trouble order hands over to a line crew"
                )
            if not o.arrived:
                raise FieldError(f"{o.number}: the trouble worker assesses the repair on site")
            if line_crew is not None and line_crew not in self.crews:
                raise KeyError(f"unknown crew {line_crew!r}")
            now = self.clock.now()
            if ert_given is not None and ert_given <= now:
                raise FieldError(f"the ERT {iso(ert_given)} is not in the future")
            wall0 = time.perf_counter()
            self._wo_seq += 1
            wo = Order(
                mrid=str(uuid.uuid4()),
                number=f"WO-{now:%Y}-{self._wo_seq:06d}",
                kind="work",
                outage=o.outage,
                status="awaitingCrewAssignment",
                status_time=now,
                site=o.site,
                site_key=o.site_key,
                linked=o.mrid,
                linked_number=o.number,
                received_wall=wall0,
                received_sim=now,
            )
            wo.history.append(
                (iso(now), f"created from {o.number}" + (f": {reason}" if reason else ""))
            )
            self.orders[wo.mrid] = wo
            crew = self.crews[line_crew] if line_crew else self._pick_crew("line", wo.site)
            if ert_given is not None:
                wo.ert, wo.ert_source, wo.ert_confidence = (
                    ert_given,
                    f"Field: {self._who(o)} (override)",
                    "high",
                )
            else:
                wo.ert, wo.ert_source, wo.ert_confidence = self.estimate_ert(wo, crew), "WMS", "low"
            wo.ert_by_field = True
            o.linked, o.linked_number = wo.mrid, wo.number
            self._set(o, "fieldComplete")
            self._release(o)
            self._report(
                o.outage,
                [o, wo],
                comment=f"{o.number}: cannot restore ({reason or 'line crew needed'}); work order {wo.number} for a line crew, ERT {iso(wo.ert)}",
                ert=wo,
                wall0=wall0,
                sim0=now,
            )
            if crew is not None:
                self._dispatch(wo, crew.id, wall0=time.perf_counter(), sim0=self.clock.now())
            self._schedule_prompt(wo)
            return wo

    def estimate_ert(self, order: Order, crew: Crew | None) -> datetime:
        """A work-management style ERT: now + travel time of ``crew`` to the site at
        ``speed_kmh`` + ``line_repair_minutes``, rounded up to 5 minutes (D11-6)."""
        travel_min = 0.0
        if crew is not None:
            travel_min = (
                distance_m(crew.position, order.site) / 1000 / max(1.0, self.config.speed_kmh) * 60
            )
        minutes = math.ceil((travel_min + self.config.line_repair_minutes) / 5) * 5
        return self.clock.now() + timedelta(minutes=minutes)

    def _who(self, o: Order) -> str:
        crew = self.crews.get(o.crew or "")
        kind = "line crew" if (crew and crew.kind == "line") else "trouble worker"
        return f"{kind} {o.crew}"

    # ================================================================== ERT prompt (D11-5)
    def _schedule_prompt(self, order: Order) -> None:
        if order.prompt_timer is not None:
            order.prompt_timer.cancel()
            order.prompt_timer = None
        if not order.active or order.ert is None or order.crew is None:
            return
        at = order.ert - timedelta(minutes=self.config.ert_prompt_minutes)
        if at <= self.clock.now():
            return
        ert = order.ert
        order.prompt_timer = self.clock.call_at(
            at, lambda m=order.mrid, e=ert: self._prompt(m, e), name=f"field prompt {order.number}"
        )

    def _prompt(self, mrid: str, ert: datetime) -> None:
        with self._lock:
            o = self.orders.get(mrid)
            if o is None or not o.active or o.ert != ert:
                return
            o.prompt_timer = None
            now = self.clock.now()
            entry = {
                "at": iso(now),
                "order": o.number,
                "crew": o.crew,
                "ert": iso(ert),
                "minutes_before": round((ert - now).total_seconds() / 60),
                "message": f"{o.number}: please validate the estimated restoration time {iso(ert)} or set a new one",
            }
            self.prompts.append(entry)
            o.history.append((entry["at"], "ERT validation prompt"))
            self._remark(f"prompt to crew {o.crew}: {entry['message']}")

    # ================================================================== publishing
    def _report(
        self,
        outage: str,
        orders: list[Order],
        *,
        comment: str,
        ert: Order | None = None,
        cause: str | None = None,
        cause_kind: str | None = None,
        wall0: float,
        sim0: datetime,
        target_s: float = 600.0,
        what: str = "update",
    ) -> None:
        """Send ``changed OutageRecords`` with the orders' TroubleOrders entries (after the
        uplink delay), recording the latency (D11-10)."""
        entries = [o.data() for o in orders]
        statuses = ",".join(o.status for o in orders)
        numbers = ",".join(o.number for o in orders)

        def make() -> bytes:
            rec = self.records.get(outage)
            data = RecordData(
                mrid=outage,
                magnitude=rec.magnitude if rec else "isolated",
                status=rec.status if rec else "confirmed",
                number=rec.number if rec else None,
                planned_reason=rec.planned_reason if rec else None,
                planned_start=rec.planned_start if rec else None,
                planned_end=rec.planned_end if rec else None,
                cause=cause,
                cause_kind=cause_kind,
                reported_start=rec.reported_start if rec else None,
                ert=ert.ert if ert else None,
                ert_confidence=ert.ert_confidence if ert else None,
                ert_source=ert.ert_source if ert else None,
                trouble_orders=entries,
            )
            return event(
                "changed",
                "OutageRecords",
                [outage_records([data])],
                source=self.system,
                timestamp=self.clock.now(),
                comment=comment[:1000],
            )

        def emit() -> None:
            with self._lock:
                body = make()
                self.sent.append(body)
                if self.client is None:
                    self._journal_out(body)
                    ok = True
                else:
                    ok = self.send(body, key=numbers)
                now = self.clock.now()
                sim_s = (now - sim0).total_seconds()
                self.latencies.append(
                    {
                        "what": what,
                        "orders": numbers,
                        "status": statuses,
                        "changed_at": iso(sim0),
                        "published_at": iso(now),
                        "sim_latency_s": sim_s,
                        "wall_latency_ms": round((time.perf_counter() - wall0) * 1000, 3),
                        "target_s": target_s,
                        "within_target": sim_s <= target_s,
                        "sent": ok,
                    }
                )

        if self.config.uplink_delay_s > 0:
            self.clock.call_later(self.config.uplink_delay_s, emit, name=f"field uplink {numbers}")
        else:
            emit()

    def latency_summary(self) -> dict[str, Any]:
        """Per kind (dispatch / update): count, worst simulated seconds, worst and mean
        wall-clock milliseconds, whether all met their target (D11-10)."""
        out: dict[str, Any] = {}
        for what in ("dispatch", "update"):
            items = [x for x in self.latencies if x["what"] == what]
            if not items:
                continue
            walls = [x["wall_latency_ms"] for x in items]
            out[what] = {
                "count": len(items),
                "target_s": items[0]["target_s"],
                "max_sim_latency_s": max(x["sim_latency_s"] for x in items),
                "max_wall_latency_ms": max(walls),
                "mean_wall_latency_ms": round(sum(walls) / len(walls), 3),
                "all_within_target": all(x["within_target"] for x in items),
            }
        return out

    # ================================================================== local switch (B2-16)
    def local_switch(
        self,
        crew: str,
        meter: str,
        action: str,
        *,
        at: datetime | str | None = None,
        user: str | None = None,
    ) -> dict[str, Any]:
        """A field employee toggles a meter's switch locally, now or at ``at`` (B2-16). Every
        attempt is logged with time, user identity and whether the employee is authorised (a
        crew of the profile); an unauthorised attempt is logged and not carried out."""
        if action not in ("connect", "disconnect"):
            raise ValueError("a local switch action is connect or disconnect")
        spec = self.profile.find_meter(meter)
        if spec is None:
            raise KeyError(f"unknown meter {meter!r}")
        with self._lock:
            now = self.clock.now()
            when = parse_time(at) if at is not None else now
            if when < now:
                raise ValueError(f"{iso(when)} is in the past")
            entry: dict[str, Any] = {
                "id": str(uuid.uuid4()),
                "crew": crew,
                "user": user or crew,
                "meter": spec.meter,
                "esiid": spec.esiid,
                "action": action,
                "requested_at": iso(now),
                "scheduled_for": iso(when),
                "authorised": crew in self.crews,
                "status": "scheduled",
            }
            self.local_switch_log.append(entry)
            if not entry["authorised"]:
                entry["status"] = "refused"
                self._remark(f"local {action} of {spec.meter} by {entry['user']}: not authorised")
                return entry
            if when <= now:
                self._carry_out(entry)
            else:
                self.clock.call_at(
                    when,
                    lambda e=entry: self._carry_out(e),
                    name=f"field local {action} {spec.meter}",
                )
            return entry

    def _carry_out(self, entry: dict[str, Any]) -> None:
        with self._lock:
            entry["status"] = "performed"
            entry["performed_at"] = iso(self.clock.now())
            self._remark(f"local {entry['action']} of {entry['meter']} by {entry['user']}")
            hook = self.local_switch_hook
        if hook is not None:
            try:
                hook(dict(entry))
            except Exception as exc:  # the meter side refused: keep the log truthful
                entry["status"] = f"failed: {exc}"

    # ================================================================== inspection
    def status(self) -> dict[str, Any]:
        out = super().status()
        with self._lock:
            out["crews"] = [c.to_dict() for c in self.crews.values()]
            out["orders"] = {
                "active": sum(1 for o in self.orders.values() if o.active),
                "total": len(self.orders),
            }
            out["prompts"] = len(self.prompts)
            out["latency"] = self.latency_summary()
        return out

    def add_routes(self, app: Any) -> None:
        from .api import add_routes

        add_routes(self, app)
