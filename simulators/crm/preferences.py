"""Customer notification preferences as the CRM stores them (D11-2, D11-4, D11-11).

A customer's profile entry (``[[customers]]``: ``opt_in``, ``preferences``, ``receivers``) is the
starting point; changes made through the web interface (the customer), the CSR interface or a
commercial account representative are kept as an overlay with a history of who changed what
and when (simulated time). Nothing is copied for customers nobody touched, so the ``load``
profile (100,000 customers) costs nothing until a preference is read or changed.

Rules (D11 functional requirements 12, 13, 16-20, 22, 23; non-functional 3, 4):

* ``preferences`` maps a notification type to the channels it goes to, in the customer's order
  of preference. A customer with no preferences at all gets **every** type on the in-home
  display (IHD is the default channel, D11 req. 12). Once preferences are given, only the types
  listed (with at least one channel) are sent: a customer with only ``restoration`` gets only
  the "power restored" message (D11-4).
* ``status`` (trouble-order status: dispatched, en route, on site) is an optional type of its
  own; when a customer did not list it, status updates follow the ``outage`` channels.
* ``opt_in`` false: no proactive notification at all (D11 business rule).
* ``receivers`` are extra addresses that get the same notifications as the customer (family
  members, a relative, authorised employees or agents of a business, D11-2 / non-functional
  req. 4). Each is ``"CHANNEL:address"`` or a bare address: an e-mail address goes by EMAIL,
  a phone number (``+`` or digits) by SMS.
* Who may change them: ``customer`` (web), ``csr`` (CSR interface) and ``account_rep`` (a
  commercial account representative, only for commercial and industrial customers, D11 req. 22).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulators._core import Customer, Profile, SimClock, iso

__all__ = [
    "CHANNELS",
    "EDITORS",
    "NOTIFICATION_TYPES",
    "PreferenceChange",
    "PreferenceError",
    "PreferenceNotAllowed",
    "PreferenceStore",
    "Preferences",
    "Receiver",
]

#: Notification types. The first six are the profile's; ``status`` is optional (see above).
NOTIFICATION_TYPES = ("outage", "etr", "restoration", "planned", "limit", "disconnect", "status")
#: Channels, IHD first: the default (D11 req. 12).
CHANNELS = ("IHD", "SMS", "EMAIL", "PHONE")
#: Who may change preferences: the web interface, the CSR interface, an account representative.
EDITORS = ("customer", "csr", "account_rep")

_CHANNEL_ALIASES = {
    "E-MAIL": "EMAIL",
    "MAIL": "EMAIL",
    "TEXT": "SMS",
    "CALL": "PHONE",
    "VOICE": "PHONE",
}


class PreferenceError(ValueError):
    """A preference change is malformed (unknown type, channel, editor, bad receiver)."""

    status = 422


class PreferenceNotAllowed(PreferenceError):
    """The editor may not change this customer's preferences."""

    status = 403


def channel_name(raw: str) -> str:
    value = str(raw).strip().upper()
    value = _CHANNEL_ALIASES.get(value, value)
    if value not in CHANNELS:
        raise PreferenceError(f"unknown channel {raw!r}; channels: {', '.join(CHANNELS)}")
    return value


@dataclass(frozen=True)
class Receiver:
    """An extra address that receives the customer's notifications."""

    address: str
    channel: str

    @classmethod
    def parse(cls, raw: str | Mapping[str, str]) -> Receiver:
        if isinstance(raw, Mapping):
            address = str(raw.get("address", "")).strip()
            if not address:
                raise PreferenceError(f"receiver {dict(raw)!r} has no address")
            return cls(address, channel_name(raw.get("channel") or _infer_channel(address)))
        text = str(raw).strip()
        head, sep, rest = text.partition(":")
        if sep and head.strip().upper() in {*CHANNELS, *_CHANNEL_ALIASES}:
            channel, address = channel_name(head), rest.strip()
        else:
            channel, address = _infer_channel(text), text
        if not address:
            raise PreferenceError(f"receiver {raw!r} has no address")
        if channel == "IHD":
            raise PreferenceError(
                f"receiver {raw!r}: an in-home display belongs to a meter, not to a receiver"
            )
        return cls(address, channel)

    def __str__(self) -> str:
        return f"{self.channel}:{self.address}"


def _infer_channel(address: str) -> str:
    if "@" in address:
        return "EMAIL"
    digits = address.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    if (digits.startswith("+") and digits[1:].isdigit()) or digits.isdigit():
        return "SMS"
    raise PreferenceError(
        f"cannot tell the channel of receiver {address!r}: give 'SMS:...', 'EMAIL:...' or 'PHONE:...'"
    )


@dataclass(frozen=True)
class Preferences:
    """One customer's notification preferences (what the CRM stores, D11 req. 23)."""

    customer: str
    opt_in: bool = True
    channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    receivers: tuple[Receiver, ...] = ()

    @property
    def customised(self) -> bool:
        return bool(self.channels)

    def channels_for(self, kind: str) -> tuple[str, ...]:
        """The channels for notification type ``kind``, in preference order (empty: the
        customer does not want this type)."""
        if not self.channels:
            return ("IHD",)
        if kind == "status" and "status" not in self.channels:
            kind = "outage"
        return tuple(self.channels.get(kind, ()))

    def wants(self, kind: str) -> bool:
        return self.opt_in and bool(self.channels_for(kind))

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "opt_in": self.opt_in,
            "customised": self.customised,
            "preferences": {k: list(v) for k, v in self.channels.items()},
            "effective": {k: list(self.channels_for(k)) for k in NOTIFICATION_TYPES},
            "receivers": [str(r) for r in self.receivers],
        }


@dataclass(frozen=True)
class PreferenceChange:
    """Who changed what, when (simulated time): the audit trail of D11-11."""

    at: str
    customer: str
    by: str
    user: str | None
    changes: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "customer": self.customer,
            "by": self.by,
            "user": self.user,
            "changes": dict(self.changes),
        }


def normalise_channels(raw: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """Check and normalise a type -> channels mapping (order kept, duplicates dropped)."""
    if not isinstance(raw, Mapping):
        raise PreferenceError("preferences must map a notification type to a list of channels")
    out: dict[str, tuple[str, ...]] = {}
    for kind, channels in raw.items():
        key = str(kind).strip().lower()
        if key not in NOTIFICATION_TYPES:
            raise PreferenceError(
                f"unknown notification type {kind!r}; types: {', '.join(NOTIFICATION_TYPES)}"
            )
        if isinstance(channels, str):
            channels = [channels]
        seen: list[str] = []
        for ch in channels:
            name = channel_name(ch)
            if name not in seen:
                seen.append(name)
        if seen:
            out[key] = tuple(seen)
    return out


class PreferenceStore:
    """The CRM's customer preferences: the profile plus the changes made since, lazily."""

    def __init__(self, profile: Profile, clock: SimClock) -> None:
        self.profile = profile
        self.clock = clock
        self._lock = threading.RLock()
        self._customers: dict[str, Customer] | None = None
        self._meters_of: dict[str, list[Any]] | None = None
        self._current: dict[str, Preferences] = {}
        self._history: dict[str, list[PreferenceChange]] = {}
        section = profile.section("crm")
        self._commercial = {str(c) for c in section.get("commercial_customers", ())}

    # ------------------------------------------------------------------ lookups
    def customer(self, customer_id: str) -> Customer:
        with self._lock:
            if self._customers is None:
                self._customers = {c.id: c for c in self.profile.customers}
            return self._customers[customer_id]

    def meters_of(self, customer_id: str) -> list[Any]:
        with self._lock:
            if self._meters_of is None:
                index: dict[str, list[Any]] = {}
                for m in self.profile.meters:
                    if m.customer:
                        index.setdefault(m.customer, []).append(m)
                self._meters_of = index
            return list(self._meters_of.get(customer_id, ()))

    def is_commercial(self, customer_id: str) -> bool:
        """Commercial / industrial: listed in ``[crm] commercial_customers`` or behind a meter
        whose load shape is commercial or industrial."""
        if customer_id in self._commercial:
            return True
        return any(
            "commercial" in m.load_shape or "industrial" in m.load_shape
            for m in self.meters_of(customer_id)
        )

    def get(self, customer_id: str) -> Preferences:
        """The preferences in force (KeyError for an unknown customer)."""
        with self._lock:
            prefs = self._current.get(customer_id)
            if prefs is not None:
                return prefs
            c = self.customer(customer_id)
            receivers = []
            for raw in c.receivers:
                try:
                    receivers.append(Receiver.parse(raw))
                except PreferenceError:
                    continue  # a profile receiver we cannot use is skipped, not fatal
            try:
                channels = normalise_channels(c.preferences)
            except PreferenceError:
                channels = {}
            return Preferences(c.id, c.opt_in, channels, tuple(receivers))

    def history(self, customer_id: str) -> list[PreferenceChange]:
        with self._lock:
            self.customer(customer_id)
            return list(self._history.get(customer_id, ()))

    def changed_customers(self) -> list[str]:
        with self._lock:
            return sorted(self._history)

    # ------------------------------------------------------------------ changes
    def update(
        self,
        customer_id: str,
        *,
        by: str,
        user: str | None = None,
        opt_in: bool | None = None,
        preferences: Mapping[str, Iterable[str]] | None = None,
        receivers: Iterable[str | Mapping[str, str]] | None = None,
        add_receivers: Iterable[str | Mapping[str, str]] = (),
        remove_receivers: Iterable[str] = (),
    ) -> Preferences:
        """Change a customer's preferences (D11-11); returns the new preferences.

        ``preferences`` replaces the whole type -> channels mapping (an empty mapping means
        "no customisation": everything on the IHD); ``receivers`` replaces the receivers,
        ``add_receivers`` / ``remove_receivers`` edit them. Raises KeyError for an unknown
        customer, PreferenceError for bad values, PreferenceNotAllowed when an account
        representative edits a residential customer."""
        if by not in EDITORS:
            raise PreferenceError(f"'by' must be one of {', '.join(EDITORS)}, not {by!r}")
        with self._lock:
            old = self.get(customer_id)
            if by == "account_rep" and not self.is_commercial(customer_id):
                raise PreferenceNotAllowed(
                    f"an account representative subscribes only commercial and industrial "
                    f"customers; {customer_id} is residential (use the web or CSR interface)"
                )
            new_channels = (
                normalise_channels(preferences) if preferences is not None else dict(old.channels)
            )
            new_receivers = (
                [Receiver.parse(r) for r in receivers]
                if receivers is not None
                else list(old.receivers)
            )
            for raw in add_receivers:
                r = Receiver.parse(raw)
                if r not in new_receivers:
                    new_receivers.append(r)
            for raw in remove_receivers:
                text = str(raw).strip()
                new_receivers = [r for r in new_receivers if text not in (r.address, str(r))]
            new = Preferences(
                customer_id,
                old.opt_in if opt_in is None else bool(opt_in),
                new_channels,
                tuple(new_receivers),
            )
            changes: dict[str, Any] = {}
            if new.opt_in != old.opt_in:
                changes["opt_in"] = {"from": old.opt_in, "to": new.opt_in}
            if dict(new.channels) != dict(old.channels):
                changes["preferences"] = {
                    "from": {k: list(v) for k, v in old.channels.items()},
                    "to": {k: list(v) for k, v in new.channels.items()},
                }
            if new.receivers != old.receivers:
                changes["receivers"] = {
                    "from": [str(r) for r in old.receivers],
                    "to": [str(r) for r in new.receivers],
                }
            self._current[customer_id] = new
            self._history.setdefault(customer_id, []).append(
                PreferenceChange(iso(self.clock.now()), customer_id, by, user, changes)
            )
            return new
