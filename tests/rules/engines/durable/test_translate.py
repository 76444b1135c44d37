"""The compiler: conditions fired by durable_rules over the slim fact equal the reference
interpreter (``semantics.holds``), including missing fields, kind-strict equality, numbers the
engine cannot parse, severity order, negation and list membership."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhenshen_core.rules.engines.durable import translate as compiler
from zhenshen_core.rules.engines.durable.limits import partition
from zhenshen_core.rules.engines.durable.session import DurableSession, EngineError
from zhenshen_core.rules.engines.durable.translate import (
    StageTranslator,
    encode,
    encoders,
    slim_fact,
)
from zhenshen_core.rules.lang.ast import (
    And,
    Compare,
    Contains,
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
)
from zhenshen_core.rules.lang.semantics import holds

from .strategies import SEVERITY_LEVELS, expressions, views

RANK = {level: i for i, level in enumerate(SEVERITY_LEVELS)}


def durable_matches(exprs: list[Expr], batch: list[dict[str, Any]]) -> list[list[int]]:
    stage = StageTranslator(SEVERITY_LEVELS).translate(exprs)
    sessions = [DurableSession(group) for group in partition(stage.rules)]
    try:
        out = []
        fast = encoders(stage.props, SEVERITY_LEVELS, RANK)
        for view in batch:
            fact = slim_fact(stage.props, view, SEVERITY_LEVELS, RANK)
            assert encode(fast, view) == fact  # the specialised closures agree
            fired = set().union(*(s.fire(fact) for s in sessions))
            out.append(sorted(i for name in fired for i in stage.owners[name]))
        return out
    finally:
        for session in sessions:
            session.close()


def reference(exprs: list[Expr], batch: list[dict[str, Any]]) -> list[list[int]]:
    return [[i for i, e in enumerate(exprs) if holds(e, v, SEVERITY_LEVELS)] for v in batch]


@settings(suppress_health_check=list(HealthCheck))  # awkward views are rare draws
@given(st.lists(expressions(), min_size=1, max_size=8), st.lists(views(), min_size=1, max_size=6))
def test_durable_conditions_match_the_reference_interpreter(
    exprs: list[Expr], batch: list[dict[str, Any]]
) -> None:
    assert durable_matches(exprs, batch) == reference(exprs, batch)


def f(name: str) -> Field:
    return Field(tuple(name.split(".")))


EDGE_CASES: list[tuple[Expr, dict[str, Any], bool]] = [
    # numbers durable_rules cannot parse (1e+300) or compares inexactly (2**53 + 1)
    (Compare(">", f("returns"), Literal(1e300)), {"returns": 10**301}, True),
    (Compare(">", f("returns"), Literal(2**53)), {"returns": 2**53 + 1}, True),
    (Compare("<", f("returns"), Literal(-1e-9)), {"returns": 0}, False),
    # kind-strict equality: true is not 1, "2" is not 2 (durable says both are equal)
    (Compare("==", f("facts.kind"), Literal(1)), {"facts.kind": True}, False),
    (Compare("==", f("facts.kind"), Literal(2)), {"facts.kind": "2"}, False),
    (Compare("!=", f("facts.kind"), Literal(2)), {"facts.kind": "2"}, True),
    (Compare("==", f("facts.kind"), Literal(1)), {"facts.kind": 1.0}, True),
    # a missing field makes every test false, `!=` and `not in` included; `not` flips it
    (Compare("!=", f("domain"), Literal("a")), {}, False),
    (NotIn(f("domain"), Literal(("a",))), {}, False),
    (Not(Compare("==", f("domain"), Literal("a"))), {}, True),
    (Not(Compare("==", f("domain"), Literal("a"))), {"domain": None}, True),
    # severity order is the pack's, not the alphabet's
    (Compare(">=", f("decision.severity"), Literal("S3")), {"decision.severity": "S4"}, True),
    (Not(Compare("<", f("decision.severity"), Literal("S2"))), {}, True),
    # lists: membership, counts of missing lists, contains_all of nothing
    (Contains(f("tags"), Literal("x")), {"tags": ("x", "y")}, True),
    (In(Literal("x"), f("tags")), {}, False),
    (Compare("==", Count(f("tags")), Literal(0)), {}, True),
    (Not(Compare(">", Count(f("facts.kind")), Literal(0))), {"facts.kind": 5}, True),
    (ContainsAny(f("tags"), Literal(())), {"tags": ("x",)}, False),
    # text: substring and regex are features evaluated in Python
    (Contains(f("content"), Literal("停产")), {"content": "企业停产"}, True),
    (Matches(f("content"), "^企业"), {"content": "企业停产"}, True),
    (Exists(f("content")), {"content": ""}, True),
    # dates
    (
        Compare("<", f("received_at"), Literal(date(2024, 6, 30))),
        {"received_at": date(2024, 1, 1)},
        True,
    ),
    (And((Exists(f("domain")), Not(In(f("domain"), Literal(("a", "b")))))), {"domain": "c"}, True),
]


@pytest.mark.parametrize(("expr", "view", "expected"), EDGE_CASES)
def test_edge_cases(expr: Expr, view: dict[str, Any], expected: bool) -> None:
    assert holds(expr, view, SEVERITY_LEVELS) is expected  # the edge is real
    assert durable_matches([expr], [view]) == [[0] if expected else []]


def test_identical_conditions_share_one_durable_rule() -> None:
    a = Compare("==", f("domain"), Literal("a"))
    stage = StageTranslator(SEVERITY_LEVELS).translate([a, None, a, None])
    assert len(stage.rules) == 2
    assert sorted(stage.owners.values()) == [(0, 2), (1, 3)]


def test_text_tests_become_features_and_equalities_stay_native() -> None:
    native = Compare("==", f("domain"), Literal("a"))
    text = Contains(f("content"), Literal("停产"))
    stage = StageTranslator(SEVERITY_LEVELS).translate([native, text])
    kinds = sorted(p.kind for p in stage.props)
    assert kinds == ["feature", "intern"]
    assert stage.features == 1
    # no user text ever reaches the engine
    fact = slim_fact(stage.props, {"domain": "a", "content": "停产"}, SEVERITY_LEVELS, RANK)
    assert set(fact.values()) <= {0, 1, 2}


def test_never_emits_the_silently_broken_ne_operator() -> None:
    stage = StageTranslator(SEVERITY_LEVELS).translate(
        [Compare("!=", f("domain"), Literal("a")), Not(Compare("==", f("returns"), Literal(1)))]
    )
    assert '$ne"' not in repr(stage.rules).replace("'", '"')
    assert "$neq" in repr(stage.rules)


def test_ne_is_never_a_working_operator_which_is_why_it_is_banned() -> None:
    # Depending on where it appears, durable_rules refuses `$ne` or accepts it and never matches.
    try:
        session = DurableSession({"ne": {"$ne": {"x": 1}}, "neq": {"$neq": {"x": 1}}})
    except EngineError:
        return
    with session:
        assert session.fire({"x": 2}) == {"neq"}


def test_overly_complex_conditions_fall_back_to_one_feature() -> None:
    leaves = [Compare("==", f(f"facts.k{i}"), Literal(i)) for i in range(40)]
    deep: Expr = leaves[0]
    for leaf in leaves[1:]:
        deep = And((leaf, Not(deep)))
    stage = StageTranslator(SEVERITY_LEVELS).translate([deep])
    (cond,) = stage.rules.values()
    assert cond is not None and len(cond) == 1 and not next(iter(cond)).startswith("$")
    view = {f"facts.k{i}": i for i in range(40)}
    assert durable_matches([deep], [view]) == reference([deep], [view])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(expressions(), min_size=1, max_size=8), st.lists(views(), min_size=1, max_size=6))
def test_bucketed_equality_is_exact(exprs: list[Expr], batch: list[dict[str, Any]]) -> None:
    # Tiny buckets so that the generated packs (few literals per field) exercise the bucket path
    # that real packs reach only past 256 distinct values of one field.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compiler, "BUCKET_AT", 1)
        patch.setattr(compiler, "BUCKET_SIZE", 2)
        assert durable_matches(exprs, batch) == reference(exprs, batch)


def test_bucketed_order_preserving_codes_are_exact() -> None:
    returns, severity = f("returns"), f("decision.severity")
    exprs: list[Expr] = [
        Compare(">", returns, Literal(1)),
        Compare("==", returns, Literal(2)),
        In(returns, Literal((0, 2, 3.0))),
        NotIn(returns, Literal((0, 5))),
        Compare("!=", returns, Literal(2)),
        Compare(">=", severity, Literal("S2")),
        Compare("==", severity, Literal("S3")),
        Not(Compare("==", severity, Literal("S1"))),
    ]
    batch: list[dict[str, Any]] = [
        {"returns": r, "decision.severity": s}
        for r in (0, 1, 2, 2.0, 3, 5, 7, "2", True)
        for s in ("S1", "S3", "S9")
    ]
    batch.append({})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compiler, "BUCKET_AT", 1)
        patch.setattr(compiler, "BUCKET_SIZE", 2)
        stage = StageTranslator(SEVERITY_LEVELS).translate(exprs)
        assert any(p.bucket and p.kind == "code" for p in stage.props)
        assert durable_matches(exprs, batch) == reference(exprs, batch)
