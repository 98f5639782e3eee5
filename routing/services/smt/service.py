"""The Smart Meter Texas (SMT) role inside cimbus: on-demand read of non-VEE 15-minute data for
a customer balance inquiry (seed 000; ODR-1..ODR-7, SEC-2).

A ``local`` system (``[systems.SMT] transport = "local"``, ``address = "smt"``) served by
:class:`SmtService`, registered by ``cimbus.runtime.Runtime`` when ``[smt] enabled``. What
reaches it is decided by the route table (BUS-8), typically::

    get MeterReadings        from CIS  -> SMT   on-demand read (Get wrapper)      ODR-1..ODR-6
    create EndDeviceControls from CIS  -> SMT   power-status ping (throttled)     ODR-5
    created MeterReadings    (event)   -> SMT   daily VEE posting from the TDSP   ODR-7

On-demand read (``get MeterReadings``), in this order:

1. read the request: one ESIID, optional window and ReadingTypes (2.7 when unusable);
2. SEC-2: the requesting system must act for Header/User/Organization (3.2);
3. ODR-6: an unknown ESIID is UnknownObject (2.12);
4. ODR-4: only the ROR of record may ask (3.2; nothing is read, nothing about the meter said);
5. ODR-6: AMS meter, installed and provisioned, 15-minute interval and daily read (2.7);
6. ODR-2: the window is inside [last VEE end, last VEE end + 48 h] (2.7);
7. ODR-5: take one of the day's read slots for the ESIID in the store (2.7 when used up);
8. ODR-3: ask the head-end (``[smt] headend``), keep the interval readings inside the window,
   mark every reading non-VEE (ReadingQualityType 2.0.0) and answer the ROR in the Get
   wrapper; the slot is kept only when the head-end answered OK / PARTIAL.

A refusal is raised as a :class:`~routing.errors.BusError`; the pipeline's reply step renders
it as Result FAILED with its code, in the Get wrapper namespace for a Get.

``create EndDeviceControls``: a power-status ping (``POWER_STATUS_PING``) passes the same
checks (2..5) and the ping throttle, is asked of the head-end synchronously and its answer
returned to the ROR. Any other control is passed on unchanged to the system of the wildcard
route, with that route's semantics (async: acknowledged 0.1 now, reply at ReplyAddress), so a
source-specific route of every CIS EndDeviceControls to SMT does not change B2 behaviour.

``created`` / ``changed MeterReadings`` (event): the latest interval timestamp of VEE-processed
readings per ESIID moves "last VEE end" forward (never backwards).

"Now" comes from ``clock`` (injectable: tests and the demo run on a simulated clock).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cim_models.build import ReplyError, RequestPart, build_message
from cim_models.codes import INTERVAL_15MIN_KWH_DELIVERED, REGISTER_KWH_DELIVERED
from cim_models.errors import CodecError

from ...config import SmtConfig
from ...envelope import Envelope, utcnow
from ...errors import (
    ErrorDetail,
    InvalidMessage,
    OperationFailed,
    UnknownObject,
    UnsupportedRequest,
)
from ...pipeline.forward import response_root
from ...store import UsagePoint
from .._call import call, forward, reply_errors, result_of
from . import rules
from .errors import ThrottleLimitReached
from .messages import (
    EDC_NS,
    PingRequest,
    iso,
    non_vee_payload,
    parse_ping,
    parse_read_request,
    read_filter,
    readings_reason,
    vee_ends,
)
from .registry import load_registry

if TYPE_CHECKING:
    from ...bus import Bus

log = logging.getLogger("cimbus.smt")

DEFAULT_READING_TYPES = (INTERVAL_15MIN_KWH_DELIVERED, REGISTER_KWH_DELIVERED)
SUCCESS = ("OK", "PARTIAL")


class SmtService:
    """The SMT local handler: ``handler(env, bus) -> bytes | None`` (see
    :meth:`routing.bus.Bus.register_local`).

    ``bus``: the bus it serves (store, routes, codec); ``config``: the ``[smt]`` section;
    ``clock``: returns "now" as an aware datetime (default: the system clock in UTC).
    """

    def __init__(
        self,
        bus: Bus,
        config: SmtConfig | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.bus = bus
        self.config = config or SmtConfig()
        self.clock: Callable[[], datetime] = clock or utcnow
        self.window = timedelta(hours=self.config.window_hours)

    @cached_property
    def tz(self) -> ZoneInfo:
        """``[smt] timezone``: the day of the throttle, how times are written (looked up on
        first use, so a machine without a time zone database only needs one to serve SMT)."""
        return ZoneInfo(self.config.timezone)

    # ------------------------------------------------------------------ set-up
    def provision(
        self,
        esiid: str,
        *,
        ror: str | None,
        meter_number: str | None = None,
        ams: bool = True,
        provisioned: bool = True,
        interval_minutes: int | None = 15,
        daily_read: bool = True,
    ) -> UsagePoint:
        """Add or replace one usage point in the registry (ODR-4, ODR-6)."""
        point = UsagePoint(
            esiid=esiid,
            meter_number=meter_number,
            ror=ror,
            ams=ams,
            provisioned=provisioned,
            interval_minutes=interval_minutes,
            daily_read=daily_read,
        )
        self.bus.store.upsert_usage_points([point])
        return point

    def load_registry(self, path: str | Path) -> int:
        """Upsert every usage point of a TOML or CSV registry file; returns how many."""
        points = load_registry(path)
        n = self.bus.store.upsert_usage_points(points)
        log.info("SMT registry %s: %d usage point(s) loaded", path, n)
        return n

    def now(self) -> datetime:
        now = self.clock()
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)

    # ------------------------------------------------------------------ the handler
    def __call__(self, env: Envelope, bus: Bus) -> bytes | None:
        if env.is_event:
            if env.noun == "MeterReadings":
                self.post_vee(env)
            else:
                log.info("SMT ignores event '%s %s'", env.verb, env.noun)
            return None
        if env.verb == "get" and env.noun == "MeterReadings":
            return self.read(env, bus)
        if env.verb == "create" and env.noun == "EndDeviceControls":
            return self.end_device_controls(env, bus)
        raise UnsupportedRequest(
            f"SMT serves 'get MeterReadings' (on-demand read), 'create EndDeviceControls' "
            f"(power-status ping) and the 'created MeterReadings' VEE posting, not "
            f"'{env.verb} {env.noun}'",
            object_id=f"{env.verb} {env.noun}",
            object_type="VerbNoun",
        )

    # ------------------------------------------------------------------ ODR-7
    def post_vee(self, env: Envelope) -> dict[str, datetime]:
        """``created MeterReadings`` from the TDSP (daily LSE/VEE posting): move each ESIID's
        last VEE end to its latest VEE-processed interval reading. Returns what moved."""
        assert env.message is not None
        try:
            ends = vee_ends(env.message, self.tz)
        except CodecError as exc:  # a timeStamp the fast path cannot read: say so to the TDSP
            raise InvalidMessage(f"the VEE posting cannot be read: {exc}") from None
        moved: dict[str, datetime] = {}
        for esiid, end in ends.items():
            if self.bus.store.record_vee_end(esiid, end, message_id=env.message_id):
                moved[esiid] = end
        if moved:
            log.info(
                "VEE posting %s: last VEE end moved for %d ESIID(s)", env.message_id, len(moved)
            )
        return moved

    # ------------------------------------------------------------------ ODR-1..ODR-6
    def read(self, env: Envelope, bus: Bus) -> bytes:
        """``get MeterReadings`` from the ROR: the on-demand read of non-VEE 15-minute data."""
        assert env.message is not None
        request = parse_read_request(env.message.root, self.tz)
        point = self._authorise(env, request.esiid, bus)
        rules.check_eligible(point, kind="read")
        now = self.now()
        start, end = rules.resolve_window(
            point.esiid,
            request.start,
            request.end,
            last_vee_end=bus.store.last_vee_end(point.esiid),
            now=now,
            max_length=self.window,
            tz=self.tz,
        )
        reading_types = request.reading_types or DEFAULT_READING_TYPES
        slot = self._reserve("read", point.esiid, now, env, bus)
        succeeded = False
        try:
            body = build_message(
                "get",
                "MeterReadings",
                source=bus.name,
                request=RequestPart(
                    iso(start, self.tz),
                    iso(end, self.tz),
                    filter=read_filter(point.esiid, start, end, reading_types, self.tz),
                ),
                comment=f"SMT on-demand read (ODR) for ESIID {point.esiid}",
            )
            reply = call(
                bus,
                self.config.headend,
                body,
                timeout=self.config.timeout,
                caused_by=env.message_id,
            )
            result = result_of(reply)
            errors = reply_errors(reply)
            if result not in SUCCESS:
                raise OperationFailed(
                    f"the head-end {self.config.headend} could not read ESIID {point.esiid}"
                    + (f": {errors[0].reason}" if errors and errors[0].reason else ""),
                    object_id=point.esiid,
                    object_type="UsagePoint",
                    extra=[_detail(e) for e in errors],
                )
            assert reply.message is not None
            odr = non_vee_payload(
                reply.message.payload_elements(),
                esiid=point.esiid,
                start=start,
                end=end,
                tz=self.tz,
            )
            answer = build_message(
                "reply",
                "MeterReadings",
                correlation_id=env.message_id,
                source=bus.name,
                result=result,
                errors=[
                    ReplyError("0.0", "INFORM", readings_reason(odr.intervals, odr.registers)),
                    *(e for e in errors if e.code != "0.0"),
                ],
                payload=odr.elements,
                comment=(
                    "On-demand read from the TDSP head-end; not validated (non-VEE); window "
                    f"{iso(start, self.tz)} to {iso(end, self.tz)}"
                ),
                form="generic" if env.form == "generic" else None,
                **response_root(env),
            )
            succeeded = True
            return answer
        finally:
            bus.store.odr_settle(slot, succeeded=succeeded, now=self.now())

    # ------------------------------------------------------------------ ODR-5 pings
    def end_device_controls(self, env: Envelope, bus: Bus) -> bytes:
        """``create EndDeviceControls`` from the ROR: a power-status ping is SMT's (checked,
        throttled, asked of the head-end); any other control is passed on unchanged."""
        assert env.message is not None
        payload = env.message.payload_elements()
        ping = parse_ping(payload)
        if ping is None:
            return forward(bus, env, served_by=self._served_as(bus))
        return self.ping(env, bus, ping, payload)

    def ping(
        self, env: Envelope, bus: Bus, ping: PingRequest, payload: Iterable | None = None
    ) -> bytes:
        """A power-status ping (ODR-5's second throttled kind) for one ESIID."""
        assert env.message is not None
        point = self._authorise(env, ping.esiid, bus)
        rules.check_eligible(point, kind="ping")
        now = self.now()
        slot = self._reserve("ping", point.esiid, now, env, bus)
        succeeded = False
        try:
            controls = [
                copy.deepcopy(p)
                for p in (payload if payload is not None else env.message.payload_elements())
            ]
            body = build_message(
                "create",
                "EndDeviceControls",
                source=bus.name,
                payload=controls,
                comment=f"SMT power status request (ping) for ESIID {point.esiid}",
            )
            reply = call(
                bus,
                self.config.headend,
                body,
                timeout=self.config.timeout,
                caused_by=env.message_id,
            )
            result = result_of(reply)
            assert reply.message is not None
            answer = build_message(
                "reply",
                "EndDeviceControls",
                correlation_id=env.message_id,
                source=bus.name,
                result=result,
                errors=reply_errors(reply),
                payload=[
                    copy.deepcopy(p)
                    for p in reply.message.payload_elements()
                    if p.tag == f"{{{EDC_NS}}}EndDeviceControls"
                ],
                comment=f"Power status of ESIID {point.esiid} from the TDSP head-end",
                form="generic" if env.form == "generic" else None,
            )
            succeeded = result in SUCCESS
            return answer
        finally:
            bus.store.odr_settle(slot, succeeded=succeeded, now=self.now())

    # ------------------------------------------------------------------ shared checks
    def _authorise(self, env: Envelope, esiid: str, bus: Bus) -> UsagePoint:
        """SEC-2, ODR-6 (known ESIID), ODR-4 (ROR of record), in that order."""
        system = bus.routes.systems.get(env.source or "")
        rules.check_caller(
            env.organization,
            system=env.source,
            system_organizations=system.organizations if system is not None else (),
        )
        point = bus.store.usage_point(esiid)
        if point is None:
            raise UnknownObject(
                f"ESIID {esiid} is not known to SMT", object_id=esiid, object_type="UsagePoint"
            )
        rules.check_ror(env.organization, point)
        return point

    def _reserve(self, kind: str, esiid: str, now: datetime, env: Envelope, bus: Bus) -> int:
        limit = self.config.reads_per_day if kind == "read" else self.config.pings_per_day
        slot = bus.store.odr_reserve(
            esiid,
            kind,
            rules.throttle_day(now, self.tz),
            limit=limit,
            now=now,
            # a worker that dies while the head-end is asked frees the slot after this
            expires_at=now + timedelta(seconds=self.config.timeout + 60),
            message_id=env.message_id,
        )
        if slot is None:
            raise ThrottleLimitReached(
                rules.limit_reason(kind, limit, esiid, now, self.tz),
                object_id=esiid,
                object_type="UsagePoint",
            )
        return slot

    def _served_as(self, bus: Bus) -> str:
        for system in bus.routes.systems.values():
            if system.transport == "local" and system.address == self.config.handler:
                return system.name
        return "SMT"


def _detail(e: ReplyError) -> ErrorDetail:
    return ErrorDetail(
        e.code, e.level or "FATAL", e.reason or "", e.details, e.xpath, e.object_id, e.object_type
    )
