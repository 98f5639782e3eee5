"""ODR: Smart Meter Texas on-demand read for a customer balance inquiry (seed 000; ODR-1..7).

The Rep of Record (the ``cis`` simulator) asks the target, in the SMT role, for non-VEE
15-minute interval data of one ESIID; the TDSP side is played by the ``mdms`` (daily VEE
posting) and ``headend`` (the meters) simulators. Every scenario uses its own ESIIDs so that
the daily throttle of one does not bleed into another, even against a deployed target.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from cim_models.codes import NON_VEE

from ..harness import HarnessError
from ..suite import Context, scenario

if TYPE_CHECKING:
    from simulators.mdms import VeePosting

SUITE = "ODR"
NEEDS = ("cis", "headend", "mdms")
HOURS_48 = timedelta(hours=48)


# ---------------------------------------------------------------------- helpers
def _tz(ctx: Context) -> ZoneInfo:
    return ZoneInfo(ctx.profile.timezone)


def _today(ctx: Context) -> date:
    return ctx.now().astimezone(_tz(ctx)).date()


def _midnight(ctx: Context, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_tz(ctx))


#: eligible meters one round of the ODR suite uses (three per scenario, ODR-1..ODR-7)
PER_ROUND = 3 * 7


def eligible_meters(profile) -> list:
    """The provisioned AMS meters with a Rep of Record, in profile order."""
    return [m for m in profile.meters if m.ams and m.provisioned and m.ror]


def rounds_in(profile) -> int:
    """How many rounds (``--round 0 .. n-1``) the profile has distinct ESIIDs for."""
    return len(eligible_meters(profile)) // PER_ROUND


def round_problem(profile, round_: int) -> str | None:
    """Why ``profile`` cannot run round ``round_`` of the ODR suite (None: it can)."""
    n = rounds_in(profile)
    if round_ < n:
        return None
    return (
        f"profile {profile.name!r} has ESIIDs for {n} round(s) of the ODR suite "
        f"({len(eligible_meters(profile))} eligible meters, {PER_ROUND} per round); round "
        f"{round_} needs {PER_ROUND * (round_ + 1)}: use a larger profile, e.g. --profile load"
    )


def _meters(ctx: Context, n: int) -> list:
    """``n`` provisioned AMS meters reserved for the calling scenario: three per ODR-k, from
    the (3k-3)th on, so that no two scenarios share an ESIID; round r (``--round``) starts
    ``PER_ROUND * r`` further, so that a deployed target can be checked again the same day
    (ODR-5: one successful read per ESIID per day)."""
    problem = round_problem(ctx.profile, ctx.round)
    if problem:
        raise HarnessError(problem)
    _, _, num = ctx.result.scenario.id.partition("-")
    offset = PER_ROUND * ctx.round + 3 * (int(num) - 1)
    return eligible_meters(ctx.profile)[offset : offset + n]


def _post_vee(ctx: Context, day: date, *esiids: str) -> VeePosting:
    """The TDSP's daily VEE posting of ``day`` (created MeterReadings MDMS -> target), checked
    to have been acknowledged OK by the target for every ESIID."""
    posting = ctx.sim("mdms").post_daily_vee(day, esiids=list(esiids))
    ctx.check(
        posting.messages
        and not posting.unsent
        and not posting.skipped
        and sorted(posting.esiids) == sorted(esiids),
        f"MDMS posted the VEE data of {day} for {', '.join(esiids)} and the target accepted it",
        sent=len(posting.messages),
        unsent=posting.unsent,
        skipped=posting.skipped,
        notes=posting.notes,
    )
    return posting


def _hes_reads(ctx: Context) -> int:
    return len(ctx.sim("headend").received("get", "MeterReadings"))


def _interval_readings(answer) -> list:
    from simulators._core import NS

    out = []
    for mr in answer.payload:
        out.extend(mr.findall(".//mr:IntervalReadings", NS))
    return out


def _code(answer) -> str | None:
    return answer.errors[0]["code"] if answer.errors else None


def _reason(answer) -> str:
    return " ".join(e.get("reason") or "" for e in answer.errors)


def _judge(ctx: Context, answer, what: str):
    """Every answer a scenario judges must first be a conforming reply: the element the
    operation promises, valid against the project's XSD profiles, a payload (when OK) in the
    noun's namespace, CorrelationID = the request's MessageID. The first problem fails the
    scenario, naming the requirement."""
    problems = answer.reply_problems()
    ctx.check(
        not problems,
        f"{ctx.result.scenario.id}: the reply to {what} is a conforming "
        f"{answer.expected_root[1] if answer.expected_root else 'reply'} "
        "(schema, element, payload namespace, CorrelationID)",
        problem=problems[0] if problems else None,
        answer=answer,
    )
    return answer


def _stamp(text: str | None) -> datetime | None:
    try:
        t = datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None else None


def _check_window(ctx: Context, answer, esiid: str, lo: datetime | None, hi: datetime) -> None:
    """An OK read returns readings of the ESIID asked for, every interval reading inside the
    window: timeStamp is the interval's *end* (ODR-2: the first interval is the one right after
    the last VEE end), so ``lo < timeStamp <= hi``."""
    names = [
        el.text
        for p in answer.payload
        for el in p.iter()
        if isinstance(el.tag, str) and el.tag.endswith("}name")
    ]
    ctx.check(esiid in names, "the readings are for the ESIID asked for", esiid=esiid)
    outside = []
    for r in _interval_readings(answer):
        text = r.findtext("{*}timeStamp")
        t = _stamp(text)
        if t is None or (lo is not None and t <= lo) or t > hi:
            outside.append(text)
    ctx.check(
        not outside,
        "every interval reading's end time lies inside the requested window "
        f"({lo.isoformat() if lo else '-'} exclusive .. {hi.isoformat()} inclusive)",
        outside=len(outside),
        first=outside[0] if outside else None,
    )


def _read(
    ctx: Context,
    esiid: str,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    org: str | None = None,
    vee_end: datetime | None = None,
):
    """The ROR's read, judged (:func:`_judge`); when OK, its readings are checked to lie in the
    window asked for (no start: from ``vee_end``, the last VEE end; no end: up to now)."""
    answer = _judge(ctx, ctx.sim("cis").on_demand_read(esiid, start, end, org=org), "a read")
    if answer.result == "OK":
        hi = end or ctx.now() + timedelta(minutes=15)  # the target's clock may run a bit ahead
        _check_window(ctx, answer, esiid, start or vee_end, hi)
    return answer


def _ping(ctx: Context, esiid: str, *, org: str | None = None):
    return _judge(ctx, ctx.sim("cis").ping(esiid, org=org), "a power-status ping")


def _read_unlisted(ctx: Context, esiid: str, *, org: str):
    """A read for an ESIID the CIS itself does not list (a mistyped one): built here with the
    CIS's request shape and sent through the CIS simulator."""
    from simulators._core import request
    from simulators.cis.messages import read_filter

    cis = ctx.sim("cis")
    body = request(
        "get",
        "MeterReadings",
        source=cis.system,
        get_filter=read_filter(esiid, None, None, _tz(ctx)),
        organization=org,
        user_id="csr.conformance",
        timestamp=ctx.now(),
    )
    return _judge(ctx, cis.request(body, timeout=30), "a read")


# ---------------------------------------------------------------------- scenarios
@scenario(
    "ODR-1", suite=SUITE, title="ROR requests non-VEE 15-minute data for one ESIID", needs=NEEDS
)
def odr_1_ror_requests_interval_data(ctx: Context) -> None:
    """The Rep of Record (ROR, a CIS/REP system) requests non-VEE 15-minute interval usage data
    for one ESIID (get MeterReadings with the UsagePoint/ESIID and a time window)."""
    (m,) = _meters(ctx, 1)
    yesterday = _today(ctx) - timedelta(days=1)
    _post_vee(ctx, yesterday, m.esiid)
    start = _midnight(ctx, _today(ctx))
    end = min(ctx.now().replace(second=0, microsecond=0), start + HOURS_48)
    answer = _read(ctx, m.esiid, start, end, org=m.ror)
    ctx.check(answer.result == "OK", "the ROR's get MeterReadings is answered OK", answer=answer)
    readings = _interval_readings(answer)
    expected = int((end - start) / timedelta(minutes=15))
    ctx.check(
        len(readings) >= max(1, expected - 1),
        f"15-minute interval readings for the window ({expected} expected)",
        got=len(readings),
    )
    asked = [e for e in ctx.sim("cis").journal if e.direction == "out" and e.verb == "get"]
    ctx.check(
        bool(asked) and answer.correlation_id == asked[-1].message_id,
        "the reply carries the request's MessageID as CorrelationID",
        corr=answer.correlation_id,
    )


@scenario(
    "ODR-2", suite=SUITE, title="Window of at most 48 hours from the last VEE posting", needs=NEEDS
)
def odr_2_window_48h_from_last_vee(ctx: Context) -> None:
    """The window is at most 48 hours and starts where the last VEE (validated, daily LSE) data
    posted for that ESIID ends; a longer window is refused with a clear error."""
    a, b = _meters(ctx, 2)
    day = _today(ctx) - timedelta(days=3)
    _post_vee(ctx, day, a.esiid, b.esiid)
    last_vee_end = _midnight(ctx, day + timedelta(days=1))
    before = _hes_reads(ctx)
    too_long = _read(
        ctx, a.esiid, last_vee_end, last_vee_end + HOURS_48 + timedelta(minutes=15), org=a.ror
    )
    ctx.check(too_long.result == "FAILED", "a window of 48 h 15 min is refused", answer=too_long)
    ctx.check(
        "48" in _reason(too_long),
        "the error says the window is limited to 48 hours",
        reason=_reason(too_long),
    )
    early = _read(
        ctx,
        a.esiid,
        last_vee_end - timedelta(hours=1),
        last_vee_end + timedelta(hours=12),
        org=a.ror,
    )
    ctx.check(
        early.result == "FAILED",
        "a window starting before the end of the last VEE posting is refused",
        answer=early,
    )
    ctx.check(
        _hes_reads(ctx) == before,
        "nothing was read from the head-end for the refused windows",
        reads=_hes_reads(ctx) - before,
    )
    ok = _read(ctx, a.esiid, last_vee_end, last_vee_end + HOURS_48, org=a.ror)
    ctx.check(ok.result == "OK", "exactly 48 hours from the last VEE end is accepted", answer=ok)
    default = _read(ctx, b.esiid, org=b.ror, vee_end=last_vee_end)
    ctx.check(
        default.result == "OK",
        "a request without a window gets the window starting at the last VEE end",
        answer=default,
    )
    stamps = sorted(el.findtext("{*}timeStamp") for el in _interval_readings(default))
    ctx.check(bool(stamps), "the default window returned readings", count=len(stamps))
    first = datetime.fromisoformat(stamps[0].replace("Z", "+00:00"))
    ctx.check(
        first == last_vee_end + timedelta(minutes=15),
        "the first interval is the one right after the last VEE end",
        first=stamps[0],
        last_vee_end=last_vee_end.isoformat(),
    )


@scenario(
    "ODR-3", suite=SUITE, title="Read from the head-end, returned marked non-VEE", needs=NEEDS
)
def odr_3_readings_marked_non_vee(ctx: Context) -> None:
    """The adapter (SMT role) obtains the data from the TDSP's head-end, returns it to the ROR,
    and marks the readings as not validated (non-VEE) with reading qualities."""
    (m,) = _meters(ctx, 1)
    _post_vee(ctx, _today(ctx) - timedelta(days=1), m.esiid)
    before = _hes_reads(ctx)
    answer = _read(ctx, m.esiid, org=m.ror, vee_end=_midnight(ctx, _today(ctx)))
    ctx.check(answer.result == "OK", "the read is answered OK", answer=answer)
    ctx.check(
        _hes_reads(ctx) == before + 1,
        "the target asked the head-end (one get MeterReadings reached HES)",
        reads=_hes_reads(ctx) - before,
    )
    readings = _interval_readings(answer)
    ctx.check(bool(readings), "interval readings were returned", count=len(readings))
    qualities = {
        q.get("ref")
        for r in readings
        for q in r.iter()
        if isinstance(q.tag, str) and q.tag.endswith("}ReadingQualityType")
    }
    ctx.check(
        qualities == {NON_VEE},
        f"every interval reading carries reading quality {NON_VEE} (not validated) and nothing else",
        qualities=sorted(qualities),
    )
    unmarked = [
        r
        for r in readings
        if not any(
            isinstance(q.tag, str) and q.tag.endswith("}ReadingQualityType") for q in r.iter()
        )
    ]
    ctx.check(
        not unmarked, "no interval reading is without a reading quality", unmarked=len(unmarked)
    )


@scenario("ODR-4", suite=SUITE, title="Only the ROR of record may ask", needs=NEEDS)
def odr_4_only_ror_of_record(ctx: Context) -> None:
    """Only the ROR of record for that ESIID may ask; others get a FAILED reply and nothing is
    read."""
    (m,) = _meters(ctx, 1)
    _post_vee(ctx, _today(ctx) - timedelta(days=1), m.esiid)
    other = next(o.id for o in ctx.profile.organizations_with("ROR") if o.id != m.ror)
    before = _hes_reads(ctx)
    answer = _read(ctx, m.esiid, org=other)
    ctx.check(
        answer.result == "FAILED", f"{other} (not the ROR of record) is refused", answer=answer
    )
    ctx.check(
        (_code(answer) or "").startswith("3."),
        "the refusal is an authorisation error (3.x)",
        code=_code(answer),
    )
    ctx.check(
        _hes_reads(ctx) == before,
        "nothing was read from the head-end",
        reads=_hes_reads(ctx) - before,
    )
    reason = _reason(answer)
    ctx.check(
        m.meter not in reason and m.ror not in reason,
        "the refusal reveals nothing about the meter or its ROR",
        reason=reason,
    )
    ok = _read(ctx, m.esiid, org=m.ror, vee_end=_midnight(ctx, _today(ctx)))
    ctx.check(ok.result == "OK", "the ROR of record is answered", answer=ok)


@scenario("ODR-5", suite=SUITE, title="Throttle: 1 read and 1 ping per ESIID per day", needs=NEEDS)
def odr_5_daily_throttle(ctx: Context) -> None:
    """Throttle (functional rule CR016.1): at most 1 successful meter read request and 1
    successful power status (ping) request per ESIID per day, as a configurable policy; the next
    is refused with a clear error."""
    a, b = _meters(ctx, 2)
    _post_vee(ctx, _today(ctx) - timedelta(days=1), a.esiid, b.esiid)
    refused = _read(ctx, a.esiid, _midnight(ctx, _today(ctx)) - timedelta(hours=2), None, org=a.ror)
    ctx.check(refused.result == "FAILED", "a refused request (bad window) ...", answer=refused)
    vee_end = _midnight(ctx, _today(ctx))
    first = _read(ctx, a.esiid, org=a.ror, vee_end=vee_end)
    ctx.check(
        first.result == "OK",
        "... does not count: the first successful read of the day is answered",
        answer=first,
    )
    second = _read(ctx, a.esiid, org=a.ror, vee_end=vee_end)
    ctx.check(second.result == "FAILED", "the second read of the day is refused", answer=second)
    ctx.check(
        "per day" in _reason(second) or "limit" in _reason(second).lower(),
        "the error names the daily limit",
        reason=_reason(second),
    )
    other = _read(ctx, b.esiid, org=b.ror, vee_end=vee_end)
    ctx.check(other.result == "OK", "another ESIID is not affected", answer=other)
    ping1 = _ping(ctx, a.esiid, org=a.ror)
    ctx.check(
        ping1.result == "OK", "the first power-status ping of the day is answered", answer=ping1
    )
    ping2 = _ping(ctx, a.esiid, org=a.ror)
    ctx.check(ping2.result == "FAILED", "the second ping of the day is refused", answer=ping2)
    if not ctx.can_move_clock:
        ctx.note("the target's clock cannot be moved: the next-day check was not run")
        return
    tomorrow = _midnight(ctx, _today(ctx) + timedelta(days=1)) + timedelta(hours=8)
    ctx.clock.advance(tomorrow - ctx.now())
    again = _read(ctx, a.esiid, org=a.ror, vee_end=vee_end)
    ctx.check(
        again.result == "OK",
        "the next day the ESIID may be read again",
        answer=again,
        now=ctx.now().isoformat(),
    )
    ping3 = _ping(ctx, a.esiid, org=a.ror)
    ctx.check(ping3.result == "OK", "and pinged again", answer=ping3)


@scenario("ODR-6", suite=SUITE, title="Only installed, provisioned AMS meters", needs=NEEDS)
def odr_6_ams_meter_provisioned(ctx: Context) -> None:
    """The meter must be an AMS meter installed and provisioned (known ESIID with 15-minute
    interval and daily read capability); otherwise a clear error."""
    ror = ctx.profile.organizations_with("ROR")[0].id
    before = _hes_reads(ctx)
    unknown = _read_unlisted(ctx, "10443720000099999", org=ror)
    ctx.check(
        unknown.result == "FAILED" and _code(unknown) == "2.12",
        "an unknown ESIID is refused as unknown (2.12)",
        answer=unknown,
    )
    ctx.check(
        "10443720000099999" in _reason(unknown),
        "the error names the ESIID",
        reason=_reason(unknown),
    )
    not_prov = [m for m in ctx.profile.meters if m.ams and not m.provisioned]
    legacy = [m for m in ctx.profile.meters if not m.ams]
    ctx.check(
        bool(not_prov and legacy), "the profile has a non-provisioned AMS meter and a legacy meter"
    )
    np_answer = _read(ctx, not_prov[0].esiid, org=not_prov[0].ror)
    ctx.check(
        np_answer.result == "FAILED",
        "an AMS meter not yet provisioned is refused",
        answer=np_answer,
    )
    ctx.check(
        "provision" in _reason(np_answer).lower(),
        "the error says it is not provisioned",
        reason=_reason(np_answer),
    )
    lg_answer = _read(ctx, legacy[0].esiid, org=legacy[0].ror)
    ctx.check(lg_answer.result == "FAILED", "a non-AMS meter is refused", answer=lg_answer)
    ctx.check(
        "AMS" in _reason(lg_answer) or "interval" in _reason(lg_answer),
        "the error says it is not an AMS / interval meter",
        reason=_reason(lg_answer),
    )
    ctx.check(
        _hes_reads(ctx) == before,
        "nothing was read from the head-end",
        reads=_hes_reads(ctx) - before,
    )


@scenario("ODR-7", suite=SUITE, title="The daily VEE posting moves the window", needs=NEEDS)
def odr_7_vee_posting_moves_window(ctx: Context) -> None:
    """The daily VEE posting (TDSP -> SMT, LSE data) is itself an exchange (created
    MeterReadings) that updates what "last VEE" means for ODR-2."""
    (m,) = _meters(ctx, 1)
    d3 = _today(ctx) - timedelta(days=3)
    posting = _post_vee(ctx, d3, m.esiid)
    posted = [
        (e.verb, e.noun)
        for e in ctx.sim("mdms").journal
        if e.direction == "out" and e.message_id in posting.messages
    ]
    ctx.check(
        posted == [("created", "MeterReadings")] * len(posting.messages),
        "the VEE posting went to the target as created MeterReadings",
        sent=posted,
    )
    after_d3 = _midnight(ctx, d3 + timedelta(days=1))
    probe = _read(
        ctx, m.esiid, after_d3 - timedelta(hours=6), after_d3 + timedelta(hours=6), org=m.ror
    )
    ctx.check(
        probe.result == "FAILED",
        "a window starting before the posted VEE end is refused",
        answer=probe,
    )
    d2 = d3 + timedelta(days=1)
    _post_vee(ctx, d2, m.esiid)
    after_d2 = _midnight(ctx, d2 + timedelta(days=1))
    stale = _read(ctx, m.esiid, after_d3, after_d3 + timedelta(hours=12), org=m.ror)
    ctx.check(
        stale.result == "FAILED",
        "after the next posting, the old window start is refused: the window moved",
        answer=stale,
    )
    fresh = _read(ctx, m.esiid, after_d2, after_d2 + timedelta(hours=24), org=m.ror)
    ctx.check(
        fresh.result == "OK", "a window starting at the new last VEE end is answered", answer=fresh
    )
