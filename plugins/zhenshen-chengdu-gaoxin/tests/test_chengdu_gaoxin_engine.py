"""The reference pack under the real loader and engine: it loads without diagnostics, every
pack test passes, and over the synthetic corpus it escalates exactly the cases planted with an
escalation feature (and nothing else)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from zhenshen_chengdu_gaoxin import PACK_PATH
from zhenshen_chengdu_gaoxin.corpus import generate_labelled

from zhenshen_core.model import load_case
from zhenshen_core.rules import CompiledEngine, ResolvedPack, load_pack
from zhenshen_core.rules.tester.matching import match_expect, match_fired
from zhenshen_core.rules.tester.model import TestSpec, case_data, read_test_file


@pytest.fixture(scope="module")
def pack() -> ResolvedPack:
    return load_pack(PACK_PATH)


@pytest.fixture(scope="module")
def engine(pack: ResolvedPack) -> CompiledEngine:
    return CompiledEngine(pack)


def _pack_tests() -> list[TestSpec]:
    tests: list[TestSpec] = []
    for path in sorted((PACK_PATH / "tests").glob("*.yaml")):
        read = read_test_file(path)
        assert not read.problems, [str(p) for p in read.problems]
        tests += read.tests
    return tests


def test_pack_loads_clean(pack: ResolvedPack) -> None:
    assert pack.id == "cn.chengdu.gaoxin"
    assert [str(w) for w in pack.warnings] == []


@pytest.mark.parametrize("test", _pack_tests(), ids=lambda t: f"{Path(t.file).stem}:{t.line}")
def test_pack_test(engine: CompiledEngine, test: TestSpec) -> None:
    decision = engine.evaluate(load_case(case_data(test))).to_dict()
    fired = [f["rule"] for f in decision["fired"]]
    problems = match_expect(test.expect, decision) + match_fired(test, fired)
    assert not problems, "\n".join(p.message() for p in problems)


def test_corpus_escalations_match_planted_features(engine: CompiledEngine) -> None:
    n = 1000
    severity: Counter[str] = Counter()
    for data, features in generate_labelled(n, seed=2020):
        decision = engine.evaluate(load_case(data))
        severity[decision.severity] += 1
        escalated = decision.severity != "S1"
        assert escalated == bool(features), (data["content"], data["facts"], sorted(features))
        assert escalated == ("联合甄审" in decision.tags)
        if decision.tier == "major":
            assert decision.chair == "leader_in_charge"
    escalated_share = 1 - severity["S1"] / n
    assert 0.05 <= escalated_share <= 0.10
    assert severity["S2"] and severity["S3"] and severity["S4"]


def test_four_routed_departments_make_a_case_major_on_both_engines(
    engine: CompiledEngine, pack: ResolvedPack
) -> None:
    """The tier counted the work order's own departments: 21 of the 200 sample cases were
    routed to four or more departments and stayed general."""
    from zhenshen_core.rules.engines.durable import DurableEngine

    sample = Path(__file__).parents[3] / "examples" / "corpus" / "sample-200.jsonl"
    routed_to_four = 0
    with DurableEngine(pack) as durable, sample.open(encoding="utf-8") as lines:
        for line in lines:
            case = load_case(json.loads(line))
            decision = engine.evaluate(case)
            assert durable.evaluate(case).to_json() == decision.to_json()
            named = [decision.departments.lead, *decision.departments.co]
            if len([d for d in named if d]) >= 4:
                routed_to_four += 1
                assert (decision.tier, decision.chair) == ("major", "leader_in_charge"), case.id
            elif decision.severity in ("S1", "S2"):
                assert decision.tier == "general", case.id
            # A meeting clock only where a meeting is held: in joint review.
            assert ("meeting" in decision.deadlines) == ("联合甄审" in decision.tags), case.id
    assert routed_to_four == 26


def test_article_opinion_deadline(engine: CompiledEngine) -> None:
    data: dict[str, Any] = {
        "received_at": "2020-04-13T09:30:00+08:00",
        "domain": "planning_title_proof",
        "content": "由于权属证明文件缺失，高新技术企业办理报规报建流程受阻。",
        "departments": [{"id": "gxq.gtj", "role": "lead"}, {"id": "gxq.gycsjsj", "role": "co"}],
    }
    decision = engine.evaluate(load_case(data))
    assert decision.deadlines["opinion"] == "2 working days"
    assert decision.tier == "general" and decision.chair == "office_head"
    assert "lawyer" in decision.experts.required


def test_both_engines_agree_on_the_corpus(engine: CompiledEngine, pack: ResolvedPack) -> None:
    from zhenshen_core.rules.engines.durable import DurableEngine

    durable = DurableEngine(pack)
    try:
        for data in (d for d, _ in generate_labelled(300, seed=7)):
            case = load_case(data)
            assert durable.evaluate(case).to_dict() == engine.evaluate(case).to_dict(), data
    finally:
        close = getattr(durable, "close", None)
        if close is not None:
            close()
