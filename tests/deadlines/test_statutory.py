"""The provisional calendar's statutory days: the lunar library against the published notices."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.deadlines import (
    CalendarPolicy,
    CalendarRangeError,
    compute_due,
    national_calendar,
)
from zhenshen_core.deadlines._statutory import (
    HOLIDAYS,
    PROVISIONAL_HORIZON,
    anchor_day,
    lunar_to_solar,
    statutory_days,
)

PUBLISHED = range(2015, 2027)
# Where a notice filed a festival's day under another holiday's name, and the notice saying so.
FILED_UNDER_ANOTHER_NAME = {
    (2020, "中秋节"): "国办发明电〔2019〕16号: 国庆节、中秋节：10月1日至8日放假调休 (中秋 = 10-01)",
}


@pytest.mark.parametrize("year", PUBLISHED)
def test_festival_days_match_the_published_notices(year: int) -> None:
    """Each lunar festival and Qingming, as the library computes it, is that festival's rest
    day in the notice of the year: 12 notices, 2015-2026, 48 festival days."""
    cal = national_calendar()
    for holiday in HOLIDAYS:
        day = anchor_day(holiday, year)
        info = cal.day_info(day)
        assert not info.working, (year, holiday.name, day)
        if (year, holiday.name) in FILED_UNDER_ANOTHER_NAME:
            continue
        assert holiday.name in info.name, (year, holiday.name, day, info.name)


@pytest.mark.parametrize("year", PUBLISHED)
def test_spring_festival_first_three_days_are_rest_days(year: int) -> None:
    """初一 to 初三 were statutory under every text since 2014; the notices agree each year."""
    cal = national_calendar()
    first = lunar_to_solar(year, 1, 1)
    for i in range(3):
        info = cal.day_info(first + timedelta(days=i))
        assert not info.working and "春节" in info.name


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_statutory_day_of_the_amended_law_is_a_rest_day_in_its_notice(year: int) -> None:
    """Under 国务院令第795号 (2025 on) each computed day — 除夕 included — is a notice rest day."""
    cal = national_calendar()
    days = statutory_days(year)
    assert len(days) == 13
    for day, name in days:
        info = cal.day_info(day)
        assert not info.working and name.split("、")[0] in info.name, (day, name, info)


def test_the_law_before_2025_is_not_the_amended_text() -> None:
    with pytest.raises(ValueError, match="in force from 2025-01-01"):
        statutory_days(2024)


@given(st.integers(min_value=2027, max_value=PROVISIONAL_HORIZON.year))
def test_statutory_days_shape_every_year(year: int) -> None:
    days = dict(statutory_days(year))
    by_name: dict[str, list[date]] = {}
    for day, name in days.items():
        assert day.year == year
        for part in name.split("、"):
            by_name.setdefault(part, []).append(day)
    assert sorted(len(v) for v in by_name.values()) == [1, 1, 1, 1, 2, 3, 4]
    spring = sorted(by_name["春节"])
    assert [d - spring[0] for d in spring] == [timedelta(days=i) for i in range(4)]
    assert date(year, 1, 20) <= spring[0] <= date(year, 2, 19)  # 除夕
    assert date(year, 4, 4) <= by_name["清明节"][0] <= date(year, 4, 6)
    # A lunar day keeps within a month of the Gregorian calendar, as New Year's Day (21 January
    # to 20 February) does: lunar 5-5 from 27 May to 25 June, lunar 8-15 from 7 September to 8
    # October.
    assert date(year, 5, 27) <= by_name["端午节"][0] <= date(year, 6, 25)
    assert date(year, 9, 7) <= by_name["中秋节"][0] <= date(year, 10, 8)


def test_provisional_calendar_counts_statutory_days_and_weekends_only() -> None:
    prov = national_calendar(CalendarPolicy.PROVISIONAL)
    year = 2031
    rest = {d for d, _ in statutory_days(year)}
    day = date(year, 1, 1)
    while day.year == year:
        expected = not (day in rest or day.weekday() >= 5)
        assert prov.is_working_day(day) is expected, day
        assert prov.is_provisional(day)
        day += timedelta(days=1)
    info = prov.day_info(date(2031, 1, 22))  # 除夕, computed and flagged
    assert info.kind == "estimated-holiday" and info.name == "春节" and info.provisional


def test_provisional_calendar_reaches_its_documented_horizon() -> None:
    prov = national_calendar(CalendarPolicy.PROVISIONAL)
    assert prov.last_day == PROVISIONAL_HORIZON == date(2100, 12, 31)
    assert not prov.is_working_day(date(2100, 10, 1))
    last = compute_due(prov, date(2100, 12, 1), "15 working days")
    assert last.provisional and last.due <= PROVISIONAL_HORIZON
    with pytest.raises(CalendarRangeError, match="beyond even the estimated days") as info:
        compute_due(prov, date(2100, 12, 20), "15 working days")
    assert info.value.last_known == date(2026, 12, 31)


def test_the_provisional_version_differs_from_the_strict_one() -> None:
    strict, prov = national_calendar(), national_calendar(CalendarPolicy.PROVISIONAL)
    assert strict.version != prov.version
    assert prov.version == national_calendar("provisional").version  # built once, stable
