"""The measures of a review opinion, each with a department and a due day.

Staff write measures the way letters state them — "公园城市建设局5个工作日内出具权属说明" — or
as data (``{"description": …, "department": "gxq.gycsjsj", "period": "5 working days"}``).
Either way a measure is only complete with the department that does it (resolved against the
pack's departments: id, old id, name or short name) and the last day it is due, counted on the
official calendar from the opinion's date. Nothing is guessed: a measure whose text names no
department of the pack, or states no period, is an error naming the measure — never quietly
the lead department with no deadline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from zhenshen_core.deadlines import Calendar, DeadlineError, compute_due
from zhenshen_core.desk.letters.errors import MeasureError
from zhenshen_core.desk.letters.names import Names
from zhenshen_core.model.case import SHANGHAI, Measure

MeasureInput = str | Mapping[str, Any] | Measure
KEYS = frozenset({"description", "department", "period", "due"})

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_CN_DIGITS.update({"七": 7, "八": 8, "九": 9})
_UNITS = {
    "个工作日": "working days",
    "工作日": "working days",
    "个自然日": "days",
    "自然日": "days",
    "日": "days",
    "天": "days",
    "个月": "months",
}
# "5个工作日内", "十五日内", "两个月以内"; not the day of a date ("5月12日内" is no period).
_WITHIN = re.compile(
    r"(?<![月\d零〇一二两三四五六七八九十百])(\d{1,4}|[零〇一二两三四五六七八九十百]{1,5})\s*"
    r"(个工作日|工作日|个自然日|自然日|个月|日|天)\s*(?:以内|之内|内)"
)
# "2020年5月30日前"
_BY_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(?:以前|之前|前)")


def chinese_number(text: str) -> int | None:
    """``15`` or ``十五`` (up to 九百九十九) as an int; None for anything else."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in "十百":
            total += (current or 1) * (10 if ch == "十" else 100)
            current = 0
        else:
            return None
    return total + current


def period_in(text: str) -> str | None:
    """The period a measure's text states ("5个工作日内" → ``"5 working days"``), if any."""
    match = _WITHIN.search(text)
    if match is None:
        return None
    amount = chinese_number(match.group(1))
    return None if not amount else f"{amount} {_UNITS[match.group(2)]}"


def date_in(text: str) -> date | None:
    """The day a measure's text says it is due by ("2020年5月30日前"), if any."""
    match = _BY_DATE.search(text)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def measure_fields(item: MeasureInput) -> dict[str, Any]:
    """A measure as a dict of its given fields (text is a description only)."""
    if isinstance(item, str):
        return {"description": item}
    if isinstance(item, Measure):
        return item.model_dump(exclude_none=True)
    if isinstance(item, Mapping):
        unknown = sorted(set(item) - KEYS)
        if unknown:
            raise ValueError(f"unknown key(s) {unknown}; a measure has {sorted(KEYS)}")
        return {k: v for k, v in item.items() if v is not None}
    raise ValueError(f"a measure is text or a mapping, not {type(item).__name__}")


def measure_department(fields: Mapping[str, Any], names: Names) -> str:
    """The id of the department a measure names (its ``department``, else its text)."""
    given = fields.get("department")
    if given:
        department = names.department_id(str(given))
        if department is None:
            known = ", ".join(f"{k} ({v})" for k, v in sorted(names.departments.items())[:12])
            raise ValueError(f"department {given!r} is not one of the pack's ({known} …)")
        return department
    department = names.department_in(str(fields.get("description") or ""))
    if department is None:
        raise ValueError(
            "names no department of the pack; write the department as the pack names it "
            "(e.g. 公园城市建设局5个工作日内…) or give {'description': …, 'department': ID}"
        )
    return department


def measure_due(
    fields: Mapping[str, Any],
    *,
    issued_at: datetime,
    calendar: Calendar | Callable[[], Calendar],
) -> tuple[date, str | None]:
    """The day a measure is due and the period it was counted from (None for a given day)."""
    description = str(fields.get("description") or "")
    period = fields.get("period")
    due = fields.get("due")
    if isinstance(due, str):
        try:
            due = date.fromisoformat(due)
        except ValueError as exc:
            raise ValueError(f"due {due!r} is not a date (YYYY-MM-DD)") from exc
    if due is None and period is None:
        due = date_in(description)
        period = None if due is not None else period_in(description)
    if due is None:
        if period is None:
            raise ValueError(
                "states no period or due day; write one (e.g. 5个工作日内, 2020年5月30日前) or "
                "give {'period': '5 working days'} or {'due': 'YYYY-MM-DD'}"
            )
        cal = calendar if isinstance(calendar, Calendar) else calendar()
        try:
            due = compute_due(cal, issued_at, str(period)).due
        except DeadlineError as exc:
            raise ValueError(str(exc)) from exc
    if not isinstance(due, date):
        raise ValueError(f"due must be a date, not {due!r}")
    issued_day = issued_at.astimezone(SHANGHAI).date()
    if due < issued_day:
        raise ValueError(f"is due {due.isoformat()}, before the opinion's date {issued_day}")
    return due, str(period) if period is not None else None


def resolve_measure(
    item: MeasureInput,
    *,
    names: Names,
    issued_at: datetime,
    calendar: Calendar | Callable[[], Calendar],
) -> Measure:
    """One measure made complete, or :class:`ValueError` saying what it lacks."""
    fields = measure_fields(item)
    description = str(fields.get("description") or "").strip()
    if not description:
        raise ValueError("a measure needs a description")
    department = measure_department(fields, names)
    due, period = measure_due(fields, issued_at=issued_at, calendar=calendar)
    return Measure(description=description, department=department, period=period, due=due)


def resolve_measures(
    items: Sequence[MeasureInput],
    *,
    names: Names,
    issued_at: datetime,
    calendar: Calendar | Callable[[], Calendar],
) -> list[Measure]:
    """Every measure made complete, or one :class:`MeasureError` listing each that is not."""
    out: list[Measure] = []
    problems: list[str] = []
    for index, item in enumerate(items, start=1):
        try:
            out.append(
                resolve_measure(item, names=names, issued_at=issued_at, calendar=calendar)
            )
        except ValueError as exc:
            text = item if isinstance(item, str) else _description(item)
            problems.append(f"measure {index} {text!r}: {exc}")
    if problems:
        raise MeasureError(problems)
    return out


def _description(item: Any) -> str:
    if isinstance(item, Measure):
        return item.description
    if isinstance(item, Mapping):
        return str(item.get("description", ""))
    return str(item)
