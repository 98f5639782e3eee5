"""The DCC simulator: a UK-style data and communications company (DCC-1..DCC-5).

In the GB smart metering model every party (supplier, network operator, gas shipper) reaches
the meters only through the DCC, which checks that the party is the one registered for the meter
and passes the request on to the metering system. The simulator plays that role on the bus:

* **registration** (:mod:`.registry`): supplier per meter with change-of-supplier dates, gas
  shipper per premise, the network operator and the gas transporter's agent;
* **change of supplier** (DCC-1): :meth:`Dcc.register_change_of_supplier`; on the switch date
  (simulated clock) the DCC takes a change-of-supplier read and sends it to *both* the incoming
  and the outgoing supplier; from then on only the new supplier may command or read the meter;
* **gas change of shipper** (DCC-2): :meth:`Dcc.register_change_of_shipper`; the transfer read
  goes to the proposing shipper, the incumbent shipper and the gas transporter's agent;
* **requests from parties** (DCC-5): ``get MeterReadings`` and ``create`` / ``change`` /
  ``cancel EndDeviceControls`` routed to the DCC are checked against the registration at that
  time (Header ``User/Organization`` = the party); a party that is not registered gets FAILED
  3.2, which says nothing about the meter (not even whether it exists); an authorised request is
  forwarded to the metering system through cimbus and its answer passed back;
* **alarms** (DCC-3, :mod:`.alarms`): alarms in ``created EndDeviceEvents`` from the metering
  system go to the registered supplier and, for power / network alarms, the network operator:
  one inbox per party, and a re-publication per recipient;
* **firmware campaigns** (DCC-4, :mod:`.campaigns`): FIRMWARE_UPDATE controls per meter,
  progress from the head-end's events, final version, summary; progress goes back to the
  supplier that asked.

Messages to one party (change-of-supplier / transfer reads, alarms, firmware progress) are
events with Header ``Property`` ``Recipient`` (the party id) and ``RecipientRole``; one message
per recipient, so cimbus (or a subscriber) can route or filter on the recipient.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Body, FastAPI, HTTPException
from lxml import etree

from cim_models.build import ReplyError
from cim_models.codes import REGISTER_KWH_DELIVERED, acknowledgement_for, controls, events
from simulators._core import (
    E,
    Incoming,
    MeterSpec,
    SimError,
    Simulator,
    SimulatorError,
    event,
    handles,
    iso,
    parse_time,
    reply,
    request,
    text,
)
from simulators._core.cim import meter_el, usage_point_el

from .alarms import FIRMWARE_STATES, classify
from .campaigns import TERMINAL, Campaign, CampaignMeter
from .readings import GAS_REGISTER_M3, LOCAL_ESTIMATE, Read, local_read, meter_reading, register_in
from .registry import ACTIONS, Registry

__all__ = ["Dcc", "Switch"]

_GMR = {"gmr": "http://iec.ch/TC57/2011/GetMeterReadings#"}
_EDC = {"edc": "http://iec.ch/TC57/2011/EndDeviceControls#"}
_EDE = {"ede": "http://iec.ch/TC57/2011/EndDeviceEvents#"}
_VERSION_DETAILS = ("firmwareversion", "version", "firmware", "newversion", "activeversion")


@dataclass
class Switch:
    """A registered change of supplier (electricity) or of shipper (gas)."""

    id: str
    fuel: str  # electricity | gas
    meter: str
    esiid: str
    outgoing: str | None
    incoming: str
    switch_date: datetime
    registered_at: datetime
    status: str = "pending"  # pending | reading | completed
    read: Read | None = None
    recipients: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        gas = self.fuel == "gas"
        return {
            "id": self.id,
            "kind": "change_of_shipper" if gas else "change_of_supplier",
            "fuel": self.fuel,
            "meter": self.meter,
            "esiid": self.esiid,
            ("incumbent_shipper" if gas else "outgoing_supplier"): self.outgoing,
            ("proposing_shipper" if gas else "incoming_supplier"): self.incoming,
            "switch_date": iso(self.switch_date),
            "registered_at": iso(self.registered_at),
            "status": self.status,
            "read": self.read.to_dict() if self.read else None,
            "recipients": list(self.recipients),
        }


class Dcc(Simulator):
    """A UK-style DCC (DCC-1..DCC-5); see the module doc."""

    name = "dcc"
    system = "DCC"
    title = (
        "UK-style DCC: supplier and shipper registration, change-of-supplier reads, "
        "authorised access to meters, alarm routing, firmware campaigns"
    )
    requirements = ("DCC-1", "DCC-2", "DCC-3", "DCC-4", "DCC-5")

    def __init__(self, profile: Any = None, **kwargs: Any) -> None:
        super().__init__(profile, **kwargs)
        section = self.profile.section("dcc")
        self.registry = Registry(self.profile)
        self.party_id = str(section.get("id", "DCC"))
        self.request_timeout = float(section.get("request_timeout", 30.0))
        self.switches: dict[str, Switch] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.inbox: dict[str, list[dict[str, Any]]] = {}
        self.refusals: deque[dict[str, Any]] = deque(maxlen=10_000)
        self.forwarded: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.ignored_events = 0
        self.filtered_alarms = 0
        self._alarm_subscriptions: dict[str, frozenset[str]] = {}
        for party, alarms in dict(section.get("alarm_subscriptions", {})).items():
            self.subscribe_alarms(str(party), alarms)
        self._firmware: dict[str, str] = {}
        self._controls: dict[str, tuple[str, str]] = {}  # control mRID -> (campaign, meter)
        self._requests: dict[str, tuple[str, str]] = {}  # request MessageID -> (campaign, meter)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._cos_seq = itertools.count(1)
        self._fw_seq = itertools.count(1)

    # ------------------------------------------------------------------ registration
    def _at(self, at: datetime | str | None) -> datetime:
        return self.clock.now() if at is None else parse_time(at)

    def registered_supplier(self, meter: str, at: datetime | str | None = None) -> str | None:
        return self.registry.party_at(meter, "electricity", self._at(at))

    def registered_shipper(self, meter: str, at: datetime | str | None = None) -> str | None:
        return self.registry.party_at(meter, "gas", self._at(at))

    def is_authorised(
        self, party: str | None, meter: str | None, action: str, at: datetime | str | None = None
    ) -> bool:
        """DCC-5: may ``party`` perform ``action`` (read, command, firmware, tenancy, network,
        gas_read, gas_command) on ``meter`` now (or at ``at``)?"""
        return self.registry.is_authorised(party, meter, action, self._at(at))

    def firmware_of(self, meter: str) -> str:
        spec = self.registry.meter(meter)
        with self._lock:
            return self._firmware.get(spec.meter, spec.firmware)

    def registration(self, meter: str, at: datetime | str | None = None) -> dict[str, Any]:
        """Everything the DCC knows about who is registered for a premise (KeyError when
        unknown)."""
        spec = self.registry.meter(meter)
        when = self._at(at)
        with self._lock:
            pending = [
                s for s in self.switches.values() if s.meter == spec.meter and s.status == "pending"
            ]
        return {
            "meter": spec.meter,
            "esiid": spec.esiid,
            "at": iso(when),
            "electricity": {
                "supplier": self.registry.party_at(spec.meter, "electricity", when),
                "history": [p.to_dict() for p in self.registry.history(spec.meter, "electricity")],
                "pending_switches": [s.id for s in pending if s.fuel == "electricity"],
            },
            "gas": {
                "gas_meter": self.registry.gas_meter(spec),
                "mprn": self.registry.mprn(spec),
                "shipper": self.registry.party_at(spec.meter, "gas", when),
                "history": [p.to_dict() for p in self.registry.history(spec.meter, "gas")],
                "pending_switches": [s.id for s in pending if s.fuel == "gas"],
            },
            "network_operator": self.registry.network_operator_of(spec.meter),
            "gas_transporter_agent": self.registry.gas_transporter_agent,
            "firmware": self.firmware_of(spec.meter),
        }

    # ------------------------------------------------------------------ DCC-1, DCC-2
    def register_change_of_supplier(
        self, meter: str, new_supplier: str, switch_date: datetime | str
    ) -> Switch:
        """DCC-1: accept a change-of-supplier registration. From ``switch_date`` the new
        supplier is registered (and the only one authorised); at that time the DCC takes the
        change-of-supplier read and sends it to both suppliers."""
        return self._register_switch("electricity", meter, new_supplier, switch_date)

    def register_change_of_shipper(
        self, meter: str, new_shipper: str, switch_date: datetime | str
    ) -> Switch:
        """DCC-2: gas change of shipper; the transfer read goes to the proposing and the
        incumbent shipper and to the gas transporter's agent."""
        return self._register_switch("gas", meter, new_shipper, switch_date)

    def _register_switch(
        self, fuel: str, meter: str, party: str, switch_date: datetime | str
    ) -> Switch:
        spec = self.registry.meter(meter)
        when = parse_time(switch_date)
        known = self.registry.suppliers if fuel == "electricity" else self.registry.shippers
        role = "supplier" if fuel == "electricity" else "gas shipper"
        if known and party not in known:
            raise ValueError(f"{party!r} is not a registered {role} ({', '.join(known)})")
        with self._lock:
            outgoing = self.registry.party_at(spec.meter, fuel, when)
            if outgoing == party:
                raise ValueError(f"{party} is already the {role} of {spec.meter} on {iso(when)}")
            if any(
                s.meter == spec.meter and s.fuel == fuel and s.status == "pending"
                for s in self.switches.values()
            ):
                raise ValueError(f"{spec.meter} already has a pending change of {role}")
            prefix = "COS" if fuel == "electricity" else "COSH"
            sw = Switch(
                id=f"{prefix}-{next(self._cos_seq):05d}",
                fuel=fuel,
                meter=spec.meter,
                esiid=spec.esiid,
                outgoing=outgoing,
                incoming=party,
                switch_date=when,
                registered_at=self.clock.now(),
            )
            self.switches[sw.id] = sw
            self.registry.add(spec.meter, fuel, when, party, f"change of {role} {sw.id}")
        self._remark(
            f"{spec.meter}: {outgoing} -> {party} on {iso(when)}",
            direction="in",
            verb="register",
            noun="ChangeOf" + ("Supplier" if fuel == "electricity" else "Shipper"),
            message_id=sw.id,
        )
        if when <= self.clock.now():
            self._execute_switch(sw.id)
        else:
            self.clock.call_at(
                when, lambda sid=sw.id: self._execute_switch(sid), name=f"dcc {sw.id}"
            )
        return sw

    def _execute_switch(self, switch_id: str) -> None:
        with self._lock:
            sw = self.switches[switch_id]
            if sw.status != "pending":
                return
            sw.status = "reading"
        spec = self.registry.meter(sw.meter)
        if sw.fuel == "electricity":
            read = self._cos_read(spec, sw.switch_date)
            payload = meter_reading(
                meter=spec.meter,
                usage_point=spec.esiid,
                usage_point_type="ESIID",
                authority="ERCOT",
                read=read,
                reported=self.clock.now(),
            )
            recipients = [(sw.incoming, "incomingSupplier"), (sw.outgoing, "outgoingSupplier")]
            what = "change-of-supplier read"
        else:
            read = Read(
                local_read(spec.meter, sw.switch_date, gas=True),
                sw.switch_date,
                "1.0.0",
                "DCC",
                GAS_REGISTER_M3,
            )
            payload = meter_reading(
                meter=self.registry.gas_meter(spec),
                usage_point=self.registry.mprn(spec),
                usage_point_type="MPRN",
                authority=self.registry.gas_transporter_agent,
                read=read,
                reported=self.clock.now(),
            )
            recipients = [
                (sw.incoming, "proposingShipper"),
                (sw.outgoing, "incumbentShipper"),
                (self.registry.gas_transporter_agent, "gasTransporterAgent"),
            ]
            what = "gas transfer read"
        parties = [(p, r) for p, r in recipients if p]
        comment = f"{what} {sw.id} for {sw.meter} at {iso(sw.switch_date)}, sent to " + ", ".join(
            f"{p} ({r})" for p, r in parties
        )
        sent = []
        for party, role in parties:
            body = event(
                "created",
                "MeterReadings",
                [copy.deepcopy(payload)],
                source=self.system,
                timestamp=self.clock.now(),
                organization=self.party_id,
                comment=comment,
                properties={"Recipient": party, "RecipientRole": role, "Switch": sw.id},
            )
            self._deliver(
                party,
                {
                    "kind": "transfer_read" if sw.fuel == "gas" else "cos_read",
                    "switch": sw.id,
                    "role": role,
                    "meter": sw.meter,
                    **read.to_dict(),
                },
                body,
                key=sw.meter,
            )
            sent.append({"party": party, "role": role})
        with self._lock:
            sw.read = read
            sw.recipients = sent
            sw.status = "completed"

    def _cos_read(self, spec: MeterSpec, at: datetime) -> Read:
        """The register read at the switch time: from the head-end through cimbus, else the
        local deterministic estimate (module doc of :mod:`.readings`)."""
        why = "not attached to a bus"
        if self.client is not None:
            body = request(
                "get",
                "MeterReadings",
                source=self.system,
                get_filter=E.gmr(
                    "GetMeterReadings",
                    meter_el(spec.meter, prefix="gmr", tag="EndDevice"),
                    E.gmr("Reading", E.gmr("reason", "billing")),
                    E.gmr("ReadingType", E.gmr("mRID", REGISTER_KWH_DELIVERED)),
                    usage_point_el(spec.esiid, prefix="gmr"),
                ),
                start=at - timedelta(minutes=15),
                end=at,
                organization=self.party_id,
                user_id="dcc-change-of-supplier",
                timestamp=self.clock.now(),
            )
            try:
                answer = self.request(body, timeout=self.request_timeout, key=spec.meter)
            except Exception as exc:
                why = f"no answer: {exc}"
            else:
                if answer.result in ("OK", "PARTIAL"):
                    found = register_in(answer.payload, at)
                    if found is not None:
                        return found
                    why = "no register read in the answer"
                else:
                    err = answer.errors[0] if answer.errors else {}
                    why = (
                        f"{answer.result} {err.get('code') or ''} {err.get('reason') or ''}".strip()
                    )
        return Read(
            local_read(spec.meter, at), at, LOCAL_ESTIMATE, f"DCC estimate (metering system: {why})"
        )

    # ------------------------------------------------------------------ DCC-5: serving parties
    def _party(self, incoming: Incoming) -> str | None:
        return incoming.organization

    def _refuse(self, incoming: Incoming, party: str | None, why: str) -> SimError:
        """FAILED 3.2; the reason names the party, never the meter (SEC-2)."""
        with self._lock:
            self.refusals.append(
                {
                    "at": iso(self.clock.now()),
                    "party": party,
                    "verb": incoming.verb,
                    "noun": incoming.noun,
                    "message_id": incoming.message_id,
                    "why": why,
                }
            )
        return SimError(
            "3.2", f"{party or 'an unidentified party'} is not authorised for this request"
        )

    def _check(self, incoming: Incoming, meters: list[tuple[str, str]]) -> str:
        """Authorise every (meter, action) for the requesting party, or raise 3.2."""
        party = self._party(incoming)
        if not party:
            raise self._refuse(incoming, None, "no Header/User/Organization")
        if not meters:
            raise SimError(
                "2.7", "name the meters (meter number or usage point) the request is for"
            )
        now = self.clock.now()
        for meter, action in meters:
            if not self.registry.is_authorised(party, meter, action, now):
                raise self._refuse(incoming, party, f"{action} on {meter}")
        return party

    @handles("get", "MeterReadings")
    def serve_meter_readings(self, incoming: Incoming) -> bytes:
        """``get MeterReadings`` from a party (DCC-5): authorised -> forwarded to the metering
        system through cimbus and its answer passed back; otherwise FAILED 3.2."""
        flt = incoming.get_filter
        meters = _filter_meters(flt)
        party = self._check(
            incoming, [(m, "gas_read" if self._is_gas(m) else "read") for m in meters]
        )
        gas = [m for m in meters if self._is_gas(m)]
        if gas and len(gas) < len(meters):
            raise SimError("2.7", "ask for gas and electricity reads in separate requests")
        if gas:
            return self._gas_read_answer(incoming, meters)
        start, end = incoming.window()
        body = request(
            "get",
            "MeterReadings",
            source=self.system,
            get_filter=copy.deepcopy(flt) if flt is not None else None,
            start=start,
            end=end,
            organization=self.party_id,
            user_id=party,
            timestamp=self.clock.now(),
            comment=f"for {party} through the DCC",
        )
        return self._forward(incoming, body, party, key=meters[0])

    @handles("create", "EndDeviceControls")
    @handles("change", "EndDeviceControls")
    @handles("cancel", "EndDeviceControls")
    def serve_end_device_controls(self, incoming: Incoming) -> bytes:
        """Commands from a party (DCC-5, DCC-4 when the supplier asks for a firmware update):
        every control's meters must be registered to the party for that kind of action."""
        if not self._party(incoming):
            raise self._refuse(incoming, None, "no Header/User/Organization")
        checks: list[tuple[str, str]] = []
        for root in incoming.payload:
            for ctrl in root.findall("edc:EndDeviceControl", _EDC):
                if (
                    ctrl.find("edc:EndDeviceGroups", _EDC) is not None
                    or ctrl.find("edc:UsagePointGroups", _EDC) is not None
                ):
                    raise SimError(
                        "2.7", "the DCC authorises meter by meter: name each meter, not a group"
                    )
                t = ctrl.find("edc:EndDeviceControlType", _EDC)
                action = _control_action(t.get("ref") if t is not None else None)
                for meter in _control_meters(ctrl):
                    checks.append((meter, action))
        party = self._check(incoming, checks)
        queue = getattr(self.client, "queue", None) if self.client is not None else None
        body = request(
            incoming.verb,
            "EndDeviceControls",
            source=self.system,
            payload=[copy.deepcopy(p) for p in incoming.payload],
            organization=self.party_id,
            user_id=party,
            reply_address=queue,
            timestamp=self.clock.now(),
            comment=f"for {party} through the DCC",
        )
        return self._forward(incoming, body, party, key=checks[0][0])

    def _forward(self, incoming: Incoming, body: bytes, party: str, *, key: str) -> bytes:
        """Send to the metering system through cimbus; the answer goes back to the party."""
        forwarded = Incoming.parse(body, self.codec)
        record = {
            "at": iso(self.clock.now()),
            "party": party,
            "verb": incoming.verb,
            "noun": incoming.noun,
            "request": incoming.message_id,
            "forwarded": forwarded.message_id,
            "result": None,
            "final": None,
        }
        with self._lock:
            self.forwarded[forwarded.message_id or ""] = record
            while len(self.forwarded) > 10_000:
                self.forwarded.popitem(last=False)
        try:
            answer = self.request(body, timeout=self.request_timeout, key=key)
        except TimeoutError:
            record["result"] = "FAILED 4.1"
            raise SimError(
                "4.1", f"the metering system did not answer within {self.request_timeout:g} s"
            ) from None
        except SimulatorError as exc:
            record["result"] = "FAILED 5.0"
            raise SimError("5.0", f"the DCC cannot reach the metering system: {exc}") from None
        errors = []
        for e in answer.errors:
            reason = e.get("reason")
            if e.get("code") == "0.1":
                reason = "accepted by the DCC and queued for the metering system"
            errors.append(ReplyError(e.get("code") or "0.0", e.get("level") or "INFORM", reason))
        record["result"] = answer.result
        return reply(
            incoming,
            source=self.system,
            result=answer.result or "OK",
            payload=[copy.deepcopy(p) for p in answer.payload],
            errors=errors,
            timestamp=iso(self.clock.now()),
        )

    def _is_gas(self, meter: str) -> bool:
        """A gas meter number (``<meter>-G``) or an MPRN (10 digits)."""
        suffix = self.registry.gas_suffix
        if suffix and meter.endswith(suffix):
            return True
        return meter.isdigit() and len(meter) == 10

    def _gas_read_answer(self, incoming: Incoming, meters: list[str]) -> bytes:
        """Gas reads are the DCC's own (no gas head-end in this simulation)."""
        now = self.clock.now()
        readings = []
        for m in meters:
            spec = self.registry.meter(m)
            read = Read(local_read(spec.meter, now, gas=True), now, "1.0.0", "DCC", GAS_REGISTER_M3)
            readings.extend(
                meter_reading(
                    meter=self.registry.gas_meter(spec),
                    usage_point=self.registry.mprn(spec),
                    usage_point_type="MPRN",
                    authority=self.registry.gas_transporter_agent,
                    read=read,
                    reported=now,
                )
            )
        return reply(
            incoming,
            source=self.system,
            payload=[E.mr("MeterReadings", readings)],
            timestamp=iso(now),
        )

    # ------------------------------------------------------------------ events: DCC-3, DCC-4
    def on_event(self, incoming: Incoming) -> None:
        """``created EndDeviceEvents`` from the metering system: alarms to their parties
        (DCC-3), firmware progress to its campaign (DCC-4)."""
        if incoming.noun != "EndDeviceEvents":
            return
        mid = incoming.message_id
        with self._lock:
            if mid:
                if mid in self._seen:
                    return
                self._seen[mid] = None
                while len(self._seen) > 50_000:
                    self._seen.popitem(last=False)
        if incoming.source == self.system:
            return  # our own re-publication
        for root in incoming.payload:
            for ev in root.findall("ede:EndDeviceEvent", _EDE):
                self._on_device_event(ev, mid)

    def _on_device_event(self, ev: etree._Element, message_id: str | None) -> None:
        t = ev.find("ede:EndDeviceEventType", _EDE)
        code = t.get("ref") if t is not None else None
        cls = classify(code)
        spec = self.registry.find(
            text(ev, "ede:Assets/ede:mRID") or text(ev, "ede:Assets/ede:Names/ede:name")
        ) or self.registry.find(
            text(ev, "ede:UsagePoint/ede:Names/ede:name") or text(ev, "ede:UsagePoint/ede:mRID")
        )
        if cls.kind is None or spec is None:
            with self._lock:
                self.ignored_events += 1
            return
        if cls.kind == "firmware":
            self._firmware_progress(spec, ev, code or "")
            return
        stamp = text(ev, "ede:createdDateTime")
        try:
            at = parse_time(stamp) if stamp else self.clock.now()
        except ValueError:
            at = self.clock.now()
        recipients = [(self.registry.party_at(spec.meter, "electricity", at), "supplier")]
        if cls.network:
            recipients.append((self.registry.network_operator_of(spec.meter), "networkOperator"))
        for party, role in recipients:
            if not party:
                continue
            if not self._subscribed(party, code or ""):
                with self._lock:
                    self.filtered_alarms += 1
                continue
            entry = {
                "kind": "alarm",
                "meter": spec.meter,
                "esiid": spec.esiid,
                "code": code,
                "name": cls.name,
                "at": iso(at),
                "role": role,
                "network": cls.network,
                "reason": text(ev, "ede:reason"),
                "source_message": message_id,
            }
            self._republish(
                party, role, ev, entry, f"alarm {cls.name or code} from {spec.meter}", spec.meter
            )

    def _republish(
        self,
        party: str,
        role: str,
        ev: etree._Element,
        entry: dict[str, Any],
        comment: str,
        key: str,
    ) -> None:
        body = event(
            "created",
            "EndDeviceEvents",
            [E.ede("EndDeviceEvents", copy.deepcopy(ev))],
            source=self.system,
            timestamp=self.clock.now(),
            organization=self.party_id,
            comment=f"{comment}, for {party} ({role})",
            properties={"Recipient": party, "RecipientRole": role},
        )
        self._deliver(party, entry, body, key=key)

    def _deliver(self, party: str, entry: dict[str, Any], body: bytes, *, key: str) -> None:
        """Put ``entry`` in the party's inbox and publish ``body`` to cimbus (when attached)."""
        entry = {
            **entry,
            "delivered_at": iso(self.clock.now()),
            "message_id": None,
            "published": False,
        }
        if self.client is not None:
            try:
                entry["published"] = self.send(body, key=key)
                entry["message_id"] = Incoming.parse(body, self.codec).message_id
            except Exception as exc:  # the inbox keeps it; the failure is visible there
                entry["publish_error"] = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.inbox.setdefault(party, []).append(entry)

    def subscribe_alarms(self, party: str, alarms: Iterable[str] | None) -> frozenset[str] | None:
        """DCC-3 alarm subscription of a party: the alarms (names such as ``TAMPER_DETECTED``
        or EndDeviceEventType codes) it wants; None = every alarm for its role (the
        default). Returns the codes subscribed (None for all)."""
        if alarms is None:
            with self._lock:
                self._alarm_subscriptions.pop(party, None)
            return None
        if isinstance(alarms, str):
            alarms = [alarms]
        codes = set()
        for a in alarms:
            name = str(a).strip()
            if name in events:
                codes.add(events[name].code)
            elif classify(name).kind == "alarm":
                codes.add(name)
            else:
                raise ValueError(
                    f"{name!r} is not an alarm the DCC routes (see simulators.dcc.alarms)"
                )
        with self._lock:
            self._alarm_subscriptions[party] = frozenset(codes)
            return self._alarm_subscriptions[party]

    def alarm_subscription(self, party: str) -> frozenset[str] | None:
        with self._lock:
            return self._alarm_subscriptions.get(party)

    def _subscribed(self, party: str, code: str) -> bool:
        with self._lock:
            wanted = self._alarm_subscriptions.get(party)
        return wanted is None or code in wanted

    def alarms(self, party: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.inbox.get(party, ()) if e["kind"] == "alarm"]

    def messages(self, party: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.inbox.get(party, ()))

    # ------------------------------------------------------------------ DCC-4 campaigns
    def start_campaign(
        self, meters: Iterable[str], version: str, *, requested_by: str | None = None
    ) -> Campaign:
        """Send a FIRMWARE_UPDATE control for each meter to the metering system (through
        cimbus, async: the head-end's reply arrives at the DCC's queue) and follow its
        progress. With ``requested_by`` (a supplier) only that supplier's meters are updated;
        the others are ``refused``. Unknown meters are a KeyError."""
        specs = [self.registry.meter(m) for m in meters]
        if not specs:
            raise ValueError("a campaign needs at least one meter")
        if not version:
            raise ValueError("a campaign needs the firmware version to install")
        now = self.clock.now()
        with self._lock:
            cid = f"FW-{next(self._fw_seq):04d}"
            campaign = Campaign(cid, str(version), requested_by, iso(now))
            self.campaigns[cid] = campaign
            for spec in specs:
                cm = CampaignMeter(spec.meter, spec.esiid, f"{cid}-{spec.meter}")
                campaign.meters[spec.meter] = cm
                self._controls[cm.control] = (cid, spec.meter)
                if requested_by and not self.registry.is_authorised(
                    requested_by, spec.meter, "firmware", now
                ):
                    cm.move("refused", iso(now), f"{requested_by} is not the registered supplier")
        for cm in list(campaign.meters.values()):
            if cm.state == "pending":
                self._send_firmware(campaign, cm)
        return campaign

    def _send_firmware(self, campaign: Campaign, cm: CampaignMeter) -> None:
        queue = getattr(self.client, "queue", None) if self.client is not None else None
        message_id = str(uuid.uuid4())
        control = E.edc(
            "EndDeviceControls",
            E.edc(
                "EndDeviceControl",
                E.edc("mRID", cm.control),
                E.edc("issuerID", campaign.requested_by or self.party_id),
                E.edc("issuerTrackingID", campaign.id),
                E.edc("reason", f"firmware {campaign.version}"),
                E.edc("EndDeviceControlType", ref=controls.FIRMWARE_UPDATE),
                meter_el(cm.meter, prefix="edc", tag="EndDevices"),
                usage_point_el(cm.esiid, prefix="edc", tag="UsagePoints"),
            ),
        )
        body = request(
            "create",
            "EndDeviceControls",
            source=self.system,
            payload=[control],
            organization=self.party_id,
            user_id=campaign.requested_by or "dcc-fleet",
            async_reply=True if queue else None,
            reply_address=queue,
            timestamp=self.clock.now(),
            message_id=message_id,
            comment=f"firmware campaign {campaign.id}: version {campaign.version}",
        )
        with self._lock:
            self._requests[message_id] = (campaign.id, cm.meter)
        try:
            answer = self.request(body, timeout=self.request_timeout, key=cm.meter)
        except Exception as exc:
            self._move(campaign, cm, "failed", f"not sent: {exc}")
            return
        self._control_answer(campaign, cm, answer)

    def _control_answer(self, campaign: Campaign, cm: CampaignMeter, answer: Incoming) -> None:
        if answer.result == "FAILED":
            err = answer.errors[0] if answer.errors else {}
            self._move(
                campaign,
                cm,
                "failed",
                f"{err.get('code') or '?'} {err.get('reason') or ''}".strip(),
            )
        elif any(e.get("code") == "0.1" for e in answer.errors):
            self._move(campaign, cm, "queued", None)
        else:
            self._move(campaign, cm, "accepted", None)

    def _move(
        self,
        campaign: Campaign,
        cm: CampaignMeter,
        state: str,
        detail: str | None,
        version: str | None = None,
    ) -> None:
        with self._lock:
            changed = cm.move(state, iso(self.clock.now()), detail)
            if state == "succeeded" and changed:
                cm.version = version or campaign.version
                self._firmware[cm.meter] = cm.version
            elif state == "failed" and changed:
                cm.version = (
                    version
                    or self._firmware.get(cm.meter)
                    or self.registry.meter(cm.meter).firmware
                )
        if changed and campaign.requested_by and state not in ("pending",):
            entry = {
                "kind": "firmware",
                "campaign": campaign.id,
                "meter": cm.meter,
                "state": state,
                "version": cm.version,
                "detail": detail,
                "at": iso(self.clock.now()),
            }
            progress = E.ede(
                "EndDeviceEvent",
                E.ede("mRID", f"{cm.control}-{len(cm.history)}"),
                E.ede("createdDateTime", self.clock.now()),
                E.ede("issuerID", self.party_id),
                E.ede("issuerTrackingID", campaign.id),
                E.ede(
                    "reason",
                    f"firmware campaign {campaign.id}: {state}"
                    + (f" ({detail})" if detail else ""),
                ),
                E.ede("Assets", E.ede("mRID", cm.meter)),
                E.ede(
                    "EndDeviceEventDetails", E.ede("name", "CampaignState"), E.ede("value", state)
                ),
                E.ede(
                    "EndDeviceEventDetails",
                    E.ede("name", "FirmwareVersion"),
                    E.ede("value", cm.version or campaign.version),
                ),
                E.ede("EndDeviceEventType", ref=_progress_code(state)),
            )
            self._republish(
                campaign.requested_by,
                "supplier",
                progress,
                entry,
                f"firmware campaign {campaign.id} {state} on {cm.meter}",
                cm.meter,
            )

    def _firmware_progress(self, spec: MeterSpec, ev: etree._Element, code: str) -> None:
        state = FIRMWARE_STATES.get(code)
        if state is None:
            return
        tracking = text(ev, "ede:issuerTrackingID") or ""
        with self._lock:
            target = self._controls.get(tracking)
            if target is None:  # by meter: the latest unfinished campaign that has it
                for c in reversed(list(self.campaigns.values())):
                    cm = c.meters.get(spec.meter)
                    if cm is not None and cm.state not in TERMINAL:
                        target = (c.id, spec.meter)
                        break
            if target is None:
                self.ignored_events += 1
                return
            campaign = self.campaigns[target[0]]
            cm = campaign.meters[target[1]]
        version = None
        for d in ev.findall("ede:EndDeviceEventDetails", _EDE):
            name = (text(d, "ede:name") or "").replace(" ", "").replace("_", "").lower()
            if name in _VERSION_DETAILS:
                version = text(d, "ede:value")
        self._move(campaign, cm, state, text(ev, "ede:reason"), version)

    def on_reply(self, incoming: Incoming) -> None:
        """Async answers from the metering system: a campaign's controls, forwarded commands."""
        corr = incoming.correlation_id or ""
        with self._lock:
            target = self._requests.pop(corr, None)
            record = self.forwarded.get(corr)
        if target is not None:
            campaign = self.campaigns[target[0]]
            self._control_answer(campaign, campaign.meters[target[1]], incoming)
        elif record is not None:
            err = incoming.errors[0] if incoming.errors else {}
            record["final"] = (
                f"{incoming.result} {err.get('code') or ''} {err.get('reason') or ''}".strip()
            )

    def campaign(self, campaign_id: str) -> Campaign:
        return self.campaigns[campaign_id]

    # ------------------------------------------------------------------ inspection, REST
    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                **super().status(),
                "party": self.party_id,
                "suppliers": list(self.registry.suppliers),
                "gas_shippers": list(self.registry.shippers),
                "network_operator": self.registry.network_operator,
                "gas_transporter_agent": self.registry.gas_transporter_agent,
                "switches": {
                    "pending": sum(1 for s in self.switches.values() if s.status == "pending"),
                    "completed": sum(1 for s in self.switches.values() if s.status == "completed"),
                },
                "campaigns": len(self.campaigns),
                "inbox": {p: len(v) for p, v in sorted(self.inbox.items())},
                "refusals": len(self.refusals),
                "ignored_events": self.ignored_events,
                "filtered_alarms": self.filtered_alarms,
                "alarm_subscriptions": {
                    p: sorted(c) for p, c in sorted(self._alarm_subscriptions.items())
                },
            }

    def add_routes(self, app: FastAPI) -> None:
        """``GET /meters/{id}/registration``, ``POST /change-of-supplier``, ``POST
        /change-of-shipper``, ``GET /switches[/{id}]``, ``POST /campaigns``, ``GET
        /campaigns/{id}``, ``GET /alarms/{party}``, ``GET /inbox/{party}``, ``GET
        /authorised``."""

        @app.get("/meters/{meter}/registration")
        def get_registration(meter: str, at: str | None = None) -> dict[str, Any]:
            try:
                return self.registration(meter, at)
            except KeyError:
                raise HTTPException(404, f"unknown meter {meter}") from None
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None

        def switch(body: dict[str, Any], key: str, register: Any) -> dict[str, Any]:
            missing = [k for k in ("meter", key, "switch_date") if not body.get(k)]
            if missing:
                raise HTTPException(422, f"missing {', '.join(missing)}")
            try:
                sw = register(str(body["meter"]), str(body[key]), str(body["switch_date"]))
            except KeyError:
                raise HTTPException(404, f"unknown meter {body['meter']}") from None
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None
            return sw.to_dict()

        @app.post("/change-of-supplier", status_code=201)
        def change_of_supplier(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
            return switch(body, "supplier", self.register_change_of_supplier)

        @app.post("/change-of-shipper", status_code=201)
        def change_of_shipper(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
            return switch(body, "shipper", self.register_change_of_shipper)

        @app.get("/switches")
        def switches() -> list[dict[str, Any]]:
            with self._lock:
                return [s.to_dict() for s in self.switches.values()]

        @app.get("/switches/{switch_id}")
        def get_switch(switch_id: str) -> dict[str, Any]:
            with self._lock:
                sw = self.switches.get(switch_id)
                if sw is None:
                    raise HTTPException(404, f"unknown switch {switch_id}")
                return sw.to_dict()

        @app.post("/campaigns", status_code=201)
        def post_campaign(body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
            meters = body.get("meters")
            if not isinstance(meters, list) or not body.get("version"):
                raise HTTPException(422, "give 'meters' (a list) and 'version'")
            try:
                c = self.start_campaign(
                    [str(m) for m in meters],
                    str(body["version"]),
                    requested_by=body.get("requested_by"),
                )
            except KeyError as exc:
                raise HTTPException(404, f"unknown meter {exc}") from None
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None
            return c.summary()

        @app.get("/campaigns/{campaign_id}")
        def get_campaign(campaign_id: str) -> dict[str, Any]:
            with self._lock:
                c = self.campaigns.get(campaign_id)
                if c is None:
                    raise HTTPException(404, f"unknown campaign {campaign_id}")
                return c.summary()

        @app.get("/alarms/{party}")
        def alarms(party: str) -> dict[str, Any]:
            items = self.alarms(party)
            return {"party": party, "count": len(items), "alarms": items}

        @app.get("/alarms/{party}/subscription")
        def get_subscription(party: str) -> dict[str, Any]:
            codes = self.alarm_subscription(party)
            return {"party": party, "alarms": sorted(codes) if codes is not None else None}

        @app.put("/alarms/{party}/subscription")
        def put_subscription(party: str, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
            try:
                codes = self.subscribe_alarms(party, body.get("alarms"))
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None
            return {"party": party, "alarms": sorted(codes) if codes is not None else None}

        @app.get("/inbox/{party}")
        def inbox(party: str) -> dict[str, Any]:
            items = self.messages(party)
            return {"party": party, "count": len(items), "messages": items}

        @app.get("/authorised")
        def authorised(
            party: str, meter: str, action: str = "read", at: str | None = None
        ) -> dict[str, Any]:
            if action not in ACTIONS:
                raise HTTPException(
                    422, f"unknown action {action!r}; actions: {', '.join(ACTIONS)}"
                )
            return {
                "party": party,
                "meter": meter,
                "action": action,
                "authorised": self.is_authorised(party, meter, action, at),
            }


# ---------------------------------------------------------------------- payload helpers
def _filter_meters(flt: etree._Element | None) -> list[str]:
    """Meter numbers / usage points named in a ``GetMeterReadings`` filter."""
    if flt is None:
        return []
    out: list[str] = []
    paths = (
        "gmr:EndDevice/gmr:Names/gmr:name",
        "gmr:EndDevice/gmr:mRID",
        "gmr:UsagePoint/gmr:Names/gmr:name",
        "gmr:UsagePoint/gmr:mRID",
        "gmr:MeterReadings/gmr:Meter/gmr:Names/gmr:name",
        "gmr:MeterReadings/gmr:Meter/gmr:mRID",
        "gmr:MeterReadings/gmr:UsagePoint/gmr:Names/gmr:name",
    )
    for path in paths:
        for el in flt.findall(path, _GMR):
            value = (el.text or "").strip()
            if value and value not in out:
                out.append(value)
    return out


def _control_meters(ctrl: etree._Element) -> list[str]:
    out: list[str] = []
    for path in (
        "edc:EndDevices/edc:mRID",
        "edc:EndDevices/edc:Names/edc:name",
        "edc:UsagePoints/edc:Names/edc:name",
        "edc:UsagePoints/edc:mRID",
    ):
        for el in ctrl.findall(path, _EDC):
            value = (el.text or "").strip()
            if value and value not in out:
                out.append(value)
    return out


def _control_action(code: str | None) -> str:
    if code in (controls.FIRMWARE_UPDATE, controls.FIRMWARE_ACTIVATE):
        return "firmware"
    if code == controls.POWER_STATUS_PING:
        return "network"
    return "command"


def _progress_code(state: str) -> str:
    return {
        "queued": acknowledgement_for(controls.FIRMWARE_UPDATE, "processed"),
        "accepted": acknowledgement_for(controls.FIRMWARE_UPDATE, "processed"),
        "started": events.FIRMWARE_UPDATE_STARTED,
        "in_progress": events.FIRMWARE_UPDATE_IN_PROGRESS,
        "succeeded": events.FIRMWARE_UPDATE_SUCCEEDED,
        "failed": events.FIRMWARE_UPDATE_FAILED,
        "refused": acknowledgement_for(controls.FIRMWARE_UPDATE, "error"),
    }[state]
