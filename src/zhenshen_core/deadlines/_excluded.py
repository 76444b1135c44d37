"""The days a computed period did not count, and why, for the people who read a deadline.

Computing the due day is O(1) index arithmetic and stays so; this listing is separate and only
runs when asked for (``zhenshen deadline`` asks). It walks the calendar's flags, so it is
bounded: at most ``limit`` days are listed, while :func:`uncounted_total` still counts every one
in time proportional to the number of excluded intervals.

Which days are listed, per stretch of the computation (the period, then each extension):

* working days and working hours: every day in the stretch that is not a working day (weekend,
  holiday, estimated holiday) or lies in excluded time, so for a working-day period the days
  from start to due are exactly n plus the days listed;
* calendar days, months and years: rest days inside the period count (Civil Code art. 203), so
  only the excluded-time days and the roll-forward days are listed: the rest days from the
  nominal end up to the day before the due day;
* hours: only excluded-time days (continuous hours run through rest days).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice
from typing import Any, NamedTuple

from zhenshen_core.deadlines._calendar import Calendar
from zhenshen_core.deadlines._periods import Period, PeriodUnit

EXCLUDED_LIMIT = 500
"""Days listed at most (about four years of working-day periods); the total is always given."""

EXCLUDED_TIME = "excluded-time"
_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class ExcludedDay:
    """A day inside a period that the period did not count.

    ``kind`` is ``weekend``, ``holiday`` (a rest day from a notice or a calendar layer),
    ``estimated-holiday`` (past the published data, provisional policy) or ``excluded-time``
    (inside an excluded interval: a paused clock, Administrative Licensing Law art. 45, which
    wins over the others); ``name`` and ``notice`` come from the calendar data.
    """

    day: date
    kind: str
    name: str = ""
    notice: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "kind": self.kind,
            "name": self.name or None,
            "notice": self.notice,
        }


class Leg(NamedTuple):
    """One counted stretch of a deadline: the period, or an extension counted on from the
    previous end. ``end`` is the nominal last day before any roll-forward. (A tuple: one is
    made per computed deadline, and a frozen dataclass would cost a microsecond more.)"""

    start_at: datetime
    start_day: date
    period: Period
    end: date
    due: date
    due_at: datetime


@dataclass(frozen=True, slots=True)
class _Span:
    lo: date
    hi: date
    rest_too: bool  # rest days are skipped here, not only excluded time


def _spans(legs: Sequence[Leg]) -> Iterator[_Span]:
    """Disjoint, ordered day ranges where uncounted days can lie."""
    cursor: date | None = None
    for leg in legs:
        unit = leg.period.unit
        if unit is PeriodUnit.WORKING_DAY:
            raw = [_Span(leg.start_day + _DAY, leg.due, True)]
        elif unit is PeriodUnit.WORKING_HOUR:
            raw = [_Span(leg.start_at.date(), leg.due_at.date(), True)]
        elif unit is PeriodUnit.HOUR:
            raw = [_Span(leg.start_at.date(), (leg.due_at - _TICK).date(), False)]
        else:
            raw = [
                _Span(leg.start_day + _DAY, leg.end - _DAY, False),
                _Span(leg.end, leg.due - _DAY, True),
            ]
        for span in raw:
            lo = span.lo if cursor is None else max(span.lo, cursor)
            if lo > span.hi:
                continue
            yield _Span(lo, span.hi, span.rest_too)
            cursor = span.hi + _DAY


def _overlaps(
    lo: date, hi: date, intervals: Sequence[tuple[date, date]]
) -> Iterator[tuple[date, date]]:
    for a, b in intervals:
        if b < lo:
            continue
        if a > hi:
            return
        yield max(a, lo), min(b, hi)


def _working_in(cal: Calendar, lo: date, hi: date) -> int:
    """Working days in [lo, hi]."""
    return int(cal.is_working_day(lo)) + cal.working_days_between(lo, hi)


def uncounted_total(
    cal: Calendar, legs: Sequence[Leg], intervals: Sequence[tuple[date, date]]
) -> int:
    """How many days the period did not count: O(legs × intervals), no walk over days."""
    total = 0
    for span in _spans(legs):
        parts = list(_overlaps(span.lo, span.hi, intervals))
        paused = sum((b - a).days + 1 for a, b in parts)
        total += paused
        if span.rest_too:
            rest = (span.hi - span.lo).days + 1 - _working_in(cal, span.lo, span.hi)
            rest -= sum((b - a).days + 1 - _working_in(cal, a, b) for a, b in parts)
            total += rest
    return total


def _days(a: date, b: date) -> Iterator[date]:
    while a <= b:
        yield a
        a += _DAY


def _uncounted(
    cal: Calendar, legs: Sequence[Leg], intervals: Sequence[tuple[date, date]]
) -> Iterator[ExcludedDay]:
    for span in _spans(legs):
        cur = span.lo
        for a, b in _overlaps(span.lo, span.hi, intervals):
            if span.rest_too and cur < a:
                yield from (_label(cal, d) for d in cal.rest_days(cur, a - _DAY))
            yield from (ExcludedDay(d, EXCLUDED_TIME) for d in _days(a, b))
            cur = b + _DAY
        if span.rest_too and cur <= span.hi:
            yield from (_label(cal, d) for d in cal.rest_days(cur, span.hi))


def _label(cal: Calendar, d: date) -> ExcludedDay:
    info = cal.day_info(d)
    return ExcludedDay(d, info.kind, info.name, info.notice)


def uncounted_days(
    cal: Calendar,
    legs: Sequence[Leg],
    intervals: Sequence[tuple[date, date]],
    limit: int | None = EXCLUDED_LIMIT,
) -> tuple[ExcludedDay, ...]:
    """The first ``limit`` uncounted days in date order (all of them with ``limit=None``)."""
    return tuple(islice(_uncounted(cal, legs, intervals), limit))


__all__ = [
    "EXCLUDED_LIMIT",
    "EXCLUDED_TIME",
    "ExcludedDay",
    "Leg",
    "uncounted_days",
    "uncounted_total",
]
