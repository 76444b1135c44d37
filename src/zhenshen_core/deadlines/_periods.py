"""Legal periods: an amount and a unit, read from English, short or Chinese text.

Rules and clocks store periods as strings (``"15 working days"``), so parsing is the boundary
where typos must be caught, with a message that shows what would have been accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from zhenshen_core.deadlines._errors import PeriodError


class PeriodUnit(StrEnum):
    """How a period is counted; the value is the canonical unit name used in storage."""

    WORKING_DAY = "working_day"
    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    HOUR = "hour"
    WORKING_HOUR = "working_hour"

    @property
    def day_based(self) -> bool:
        """Whether the period ends at the end of a day (rather than at an instant)."""
        return self in (PeriodUnit.WORKING_DAY, PeriodUnit.DAY, PeriodUnit.MONTH, PeriodUnit.YEAR)


_LONG = {
    PeriodUnit.WORKING_DAY: ("working day", "working days"),
    PeriodUnit.DAY: ("day", "days"),
    PeriodUnit.MONTH: ("month", "months"),
    PeriodUnit.YEAR: ("year", "years"),
    PeriodUnit.HOUR: ("hour", "hours"),
    PeriodUnit.WORKING_HOUR: ("working hour", "working hours"),
}

# Every spelling we accept, normalised (lower case, single spaces), to its unit.
_SPELLINGS: dict[str, PeriodUnit] = {
    "working day": PeriodUnit.WORKING_DAY,
    "working days": PeriodUnit.WORKING_DAY,
    "workday": PeriodUnit.WORKING_DAY,
    "workdays": PeriodUnit.WORKING_DAY,
    "business day": PeriodUnit.WORKING_DAY,
    "business days": PeriodUnit.WORKING_DAY,
    "wd": PeriodUnit.WORKING_DAY,
    "个工作日": PeriodUnit.WORKING_DAY,
    "工作日": PeriodUnit.WORKING_DAY,
    "day": PeriodUnit.DAY,
    "days": PeriodUnit.DAY,
    "calendar day": PeriodUnit.DAY,
    "calendar days": PeriodUnit.DAY,
    "d": PeriodUnit.DAY,
    "日": PeriodUnit.DAY,
    "天": PeriodUnit.DAY,
    "个自然日": PeriodUnit.DAY,
    "自然日": PeriodUnit.DAY,
    "month": PeriodUnit.MONTH,
    "months": PeriodUnit.MONTH,
    "mo": PeriodUnit.MONTH,
    "个月": PeriodUnit.MONTH,
    "月": PeriodUnit.MONTH,
    "year": PeriodUnit.YEAR,
    "years": PeriodUnit.YEAR,
    "y": PeriodUnit.YEAR,
    "年": PeriodUnit.YEAR,
    "hour": PeriodUnit.HOUR,
    "hours": PeriodUnit.HOUR,
    "h": PeriodUnit.HOUR,
    "小时": PeriodUnit.HOUR,
    "个小时": PeriodUnit.HOUR,
    "working hour": PeriodUnit.WORKING_HOUR,
    "working hours": PeriodUnit.WORKING_HOUR,
    "wh": PeriodUnit.WORKING_HOUR,
    "工作小时": PeriodUnit.WORKING_HOUR,
    "个工作小时": PeriodUnit.WORKING_HOUR,
}

_PATTERN = re.compile(r"^\s*(\d{1,7})\s*([^\d\s].*?)\s*$")

ACCEPTED_FORMS = (
    "'2 working days', '15 days', '3 months', '1 year', '24 hours', '8 working hours'; "
    "short '2wd', '15d', '3mo', '1y', '24h', '8wh'; "
    "Chinese '2个工作日', '15日', '15天', '3个月', '1年', '24小时', '8个工作小时'"
)


def period_pattern() -> str:
    """A regular expression for the periods :func:`deadline_period` reads, for a schema that
    must say which texts are accepted (the HTTP service's OpenAPI document).

    An amount of 1 to 7 digits that is not 0, then any spelling above in any letter case,
    with ASCII spaces around and inside it (``2 working days``, ``15d``, ``3个月``). It is
    written with ``[0-9]``, ``[aA]`` and literals only, so it means the same in Python, in
    JSON Schema (ECMA-262) and in Rust's regex, and every text it matches is read by
    :func:`deadline_period`; the other way round, only tabs and other Unicode spaces, which
    :func:`parse_period` also reads, are left out.
    """
    # 1-7 digits, not all zeros: k leading zeros, then a non-zero digit and at most 6-k more.
    amount = "|".join(f"{'0' * k}[1-9][0-9]{{0,{6 - k}}}" for k in range(7))

    def spelled(word: str) -> str:
        out = []
        for char in word:
            if char == " ":
                out.append(" +")
            elif char.isascii() and char.isalpha():
                out.append(f"[{char}{char.upper()}]")
            else:
                out.append(re.escape(char))
        return "".join(out)

    # Longest first, so a reader of the pattern sees "working days" before "working day".
    units = "|".join(spelled(s) for s in sorted(_SPELLINGS, key=lambda s: (-len(s), s)))
    return f"^ *(?:{amount}) *(?:{units}) *$"


@dataclass(frozen=True, slots=True)
class Period:
    """A legal period such as 15 working days; ``str()`` gives the canonical long form."""

    amount: int
    unit: PeriodUnit

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise PeriodError(f"a period amount must be a whole number >= 0, not {self.amount!r}")
        if not isinstance(self.unit, PeriodUnit):
            object.__setattr__(self, "unit", PeriodUnit(self.unit))

    def __str__(self) -> str:
        singular, plural = _LONG[self.unit]
        return f"{self.amount} {singular if self.amount == 1 else plural}"


def parse_period(text: str | Period) -> Period:
    """Read a period from any accepted spelling, or raise :class:`PeriodError` listing them."""
    if isinstance(text, Period):
        return text
    if not isinstance(text, str):
        raise PeriodError(f"a period must be text like '2 working days', not {text!r}")
    match = _PATTERN.match(text)
    unit = None
    if match:
        spelling = " ".join(match.group(2).lower().split())
        unit = _SPELLINGS.get(spelling)
    if match is None or unit is None:
        raise PeriodError(f"cannot read period {text!r}; accepted forms: {ACCEPTED_FORMS}")
    return Period(int(match.group(1)), unit)


def deadline_period(text: str | Period) -> Period:
    """``parse_period`` for a deadline someone sets: a period of length 0 is refused.

    The start day is not counted, so "0 working days" would be due before the clock has
    counted anything (on a rest day, even before a working day) and breach the moment it
    starts: always a typo, never a law. Rule packs (``P207``) and ``zhenshen deadline`` read
    periods with this; ``compute_due`` itself still computes a zero period, as arithmetic.
    """
    period = parse_period(text)
    if period.amount == 0:
        singular, plural = _LONG[period.unit]
        raise PeriodError(
            f"period {str(text)!r} has no length: a deadline of 0 {plural} is due the moment "
            f"it starts (breached at once); give at least 1 {singular}"
        )
    return period
