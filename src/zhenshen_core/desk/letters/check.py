"""The checks a letter passes before it renders: what a person signing it would check.

* Its date is not before any event it cites (the receipt of the request, a meeting, an
  expert's advice): a letter dated 2020年5月12日 cannot report a meeting of 2020年5月14日.
* Every name is a display name: departments, meeting attendees, experts and the domain are
  named as the pack names them, never by an id such as ``expert:lawyer`` or ``gxq.gtj``.
* Every measure has a department of the pack and a due day.
* Every expert the rules required has given advice, and the letter quotes that advice (we
  refuse rather than print the rule's reason for calling the expert, or an empty line).

The checks read only the template context (see :mod:`zhenshen_core.desk.letters.context`), so a
context built by hand is checked the same way as one built from a case.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from zhenshen_core.desk.letters.errors import LetterCheckError
from zhenshen_core.model.case import SHANGHAI


def _day(value: Any) -> date | None:
    if not value:
        return None
    if isinstance(value, datetime):
        instant = value
    elif isinstance(value, date):
        return value
    else:
        instant = datetime.fromisoformat(str(value))
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=SHANGHAI)
    return instant.astimezone(SHANGHAI).date()


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _unnamed(code: Any, name: Any) -> bool:
    return not name or str(name) == str(code) or str(name).startswith("expert:")


def _dates(context: Mapping[str, Any], problems: list[str]) -> None:
    letter_day = _day(context.get("issued_at"))
    if letter_day is None:
        problems.append("the letter has no date (issued_at)")
        return
    case = context.get("case") or {}
    cited: list[tuple[str, Any]] = [("the request it answers, received", case.get("received_at"))]
    for meeting in context.get("meetings") or []:
        cited.append((f"the {meeting.get('kind_label') or 'meeting'} of", meeting.get("at")))
    for expert in context.get("experts") or []:
        label = expert.get("kind_label") or expert.get("kind")
        cited.append((f"the advice of the {label}, given", expert.get("advised_at")))
    for what, when in cited:
        day = _day(when)
        if day is not None and day > letter_day:
            problems.append(f"the letter is dated {_cn(letter_day)} but cites {what} {_cn(day)}")


def _names(context: Mapping[str, Any], problems: list[str]) -> None:
    def dept(where: str, item: Mapping[str, Any] | None) -> None:
        if item and _unnamed(item.get("id"), item.get("name")):
            problems.append(f"{where} {item.get('id')!r} has no display name in the pack")

    dept("the lead department", context.get("lead"))
    for item in context.get("co") or []:
        dept("the co-department", item)
    for meeting in context.get("meetings") or []:
        ids = meeting.get("attendee_ids") or meeting.get("attendees") or []
        for code, name in zip(ids, meeting.get("attendees") or [], strict=False):
            if _unnamed(code, name):
                problems.append(
                    f"attendee {code!r} of the {meeting.get('kind_label')} has no display name "
                    "in the pack (departments, experts)"
                )
    for expert in context.get("experts") or []:
        if _unnamed(expert.get("kind"), expert.get("kind_label")):
            problems.append(f"expert kind {expert.get('kind')!r} has no display name in the pack")
    case = context.get("case") or {}
    if case.get("domain") and _unnamed(case.get("domain"), case.get("domain_label")):
        problems.append(f"domain {case.get('domain')!r} has no display name in the pack")


def _measures(context: Mapping[str, Any], problems: list[str]) -> None:
    for index, measure in enumerate(context.get("measures") or [], start=1):
        what = f"measure {index} {measure.get('description')!r}"
        department = measure.get("department")
        if not department:
            problems.append(f"{what} has no department")
        elif _unnamed(department, measure.get("department_name")):
            problems.append(f"{what}: department {department!r} is not one of the pack's")
        if not measure.get("due"):
            problems.append(
                f"{what} has no due day (state a period such as 5个工作日内, or give "
                "period/due)"
            )


def _experts(context: Mapping[str, Any], problems: list[str]) -> None:
    for expert in context.get("experts") or []:
        if expert.get("required") and not expert.get("advice"):
            label = expert.get("kind_label") or expert.get("kind")
            problems.append(
                f"the {label} ({expert.get('kind')}) the rules required has given no advice "
                "on record; record it (Desk.record_expert_advice, event record_expert_advice) "
                "before the letter is issued"
            )


def letter_problems(context: Mapping[str, Any]) -> list[str]:
    """Every problem the checks find, in the order a reader meets them."""
    problems: list[str] = []
    _dates(context, problems)
    _names(context, problems)
    _experts(context, problems)
    _measures(context, problems)
    return problems


def check_letter(context: Mapping[str, Any]) -> None:
    """Raise :class:`LetterCheckError` listing every problem, if there is any."""
    problems = letter_problems(context)
    if problems:
        case = context.get("case") or {}
        subject = f"the letter {context.get('letter_no') or ''} of case {case.get('id')}"
        raise LetterCheckError(" ".join(subject.split()), problems)
