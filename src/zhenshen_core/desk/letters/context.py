"""The template context of the 甄别审查意见书 (review opinion letter).

Templates are pack data written by district staff, so they get a plain, documented dictionary of
strings, lists and small dicts — never the pydantic ``Case`` — with every enum code already turned
into its Chinese label and every date already formatted the way government documents write it
(``2020年4月15日``). That keeps templates free of logic and lets the sandbox forbid everything
else. The keys (all always present; ``None`` or empty where the case has nothing):

``title``            "甄别审查意见书"
``letter_no``        文号, e.g. "武营审〔2026〕12号"
``org``              issuing body, e.g. "武侯区营商环境领导小组办公室"
``issued_at``        ISO timestamp; ``issued_date`` "2026年11月27日"
``case``             {id, external_id, channel, channel_label, appeal_type, appeal_type_label,
                     received_at, received_date, title, content, domain, domain_label, street,
                     address}
``enterprise``       {name, uscc, size, size_label, industry_code, tags} or None
``requester``        "王先生" / "匿名" / None (never the phone number)
``lead``             {id, name} of the lead department (牵头) or None
``co``               [{id, name}] co-departments (配合)
``tier``, ``chair``, ``severity``  {code, label} or None
``meetings``         [{kind, kind_label, at, date, held, chair_label, attendees: [names],
                     attendee_ids: [ids], minutes}] — the meetings up to the opinion (a later
                     leading-group meeting is not part of the letter)
``experts``          [{kind, kind_label, name, required, reason, advice, advised_at}] — the
                     experts the rules required and any expert whose advice is recorded
``result``           {code, label} — 甄审结果
``reasons``          理由 (text)
``measures``         [{description, department, department_name, period, due, due_date}]
``legal_basis``      [text]
``rules``            ids of the rules that fired (from the decision), for the record
``template``         optional template name or path the renderer should use (None: built-in)

Every name is the pack's display name and every date the letter cites is on or before its own;
:func:`zhenshen_core.desk.letters.check_letter` refuses a context where that does not hold.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from zhenshen_core.deadlines import Calendar
from zhenshen_core.desk.letters.check import check_letter
from zhenshen_core.desk.letters.errors import LetterError
from zhenshen_core.desk.letters.measures import (
    MeasureInput,
    measure_department,
    measure_due,
    measure_fields,
)
from zhenshen_core.desk.letters.names import Names
from zhenshen_core.desk.settings import GENERIC
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.model.enums import (
    AppealType,
    Chair,
    DepartmentRole,
    LabeledEnum,
    OpinionResult,
    Tier,
)

TITLE = "甄别审查意见书"
DEFAULT_ORG = GENERIC.org


def chinese_date(value: date | datetime | None) -> str | None:
    """``2020年4月15日`` — the date form of Chinese official documents (no leading zeros)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.astimezone(SHANGHAI).date()
    return f"{value.year}年{value.month}月{value.day}日"


def letter_number(prefix: str, year: int, seq: int) -> str:
    """文号 in the GB/T 9704 form: 发文机关代字〔年份〕序号号, e.g. ``武营审〔2026〕12号``."""
    if seq < 1:
        raise ValueError(f"letter sequence number must be positive, got {seq}")
    return f"{prefix}〔{year}〕{seq}号"


def _coded(enum: type[LabeledEnum], value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    try:
        member = enum(value)
    except ValueError:
        return {"code": str(value), "label": str(value)}
    return {"code": member.value, "label": member.label}


def _dept(dept_id: str | None, names: Mapping[str, str]) -> dict[str, str] | None:
    if not dept_id:
        return None
    return {"id": dept_id, "name": names.get(dept_id, dept_id)}


def _measures(
    opinion_measures: Sequence[MeasureInput],
    *,
    names: Names,
    issued_at: datetime,
    calendar: Calendar | None,
) -> list[dict[str, Any]]:
    """The measures with department and due day. One stored before measures had both (plain
    text) is completed from its text where it can be; what stays missing the check reports."""

    def the_calendar() -> Calendar:
        if calendar is not None:
            return calendar
        from zhenshen_core.deadlines import national_calendar

        return national_calendar()

    rows: list[dict[str, Any]] = []
    for item in opinion_measures:
        fields = measure_fields(item)
        department = fields.get("department")
        with contextlib.suppress(ValueError):  # what stays missing, the check names
            department = measure_department(fields, names)
        try:
            due, period = measure_due(fields, issued_at=issued_at, calendar=the_calendar)
        except ValueError:
            due, period = None, fields.get("period")
        rows.append(
            {
                "description": str(fields.get("description") or ""),
                "department": department,
                "department_name": names.department(department) if department else None,
                "period": period,
                "due": due.isoformat() if due else None,
                "due_date": chinese_date(due),
            }
        )
    return rows


def letter_context(
    case: Case,
    decision: Mapping[str, Any] | None = None,
    *,
    letter_no: str | None = None,
    issued_at: datetime | None = None,
    org: str = DEFAULT_ORG,
    department_names: Mapping[str, str] | None = None,
    expert_names: Mapping[str, str] | None = None,
    domain_names: Mapping[str, str] | None = None,
    measures: Sequence[MeasureInput] | None = None,
    template: str | None = None,
    pack: Any | None = None,
    calendar: Calendar | None = None,
    check: bool = True,
) -> dict[str, Any]:
    """Build the letter's template context (keys in the module docstring) and check it.

    The case must carry its review opinion (result **and** reasons, as the article requires).
    ``letter_no`` and ``issued_at`` default to the opinion's own; the decision fills tier,
    chair, severity and departments the case does not record yet. Names come from ``pack`` (a
    resolved rule pack) and the ``*_names`` maps (id → Chinese name), explicit maps winning.
    ``measures`` replaces the opinion's measures (text or ``{description, department,
    period | due}``); a period is counted from the opinion's date on ``calendar`` (default:
    the national calendar). The context is checked (:func:`check_letter`) unless ``check`` is
    False — a :class:`LetterCheckError` lists every problem.
    """
    opinion = case.opinion
    if opinion is None:
        raise LetterError(
            f"case {case.id} has no review opinion yet; issue the opinion (result and reasons) "
            "before rendering its letter"
        )
    decision = decision or {}
    names = Names.build(
        pack,
        department_names=department_names,
        expert_names=expert_names,
        domain_names=domain_names,
    )

    decided = decision.get("departments") or {}
    lead = case.lead_department or decided.get("lead")
    co_ids = [d.id for d in case.departments if d.role is DepartmentRole.CO]
    for dept in decided.get("co") or []:
        if dept not in co_ids and dept != lead:
            co_ids.append(dept)

    issued = issued_at or opinion.issued_at
    enterprise = case.enterprise
    requester = case.requester
    if requester is None:
        requester_text = None
    elif requester.anonymous or not requester.name:
        requester_text = "匿名"
    else:
        requester_text = requester.name

    # The letter reports the process up to its opinion; what came after (the leading group's
    # confirmation, a later round) is not part of it.
    meetings = []
    for m in case.meetings:
        when = m.held_at or m.scheduled_at
        if when > opinion.issued_at:
            continue
        meetings.append(
            {
                "kind": m.kind.value,
                "kind_label": m.kind.label,
                "at": when.isoformat(),
                "date": chinese_date(when),
                "held": m.held_at is not None,
                "chair_label": m.chair.label if m.chair else None,
                "attendees": [names.attendee(a) for a in m.attendees],
                "attendee_ids": list(m.attendees),
                "minutes": m.minutes,
            }
        )
    experts = [
        {
            "kind": e.kind,
            "kind_label": names.experts.get(e.kind, e.kind),
            "name": e.name,
            "required": e.required,
            "reason": e.reason,
            "advice": e.advice,
            "advised_at": e.advised_at.isoformat() if e.advised_at else None,
        }
        for e in case.experts
        if e.required or e.advice
    ]
    severity = case.severity or decision.get("severity")
    fired = [str(f.get("rule", "")) for f in decision.get("fired") or [] if isinstance(f, Mapping)]

    context = {
        "title": TITLE,
        "letter_no": letter_no or opinion.letter_no,
        "org": org,
        "issued_at": issued.isoformat(),
        "issued_date": chinese_date(issued),
        "case": {
            "id": case.id,
            "external_id": case.external_id,
            "channel": case.channel.value,
            "channel_label": case.channel.label,
            "appeal_type": case.appeal_type.value,
            "appeal_type_label": AppealType(case.appeal_type).label,
            "received_at": case.received_at.isoformat(),
            "received_date": chinese_date(case.received_at),
            "title": case.title,
            "content": case.content,
            "domain": case.domain,
            "domain_label": names.domains.get(case.domain or "", case.domain),
            "street": case.location.street if case.location else None,
            "address": case.location.address if case.location else None,
        },
        "enterprise": None
        if enterprise is None
        else {
            "name": enterprise.name,
            "uscc": enterprise.uscc,
            "size": enterprise.size.value,
            "size_label": enterprise.size.label,
            "industry_code": enterprise.industry_code,
            "tags": list(enterprise.tags),
        },
        "requester": requester_text,
        "lead": _dept(lead, names.departments),
        "co": [_dept(d, names.departments) for d in co_ids],
        "tier": _coded(Tier, case.tier or decision.get("tier")),
        "chair": _coded(Chair, case.chair or decision.get("chair")),
        "severity": {"code": severity, "label": severity} if severity else None,
        "meetings": meetings,
        "experts": experts,
        "result": _coded(OpinionResult, opinion.result),
        "reasons": opinion.reasons,
        "measures": _measures(
            opinion.measures if measures is None else measures,
            names=names,
            issued_at=opinion.issued_at,
            calendar=calendar,
        ),
        "legal_basis": list(opinion.legal_basis),
        "rules": [f for f in fired if f],
        "template": template,
    }
    if check:
        check_letter(context)
    return context
