"""The outage management system (OMS) simulator (D11-1, D11-3, D11-6, D11-7, D11-9).

What is simulated:

* **Topology** from the profile: meter (usage point, ESIID) -> transformer -> feeder, and each
  transformer's neighbourhood.
* **Outage confirmation (D11-1).** Last-gasp and power-down ``created EndDeviceEvents`` (codes
  classified with :class:`cim_models.codes.OutageEventMap`, so vendor aliases work) and
  customer calls (:meth:`Oms.report_call`) start a *pending cluster* per feeder. After the
  confirmation window (``[oms] confirm_window_s``, default 120 s simulated) the cluster becomes an
  outage record; reports arriving inside the window join it, a power-up inside the window takes
  the meter out again (a momentary interruption is never confirmed). Last gasps on the same
  feeder up to ``join_window_s`` (default 600 s) after confirmation join the confirmed outage
  (``changed OutageRecords``). The magnitude (:meth:`Oms.classify`) is *isolated* for one usage
  point or one premise, *neighbourhood* for several on one transformer or within one
  neighbourhood, *area* for more than one transformer outside one neighbourhood, more than one
  feeder, or more than ``area_feeder_share`` (default 0.5) of a feeder's meters.
  The record (``created OutageRecords``: statusKind confirmed, UsagePoints, metersAffected,
  customersAffected, magnitude, reportedStartTime, contactPhone from ``[crm] info_phone``) goes
  to cimbus, which fans it out to CIS, CRM, MDMS and FIELD.
* **Trouble orders and ERT (D11-3, D11-6).** Each outage gets one trouble order
  (awaitingCrewAssignment; the field solution dispatches it from the published record) and an
  initial ERT from its magnitude (``[oms] ert_minutes``). ``changed OutageRecords`` from the
  field (status dispatched, enRoute, onSite, ertSet with a new EstimatedRestorationTime,
  restored, fieldComplete with a linked line-crew WorkOrder) update the record, which the OMS
  re-publishes as ``changed OutageRecords`` (the Outage Alert Note everyone sees).
* **Restoration verification (D11-7).** A restored trouble order, or power-up events (after
  ``verify_delay_s``), start a verification round: every affected meter not yet verified is
  pinged through cimbus (``create EndDeviceControls`` POWER_STATUS_PING, async, reply to the
  OMS's own queue). The ping-result ``created EndDeviceEvents`` (3.26.17.44 energised /
  3.26.17.79 not reachable) are the answer; a FAILED reply, or no answer within
  ``ping_timeout_s``, means the meter is still off. Meters still off keep the outage open
  (``changed``, statusKind partiallyRestored, customersRestored); when every meter answers the
  outage is closed (``closed OutageRecords`` with actualPeriod, cause and duration).
* **Planned outages (D11-9).** :meth:`Oms.plan_outage` publishes the advance record at once
  (``created``, statusKind predicted, PlannedOutage reason and plannedPeriod, ERT = planned
  end); at the planned start the outage is confirmed, gets its trouble order (``changed``) and
  then follows the unplanned flow.

Without a bus (unit tests) everything the OMS would send is kept in :attr:`Oms.sent`.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cim_models.codes import CodeError, OutageEventMap, acknowledgement_outcome, controls

from .._core import (
    Incoming,
    MeterSpec,
    Simulator,
    SimulatorError,
    Timer,
    by_key,
    event,
    iso,
    parse_time,
    request,
)
from .._core.cim import E
from .messages import DeviceEvent, device_events_of, ping_control
from .records import (
    TROUBLE_ORDER_STATUSES,
    RecordData,
    TroubleOrderData,
    outage_records,
    records_of,
)

#: the lifecycle of a trouble / work order, to order two status changes made at the same instant
#: (a field update carries the order's status time); ertSet may come at any point: not ranked
_LIFECYCLE = {s: i for i, s in enumerate(TROUBLE_ORDER_STATUSES) if s != "ertSet"}


def _stale(known: TroubleOrderData, update: TroubleOrderData) -> bool:
    """Whether ``update`` is older than what the OMS knows of the order: an earlier status
    time, or the same time and an earlier step of the lifecycle (D11-3: status changes may
    reach the OMS out of order; the latest one wins)."""
    if known.status_time is None or update.status_time is None:
        return False
    if update.status_time != known.status_time:
        return update.status_time < known.status_time
    before, after = _LIFECYCLE.get(known.status or ""), _LIFECYCLE.get(update.status or "")
    return before is not None and after is not None and after < before


__all__ = ["MeterState", "Oms", "OmsConfig", "Outage", "VerifyRound"]

OPEN_DISCLAIMER = "Restoration times are estimates and may change as crews assess the damage."
CLOSED_DISCLAIMER = "We apologise for the inconvenience."


@dataclass(frozen=True)
class OmsConfig:
    """``[oms]`` profile keys (all optional)."""

    confirm_window_s: float = 120.0
    join_window_s: float = 600.0
    area_feeder_share: float = 0.5
    ert_minutes: Mapping[str, int] = field(
        default_factory=lambda: {"isolated": 90, "neighbourhood": 120, "area": 240}
    )
    ping_timeout_s: float = 120.0
    verify_delay_s: float = 30.0
    ping_request_timeout: float = 10.0

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> OmsConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(section) - known
        if unknown:
            raise ValueError(
                f"[oms]: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})"
            )
        values = dict(section)
        if "ert_minutes" in values:
            values["ert_minutes"] = {
                **cls().ert_minutes,
                **{k: int(v) for k, v in values["ert_minutes"].items()},
            }
        return cls(**values)


@dataclass
class MeterState:
    """One affected usage point of an outage."""

    esiid: str
    meter: str
    customer: str
    state: str = "off"  # off | restored | scheduled (planned outage not started yet)
    lost_at: datetime | None = None
    reported_up_at: datetime | None = None
    restored_at: datetime | None = None


@dataclass
class VerifyRound:
    """One restoration-verification round (D11-7): the pings sent and the answers so far."""

    n: int
    started: datetime
    reason: str
    pings: dict[str, str] = field(default_factory=dict)  # control mRID -> ESIID
    answers: dict[str, bool] = field(default_factory=dict)  # ESIID -> energised?
    answered_at: dict[str, datetime] = field(default_factory=dict)
    timer: Timer | None = None
    finished: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "round": self.n,
            "started": iso(self.started),
            "reason": self.reason,
            "pinged": sorted(self.pings.values()),
            "energised": sorted(e for e, on in self.answers.items() if on),
            "not_energised": sorted(e for e, on in self.answers.items() if not on),
            "unanswered": sorted(set(self.pings.values()) - set(self.answers)),
            "finished": iso(self.finished) if self.finished else None,
        }


@dataclass
class Outage:
    """An outage record as the OMS keeps it."""

    mrid: str
    number: str
    kind: str  # unplanned | planned
    status: str
    magnitude: str
    meters: dict[str, MeterState]
    key: str  # topology key (feeder)
    reported_start: datetime | None = None
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    confirmed_at: datetime | None = None
    calls: list[str] = field(default_factory=list)
    last_gasps: int = 0
    ert: datetime | None = None
    ert_source: str | None = None
    ert_confidence: str | None = None
    cause: str | None = None
    cause_kind: str | None = None
    incident_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    incident_cause: str | None = None
    community: str | None = None
    planned_reason: str | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    trouble_orders: dict[str, TroubleOrderData] = field(default_factory=dict)
    restoration_reported: datetime | None = None
    rounds: list[VerifyRound] = field(default_factory=list)
    verify_again: bool = False
    verify_timer: Timer | None = None
    history: list[tuple[str, str]] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.status != "closed"

    @property
    def active(self) -> bool:
        """Power is (or may be) off now: confirmed and not closed."""
        return self.open and self.status != "predicted"

    @property
    def verifying(self) -> bool:
        return bool(self.rounds) and self.rounds[-1].finished is None

    def off(self) -> list[MeterState]:
        return [m for m in self.meters.values() if m.state in ("off", "scheduled")]

    def restored(self) -> list[MeterState]:
        return [m for m in self.meters.values() if m.state == "restored"]

    def summary(self) -> dict[str, Any]:
        return {
            "mrid": self.mrid,
            "number": self.number,
            "kind": self.kind,
            "status": self.status,
            "magnitude": self.magnitude,
            "meters": len(self.meters),
            "off": len(self.off()),
            "restored": len(self.restored()),
            "ert": iso(self.ert) if self.ert else None,
            "reported_start": iso(self.reported_start) if self.reported_start else None,
            "actual_end": iso(self.actual_end) if self.actual_end else None,
            "trouble_orders": {t.number or t.mrid: t.status for t in self.trouble_orders.values()},
        }


@dataclass
class _Cluster:
    """Reports of one feeder waiting for the confirmation window to close."""

    key: str
    first: datetime
    meters: dict[str, tuple[MeterSpec | None, datetime]] = field(default_factory=dict)
    calls: list[tuple[str, datetime]] = field(default_factory=list)
    gasped: set[str] = field(default_factory=set)  # usage points that sent a last gasp
    timer: Timer | None = None


def _duration(delta: timedelta) -> str:
    minutes = max(0, round(delta.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


class Oms(Simulator):
    """Outage management (see the module docstring). Subscribes to ``created EndDeviceEvents``
    (from the head-end) and ``changed OutageRecords`` (from the field); publishes ``created`` /
    ``changed`` / ``closed OutageRecords``; pings meters with ``create EndDeviceControls``."""

    name = "oms"
    system = "OMS"
    title = "Outage management: outage records, trouble orders, ERT, restoration verification"
    requirements = ("D11-1", "D11-3", "D11-6", "D11-7", "D11-9")

    def __init__(
        self, profile: Any = None, *, aliases: OutageEventMap | None = None, **kwargs: Any
    ) -> None:
        super().__init__(profile, **kwargs)
        self.config = OmsConfig.from_section(self.profile.section("oms"))
        self.aliases = aliases or OutageEventMap.default()
        self.contact_phone: str | None = self.profile.section("crm").get("info_phone")
        orgs = [o for o in self.profile.organizations if o.system == self.system]
        self.organization: str | None = orgs[0].id if orgs else None
        self.outages: dict[str, Outage] = {}
        self.sent: deque[bytes] = deque(maxlen=10_000)
        self.relay_latency: deque[dict[str, Any]] = deque(maxlen=1_000)
        self._clusters: dict[str, _Cluster] = {}
        self._pending_meter: dict[str, str] = {}  # ESIID -> cluster key
        self._active_meter: dict[str, str] = {}  # ESIID -> outage mRID (active outages)
        self._pings: dict[str, tuple[str, int]] = {}  # control mRID -> (outage mRID, round)
        self._ping_messages: dict[str, str] = {}  # request MessageID -> control mRID
        self._dirty: dict[str, list[str]] = {}
        self._seq = 0
        self._to_seq = 0
        self._counts: dict[str, dict[str, int]] | None = None

    # ================================================================== topology
    def _spec(self, key: str) -> MeterSpec | None:
        return self.profile.find_meter(key)

    def _counts_by(self) -> dict[str, dict[str, int]]:
        """Meters per feeder and per transformer (one pass over the profile, on first need)."""
        if self._counts is None:
            feeders: dict[str, int] = {}
            transformers: dict[str, int] = {}
            for m in self.profile.meters:
                if m.feeder:
                    feeders[m.feeder] = feeders.get(m.feeder, 0) + 1
                if m.transformer:
                    transformers[m.transformer] = transformers.get(m.transformer, 0) + 1
            self._counts = {"feeder": feeders, "transformer": transformers}
        return self._counts

    def _neighbourhood(self, transformer: str) -> str:
        try:
            return self.profile.transformer(transformer).neighbourhood
        except KeyError:
            return ""

    def classify(self, usage_points: Iterable[str]) -> str:
        """The magnitude of an outage affecting ``usage_points`` (ESIIDs or meter numbers), D11-1:
        isolated (one usage point or one premise), neighbourhood (one transformer, or several
        transformers of one neighbourhood), area (anything wider, or more than
        ``area_feeder_share`` of a feeder's meters)."""
        keys = list(dict.fromkeys(usage_points))
        specs = [self._spec(k) for k in keys]
        premises = {(s.premise or s.esiid) if s else k for s, k in zip(specs, keys, strict=True)}
        if len(keys) <= 1 or len(premises) == 1:
            return "isolated"
        known = [s for s in specs if s is not None]
        feeders = {s.feeder for s in known if s.feeder}
        if len(feeders) > 1:
            return "area"
        counts = self._counts_by()["feeder"]
        for f in feeders:
            share = sum(1 for s in known if s.feeder == f) / max(1, counts.get(f, 0))
            if share > self.config.area_feeder_share:
                return "area"
        transformers = {s.transformer for s in known if s.transformer}
        if len(transformers) <= 1:
            return "neighbourhood"
        neighbourhoods = {self._neighbourhood(t) for t in transformers}
        if len(neighbourhoods) == 1 and "" not in neighbourhoods:
            return "neighbourhood"
        return "area"

    def _topology_key(self, spec: MeterSpec | None, esiid: str) -> str:
        if spec is not None and (spec.feeder or spec.transformer):
            return spec.feeder or spec.transformer
        return f"UP:{esiid}"

    def _describe(self, esiids: Iterable[str]) -> str:
        specs = [s for s in (self._spec(e) for e in esiids) if s is not None]
        transformers = sorted({s.transformer for s in specs if s.transformer})
        feeders = sorted({s.feeder for s in specs if s.feeder})
        if len(specs) == 1 and specs[0].premise:
            return specs[0].premise
        hoods = sorted({self._neighbourhood(t) for t in transformers} - {""})
        where = ", ".join(hoods) if hoods else ", ".join(transformers)
        return (
            f"{where} on {', '.join(feeders)}"
            if where and feeders
            else (where or ", ".join(feeders) or "unknown location")
        )

    # ================================================================== inbound
    def on_event(self, incoming: Incoming) -> None:
        """``created EndDeviceEvents`` (last gasp, power down/up, ping results) and
        ``changed OutageRecords`` from the field."""
        with self._lock:
            if incoming.noun == "EndDeviceEvents" and incoming.verb == "created":
                for ev in device_events_of(incoming.payload):
                    self._device_event(ev)
            elif (
                incoming.noun == "OutageRecords"
                and incoming.verb == "changed"
                and incoming.source != self.system
            ):
                wall0 = time.perf_counter()
                for rec in records_of(incoming.payload):
                    self.field_update(rec, source=incoming.source or "?", _wall0=wall0)
            self._flush()

    def on_reply(self, incoming: Incoming) -> None:
        """The head-end's reply to a ping (async): FAILED means the meter did not answer."""
        with self._lock:
            control = self._ping_messages.pop(incoming.correlation_id or "", None)
            if control is not None and incoming.result == "FAILED":
                reason = "; ".join(e.get("reason") or "" for e in incoming.errors)
                self._ping_answer(control, False, self.clock.now(), why=f"ping refused: {reason}")
            self._flush()

    def _device_event(self, ev: DeviceEvent) -> None:
        at = ev.at or self.clock.now()
        try:
            ping = acknowledgement_outcome(controls.POWER_STATUS_PING, ev.code) if ev.code else None
        except CodeError:
            ping = None
        if ping is not None:
            on = ping in ("processed", "succeeded")
            control = (
                ev.tracking_id
                if ev.tracking_id in self._pings
                else self._control_for(ev.esiid or ev.meter)
            )
            if control is not None:
                self._ping_answer(control, on, at, why=f"ping result {ev.code}")
            return
        try:
            meaning = self.aliases.classify(ev.code) if ev.code else None
        except CodeError:
            meaning = None
        key = ev.esiid or ev.meter
        if meaning is None or not key:
            return
        if meaning in ("power_down", "last_gasp"):
            self._power_lost(key, at, via="last_gasp")
        else:
            self._power_up(key, at)

    # ================================================================== reports
    def report_call(self, esiid: str, at: datetime | str | None = None) -> None:
        """A customer calls to report no power at ``esiid`` (ESIID or meter number), D11-1."""
        spec = self._spec(esiid)
        if spec is None:
            raise KeyError(f"unknown usage point {esiid!r}")
        with self._lock:
            self._power_lost(spec.esiid, parse_time(at) if at else self.clock.now(), via="call")
            self._flush()

    def report_power_lost(self, esiid: str, at: datetime | str | None = None) -> None:
        """As if a last gasp arrived for ``esiid`` (for scripts without a head-end)."""
        with self._lock:
            self._power_lost(esiid, parse_time(at) if at else self.clock.now(), via="last_gasp")
            self._flush()

    def report_power_up(self, esiid: str, at: datetime | str | None = None) -> None:
        """As if a power-up event arrived for ``esiid``."""
        with self._lock:
            self._power_up(esiid, parse_time(at) if at else self.clock.now())
            self._flush()

    def _power_lost(self, key: str, at: datetime, *, via: str) -> None:
        spec = self._spec(key)
        esiid = spec.esiid if spec else key
        # already in an active outage: a call is counted, a last gasp of a restored meter
        # puts it back among the meters without power
        outage = self._active(esiid)
        if outage is not None:
            m = outage.meters[esiid]
            if via == "call":
                outage.calls.append(esiid)
            elif m.state == "restored":
                m.state, m.lost_at, m.restored_at, m.reported_up_at = "off", at, None, None
                self._touch(outage, f"power lost again at {esiid}")
            elif m.state == "off":
                m.reported_up_at = None
            return
        topo = self._topology_key(spec, esiid)
        # a confirmed outage on the same feeder, confirmed recently: the meter joins it
        for outage in self.outages.values():
            if (
                outage.kind == "unplanned"
                and outage.status == "confirmed"
                and outage.key == topo
                and not outage.verifying
                and outage.confirmed_at is not None
                and at - outage.confirmed_at <= timedelta(seconds=self.config.join_window_s)
            ):
                self._add_meter(outage, esiid, spec, at)
                if via == "call":
                    outage.calls.append(esiid)
                else:
                    outage.last_gasps += 1
                magnitude = self.classify(outage.meters)
                note = f"{esiid} joined the outage"
                if magnitude != outage.magnitude:
                    note += f"; magnitude {outage.magnitude} -> {magnitude}"
                    outage.magnitude = magnitude
                    outage.community = self._describe(outage.meters)
                self._touch(outage, note)
                return
        cluster = self._clusters.get(topo)
        if cluster is None:
            cluster = _Cluster(topo, at)
            cluster.timer = self.clock.call_later(
                self.config.confirm_window_s,
                lambda k=topo: self._confirm(k),
                name=f"oms confirm {topo}",
            )
            self._clusters[topo] = cluster
        if esiid not in cluster.meters:
            cluster.meters[esiid] = (spec, at)
            self._pending_meter[esiid] = topo
        if via == "call":
            cluster.calls.append((esiid, at))
        else:
            cluster.gasped.add(esiid)  # a re-delivered last gasp is not counted twice
        cluster.first = min(cluster.first, at)

    def _power_up(self, key: str, at: datetime) -> None:
        spec = self._spec(key)
        esiid = spec.esiid if spec else key
        topo = self._pending_meter.pop(esiid, None)
        if topo is not None:  # momentary: power back inside the confirmation window
            cluster = self._clusters.get(topo)
            if cluster is not None:
                cluster.meters.pop(esiid, None)
                cluster.calls = [(e, t) for e, t in cluster.calls if e != esiid]
            self._remark(f"{esiid}: power back within the confirmation window (momentary)")
            return
        outage = self._active(esiid)
        if outage is None:
            return
        m = outage.meters[esiid]
        if m.state == "restored":
            return
        m.reported_up_at = at
        if outage.verifying:
            rnd = outage.rounds[-1]
            if esiid in rnd.pings.values():
                self._record_answer(outage, rnd, esiid, True, at)
                return
            outage.verify_again = True
            return
        self._schedule_verify(outage, f"power-up reported by {esiid}")

    # ================================================================== confirmation
    def _confirm(self, topo: str) -> None:
        with self._lock:
            cluster = self._clusters.pop(topo, None)
            if cluster is None:
                return
            for esiid in cluster.meters:
                self._pending_meter.pop(esiid, None)
            if not cluster.meters:
                self._remark(f"cluster {topo} dropped: every meter came back (momentary)")
                return
            now = self.clock.now()
            esiids = list(cluster.meters)
            magnitude = self.classify(esiids)
            outage = self._new_outage("unplanned", magnitude, topo)
            outage.status = "confirmed"
            for esiid, (spec, at) in cluster.meters.items():
                self._add_meter(outage, esiid, spec, at)
            outage.reported_start = outage.actual_start = cluster.first
            outage.confirmed_at = now
            outage.calls = [e for e, _ in cluster.calls]
            outage.last_gasps = len(cluster.gasped & set(cluster.meters))
            outage.community = self._describe(esiids)
            outage.incident_cause = self._incident_text(outage)
            self._estimate_ert(outage, now)
            self._new_trouble_order(outage, now)
            outage.history.append((iso(now), f"confirmed ({magnitude}, {len(esiids)} meters)"))
            self._publish(
                "created",
                outage,
                comment=f"Outage confirmed from {outage.incident_cause}; trouble order awaiting crew assignment",
            )
            self._flush()

    def _incident_text(self, outage: Outage) -> str:
        transformers = sorted(
            {s.transformer for s in (self._spec(e) for e in outage.meters) if s and s.transformer}
        )
        where = f" on {', '.join(transformers)}" if transformers else ""
        parts = []
        if outage.last_gasps:
            parts.append(
                f"{outage.last_gasps} last-gasp event{'s' if outage.last_gasps != 1 else ''}{where}"
            )
        if outage.calls:
            parts.append(
                f"{len(outage.calls)} customer call{'s' if len(outage.calls) != 1 else ''}"
            )
        return " and ".join(parts) or f"reports{where}"

    def _new_outage(self, kind: str, magnitude: str, key: str) -> Outage:
        self._seq += 1
        now = self.clock.now()
        outage = Outage(
            mrid=str(uuid.uuid4()),
            number=f"OUT-{now:%Y%m%d}-{self._seq:04d}",
            kind=kind,
            status="predicted",
            magnitude=magnitude,
            meters={},
            key=key,
        )
        self.outages[outage.mrid] = outage
        return outage

    def _add_meter(
        self, outage: Outage, esiid: str, spec: MeterSpec | None, at: datetime, state: str = "off"
    ) -> None:
        outage.meters[esiid] = MeterState(
            esiid=esiid,
            meter=spec.meter if spec else esiid,
            customer=(spec.customer if spec else "") or esiid,
            state=state,
            lost_at=at if state == "off" else None,
        )
        if outage.active:
            self._active_meter[esiid] = outage.mrid

    def _estimate_ert(self, outage: Outage, now: datetime) -> None:
        minutes = int(self.config.ert_minutes.get(outage.magnitude, 120))
        outage.ert = now + timedelta(minutes=minutes)
        outage.ert_source, outage.ert_confidence = "OMS", "low"

    def _new_trouble_order(self, outage: Outage, now: datetime) -> TroubleOrderData:
        self._to_seq += 1
        order = TroubleOrderData(
            mrid=str(uuid.uuid4()),
            status="awaitingCrewAssignment",
            status_time=now,
            number=f"TO-{now:%Y}-{self._to_seq:06d}",
        )
        outage.trouble_orders[order.mrid] = order
        return order

    def _active(self, esiid: str) -> Outage | None:
        mrid = self._active_meter.get(esiid)
        outage = self.outages.get(mrid) if mrid else None
        return outage if outage is not None and outage.active else None

    # ================================================================== planned outages
    def plan_outage(
        self,
        targets: str | Iterable[str],
        start: datetime | str,
        end: datetime | str,
        reason: str,
    ) -> Outage:
        """Announce a planned outage (D11-9): ``targets`` are ESIIDs, meter numbers,
        transformer ids or feeder ids. Publishes ``created OutageRecords`` (statusKind
        predicted, PlannedOutage reason and plannedPeriod) now; at ``start`` the outage is
        confirmed and follows the unplanned flow."""
        start_dt, end_dt = parse_time(start), parse_time(end)
        if end_dt <= start_dt:
            raise ValueError("a planned outage must end after it starts")
        if not reason or not reason.strip():
            raise ValueError("a planned outage needs a reason (it is told to customers, D11-9)")
        specs = self._resolve_targets([targets] if isinstance(targets, str) else list(targets))
        with self._lock:
            now = self.clock.now()
            if start_dt <= now:
                raise ValueError(
                    f"a planned outage is announced ahead of time; {iso(start_dt)} is not after {iso(now)}"
                )
            esiids = [s.esiid for s in specs]
            feeders = sorted({s.feeder for s in specs if s.feeder})
            outage = self._new_outage(
                "planned", self.classify(esiids), feeders[0] if feeders else f"UP:{esiids[0]}"
            )
            for spec in specs:
                self._add_meter(outage, spec.esiid, spec, start_dt, state="scheduled")
            outage.planned_reason, outage.planned_start, outage.planned_end = (
                reason.strip(),
                start_dt,
                end_dt,
            )
            outage.ert, outage.ert_source, outage.ert_confidence = end_dt, "OMS (planned)", "high"
            outage.community = self._describe(esiids)
            outage.incident_cause = f"planned work: {reason.strip()}"
            outage.history.append((iso(now), f"planned for {iso(start_dt)} - {iso(end_dt)}"))
            self.clock.call_at(
                start_dt,
                lambda m=outage.mrid: self._start_planned(m),
                name=f"oms planned {outage.number}",
            )
            self._publish(
                "created",
                outage,
                comment=f"Planned outage {iso(start_dt)} to {iso(end_dt)}: {reason.strip()}",
            )
            self._flush()
            return outage

    def _resolve_targets(self, targets: list[str]) -> list[MeterSpec]:
        found: dict[str, MeterSpec] = {}
        for t in targets:
            spec = self._spec(t)
            if spec is not None:
                found[spec.esiid] = spec
                continue
            by_t = list(self.profile.meters_of(transformer=t)) or list(
                self.profile.meters_of(feeder=t)
            )
            if not by_t:
                raise KeyError(
                    f"{t!r} is neither a usage point, a meter, a transformer nor a feeder of the profile"
                )
            for spec in by_t:
                found[spec.esiid] = spec
        if not found:
            raise ValueError(
                "a planned outage needs at least one usage point, transformer or feeder"
            )
        return list(found.values())

    def _start_planned(self, mrid: str) -> None:
        with self._lock:
            outage = self.outages.get(mrid)
            if outage is None or outage.status != "predicted":
                return
            now = self.clock.now()
            outage.status = "confirmed"
            outage.actual_start = outage.reported_start = now
            outage.confirmed_at = now
            for m in outage.meters.values():
                if self._active(m.esiid) is not None:
                    continue  # already out in another outage
                m.state, m.lost_at = "off", now
                self._active_meter[m.esiid] = outage.mrid
            self._new_trouble_order(outage, now)
            outage.history.append((iso(now), "planned outage started"))
            self._touch(outage, "planned outage started; trouble order awaiting crew assignment")
            self._flush()

    # ================================================================== field updates
    def field_update(
        self, record: RecordData, *, source: str = "FIELD", _wall0: float | None = None
    ) -> Outage | None:
        """Apply a ``changed OutageRecords`` from the field (D11-3, D11-6): trouble-order
        statuses, linked work orders, a new ERT, the cause; re-publish the record."""
        wall0 = _wall0 if _wall0 is not None else time.perf_counter()
        with self._lock:
            outage = self.outages.get(record.mrid) or next(
                (o for o in self.outages.values() if record.number and o.number == record.number),
                None,
            )
            if outage is None:
                self._remark(
                    f"unknown outage {record.mrid} from {source}: ignored",
                    verb="changed",
                    noun="OutageRecords",
                )
                return None
            if not outage.open:
                self._remark(
                    f"{outage.number} is closed: update from {source} ignored",
                    verb="changed",
                    noun="OutageRecords",
                )
                return outage
            now = self.clock.now()
            notes: list[str] = []
            restored_at: datetime | None = None
            for t in record.trouble_orders:
                known = outage.trouble_orders.get(t.mrid)
                if known is None:
                    outage.trouble_orders[t.mrid] = known = TroubleOrderData(**t.__dict__)
                elif _stale(known, t):
                    # messages may arrive out of order (several cimbus workers, redeliveries):
                    # an update older than what the OMS knows does not move the order back
                    outage.history.append(
                        (iso(now), f"stale {t.status} for {known.number or known.mrid} ignored")
                    )
                    continue
                else:
                    known.status = t.status or known.status
                    known.status_time = t.status_time or now
                    known.crew = t.crew or known.crew
                    known.number = known.number or t.number
                    known.work_order = t.work_order or known.work_order
                    known.work_order_number = t.work_order_number or known.work_order_number
                    known.linked_trouble_order = (
                        t.linked_trouble_order or known.linked_trouble_order
                    )
                label = f"{'work' if known.kind == 'work' else 'trouble'} order {known.number or known.mrid}"
                notes.append(
                    f"{label} {known.status}" + (f" (crew {known.crew})" if known.crew else "")
                )
                outage.history.append((iso(now), f"{label} {known.status}"))
                if known.status == "restored":
                    restored_at = known.status_time or now
            props: dict[str, str] = {}
            if record.trouble_orders:
                props["TroubleOrderStatus"] = record.trouble_orders[-1].status
            if record.ert is not None and record.ert != outage.ert:
                if outage.ert is not None:
                    props["ErtChangeMinutes"] = str(
                        round((record.ert - outage.ert).total_seconds() / 60)
                    )
                outage.ert = record.ert
                outage.ert_source = record.ert_source or source
                outage.ert_confidence = record.ert_confidence or outage.ert_confidence
                notes.append(f"ERT {iso(record.ert)} ({outage.ert_source})")
            if record.cause:
                outage.cause, outage.cause_kind = (
                    record.cause,
                    record.cause_kind or outage.cause_kind,
                )
            self._publish(
                "changed",
                outage,
                comment="; ".join(notes) or f"update from {source}",
                properties=props,
            )
            self.relay_latency.append(
                {
                    "outage": outage.number,
                    "status": props.get("TroubleOrderStatus"),
                    "wall_latency_ms": round((time.perf_counter() - wall0) * 1000, 3),
                }
            )
            if restored_at is not None and outage.active:
                outage.restoration_reported = outage.restoration_reported or restored_at
                self._schedule_verify(outage, "trouble order restored", delay=0)
            self._flush()
            return outage

    # ================================================================== restoration verification
    def verify(self, outage_id: str) -> VerifyRound | None:
        """Start a verification round now (also ``POST /outages/{id}/verify``)."""
        with self._lock:
            outage = self.outage(outage_id)
            if not outage.active:
                raise ValueError(f"{outage.number} is {outage.status}: nothing to verify")
            if not outage.verifying:
                self._schedule_verify(outage, "requested", delay=0)
            self._flush()
            return outage.rounds[-1] if outage.rounds else None

    def _schedule_verify(self, outage: Outage, reason: str, *, delay: float | None = None) -> None:
        delay = self.config.verify_delay_s if delay is None else delay
        if outage.verifying:
            outage.verify_again = True
            return
        if delay <= 0:
            if outage.verify_timer is not None:
                outage.verify_timer.cancel()
                outage.verify_timer = None
            self._verify(outage, reason)
            return
        if outage.verify_timer is None:

            def fire(mrid: str = outage.mrid) -> None:
                with self._lock:
                    o = self.outages.get(mrid)
                    if o is None or not o.active:
                        return
                    o.verify_timer = None
                    if o.verifying:
                        o.verify_again = True
                    else:
                        self._verify(o, reason)
                    self._flush()

            outage.verify_timer = self.clock.call_later(
                delay, fire, name=f"oms verify {outage.number}"
            )

    def _verify(self, outage: Outage, reason: str) -> VerifyRound:
        now = self.clock.now()
        rnd = VerifyRound(n=len(outage.rounds) + 1, started=now, reason=reason)
        outage.rounds.append(rnd)
        outage.verify_again = False
        outage.history.append((iso(now), f"verification round {rnd.n} ({reason})"))
        targets = [
            m for m in outage.meters.values() if m.state != "restored" or m.restored_at is None
        ]
        if not targets:
            targets = list(outage.meters.values())
        for m in targets:
            control = str(uuid.uuid4())
            rnd.pings[control] = m.esiid
            self._pings[control] = (outage.mrid, rnd.n)
        rnd.timer = self.clock.call_later(
            self.config.ping_timeout_s,
            lambda m=outage.mrid, n=rnd.n: self._round_timeout(m, n),
            name=f"oms ping timeout {outage.number}",
        )
        for control, esiid in list(rnd.pings.items()):
            self._send_ping(outage, control, outage.meters[esiid])
            if rnd.finished is not None:
                break
        return rnd

    def _send_ping(self, outage: Outage, control: str, m: MeterState) -> None:
        queue = getattr(self.client, "queue", None) if self.client is not None else None
        payload = E.edc(
            "EndDeviceControls",
            ping_control(
                control,
                meter=m.meter,
                esiid=m.esiid,
                code=controls.POWER_STATUS_PING,
                issuer=self.organization or self.system,
                tracking_id=outage.number,
                reason=f"Restoration verification of outage {outage.number} (D11-7)",
            ),
        )
        message_id = str(uuid.uuid4())
        body = request(
            "create",
            "EndDeviceControls",
            source=self.system,
            payload=[payload],
            organization=self.organization,
            async_reply=True if queue else None,
            reply_address=queue,
            timestamp=self.clock.now(),
            comment=f"Ping {m.meter} to verify restoration of {outage.number}",
            message_id=message_id,
        )
        self.sent.append(body)
        self._ping_messages[message_id] = control
        if self.client is None:
            self._journal_out(body)
            return
        try:
            answer = self.request(body, timeout=self.config.ping_request_timeout, key=m.meter)
        except (SimulatorError, TimeoutError) as exc:
            self._remark(
                f"ping of {m.meter} not sent: {exc}",
                direction="fault",
                verb="create",
                noun="EndDeviceControls",
                message_id=message_id,
            )
            return
        if answer.result == "FAILED":
            self._ping_messages.pop(message_id, None)
            reason = "; ".join(e.get("reason") or "" for e in answer.errors)
            self._ping_answer(control, False, self.clock.now(), why=f"ping refused: {reason}")

    def _control_for(self, key: str | None) -> str | None:
        """The open ping of a meter (for a ping result without issuerTrackingID)."""
        if not key:
            return None
        spec = self._spec(key)
        esiid = spec.esiid if spec else key
        outage = self._active(esiid)
        if outage is None or not outage.verifying:
            return None
        rnd = outage.rounds[-1]
        return next((c for c, e in rnd.pings.items() if e == esiid), None)

    def _ping_answer(self, control: str, on: bool, at: datetime, *, why: str) -> None:
        where = self._pings.get(control)
        if where is None:
            return
        outage = self.outages.get(where[0])
        if outage is None or not outage.rounds or outage.rounds[-1].n != where[1]:
            return
        rnd = outage.rounds[-1]
        if rnd.finished is not None:
            return
        esiid = rnd.pings[control]
        self._remark(f"{outage.number}: {esiid} {'energised' if on else 'not energised'} ({why})")
        self._record_answer(outage, rnd, esiid, on, at)

    def _record_answer(
        self, outage: Outage, rnd: VerifyRound, esiid: str, on: bool, at: datetime
    ) -> None:
        if rnd.answers.get(esiid) is True and not on:
            return  # an energised answer (or power-up) is not undone by a later refusal
        rnd.answers[esiid] = on
        rnd.answered_at[esiid] = at
        if set(rnd.pings.values()) <= set(rnd.answers):
            self._finish_round(outage, rnd)

    def _round_timeout(self, mrid: str, n: int) -> None:
        with self._lock:
            outage = self.outages.get(mrid)
            if (
                outage is None
                or not outage.rounds
                or outage.rounds[-1].n != n
                or outage.rounds[-1].finished
            ):
                return
            self._finish_round(outage, outage.rounds[-1])
            self._flush()

    def _finish_round(self, outage: Outage, rnd: VerifyRound) -> None:
        now = self.clock.now()
        rnd.finished = now
        if rnd.timer is not None:
            rnd.timer.cancel()
        for control in rnd.pings:
            self._pings.pop(control, None)
        self._ping_messages = {k: v for k, v in self._ping_messages.items() if v not in rnd.pings}
        for esiid in rnd.pings.values():
            m = outage.meters[esiid]
            if rnd.answers.get(esiid):
                m.state = "restored"
                m.restored_at = (
                    m.reported_up_at
                    or outage.restoration_reported
                    or rnd.answered_at.get(esiid, now)
                )
            else:
                m.state, m.restored_at = "off", None
        still_off = outage.off()
        if not still_off:
            self._close(outage, now)
            return
        if outage.restored():
            outage.status = "partiallyRestored"
        outage.history.append(
            (
                iso(now),
                f"verification round {rnd.n}: {len(still_off)} of {len(outage.meters)} meters still off",
            )
        )
        self._touch(
            outage,
            f"restoration verification: {len(still_off)} of {len(outage.meters)} meters still without power; the outage stays open",
        )
        if outage.verify_again:
            outage.verify_again = False
            self._schedule_verify(outage, "further restoration reports")

    def _close(self, outage: Outage, now: datetime) -> None:
        ends = [m.restored_at for m in outage.meters.values() if m.restored_at is not None]
        outage.actual_end = max(ends) if ends else now
        if outage.actual_start is not None and outage.actual_end < outage.actual_start:
            outage.actual_end = now
        outage.status = "closed"
        if outage.verify_timer is not None:
            outage.verify_timer.cancel()
            outage.verify_timer = None
        for esiid in outage.meters:
            if self._active_meter.get(esiid) == outage.mrid:
                del self._active_meter[esiid]
        start = outage.actual_start or outage.reported_start or now
        duration = outage.actual_end - start
        cause = outage.cause or (
            "planned work: " + outage.planned_reason
            if outage.planned_reason
            else "cause not determined"
        )
        outage.history.append((iso(now), f"closed after {_duration(duration)}"))
        self._dirty.pop(outage.mrid, None)
        self._publish(
            "closed",
            outage,
            comment=(
                f"Power restored to all {len({m.customer for m in outage.meters.values()})} customers after "
                f"{_duration(duration)}; cause: {cause}; outage closed. {CLOSED_DISCLAIMER}"
            ),
            properties={
                "OutageDurationMinutes": str(round(duration.total_seconds() / 60)),
                "OutageCause": cause,
            },
        )

    # ================================================================== publishing
    def _touch(self, outage: Outage, note: str) -> None:
        self._dirty.setdefault(outage.mrid, []).append(note)

    def _flush(self) -> None:
        """Publish ``changed OutageRecords`` for every outage changed since the last flush."""
        while self._dirty:
            mrid, notes = next(iter(self._dirty.items()))
            del self._dirty[mrid]
            outage = self.outages.get(mrid)
            if outage is not None and outage.open:
                self._publish("changed", outage, comment="; ".join(notes))

    def record(self, outage: Outage) -> RecordData:
        """The outage as an ``OutageRecord`` (what the OMS publishes)."""
        off, restored, all_ = outage.off(), outage.restored(), list(outage.meters.values())

        def customers(ms: list[MeterState]) -> int:
            return len({m.customer for m in ms})

        closed = outage.status == "closed"
        return RecordData(
            mrid=outage.mrid,
            magnitude=outage.magnitude,
            status=outage.status,
            number=outage.number,
            planned_reason=outage.planned_reason,
            planned_start=outage.planned_start,
            planned_end=outage.planned_end,
            cause=outage.cause
            or (
                None
                if outage.planned_reason
                else ("Cause not determined" if closed else "Under investigation")
            ),
            cause_kind=outage.cause_kind,
            reported_start=outage.reported_start,
            community=outage.community,
            customers_affected=customers(off),
            customers_restored=customers(restored) if restored or closed else None,
            meters_affected=len(off),
            original_customers=customers(all_),
            original_meters=len(all_),
            disclaimer=CLOSED_DISCLAIMER if closed else OPEN_DISCLAIMER,
            actual_start=outage.actual_start,
            actual_end=outage.actual_end,
            contact_phone=self.contact_phone,
            estimated_start=None if closed else (outage.actual_start or outage.planned_start),
            estimated_end=None if closed else outage.ert,
            ert=None if closed else outage.ert,
            ert_confidence=None if closed else outage.ert_confidence,
            ert_source=None if closed else outage.ert_source,
            incident_id=outage.incident_id,
            incident_cause=outage.incident_cause,
            trouble_orders=list(outage.trouble_orders.values()),
            usage_points=list(outage.meters),
        )

    def _publish(
        self,
        verb: str,
        outage: Outage,
        *,
        comment: str,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        body = event(
            verb,
            "OutageRecords",
            [outage_records([self.record(outage)])],
            source=self.system,
            timestamp=self.clock.now(),
            organization=self.organization,
            comment=comment[:1000],
            properties=dict(properties or {}) or None,
        )
        self.sent.append(body)
        if self.client is None:
            self._journal_out(body)
        else:
            self.send(body, key=outage.number)

    # ================================================================== inspection
    def outage(self, key: str) -> Outage:
        """An outage by mRID or number (KeyError otherwise)."""
        return by_key(self.outages, key, "outage")

    def outage_of(self, esiid: str) -> Outage | None:
        """The active outage a usage point belongs to."""
        spec = self._spec(esiid)
        return self._active(spec.esiid if spec else esiid)

    def detail(self, outage: Outage) -> dict[str, Any]:
        return {
            **outage.summary(),
            "record": self.record(outage).to_dict(),
            "usage_points": {
                m.esiid: {
                    "meter": m.meter,
                    "state": m.state,
                    "restored_at": iso(m.restored_at) if m.restored_at else None,
                }
                for m in outage.meters.values()
            },
            "calls": list(outage.calls),
            "verification": [r.to_dict() for r in outage.rounds],
            "history": [{"at": at, "what": what} for at, what in outage.history],
        }

    def status(self) -> dict[str, Any]:
        out = super().status()
        with self._lock:
            out["outages"] = {
                "open": sum(1 for o in self.outages.values() if o.open),
                "closed": sum(1 for o in self.outages.values() if not o.open),
                "pending_clusters": len(self._clusters),
            }
            walls = [x["wall_latency_ms"] for x in self.relay_latency]
            out["relay_latency"] = {
                "count": len(walls),
                "max_wall_latency_ms": max(walls) if walls else None,
            }
        out["config"] = {
            k: (dict(v) if isinstance(v, Mapping) else v) for k, v in self.config.__dict__.items()
        }
        return out

    def add_routes(self, app: Any) -> None:
        from .api import add_routes

        add_routes(self, app)
