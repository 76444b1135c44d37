"""Decision-table cells are unary tests for their input, or located errors — never a string
by accident; hit policies and output orders mean what they say."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhenshen_core.model import Case
from zhenshen_core.rules import CompiledEngine, PackError, load_pack
from zhenshen_core.rules.engines.compiled import InterpretedEngine
from zhenshen_core.rules.engines.durable import DurableEngine

from ..conftest import WritePack

MakeCase = Callable[..., Case]

TABLE = """\
tables:
  - id: t
    stage: {stage}
    hit: collect
    inputs: [{input}]
    outputs: [tags]
    rows:
      - [{cell}, hit]
"""


def _table(write_pack: WritePack, cell: str, input: str = "facts.x", stage: str = "classify",
           id: str = "p") -> Path:  # fmt: skip
    return write_pack(TABLE.format(input=input, cell=json.dumps(cell), stage=stage), id=id)


def _hits(folder: Path, case: Case) -> bool:
    pack = load_pack(folder)
    answers = {
        engine.name: "hit" in engine.evaluate(case).tags
        for engine in (CompiledEngine(pack), InterpretedEngine(pack))
    }
    assert len(set(answers.values())) == 1, answers
    return answers["compiled"]


@pytest.mark.parametrize(
    ("cell", "matching", "not_matching"),
    [
        ("[100..120)", [100, 110, 119.5], [99, 120, "110", True]),
        ("(2..4)", [3, 2.5], [2, 4, "3"]),
        ("(2..4]", [4], [2]),
        ("=10", [10, 10.0], [11, "10", True]),
        ("!=10", [11, "10", "x", False], [10]),
        ("<18, >=60", [17, 60, 90, -1], [18, 59, "17"]),
        ("not([20..30])", [19, 31, "25"], [20, 25, 30]),
        ("10, 20", [10, 20], [15, "10"]),
        ('"a, b"', ["a, b"], ["a", "b"]),
        ("low, mid", ["low", "mid"], ["high", 1]),
        ("true", [True], [False, "true", 1]),
        ('date("2018-12-08")', ["2018-12-08", date(2018, 12, 8)], ["2018-12-09", "08/12/2018"]),
        (">= 2026-03-01", ["2026-03-01", "2026-12-31", date(2026, 3, 2)], ["2026-02-28", "x"]),
        ('[2026-01-01..date("2026-01-31")]', ["2026-01-15"], ["2026-02-01", "2026-02-30"]),
    ],
)
def test_cells_on_an_untyped_fact_test_what_their_syntax_says(
    write_pack: WritePack,
    make_case: MakeCase,
    cell: str,
    matching: list[Any],
    not_matching: list[Any],
) -> None:
    folder = _table(write_pack, cell)
    for value in matching:
        assert _hits(folder, make_case(facts={"x": value})), value
    for value in not_matching:
        assert not _hits(folder, make_case(facts={"x": value})), value
    assert not _hits(folder, make_case(facts={}))  # a missing fact matches no test


@pytest.mark.parametrize(
    ("cell", "departments", "expected"),
    [
        ("[1..3)", 2, True),
        ("[1..3)", 3, False),
        ("(0..2)", 1, True),
        ("=2", 2, True),
        ("!=2", 1, True),
        ("<1, >=3", 0, True),
        ("<1, >=3", 3, True),
        ("<1, >=3", 2, False),
    ],
)
def test_the_same_cells_on_a_typed_number_input(
    write_pack: WritePack, make_case: MakeCase, cell: str, departments: int, expected: bool
) -> None:
    folder = _table(write_pack, cell, input="count(departments)")
    case = make_case(departments=[{"id": f"d.{n}"} for n in range(departments)])
    assert _hits(folder, case) is expected


def test_severity_ranges_and_lists(write_pack: WritePack, make_case: MakeCase) -> None:
    rules = TABLE.format(input="decision.severity", cell='"(S1..S3], S4"', stage="route")
    rules += (
        "rules:\n  - {id: s, when: 'content contains \"停\"', then: {severity: {at_least: S3}}}\n"
    )
    folder = write_pack(rules)
    assert _hits(folder, make_case(content="停产"))
    assert not _hits(folder, make_case(content="咨询"))  # S1 is outside (S1..S3]


@pytest.mark.parametrize(
    ("input", "cell", "message"),
    [
        ("facts.x", "[100..120", "'[100..120' is not a unary test"),
        ("facts.x", "100..120", "is not a unary test"),
        ("facts.x", "(5..2)", "(5..2) is an empty range"),
        ("facts.x", "(5..5]", "is an empty range"),
        ("facts.x", "[a..b]", "a range compares strings, which are not ordered"),
        ("facts.x", "< abc", "'<' compares strings, which are not ordered"),
        ("facts.x", "<true", "compares booleans"),
        ("facts.x", "[1..2026-01-01]", "a range from a number to a date"),
        ("facts.x", 'date("2018-13-01")', "is not a date of the calendar"),
        ("facts.x", 'date("12/08/2018")', "is not an ISO date"),
        ("facts.x", "=", "'=' needs a value after it"),
        ("facts.x", "1, , 2", "empty value between commas"),
        ("facts.x", "a, not(b)", "not(...) applies to a whole cell"),
        ("count(departments)", '"3"', '"3" is a string, but count(departments) is a number'),
        ("count(departments)", "three", "'three' is not a number"),
        ("count(departments)", 'date("2026-01-01")', "is a date, but count(departments)"),
        ("domain", "<18, >=60", "compares"),
        ("domain", "[a..c]", "a range compares strings"),
        ("departments", "!=d.a", "!= cannot test a list input"),
        ("departments", "[1..2]", "a range cannot test a list input"),
        ("received_at", "yesterday", "'yesterday' is not an ISO date"),
        ("requester.anonymous", "yes", "'yes' is not true or false"),
    ],
)
def test_a_cell_that_is_no_test_for_its_input_is_a_located_error(
    write_pack: WritePack, input: str, cell: str, message: str
) -> None:
    folder = _table(write_pack, cell, input=input)
    with pytest.raises(PackError) as info:
        load_pack(folder)
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.line, diag.col) == ("T300", 8, 10), str(diag)
    assert message in diag.message, diag.message


def test_a_string_that_looks_like_a_date_on_a_date_fact_is_an_error(
    write_pack: WritePack,
) -> None:
    folder = write_pack(
        'tables:\n  - id: t\n    inputs: [facts.since]\n    outputs: [tags]\n    rows:\n'
        '      - [">= 2026-03-01", late]\n'
        'rules:\n  - {id: r, when: \'facts.since == "2026-03-02"\', then: {tags: [x]}}\n'
    )  # fmt: skip
    with pytest.raises(PackError) as info:
        load_pack(folder)
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.line) == ("R102", 8)
    assert "facts.since is compared with a date at " in diag.message
    assert 'write date("2026-03-02")' in diag.message


def test_a_date_fact_reads_the_same_from_json_yaml_and_python(
    write_pack: WritePack, make_case: MakeCase
) -> None:
    folder = _table(write_pack, '[2026-03-01..date("2026-03-31")]')
    pack = load_pack(folder)
    assert pack.date_facts == frozenset({"facts.x"})
    stored = make_case(facts={"x": date(2026, 3, 2)})
    reloaded = Case.model_validate_json(stored.model_dump_json())  # the fact is now a string
    assert reloaded.facts["x"] == "2026-03-02"
    engines = [CompiledEngine(pack), InterpretedEngine(pack)]
    with DurableEngine(pack) as durable:
        engines.append(durable)  # type: ignore[arg-type]
        decisions = {e.evaluate(c).to_json() for e in engines for c in (stored, reloaded)}
        facts = engines[0].evaluate_facts({"facts.x": "2026-03-02"}, stored.id)
    assert len(decisions) == 1 and "hit" in json.loads(decisions.pop())["tags"]
    assert facts.tags == ["hit"]


HIT = """\
tables:
  - id: t
    stage: route
    hit: {hit}
    inputs: [domain]
    outputs: [{outputs}]
{order}    rows:
      - ["-", {cells}]
"""


@pytest.mark.parametrize(
    ("hit", "outputs", "order", "cells", "code", "where", "message"),
    [
        ("priority", "departments.lead", "", "d.a", "T301", (4, 10),
         "hit: priority needs an order of output values"),
        ("priority", "deadlines.resolve", "", "2 working days", "T301", (4, 10),
         "add output_order: {deadlines.resolve: [most"),
        ("priority", "tags", "", "x", "T301", (4, 10), "its outputs are lists"),
        ("priority", "tier", "    output_order: {tags: [a, b]}\n", "major", "T302", (7, 26),
         "output_order names 'tags', which is not an output of this table (outputs: tier)"),
        ("priority", "tier, tags", "    output_order: {tags: [a, b]}\n", "major, a", "T302",
         (7, 26), "output_order cannot rank 'tags': it is a list output"),
        ("first", "tier", "    output_order: {tier: [general, major]}\n", "major", "T302",
         (7, 26), "output_order is used by hit: priority only; this table's hit is 'first'"),
        ("priority", "lead", "    output_order: {co: [d.a]}\n", "d.a", "T302", (7, 24),
         "output_order names 'co'"),  # and T301: lead has no order then
    ],
)  # fmt: skip
def test_a_hit_policy_or_order_that_would_be_ignored_is_a_located_error(
    write_pack: WritePack,
    hit: str,
    outputs: str,
    order: str,
    cells: str,
    code: str,
    where: tuple[int, int],
    message: str,
) -> None:
    folder = write_pack(HIT.format(hit=hit, outputs=outputs, order=order, cells=cells))
    with pytest.raises(PackError) as info:
        load_pack(folder)
    diag = info.value.diagnostics[0]
    assert (diag.code, (diag.line, diag.col)) == (code, where), str(diag)
    assert message in diag.message, diag.message


@pytest.mark.parametrize(
    ("outputs", "order", "cells"),
    [
        ("tier", "", "major"),  # tier has an order: major before general
        ("chair", "", "office_head"),
        ("severity", "", "S3"),
        ("departments.lead", "    output_order: {lead: [d.b, d.a]}\n", "d.a"),
        ("lead, tags", "    output_order: {departments.lead: [d.b, d.a]}\n", "d.a, x"),
    ],
)
def test_priority_with_an_order_loads(
    write_pack: WritePack, outputs: str, order: str, cells: str
) -> None:
    load_pack(write_pack(HIT.format(hit="priority", outputs=outputs, order=order, cells=cells)))


BRACKETS = st.sampled_from(["[", "("]), st.sampled_from(["]", ")"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    low=st.integers(-5, 5),
    width=st.integers(0, 6),
    opening=BRACKETS[0],
    closing=BRACKETS[1],
    values=st.lists(st.integers(-8, 12) | st.floats(-8, 12, allow_nan=False), max_size=6),
)
def test_a_range_cell_matches_exactly_its_interval(
    write_pack: WritePack,
    make_case: MakeCase,
    low: int,
    width: int,
    opening: str,
    closing: str,
    values: list[float],
) -> None:
    high = low + width
    cell = f"{opening}{low}..{high}{closing}"
    empty = low == high and (opening, closing) != ("[", "]")
    folder = _table(write_pack, cell)
    if empty:
        with pytest.raises(PackError, match="empty range"):
            load_pack(folder)
        return
    for value in values:
        inside = (low <= value if opening == "[" else low < value) and (
            value <= high if closing == "]" else value < high
        )
        assert _hits(folder, make_case(facts={"x": value})) is inside, (cell, value)
