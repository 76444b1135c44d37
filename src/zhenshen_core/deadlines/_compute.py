"""Legal period arithmetic: from a start, a period, excluded time and extensions to a due instant.

The rules (Civil Code arts. 200-204; Administrative Licensing Law arts. 42, 45, 82) are spelled
out in docs/explanation/deadlines-and-calendars.md; each helper below implements one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from zhenshen_core.deadlines._calendar import Calendar, DayInfo
from zhenshen_core.deadlines._errors import CalendarRangeError, DeadlineError
from zhenshen_core.deadlines._excluded import (
    EXCLUDED_LIMIT,
    ExcludedDay,
    Leg,
    uncounted_days,
    uncounted_total,
)
from zhenshen_core.deadlines._periods import Period, PeriodUnit, parse_period


def _shanghai() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Shanghai")
    except Exception:  # no tz database: China has had no DST since 1991, a fixed +08:00 is exact
        return timezone(timedelta(hours=8), "Asia/Shanghai")


SHANGHAI = _shanghai()
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """Opening intervals of a working day, as seconds after midnight, sorted and disjoint."""

    intervals: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        prev = -1
        if not self.intervals:
            raise DeadlineError("office hours need at least one interval")
        for start, end in self.intervals:
            if not 0 <= start < end <= 86400 or start < prev:
                raise DeadlineError(f"office hours must be increasing and disjoint: {self}")
            prev = end

    @property
    def seconds_per_day(self) -> int:
        return sum(e - s for s, e in self.intervals)

    @property
    def close(self) -> int:
        return self.intervals[-1][1]

    def seconds_after(self, t: int) -> int:
        """Office time left in the day from second ``t``."""
        return sum(e - max(s, t) for s, e in self.intervals if e > t)

    def instant_after(self, t: int, amount: int) -> int:
        """Second of the day when ``amount`` office seconds have passed since ``t`` (amount > 0)."""
        for s, e in self.intervals:
            if e <= t:
                continue
            begin = max(s, t)
            if e - begin >= amount:
                return begin + amount
            amount -= e - begin
        raise DeadlineError("internal: office time exhausted within a day")

    def __str__(self) -> str:
        def hm(s: int) -> str:
            return f"{s // 3600:02d}:{s % 3600 // 60:02d}"

        return ",".join(f"{hm(s)}-{hm(e)}" for s, e in self.intervals)


_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_office_hours(text: str | OfficeHours) -> OfficeHours:
    """Read ``09:00-12:00,13:00-17:00``."""
    if isinstance(text, OfficeHours):
        return text
    out = []
    for part in text.split(","):
        m = _HOURS_RE.match(part)
        if not m:
            raise DeadlineError(
                f"cannot read office hours {text!r}; expected e.g. '09:00-12:00,13:00-17:00'"
            )
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise DeadlineError(f"not a time of day in office hours {text!r}")
        out.append((h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60))
    return OfficeHours(tuple(out))


DEFAULT_OFFICE_HOURS = parse_office_hours("09:00-12:00,13:00-17:00")


@dataclass(frozen=True, slots=True)
class CalendarInfo:
    """Which calendar a deadline was computed on, so it can be recomputed when data changes."""

    name: str
    version: str
    known_until: date
    policy: str

    @classmethod
    def of(cls, calendar: Calendar) -> CalendarInfo:
        return cls(calendar.name, calendar.version, calendar.known_until, calendar.policy.value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "known_until": self.known_until.isoformat(),
            "policy": self.policy,
        }


@dataclass(frozen=True, slots=True)
class DueResult:
    """A computed deadline: the last day, the end instant, and what it was computed from.

    ``excluded`` is the excluded time it was given (merged intervals); the days the period
    skipped (rest days, excluded time, the roll-forward) are listed by :meth:`excluded_days`,
    which is computed only when asked, so computing a due date stays O(1).
    """

    start: datetime
    period: Period
    due: date
    due_at: datetime
    provisional: bool
    calendar: CalendarInfo
    excluded: tuple[tuple[date, date], ...] = ()
    extensions: tuple[Period, ...] = ()
    office_hours: OfficeHours | None = None
    start_is_date: bool = field(default=False, compare=False)
    _source: Calendar | None = field(default=None, compare=False, repr=False)
    _legs: tuple[Leg, ...] = field(default=(), compare=False, repr=False)

    def excluded_days(self, limit: int | None = EXCLUDED_LIMIT) -> tuple[ExcludedDay, ...]:
        """The days inside the period it did not count, in date order, at most ``limit``.

        Working-day periods: every rest day and excluded-time day between start and due, so
        ``(due - start).days == n + len(excluded_days(None))``. Calendar-day, month and year
        periods: excluded-time days and the rest days the end rolled forward over.
        """
        if self._source is None:
            return ()
        return uncounted_days(self._source, self._legs, self.excluded, limit)

    def excluded_total(self) -> int:
        """How many days :meth:`excluded_days` would list without a limit (no walk over days)."""
        if self._source is None:
            return 0
        return uncounted_total(self._source, self._legs, self.excluded)

    def due_day(self) -> DayInfo | None:
        """What the due day is on the calendar (a make-up working day 调休 names its holiday);
        None when an hour period ends beyond the calendar's data."""
        if self._source is None:
            return None
        try:
            return self._source.day_info(self.due)
        except CalendarRangeError:
            return None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of ``zhenshen deadline --format json``."""
        info = self.due_day()
        return {
            "start": self.start.date().isoformat()
            if self.start_is_date
            else self.start.isoformat(),
            "period": str(self.period),
            "due": self.due.isoformat(),
            "due_at": self.due_at.isoformat(),
            "due_day": None
            if info is None
            else {
                "weekday": self.due.strftime("%A"),
                "working": info.working,
                "kind": info.kind,
                "name": info.name or None,
                "notice": info.notice,
            },
            "provisional": self.provisional,
            "calendar": self.calendar.as_dict(),
            "excluded": [d.as_dict() for d in self.excluded_days()],
            "excluded_total": self.excluded_total(),
            "excluded_time": [[a.isoformat(), b.isoformat()] for a, b in self.excluded],
            "extensions": [str(p) for p in self.extensions],
            "office_hours": str(self.office_hours) if self.office_hours else None,
        }


def to_shanghai(value: datetime | date) -> datetime:
    """An aware Asia/Shanghai instant; a date means its 00:00, a naive time is local time."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), SHANGHAI)
    if value.tzinfo is None:
        return value.replace(tzinfo=SHANGHAI)
    return value.astimezone(SHANGHAI)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), SHANGHAI)


def merge_intervals(excluded: Iterable[tuple[date, date]]) -> tuple[tuple[date, date], ...]:
    """Sort and merge inclusive date intervals; touching intervals merge too."""
    items = []
    for a, b in excluded:
        if b < a:
            raise DeadlineError(f"excluded interval ends before it starts: {a}..{b}")
        items.append((a, b))
    items.sort()
    out: list[tuple[date, date]] = []
    for a, b in items:
        if out and a <= out[-1][1] + _DAY:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return tuple(out)


def _excluded(d: date, intervals: Sequence[tuple[date, date]]) -> bool:
    return any(a <= d <= b for a, b in intervals)


def add_working_days_excluding(
    cal: Calendar, start: date, n: int, intervals: Sequence[tuple[date, date]]
) -> date:
    """n-th working day after ``start`` not inside an excluded interval (O(intervals))."""
    cur, remaining = start, n
    for a, b in intervals:
        if b <= cur:
            continue
        if a > cur:
            available = cal.working_days_between(cur, a - _DAY)
            if available >= remaining:
                return cal.add_working_days(cur, remaining)
            remaining -= available
        cur = b
    return cal.add_working_days(cur, remaining)


def _extend_over_excluded(start: date, end: date, intervals: Sequence[tuple[date, date]]) -> date:
    """Push a calendar-day end past every excluded day reached before it."""
    for a, b in intervals:
        if b <= start:
            continue
        if a > end:
            break
        end += timedelta(days=(b - max(a, start + _DAY)).days + 1)
    return end


def add_months(d: date, months: int) -> date:
    """Same day number ``months`` later, or that month's last day when there is none."""
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - _DAY).day
    return date(year, month, min(d.day, last))


def _end_of_day(d: date, office: OfficeHours | None) -> datetime:
    if office is None:
        return _midnight(d + _DAY)  # 24:00 of the last day
    return _midnight(d) + timedelta(seconds=office.close)


@contextmanager
def _within_dates(cal: Calendar, start_day: date, period: Period) -> Iterator[None]:
    """A period that ends past the last day Python can name ("9999999 years") is beyond every
    calendar: the same answer as any day past the calendar's data, not an internal error."""
    try:
        yield
    except (OverflowError, ValueError) as exc:
        # ValueError: month arithmetic, ``date(year, ...)`` past year 9999; any other is a bug.
        if isinstance(exc, ValueError) and "out of range" not in str(exc):
            raise
        raise CalendarRangeError(
            f"{period} after {start_day} ends past {date.max}, beyond the data of calendar "
            f"{cal.name!r} (the last known day is {cal.known_until})",
            day=date.max,
            first_known=cal.first_day,
            last_known=cal.known_until,
            missing_year=None,
        ) from None


def _apply(
    cal: Calendar,
    start_at: datetime,
    start_day: date,
    period: Period,
    intervals: Sequence[tuple[date, date]],
    office: OfficeHours | None,
) -> Leg:
    n, unit = period.amount, period.unit
    if unit is PeriodUnit.WORKING_DAY:
        due = add_working_days_excluding(cal, start_day, n, intervals)
        return Leg(start_at, start_day, period, due, due, _end_of_day(due, office))
    if unit in (PeriodUnit.DAY, PeriodUnit.MONTH, PeriodUnit.YEAR):
        if unit is PeriodUnit.DAY:
            end = start_day + timedelta(days=n)
        else:
            end = add_months(start_day, n if unit is PeriodUnit.MONTH else 12 * n)
        end = _extend_over_excluded(start_day, end, intervals)
        due = cal.next_working_day_on_or_after(end)
        return Leg(start_at, start_day, period, end, due, _end_of_day(due, office))
    if unit is PeriodUnit.HOUR:
        due_at = _add_wall_hours(start_at, n, intervals)
    else:
        office_hours = office or DEFAULT_OFFICE_HOURS
        due_at = add_working_seconds(cal, start_at, n * 3600, intervals, office_hours)
    return Leg(start_at, start_day, period, due_at.date(), due_at.date(), due_at)


def _add_wall_hours(
    start_at: datetime, hours: int, intervals: Sequence[tuple[date, date]]
) -> datetime:
    cur, remaining = start_at, timedelta(hours=hours)
    for a, b in intervals:
        lo, hi = _midnight(a), _midnight(b + _DAY)
        if hi <= cur:
            continue
        if lo > cur:
            if lo - cur >= remaining:
                return cur + remaining
            remaining -= lo - cur
        cur = max(cur, hi)
    return cur + remaining


def _seconds_of_day(t: datetime) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def add_working_seconds(
    cal: Calendar,
    start_at: datetime,
    seconds: int,
    intervals: Sequence[tuple[date, date]],
    office: OfficeHours,
) -> datetime:
    """The instant when ``seconds`` of office time on working days have passed since start."""
    remaining = seconds
    if remaining <= 0:
        return start_at
    start_at = to_shanghai(start_at)
    day = start_at.date()
    if cal.is_working_day(day) and not _excluded(day, intervals):
        t = _seconds_of_day(start_at)
        left = office.seconds_after(t)
        if left >= remaining:
            return _midnight(day) + timedelta(seconds=office.instant_after(t, remaining))
        remaining -= left
    per_day = office.seconds_per_day
    full_days, rest = divmod(remaining, per_day)
    if rest == 0:
        full_days, rest = full_days - 1, per_day
    last = add_working_days_excluding(cal, day, full_days + 1, intervals)
    return _midnight(last) + timedelta(seconds=office.instant_after(0, rest))


def working_seconds_between(cal: Calendar, a: datetime, b: datetime, office: OfficeHours) -> int:
    """Office seconds on working days in [a, b); used to measure working-hour clocks."""
    if b <= a:
        return 0
    a, b = to_shanghai(a), to_shanghai(b)
    da, db = a.date(), b.date()
    ta, tb = _seconds_of_day(a), _seconds_of_day(b)
    if da == db:
        if not cal.is_working_day(da):
            return 0
        return office.seconds_after(ta) - office.seconds_after(tb)
    total = office.seconds_after(ta) if cal.is_working_day(da) else 0
    full = cal.working_days_between(da, db - _DAY) if db - _DAY > da else 0
    total += full * office.seconds_per_day
    if cal.is_working_day(db):
        total += office.seconds_per_day - office.seconds_after(tb)
    return total


def compute_due(
    calendar: Calendar,
    start: datetime | date,
    period: Period | str,
    *,
    excluded: Iterable[tuple[date, date]] = (),
    extensions: Iterable[Period | str] = (),
    office_hours: OfficeHours | str | None = None,
) -> DueResult:
    """The due day and instant of a legal period started at ``start``.

    ``excluded`` are inclusive date intervals not counted (working days of them for working-day
    periods); ``extensions`` count on from the original end, each in its own unit.
    """
    p = parse_period(period)
    exts = tuple(parse_period(e) for e in extensions)
    office = parse_office_hours(office_hours) if office_hours is not None else None
    intervals = merge_intervals(excluded)
    start_at = to_shanghai(start)
    legs: list[Leg] = []
    at, day = start_at, start_at.date()
    for leg_period in (p, *exts):  # each extension counts on from the end before it
        with _within_dates(calendar, day, leg_period):
            legs.append(_apply(calendar, at, day, leg_period, intervals, office))
        at, day = legs[-1].due_at, legs[-1].due
    due, due_at = day, at
    provisional = calendar.is_provisional(max(due, due_at.date()))
    return DueResult(
        start=start_at,
        period=p,
        due=due,
        due_at=due_at,
        provisional=provisional,
        calendar=CalendarInfo.of(calendar),
        excluded=intervals,
        extensions=exts,
        office_hours=office,
        start_is_date=not isinstance(start, datetime),
        _source=calendar,
        _legs=tuple(legs),
    )
