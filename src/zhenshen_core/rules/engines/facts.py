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

**One field spec.** Each field is declared once, in ``FACT_FIELDS``: its name, type, label and
valid values, where it lives on the case (``path``) and how its value is read (``read``: one of
``READERS``). Everything else is derived from that list: ``FACT_SCHEMA`` (what the type checker
and ``zhenshen check`` know), ``fact_view`` (every field of a case), ``FactProjection`` (the
fields a pack reads, for the engines), ``RecordProjection`` (the same fields straight from a raw
JSON record, for ``zhenshen diff``) and ``fact_json_schema`` (the JSON Schema editors use). Adding
a fact is adding one ``FieldSpec`` line (``CONTRIBUTING.md``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from zhenshen_core.model import Case
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.enums import (
    AppealType,
    CaseStatus,
    Channel,
    DepartmentRole,
    EnterpriseSize,
)
from zhenshen_core.rules.engines.outputs import OUTPUTS, OutputKind

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
    """One fact field, declared once; see the module docstring.

    ``values`` is either a fixed tuple (enums owned by the library: a literal outside it is an
    error) or the name of a pack collection (``domains``, ``departments``, ``experts``, ``tiers``
    …: a literal outside it can never match and ``check`` warns). ``path`` is where the value
    lives on the case (``("enterprise", "size")``; empty for the ``decision.*`` fields, which
    the engine adds) and ``read`` names the ``READERS`` entry that turns it into a fact value.
    ``canonical`` (optional) says whether a raw record's string is already in the form the
    case model would store (``RecordProjection`` takes the validated path for any other).
    ``from_record`` False: the value is derived by the model (the case id), so a raw record
    cannot give it.
    """

    name: str
    type: FieldType
    label: str
    values: tuple[str, ...] | str | None = None
    decision_only: bool = False
    path: tuple[str, ...] = ()
    read: str = "value"
    canonical: Callable[[str], object] | None = None
    from_record: bool = True


def _enum(values: type[StrEnum]) -> tuple[str, ...]:
    return tuple(m.value for m in values)


#: What the model stores for a USCC (``model.identity.validate_uscc``: 18 characters, digits and
#: upper-case letters); a raw record's code in any other form is read through the model.
_USCC_FORM = re.compile(r"[0-9A-Z]{18}")

F, T = FieldSpec, FieldType
_OUTPUT_TYPES = {OutputKind.LEVEL: T.SEVERITY, OutputKind.CHOICE: T.STRING, OutputKind.LIST: T.LIST}

FACT_FIELDS: tuple[FieldSpec, ...] = (
    F("case_id", T.STRING, "案件编号", path=("id",), from_record=False),
    F(
        "external_id",
        T.STRING,
        "外部编号 (12345 工单编号)",
        path=("external_id",),
        from_record=False,
    ),
    F("status", T.STRING, "状态", _enum(CaseStatus), path=("status",), read="enum"),
    F("domain", T.STRING, "问题领域", "domains", path=("domain",)),
    F("appeal_type", T.STRING, "诉求类型", _enum(AppealType), path=("appeal_type",), read="enum"),
    F("channel", T.STRING, "来源渠道", _enum(Channel), path=("channel",), read="enum"),
    F("title", T.STRING, "标题", path=("title",)),
    F("content", T.STRING, "诉求内容", path=("content",)),
    F("received_at", T.DATE, "受理日期 (Asia/Shanghai)", path=("received_at",), read="day"),
    F("enterprise.name", T.STRING, "企业名称", path=("enterprise", "name")),
    F(
        "enterprise.uscc",
        T.STRING,
        "统一社会信用代码",
        path=("enterprise", "uscc"),
        canonical=_USCC_FORM.fullmatch,
    ),
    F(
        "enterprise.size",
        T.STRING,
        "企业规模",
        _enum(EnterpriseSize),
        path=("enterprise", "size"),
        read="enum",
    ),
    F("enterprise.industry_code", T.STRING, "行业代码", path=("enterprise", "industry_code")),
    F("enterprise.tags", T.LIST, "企业标签", path=("enterprise", "tags"), read="strings"),
    # Personal data: rules read the real values; a decision's trace shows them masked.
    F("requester.name", T.STRING, "诉求人姓名", path=("requester", "name")),
    F("requester.phone", T.STRING, "联系电话", path=("requester", "phone")),
    F("requester.anonymous", T.BOOL, "匿名", path=("requester", "anonymous")),
    F("requester.confidential", T.BOOL, "要求保密", path=("requester", "confidential")),
    F("location.district", T.STRING, "区县", path=("location", "district")),
    F("location.street", T.STRING, "街道", path=("location", "street")),
    F("departments", T.LIST, "涉及部门", "departments", path=("departments",), read="ids"),
    F("lead_department", T.STRING, "牵头部门", "departments", path=("departments",), read="lead"),
    F("tags", T.LIST, "案件标签", path=("tags",), read="strings"),
    F("returns", T.NUMBER, "退单次数", path=("returns",), read="count"),
    # decision.*: one per ``then:`` output (``engines.outputs``), added by the engine
    *(
        F(o.fact, _OUTPUT_TYPES[o.kind], o.label, o.values, True)
        for o in OUTPUTS
        if o.fact is not None
    ),
    F("decision.departments.all", T.LIST, "已分办部门", "departments", True),
)

del F, T, _OUTPUT_TYPES

FACT_SCHEMA: dict[str, FieldSpec] = {spec.name: spec for spec in FACT_FIELDS}

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


# --- readers: a case's value -> the fact value, and the same from a raw JSON record ---------------


class NotCanonical(Exception):
    """A raw record's value is not in the form the case model stores (or is missing where the
    model requires it): read the record through the model instead."""


def _text(value: Any) -> str:
    if type(value) is not str:
        raise NotCanonical
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if type(value) is not list or not all(type(v) is str for v in value):
        raise NotCanonical
    return tuple(value)


def _day(value: Any) -> date:
    instant: datetime = value
    return instant.astimezone(SHANGHAI).date()


def _raw_day(value: Any) -> date:
    try:
        instant = datetime.fromisoformat(_text(value))
    except ValueError as exc:
        raise NotCanonical from exc
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=SHANGHAI)
    return instant.astimezone(SHANGHAI).date()


def _lead(departments: Any) -> str | None:
    for d in departments:
        if d.role is DepartmentRole.LEAD:
            return str(d.id)
    return None


def _raw_assignments(value: Any) -> list[dict[str, Any]]:
    if type(value) is not list or not all(
        type(d) is dict and type(d.get("id")) is str for d in value
    ):
        raise NotCanonical
    return value


def _raw_lead(value: Any) -> str | None:
    items = _raw_assignments(value)
    if any(d.get("role") not in (None, "lead", "co") for d in items):
        raise NotCanonical
    leads = [d["id"] for d in items if d.get("role") == "lead"]
    if len(leads) > 1:
        raise NotCanonical
    return leads[0] if leads else None


def _raw_count(value: Any) -> int:
    if type(value) is not list:
        raise NotCanonical
    return len(value)


@dataclass(frozen=True, slots=True)
class Reader:
    """How one kind of field is read: ``case`` from the model's value (never None), ``record``
    from a raw JSON value (raises ``NotCanonical`` for a value the model would change)."""

    case: Callable[[Any], Any] | None  # None: the value as it is
    record: Callable[[Any], Any]


READERS: dict[str, Reader] = {
    "value": Reader(None, lambda v: v),  # type-checked against FieldSpec.type by the record path
    "enum": Reader(lambda v: v._value_, _text),
    "day": Reader(_day, _raw_day),
    "strings": Reader(tuple, _strings),
    "ids": Reader(
        lambda ds: tuple([d.id for d in ds]), lambda v: tuple(d["id"] for d in _raw_assignments(v))
    ),
    "lead": Reader(_lead, _raw_lead),
    "count": Reader(len, _raw_count),
}


# --- the view of a case, whole or projected ---------------------------------------------------


Getter = Callable[[dict[str, Any]], Any]


def _case_getter(spec: FieldSpec) -> Getter:
    """Reads ``spec``'s value (None: absent) from a case's ``__dict__`` (pydantic keeps fields
    there: faster than attribute access, and this runs for every field of every case)."""
    convert = READERS[spec.read].case
    head = spec.path[0]
    if len(spec.path) == 1:
        if convert is None:
            return lambda data: data[head]

        def top(data: dict[str, Any]) -> Any:
            value = data[head]
            return None if value is None else convert(value)

        return top
    leaf = spec.path[1]

    def nested(data: dict[str, Any]) -> Any:
        parent = data[head]
        if parent is None:
            return None
        value = parent.__dict__[leaf]
        if value is None or convert is None:
            return value
        return convert(value)

    return nested


def _flatten_facts(prefix: str, data: Mapping[str, Any], out: dict[str, Any], depth: int) -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if depth < MAX_FACT_DEPTH:
                _flatten_facts(name + ".", value, out, depth + 1)
            continue
        if value is not None:
            out[name] = plain(value)


def _fact_path(name: str) -> tuple[str, ...] | None:
    """``facts.a.b`` -> ``("a", "b")``; None for a name deeper than ``MAX_FACT_DEPTH``."""
    path = tuple(name.removeprefix(FACTS_PREFIX).split("."))
    return path if 0 < len(path) <= MAX_FACT_DEPTH else None


class FactProjection:
    """The fact view of a case restricted to ``fields`` (a pack's reads), built from the field
    spec: ``projection(case)`` equals ``{k: v for k, v in fact_view(case).items() if k in
    fields}``, with no work for the fields nobody reads."""

    def __init__(self, fields: Iterable[str], dates: Iterable[str] = ()) -> None:
        wanted = frozenset(fields)
        self.fields = wanted
        self._dates = tuple(sorted(name for name in dates if name in wanted))
        self._getters = tuple(
            (spec.name, _case_getter(spec))
            for spec in FACT_FIELDS
            if spec.path and spec.name in wanted
        )
        self._fact_paths = tuple(
            (name, path)
            for name in sorted(wanted)
            if name.startswith(FACTS_PREFIX) and (path := _fact_path(name)) is not None
        )

    def __call__(self, case: Case) -> dict[str, Any]:
        data = case.__dict__
        view: dict[str, Any] = {}
        for name, get in self._getters:
            value = get(data)
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


#: Every field a case gives (the ``facts.*`` are added by ``fact_view``).
_CASE_FIELDS = FactProjection(spec.name for spec in FACT_FIELDS if spec.path)


def fact_view(case: Case, dates: Iterable[str] = ()) -> dict[str, Any]:
    """The flat fact record for one case (see the module docstring for missing-field rules);
    ``dates``: the facts to read as dates (a pack's ``date_facts``)."""
    view = _CASE_FIELDS(case)
    _flatten_facts(FACTS_PREFIX, case.facts, view, 1)
    return read_dates(view, dates) if dates else view


# --- the same view from a raw JSON record ---------------------------------------------------------


def _record_default(path: tuple[str, ...]) -> Any:
    """What the case model stores for ``path`` when a record leaves it out (its declared
    default, as a JSON value); ``NotCanonical`` when the model requires it."""
    from pydantic import BaseModel
    from pydantic_core import PydanticUndefined

    from zhenshen_core.model.case import Enterprise, Location, Requester

    models: dict[str, type[BaseModel]] = {
        "enterprise": Enterprise,
        "requester": Requester,
        "location": Location,
    }
    model: type[BaseModel] = Case if len(path) == 1 else models[path[0]]
    info = model.model_fields[path[-1]]
    if info.default is PydanticUndefined and info.default_factory is None:
        return NotCanonical  # required: a record without it is for the model to report
    default = info.get_default(call_default_factory=True)
    return default.value if isinstance(default, StrEnum) else default


Extractor = Callable[[Mapping[str, Any], dict[str, Any]], None]
_KINDS: dict[FieldType, tuple[type, ...]] = {
    FieldType.STRING: (str,),
    FieldType.BOOL: (bool,),
}


def _record_extractor(spec: FieldSpec) -> Extractor:
    name, path, read = spec.name, spec.path, READERS[spec.read].record
    default = _record_default(path)
    kinds = _KINDS.get(spec.type) if spec.read == "value" else None
    allowed = frozenset(spec.values) if isinstance(spec.values, tuple) else None
    canonical = spec.canonical
    head, leaf = path[0], path[-1]

    def extract(data: Mapping[str, Any], view: dict[str, Any]) -> None:
        block: Any = data
        if len(path) == 2:
            block = data.get(head)
            if block is None:
                return
            if type(block) is not dict:
                raise NotCanonical
        value = block.get(leaf, default)
        if value is NotCanonical:
            raise NotCanonical
        if value is None:
            if default is not None:  # null where the model stores a value: the model decides
                raise NotCanonical
            return
        if kinds is not None and type(value) not in kinds:
            raise NotCanonical
        value = read(value)
        if allowed is not None and value not in allowed:
            raise NotCanonical
        if canonical is not None and not canonical(value):
            raise NotCanonical
        if value is not None:
            view[name] = value

    return extract


def _record_fact(name: str, parts: tuple[str, ...]) -> Extractor:
    def fact(data: Mapping[str, Any], view: dict[str, Any]) -> None:
        node: Any = data.get("facts") or {}
        for part in parts:
            if not isinstance(node, dict):
                return
            node = node.get(part)
        if node is not None and not isinstance(node, dict):
            view[name] = plain(node)

    return fact


class RecordProjection:
    """``FactProjection`` read straight from a raw case record (a line of a corpus or a stored
    case's JSON), without validating the ``Case``.

    For a record in the canonical shape (values of their final types, codes spelled as the
    enums spell them) ``projection(record)`` equals ``FactProjection(fields, dates)`` of the
    validated case. Any value the model would coerce, normalise or refuse raises
    ``NotCanonical``: the caller validates the record and takes the ordinary path. ``build``
    gives None when a field cannot come from a raw record at all (``case_id``, ``decision.*``).
    """

    def __init__(self, extractors: list[Extractor], dates: tuple[str, ...]) -> None:
        self._extractors = extractors
        self._dates = dates

    @classmethod
    def build(cls, fields: Iterable[str], dates: Iterable[str] = ()) -> RecordProjection | None:
        wanted = sorted(frozenset(fields))
        extractors: list[Extractor] = []
        for name in wanted:
            spec = FACT_SCHEMA.get(name)
            if spec is not None:
                if not spec.path or not spec.from_record:
                    return None
                extractors.append(_record_extractor(spec))
            elif name.startswith(FACTS_PREFIX) and len(name.split(".")) <= MAX_FACT_DEPTH + 1:
                extractors.append(_record_fact(name, tuple(name.split(".")[1:])))
            else:
                return None
        return cls(extractors, tuple(sorted(n for n in dates if n in wanted)))

    def __call__(self, data: Mapping[str, Any]) -> dict[str, Any]:
        view: dict[str, Any] = {}
        for extract in self._extractors:
            extract(data, view)
        return read_dates(view, self._dates) if self._dates else view


# --- the JSON Schema editors use ------------------------------------------------------------------

_JSON_TYPES: dict[FieldType, dict[str, Any]] = {
    FieldType.STRING: {"type": "string"},
    FieldType.NUMBER: {"type": "number"},
    FieldType.BOOL: {"type": "boolean"},
    FieldType.DATE: {"type": "string", "format": "date"},
    FieldType.SEVERITY: {"type": "string"},
    FieldType.LIST: {"type": "array", "items": {"type": "string"}},
    FieldType.ANY: {},
}


def fact_json_schema() -> dict[str, Any]:
    """The fact view as a JSON Schema (``zhenshen schema facts``): one property per field with
    its label and, for the library's enums, its values; ``facts.*`` are open."""
    properties: dict[str, Any] = {}
    for spec in FACT_FIELDS:
        entry: dict[str, Any] = {**_JSON_TYPES[spec.type], "title": spec.label}
        if isinstance(spec.values, tuple):
            target = entry["items"] if spec.type is FieldType.LIST else entry
            target["enum"] = list(spec.values)
        elif isinstance(spec.values, str):
            entry["description"] = f"one of the pack's {spec.values}"
        if spec.decision_only:
            entry["description"] = (
                entry.get("description", "") + "; set by the engine between stages"
            ).lstrip("; ")
        properties[spec.name] = entry
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "zhenshen fact view",
        "description": "What rule conditions read: flat, dotted field names.",
        "type": "object",
        "properties": properties,
        "patternProperties": {r"^facts\.[^.]+(\.[^.]+){0,2}$": {}},
        "additionalProperties": False,
    }


__all__ = [
    "FACTS_PREFIX",
    "FACT_FIELDS",
    "FACT_SCHEMA",
    "MAX_FACT_DEPTH",
    "READERS",
    "STAGES",
    "FactProjection",
    "FieldSpec",
    "FieldType",
    "NotCanonical",
    "Reader",
    "RecordProjection",
    "as_date",
    "fact_json_schema",
    "fact_view",
    "field_spec",
    "plain",
    "read_dates",
]
