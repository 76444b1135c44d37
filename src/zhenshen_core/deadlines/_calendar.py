"""Working-day calendars with an O(1) index.

Deadline arithmetic runs inside rule evaluation and storage sweeps over many cases, so each
query must be a few array lookups, not a day-by-day walk. Each calendar precomputes, over the
days it covers: a working flag per day, the running count of working days, and the position of
every working day. Adding n working days is then "position of (count at start + n)".
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache, lru_cache

from zhenshen_core.deadlines._data import (
    CalendarLayer,
    DayEntry,
    DayKind,
    Notice,
    load_national_data,
)
from zhenshen_core.deadlines._errors import CalendarRangeError
from zhenshen_core.deadlines._statutory import (
    AMENDMENT,
    LAW,
    PROVISIONAL_HORIZON,
    statutory_estimates,
)


class CalendarPolicy(StrEnum):
    """What to do with days beyond the published data."""

    STRICT = "strict"  # refuse: a legal deadline must not rest on a guess
    PROVISIONAL = "provisional"  # the law's holidays + weekends past the notices, flagged
    WEEKDAYS = "weekdays"  # Monday-Friday only; internal service levels, never legal periods


@dataclass(frozen=True, slots=True)
class DayInfo:
    """Why a day is or is not a working day, with the notice that says so."""

    day: date
    working: bool
    kind: str  # "holiday", "workday" (make-up), "weekend", "weekday", "estimated-holiday"
    name: str = ""
    notice: str | None = None
    layer: str = ""
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class _Index:
    base: int  # ordinal of the first indexed day
    flags: bytes  # 1 per working day
    cum: array[int]  # cum[i] = working days among indexed days [0, i)
    pos: array[int]  # pos[k] = offset of the k-th working day (0-based)


@lru_cache(maxsize=32)
def _build_index(
    version: str, first: int, last: int, rest: frozenset[int], work: frozenset[int], weekends: bool
) -> _Index:
    """Built once per calendar version (the version is part of the cache key on purpose)."""
    del version
    n = last - first + 1
    flags = bytearray(n)
    cum = array("l", [0]) * (n + 1)
    pos = array("l")
    count = 0
    for i in range(n):
        ordinal = first + i
        if ordinal in work:
            working = True
        elif ordinal in rest:
            working = False
        else:
            # date.fromordinal(1) is a Monday, so (ordinal - 1) % 7 is the ISO weekday - 1.
            working = (ordinal - 1) % 7 < 5 or not weekends
        if working:
            flags[i] = 1
            pos.append(i)
            count += 1
        cum[i + 1] = count
    return _Index(first, bytes(flags), cum, pos)


class Calendar:
    """An immutable official calendar (national, or national with layers on top).

    Methods take and return :class:`datetime.date`. Outside the covered range they raise
    :class:`CalendarRangeError`; under the provisional policy use :meth:`is_provisional` to know
    whether an answer rests on estimated days.
    """

    __slots__ = (
        "_days",
        "_estimates",
        "_first",
        "_index",
        "_known_until",
        "_last",
        "_layers",
        "_name",
        "_notices",
        "_policy",
        "_version",
    )

    def __init__(
        self,
        *,
        name: str,
        policy: CalendarPolicy,
        first_day: date,
        known_until: date,
        last_day: date,
        days: Mapping[date, tuple[DayEntry, str]],
        estimates: Mapping[date, str],
        notices: Mapping[str, Notice],
        version: str,
        layers: tuple[str, ...] = (),
    ) -> None:
        self._name = name
        self._policy = CalendarPolicy(policy)
        self._first = first_day
        self._known_until = known_until
        self._last = last_day
        self._days = dict(days)
        self._estimates = dict(estimates)
        self._notices = dict(notices)
        self._version = version
        self._layers = layers
        rest = {d.toordinal() for d, (e, _) in self._days.items() if e.kind is DayKind.REST}
        work = {d.toordinal() for d, (e, _) in self._days.items() if e.kind is DayKind.WORK}
        if self._policy is CalendarPolicy.PROVISIONAL:
            rest |= {d.toordinal() for d in self._estimates if d > known_until}
        self._index = _build_index(
            version,
            first_day.toordinal(),
            last_day.toordinal(),
            frozenset(rest),
            frozenset(work),
            True,
        )

    def __setattr__(self, key: str, value: object) -> None:
        if hasattr(self, "_index"):
            raise AttributeError("Calendar is immutable; build a new one with layer()")
        object.__setattr__(self, key, value)

    def __repr__(self) -> str:
        return (
            f"Calendar(name={self._name!r}, policy={self._policy.value!r}, "
            f"known_until={self._known_until}, version={self._version[:12]!r})"
        )

    # -- identity -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        """Content hash of the data (and policy) behind every answer; store it with deadlines."""
        return self._version

    @property
    def policy(self) -> CalendarPolicy:
        return self._policy

    @property
    def known_until(self) -> date:
        """Last day covered by published notices (for ``weekdays``, the index's last day)."""
        return self._known_until

    @property
    def first_day(self) -> date:
        return self._first

    @property
    def last_day(self) -> date:
        """Last day the index covers (beyond ``known_until`` only when estimating)."""
        return self._last

    @property
    def layers(self) -> tuple[str, ...]:
        return self._layers

    def notices(self) -> dict[str, Notice]:
        return dict(self._notices)

    # -- queries --------------------------------------------------------------------------
    def _offset(self, d: date) -> int:
        i = d.toordinal() - self._index.base
        if i < 0 or i >= len(self._index.flags):
            raise self._range_error(d)
        return i

    def _range_error(self, d: date) -> CalendarRangeError:
        if d < self._first:
            return CalendarRangeError(
                f"{d} is before the first day of calendar {self._name!r} ({self._first}); "
                "there is no data for earlier years",
                day=d,
                first_known=self._first,
                last_known=self._known_until,
                missing_year=None,
            )
        if self._policy is CalendarPolicy.PROVISIONAL:
            return CalendarRangeError(
                f"{d} is beyond even the estimated days of calendar {self._name!r} "
                f"(estimates end {self._last}; last published day {self._known_until})",
                day=d,
                first_known=self._first,
                last_known=self._known_until,
                missing_year=self._known_until.year + 1,
            )
        missing = self._known_until.year + 1
        return CalendarRangeError(
            f"{d} is beyond the data of calendar {self._name!r}: the last known day is "
            f"{self._known_until}; the State Council notice for {missing} "
            f"(国务院办公厅关于{missing}年部分节假日安排的通知) is not in the data yet. Add it "
            "as a calendar layer (see docs/howto/add-calendar-notice.md) or use the "
            "'provisional' policy for an estimate",
            day=d,
            first_known=self._first,
            last_known=self._known_until,
            missing_year=missing,
        )

    def is_working_day(self, d: date) -> bool:
        return self._index.flags[self._offset(d)] == 1

    def is_provisional(self, d: date) -> bool:
        """Whether the answer for ``d`` rests on estimated (unpublished) days."""
        return self._policy is CalendarPolicy.PROVISIONAL and d > self._known_until

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day strictly after ``d`` (strictly before it for negative n)."""
        idx = self._index
        i = d.toordinal() - idx.base
        if i < 0 or i >= len(idx.flags):
            raise self._range_error(d)
        if n > 0:
            k = idx.cum[i + 1] + n - 1
            if k >= len(idx.pos):
                raise self._range_error(self._last + timedelta(days=1))
        elif n < 0:
            k = idx.cum[i] + n
            if k < 0:
                raise self._range_error(self._first - timedelta(days=1))
        else:
            return d
        return date.fromordinal(idx.base + idx.pos[k])

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]: the count a period started on ``a`` has used by ``b``."""
        idx = self._index
        return idx.cum[self._offset(b) + 1] - idx.cum[self._offset(a) + 1]

    def rest_days(self, a: date, b: date) -> Iterator[date]:
        """Non-working days in [a, b], in order, found by scanning the index's flags.

        For listing what a period skipped (``DueResult.excluded_days``); a caller that stops
        early pays only for the days it took.
        """
        idx = self._index
        i, end = self._offset(a), self._offset(b) + 1
        while (i := idx.flags.find(0, i, end)) != -1:
            yield date.fromordinal(idx.base + i)
            i += 1

    def next_working_day_on_or_after(self, d: date) -> date:
        """Where a day/month/year period ending on a rest day moves to."""
        return d if self.is_working_day(d) else self.add_working_days(d, 1)

    def day_info(self, d: date) -> DayInfo:
        working = self.is_working_day(d)
        entry = self._days.get(d)
        if entry is not None:
            e, layer_name = entry
            kind = "holiday" if e.kind is DayKind.REST else "workday"
            return DayInfo(d, working, kind, e.name, e.notice, layer_name)
        if self.is_provisional(d) and d in self._estimates:
            return DayInfo(
                d,
                working,
                "estimated-holiday",
                self._estimates[d],
                None,
                "statutory-estimates",
                True,
            )
        return DayInfo(
            d,
            working,
            "weekday" if d.weekday() < 5 else "weekend",
            provisional=self.is_provisional(d),
        )

    def special_days(self, year: int) -> list[DayInfo]:
        """Rest and make-up days of a year that differ from Monday-Friday, with their notices."""
        out = [self.day_info(d) for d in sorted(self._days) if d.year == year]
        if self._policy is CalendarPolicy.PROVISIONAL:
            out += [
                self.day_info(d)
                for d in sorted(self._estimates)
                if d.year == year and d > self._known_until and d not in self._days
            ]
        return sorted(out, key=lambda i: i.day)


def _hash(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


@cache
def national_calendar(policy: CalendarPolicy | str = CalendarPolicy.STRICT) -> Calendar:
    """The packaged mainland calendar, built once per policy."""
    policy = CalendarPolicy(policy)
    data = load_national_data()
    days: dict[date, tuple[DayEntry, str]] = {}
    notices: dict[str, Notice] = {}
    for year_layer in data.years:
        for n in year_layer.notices:
            notices[n.id] = n
        for e in year_layer.days:
            days[e.day] = (e, year_layer.name)
    if policy is CalendarPolicy.WEEKDAYS:
        return Calendar(
            name="weekdays",
            policy=policy,
            first_day=date(1970, 1, 1),
            known_until=date(2199, 12, 31),
            last_day=date(2199, 12, 31),
            days={},
            estimates={},
            notices={},
            version=_hash("weekdays-v1"),
        )
    if policy is CalendarPolicy.PROVISIONAL:
        estimates = dict(statutory_estimates(data.known_until.year + 1, PROVISIONAL_HORIZON.year))
        version = _hash(
            data.version, "provisional", LAW, AMENDMENT, repr(sorted(estimates.items()))
        )
        last = PROVISIONAL_HORIZON
    else:
        estimates, version, last = {}, data.version, data.known_until
    return Calendar(
        name=data.name,
        policy=policy,
        first_day=data.first_day,
        known_until=data.known_until,
        last_day=last,
        days=days,
        estimates=estimates,
        notices=notices,
        version=version,
        layers=(data.name,),
    )


def layer(base: Calendar, *layers: CalendarLayer, name: str | None = None) -> Calendar:
    """Stack province, district or organisation data on a calendar; later layers win per day.

    A layer with ``known_until`` later than the base (next year's notice, published after the
    library release) extends the range the strict policy accepts.
    """
    days = {d: base._days[d] for d in base._days}
    notices = dict(base._notices)
    known_until = base.known_until
    for lay in layers:
        for n in lay.notices:
            notices[n.id] = n
        for e in lay.days:
            days[e.day] = (e, lay.name)
        if lay.known_until and lay.known_until > known_until:
            known_until = lay.known_until
    last = max(base.last_day, known_until)
    if base.policy is CalendarPolicy.WEEKDAYS:
        known_until = base.known_until
    version = _hash(base.version, *(lay.digest for lay in layers), known_until.isoformat())
    layer_names = base.layers + tuple(lay.name for lay in layers)
    return Calendar(
        name=name or "+".join((base.name, *(lay.name for lay in layers))),
        policy=base.policy,
        first_day=base.first_day,
        known_until=known_until,
        last_day=last,
        days=days,
        estimates=base._estimates,
        notices=notices,
        version=version,
        layers=layer_names,
    )
