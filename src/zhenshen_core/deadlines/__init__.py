"""Legal deadlines on the official Chinese calendar.

Public names are re-exported here; the modules behind them are private so they can move.
See docs/explanation/deadlines-and-calendars.md for the legal rules implemented.
"""

from __future__ import annotations

from zhenshen_core.deadlines._calendar import (
    Calendar,
    CalendarPolicy,
    DayInfo,
    layer,
    national_calendar,
)
from zhenshen_core.deadlines._compute import (
    DEFAULT_OFFICE_HOURS,
    SHANGHAI,
    CalendarInfo,
    DueResult,
    OfficeHours,
    add_months,
    compute_due,
    parse_office_hours,
    to_shanghai,
)
from zhenshen_core.deadlines._data import (
    CalendarLayer,
    DayEntry,
    DayKind,
    Notice,
    load_calendar_file,
    parse_calendar_text,
)
from zhenshen_core.deadlines._errors import (
    CalendarDataError,
    CalendarError,
    CalendarRangeError,
    DataProblem,
    DeadlineError,
    PeriodError,
)
from zhenshen_core.deadlines._excluded import EXCLUDED_LIMIT, ExcludedDay
from zhenshen_core.deadlines._periods import (
    ACCEPTED_FORMS,
    Period,
    PeriodUnit,
    deadline_period,
    parse_period,
    period_pattern,
)

__all__ = [
    "ACCEPTED_FORMS",
    "DEFAULT_OFFICE_HOURS",
    "EXCLUDED_LIMIT",
    "SHANGHAI",
    "Calendar",
    "CalendarDataError",
    "CalendarError",
    "CalendarInfo",
    "CalendarLayer",
    "CalendarPolicy",
    "CalendarRangeError",
    "DataProblem",
    "DayEntry",
    "DayInfo",
    "DayKind",
    "DeadlineError",
    "DueResult",
    "ExcludedDay",
    "Notice",
    "OfficeHours",
    "Period",
    "PeriodError",
    "PeriodUnit",
    "add_months",
    "compute_due",
    "deadline_period",
    "layer",
    "load_calendar_file",
    "national_calendar",
    "parse_calendar_text",
    "parse_office_hours",
    "parse_period",
    "period_pattern",
    "to_shanghai",
]
