"""The rest days the law itself fixes, for years no State Council notice has covered yet.

《全国年节及纪念日放假办法》, as amended by 国务院令第795号 (in force from 2025-01-01), gives every
citizen 13 days off a year, each tied to a solar date, a lunar date or a solar term. What a
notice adds on top — moving rest days next to a weekend, the make-up working days (调休上班),
the weekday given back for a holiday that falls on a weekend (补假) — is chosen year by year and
cannot be derived, so the ``provisional`` calendar counts these days and the ordinary weekends
only, and flags every answer that rests on them.

Lunar dates and solar terms come from ``tyme4py`` (6tail's calendar library, MIT, pure Python):
it computes new moons and solar terms astronomically (the 寿星天文历 algorithms) for any year,
instead of reading a table that stops at 2099 or 2100, and
``tests/deadlines/test_statutory.py`` checks its dates against every notice from 2015 on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache

LAW = "全国年节及纪念日放假办法"
AMENDMENT = "国务院令第795号"
IN_FORCE_FROM = date(2025, 1, 1)
PROVISIONAL_HORIZON = date(2100, 12, 31)
"""The last day the provisional calendar estimates.

Far enough for any legal period a desk starts (the longest in practice are a year or two), near
enough that the index stays small (about 27,000 more days) and that nobody mistakes an estimate
for the far future for knowledge: the law itself may well be amended again before then.
"""


class Anchor(StrEnum):
    """What a holiday is tied to."""

    SOLAR = "solar"  # a Gregorian month and day
    LUNAR = "lunar"  # a month and day of the Chinese lunar calendar (never a leap month)
    SOLAR_TERM = "solar_term"  # the day a solar term begins, Beijing time


@dataclass(frozen=True, slots=True)
class StatutoryHoliday:
    """One holiday of the law: its anchor day, where the rest starts from it, how many days."""

    name: str
    anchor: Anchor
    days: int
    month: int = 0
    day: int = 0
    term: str = ""
    offset: int = 0  # first rest day relative to the anchor (春节: -1, lunar New Year's Eve)


HOLIDAYS: tuple[StatutoryHoliday, ...] = (
    StatutoryHoliday("元旦", Anchor.SOLAR, 1, month=1, day=1),
    # 春节: 农历除夕、正月初一、初二、初三 (除夕 joined the holiday with the 2024 amendment).
    StatutoryHoliday("春节", Anchor.LUNAR, 4, month=1, day=1, offset=-1),
    StatutoryHoliday("清明节", Anchor.SOLAR_TERM, 1, term="清明"),
    StatutoryHoliday("劳动节", Anchor.SOLAR, 2, month=5, day=1),
    StatutoryHoliday("端午节", Anchor.LUNAR, 1, month=5, day=5),
    StatutoryHoliday("中秋节", Anchor.LUNAR, 1, month=8, day=15),
    StatutoryHoliday("国庆节", Anchor.SOLAR, 3, month=10, day=1),
)


def lunar_to_solar(year: int, month: int, day: int) -> date:
    """The Gregorian date of a day of lunar ``year`` (a non-leap ``month``)."""
    from tyme4py.lunar import LunarDay

    solar = LunarDay.from_ymd(year, month, day).get_solar_day()
    return date(solar.get_year(), solar.get_month(), solar.get_day())


def solar_term_day(year: int, name: str) -> date:
    """The day (Beijing time) the solar term ``name`` begins in Gregorian ``year``."""
    from tyme4py.solar import SolarTerm

    solar = SolarTerm.from_name(year, name).get_solar_day()
    found = date(solar.get_year(), solar.get_month(), solar.get_day())
    if found.year != year:  # 冬至 is indexed from the year before in the library
        solar = SolarTerm.from_name(year + 1, name).get_solar_day()
        found = date(solar.get_year(), solar.get_month(), solar.get_day())
    return found


def anchor_day(holiday: StatutoryHoliday, year: int) -> date:
    """The day ``holiday`` is tied to in Gregorian ``year`` (lunar New Year's Day for 春节)."""
    if holiday.anchor is Anchor.SOLAR:
        return date(year, holiday.month, holiday.day)
    if holiday.anchor is Anchor.SOLAR_TERM:
        return solar_term_day(year, holiday.term)
    # Every lunar holiday of the law falls in the Gregorian year of the same number: lunar New
    # Year's Day is between 21 January and 20 February.
    return lunar_to_solar(year, holiday.month, holiday.day)


def statutory_days(year: int) -> list[tuple[date, str]]:
    """The law's rest days of ``year``, in order; a day two holidays share names both."""
    if year < IN_FORCE_FROM.year:
        raise ValueError(
            f"{LAW} as amended by {AMENDMENT} is in force from {IN_FORCE_FROM}; "
            f"{year} was under the earlier text"
        )
    names: dict[date, list[str]] = {}
    for holiday in HOLIDAYS:
        first = anchor_day(holiday, year) + timedelta(days=holiday.offset)
        for i in range(holiday.days):
            names.setdefault(first + timedelta(days=i), []).append(holiday.name)
    return [(day, "、".join(names[day])) for day in sorted(names)]


@cache
def statutory_estimates(first_year: int, last_year: int) -> tuple[tuple[date, str], ...]:
    """Every statutory rest day of ``first_year``..``last_year`` (computed once per range)."""
    out: list[tuple[date, str]] = []
    for year in range(first_year, last_year + 1):
        out.extend(statutory_days(year))
    return tuple(out)


__all__ = [
    "AMENDMENT",
    "HOLIDAYS",
    "IN_FORCE_FROM",
    "LAW",
    "PROVISIONAL_HORIZON",
    "Anchor",
    "StatutoryHoliday",
    "anchor_day",
    "lunar_to_solar",
    "solar_term_day",
    "statutory_days",
    "statutory_estimates",
]
