"""DurableEngine on hand-written packs, the reference pack with its sample corpus, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zhenshen_core.model import Case, load_case
from zhenshen_core.rules.engines.base import Engine
from zhenshen_core.rules.engines.compiled import CompiledEngine
from zhenshen_core.rules.engines.durable import DurableEngine
from zhenshen_core.rules.pack.loader import load_pack
from zhenshen_core.rules.pack.model import ResolvedPack

ROOT = Path(__file__).resolve().parents[4]
CHENGDU = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"
CORPUS = ROOT / "examples/corpus/sample-200.jsonl"

PACK_YAML = """
schema: 1
id: t
version: "1"
severity_levels: [S1, S2, S3, S4]
default_tier: general
default_chair: office_head
departments: [{id: a.scj}, {id: a.zwfw}, {id: a.jrj}]
experts: [{id: lawyer}, {id: think_tank}]
domains: [{id: market_entry_operation}, {id: financing}]
"""

RULES_YAML = """
schema: 1
rules:
  - id: sev.cannot-operate
    priority: 10
    when: domain == "market_entry_operation" and content contains_any ["停产", "无法经营"]
    then:
      severity: {at_least: S3}
      tags: [准入不准营]
      departments: {lead: a.scj, co: [a.zwfw]}
  - id: sev.returns
    when: returns >= 2
    then: {severity: {bump: 1}, tags: [多次退单]}
  - id: finance.big
    when: domain == "financing" and facts.amount >= 10000000
    then:
      severity: {at_least: S2}
      departments: {lead: a.jrj}
      experts: {require: [lawyer], reason: 大额}
  - id: anonymous
    when: not requester.anonymous
    then: {tags: [实名]}
  - id: route.major
    stage: route
    when: decision.severity >= "S3"
    then: {experts: {suggest: [think_tank, lawyer]}}
  - id: deadline.fast
    stage: deadline
    when: decision.tags contains "准入不准营"
    then: {deadlines: {resolve: "15 working days"}}
tables:
  - id: tier
    stage: route
    hit: first
    inputs: [decision.severity, count(departments)]
    outputs: [tier, chair]
    rows:
      - [">= S3", "-", major, leader_in_charge]
      - ["-", ">= 3", major, leader_in_charge]
      - ["-", "-", general, office_head]
"""


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> ResolvedPack:
    folder = tmp_path_factory.mktemp("pack")
    (folder / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
    (folder / "rules.yaml").write_text(RULES_YAML, encoding="utf-8")
    return load_pack(folder, analyse=False)


def case(**fields: Any) -> Case:
    data: dict[str, Any] = {
        "received_at": "2026-03-02T09:00:00+08:00",
        "channel": "hotline_12345",
        "appeal_type": "complaint",
        "content": "",
    }
    data.update(fields)
    return load_case(data)


def test_implements_the_engine_protocol(pack: ResolvedPack) -> None:
    with DurableEngine(pack) as engine:
        assert isinstance(engine, Engine)
        assert engine.name == "durable"
        assert set(engine.stats) == {"classify", "route", "deadline"}


def test_a_major_case_through_all_three_stages(pack: ResolvedPack) -> None:
    major = case(
        domain="market_entry_operation",
        content="取得执照后一直无法经营",
        returns=[{"at": "2026-03-01T09:00:00+08:00", "from_department": "a.zwfw"}] * 2,
        requester={"anonymous": False},
    )
    with DurableEngine(pack) as engine:
        decision = engine.evaluate(major)
    assert decision.severity == "S4"  # at least S3, then one bump
    assert decision.tier == "major" and decision.chair == "leader_in_charge"
    assert decision.departments.lead == "a.scj" and decision.departments.co == ["a.zwfw"]
    assert decision.experts.suggested == ["think_tank", "lawyer"]
    assert decision.deadlines == {"resolve": "15 working days"}
    assert [f.rule for f in decision.fired] == [
        "sev.cannot-operate",
        "sev.returns",
        "anonymous",
        "route.major",
        "tier#1",
        "deadline.fast",
    ]
    assert decision.fired[0].values == {
        "domain": "market_entry_operation",
        "content": "取得执照后一直无法经营",
    }
    assert decision.to_json() == CompiledEngine(pack).evaluate(major).to_json()


def test_a_plain_case_gets_the_defaults(pack: ResolvedPack) -> None:
    plain = case(domain="financing", facts={"amount": 5})
    with DurableEngine(pack) as engine:
        decision = engine.evaluate(plain)
    assert decision.severity == "S1" and decision.tier == "general"
    # `not requester.anonymous` holds when there is no requester at all (not of a false test)
    assert [f.rule for f in decision.fired] == ["anonymous", "tier#3"]
    assert decision.to_json() == CompiledEngine(pack).evaluate(plain).to_json()


def test_hand_made_views_with_wrong_kinds_fall_back_exactly(pack: ResolvedPack) -> None:
    # `returns` is a number in the schema; a hand-made view may hold anything.
    views: list[dict[str, Any]] = [
        {"returns": "3"},
        {"returns": True},
        {"returns": 2.5, "decision.severity": "S9"},
        {"domain": "financing", "facts.amount": "10000001"},
        {"domain": "financing", "facts.amount": 10**30},
    ]
    compiled = CompiledEngine(pack)
    with DurableEngine(pack) as engine:
        for view in views:
            assert (
                engine.evaluate_facts(view, "x").to_json()
                == compiled.evaluate_facts(view, "x").to_json()
            )


def test_reference_pack_on_the_sample_corpus_matches_the_compiled_engine() -> None:
    pack = load_pack(CHENGDU, analyse=False)
    cases = [load_case(json.loads(line)) for line in CORPUS.read_text("utf-8").splitlines()]
    compiled = CompiledEngine(pack)
    with DurableEngine(pack) as engine:
        durable = [d.to_json() for d in engine.evaluate_many(cases)]
    assert durable == [compiled.evaluate(c).to_json() for c in cases]
    assert len(durable) == 200


def test_cli_eval_with_the_durable_engine() -> None:
    from zhenshen_core.cli.main import build_cli

    runner = CliRunner()
    cli = build_cli()
    args = ["--no-plugins", "eval", "--pack", str(CHENGDU), "--input", str(CORPUS)]
    args += ["--format", "json"]
    compiled = runner.invoke(cli, [*args, "--engine", "compiled"])
    durable = runner.invoke(cli, [*args, "--engine", "durable"])
    assert durable.exit_code == 0, durable.output
    assert durable.output == compiled.output
    assert len(durable.output.splitlines()) == 200


def test_engine_is_closed_after_use(pack: ResolvedPack) -> None:
    from zhenshen_core.rules.engines.durable import EngineError

    engine = DurableEngine(pack)
    engine.close()
    with pytest.raises(EngineError, match="closed"):
        engine.matcher.match("classify", {})  # type: ignore[arg-type]


def test_stages_split_over_several_rulesets_decide_identically(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # 70 thresholds on one field can all match one fact: more than the engine's 64-entry stack,
    # so the stage is split; tighter limits split it further. Decisions must not change.
    from zhenshen_core.rules.engines.durable.limits import Limits

    folder = tmp_path_factory.mktemp("split")
    (folder / "pack.yaml").write_text(PACK_YAML, encoding="utf-8")
    lines = ["schema: 1", "rules:"]
    for i in range(70):
        lines += [
            f"  - id: amount.{i:02d}",
            f"    when: facts.amount >= {i * 10}",
            f"    then: {{tags: [t{i % 7}]}}",
        ]
    for i, domain in enumerate(["financing", "market_entry_operation"]):
        lines += [
            f"  - id: domain.{i}",
            f'    when: domain == "{domain}" and returns < {i + 1}',
            "    then: {severity: {bump: 1}}",
        ]
    (folder / "rules.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pack = load_pack(folder, analyse=False)
    batch = [
        case(domain=d, facts={"amount": a})
        for d in ("financing", "market_entry_operation", "credit_repair")
        for a in (0, 5, 345, 10_000)
    ]
    compiled = [CompiledEngine(pack).evaluate(c).to_json() for c in batch]
    for limits in (Limits(), Limits(max_stack=8, max_properties=3)):
        with DurableEngine(pack, limits=limits) as engine:
            assert engine.stats["classify"].rulesets >= 2
            assert [engine.evaluate(c).to_json() for c in batch] == compiled
