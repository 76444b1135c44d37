"""Errors of the deadline layer.

::

    ZhenshenError
    └── DeadlineError
        ├── PeriodError (ValueError)         a period string or value that cannot be read
        └── CalendarError
            ├── CalendarRangeError (LookupError)  a day outside the calendar's published data
            └── CalendarDataError (ValueError)    a calendar data file with located problems

The split matters to callers: a ``PeriodError`` is the user's typo (a usage error at the CLI),
a ``CalendarRangeError`` means the law's calendar is not known yet (recompute when the notice is
published), and a ``CalendarDataError`` is a broken data file that someone has to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from zhenshen_core.errors import ZhenshenError


class DeadlineError(ZhenshenError):
    """Base of every error raised by :mod:`zhenshen_core.deadlines`."""


class PeriodError(DeadlineError, ValueError):
    """A period that cannot be read; the message lists the accepted forms."""


class CalendarError(DeadlineError):
    """Base of calendar problems."""


class CalendarRangeError(CalendarError, LookupError):
    """A day outside the calendar's data under a policy that refuses to guess.

    ``last_known`` is the last day the data covers and ``missing_year`` the year whose State
    Council notice would be needed, so a caller can tell the user exactly what is missing.
    """

    def __init__(
        self,
        message: str,
        *,
        day: date,
        first_known: date,
        last_known: date,
        missing_year: int | None,
    ) -> None:
        super().__init__(message)
        self.day = day
        self.first_known = first_known
        self.last_known = last_known
        self.missing_year = missing_year


@dataclass(frozen=True, slots=True)
class DataProblem:
    """One located problem in a calendar data file (1-based line and column)."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class CalendarDataError(CalendarError, ValueError):
    """A calendar data file failed to load; ``problems`` holds every located problem found."""

    def __init__(self, problems: list[DataProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
