"""The template context of the 甄别审查意见书 (review opinion letter).

Templates are pack data written by district staff, so they get a plain, documented dictionary of
strings, lists and small dicts — never the pydantic ``Case`` — with every enum code already turned
into its Chinese label and every date already formatted the way government documents write it
(``2020年4月15日``). That keeps templates free of logic and lets the sandbox forbid everything
else. The keys (all always present; ``None`` or empty where the case has nothing):

``title``            "甄别审查意见书"
``letter_no``        文号, e.g. "成高甄审〔2026〕12号"
``org``              issuing body, e.g. "成都高新区营商环境领导小组办公室"
``issued_at``        ISO timestamp; ``issued_date`` "2026年11月27日"
``case``             {id, external_id, channel, channel_label, appeal_type, appeal_type_label,
                     received_date, title, content, domain, domain_label, street, address}
``enterprise``       {name, uscc, size, size_label, industry_code, tags} or None
``requester``        "王先生" / "匿名" / None (never the phone number)
``lead``             {id, name} of the lead department (牵头) or None
``co``               [{id, name}] co-departments (配合)
``tier``, ``chair``, ``severity``  {code, label} or None
``meetings``         [{kind, kind_label, date, chair_label, attendees: [names], minutes}]
``experts``          [{kind, kind_label, name, required, reason, advice}]
``result``           {code, label} — 甄审结果
``reasons``          理由 (text)
``measures``         [{description, department, department_name, due, due_date}]
``legal_basis``      [text]
``rules``            ids of the rules that fired (from the decision), for the record
``template``         optional template name or path the renderer should use (None: built-in)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from zhenshen_core.letters.render import LetterError
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
DEFAULT_ORG = "成都高新区营商环境领导小组办公室"
DEFAULT_EXPERT_NAMES: Mapping[str, str] = {
    "lawyer": "律师",
    "think_tank": "智库专家",
    "industry": "行业专家",
}


def chinese_date(value: date | datetime | None) -> str | None:
    """``2020年4月15日`` — the date form of Chinese official documents (no leading zeros)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.astimezone(SHANGHAI).date()
    return f"{value.year}年{value.month}月{value.day}日"


def letter_number(prefix: str, year: int, seq: int) -> str:
    """文号 in the GB/T 9704 form: 发文机关代字〔年份〕序号号, e.g. ``成高甄审〔2026〕12号``."""
    if seq < 1:
        raise ValueError(f"letter sequence number must be positive, got {seq}")
    return f"{prefix}〔{year}〕{seq}号"


def pack_names(pack: Any) -> dict[str, dict[str, str]]:
    """Department, expert and domain names from a resolved rule pack, as the keyword arguments
    of :func:`letter_context`. Old department ids (aliases of renamed bureaus) map to the
    current name, so a case routed before a renaming still shows a readable 责任单位."""
    departments: dict[str, str] = {}
    for spec in getattr(pack, "departments", {}).values():
        name = spec.name or spec.id
        for alias in getattr(spec, "aliases", ()) or ():
            departments.setdefault(alias, name)
        departments[spec.id] = name
    experts = {e.id: e.name or e.id for e in getattr(pack, "experts", {}).values()}
    domains = {d.id: d.name or d.id for d in getattr(pack, "domains", {}).values()}
    return {"department_names": departments, "expert_names": experts, "domain_names": domains}


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
    case: Case,
    explicit: Sequence[Mapping[str, Any]] | None,
    lead: str | None,
    names: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Structured measures: explicit ones, then execution tasks, then the opinion's own measure
    texts not already listed (assigned to the lead department; no due date yet)."""
    rows: list[dict[str, Any]] = []
    for item in explicit or ():
        due = item.get("due")
        if isinstance(due, str):
            due = date.fromisoformat(due)
        rows.append(
            {
                "description": str(item.get("description", "")),
                "department": item.get("department"),
                "due": due.isoformat() if isinstance(due, date) else None,
                "due_date": chinese_date(due) if isinstance(due, date) else None,
            }
        )
    for task in case.tasks:
        rows.append(
            {
                "description": task.description,
                "department": task.department,
                "due": task.due.isoformat() if task.due else None,
                "due_date": chinese_date(task.due),
            }
        )
    listed = {r["description"] for r in rows}
    for text in case.opinion.measures if case.opinion else []:
        if text not in listed:
            rows.append({"description": text, "department": lead, "due": None, "due_date": None})
    for row in rows:
        row["department_name"] = names.get(row["department"] or "", row["department"])
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
    measures: Sequence[Mapping[str, Any]] | None = None,
    template: str | None = None,
    pack: Any | None = None,
) -> dict[str, Any]:
    """Build the letter's template context (keys in the module docstring).

    The case must carry its review opinion (result **and** reasons, as the article requires).
    ``letter_no`` and ``issued_at`` default to the opinion's own; the decision fills tier,
    chair, severity and departments the case does not record yet. The ``*_names`` maps come
    from the rule pack (department, expert and domain id → Chinese name); unknown ids are shown
    as they are; ``pack`` (a resolved rule pack) supplies all three at once, explicit maps
    winning over it (see :func:`pack_names`). ``measures`` lets the caller state the planned
    measures (description, department, due) before execution tasks exist.
    """
    opinion = case.opinion
    if opinion is None:
        raise LetterError(
            f"case {case.id} has no review opinion yet; issue the opinion (result and reasons) "
            "before rendering its letter"
        )
    decision = decision or {}
    from_pack = pack_names(pack) if pack is not None else {}
    dept_names = {**from_pack.get("department_names", {}), **(department_names or {})}
    experts_named = {
        **DEFAULT_EXPERT_NAMES,
        **from_pack.get("expert_names", {}),
        **(expert_names or {}),
    }
    domains_named = {**from_pack.get("domain_names", {}), **(domain_names or {})}

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

    meetings = [
        {
            "kind": m.kind.value,
            "kind_label": m.kind.label,
            "date": chinese_date(m.held_at or m.scheduled_at),
            "held": m.held_at is not None,
            "chair_label": m.chair.label if m.chair else None,
            "attendees": [dept_names.get(a, experts_named.get(a, a)) for a in m.attendees],
            "minutes": m.minutes,
        }
        for m in case.meetings
    ]
    experts = [
        {
            "kind": e.kind,
            "kind_label": experts_named.get(e.kind, e.kind),
            "name": e.name,
            "required": e.required,
            "reason": e.reason,
            "advice": e.advice,
        }
        for e in case.experts
    ]
    severity = case.severity or decision.get("severity")
    fired = [str(f.get("rule", "")) for f in decision.get("fired") or [] if isinstance(f, Mapping)]

    return {
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
            "received_date": chinese_date(case.received_at),
            "title": case.title,
            "content": case.content,
            "domain": case.domain,
            "domain_label": domains_named.get(case.domain or "", case.domain),
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
        "lead": _dept(lead, dept_names),
        "co": [_dept(d, dept_names) for d in co_ids],
        "tier": _coded(Tier, case.tier or decision.get("tier")),
        "chair": _coded(Chair, case.chair or decision.get("chair")),
        "severity": {"code": severity, "label": severity} if severity else None,
        "meetings": meetings,
        "experts": experts,
        "result": _coded(OpinionResult, opinion.result),
        "reasons": opinion.reasons,
        "measures": _measures(case, measures, lead, dept_names),
        "legal_basis": list(opinion.legal_basis),
        "rules": [f for f in fired if f],
        "template": template,
    }
