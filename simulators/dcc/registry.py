"""Who is registered for which meter, and when (DCC-1, DCC-2, DCC-5).

The DCC keeps, per premise, the registered electricity **supplier** and gas **shipper** as a
history of periods (``since`` -> party), so "who was the supplier of AMS-0007 at 09:00 on the
switch date" has one answer, and a change of supplier registered today for next Tuesday is
already visible (as a future period). The **network operator** (DNO) and the **gas
transporter's agent** are one party each for the whole profile (a registration may name
another DNO for one meter).

Where the parties come from (profile ``[dcc]``):

* ``suppliers``, ``gas_shippers``: meters are assigned deterministically, ``crc32(meter number)
  modulo the number of parties`` (stable across runs and processes, and computed on first
  touch, so the 100,000-meter ``load`` profile costs nothing up front);
* ``registrations``: explicit entries that override the assignment for a meter, e.g.
  ``{ meter = "AMS-0001", supplier = "SUP-BETA", since = "2026-01-01T00:00:00Z" }`` (also
  ``shipper``, ``network_operator``); several entries for one meter make its history; before
  the first ``since`` the meter has no registered party;
* ``network_operator``, ``gas_transporter_agent``.

Gas: each premise of the profile has a gas meter, numbered ``<meter number><gas_meter_suffix>``
(suffix default ``-G``) with MPRN = the last 10 digits of the premise's ESIID. Either meter
number, the ESIID or the MPRN names the premise.

The authorisation rule (DCC-5, SEC-2): a party may act on a meter only when it is the party
registered for that meter *at that time* for that kind of action (:data:`ACTIONS`).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from simulators._core import MeterSpec, Profile, ProfileError, iso, parse_time

__all__ = ["ACTIONS", "FUELS", "Period", "Registry"]

FUELS = ("electricity", "gas")
#: action -> the registrations that may perform it
ACTIONS: Mapping[str, tuple[str, ...]] = {
    "read": ("supplier",),  # meter reading (get MeterReadings)
    "command": ("supplier",),  # switch, load limit, display message, ... (EndDeviceControls)
    "firmware": ("supplier",),  # firmware / software update (DCC-4)
    "tenancy": ("supplier",),  # change of tenancy
    "network": ("network_operator", "supplier"),  # network operation: power status, pings
    "gas_read": ("shipper",),
    "gas_command": ("shipper",),
}


@dataclass(frozen=True)
class Period:
    """From ``since`` (None: from the beginning) ``party`` is registered."""

    since: datetime | None
    party: str
    reason: str = "assigned"

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": iso(self.since) if self.since else None,
            "party": self.party,
            "reason": self.reason,
        }


def _pick(parties: tuple[str, ...], meter: str) -> str | None:
    if not parties:
        return None
    return parties[zlib.crc32(meter.encode("utf-8")) % len(parties)]


class Registry:
    """Registrations per premise (electricity supplier, gas shipper), lazily built."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        section = profile.section("dcc")
        self.suppliers = tuple(str(s) for s in section.get("suppliers", ()))
        self.shippers = tuple(str(s) for s in section.get("gas_shippers", ()))
        self.network_operator = str(section.get("network_operator") or "") or None
        self.gas_transporter_agent = str(section.get("gas_transporter_agent") or "") or None
        self.gas_suffix = str(section.get("gas_meter_suffix", "-G"))
        self._lock = threading.RLock()
        self._history: dict[tuple[str, str], list[Period]] = {}
        self._explicit: dict[tuple[str, str], list[Period]] = {}
        self._dno: dict[str, str] = {}
        self._mprn: dict[str, MeterSpec] | None = None
        for i, raw in enumerate(section.get("registrations", ())):
            self._explicit_entry(dict(raw), f"[dcc] registrations[{i}]")

    def _explicit_entry(self, raw: dict[str, Any], where: str) -> None:
        known = {"meter", "supplier", "shipper", "network_operator", "since"}
        unknown = set(raw) - known
        if unknown:
            raise ProfileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        if "meter" not in raw:
            raise ProfileError(f"{where}: names no meter")
        spec = self.profile.find_meter(str(raw["meter"]))
        if spec is None:
            raise ProfileError(f"{where}: meter {raw['meter']!r} is not in the profile")
        try:
            since = parse_time(raw["since"]) if raw.get("since") else None
        except ValueError as exc:
            raise ProfileError(f"{where}: since: {exc}") from None
        for fuel, key in (("electricity", "supplier"), ("gas", "shipper")):
            if raw.get(key):
                periods = self._explicit.setdefault((spec.meter, fuel), [])
                periods.append(Period(since, str(raw[key]), "profile registration"))
                periods.sort(key=_order)
        if raw.get("network_operator"):
            self._dno[spec.meter] = str(raw["network_operator"])

    # ------------------------------------------------------------------ meters
    def meter(self, key: str) -> MeterSpec:
        """The premise's meter for an electricity meter number, ESIID, gas meter number or
        MPRN (KeyError otherwise)."""
        spec = self.profile.find_meter(key)
        if spec is not None:
            return spec
        if self.gas_suffix and key.endswith(self.gas_suffix):
            spec = self.profile.find_meter(key[: -len(self.gas_suffix)])
            if spec is not None:
                return spec
        with self._lock:
            if self._mprn is None and key.isdigit() and len(key) == 10:
                self._mprn = {self.mprn(m): m for m in self.profile.meters}
            if self._mprn is not None and key in self._mprn:
                return self._mprn[key]
        raise KeyError(key)

    def find(self, key: str | None) -> MeterSpec | None:
        if not key:
            return None
        try:
            return self.meter(key)
        except KeyError:
            return None

    def gas_meter(self, spec: MeterSpec) -> str:
        return f"{spec.meter}{self.gas_suffix}"

    @staticmethod
    def mprn(spec: MeterSpec) -> str:
        digits = "".join(ch for ch in spec.esiid if ch.isdigit())
        return digits[-10:].rjust(10, "0")

    # ------------------------------------------------------------------ registrations
    def history(self, meter: str, fuel: str) -> list[Period]:
        """The registration periods of a premise for ``fuel``, oldest first."""
        if fuel not in FUELS:
            raise ValueError(f"fuel must be one of {', '.join(FUELS)}, not {fuel!r}")
        spec = self.meter(meter)
        key = (spec.meter, fuel)
        with self._lock:
            periods = self._history.get(key)
            if periods is None:
                if key in self._explicit:
                    periods = list(self._explicit[key])
                else:
                    party = _pick(
                        self.suppliers if fuel == "electricity" else self.shippers, spec.meter
                    )
                    periods = [Period(None, party)] if party else []
                self._history[key] = periods
            return list(periods)

    def party_at(self, meter: str, fuel: str, at: datetime) -> str | None:
        """The party registered for ``meter`` and ``fuel`` at ``at`` (None: nobody)."""
        current = None
        for p in self.history(meter, fuel):
            if p.since is None or p.since <= at:
                current = p.party
            else:
                break
        return current

    def add(self, meter: str, fuel: str, since: datetime, party: str, reason: str) -> None:
        """Register ``party`` from ``since`` on (a later period of the history)."""
        spec = self.meter(meter)
        self.history(spec.meter, fuel)  # materialise
        with self._lock:
            periods = self._history[(spec.meter, fuel)]
            periods.append(Period(since, party, reason))
            periods.sort(key=_order)

    def remove(self, meter: str, fuel: str, since: datetime, party: str) -> None:
        spec = self.meter(meter)
        with self._lock:
            periods = self._history.get((spec.meter, fuel), [])
            self._history[(spec.meter, fuel)] = [
                p for p in periods if not (p.since == since and p.party == party)
            ]

    def network_operator_of(self, meter: str) -> str | None:
        spec = self.meter(meter)
        return self._dno.get(spec.meter, self.network_operator)

    def parties_for(self, meter: str, action: str, at: datetime) -> set[str]:
        """Who may perform ``action`` on ``meter`` at ``at`` (DCC-5)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; actions: {', '.join(ACTIONS)}")
        out: set[str] = set()
        for role in ACTIONS[action]:
            if role == "supplier":
                party = self.party_at(meter, "electricity", at)
            elif role == "shipper":
                party = self.party_at(meter, "gas", at)
            else:
                party = self.network_operator_of(meter)
            if party:
                out.add(party)
        return out

    def is_authorised(
        self, party: str | None, meter: str | None, action: str, at: datetime
    ) -> bool:
        """True only when ``party`` is registered for ``meter`` for ``action`` at ``at``; an
        unknown meter or an anonymous party is simply not authorised (nothing revealed)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; actions: {', '.join(ACTIONS)}")
        if not party or not meter or self.find(meter) is None:
            return False
        return party in self.parties_for(meter, action, at)


_BEGINNING = datetime.min.replace(tzinfo=UTC)


def _order(p: Period) -> datetime:
    return _BEGINNING if p.since is None else p.since
