"""The CIS simulator: the retail providers (Reps of Record) and their billing system.

What it simulates, with the requirement each rule serves:

* **Population** from the profile: customers, accounts, usage points (ESIIDs), the Rep of Record
  of each ESIID (``MeterSpec.ror``) and a credit status per customer (:meth:`Cis.set_credit`).
  One CIS acts for every ROR organisation of the profile whose ``system`` is its own; each
  request carries Header ``User/Organization`` = the ESIID's ROR and ``UserID`` = a CSR user.
* **On-demand read** (ODR-1, ODR-4, ODR-5): :meth:`Cis.on_demand_read` sends ``get
  MeterReadings`` shaped like the golden GetMeterReadings.xml to cimbus (whose SMT service
  checks ROR of record, window and throttle) and returns the answer; every read is recorded per
  ESIID (:meth:`Cis.reads_for`). :meth:`Cis.ping` sends a power-status ping (``create
  EndDeviceControls`` POWER_STATUS_PING, sync) and returns the answer (:meth:`Cis.pings_for`).
* **Switch orders** (B2-1, B2-2, B2-15): :meth:`Cis.connect`, :meth:`Cis.disconnect`,
  :meth:`Cis.limit`, :meth:`Cis.restore`, :meth:`Cis.switch_status` send ``create
  EndDeviceControls`` with AsyncReplyFlag true and ReplyAddress = the CIS's own queue, on demand
  or scheduled (``at``); :meth:`Cis.cancel_order` / :meth:`Cis.reschedule` send ``cancel`` /
  ``change EndDeviceControls``. Each order's state follows :mod:`simulators.cis.orders`:
  sent -> accepted (cimbus 0.1) -> replied (head-end OK) -> completed (the meter's
  acknowledgement EndDeviceEvents with issuerTrackingID = the control mRID), or failed /
  cancelled. The last known switch position and energisation per ESIID:
  :meth:`Cis.switch_position` (B2-15).
* **Credit and collection** (B2-17): :meth:`Cis.credit_escalate` limits to 90 %, then 75 %,
  then disconnects; :meth:`Cis.payment_received` cancels what is still scheduled and restores
  the rest (connect, limit off: 100 %).
* Every reply and event received is recorded (:meth:`on_reply`, :meth:`on_event`), per order and
  per ESIID (:attr:`Cis.orders`, :meth:`Cis.events_for`).

Profile keys (``[cis]``, all optional): ``csr_user`` ("csr.sim"), ``request_timeout`` (30 s),
``credit_levels`` ([90, 75]).
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from cim_models.codes import controls, events, results
from simulators._core import (
    E,
    Incoming,
    MeterSpec,
    Simulator,
    SimulatorError,
    iso,
    parse_time,
    request,
)
from simulators._core.cim import local_iso, outage_entries
from simulators.mdms.messages import parse_end_device_events, parse_meter_readings

from .messages import ODR_COMMENT, end_device_control, read_filter
from .orders import CANCELLED, COMPLETED, FAILED, Order

__all__ = ["Cis", "PingRecord", "ReadRecord"]

KINDS = {
    "connect": controls.REMOTE_CONNECT,
    "disconnect": controls.REMOTE_DISCONNECT,
    "limit": controls.LOAD_LIMIT_ENABLE,
    "restore": controls.LOAD_LIMIT_DISABLE,
    "switch_status": controls.SWITCH_STATUS_READ,
}
DEFAULT_REASONS = {
    "connect": "Move-in (B2 P2): service connection requested",
    "disconnect": "Move-out (B2 P1): customer moved out",
    "limit": "Service limiting (B2 P6)",
    "restore": "Service limit removed: restore to 100 % (B2 P4)",
    "switch_status": "Customer representative: switch position and energised status (B2-15)",
}
GOOD = "good"
DISCONNECTED = "disconnected"


@dataclass
class ReadRecord:
    """One on-demand read the CIS asked for (ODR-1) and what came back."""

    at: str
    esiid: str
    organization: str
    user: str
    start: str | None
    end: str | None
    message_id: str
    result: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    intervals: list[tuple[str, float | None, str | None]] = field(default_factory=list)
    registers: list[tuple[str | None, float | None, str | None]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PingRecord:
    """One power-status ping (ODR-5, B2-15) and its answer."""

    at: str
    esiid: str
    organization: str
    user: str
    control_id: str
    message_id: str
    result: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _switch_order(kind: str, doc: str) -> Callable[..., str]:
    """A public order method of :class:`Cis` (connect, disconnect, restore): ``(esiid, at=None,
    *, reason=None, org=None, user=None)`` -> the order id."""

    def order(
        self: Cis,
        esiid: str,
        at: Any = None,
        *,
        reason: str | None = None,
        org: str | None = None,
        user: str | None = None,
    ) -> str:
        return self._order(kind, esiid, at=at, reason=reason, org=org, user=user)

    order.__name__ = kind
    order.__qualname__ = f"Cis.{kind}"
    order.__doc__ = doc
    return order


class Cis(Simulator):
    """Rep of Record / billing: on-demand reads, pings, switch orders, credit flows."""

    name = "cis"
    system = "CIS"
    title = (
        "Retail provider / Rep of Record and billing: customers, ROR per ESIID, credit status; "
        "on-demand reads, pings, connect / disconnect / limit orders and their tracking"
    )
    requirements = ("ODR-1", "ODR-4", "ODR-5", "B2-1", "B2-2", "B2-15", "B2-17")

    def __init__(
        self,
        profile: Any = None,
        *,
        csr_user: str | None = None,
        request_timeout: float | None = None,
        credit_levels: Sequence[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(profile, **kwargs)
        section = self.profile.section("cis")
        self.csr_user = str(csr_user or section.get("csr_user", "csr.sim"))
        self.request_timeout = float(
            request_timeout if request_timeout is not None else section.get("request_timeout", 30.0)
        )
        levels = [int(x) for x in (credit_levels or section.get("credit_levels", (90, 75)))]
        if not levels or any(not 0 < x < 100 for x in levels):
            raise ValueError(
                f"cis: credit_levels must be percentages between 1 and 99, not {levels}"
            )
        #: the credit escalation (B2-17): (status, action, level)
        self.credit_steps: tuple[tuple[str, str, int | None], ...] = (
            *((f"limited_{x}", "limit", x) for x in levels),
            (DISCONNECTED, "disconnect", None),
        )
        self.tz = ZoneInfo(self.profile.timezone)
        tdsp = self.profile.organizations_with("TDSP")
        self.authority = (tdsp[0].name or tdsp[0].id) if tdsp else None
        self.orders: dict[str, Order] = {}
        self._by_message: dict[str, tuple[str, str]] = {}  # request MessageID -> (order, action)
        self._orders_by_esiid: dict[str, list[str]] = defaultdict(list)
        self._events: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._reads: dict[str, list[ReadRecord]] = defaultdict(list)
        self._pings: dict[str, list[PingRecord]] = defaultdict(list)
        self._ping_by_control: dict[str, PingRecord] = {}
        self._positions: dict[str, dict[str, Any]] = {}
        self._credit: dict[str, str] = {}
        self._credit_orders: dict[str, list[str]] = defaultdict(list)
        self._customers: dict[str, Any] | None = None
        self._meters_by_customer: dict[str, list[MeterSpec]] | None = None
        self._numbers = itertools.count(1)
        self.unmatched_replies: deque[dict[str, Any]] = deque(maxlen=1000)

    # ------------------------------------------------------------------ population
    @property
    def organizations(self) -> tuple[str, ...]:
        """The ROR organisations this CIS acts for (role ROR, system = this system)."""
        return tuple(
            o.id for o in self.profile.organizations if o.role == "ROR" and o.system == self.system
        )

    def _spec(self, esiid: str) -> MeterSpec:
        spec = self.profile.find_meter(esiid)
        if spec is None:
            raise KeyError(f"ESIID or meter {esiid!r} is not known to the CIS")
        return spec

    def ror_of(self, esiid: str) -> str:
        """The Rep of Record of the usage point (ODR-4)."""
        return self._spec(esiid).ror

    def _org_for(self, spec: MeterSpec, org: str | None) -> str:
        """The organisation a request about ``spec`` is made for: ``org`` when given (e.g. to
        show that another ROR is refused, ODR-4), else the ESIID's ROR of record."""
        if org:
            return org
        acting = self.organizations
        if acting and spec.ror not in acting:
            raise ValueError(
                f"ESIID {spec.esiid} belongs to ROR {spec.ror!r}, which this CIS does not act for "
                f"(it acts for {', '.join(acting)}); pass org= to ask anyway"
            )
        return spec.ror

    def _customer_index(self) -> dict[str, Any]:
        if self._customers is None:
            self._customers = {c.id: c for c in self.profile.customers}
        return self._customers

    def customer(self, customer_id: str) -> dict[str, Any]:
        """A customer with account, contact, credit status and usage points."""
        c = self._customer_index().get(customer_id)
        if c is None:
            raise KeyError(f"customer {customer_id!r} is not known to the CIS")
        return {
            "id": c.id,
            "name": c.name,
            "account": c.account,
            "phone": c.phone,
            "email": c.email,
            "credit_status": self.credit_status(c.id),
            "usage_points": [
                {"esiid": m.esiid, "meter": m.meter, "ror": m.ror, "premise": m.premise}
                for m in self.meters_of(c.id)
            ],
        }

    def meters_of(self, customer_id: str) -> list[MeterSpec]:
        if self._meters_by_customer is None:
            index: dict[str, list[MeterSpec]] = defaultdict(list)
            for m in self.profile.meters:
                index[m.customer].append(m)
            self._meters_by_customer = dict(index)
        return list(self._meters_by_customer.get(customer_id, ()))

    def usage_point(self, esiid: str) -> dict[str, Any]:
        spec = self._spec(esiid)
        with self._lock:
            orders = [self.orders[o] for o in self._orders_by_esiid.get(spec.esiid, ())]
            summary = [{"id": o.id, "kind": o.kind, "state": o.state} for o in orders]
            reads = len(self._reads.get(spec.esiid, ()))
            pings = len(self._pings.get(spec.esiid, ()))
            n_events = len(self._events.get(spec.esiid, ()))
        return {
            "esiid": spec.esiid,
            "meter": spec.meter,
            "ror": spec.ror,
            "customer": spec.customer,
            "premise": spec.premise,
            "rated_kw": spec.rated_kw,
            "ams": spec.ams,
            "provisioned": spec.provisioned,
            "switch": self.switch_position(spec.esiid),
            "orders": summary,
            "reads": reads,
            "pings": pings,
            "events": n_events,
        }

    # ------------------------------------------------------------------ credit status
    def credit_status(self, customer_id: str) -> str:
        if customer_id in self._credit:
            return self._credit[customer_id]
        c = self._customer_index().get(customer_id)
        if c is None:
            raise KeyError(f"customer {customer_id!r} is not known to the CIS")
        return c.credit_status or GOOD

    def set_credit(self, customer_id: str, status: str) -> None:
        """Set a customer's credit status (any text; the escalation understands ``good``,
        ``limited_<level>`` and ``disconnected``)."""
        self.credit_status(customer_id)  # KeyError for an unknown customer
        with self._lock:
            self._credit[customer_id] = status

    def credit_escalate(self, customer_id: str, at: Any = None) -> list[str]:
        """The next credit step for every usage point of the customer (B2-17, P6 -> P3):
        limit to 90 %, then 75 %, then disconnect. Returns the new order ids."""
        status = self.credit_status(customer_id)
        names = [s[0] for s in self.credit_steps]
        step = names.index(status) + 1 if status in names else 0
        if step >= len(self.credit_steps):
            raise ValueError(f"customer {customer_id} is already {status}: no further credit step")
        name, action, level = self.credit_steps[step]
        ids = []
        for spec in self.meters_of(customer_id):
            if action == "limit":
                assert level is not None
                oid = self.limit(
                    spec.esiid,
                    level,
                    at,
                    reason=f"Credit and collection limiting (B2 P6): {level} % of rated capacity",
                )
            else:
                oid = self.disconnect(
                    spec.esiid, at, reason="Credit and collection disconnect (B2 P3): no payment"
                )
            with self._lock:
                self.orders[oid].credit = True
                self._credit_orders[customer_id].append(oid)
            ids.append(oid)
        with self._lock:
            self._credit[customer_id] = name
        return ids

    def payment_received(self, customer_id: str, at: Any = None) -> list[str]:
        """Payment (B2-17, P6/P3 -> P4): credit orders still scheduled for later are cancelled
        (B2-2); usage points that were disconnected are reconnected and limits removed
        (service back to 100 %). Returns the ids of the orders cancelled and created."""
        status = self.credit_status(customer_id)
        now = self.clock.now()
        with self._lock:
            credit_ids = list(self._credit_orders.get(customer_id, ()))
        touched: list[str] = []
        effective: list[Order] = []
        for oid in credit_ids:
            order = self.orders[oid]
            if order.pending and order.scheduled_at is not None and order.scheduled_at > now:
                try:
                    self.cancel_order(oid, reason="Credit order cancelled: payment received")
                except ValueError:  # it completed meanwhile: treat it as effective
                    effective.append(order)
                    continue
                touched.append(oid)
            elif order.state != CANCELLED:
                effective.append(order)
        disconnected = {o.esiid for o in effective if o.kind == "disconnect"}
        limited = {o.esiid for o in effective if o.kind == "limit"}
        if not credit_ids:  # status set by hand: act on what it says
            esiids = {m.esiid for m in self.meters_of(customer_id)}
            if status == DISCONNECTED:
                disconnected = limited = esiids
            elif status.startswith("limited"):
                limited = esiids
        for spec in self.meters_of(customer_id):
            if spec.esiid in disconnected:
                touched.append(
                    self.connect(
                        spec.esiid,
                        at,
                        reason="Credit and collection reconnect (B2 P4): payment received",
                    )
                )
            if spec.esiid in limited:
                touched.append(
                    self.restore(
                        spec.esiid, at, reason="Payment received: limit removed, service at 100 %"
                    )
                )
        with self._lock:
            self._credit[customer_id] = GOOD
            self._credit_orders[customer_id] = []
        return touched

    # ------------------------------------------------------------------ ODR
    def on_demand_read(
        self,
        esiid: str,
        start: Any = None,
        end: Any = None,
        *,
        org: str | None = None,
        user: str | None = None,
        timeout: float | None = None,
    ) -> Incoming:
        """Ask for the non-VEE 15-minute data of ``esiid`` (ODR-1) and return cimbus's answer.

        The request is ``get MeterReadings`` shaped like the golden GetMeterReadings.xml: the
        window (when given) in Request StartTime/EndTime and in Reading/timePeriod, both
        ReadingTypes (15-minute kWh, register), the UsagePoint by ESIID; Header Organization =
        ``org`` or the ESIID's ROR, UserID = ``user`` or the CSR user. Raises
        :class:`SimulatorError` when no answer came at all (the attempt is still recorded)."""
        spec = self._spec(esiid)
        organization = self._org_for(spec, org)
        user = user or self.csr_user
        lo = parse_time(start) if start is not None else None
        hi = parse_time(end) if end is not None else None
        message_id = str(uuid.uuid4())
        body = request(
            "get",
            "MeterReadings",
            source=self.system,
            get_filter=read_filter(spec.esiid, lo, hi, self.tz),
            start=local_iso(lo, self.tz) if lo else None,
            end=local_iso(hi, self.tz) if hi else None,
            organization=organization,
            user_id=user,
            async_reply=False,
            timestamp=self.clock.now(),
            comment=ODR_COMMENT,
            message_id=message_id,
        )
        record = ReadRecord(
            at=iso(self.clock.now()),
            esiid=spec.esiid,
            organization=organization,
            user=user,
            start=local_iso(lo, self.tz) if lo else None,
            end=local_iso(hi, self.tz) if hi else None,
            message_id=message_id,
        )
        with self._lock:
            self._reads[spec.esiid].append(record)
        try:
            answer = self.request(body, timeout=timeout or self.request_timeout)
        except (SimulatorError, TimeoutError) as exc:
            record.result = "NO_ANSWER"
            record.errors = [{"code": None, "level": None, "reason": str(exc)}]
            raise SimulatorError(
                f"on-demand read for ESIID {spec.esiid}: no answer ({exc})"
            ) from exc
        record.result = answer.result
        record.errors = answer.errors
        for item in parse_meter_readings(answer.payload, self.tz):
            record.intervals.extend((local_iso(ts, self.tz), v, q) for ts, v, q in item.intervals)
            record.registers.extend(
                (local_iso(ts, self.tz) if ts else None, v, q) for ts, v, q, _ in item.registers
            )
        return answer

    def reads_for(self, esiid: str) -> list[ReadRecord]:
        with self._lock:
            return list(self._reads.get(self._spec(esiid).esiid, ()))

    def ping(
        self,
        esiid: str,
        *,
        org: str | None = None,
        user: str | None = None,
        timeout: float | None = None,
    ) -> Incoming:
        """A power-status ping (``create EndDeviceControls`` POWER_STATUS_PING for the usage
        point, sync) and cimbus's answer (ODR-5 counts it; B2-15: OK means the meter answered,
        so it is energised). Raises :class:`SimulatorError` when no answer came."""
        spec = self._spec(esiid)
        organization = self._org_for(spec, org)
        user = user or self.csr_user
        control_id = str(uuid.uuid4())
        message_id = str(uuid.uuid4())
        body = request(
            "create",
            "EndDeviceControls",
            source=self.system,
            payload=[
                E.edc(
                    "EndDeviceControls",
                    end_device_control(
                        control_id,
                        controls.POWER_STATUS_PING,
                        esiid=spec.esiid,
                        meter=spec.meter,
                        issuer=organization,
                        tracking_id=self._next_number("PING"),
                        reason="Power status request (ping)",
                        tz=self.tz,
                        authority=self.authority,
                    ),
                )
            ],
            organization=organization,
            user_id=user,
            async_reply=False,
            timestamp=self.clock.now(),
            comment=f"Power status request (ping) for ESIID {spec.esiid}",
            message_id=message_id,
        )
        record = PingRecord(
            iso(self.clock.now()), spec.esiid, organization, user, control_id, message_id
        )
        with self._lock:
            self._pings[spec.esiid].append(record)
            self._ping_by_control[control_id] = record
        try:
            answer = self.request(body, timeout=timeout or self.request_timeout)
        except (SimulatorError, TimeoutError) as exc:
            record.result = "NO_ANSWER"
            record.errors = [{"code": None, "level": None, "reason": str(exc)}]
            raise SimulatorError(f"ping of ESIID {spec.esiid}: no answer ({exc})") from exc
        record.result = answer.result
        record.errors = answer.errors
        codes = {e.get("code") or "" for e in answer.errors}
        if answer.result == "OK" and "0.1" not in codes:  # 0.1: only accepted, no answer yet
            self._set_position(spec.esiid, energised=True)
        elif answer.result == "FAILED" and any(c.startswith("4.") for c in codes):
            self._set_position(spec.esiid, energised=False)
        return answer

    def pings_for(self, esiid: str) -> list[PingRecord]:
        with self._lock:
            return list(self._pings.get(self._spec(esiid).esiid, ()))

    # ------------------------------------------------------------------ B2 orders
    connect = _switch_order(
        "connect", "Remote connect (B2 P2 / P4), on demand or at ``at``. Returns the order id."
    )
    disconnect = _switch_order(
        "disconnect",
        "Remote disconnect (B2 P1 / P3), on demand or at ``at``. Returns the order id.",
    )

    def limit(
        self,
        esiid: str,
        level: int,
        at: Any = None,
        *,
        reason: str | None = None,
        org: str | None = None,
        user: str | None = None,
    ) -> str:
        """Load limit at ``level`` % of the meter's rated capacity (B2 P6, B2-12). Returns the
        order id."""
        level = int(level)
        if not 0 < level <= 100:
            raise ValueError(
                f"a load limit is a percentage of rated capacity (1..100), not {level}"
            )
        return self._order("limit", esiid, at=at, reason=reason, level=level, org=org, user=user)

    restore = _switch_order(
        "restore",
        "Remove the load limit (LOAD_LIMIT_DISABLE: back to 100 %). Returns the order id.",
    )

    def switch_status(self, esiid: str, *, org: str | None = None, user: str | None = None) -> str:
        """Ask the meter for its switch position and energised status (B2-15,
        SWITCH_STATUS_READ). The answer arrives as the order's reply / acknowledgement;
        :meth:`switch_position` shows what is known. Returns the order id."""
        return self._order("switch_status", esiid, org=org, user=user)

    def _next_number(self, prefix: str = "SO") -> str:
        return f"{prefix}-{self.clock.now():%Y}-{next(self._numbers):07d}"

    def _reply_address(self) -> str | None:
        return getattr(self.client, "queue", None)

    def _order(
        self,
        kind: str,
        esiid: str,
        *,
        at: Any = None,
        reason: str | None = None,
        level: int | None = None,
        org: str | None = None,
        user: str | None = None,
    ) -> str:
        spec = self._spec(esiid)
        organization = self._org_for(spec, org)
        when = parse_time(at) if at is not None else None
        control = KINDS[kind]
        order = Order(
            id=str(uuid.uuid4()),
            number=self._next_number(),
            kind=kind,
            control=control,
            esiid=spec.esiid,
            meter=spec.meter,
            customer=spec.customer,
            organization=organization,
            user=user or self.csr_user,
            created=iso(self.clock.now()),
            reason=reason or DEFAULT_REASONS[kind],
            level=level,
            scheduled_at=when,
        )
        element = end_device_control(
            order.id,
            control,
            esiid=spec.esiid,
            meter=spec.meter,
            issuer=organization,
            tracking_id=order.number,
            reason=order.reason,
            level=level,
            at=when,
            tz=self.tz,
            authority=self.authority,
        )
        what = f"{kind} ESIID {spec.esiid}" + (
            f" at {local_iso(when, self.tz)}" if when else " on demand"
        )
        self._send("create", order, element, f"Service order {order.number}: {what}")
        return order.id

    def cancel_order(self, order_id: str, *, reason: str | None = None) -> str:
        """Cancel a pending order (B2-2: ``cancel EndDeviceControls`` naming the control mRID).
        The order becomes ``cancelled`` when the head-end confirms. Returns the order id."""
        order = self.order(order_id)
        if order.final:
            raise ValueError(f"order {order_id} is {order.state}: nothing to cancel")
        element = end_device_control(
            order.id,
            order.control,
            issuer=order.organization,
            tracking_id=order.number,
            reason=reason or f"Service order {order.number} cancelled",
            tz=self.tz,
            targets=False,
        )
        with self._lock:
            order.cancel_requested = True
        self._send("cancel", order, element, f"Cancel service order {order.number} ({order.kind})")
        return order.id

    def reschedule(self, order_id: str, at: Any, *, reason: str | None = None) -> str:
        """Move a pending order to ``at`` (B2-2: ``change EndDeviceControls`` with the new
        primaryDeviceTiming). Returns the order id."""
        order = self.order(order_id)
        if order.final:
            raise ValueError(f"order {order_id} is {order.state}: it cannot be rescheduled")
        when = parse_time(at)
        element = end_device_control(
            order.id,
            order.control,
            esiid=order.esiid,
            meter=order.meter,
            issuer=order.organization,
            tracking_id=order.number,
            reason=reason or order.reason,
            level=order.level,
            at=when,
            tz=self.tz,
            authority=self.authority,
        )
        with self._lock:
            order.pending_change = when
        self._send(
            "change",
            order,
            element,
            f"Reschedule service order {order.number} to {local_iso(when, self.tz)}",
        )
        return order.id

    def _send(self, action: str, order: Order, element: Any, comment: str) -> None:
        message_id = str(uuid.uuid4())
        body = request(
            action,
            "EndDeviceControls",
            source=self.system,
            payload=[E.edc("EndDeviceControls", element)],
            organization=order.organization,
            user_id=order.user,
            async_reply=True,
            reply_address=self._reply_address(),
            timestamp=self.clock.now(),
            comment=comment,
            message_id=message_id,
        )
        now = iso(self.clock.now())
        with self._lock:
            if action == "create":
                self.orders[order.id] = order
                self._orders_by_esiid[order.esiid].append(order.id)
            self._by_message[message_id] = (order.id, action)
            order.history.append(
                {
                    "at": now,
                    "state": order.state,
                    "note": f"{action} sent ({message_id})",
                    "changed": False,
                }
            )
        try:
            answer = self.request(body, timeout=self.request_timeout)
        except (SimulatorError, TimeoutError) as exc:
            with self._lock:
                if action == "create":
                    order.move(FAILED, now, f"create not delivered: {exc}")
                else:
                    if action == "cancel":
                        order.cancel_requested = False
                    else:
                        order.pending_change = None
                    order.move(order.state, now, f"{action} not delivered: {exc}")
            return
        with self._lock:
            before = order.state
            order.on_answer(action, answer.result, answer.errors, iso(self.clock.now()))
            changed = order.state != before
        if changed:
            self._after_change(order)

    def order(self, order_id: str) -> Order:
        with self._lock:
            order = self.orders.get(order_id)
        if order is None:
            raise KeyError(f"order {order_id!r} is not known to the CIS")
        return order

    def orders_for(self, esiid: str) -> list[Order]:
        spec = self._spec(esiid)
        with self._lock:
            return [self.orders[o] for o in self._orders_by_esiid.get(spec.esiid, ())]

    # ------------------------------------------------------------------ replies and events
    def on_reply(self, incoming: Incoming) -> None:
        """A reply to one of the CIS's async requests (create / cancel / change
        EndDeviceControls), matched by CorrelationID; others are kept as unmatched."""
        corr = incoming.correlation_id
        with self._lock:
            entry = self._by_message.get(corr or "")
        at = iso(self.clock.now())
        if entry is None:
            with self._lock:
                self.unmatched_replies.append(
                    {
                        "at": at,
                        "correlation_id": corr,
                        "noun": incoming.noun,
                        "result": incoming.result,
                        "errors": incoming.errors,
                    }
                )
            return
        order_id, action = entry
        order = self.order(order_id)
        with self._lock:
            before = order.state
            order.on_reply(action, incoming.result, incoming.errors, at)
            changed = order.state != before
        if changed:
            self._after_change(order)

    def on_event(self, incoming: Incoming) -> None:
        """EndDeviceEvents (acknowledgements B2-4, trips, local toggles, last gasp ...) are
        recorded per ESIID and applied to the order they name (issuerTrackingID = control
        mRID); OutageRecords events are recorded per ESIID."""
        at = iso(self.clock.now())
        if incoming.noun == "EndDeviceEvents":
            for ev in parse_end_device_events(incoming.payload, self.tz):
                spec = self.profile.find_meter(ev.esiid or "") or self.profile.find_meter(
                    ev.meter or ""
                )
                esiid = spec.esiid if spec else (ev.esiid or ev.meter or "?")
                entry = {
                    "kind": "device",
                    "received": at,
                    "message_id": incoming.message_id,
                    "source": incoming.source,
                    **ev.to_dict(),
                }
                with self._lock:
                    self._events[esiid].append(entry)
                    order = self.orders.get(ev.tracking_id or "")
                    ping = self._ping_by_control.get(ev.tracking_id or "")
                    if ping is not None:
                        ping.events.append(entry)
                self._position_from_event(esiid, ev.code, ev.details)
                if order is not None:
                    with self._lock:
                        before = order.state
                        order.on_event(entry, at)
                        changed = order.state != before
                    if changed:
                        self._after_change(order)
        elif incoming.noun == "OutageRecords":
            for entry, esiids in outage_entries(incoming, at):
                for key in esiids:
                    with self._lock:
                        self._events[key].append(dict(entry))

    def events_for(self, esiid: str) -> list[dict[str, Any]]:
        """Every event received about the usage point, in arrival order."""
        spec = self.profile.find_meter(esiid)
        with self._lock:
            return list(self._events.get(spec.esiid if spec else esiid, ()))

    # ------------------------------------------------------------------ switch position (B2-15)
    def switch_position(self, esiid: str) -> dict[str, Any]:
        """What the CIS knows of the meter's switch: ``contactor`` (Closed / Opened),
        ``limit_level`` (percent, None = no limit), ``energised``, ``as_of``."""
        spec = self._spec(esiid)
        with self._lock:
            return dict(
                self._positions.get(
                    spec.esiid,
                    {"contactor": None, "limit_level": None, "energised": None, "as_of": None},
                )
            )

    def _set_position(self, esiid: str, **values: Any) -> None:
        with self._lock:
            pos = self._positions.setdefault(
                esiid, {"contactor": None, "limit_level": None, "energised": None, "as_of": None}
            )
            pos.update(values)
            pos["as_of"] = iso(self.clock.now())

    def _position_from_event(self, esiid: str, code: str, details: dict[str, str]) -> None:
        values: dict[str, Any] = {}
        if code in (results.CONNECTED, events.LOCAL_CONNECT, events.LOAD_LIMIT_AUTO_RECONNECTED):
            values["contactor"] = "Closed"
        elif code in (results.DISCONNECTED, events.LOCAL_DISCONNECT, events.LOAD_LIMIT_TRIPPED):
            values["contactor"] = "Opened"
        elif code == results.LOAD_LIMIT_DISABLED:
            values["limit_level"] = None
        if code in (events.LAST_GASP, events.POWER_DOWN):
            values["energised"] = False
        elif code == events.POWER_RESTORED:
            values["energised"] = True
        if "ContactorStatus" in details:
            values["contactor"] = details["ContactorStatus"]
        if "LimitLevel" in details:
            values["limit_level"] = _level(details["LimitLevel"])
        for key in ("Energized", "Energised", "EnergizedStatus"):
            if key in details:
                values["energised"] = details[key].strip().lower() in (
                    "true",
                    "yes",
                    "1",
                    "energized",
                    "energised",
                )
        if values:
            self._set_position(esiid, **values)

    def _after_change(self, order: Order) -> None:
        """A completed order tells the switch position even without details (B2-15)."""
        if (
            order.state != COMPLETED
            or order.switch.get("ContactorStatus")
            or order.switch.get("LimitLevel")
        ):
            return
        if order.kind == "connect":
            self._set_position(order.esiid, contactor="Closed")
        elif order.kind == "disconnect":
            self._set_position(order.esiid, contactor="Opened")
        elif order.kind == "limit":
            self._set_position(order.esiid, limit_level=order.level)
        elif order.kind == "restore":
            self._set_position(order.esiid, limit_level=None)

    # ------------------------------------------------------------------ inspection
    def status(self) -> dict[str, Any]:
        out = super().status()
        with self._lock:
            states: dict[str, int] = defaultdict(int)
            for o in self.orders.values():
                states[o.state] += 1
            out.update(
                {
                    "organizations": list(self.organizations),
                    "orders": dict(states),
                    "reads": sum(len(v) for v in self._reads.values()),
                    "pings": sum(len(v) for v in self._pings.values()),
                    "events": sum(len(v) for v in self._events.values()),
                    "unmatched_replies": len(self.unmatched_replies),
                }
            )
        return out

    def add_routes(self, app: Any) -> None:
        """``GET /customers/{id}``, ``POST /customers/{id}/escalate``, ``POST
        /customers/{id}/payment``, ``GET /usage-points/{esiid}``, ``GET /orders``, ``GET
        /orders/{id}``, ``POST /orders``, ``DELETE /orders/{id}``, ``POST /reads/{esiid}``."""
        from fastapi import HTTPException

        from simulators._core.api import rest_call

        def guard(fn: Any, *args: Any, **kwargs: Any) -> Any:
            return rest_call(fn, *args, unavailable=(SimulatorError,), **kwargs)

        @app.get("/customers/{customer_id}")
        def get_customer(customer_id: str) -> dict[str, Any]:
            return guard(self.customer, customer_id)

        @app.post("/customers/{customer_id}/escalate")
        def escalate(customer_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
            ids = guard(self.credit_escalate, customer_id, (body or {}).get("at"))
            return {
                "customer": customer_id,
                "credit_status": self.credit_status(customer_id),
                "orders": ids,
            }

        @app.post("/customers/{customer_id}/payment")
        def payment(customer_id: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
            ids = guard(self.payment_received, customer_id, (body or {}).get("at"))
            return {
                "customer": customer_id,
                "credit_status": self.credit_status(customer_id),
                "orders": ids,
            }

        @app.get("/usage-points/{esiid}")
        def get_usage_point(esiid: str) -> dict[str, Any]:
            return guard(self.usage_point, esiid)

        @app.get("/orders")
        def list_orders(esiid: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
            with self._lock:
                orders = list(self.orders.values())
            return [
                o.to_dict()
                for o in orders
                if (esiid is None or esiid in (o.esiid, o.meter))
                and (state is None or o.state == state)
            ]

        @app.get("/orders/{order_id}")
        def get_order(order_id: str) -> dict[str, Any]:
            return guard(self.order, order_id).to_dict()

        @app.post("/orders")
        def post_order(body: dict[str, Any]) -> dict[str, Any]:
            kind = str(body.get("kind", ""))
            esiid = str(body.get("esiid", ""))
            common = {"reason": body.get("reason"), "org": body.get("org")}
            if kind == "limit":
                if body.get("level") is None:
                    raise HTTPException(
                        422, "a limit order needs level (percent of rated capacity)"
                    )
                oid = guard(self.limit, esiid, body["level"], body.get("at"), **common)
            elif kind in ("connect", "disconnect", "restore"):
                oid = guard(getattr(self, kind), esiid, body.get("at"), **common)
            elif kind == "switch_status":
                oid = guard(self.switch_status, esiid, org=body.get("org"))
            else:
                raise HTTPException(422, f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
            return self.order(oid).to_dict()

        @app.delete("/orders/{order_id}")
        def delete_order(order_id: str) -> dict[str, Any]:
            guard(self.cancel_order, order_id)
            return self.order(order_id).to_dict()

        @app.post("/reads/{esiid}")
        def post_read(
            esiid: str, start: str | None = None, end: str | None = None, org: str | None = None
        ) -> dict[str, Any]:
            answer = guard(self.on_demand_read, esiid, start, end, org=org)
            record = self.reads_for(esiid)[-1]
            return {**record.to_dict(), "answer_message_id": answer.message_id}


def _level(value: str) -> int | None:
    digits = "".join(ch for ch in value if ch.isdigit() or ch == ".")
    try:
        return round(float(digits)) if digits else None
    except ValueError:
        return None
