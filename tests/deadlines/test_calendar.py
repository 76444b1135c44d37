from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.deadlines import (
    CalendarPolicy,
    CalendarRangeError,
    compute_due,
    layer,
    national_calendar,
    parse_calendar_text,
)

CAL = national_calendar()
days = st.dates(min_value=date(2004, 1, 1), max_value=date(2025, 12, 31))
small = st.integers(min_value=0, max_value=120)


@given(days, small, small)
def test_add_n_then_m_is_add_n_plus_m(d: date, n: int, m: int) -> None:
    assert CAL.add_working_days(CAL.add_working_days(d, n), m) == CAL.add_working_days(d, n + m)


@given(days, st.integers(min_value=1, max_value=200))
def test_working_day_due_is_a_working_day_after_start(d: date, n: int) -> None:
    r = compute_due(CAL, d, f"{n} working days")
    assert CAL.is_working_day(r.due)
    assert r.due > d
    assert CAL.working_days_between(d, r.due) == n


@given(
    days,
    st.integers(min_value=0, max_value=200),
    st.sampled_from(["working days", "days", "months", "hours", "working hours"]),
)
def test_due_not_before_start(d: date, n: int, unit: str) -> None:
    amount = n if unit != "months" else n % 12
    r = compute_due(CAL, d, f"{amount} {unit}")
    assert r.due >= d
    assert r.due_at >= r.start


@given(
    days,
    st.integers(min_value=1, max_value=60),
    st.sampled_from(["working days", "days"]),
    st.lists(st.tuples(st.integers(0, 90), st.integers(0, 20)), max_size=3),
)
def test_excluded_intervals_never_shorten(
    d: date, n: int, unit: str, raw: list[tuple[int, int]]
) -> None:
    excluded = [(d + timedelta(days=a), d + timedelta(days=a + b)) for a, b in raw]
    plain = compute_due(CAL, d, f"{n} {unit}")
    paused = compute_due(CAL, d, f"{n} {unit}", excluded=excluded)
    assert paused.due >= plain.due


@given(days, st.integers(min_value=1, max_value=100))
def test_negative_add_inverts(d: date, n: int) -> None:
    if CAL.is_working_day(d):
        assert CAL.add_working_days(CAL.add_working_days(d, n), -n) == d


def test_start_day_not_counted_even_on_a_working_day() -> None:
    assert CAL.add_working_days(date(2024, 3, 4), 1) == date(2024, 3, 5)  # Monday -> Tuesday


def test_day_period_roll_stops_on_make_up_day() -> None:
    # 2026-02-14 (Saturday) is a make-up working day: a period ending there stays there.
    assert compute_due(CAL, date(2026, 2, 7), "7 days").due == date(2026, 2, 14)
    # ending inside the Spring Festival rest moves to 02-24
    assert compute_due(CAL, date(2026, 2, 8), "7 days").due == date(2026, 2, 24)


def test_month_and_year_periods_use_last_day_when_missing() -> None:
    assert compute_due(CAL, date(2024, 1, 31), "1 month").due == date(2024, 2, 29)
    assert compute_due(CAL, date(2023, 12, 29), "2 months").due == date(2024, 2, 29)
    assert compute_due(CAL, date(2020, 2, 29), "1 year").due == date(2021, 3, 1)  # 02-28 Sunday


def test_excluded_working_days_are_skipped() -> None:
    # 2 working days from Mon 2024-03-04 with Tue-Wed excluded -> Thu, Fri
    r = compute_due(
        CAL, date(2024, 3, 4), "2 working days", excluded=[(date(2024, 3, 5), date(2024, 3, 6))]
    )
    assert r.due == date(2024, 3, 8)


def test_strict_range_error_names_last_known_day_and_missing_notice() -> None:
    with pytest.raises(CalendarRangeError) as info:
        compute_due(CAL, date(2026, 12, 20), "15 working days")
    msg = str(info.value)
    assert "2026-12-31" in msg and "2027" in msg
    assert info.value.missing_year == 2027
    with pytest.raises(CalendarRangeError):
        CAL.is_working_day(date(2003, 12, 31))


def test_provisional_estimates_and_flags() -> None:
    prov = national_calendar(CalendarPolicy.PROVISIONAL)
    r = compute_due(prov, date(2026, 12, 20), "15 working days")
    assert r.provisional is True
    assert not prov.is_working_day(date(2027, 2, 8))  # estimated Spring Festival
    assert prov.is_working_day(date(2027, 2, 10))  # no bridging days invented
    early = compute_due(prov, date(2026, 2, 13), "2 working days")
    assert early.provisional is False and early.due == date(2026, 2, 24)


def test_weekdays_policy() -> None:
    wk = national_calendar("weekdays")
    assert wk.is_working_day(date(2026, 2, 16))
    assert wk.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 17)
    assert compute_due(wk, date(2030, 1, 4), "1 working day").provisional is False


LOCAL = """
name: ganzi-district
notices:
  - {id: 甘府办〔2026〕1号, title: district closure, date: 2026-03-01}
holidays:
  - {date: 2026-03-10, name: 区内闭馆, notice: 甘府办〔2026〕1号}
"""

NEXT_YEAR = """
name: cn-2027-early
known_until: 2027-12-31
notices:
  - {id: 国办发明电〔2026〕X号, title: 2027 arrangement (test fixture), date: 2026-11-01}
holidays:
  - {from: 2027-01-01, to: 2027-01-03, name: 元旦, notice: 国办发明电〔2026〕X号}
"""


def test_layers_override_and_extend() -> None:
    local = layer(CAL, parse_calendar_text(LOCAL, "local.yaml"))
    assert CAL.is_working_day(date(2026, 3, 10))
    assert not local.is_working_day(date(2026, 3, 10))
    assert local.version != CAL.version
    assert local.day_info(date(2026, 3, 10)).layer == "ganzi-district"
    ext = layer(local, parse_calendar_text(NEXT_YEAR, "next.yaml"), name="district+2027")
    assert ext.name == "district+2027"
    assert ext.known_until == date(2027, 12, 31)
    assert ext.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert compute_due(ext, date(2026, 12, 31), "1 working day").provisional is False


def test_calendar_is_immutable() -> None:
    with pytest.raises(AttributeError):
        CAL._name = "x"  # type: ignore[misc]
