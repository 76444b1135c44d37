"""What a period skipped: make-up working days said out loud, rest days listed in ``excluded``."""

from __future__ import annotations

import json
from datetime import date, timedelta

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.cli.deadline import register
from zhenshen_core.deadlines import EXCLUDED_LIMIT, compute_due, national_calendar

CAL = national_calendar()
NOTICE_2026 = "国办发明电〔2025〕7号"


@pytest.fixture
def cli() -> click.Group:
    group = click.Group("zhenshen")
    register(group)
    return group


def test_make_up_working_day_is_said_and_holidays_listed(cli: click.Group) -> None:
    # Mon 09-28: 09-29, 09-30, (10-01..10-07 National Day), 10-08, 10-09, Sat 10-10 (调休)
    r = CliRunner().invoke(cli, ["deadline", "2026-09-28", "5个工作日", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["due"] == "2026-10-10"
    assert data["due_day"] == {
        "weekday": "Saturday",
        "working": True,
        "kind": "workday",
        "name": "国庆节",
        "notice": NOTICE_2026,
    }
    assert data["excluded"] == [
        {"date": f"2026-10-0{d}", "kind": "holiday", "name": "国庆节", "notice": NOTICE_2026}
        for d in range(1, 8)
    ]
    assert data["excluded_total"] == 7
    assert data["excluded_time"] == []

    text = CliRunner().invoke(cli, ["deadline", "2026-09-28", "5个工作日"]).stdout
    due_line = next(line for line in text.splitlines() if line.startswith("due "))
    assert "make-up working day" in due_line and "调休" in due_line and "国庆节" in due_line
    assert NOTICE_2026 in due_line
    assert "2026-10-01..2026-10-07  holiday  国庆节" in text


def test_weekends_are_listed_by_kind() -> None:
    # Fri 2024-03-01 + 2 working days: Sat and Sun skipped, due Tue 03-05
    r = compute_due(CAL, date(2024, 3, 1), "2 working days")
    assert [(d.day, d.kind, d.name) for d in r.excluded_days()] == [
        (date(2024, 3, 2), "weekend", ""),
        (date(2024, 3, 3), "weekend", ""),
    ]
    assert r.due_day() is not None and r.due_day().kind == "weekday"  # type: ignore[union-attr]


def test_calendar_day_period_lists_only_the_roll_forward() -> None:
    # 2026-09-23 + 10 days = Sat 10-03 (National Day): moves to Thu 10-08; the holiday days
    # inside the period (10-01, 10-02) count and are not listed.
    r = compute_due(CAL, date(2026, 9, 23), "10 days")
    assert r.due == date(2026, 10, 8)
    assert [d.day for d in r.excluded_days()] == [date(2026, 10, d) for d in range(3, 8)]
    assert {d.kind for d in r.excluded_days()} == {"holiday"}
    assert r.excluded_total() == 5
    # an end on a working day moves nowhere: nothing skipped
    assert compute_due(CAL, date(2024, 3, 4), "10 days").excluded_days() == ()


def test_excluded_time_days_are_listed_with_their_kind(cli: click.Group) -> None:
    args = ["deadline", "2024-03-04", "2wd", "--exclude", "2024-03-05..2024-03-06"]
    r = CliRunner().invoke(cli, [*args, "--extend", "1wd", "--format", "json"])
    data = json.loads(r.stdout)
    assert data["due"] == "2024-03-11"
    assert data["excluded_time"] == [["2024-03-05", "2024-03-06"]]
    assert [(e["date"], e["kind"]) for e in data["excluded"]] == [
        ("2024-03-05", "excluded-time"),
        ("2024-03-06", "excluded-time"),
        ("2024-03-09", "weekend"),
        ("2024-03-10", "weekend"),
    ]
    # (03-04, 03-11]: 7 days = 3 counted working days + 4 excluded
    assert data["excluded_total"] == 4


def test_huge_periods_list_a_bounded_prefix_and_count_the_rest() -> None:
    r = compute_due(CAL, date(2004, 1, 2), "5000 working days")
    listed = r.excluded_days()
    assert len(listed) == EXCLUDED_LIMIT
    assert r.excluded_total() == (r.due - date(2004, 1, 2)).days - 5000
    assert r.excluded_total() > EXCLUDED_LIMIT
    assert listed == tuple(sorted(listed, key=lambda d: d.day))
    assert len(r.excluded_days(limit=None)) == r.excluded_total()
    data = r.as_dict()
    assert len(data["excluded"]) == EXCLUDED_LIMIT and data["excluded_total"] == r.excluded_total()


def test_text_output_groups_runs_and_says_what_was_left_out(cli: click.Group) -> None:
    text = CliRunner().invoke(cli, ["deadline", "2024-01-02", "300 working days"]).stdout
    assert "weekend" in text and "春节" in text
    assert "more day" in text and "--format json" in text
    assert len(text.splitlines()) < 30


days = st.dates(min_value=date(2004, 1, 1), max_value=date(2025, 6, 30))


@given(
    days,
    st.integers(min_value=1, max_value=250),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 30)), max_size=3),
)
def test_working_day_span_is_n_plus_excluded(d: date, n: int, raw: list[tuple[int, int]]) -> None:
    excluded = [(d + timedelta(days=a), d + timedelta(days=a + b)) for a, b in raw]
    r = compute_due(CAL, d, f"{n} working days", excluded=excluded)
    listed = r.excluded_days(limit=None)
    assert (r.due - d).days == n + len(listed) == n + r.excluded_total()
    assert all(d < x.day < r.due for x in listed)
    assert len({x.day for x in listed}) == len(listed)
    for x in listed:
        if x.kind == "excluded-time":
            assert any(a <= x.day <= b for a, b in excluded)
        else:
            assert not CAL.is_working_day(x.day)


@given(days, st.integers(min_value=1, max_value=400), st.sampled_from(["days", "months"]))
def test_calendar_periods_list_rest_days_from_the_nominal_end(d: date, n: int, unit: str) -> None:
    amount = n if unit == "days" else n % 12 + 1
    r = compute_due(CAL, d, f"{amount} {unit}")
    listed = r.excluded_days(limit=None)
    assert len(listed) == r.excluded_total()
    assert all(not CAL.is_working_day(x.day) for x in listed)
    # the listed days are exactly the run of rest days just before the due day
    assert [x.day for x in listed] == [r.due - timedelta(days=k) for k in range(len(listed), 0, -1)]
