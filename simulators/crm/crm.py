"""The CRM simulator: customer notification during outages and before scheduled switching
(D11-2, D11-4, D11-8, D11-9, D11-11, B2-6).

The utility's customer relationship management system. It subscribes to the OMS's outage
records (``created`` / ``changed`` / ``closed OutageRecords``, also the re-publications of field
trouble-order changes), maps each record's usage points (ESIIDs) to customers through the
profile's meters, and notifies the customers who opted in, on the channels they chose, with the
wording the use case asks for (:mod:`.texts`). Nothing is really sent: every notification goes
into the outbox of its channel (IHD, SMS, EMAIL, PHONE) and into the customer's notification log
(D11-2 "every notification is logged per customer"). In-home display notifications also travel
to the head-end as ``create EndDeviceControls`` (IHD_TEXT_MESSAGE with a ``PanDisplay`` text),
through cimbus, so the HAN message really reaches the meter's display (B2-6, D11 req. 5, 6).

Rules, each with its requirement:

* **who, where** (D11-2): customers of the affected usage points; their preferred channels per
  notification type (:mod:`.preferences`: IHD by default, several channels, several receivers);
  an IHD notification for a meter without a paired display falls back (see :meth:`Crm.notify`).
* **new outage** (D11-2): acknowledgement, magnitude, the information phone number (the
  record's ``contactPhone``, else ``[crm] info_phone``), the ERT when known.
* **ERT updates** (D11-4): only when the ERT moves by more than 30 minutes against the last ERT
  *that customer* was told (``[crm] ert_threshold_minutes``); 30 minutes exactly is not enough.
* **status changes** (D11-4): trouble order dispatched / en route / on site, to customers who
  want ``status`` (or, when they did not list it, ``outage``) notifications; a customer with
  only ``restoration`` gets only the "power restored" message.
* **power restored** (D11-8): cause, duration and an apology, once per customer, when the OMS
  marks the outage restored or closed (or drops restored usage points from a partially
  restored outage).
* **planned outages** (D11-9): advance notice with date, time and reason; at the start the
  same flow as an unplanned outage; a cancelled planned outage is announced as cancelled.
* **preferences** (D11-11): changed through the REST API by the customer (web interface), a CSR
  or a commercial account representative, each change recorded with who made it.
* **scheduled switching** (B2-6): :meth:`Crm.notify_scheduled_switch` puts the date and time of
  a scheduled turn-off or limit on the in-home display.
"""

from __future__ import annotations

import itertools
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException
from lxml import etree

from cim_models.codes import acknowledgement_for, controls, events
from simulators._core import (
    E,
    Incoming,
    MeterSpec,
    Simulator,
    SimulatorError,
    iso,
    parse_time,
    request,
    text,
)
from simulators._core.cim import meter_el, usage_point_el

from . import texts
from .outages import OutageInfo, OutageState, parse_record, records_in
from .preferences import (
    CHANNELS,
    NOTIFICATION_TYPES,
    PreferenceChange,
    PreferenceError,
    Preferences,
    PreferenceStore,
    channel_name,
)

__all__ = ["DEFAULT_INFO_PHONE", "Crm", "Notification"]

DEFAULT_INFO_PHONE = "+1-800-555-0199"
_RESTORING = ("restored", "closed")
_STATUS_NOTICES = ("dispatched", "enRoute", "onSite")
_FALLBACK_ORDER = ("SMS", "EMAIL", "PHONE")


@dataclass
class Notification:
    """One notification in one channel's outbox (nothing is really sent).

    ``receiver`` is the address it went to: the meter number for an IHD (the display paired
    with that meter), the customer's phone or e-mail, or an extra receiver's address.
    ``delivery`` says what became of it: ``recorded`` (SMS, e-mail, phone: kept in the
    outbox), for an IHD ``queued`` (cimbus accepted the control), ``accepted`` (the head-end
    took it), ``displayed``, ``failed: ...`` or ``not sent: ...``."""

    id: str
    at: str
    channel: str
    customer: str
    receiver: str
    kind: str
    text: str
    outage: str | None = None
    esiid: str | None = None
    meter: str | None = None
    extra_receiver: bool = False
    fallback_from: str | None = None
    delivery: str = "recorded"
    control: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Ihd:
    notification: Notification
    meter: MeterSpec


class Crm(Simulator):
    """Customer notification (D11-2, D11-4, D11-8, D11-9, D11-11, B2-6); see the module doc."""

    name = "crm"
    system = "CRM"
    title = (
        "Customer notification: preferences per customer and type, one outbox per channel, "
        "in-home display messages through the head-end"
    )
    requirements = ("D11-2", "D11-4", "D11-8", "D11-9", "D11-11", "B2-6")

    def __init__(self, profile: Any = None, **kwargs: Any) -> None:
        super().__init__(profile, **kwargs)
        section = self.profile.section("crm")
        self.info_phone = str(section.get("info_phone", DEFAULT_INFO_PHONE))
        self.utility = str(section.get("utility") or self._utility_name())
        self.organization = str(section.get("organization") or self._utility_id())
        self.ert_threshold = timedelta(minutes=float(section.get("ert_threshold_minutes", 30)))
        self.request_timeout = float(section.get("request_timeout", 10.0))
        self.tz = texts.zone(self.profile.timezone)
        self.prefs = PreferenceStore(self.profile, self.clock)
        self.outboxes: dict[str, list[Notification]] = {ch: [] for ch in CHANNELS}
        self.outages: dict[str, OutageState] = {}
        self.skipped: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._log: dict[str, list[Notification]] = {}
        self._by_request: dict[str, Notification] = {}
        self._by_control: dict[str, Notification] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seq = itertools.count(1)

    def _utility_name(self) -> str:
        for role in ("utility", "TDSP"):
            for org in self.profile.organizations_with(role):
                if org.name:
                    return org.name.split(" outage")[0]
        return "Your electricity company"

    def _utility_id(self) -> str:
        for role in ("TDSP", "utility"):
            orgs = self.profile.organizations_with(role)
            if orgs:
                return orgs[0].id
        return self.system

    # ------------------------------------------------------------------ preferences (D11-11)
    def preferences(self, customer_id: str) -> Preferences:
        """The preferences in force for a customer (KeyError when unknown)."""
        return self.prefs.get(customer_id)

    def preference_history(self, customer_id: str) -> list[PreferenceChange]:
        return self.prefs.history(customer_id)

    def update_preferences(
        self, customer_id: str, *, by: str, user: str | None = None, **changes: Any
    ) -> Preferences:
        """Change preferences as ``by`` = customer (web interface), csr or account_rep (D11-11);
        the change is recorded with who made it. ``changes``: opt_in, preferences, receivers,
        add_receivers, remove_receivers (see :meth:`PreferenceStore.update`)."""
        prefs = self.prefs.update(customer_id, by=by, user=user, **changes)
        self._remark(
            f"{customer_id} by {by}{f' ({user})' if user else ''}",
            direction="in",
            verb="update",
            noun="Preferences",
        )
        return prefs

    # ------------------------------------------------------------------ outboxes and logs (D11-2)
    def outbox(self, channel: str) -> list[Notification]:
        with self._lock:
            return list(self.outboxes[channel_name(channel)])

    def notifications(self, customer_id: str | None = None) -> list[Notification]:
        """A customer's notification log (every notification sent for them, receivers'
        copies included), or every notification in time order."""
        with self._lock:
            if customer_id is not None:
                return list(self._log.get(customer_id, ()))
            return [n for log in self._log.values() for n in log]

    # ------------------------------------------------------------------ notifying
    def notify(
        self,
        customer_id: str,
        kind: str,
        message: str,
        *,
        meter: MeterSpec | str | None = None,
        outage: str | None = None,
        channels: Iterable[str] | None = None,
        force: bool = False,
    ) -> list[Notification]:
        """Notify one customer (and their receivers) of ``kind`` with ``message``.

        Channels: ``channels`` if given, else the customer's preferred channels for ``kind``
        (IHD when the customer has no preferences). Nothing is sent to a customer who opted
        out, or who does not want ``kind`` (unless ``force``: the B2-6 display notice).

        Fallback (documented rule): a channel the customer cannot be reached on is skipped -
        IHD when the meter has no paired display (``han_ihd`` false), SMS / PHONE without a
        phone number, EMAIL without an address. When none of the wanted channels can be used,
        the notification goes to the first usable channel among the customer's other
        preferred channels (in notification-type order), then SMS, EMAIL, PHONE; the
        notification records ``fallback_from``. Receivers get a copy on their own channel."""
        with self._lock:
            spec = self._meter(meter)
            made, ihd = self._notify(
                customer_id,
                kind,
                message,
                meter=spec,
                outage=outage,
                channels=channels,
                force=force,
            )
        self._send_ihd(ihd)
        return made

    def notify_scheduled_switch(
        self, esiid: str, kind: str, at: datetime | str, *, level: int | None = None
    ) -> list[Notification]:
        """B2-6: before a scheduled turn-off (``kind`` "disconnect", also "turn-off") or
        limiting ("limit"), put a message with the date and time on the in-home display of the
        meter, if it has one. It is a service notice: the display gets it whatever the
        customer's opt-in; a customer who opted in also gets it on their preferred channels
        for the type (with the fallback of :meth:`notify` when the meter has no display)."""
        kind = {"turn-off": "disconnect", "turn_off": "disconnect", "off": "disconnect"}.get(
            kind, kind
        )
        if kind not in ("disconnect", "limit"):
            raise ValueError(f"kind must be 'disconnect' or 'limit', not {kind!r}")
        when = parse_time(at)
        spec = self.profile.meter(esiid)
        if not spec.customer:
            raise KeyError(f"no customer behind {esiid}")
        message = texts.switch_text(
            utility=self.utility, place=spec.premise, kind=kind, at=when, tz=self.tz, level=level
        )
        with self._lock:
            prefs = self.prefs.get(spec.customer)
            wanted = (["IHD"] if spec.han_ihd else []) + (
                list(prefs.channels_for(kind)) if prefs.opt_in else []
            )
            made, ihd = self._notify(
                spec.customer, kind, message, meter=spec, outage=None, channels=wanted, force=True
            )
        self._send_ihd(ihd)
        return made

    def _meter(self, meter: MeterSpec | str | None) -> MeterSpec | None:
        if meter is None or isinstance(meter, MeterSpec):
            return meter
        return self.profile.meter(meter)

    def _notify(
        self,
        customer_id: str,
        kind: str,
        message: str,
        *,
        meter: MeterSpec | None,
        outage: str | None,
        channels: Iterable[str] | None,
        force: bool,
    ) -> tuple[list[Notification], list[_Ihd]]:
        # caller holds the lock
        if kind not in NOTIFICATION_TYPES:
            raise ValueError(f"unknown notification type {kind!r}")
        customer = self.prefs.customer(customer_id)
        prefs = self.prefs.get(customer_id)
        if meter is None:
            mine = self.prefs.meters_of(customer_id)
            meter = mine[0] if mine else None
        if not force and not prefs.opt_in:
            self._skip(customer_id, kind, outage, "opted out of proactive notifications")
            return [], []
        wanted = (
            list(dict.fromkeys(channel_name(c) for c in channels))
            if channels is not None
            else list(prefs.channels_for(kind))
        )
        if not wanted and not force:
            self._skip(customer_id, kind, outage, f"not subscribed to {kind} notifications")
            return [], []
        routes = self._routes(prefs, customer, meter, wanted, allow_fallback=prefs.opt_in)
        if not routes:
            self._skip(customer_id, kind, outage, f"no usable channel among {wanted or ['-']}")
        made: list[Notification] = []
        ihd: list[_Ihd] = []
        for channel, address, fallback_from in routes:
            n = self._record(
                customer_id,
                kind,
                message,
                channel,
                address,
                meter,
                outage,
                fallback_from=fallback_from,
            )
            made.append(n)
            if channel == "IHD" and meter is not None:
                ihd.append(_Ihd(n, meter))
        if prefs.opt_in and prefs.channels_for(kind):
            for r in prefs.receivers:
                made.append(
                    self._record(
                        customer_id,
                        kind,
                        message,
                        r.channel,
                        r.address,
                        meter,
                        outage,
                        extra_receiver=True,
                    )
                )
        for n in made:
            self._remark(
                f"{n.kind} to {n.customer} at {n.receiver}",
                direction="out",
                verb="notify",
                noun=n.channel,
                message_id=n.id,
            )
        return made, ihd

    def _routes(
        self,
        prefs: Preferences,
        customer: Any,
        meter: MeterSpec | None,
        wanted: list[str],
        *,
        allow_fallback: bool,
    ) -> list[tuple[str, str, str | None]]:
        out = [(ch, addr, None) for ch in wanted if (addr := self._address(ch, customer, meter))]
        if out or not wanted or not allow_fallback:
            return out
        others = [ch for kind in NOTIFICATION_TYPES for ch in prefs.channels_for(kind)]
        for ch in dict.fromkeys([*others, *_FALLBACK_ORDER]):
            if ch in wanted:
                continue
            addr = self._address(ch, customer, meter)
            if addr:
                return [(ch, addr, wanted[0])]
        return []

    @staticmethod
    def _address(channel: str, customer: Any, meter: MeterSpec | None) -> str | None:
        if channel == "IHD":
            return meter.meter if meter is not None and meter.han_ihd else None
        if channel in ("SMS", "PHONE"):
            return customer.phone or None
        if channel == "EMAIL":
            return customer.email or None
        return None

    def _record(
        self,
        customer_id: str,
        kind: str,
        message: str,
        channel: str,
        address: str,
        meter: MeterSpec | None,
        outage: str | None,
        *,
        fallback_from: str | None = None,
        extra_receiver: bool = False,
    ) -> Notification:
        n = Notification(
            id=f"N-{next(self._seq):06d}",
            at=iso(self.clock.now()),
            channel=channel,
            customer=customer_id,
            receiver=address,
            kind=kind,
            text=message,
            outage=outage,
            esiid=meter.esiid if meter else None,
            meter=meter.meter if meter else None,
            extra_receiver=extra_receiver,
            fallback_from=fallback_from,
        )
        self.outboxes[channel].append(n)
        self._log.setdefault(customer_id, []).append(n)
        return n

    def _skip(self, customer: str, kind: str, outage: str | None, reason: str) -> None:
        self.skipped.append(
            {
                "at": iso(self.clock.now()),
                "customer": customer,
                "kind": kind,
                "outage": outage,
                "reason": reason,
            }
        )

    # ------------------------------------------------------------------ in-home display (B2-6)
    def ihd_control(self, n: Notification, meter: MeterSpec) -> etree._Element:
        """The ``EndDeviceControls`` payload that puts ``n`` on the meter's in-home display:
        IHD_TEXT_MESSAGE, ``PanDisplay/textMessage``, the meter (number and ESIID)."""
        return E.edc(
            "EndDeviceControls",
            E.edc(
                "EndDeviceControl",
                E.edc("mRID", n.control),
                E.edc("issuerID", self.organization),
                E.edc("issuerTrackingID", n.id),
                E.edc(
                    "reason",
                    f"{n.kind} notification" + (f" (outage {n.outage})" if n.outage else ""),
                ),
                E.edc(
                    "PanDisplay",
                    E.edc("confirmationRequired", False),
                    E.edc("priority", "high"),
                    E.edc("startDateTime", self.clock.now()),
                    E.edc("textMessage", n.text),
                    E.edc("transmissionMode", "normal"),
                ),
                E.edc("EndDeviceControlType", ref=controls.IHD_TEXT_MESSAGE),
                meter_el(meter.meter, prefix="edc", tag="EndDevices"),
                usage_point_el(meter.esiid, prefix="edc", tag="UsagePoints"),
            ),
        )

    def _send_ihd(self, items: list[_Ihd]) -> None:
        """Send each IHD notification to the head-end through cimbus (outside the lock)."""
        for item in items:
            n = item.notification
            n.control = f"CRM-IHD-{n.id}-{uuid.uuid4().hex[:8]}"
            message_id = str(uuid.uuid4())
            queue = getattr(self.client, "queue", None) if self.client is not None else None
            body = request(
                "create",
                "EndDeviceControls",
                source=self.system,
                payload=[self.ihd_control(n, item.meter)],
                organization=self.organization,
                async_reply=True if queue else None,
                reply_address=queue,
                timestamp=self.clock.now(),
                message_id=message_id,
            )
            with self._lock:
                self._by_control[n.control] = n
                self._by_request[message_id] = n
            try:
                answer = self.request(body, timeout=self.request_timeout, key=item.meter.meter)
            except (SimulatorError, TimeoutError) as exc:
                n.delivery = f"not sent: {exc}"
                continue
            except Exception as exc:  # an unreadable answer, a broken connection: record it
                n.delivery = f"not sent: {type(exc).__name__}: {exc}"
                continue
            self._delivery_from(n, answer)

    def _delivery_from(self, n: Notification, answer: Incoming) -> None:
        errors = answer.errors
        if answer.result == "FAILED":
            first = errors[0] if errors else {}
            _advance(n, f"failed: {first.get('code') or '?'} {first.get('reason') or ''}".rstrip())
        elif any(e.get("code") == "0.1" for e in errors):
            _advance(n, "queued")
        else:
            _advance(n, "accepted")
            with self._lock:
                self._by_request.pop(answer.correlation_id or "", None)

    def on_reply(self, incoming: Incoming) -> None:
        """The head-end's (async) answer to an IHD control."""
        with self._lock:
            n = self._by_request.pop(incoming.correlation_id or "", None)
        if n is not None:
            self._delivery_from(n, incoming)

    # ------------------------------------------------------------------ events
    def on_event(self, incoming: Incoming) -> None:
        """``created`` / ``changed`` / ``closed`` (``canceled``) OutageRecords from the OMS
        (or FIELD): notify; ``created EndDeviceEvents``: IHD display confirmations."""
        mid = incoming.message_id
        with self._lock:
            if mid:
                if mid in self._seen:
                    self._remark(
                        "duplicate: ignored",
                        direction="in",
                        verb=incoming.verb,
                        noun=incoming.noun,
                        message_id=mid,
                    )
                    return
                self._seen[mid] = None
                while len(self._seen) > 50_000:
                    self._seen.popitem(last=False)
        if incoming.noun == "OutageRecords":
            self.process_outage_records(incoming.verb, incoming.payload)
        elif incoming.noun == "EndDeviceEvents":
            self._display_events(incoming.payload)

    def _display_events(self, payload: list[etree._Element]) -> None:
        shown = {
            events.IHD_TEXT_MESSAGE_DISPLAYED,
            acknowledgement_for(controls.IHD_TEXT_MESSAGE, "processed"),
        }
        failed = {
            events.IHD_TEXT_MESSAGE_FAILED,
            acknowledgement_for(controls.IHD_TEXT_MESSAGE, "error"),
        }
        ns = {"ede": "http://iec.ch/TC57/2011/EndDeviceEvents#"}
        for root in payload:
            for ev in root.findall("ede:EndDeviceEvent", ns):
                ref = ev.find("ede:EndDeviceEventType", ns)
                code = ref.get("ref") if ref is not None else None
                with self._lock:
                    n = self._by_control.get(text(ev, "ede:issuerTrackingID") or "")
                    if n is None:
                        continue
                    if code in shown:
                        _advance(n, "displayed")
                    elif code in failed:
                        _advance(n, "failed: the in-home display could not show the message")

    # ------------------------------------------------------------------ outage records (D11)
    def process_outage_records(
        self, verb: str, payload: list[etree._Element], *, at: datetime | None = None
    ) -> list[Notification]:
        """Act on the OutageRecords of one ``created`` / ``changed`` / ``closed`` /
        ``canceled`` event; returns the notifications made."""
        now = at or self.clock.now()
        made: list[Notification] = []
        ihd: list[_Ihd] = []
        with self._lock:
            for el in records_in(payload):
                info = parse_record(el)
                if not info.mrid:
                    continue
                m, i = self._on_record(verb, info, now)
                made += m
                ihd += i
        self._send_ihd(ihd)
        return made

    def _on_record(
        self, verb: str, raw: OutageInfo, now: datetime
    ) -> tuple[list[Notification], list[_Ihd]]:
        state = self.outages.get(raw.mrid)
        first = state is None
        if state is None:
            state = self.outages[raw.mrid] = OutageState(raw.mrid, first_seen=now)
        previous_status = state.info.status_kind if state.info is not None else None
        info = _merge(state.info, raw)
        state.info = info
        made: list[Notification] = []
        ihd: list[_Ihd] = []

        def send(esiid: str, key: str, kind: str, build: Any) -> None:
            target = self._customer_of(esiid)
            if target is None:
                return
            customer, meter = target
            if (customer, key) in state.sent:
                return
            state.sent.add((customer, key))
            message = build(customer, meter)
            if message is None:
                return
            m, i = self._notify(
                customer, kind, message, meter=meter, outage=raw.mrid, channels=None, force=False
            )
            made.extend(m)
            ihd.extend(i)

        phone = info.phone or self.info_phone
        if verb == "canceled":
            for esiid in sorted(state.affected):
                send(
                    esiid,
                    "cancelled",
                    "planned",
                    lambda c, m: texts.planned_cancelled_text(
                        utility=self.utility,
                        place=m.premise,
                        start=info.planned_start,
                        tz=self.tz,
                        phone=phone,
                    ),
                )
            state.closed = True
            return made, ihd

        restoring = verb == "closed" or info.status_kind in _RESTORING
        ups = set(raw.usage_points)
        dropped: set[str] = set()
        if ups:
            dropped = state.affected - ups
            state.restored -= ups - state.affected
            state.affected = ups
        started = (
            (not info.planned)
            or _planned_started(info, now)
            or info.status_kind in ("partiallyRestored", *_RESTORING)
        )
        # a planned outage the OMS confirms (predicted -> confirmed) has started as well
        confirmed = previous_status == "predicted" and info.status_kind == "confirmed"
        state.started = state.started or started or confirmed

        # trouble-order statuses: remembered silently the first time the outage is seen
        status_changes = []
        for to, status in raw.trouble_orders:
            if state.trouble_orders.get(to) != status:
                state.trouble_orders[to] = status
                if not first and status in _STATUS_NOTICES:
                    status_changes.append((to, status))
        crew_out = any(s in _STATUS_NOTICES for s in state.trouble_orders.values())

        if not restoring:
            for esiid in sorted(state.affected):
                if info.planned and not state.started:
                    send(
                        esiid,
                        "planned",
                        "planned",
                        lambda c, m: texts.planned_text(
                            utility=self.utility,
                            place=m.premise,
                            start=info.planned_start,
                            end=info.planned_end,
                            reason=info.reason or "maintenance work",
                            phone=phone,
                            tz=self.tz,
                        ),
                    )
                    continue

                def first_notice(c: str, m: MeterSpec) -> str:
                    if info.ert is not None and self.prefs.get(c).wants("outage"):
                        state.told_ert[c] = info.ert
                    return texts.outage_text(
                        utility=self.utility,
                        place=m.premise,
                        magnitude=info.magnitude,
                        phone=phone,
                        ert=info.ert,
                        tz=self.tz,
                        planned=info.planned,
                        community=info.community,
                        crew_dispatched=crew_out,
                    )

                send(esiid, "outage", "outage", first_notice)
                for to, status in status_changes:
                    send(
                        esiid,
                        f"status:{to}:{status}",
                        "status",
                        lambda c, m, s=status: texts.status_text(
                            utility=self.utility, place=m.premise, status=s, phone=phone
                        ),
                    )
                if info.ert is not None:
                    self._ert_rule(state, esiid, info, phone, send)

        targets = (
            set(dropped)
            if info.status_kind in ("partiallyRestored", *_RESTORING) or verb == "closed"
            else set()
        )
        if restoring:
            targets |= state.affected
        end = info.actual_end or now
        start = info.start or state.first_seen
        for esiid in sorted(targets):
            send(
                esiid,
                "restoration",
                "restoration",
                lambda c, m: texts.restored_text(
                    utility=self.utility,
                    place=m.premise,
                    cause=(info.reason or "maintenance work")
                    if info.planned
                    else texts.cause_text(info.cause, info.cause_kind),
                    duration=end - start if end >= start else None,
                    phone=phone,
                    planned=info.planned,
                ),
            )
        state.restored |= targets
        state.affected -= targets | dropped
        if restoring:
            state.closed = verb == "closed" or info.status_kind == "closed"
        return made, ihd

    def _ert_rule(
        self, state: OutageState, esiid: str, info: OutageInfo, phone: str, send: Any
    ) -> None:
        """D11-4: tell a customer a new ERT only when it moved by more than the threshold
        (30 minutes) from the ERT that customer was last told."""
        target = self._customer_of(esiid)
        if target is None or info.ert is None:
            return
        customer, _meter = target
        prefs = self.prefs.get(customer)
        if not prefs.wants("etr"):
            return
        told = state.told_ert.get(customer)
        if told is not None and abs(info.ert - told) <= self.ert_threshold:
            if info.ert != told:
                moved = round(abs(info.ert - told).total_seconds() / 60)
                self._skip(
                    customer,
                    "etr",
                    state.mrid,
                    f"ERT moved by {moved} min (not more than {self.ert_threshold.total_seconds() / 60:g})",
                )
            return
        state.told_ert[customer] = info.ert
        key = f"etr:{iso(info.ert)}:{iso(told) if told else '-'}"
        send(
            esiid,
            key,
            "etr",
            lambda c, m: texts.etr_text(
                utility=self.utility,
                place=m.premise,
                ert=info.ert,
                previous=told,
                tz=self.tz,
                phone=phone,
            ),
        )

    def _customer_of(self, esiid: str) -> tuple[str, MeterSpec] | None:
        spec = self.profile.find_meter(esiid)
        if spec is None or not spec.customer:
            return None
        try:
            self.prefs.customer(spec.customer)
        except KeyError:
            return None
        return spec.customer, spec

    # ------------------------------------------------------------------ inspection
    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                **super().status(),
                "outboxes": {ch: len(v) for ch, v in self.outboxes.items()},
                "customers_notified": len(self._log),
                "preference_changes": sum(
                    len(self.prefs.history(c)) for c in self.prefs.changed_customers()
                ),
                "outages": len(self.outages),
                "open_outages": sum(1 for s in self.outages.values() if not s.closed),
                "skipped": len(self.skipped),
                "info_phone": self.info_phone,
            }

    def add_routes(self, app: FastAPI) -> None:
        """``GET/PUT /customers/{id}/preferences``, ``GET /customers/{id}/notifications``,
        ``GET /outbox/{channel}``, ``GET /outages``, ``POST /scheduled-switch`` (B2-6)."""

        @app.get("/customers/{customer_id}/preferences")
        def get_preferences(customer_id: str) -> dict[str, Any]:
            try:
                prefs = self.preferences(customer_id)
                history = self.preference_history(customer_id)
            except KeyError:
                raise HTTPException(404, f"unknown customer {customer_id}") from None
            return {**prefs.to_dict(), "history": [h.to_dict() for h in history]}

        @app.put("/customers/{customer_id}/preferences")
        def put_preferences(
            customer_id: str, body: Annotated[dict[str, Any], Body()]
        ) -> dict[str, Any]:
            allowed = {
                "by",
                "user",
                "opt_in",
                "preferences",
                "receivers",
                "add_receivers",
                "remove_receivers",
            }
            unknown = set(body) - allowed
            if unknown:
                raise HTTPException(
                    422,
                    f"unknown field(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(allowed))}",
                )
            if "by" not in body:
                raise HTTPException(
                    422, "say who makes the change: 'by' = customer | csr | account_rep"
                )
            fields = {k: v for k, v in body.items() if k not in ("by", "user")}
            try:
                prefs = self.update_preferences(
                    customer_id, by=str(body["by"]), user=body.get("user"), **fields
                )
            except KeyError:
                raise HTTPException(404, f"unknown customer {customer_id}") from None
            except PreferenceError as exc:
                raise HTTPException(exc.status, str(exc)) from None
            return {
                **prefs.to_dict(),
                "history": [h.to_dict() for h in self.preference_history(customer_id)],
            }

        @app.get("/customers/{customer_id}/notifications")
        def customer_notifications(customer_id: str) -> dict[str, Any]:
            try:
                self.prefs.customer(customer_id)
            except KeyError:
                raise HTTPException(404, f"unknown customer {customer_id}") from None
            log = self.notifications(customer_id)
            return {
                "customer": customer_id,
                "count": len(log),
                "notifications": [n.to_dict() for n in log],
            }

        @app.get("/outbox/{channel}")
        def outbox(channel: str, limit: int = 1000) -> dict[str, Any]:
            try:
                items = self.outbox(channel)
            except PreferenceError as exc:
                raise HTTPException(404, str(exc)) from None
            return {
                "channel": channel_name(channel),
                "count": len(items),
                "notifications": [n.to_dict() for n in items[-limit:]],
            }

        @app.get("/outages")
        def outages() -> list[dict[str, Any]]:
            with self._lock:
                return [s.to_dict() for s in self.outages.values()]

        @app.post("/scheduled-switch")
        def scheduled_switch(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
            try:
                made = self.notify_scheduled_switch(
                    str(body["esiid"]),
                    str(body.get("kind", "disconnect")),
                    str(body["at"]),
                    level=body.get("level"),
                )
            except KeyError as exc:
                raise HTTPException(
                    404 if body.get("esiid") else 422, f"unknown or missing {exc}"
                ) from None
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None
            return {"notifications": [n.to_dict() for n in made]}


_DELIVERY_RANK = {
    "recorded": 0,
    "not sent": 0,
    "queued": 1,
    "accepted": 2,
    "displayed": 3,
    "failed": 3,
}


def _advance(n: Notification, delivery: str) -> None:
    """Move an IHD notification's delivery forward only: the head-end's display event may
    overtake its reply to the control."""
    rank = _DELIVERY_RANK.get(delivery.split(":")[0], 0)
    if rank >= _DELIVERY_RANK.get(n.delivery.split(":")[0], 0):
        n.delivery = delivery


def _planned_started(info: OutageInfo, now: datetime) -> bool:
    if info.actual_start is not None and info.actual_start <= now:
        return True
    return info.planned_start is not None and info.planned_start <= now


def _merge(old: OutageInfo | None, new: OutageInfo) -> OutageInfo:
    """A later record may leave out what an earlier one said (a field update carries the
    trouble orders, not always the phone number or the usage points): keep the known facts."""
    if old is None:
        return new
    keep = {}
    for name in (
        "number",
        "community",
        "ert",
        "actual_start",
        "actual_end",
        "reported_start",
        "cause",
        "cause_kind",
        "reason",
        "planned_start",
        "planned_end",
        "phone",
    ):
        if getattr(new, name) is None and getattr(old, name) is not None:
            keep[name] = getattr(old, name)
    if not new.usage_points:
        keep["usage_points"] = old.usage_points
    return replace(new, **keep) if keep else new
