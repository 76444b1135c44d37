"""Deadline clocks: pure functions over the stored :class:`~zhenshen_core.model.clock.Clock`.

A clock is plain data kept with its case; every change returns a new record with ``due_at`` and
``next_alert_at`` recomputed, so storage can find clocks needing attention with one indexed
``next_alert_at <= now`` query instead of evaluating every case in Python.

Excluded time: for day-based periods a pause from day P to day R excludes the days P+1..R (the
pause day has been running, and counting restarts the day after the resume, as a start day is
not counted); for hour-based periods the exact paused instants are excluded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from zhenshen_core.deadlines._calendar import Calendar
from zhenshen_core.deadlines._compute import (
    DEFAULT_OFFICE_HOURS,
    add_working_seconds,
    compute_due,
    merge_intervals,
    to_shanghai,
    working_seconds_between,
)
from zhenshen_core.deadlines._errors import DeadlineError
from zhenshen_core.deadlines._periods import Period, PeriodUnit, parse_period
from zhenshen_core.model.clock import Clock, ClockExtension, ClockPause

BREACH = "breach"
_DAY = timedelta(days=1)


class ClockStateError(DeadlineError):
    """An operation that does not fit the clock's state (resume a running clock, ...)."""


@dataclass(frozen=True, slots=True)
class ClockStatus:
    """A clock as seen at one instant."""

    due_at: datetime
    elapsed_fraction: float
    thresholds_crossed: tuple[float, ...]
    breached: bool
    paused: bool
    stopped: bool = False
    provisional: bool = False


def threshold_key(t: float) -> str:
    """The label stored in ``Clock.notified`` for a threshold ("0.5", "0.75")."""
    return f"{t:g}"


def _check_thresholds(thresholds: Sequence[float]) -> list[float]:
    out = sorted(float(t) for t in thresholds)
    for t in out:
        if not 0.0 < t < 1.0:
            raise DeadlineError(f"a warning threshold is a fraction between 0 and 1, not {t}")
    return out


def _excluded_dates(clock: Clock) -> list[tuple[date, date]]:
    out = []
    for p in clock.pauses:
        if p.end is None:
            continue
        first, last = to_shanghai(p.start).date() + _DAY, to_shanghai(p.end).date()
        if last >= first:
            out.append((first, last))
    return list(merge_intervals(out))


def _closed_pauses(clock: Clock) -> list[tuple[datetime, datetime]]:
    return sorted(
        (to_shanghai(p.start), to_shanghai(p.end)) for p in clock.pauses if p.end is not None
    )


def _due(calendar: Calendar, clock: Clock) -> tuple[datetime, bool]:
    period = parse_period(clock.period)
    exts = [parse_period(e.period) for e in clock.extensions]
    start = to_shanghai(clock.started_at)
    if period.unit.day_based:
        r = compute_due(calendar, start, period, excluded=_excluded_dates(clock), extensions=exts)
        return r.due_at, r.provisional
    # Hour-based: run the budget around the paused instants.
    measure: Callable[[datetime, datetime], int]
    advance: Callable[[datetime, int], datetime]
    if period.unit is PeriodUnit.HOUR:

        def measure(a: datetime, b: datetime) -> int:
            return max(0, int((b - a).total_seconds()))

        def advance(a: datetime, s: int) -> datetime:
            return a + timedelta(seconds=s)
    else:

        def measure(a: datetime, b: datetime) -> int:
            return working_seconds_between(calendar, a, b, DEFAULT_OFFICE_HOURS)

        def advance(a: datetime, s: int) -> datetime:
            return add_working_seconds(calendar, a, s, (), DEFAULT_OFFICE_HOURS)

    cur, remaining = start, period.amount * 3600
    for p_start, p_end in _closed_pauses(clock):
        if p_end <= cur:
            continue
        used = measure(cur, p_start)
        if used >= remaining:
            break
        remaining -= used
        cur = max(cur, p_end)
    due_at = advance(cur, remaining)
    if exts:
        r = compute_due(calendar, due_at, exts[0], extensions=exts[1:])
        return r.due_at, r.provisional
    return due_at, calendar.is_provisional(due_at.date())


def _measure_fn(calendar: Calendar, clock: Clock) -> Callable[[datetime], float]:
    """Clock time used from the start to an instant: working time or wall time by unit."""
    period = parse_period(clock.period)
    start = to_shanghai(clock.started_at)
    if period.unit.day_based:
        start_day = start.date()
        excluded = _excluded_dates(clock)
        working = period.unit is PeriodUnit.WORKING_DAY

        def counted(a: date, b: date) -> int:  # counted days in (a, b]
            if b <= a:
                return 0
            n = calendar.working_days_between(a, b) if working else (b - a).days
            for x, y in excluded:
                lo, hi = max(x - _DAY, a), min(y, b)
                if hi > lo:
                    n -= calendar.working_days_between(lo, hi) if working else (hi - lo).days
            return n

        def day_counts(d: date) -> bool:
            if any(x <= d <= y for x, y in excluded):
                return False
            return calendar.is_working_day(d) if working else True

        def measure(t: datetime) -> float:
            t = to_shanghai(t)
            d = t.date()
            if d <= start_day:
                return 0.0
            whole = counted(start_day, d - _DAY) * 86400.0
            if day_counts(d):
                whole += t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6
            return whole

        return measure

    pauses = _closed_pauses(clock)
    if period.unit is PeriodUnit.HOUR:

        def span(a: datetime, b: datetime) -> float:
            return max(0.0, (b - a).total_seconds())
    else:

        def span(a: datetime, b: datetime) -> float:
            return float(working_seconds_between(calendar, a, b, DEFAULT_OFFICE_HOURS))

    def measure_hours(t: datetime) -> float:
        t = to_shanghai(t)
        if t <= start:
            return 0.0
        total = span(start, t)
        for p_start, p_end in pauses:
            if p_start < t:
                total -= span(max(p_start, start), min(p_end, t))
        return total

    return measure_hours


def _effective_now(clock: Clock, now: datetime) -> datetime:
    now = to_shanghai(now)
    if clock.stopped_at is not None:
        now = min(now, to_shanghai(clock.stopped_at))
    if clock.paused:
        now = min(now, to_shanghai(clock.pauses[-1].start))
    return now


def clock_status(calendar: Calendar, clock: Clock, now: datetime) -> ClockStatus:
    """Due instant, elapsed fraction (working time for working units), crossings, breach."""
    due_at = to_shanghai(clock.due_at)
    measure = _measure_fn(calendar, clock)
    at = _effective_now(clock, now)
    total = measure(due_at)
    used = measure(at)
    fraction = used / total if total > 0 else (1.0 if at >= due_at else 0.0)
    crossed = tuple(t for t in _check_thresholds(clock.thresholds) if fraction >= t)
    return ClockStatus(
        due_at=due_at,
        elapsed_fraction=fraction,
        thresholds_crossed=crossed,
        breached=at > due_at,
        paused=clock.paused,
        stopped=clock.stopped_at is not None,
        provisional=clock.provisional,
    )


def _instant_for_fraction(
    measure: Callable[[datetime], float],
    start: datetime,
    due_at: datetime,
    fraction: float,
    nth_day: Callable[[int], date] | None = None,
) -> datetime:
    """First second at which the clock has used ``fraction`` of its budget.

    With ``nth_day`` (the n-th counted day after the start day, for a day-based clock without
    excluded time) the instant is worked out from the calendar and checked against ``measure``
    at that second and the one before; otherwise, or if the check fails, it is found by
    bisection. Both give the same second: the smallest whose measure reaches the target.
    """
    target = measure(due_at) * fraction
    hi = max(0, int((due_at - start).total_seconds()))

    def reached(s: int) -> bool:
        return measure(start + timedelta(seconds=s)) >= target

    if nth_day is not None and target > 0:
        whole, rest = divmod(target, 86400.0)
        k = int(whole)
        if rest > 0:
            instant = datetime.combine(nth_day(k + 1), time(0), start.tzinfo) + timedelta(
                seconds=rest
            )
        else:
            instant = datetime.combine(nth_day(k) + _DAY, time(0), start.tzinfo)
        delta = instant - start
        guess = delta.days * 86400 + delta.seconds + (1 if delta.microseconds else 0)
        for s in (guess, guess + 1, guess - 1):
            if 0 <= s <= hi and reached(s) and (s == 0 or not reached(s - 1)):
                return start + timedelta(seconds=s)
    lo = 0
    while lo < hi:
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid + 1
    return start + timedelta(seconds=lo)


def _nth_counted_day(calendar: Calendar, clock: Clock) -> Callable[[int], date] | None:
    """For the closed-form threshold instant: day-based clocks that never paused."""
    period = parse_period(clock.period)
    if not period.unit.day_based or clock.pauses:
        return None
    start_day = to_shanghai(clock.started_at).date()
    if period.unit is PeriodUnit.WORKING_DAY:
        return lambda n: calendar.add_working_days(start_day, n)
    return lambda n: start_day + timedelta(days=n)


def recompute_next_alert(calendar: Calendar, clock: Clock) -> Clock:
    """Set ``next_alert_at`` to the next un-notified threshold instant, or the breach instant.

    None when the clock is stopped or paused: a paused clock cannot cross anything, and the
    resume recomputes it.
    """
    if clock.stopped_at is not None or clock.paused:
        return clock.model_copy(update={"next_alert_at": None})
    start, due_at = to_shanghai(clock.started_at), to_shanghai(clock.due_at)
    measure = _measure_fn(calendar, clock)
    for t in _check_thresholds(clock.thresholds):
        if threshold_key(t) not in clock.notified:
            at = _instant_for_fraction(measure, start, due_at, t, _nth_counted_day(calendar, clock))
            return clock.model_copy(update={"next_alert_at": at})
    nxt = None if BREACH in clock.notified else due_at
    return clock.model_copy(update={"next_alert_at": nxt})


def _refresh(calendar: Calendar, clock: Clock) -> Clock:
    due_at, provisional = _due(calendar, clock)
    clock = clock.model_copy(
        update={
            "due_at": due_at,
            "provisional": provisional,
            "calendar_version": calendar.version,
        }
    )
    return recompute_next_alert(calendar, clock)


def start_clock(
    calendar: Calendar,
    name: str,
    period: Period | str,
    at: datetime,
    thresholds: Sequence[float] = (0.5, 0.75),
) -> Clock:
    """A running clock started by an event at ``at``."""
    p = parse_period(period)
    clock = Clock(
        name=name,
        period=str(p),
        started_at=to_shanghai(at),
        due_at=to_shanghai(at),
        thresholds=_check_thresholds(thresholds),
    )
    return _refresh(calendar, clock)


def pause_clock(calendar: Calendar, clock: Clock, at: datetime, reason: str = "") -> Clock:
    """Start excluded time (expert review, hearing, waiting for the applicant)."""
    if clock.stopped_at is not None:
        raise ClockStateError(f"clock {clock.name!r} is stopped; it cannot be paused")
    if clock.paused:
        raise ClockStateError(f"clock {clock.name!r} is already paused")
    pauses = [*clock.pauses, ClockPause(start=to_shanghai(at), reason=reason)]
    return recompute_next_alert(calendar, clock.model_copy(update={"pauses": pauses}))


def resume_clock(calendar: Calendar, clock: Clock, at: datetime) -> Clock:
    """End the open pause; the due instant moves by the excluded time."""
    if not clock.paused:
        raise ClockStateError(f"clock {clock.name!r} is not paused")
    last = clock.pauses[-1]
    end = to_shanghai(at)
    if end < to_shanghai(last.start):
        raise ClockStateError("a pause cannot end before it starts")
    pauses = [*clock.pauses[:-1], last.model_copy(update={"end": end})]
    return _refresh(calendar, clock.model_copy(update={"pauses": pauses}))


def extend_clock(
    calendar: Calendar,
    clock: Clock,
    period: Period | str,
    *,
    approver: str,
    reason: str,
    at: datetime,
    cap: Period | str | None = None,
) -> Clock:
    """Add an approved extension counted on from the original end, in its own unit.

    ``cap`` is the most the law allows in total (e.g. Administrative Licensing Law art. 42: a
    20-working-day decision may be extended by at most 10 working days): the sum of all
    extensions in the cap's unit may not exceed it, and an extension in another unit cannot be
    checked against it, so it is refused.
    """
    if not approver.strip():
        raise ClockStateError("an extension needs the approver's name")
    if clock.stopped_at is not None:
        raise ClockStateError(f"clock {clock.name!r} is stopped; it cannot be extended")
    wanted = parse_period(period)
    if cap is not None:
        limit = parse_period(cap)
        granted = [parse_period(e.period) for e in clock.extensions]
        if any(p.unit != limit.unit for p in [*granted, wanted]):
            raise ClockStateError(
                f"extensions of clock {clock.name!r} must be in {limit.unit.value} units to be "
                f"checked against the cap of {limit}"
            )
        total = sum(p.amount for p in granted) + wanted.amount
        if total > limit.amount:
            raise ClockStateError(
                f"extending clock {clock.name!r} by {wanted} would make {total} in all, more than "
                f"the cap of {limit}"
            )
    ext = ClockExtension(period=str(wanted), approver=approver, reason=reason, at=to_shanghai(at))
    updated = clock.model_copy(update={"extensions": [*clock.extensions, ext]})
    return _refresh(calendar, updated)


def recompute_clock(calendar: Calendar, clock: Clock) -> Clock:
    """The same clock computed again on ``calendar`` (newer notice data, a district layer).

    Start, pauses, extensions and the alerts already raised are kept; ``due_at``,
    ``provisional``, ``calendar_version`` and ``next_alert_at`` follow the calendar. A stopped
    clock keeps its stop and gets no next alert.
    """
    return _refresh(calendar, clock)


def change_period(calendar: Calendar, clock: Clock, period: Period | str) -> Clock:
    """The clock with another period, counted from its original start (a new decision).

    Pauses, extensions and the alerts already raised are kept: an alert is never sent twice,
    and a shorter period may make the next sweep raise the later ones at once.
    """
    updated = clock.model_copy(update={"period": str(parse_period(period))})
    return _refresh(calendar, updated)


def stop_clock(calendar: Calendar, clock: Clock, at: datetime) -> Clock:
    """Stop the clock (the act was done); an open pause ends at the same instant."""
    del calendar
    if clock.stopped_at is not None:
        raise ClockStateError(f"clock {clock.name!r} is already stopped")
    at = to_shanghai(at)
    pauses = list(clock.pauses)
    if clock.paused:
        pauses[-1] = pauses[-1].model_copy(update={"end": at})
    return clock.model_copy(update={"stopped_at": at, "pauses": pauses, "next_alert_at": None})


def acknowledge_alerts(calendar: Calendar, clock: Clock, now: datetime) -> tuple[Clock, list[str]]:
    """For a sweep: the alert due by ``now``, recorded so that it is raised once.

    Returns the updated clock (``notified`` extended, ``next_alert_at`` recomputed) and the
    label to raise: only the highest threshold crossed since the last sweep, or "breach". A
    clock found long overdue gets one 督办 notice, not a 50 % and a 75 % reminder beside it:
    the lower thresholds crossed at the same time are recorded in ``notified`` as done, without
    an alert of their own. The list is empty when nothing new was crossed.
    """
    status = clock_status(calendar, clock, now)
    new = [threshold_key(t) for t in status.thresholds_crossed]
    if status.breached:
        new.append(BREACH)
    new = [k for k in new if k not in clock.notified]
    if not new:
        return recompute_next_alert(calendar, clock), []
    updated = clock.model_copy(update={"notified": [*clock.notified, *new]})
    return recompute_next_alert(calendar, updated), new[-1:]


__all__ = [
    "BREACH",
    "ClockStateError",
    "ClockStatus",
    "acknowledge_alerts",
    "change_period",
    "clock_status",
    "extend_clock",
    "pause_clock",
    "recompute_clock",
    "recompute_next_alert",
    "resume_clock",
    "start_clock",
    "stop_clock",
    "threshold_key",
]
