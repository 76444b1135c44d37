"""Property tests: compiled engine ≡ reference semantics, determinism, monotone severity,
and ``extends`` with no changes is the identity."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhenshen_core.model import Case
from zhenshen_core.rules import CompiledEngine, InterpretedEngine, holds
from zhenshen_core.rules.engines.compiled import compile_expr
from zhenshen_core.rules.engines.facts import FACT_SCHEMA, FactProjection, fact_view
from zhenshen_core.rules.lang.ast import Expr
from zhenshen_core.rules.pack.loader import load_documents
from zhenshen_core.testing.rule_strategies import (
    LEVELS,
    build_pack,
    cases,
    expressions,
    pack_documents,
)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@given(expr=expressions("route"), case=cases(), severity=st.sampled_from(LEVELS))
def test_compiled_closure_agrees_with_reference(expr: Expr, case: Case, severity: str) -> None:
    facts = fact_view(case)
    facts["decision.severity"] = severity
    facts["decision.tags"] = ("准入不准营",)
    facts["decision.experts.required"] = ()
    assert compile_expr(expr, LEVELS)(facts) == holds(expr, facts, LEVELS)


@given(case=cases(), data=st.data())
def test_fact_projection_equals_restricted_fact_view(case: Case, data: st.DataObject) -> None:
    full = fact_view(case)
    names = [*FACT_SCHEMA, "facts.amount", "facts.flag", "facts.level", "facts.nope", "facts.a.b"]
    wanted = data.draw(st.sets(st.sampled_from(names)))
    expected = {k: v for k, v in full.items() if k in wanted}
    assert FactProjection(wanted)(case) == expected


def _pack(docs: dict[str, Any]) -> Any:
    return build_pack(docs)


@settings(max_examples=5, deadline=None)
@given(docs=pack_documents())
def test_generated_pack_loads_through_yaml_files_too(docs: dict[str, Any]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        from_disk = build_pack(docs, Path(tmp) / "pack")
    assert [r.id for r in from_disk.rules] == [r.id for r in build_pack(docs).rules]


@FAST
@given(docs=pack_documents(), batch=st.lists(cases(), min_size=1, max_size=8))
def test_indexed_engine_agrees_with_naive_and_is_deterministic(
    docs: dict[str, Any], batch: list[Case]
) -> None:
    pack = _pack(docs)
    compiled, naive = CompiledEngine(pack), InterpretedEngine(pack)
    first = [compiled.evaluate(c).to_json() for c in batch]
    assert first == [naive.evaluate(c).to_json() for c in batch]
    assert first == [d.to_json() for d in compiled.evaluate_many(reversed(batch))][::-1]
    # A fresh engine over a freshly loaded pack decides the same (no hidden state).
    assert first == [CompiledEngine(_pack(docs)).evaluate(c).to_json() for c in batch]


@FAST
@given(docs=pack_documents(), batch=st.lists(cases(), min_size=1, max_size=6))
def test_merged_stage_indexes_match_like_each_stage(
    docs: dict[str, Any], batch: list[Case]
) -> None:
    """A group's merged index answers the OR of its stages' answers, and those are the
    indices the naive interpreter finds (shifted to the pack-wide bit positions)."""
    pack = _pack(docs)
    matcher = CompiledEngine(pack).matcher
    naive = InterpretedEngine(pack).matcher
    for case in batch:
        facts = fact_view(case)
        facts["decision.severity"] = LEVELS[-1]
        facts["decision.tags"] = ("准入不准营",)
        for group in (("classify",), ("route", "deadline"), ("classify", "route", "deadline")):
            expected = 0
            for stage in group:
                offset = pack.stage_offsets[stage]
                for i in naive.match(stage, facts):
                    expected |= 1 << (offset + i)
                assert matcher.match(stage, facts) == sorted(set(naive.match(stage, facts)))
            assert matcher.bits_matcher(group)(facts) == expected


@FAST
@given(
    docs=pack_documents(),
    batch=st.lists(cases(), min_size=1, max_size=6),
    raise_to=st.sampled_from(LEVELS),
    bump=st.booleans(),
)
def test_adding_a_severity_raising_rule_never_lowers_severity(
    docs: dict[str, Any], batch: list[Case], raise_to: str, bump: bool
) -> None:
    before = CompiledEngine(_pack(docs))
    more = copy.deepcopy(docs)
    then = {"severity": {"bump": 1}} if bump else {"severity": {"at_least": raise_to}}
    more["rules.yaml"]["rules"].append(
        {"id": "zz.raise", "when": 'content contains "停产"', "then": then}
    )
    after = CompiledEngine(_pack(more))
    for case in batch:
        assert LEVELS.index(after.evaluate(case).severity) >= LEVELS.index(
            before.evaluate(case).severity
        )


@FAST
@given(docs=pack_documents(), batch=st.lists(cases(), min_size=1, max_size=6))
def test_extends_without_changes_is_identity(docs: dict[str, Any], batch: list[Case]) -> None:
    child_docs = {"pack.yaml": {"schema": 1, "id": "child", "version": "0", "extends": ["random"]}}
    packs = {"random": docs, "child": child_docs}
    base = load_documents(packs, "random", analyse=False)
    child = load_documents(packs, "child", analyse=False)
    assert [r.id for r in child.rules] == [r.id for r in base.rules]
    strip = ("pack",)
    for case in batch:
        a = CompiledEngine(base).evaluate(case).model_dump(exclude=set(strip))
        b = CompiledEngine(child).evaluate(case).model_dump(exclude=set(strip))
        assert a == b


@FAST
@given(docs=pack_documents(), batch=st.lists(cases(), min_size=1, max_size=6))
def test_decision_cache_never_changes_a_decision(docs: dict[str, Any], batch: list[Case]) -> None:
    pack = _pack(docs)
    stream = [*batch, *reversed(batch), *batch]  # repeats hit the cache
    expected = [CompiledEngine(pack, cache_size=0).evaluate(c).to_json() for c in stream]
    tiny = CompiledEngine(pack, cache_size=2)  # evicts all the time: steps are recomputed
    assert [tiny.evaluate(c).to_json() for c in stream] == expected
    assert [CompiledEngine(pack).evaluate(c).to_json() for c in stream] == expected


@FAST
@given(docs=pack_documents(), case=cases())
def test_changing_a_decision_never_changes_the_next_one(docs: dict[str, Any], case: Case) -> None:
    engine = CompiledEngine(_pack(docs))
    first = engine.evaluate(case)
    expected = first.to_json()
    first.tags.append("changed")
    first.departments.co.append("changed")
    first.experts.required.append("changed")
    first.experts.reasons["changed"] = "changed"
    first.deadlines["changed"] = "1 day"
    first.actions.append("changed")
    for fired in first.fired:
        fired.values["changed"] = 1
    assert engine.evaluate(case).to_json() == expected


@FAST
@given(docs=pack_documents(), batch=st.lists(cases(), min_size=1, max_size=6))
def test_json_fast_path_is_byte_identical(docs: dict[str, Any], batch: list[Case]) -> None:
    engine = CompiledEngine(_pack(docs))
    for case in [*batch, *batch]:  # the second round reads the cached fragments
        assert engine.evaluate_json(case) == engine.evaluate(case).to_json().encode()


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=6,
)

_READS_EVERYTHING = {
    "pack.yaml": {"schema": 1, "id": "reads", "version": "1", "severity_levels": list(LEVELS)},
    "rules.yaml": {
        "schema": 1,
        "rules": [
            {"id": "content", "when": "exists(content)", "then": {"tags": ["t"]}},
            {"id": "x", "when": "exists(facts.x) or count(tags) >= 0", "then": {"tags": ["u"]}},
            {"id": "y", "when": "exists(facts.y.z) and exists(received_at)", "then": {}},
        ],
    },
}


@given(
    content=st.text(max_size=400),
    x=_JSON_VALUES,
    z=_JSON_VALUES,
    tags=st.lists(st.text(max_size=250), max_size=3),
)
def test_json_fast_path_matches_pydantic_on_awkward_values(
    content: str, x: Any, z: Any, tags: list[str]
) -> None:
    case = Case.model_validate(
        {
            "received_at": "2026-03-02T09:00:00+08:00",
            "content": content,
            "tags": tags,
            "facts": {"x": x, "y": {"z": z}},
        }
    )
    engine = CompiledEngine(_pack(_READS_EVERYTHING))
    assert engine.evaluate_json(case) == engine.evaluate(case).to_json().encode()
