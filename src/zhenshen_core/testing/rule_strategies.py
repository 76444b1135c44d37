"""Hypothesis strategies for random rule packs and random cases (within the language).

Used by the property tests of the rules package and by the differential test that checks the
compiled and durable engines give identical decisions. Everything generated is *valid*: every
expression type-checks against the fact schema, every outcome names known departments and
experts, every period parses. So any disagreement found is an engine bug, not a bad input.

Typical use::

    from zhenshen_core.testing.rule_strategies import pack_documents, cases, build_pack

    @given(docs=pack_documents(), batch=st.lists(cases(), max_size=10))
    def test_engines_agree(tmp_path_factory, docs, batch):
        pack = build_pack(docs, tmp_path_factory.mktemp("pack"))
        ...

Strings are drawn from a small vocabulary so that conditions actually match some cases.
Booleans and numbers never share a field, so kind-strict equality is exercised only where the
language promises it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from ruamel.yaml import YAML

from zhenshen_core.model import Case
from zhenshen_core.model.enums import AppealType, Channel, EnterpriseSize
from zhenshen_core.rules.lang.ast import (
    And,
    Compare,
    Contains,
    ContainsAll,
    ContainsAny,
    Count,
    Exists,
    Expr,
    Field,
    In,
    Literal,
    Matches,
    Not,
    NotIn,
    Or,
    to_source,
)
from zhenshen_core.rules.pack.loader import load_documents, load_pack
from zhenshen_core.rules.pack.model import ResolvedPack

LEVELS = ("S1", "S2", "S3", "S4")
DOMAINS = ("market_entry_operation", "policy_redemption", "financing", "credit_repair")
DEPARTMENTS = ("d.scjgj", "d.zwfw", "d.jrj", "d.ghj", "d.zjj")
EXPERTS = ("lawyer", "think_tank", "industry")
WORDS = ("停产", "无法经营", "权属", "补贴", "贷款", "退单", "消防", "历史遗留")
TAGS = ("准入不准营", "多次退单", "重点企业", "专精特新", "外资")
PERIODS = ("2 working days", "15 working days", "30 days", "1 month", "24 hours")
CLOCKS = ("opinion", "resolve", "feedback")
LEVEL_WORDS = ("low", "mid", "high")
BASE_DAY = date(2026, 3, 2)


def _f(name: str) -> Field:
    return Field(tuple(name.split(".")))


def _lit(value: Any) -> Literal:
    return Literal(tuple(value) if isinstance(value, list) else value)


_OPS = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
_EQ = st.sampled_from(["==", "!="])


def _string_tests(name: str, values: tuple[str, ...]) -> st.SearchStrategy[Expr]:
    field = _f(name)
    some = st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True)
    return st.one_of(
        st.builds(lambda op, v: Compare(op, field, _lit(v)), _EQ, st.sampled_from(values)),
        some.map(lambda vs: In(field, _lit(vs))),
        some.map(lambda vs: NotIn(field, _lit(vs))),
        st.just(Exists(field)),
    )


def _text_tests(name: str) -> st.SearchStrategy[Expr]:
    field = _f(name)
    words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3, unique=True)
    return st.one_of(
        st.sampled_from(WORDS).map(lambda w: Contains(field, _lit(w))),
        words.map(lambda ws: ContainsAny(field, _lit(ws))),
        words.map(lambda ws: ContainsAll(field, _lit(ws))),
        st.sampled_from(WORDS).map(lambda w: Matches(field, f"{w}|^$")),
        st.sampled_from(WORDS).map(lambda w: In(_lit(w), field)),
    )


def _list_tests(name: str, values: tuple[str, ...]) -> st.SearchStrategy[Expr]:
    field = _f(name)
    some = st.lists(st.sampled_from(values), min_size=0, max_size=3, unique=True)
    return st.one_of(
        st.sampled_from(values).map(lambda v: Contains(field, _lit(v))),
        st.sampled_from(values).map(lambda v: In(_lit(v), field)),
        st.sampled_from(values).map(lambda v: NotIn(_lit(v), field)),
        some.map(lambda vs: ContainsAny(field, _lit(vs))),
        some.map(lambda vs: ContainsAll(field, _lit(vs))),
        st.builds(lambda op, n: Compare(op, Count(field), _lit(n)), _OPS, st.integers(0, 3)),
        st.just(Exists(field)),
    )


def _number_tests(name: str, low: int, high: int) -> st.SearchStrategy[Expr]:
    field = _f(name)
    return st.one_of(
        st.builds(lambda op, n: Compare(op, field, _lit(n)), _OPS, st.integers(low, high)),
        st.lists(st.integers(low, high), min_size=1, max_size=3, unique=True).map(
            lambda ns: In(field, _lit(ns))
        ),
        st.just(Exists(field)),
    )


def _bool_tests(name: str) -> st.SearchStrategy[Expr]:
    field = _f(name)
    return st.one_of(
        st.booleans().map(lambda b: Compare("==", field, _lit(b))),
        st.booleans().map(lambda b: Compare("!=", field, _lit(b))),
        st.just(Exists(field)),
    )


def _date_tests(name: str) -> st.SearchStrategy[Expr]:
    field = _f(name)
    days = st.integers(-10, 10).map(lambda n: BASE_DAY + timedelta(days=n))
    return st.builds(lambda op, d: Compare(op, field, _lit(d)), _OPS, days)


@functools.cache
def case_tests() -> st.SearchStrategy[Expr]:
    """Leaf tests over case fields (valid in every stage)."""
    return st.one_of(
        _string_tests("domain", DOMAINS),
        _string_tests("appeal_type", tuple(a.value for a in AppealType)[:4]),
        _string_tests("enterprise.size", tuple(s.value for s in EnterpriseSize)),
        _string_tests("lead_department", DEPARTMENTS),
        _text_tests("content"),
        _list_tests("tags", TAGS),
        _list_tests("departments", DEPARTMENTS),
        _list_tests("enterprise.tags", TAGS),
        _number_tests("returns", 0, 3),
        _bool_tests("requester.anonymous"),
        _date_tests("received_at"),
        _number_tests("facts.amount", 0, 100),
        _bool_tests("facts.flag"),
        _string_tests("facts.level", LEVEL_WORDS),
        _date_tests("facts.since"),
    )


@functools.cache
def decision_tests() -> st.SearchStrategy[Expr]:
    """Leaf tests over ``decision.*`` (valid in every stage but classify)."""
    severity = _f("decision.severity")
    return st.one_of(
        st.builds(lambda op, lv: Compare(op, severity, _lit(lv)), _OPS, st.sampled_from(LEVELS)),
        st.sampled_from(["general", "major"]).map(
            lambda t: Compare("==", _f("decision.tier"), _lit(t))
        ),
        _list_tests("decision.tags", TAGS),
        _list_tests("decision.experts.required", EXPERTS),
        _list_tests("decision.departments.co", DEPARTMENTS),
        _list_tests("decision.departments.all", DEPARTMENTS),
        _string_tests("decision.departments.lead", DEPARTMENTS),
    )


@functools.cache
def expressions(stage: str = "classify") -> st.SearchStrategy[Expr]:
    """Well-typed conditions for a rule of ``stage`` (and/or/not up to a few levels)."""
    leaves = case_tests() if stage == "classify" else st.one_of(case_tests(), decision_tests())
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            inner.map(Not),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
        ),
        max_leaves=4,
    )


@st.composite
def outcomes(draw: st.DrawFn) -> dict[str, Any]:
    """A random ``then:`` block."""
    then: dict[str, Any] = {}
    if draw(st.booleans()):
        if draw(st.booleans()):
            then["severity"] = {"at_least": draw(st.sampled_from(LEVELS))}
        else:
            then["severity"] = {"bump": draw(st.integers(1, 2))}
    if draw(st.booleans()):
        then["tags"] = draw(st.lists(st.sampled_from(TAGS), max_size=2, unique=True))
    if draw(st.integers(0, 3)) == 0:
        then["tier"] = draw(st.sampled_from(["general", "major"]))
    if draw(st.integers(0, 3)) == 0:
        then["chair"] = draw(st.sampled_from(["office_head", "leader_in_charge"]))
    if draw(st.integers(0, 2)) == 0:
        then["experts"] = {
            "require": draw(st.lists(st.sampled_from(EXPERTS), max_size=2, unique=True)),
            "suggest": draw(st.lists(st.sampled_from(EXPERTS), max_size=2, unique=True)),
            "reason": draw(st.sampled_from(["", "需法律意见", "政策研判"])),
        }
    if draw(st.integers(0, 2)) == 0:
        deps: dict[str, Any] = {
            "co": draw(st.lists(st.sampled_from(DEPARTMENTS), max_size=2, unique=True))
        }
        if draw(st.booleans()):
            deps["lead"] = draw(st.sampled_from(DEPARTMENTS))
        then["departments"] = deps
    if draw(st.integers(0, 2)) == 0:
        clocks = draw(st.lists(st.sampled_from(CLOCKS), min_size=1, max_size=2, unique=True))
        then["deadlines"] = {c: draw(st.sampled_from(PERIODS)) for c in clocks}
    if not then:
        then["tags"] = [draw(st.sampled_from(TAGS))]
    return then


@st.composite
def rule_documents(draw: st.DrawFn, index: int) -> dict[str, Any]:
    stage = draw(st.sampled_from(["classify", "classify", "route", "review", "deadline"]))
    return {
        "id": f"r{index:04d}",
        "stage": stage,
        "priority": draw(st.integers(0, 2)),
        "when": to_source(draw(expressions(stage))),
        "then": draw(outcomes()),
    }


_INPUT_CELLS: dict[str, st.SearchStrategy[str]] = {
    "decision.severity": st.sampled_from(["-", ">= S3", "S1, S2", "[S2..S3]", "not(S4)", "< S2"]),
    "count(departments)": st.sampled_from(["-", ">= 2", "0", "[1..2]", "not(0)"]),
    "count(decision.departments.all)": st.sampled_from(["-", ">= 2", "0", "[1..3]", "not(1)"]),
    "decision.experts.required": st.sampled_from(
        ["-", "lawyer", "lawyer, industry", "not(lawyer)"]
    ),
    "domain": st.sampled_from(
        ["-", "financing", "financing, credit_repair", "not(policy_redemption)"]
    ),
    # Untyped facts: each cell's syntax says what it compares (numbers, strings, dates).
    "facts.amount": st.sampled_from(
        [
            "-",
            "[10..50)",
            "(2..40)",
            "(20..30]",
            "=10",
            "!=10",
            "<18, >=60",
            "10, 20, 30",
            "not([20..30])",
            "> 50",
            "not(<5, >95)",
            "[40..40]",
        ]
    ),
    "facts.level": st.sampled_from(["-", "low", "low, mid", "!=high", "not(mid)", '"high"']),
    "facts.flag": st.sampled_from(["-", "true", "=false", "!=true"]),
    "facts.since": st.sampled_from(
        [
            "-",
            '>= date("2026-03-01")',
            "[2026-02-25..2026-03-05)",
            'date("2026-03-02")',
            "!=2026-03-02",
            '<2026-02-27, >date("2026-03-08")',
            "not(2026-03-01, 2026-03-03)",
        ]
    ),
    "received_at": st.sampled_from(
        ["-", ">= 2026-03-01", "(2026-02-25..2026-03-05]", 'date("2026-03-02")']
    ),
}


#: Table inputs the generator writes cells for (``table_documents(inputs=…)`` picks among them).
TABLE_INPUTS: tuple[str, ...] = tuple(sorted(_INPUT_CELLS))


@st.composite
def table_documents(draw: st.DrawFn, inputs_from: tuple[str, ...] = TABLE_INPUTS) -> dict[str, Any]:
    """A route-stage decision table with a random hit policy (never ``unique``), its inputs
    drawn from ``inputs_from``."""
    inputs = draw(st.lists(st.sampled_from(inputs_from), min_size=1, max_size=3, unique=True))
    outputs = draw(
        st.sampled_from(
            [["tier", "chair"], ["tier"], ["departments.co", "tags"], ["deadlines.resolve"]]
        )
    )
    # hit: priority needs an order of output values (T301): tier and chair have one, a
    # deadline is given one; list outputs cannot be ranked (T302).
    hit = draw(
        st.sampled_from(
            ["first", "collect"] if "tags" in outputs else ["first", "priority", "collect"]
        )
    )
    values = {
        "tier": st.sampled_from(["general", "major", "-"]),
        "chair": st.sampled_from(["office_head", "leader_in_charge"]),
        "departments.co": st.sampled_from([*DEPARTMENTS, "d.zwfw, d.jrj", "-"]),
        "tags": st.sampled_from([*TAGS, "-"]),
        "deadlines.resolve": st.sampled_from([*PERIODS, "-"]),
    }
    rows = draw(
        st.lists(
            st.tuples(*[_INPUT_CELLS[i] for i in inputs], *[values[o] for o in outputs]).map(list),
            min_size=1,
            max_size=4,
        )
    )
    table: dict[str, Any] = {
        "id": "t",
        "stage": "route",
        "hit": hit,
        "priority": draw(st.integers(0, 2)),
        "inputs": inputs,
        "outputs": outputs,
        "rows": rows,
    }
    if hit == "priority" and outputs == ["deadlines.resolve"]:
        table["output_order"] = {"deadlines.resolve": list(draw(st.permutations(PERIODS)))}
    return table


@st.composite
def pack_documents(
    draw: st.DrawFn, max_rules: int = 8, table_inputs: tuple[str, ...] | None = None
) -> dict[str, dict[str, Any]]:
    """A whole pack as YAML documents: ``{"pack.yaml": {...}, "rules.yaml": {...}}``; with
    ``table_inputs``, always with a table reading those inputs."""
    count = draw(st.integers(0, max_rules))
    rules = [draw(rule_documents(i)) for i in range(count)]
    rules_doc: dict[str, Any] = {"schema": 1, "rules": rules}
    if table_inputs is not None:
        rules_doc["tables"] = [draw(table_documents(table_inputs))]
    elif draw(st.booleans()):
        rules_doc["tables"] = [draw(table_documents())]
    pack = {
        "schema": 1,
        "id": "random",
        "version": "0",
        "severity_levels": list(LEVELS),
        "default_tier": draw(st.sampled_from([None, "general"])),
        "default_chair": draw(st.sampled_from([None, "office_head"])),
        "departments": [{"id": d} for d in DEPARTMENTS],
        "experts": [{"id": e} for e in EXPERTS],
        "domains": [{"id": d} for d in DOMAINS],
    }
    pack = {k: v for k, v in pack.items() if v is not None}
    return {"pack.yaml": pack, "rules.yaml": rules_doc}


def write_pack(docs: Mapping[str, Mapping[str, Any]], folder: Path) -> Path:
    """Write generated documents as YAML files into ``folder`` (created); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    for name, doc in docs.items():
        with (folder / name).open("w", encoding="utf-8") as handle:
            yaml.dump(dict(doc), handle)
    return folder


def build_pack(docs: Mapping[str, Mapping[str, Any]], folder: Path | None = None) -> ResolvedPack:
    """Load a generated pack (raises PackError if the generator made a bad one).

    With ``folder`` the documents go through YAML files on disk (the full loader path);
    without, they are loaded from memory, which is much faster for property tests.
    """
    if folder is not None:
        return load_pack(write_pack(docs, folder), analyse=False)
    pack_id = str(docs["pack.yaml"]["id"])
    return load_documents({pack_id: docs}, pack_id, analyse=False)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A random case drawing on the same vocabulary as the rules."""
    received = datetime(2026, 3, 2, 9, 0) + timedelta(days=draw(st.integers(-10, 10)))
    data: dict[str, Any] = {
        "received_at": received.isoformat() + "+08:00",
        "channel": draw(st.sampled_from([Channel.HOTLINE_12345.value, Channel.WEB.value])),
        "appeal_type": draw(st.sampled_from([a.value for a in AppealType])),
        "external_id": draw(st.text("0123456789", min_size=4, max_size=8)),
        "content": "".join(draw(st.lists(st.sampled_from([*WORDS, "，", "企业"]), max_size=5))),
        "tags": draw(st.lists(st.sampled_from(TAGS), max_size=2, unique=True)),
    }
    if draw(st.booleans()):
        data["domain"] = draw(st.sampled_from(DOMAINS))
    if draw(st.booleans()):
        data["enterprise"] = {
            "name": "某科技有限公司",
            "size": draw(st.sampled_from([s.value for s in EnterpriseSize])),
            "tags": draw(st.lists(st.sampled_from(TAGS), max_size=2, unique=True)),
        }
    if draw(st.booleans()):
        data["requester"] = {"anonymous": draw(st.booleans())}
    deps = draw(st.lists(st.sampled_from(DEPARTMENTS), max_size=3, unique=True))
    lead_index = draw(st.integers(-1, len(deps) - 1)) if deps else -1
    data["departments"] = [
        {"id": d, "role": "lead" if i == lead_index else "co"} for i, d in enumerate(deps)
    ]
    data["returns"] = [
        {"at": received.isoformat() + "+08:00", "from_department": DEPARTMENTS[0]}
        for _ in range(draw(st.integers(0, 3)))
    ]
    facts: dict[str, Any] = {}
    if draw(st.booleans()):
        facts["amount"] = draw(st.integers(0, 100))
    if draw(st.booleans()):
        facts["flag"] = draw(st.booleans())
    if draw(st.booleans()):
        facts["level"] = draw(st.sampled_from(LEVEL_WORDS))
    if draw(st.booleans()):  # an ISO string, as JSON delivers a date (or not quite one)
        since = BASE_DAY + timedelta(days=draw(st.integers(-6, 8)))
        facts["since"] = draw(st.sampled_from([since.isoformat(), "2026-02-30", "soon"]))
    data["facts"] = facts
    return Case.model_validate(data)


__all__ = [
    "DEPARTMENTS",
    "DOMAINS",
    "EXPERTS",
    "LEVELS",
    "TABLE_INPUTS",
    "build_pack",
    "case_tests",
    "cases",
    "decision_tests",
    "expressions",
    "outcomes",
    "pack_documents",
    "rule_documents",
    "table_documents",
    "write_pack",
]
