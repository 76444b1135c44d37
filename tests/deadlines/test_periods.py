from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.deadlines import (
    Period,
    PeriodError,
    PeriodUnit,
    deadline_period,
    parse_period,
    period_pattern,
)

CASES = {
    "2 working days": (2, PeriodUnit.WORKING_DAY),
    "1 working day": (1, PeriodUnit.WORKING_DAY),
    "15 days": (15, PeriodUnit.DAY),
    "3 months": (3, PeriodUnit.MONTH),
    "1 year": (1, PeriodUnit.YEAR),
    "24 hours": (24, PeriodUnit.HOUR),
    "8 working hours": (8, PeriodUnit.WORKING_HOUR),
    "2wd": (2, PeriodUnit.WORKING_DAY),
    "15d": (15, PeriodUnit.DAY),
    "3mo": (3, PeriodUnit.MONTH),
    "1y": (1, PeriodUnit.YEAR),
    "24h": (24, PeriodUnit.HOUR),
    "8wh": (8, PeriodUnit.WORKING_HOUR),
    "2个工作日": (2, PeriodUnit.WORKING_DAY),
    "15日": (15, PeriodUnit.DAY),
    "15天": (15, PeriodUnit.DAY),
    "3个月": (3, PeriodUnit.MONTH),
    "1年": (1, PeriodUnit.YEAR),
    "24小时": (24, PeriodUnit.HOUR),
    "8个工作小时": (8, PeriodUnit.WORKING_HOUR),
    "  2  Working   Days ": (2, PeriodUnit.WORKING_DAY),
}


@pytest.mark.parametrize(("text", "expected"), CASES.items())
def test_parse(text: str, expected: tuple[int, PeriodUnit]) -> None:
    p = parse_period(text)
    assert (p.amount, p.unit) == expected
    assert parse_period(str(p)) == p


def test_canonical_form() -> None:
    assert str(parse_period("2wd")) == "2 working days"
    assert str(parse_period("1个工作日")) == "1 working day"
    assert str(parse_period("8wh")) == "8 working hours"
    assert str(Period(1, PeriodUnit.MONTH)) == "1 month"


@pytest.mark.parametrize(
    "bad",
    ["", "two days", "2 weeks", "-3 days", "3", "days", "2.5 days", "2 fortnights", "1e3 days"],
)
def test_bad_period_lists_accepted_forms(bad: str) -> None:
    with pytest.raises(PeriodError) as info:
        parse_period(bad)
    assert "accepted forms" in str(info.value)
    assert "2 working days" in str(info.value)
    assert isinstance(info.value, ValueError)


@given(st.from_regex(period_pattern(), fullmatch=True))
def test_every_text_the_period_pattern_matches_is_a_period(text: str) -> None:
    """The pattern the HTTP service declares for ``period`` promises no more than
    :func:`deadline_period` reads: a text it matches is never refused."""
    assert deadline_period(text).amount >= 1


@pytest.mark.parametrize("text", ["0 days", "2 weeks", "soon", "12345678 d", "2\tdays", "", "d"])
def test_the_period_pattern_leaves_out_what_is_refused(text: str) -> None:
    assert re.fullmatch(period_pattern(), text) is None
