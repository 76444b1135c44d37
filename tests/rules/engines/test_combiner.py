"""Combination semantics, decision tables and hit policies, missing-field semantics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from zhenshen_core.model import Case
from zhenshen_core.rules import CompiledEngine, EvaluationError, PackError, load_pack
from zhenshen_core.rules.engines.decision import Decision

WritePack = Callable[..., Path]
MakeCase = Callable[..., Case]


def decide(folder: Path, case: Case) -> Decision:
    pack = load_pack(folder)
    return CompiledEngine(pack).evaluate(case)


def test_severity_is_max_at_least_plus_bumps_capped(
    write_pack: WritePack, make_case: MakeCase
) -> None:
    folder = write_pack(
        """\
        rules:
          - {id: a, when: 'returns >= 1', then: {severity: {at_least: S2}}}
          - {id: b, when: 'returns >= 1', then: {severity: {at_least: S3}}}
          - {id: c, when: 'returns >= 2', then: {severity: {bump: 1}}}
          - {id: d, when: 'returns >= 3', then: {severity: {bump: 2}}}
        """
    )
    ret = {"at": "2026-03-02T10:00:00+08:00", "from_department": "d.a"}
    assert decide(folder, make_case()).severity == "S1"
    assert decide(folder, make_case(returns=[ret])).severity == "S3"
    assert decide(folder, make_case(returns=[ret] * 2)).severity == "S4"
    assert decide(folder, make_case(returns=[ret] * 3)).severity == "S4"  # capped


def test_unions_and_exclusions(write_pack: WritePack, make_case: MakeCase) -> None:
    folder = write_pack(
        """\
        rules:
          - id: a
            when: content contains "权属"
            then:
              tags: [t1, t2]
              experts: {require: [lawyer], reason: 需法律意见}
              departments: {lead: d.a, co: [d.b]}
          - id: b
            when: content contains "权属"
            then:
              tags: [t2, t3]
              experts: {suggest: [lawyer, think_tank], reason: 研判}
              departments: {co: [d.a, d.c]}
        """
    )
    d = decide(folder, make_case(content="土地权属不清"))
    assert d.tags == ["t1", "t2", "t3"]
    assert d.experts.required == ["lawyer"]
    assert d.experts.suggested == ["think_tank"]  # required is never also suggested
    assert d.experts.reasons == {"lawyer": "需法律意见；研判", "think_tank": "研判"}
    assert d.departments.lead == "d.a"
    assert d.departments.co == ["d.b", "d.c"]  # lead is never also co
    assert [f.rule for f in d.fired] == ["a", "b"]
    assert d.fired[0].values == {"content": "土地权属不清"}


def test_priority_then_definition_order(write_pack: WritePack, make_case: MakeCase) -> None:
    folder = write_pack(
        """\
        rules:
          - {id: low, when: 'returns >= 0',
             then: {tier: general, deadlines: {resolve: 15 working days}}}
          - {id: high, priority: 5, when: 'returns >= 0', then: {tier: major}}
          - {id: tie, when: 'returns >= 0',
             then: {deadlines: {resolve: 30 days, opinion: 2 working days}}}
        """
    )
    d = decide(folder, make_case())
    assert d.tier == "major"
    assert d.deadlines == {"opinion": "2 working days", "resolve": "15 working days"}


def test_defaults_when_nothing_fires(write_pack: WritePack, make_case: MakeCase) -> None:
    folder = write_pack("rules:\n  - {id: a, when: 'returns > 5', then: {tier: major}}\n")
    d = decide(folder, make_case())
    assert (d.severity, d.tier, d.chair, d.fired) == ("S1", "general", "office_head", [])
    assert d.departments.lead is None and d.deadlines == {}


def test_stages_see_only_earlier_decisions(write_pack: WritePack, make_case: MakeCase) -> None:
    folder = write_pack(
        """\
        rules:
          - {id: c1, when: 'domain == "financing"', then: {severity: {at_least: S3}, tags: [融资]}}
          - {id: r1, stage: route,
             when: 'decision.severity >= "S3" and decision.tags contains "融资"',
             then: {departments: {lead: d.b}, tags: [routed]}}
          - {id: r2, stage: route, when: 'decision.tags contains "routed"', then: {tags: [never]}}
          - {id: d1, stage: deadline, when: 'decision.departments.lead == "d.b"',
             then: {deadlines: {resolve: 10 working days}}}
        """
    )
    d = decide(folder, make_case(domain="financing"))
    assert d.tags == ["融资", "routed"]  # r2 cannot see its own stage's tags
    assert d.deadlines == {"resolve": "10 working days"}
    assert d.fired[1].values == {"decision.severity": "S3", "decision.tags": ["融资"]}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('domain == "financing"', False),
        ('domain != "financing"', False),
        ('domain not in ["financing"]', False),
        ('not (domain == "financing")', True),
        ("exists(domain)", False),
        ("count(enterprise.tags) == 0", True),
        ("facts.amount > 1", False),
        ("facts.amount <= 1", False),
        ('lead_department != "d.a"', False),
    ],
)
def test_missing_fields_make_tests_false(
    write_pack: WritePack, make_case: MakeCase, condition: str, expected: bool
) -> None:
    folder = write_pack(f"rules:\n  - id: a\n    when: '{condition}'\n    then: {{tags: [x]}}\n")
    assert bool(decide(folder, make_case()).fired) is expected


def test_kind_strict_equality_and_facts(write_pack: WritePack, make_case: MakeCase) -> None:
    folder = write_pack(
        """\
        rules:
          - {id: bool-is-not-one, when: 'facts.flag == 1', then: {tags: [wrong]}}
          - {id: number, when: 'facts.amount >= 10 and facts.amount < 10.5', then: {tags: [n]}}
          - {id: nested, when: 'facts.loan.bank == "工行"', then: {tags: [nested]}}
          - {id: date, when: 'received_at >= 2026-03-01 and received_at < 2026-03-03',
             then: {tags: [d]}}
        """
    )
    case = make_case(facts={"flag": True, "amount": 10, "loan": {"bank": "工行"}})
    assert decide(folder, case).tags == ["n", "nested", "d"]


TABLE = """\
tables:
  - id: tier
    stage: route
    hit: {hit}
    inputs: [decision.severity, count(departments), domain]
    outputs: [tier, chair, departments.co]
    rows:
      - [">= S3", "-", "-", major, leader_in_charge, d.a]
      - ["-", "[2..3]", "-", major, office_head, "d.b, d.c"]
      - ["-", "-", "not(financing)", general, office_head, "-"]
      - ["-", "-", "-", general, office_head, d.c]
rules:
  - {{id: sev, when: 'content contains "停产"', then: {{severity: {{at_least: S3}}}}}}
"""


def _deps(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i} for i in ids]


def test_hit_first(write_pack: WritePack, make_case: MakeCase) -> None:
    folder = write_pack(TABLE.format(hit="first"))
    d = decide(folder, make_case(content="停产", departments=_deps("d.a", "d.b")))
    assert (d.tier, d.chair, d.departments.co) == ("major", "leader_in_charge", ["d.a"])
    assert [f.rule for f in d.fired] == ["sev", "tier#1"]
    d = decide(folder, make_case(domain="financing"))
    assert [f.rule for f in d.fired] == ["tier#4"]
    assert d.fired[0].values == {
        "decision.severity": "S1",
        "departments": [],
        "domain": "financing",
    }


def test_hit_collect_unions_lists(write_pack: WritePack, make_case: MakeCase) -> None:
    folder = write_pack(TABLE.format(hit="collect"))
    d = decide(folder, make_case(content="停产", departments=_deps("d.a", "d.b")))
    # tier#3 tests not(financing) on a missing domain: false, like every test of a missing field
    assert [f.rule for f in d.fired] == ["sev", "tier#1", "tier#2", "tier#4"]
    assert d.departments.co == ["d.a", "d.b", "d.c"]
    assert (d.tier, d.chair) == ("major", "leader_in_charge")  # first row wins scalar ties


def test_hit_priority_uses_output_order(write_pack: WritePack, make_case: MakeCase) -> None:
    text = (
        TABLE.format(hit="priority")
        .replace(
            '      - [">= S3"',
            '      - ["-", "-", "-", general, office_head, d.c]\n      - [">= S3"',
        )
        .replace('      - ["-", "-", "-", general, office_head, d.c]\nrules', "rules")
    )
    folder = write_pack(text)
    d = decide(folder, make_case(content="停产"))
    assert d.tier == "major"  # major ranks above general whatever the row order
    assert [f.rule for f in d.fired] == ["sev", "tier#2"]


def test_hit_unique_raises_naming_both_rows(write_pack: WritePack, make_case: MakeCase) -> None:
    folder = write_pack(TABLE.format(hit="unique"))
    with pytest.raises(EvaluationError, match=r"rows 3 .* and 4 .* both match"):
        decide(folder, make_case(domain="credit_repair"))


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ('"[a..]"', "T300"),
        ('"not(-)"', "T300"),
        ('"< many"', "T300"),
        ('"not(not(1))"', "T300"),
        ('"' + "not(" * 2000 + "1" + ")" * 2000 + '"', "T300"),  # was a RecursionError
    ],
)
def test_bad_cells_are_located(write_pack: WritePack, cell: str, message: str) -> None:
    folder = write_pack(
        f"""\
        tables:
          - id: t
            inputs: [count(departments)]
            outputs: [tier]
            rows:
              - [{cell}, major]
        """
    )
    with pytest.raises(PackError) as info:
        load_pack(folder)
    (diag,) = info.value.diagnostics
    assert (diag.line, diag.col, diag.code) == (6, 10, message)


def test_table_shape_errors(write_pack: WritePack) -> None:
    folder = write_pack(
        """\
        tables:
          - id: t
            inputs: [count(departments), decision.sevrity]
            outputs: [tier, colour]
            rows:
              - ["-", major]
        """
    )
    with pytest.raises(PackError) as info:
        load_pack(folder)
    text = str(info.value)
    assert "did you mean 'decision.severity'" in text
    assert "unknown output 'colour'" in text


@pytest.mark.parametrize(
    ("route_when", "steps"),
    [
        ('content contains "三个月"', 1),  # no stage reads decision.*: one step per case
        ('decision.severity >= "S3"', 2),  # route needs classify's decision: two steps
    ],
)
def test_repeated_match_sets_are_combined_once(
    write_pack: WritePack, make_case: MakeCase, route_when: str, steps: int
) -> None:
    folder = write_pack(
        f"""
        rules:
          - id: stop
            when: content contains "停产"
            then: {{severity: {{at_least: S3}}, tags: [准入不准营]}}
          - id: route
            stage: route
            when: '{route_when}'
            then: {{tags: [重点]}}
        """
    )
    engine = CompiledEngine(load_pack(folder))
    first = engine.evaluate(make_case(content="企业停产"))
    before = engine.combiner.cache_info()
    second = engine.evaluate(make_case(content="工厂已停产"))
    after = engine.combiner.cache_info()
    assert before.misses == after.misses == steps  # computed once
    assert after.hits - before.hits == steps  # the second case only looks them up
    assert first.severity == second.severity == "S3"
    assert first.fired[0].values == {"content": "企业停产"}
    assert second.fired[0].values == {"content": "工厂已停产"}
    assert CompiledEngine(load_pack(folder), cache_size=0).combiner.cache_info() is None


def test_the_review_stage_sees_what_routing_decided(
    write_pack: WritePack, make_case: MakeCase
) -> None:
    """A tier that depends on how many departments routing named: ``route`` rules cannot see
    routing (their own stage), ``review`` rules can, and ``deadline`` rules see the tier."""
    folder = write_pack(
        """\
        rules:
          - {id: lead, stage: route, when: 'domain == "financing"',
             then: {departments: {lead: d.a, co: [d.b]}}}
          - {id: more, stage: route, when: 'content contains "担保"',
             then: {departments: {co: [d.c, d.a]}}}
          - {id: blind, stage: route, when: 'count(decision.departments.all) >= 1',
             then: {tags: [never]}}
          - {id: meeting, stage: deadline, when: 'decision.tier == "major"',
             then: {deadlines: {meeting: 5 working days}}}
        tables:
          - id: tier
            stage: review
            hit: first
            inputs: [count(decision.departments.all), decision.departments.all]
            outputs: [tier]
            rows:
              - [">= 3", "-", major]
              - ["-", "d.a", general]
        """
    )
    three = decide(folder, make_case(domain="financing", content="担保贷款"))
    assert (three.tier, three.deadlines) == ("major", {"meeting": "5 working days"})
    assert [f.rule for f in three.fired] == ["lead", "more", "tier#1", "meeting"]
    assert three.fired[2].stage == "review"
    assert three.fired[2].values["decision.departments.all"] == ["d.a", "d.b", "d.c"]
    two = decide(
        folder,
        make_case(
            domain="financing",
            content="贷款",
            departments=[{"id": d} for d in ("d.a", "d.b", "d.c")],
        ),
    )
    assert (two.tier, two.deadlines) == ("general", {})  # the work order's own list: not counted
    assert "never" not in three.tags + two.tags


def test_routed_departments_are_refused_in_classify(write_pack: WritePack) -> None:
    folder = write_pack(
        """\
        rules:
          - {id: early, when: 'count(decision.departments.all) >= 4', then: {tier: major}}
        """
    )
    with pytest.raises(PackError) as caught:
        load_pack(folder)
    assert str(caught.value.diagnostics[0]).endswith(
        "R101 'decision.departments.all' is decided by earlier stages; a classify rule cannot "
        "read it (use stage: route, review or deadline) [early]"
    )
