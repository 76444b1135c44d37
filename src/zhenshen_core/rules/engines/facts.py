"""The fact view: the flat, documented record that rule conditions read.

Rules never see the ``Case`` object itself. They see a flat mapping from dotted field names to
plain values (str, int, float, bool, ``date`` and tuples of those). Flat because both engines
need it (durable_rules facts are capped at 255 properties and dot paths are cheap to index),
and plain because conditions must be deterministic and easy to reproduce from a decision's
``fired[].values``.

A field that the case does not have (``domain`` unset, no enterprise, a fact no enricher set) is
simply absent from the view: every test reading it is false, ``exists()`` is false and
``count()`` is 0. List fields are always present (possibly empty) except ``enterprise.tags``
when there is no enterprise.

JSON has no dates, so a fact that a pack compares with a date (``facts.since >=
date("2026-01-01")``, a table cell ``[2026-01-01..2026-06-30]``: ``ResolvedPack.date_facts``)
is read as a date when it holds an ISO date string (``"2026-03-02"``), in every view of that
pack: the same case gives the same decision whether its facts came from JSON, YAML or Python.

``decision.*`` fields are added by the engine between stages: a ``route`` rule sees what the
``classify`` stage decided, a ``review`` rule also the routing (``decision.departments.all``:
every department routing named), a ``deadline`` rule all of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from zhenshen_core.model import Case
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.enums import AppealType, CaseStatus, Chair, Channel, EnterpriseSize, Tier

STAGES: tuple[str, ...] = ("classify", "route", "review", "deadline")

#: Nesting depth of ``facts`` dictionaries flattened into ``facts.a.b`` fields.
MAX_FACT_DEPTH = 3


class FieldType(StrEnum):
    """Static types of the expression language."""

    STRING = "string"
    NUMBER = "number"
    BOOL = "bool"
    DATE = "date"
    SEVERITY = "severity"  # a string whose order is the pack's severity_levels
    LIST = "list"  # a list of strings
    ANY = "any"  # facts.<name>: checked at run time only


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of the schema: its type, label, and where its valid values come from.

    ``values`` is either a fixed tuple (enums owned by the library: a literal outside it is an
    error) or the name of a pack collection (``domains``, ``departments``, ``experts``, ``tiers``
    …: a literal outside it can never match and ``check`` warns).
    """

    name: str
    type: FieldType
    label: str
    values: tuple[str, ...] | str | None = None
    decision_only: bool = False


def _enum(values: type[StrEnum]) -> tuple[str, ...]:
    return tuple(m.value for m in values)


FACT_SCHEMA: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("case_id", FieldType.STRING, "案件编号"),
        FieldSpec("external_id", FieldType.STRING, "外部编号 (12345 工单编号)"),
        FieldSpec("status", FieldType.STRING, "状态", _enum(CaseStatus)),
        FieldSpec("domain", FieldType.STRING, "问题领域", "domains"),
        FieldSpec("appeal_type", FieldType.STRING, "诉求类型", _enum(AppealType)),
        FieldSpec("channel", FieldType.STRING, "来源渠道", _enum(Channel)),
        FieldSpec("title", FieldType.STRING, "标题"),
        FieldSpec("content", FieldType.STRING, "诉求内容"),
        FieldSpec("received_at", FieldType.DATE, "受理日期 (Asia/Shanghai)"),
        FieldSpec("enterprise.name", FieldType.STRING, "企业名称"),
        FieldSpec("enterprise.uscc", FieldType.STRING, "统一社会信用代码"),
        FieldSpec("enterprise.size", FieldType.STRING, "企业规模", _enum(EnterpriseSize)),
        FieldSpec("enterprise.industry_code", FieldType.STRING, "行业代码"),
        FieldSpec("enterprise.tags", FieldType.LIST, "企业标签"),
        FieldSpec("requester.anonymous", FieldType.BOOL, "匿名"),
        FieldSpec("requester.confidential", FieldType.BOOL, "要求保密"),
        FieldSpec("location.district", FieldType.STRING, "区县"),
        FieldSpec("location.street", FieldType.STRING, "街道"),
        FieldSpec("departments", FieldType.LIST, "涉及部门", "departments"),
        FieldSpec("lead_department", FieldType.STRING, "牵头部门", "departments"),
        FieldSpec("tags", FieldType.LIST, "案件标签"),
        FieldSpec("returns", FieldType.NUMBER, "退单次数"),
        FieldSpec("decision.severity", FieldType.SEVERITY, "严重程度", "severity_levels", True),
        FieldSpec("decision.tier", FieldType.STRING, "甄审层级", _enum(Tier), True),
        FieldSpec("decision.chair", FieldType.STRING, "主持", _enum(Chair), True),
        FieldSpec("decision.tags", FieldType.LIST, "决定标签", None, True),
        FieldSpec("decision.experts.required", FieldType.LIST, "必请专家", "experts", True),
        FieldSpec("decision.experts.suggested", FieldType.LIST, "建议专家", "experts", True),
        FieldSpec("decision.departments.lead", FieldType.STRING, "牵头部门", "departments", True),
        FieldSpec("decision.departments.co", FieldType.LIST, "配合部门", "departments", True),
        FieldSpec("decision.departments.all", FieldType.LIST, "已分办部门", "departments", True),
        FieldSpec("decision.actions", FieldType.LIST, "动作", None, True),
    )
}

FACTS_PREFIX = "facts."


def field_spec(name: str) -> FieldSpec | None:
    """The schema entry for ``name``; any ``facts.<name>`` is dynamically typed."""
    spec = FACT_SCHEMA.get(name)
    if spec is None and name.startswith(FACTS_PREFIX) and len(name) > len(FACTS_PREFIX):
        return FieldSpec(name, FieldType.ANY, "事实")
    return spec


def plain(value: Any) -> Any:
    """Normalise a JSON-ish value: lists become tuples so that values are hashable and equal
    list literals; ``None`` stays ``None`` (the caller drops it)."""
    if isinstance(value, list | tuple):
        return tuple(plain(v) for v in value)
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def as_date(value: Any) -> Any:
    """An ISO date string (``YYYY-MM-DD``) as that date (item by item in a list); any other
    value unchanged. How a date fact (``ResolvedPack.date_facts``) is read."""
    if type(value) is str:
        if len(value) == 10 and _ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:  # 2026-02-30: a string, which equals no date
                return value
        return value
    if type(value) is tuple:
        return tuple(as_date(v) for v in value)
    return value


def read_dates(view: dict[str, Any], dates: Iterable[str]) -> dict[str, Any]:
    """``view`` (changed in place and returned) with each of ``dates`` read by ``as_date``."""
    for name in dates:
        value = view.get(name)
        if value is not None:
            view[name] = as_date(value)
    return view


def _flatten_facts(prefix: str, data: Mapping[str, Any], out: dict[str, Any], depth: int) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if depth < MAX_FACT_DEPTH:
                _flatten_facts(name + ".", value, out, depth + 1)
            continue
        if value is not None:
            out[name] = plain(value)


def fact_view(case: Case, dates: Iterable[str] = ()) -> dict[str, Any]:
    """The flat fact record for one case (see the module docstring for missing-field rules);
    ``dates``: the facts to read as dates (a pack's ``date_facts``)."""
    view: dict[str, Any] = {
        "case_id": case.id,
        "status": case.status._value_,
        "appeal_type": case.appeal_type._value_,
        "channel": case.channel._value_,
        "title": case.title,
        "content": case.content,
        "received_at": case.received_at.astimezone(SHANGHAI).date(),
        "departments": tuple(d.id for d in case.departments),
        "tags": tuple(case.tags),
        "returns": len(case.returns),
    }
    if case.external_id is not None:
        view["external_id"] = case.external_id
    if case.domain is not None:
        view["domain"] = case.domain
    lead = case.lead_department
    if lead is not None:
        view["lead_department"] = lead
    enterprise = case.enterprise
    if enterprise is not None:
        view["enterprise.name"] = enterprise.name
        view["enterprise.size"] = enterprise.size._value_
        view["enterprise.tags"] = tuple(enterprise.tags)
        if enterprise.uscc is not None:
            view["enterprise.uscc"] = enterprise.uscc
        if enterprise.industry_code is not None:
            view["enterprise.industry_code"] = enterprise.industry_code
    requester = case.requester
    if requester is not None:
        view["requester.anonymous"] = requester.anonymous
        view["requester.confidential"] = requester.confidential
    location = case.location
    if location is not None:
        if location.district is not None:
            view["location.district"] = location.district
        if location.street is not None:
            view["location.street"] = location.street
    _flatten_facts(FACTS_PREFIX, case.facts, view, 1)
    return read_dates(view, dates) if dates else view


class FactProjection:
    """``fact_view`` restricted to the fields a pack reads: the same values, less work.

    An engine builds one per pack from the union of its rules' ``reads``; building the whole
    view (time zones, tuples, nested facts) for every case would cost more than matching.
    ``projection(case)`` equals ``{k: v for k, v in fact_view(case).items() if k in fields}``.
    """

    def __init__(self, fields: Iterable[str], dates: Iterable[str] = ()) -> None:
        wanted = frozenset(fields)
        self.fields = wanted
        self._dates = tuple(sorted(name for name in dates if name in wanted))
        self._plain = tuple(
            (name, attr)
            for name, attr in (
                ("case_id", "id"),
                ("title", "title"),
                ("content", "content"),
                ("external_id", "external_id"),
                ("domain", "domain"),
            )
            if name in wanted
        )
        self._enums = tuple(
            (name, name) for name in ("status", "appeal_type", "channel") if name in wanted
        )
        self._received = "received_at" in wanted
        self._departments = "departments" in wanted
        self._lead = "lead_department" in wanted
        self._tags = "tags" in wanted
        self._returns = "returns" in wanted
        self._enterprise = any(n.startswith("enterprise.") for n in wanted)
        self._requester = any(n.startswith("requester.") for n in wanted)
        self._location = any(n.startswith("location.") for n in wanted)
        self._enterprise_fields: tuple[tuple[str, str], ...] = tuple(
            (name, name.removeprefix("enterprise."))
            for name in sorted(wanted)
            if name
            in (
                "enterprise.name",
                "enterprise.size",
                "enterprise.tags",
                "enterprise.uscc",
                "enterprise.industry_code",
            )
        )
        self._requester_fields = tuple(
            (name, name.removeprefix("requester."))
            for name in ("requester.anonymous", "requester.confidential")
            if name in wanted
        )
        self._location_fields = tuple(
            (name, name.removeprefix("location."))
            for name in ("location.district", "location.street")
            if name in wanted
        )
        self._fact_paths = tuple(
            (name, tuple(name.removeprefix(FACTS_PREFIX).split(".")))
            for name in sorted(wanted)
            if name.startswith(FACTS_PREFIX)
            and 0 < len(name.removeprefix(FACTS_PREFIX).split(".")) <= MAX_FACT_DEPTH
        )

    def __call__(self, case: Case) -> dict[str, Any]:
        # Runs once per evaluated case: reads the model's __dict__ directly (pydantic stores
        # fields there) and tests ``type(x) is dict`` before the slower Mapping check.
        data = case.__dict__
        view: dict[str, Any] = {}
        for name, attr in self._plain:
            value = data[attr]
            if value is not None:
                view[name] = value
        for name, attr in self._enums:
            view[name] = data[attr]._value_
        if self._received:
            view["received_at"] = data["received_at"].astimezone(SHANGHAI).date()
        if self._departments:
            departments = data["departments"]
            view["departments"] = tuple([d.id for d in departments]) if departments else ()
        if self._lead:
            lead = case.lead_department
            if lead is not None:
                view["lead_department"] = lead
        if self._tags:
            view["tags"] = tuple(data["tags"])
        if self._returns:
            view["returns"] = len(data["returns"])
        if self._enterprise:
            enterprise = data["enterprise"]
            if enterprise is not None:
                for name, attr in self._enterprise_fields:
                    value = getattr(enterprise, attr)
                    if value is not None:
                        view[name] = (
                            tuple(value)
                            if attr == "tags"
                            else value._value_
                            if attr == "size"
                            else value
                        )
        if self._requester:
            requester = data["requester"]
            if requester is not None:
                for name, attr in self._requester_fields:
                    view[name] = getattr(requester, attr)
        if self._location:
            location = data["location"]
            if location is not None:
                for name, attr in self._location_fields:
                    value = getattr(location, attr)
                    if value is not None:
                        view[name] = value
        if self._fact_paths:
            facts = data["facts"]
            for name, path in self._fact_paths:
                if len(path) == 1:  # ``facts.x``, the usual case; facts is a validated dict
                    cursor: Any = facts.get(path[0])
                else:
                    cursor = facts
                    for key in path:
                        if type(cursor) is dict or isinstance(cursor, Mapping):
                            cursor = cursor.get(key)
                        else:
                            cursor = None
                        if cursor is None:
                            break
                if cursor is None:
                    continue
                kind = type(cursor)
                # JSON scalars first: the ABC check below is slow and they are the usual case.
                if kind is str or kind is int or kind is float or kind is bool:
                    view[name] = cursor
                elif kind is list:
                    view[name] = plain(cursor)
                elif not (kind is dict or isinstance(cursor, Mapping)):
                    view[name] = cursor
            if self._dates:
                read_dates(view, self._dates)
        return view


__all__ = [
    "FACTS_PREFIX",
    "FACT_SCHEMA",
    "MAX_FACT_DEPTH",
    "STAGES",
    "FactProjection",
    "FieldSpec",
    "FieldType",
    "as_date",
    "fact_view",
    "field_spec",
    "plain",
    "read_dates",
]
