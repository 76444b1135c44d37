"""Test-file reading, partial matching and -k selection, one piece at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.model import load_case
from zhenshen_core.rules.tester import case_data, match_exact, match_expect, read_test_file
from zhenshen_core.rules.tester.matching import match_fired
from zhenshen_core.rules.tester.model import DEFAULT_NOW, TestSpec
from zhenshen_core.rules.tester.select import KeywordError, compile_keyword

DECISION = {
    "severity": "S3",
    "tier": "major",
    "chair": "leader_in_charge",
    "departments": {"lead": "a", "co": ["b", "c"]},
    "experts": {"required": ["lawyer"], "suggested": ["think_tank"], "reasons": {}},
    "tags": ["x", "y"],
    "deadlines": {"resolve": "30 working days"},
    "actions": [],
}


def spec(**kw: object) -> TestSpec:
    base: dict[str, object] = {
        "name": "t",
        "file": Path("t.yaml"),
        "line": 1,
        "col": 1,
        "index": 0,
        "case": {},
    }
    base.update(kw)
    return TestSpec(**base)  # type: ignore[arg-type]


def test_partial_expect_checks_only_named_fields() -> None:
    assert match_expect({"severity": "S3", "departments": {"lead": "a"}}, DECISION) == []


def test_lists_compare_as_sets_or_by_contains_excludes() -> None:
    assert match_expect({"tags": ["y", "x"]}, DECISION) == []
    [m] = match_expect({"tags": ["x", "z"]}, DECISION)
    assert m.path == "tags" and m.note == 'missing ["z"]; unexpected ["y"]'
    assert match_expect({"departments": {"co": {"contains": ["c"]}}}, DECISION) == []
    [m] = match_expect({"experts": {"required": {"excludes": ["lawyer"]}}}, DECISION)
    assert m.note == 'must not contain ["lawyer"]'


def test_deadlines_by_clock_and_null_means_absent() -> None:
    assert (
        match_expect({"deadlines": {"resolve": "30 working days", "opinion": None}}, DECISION) == []
    )
    [m] = match_expect({"deadlines": {"opinion": "2 working days"}}, DECISION)
    assert (m.path, m.note) == ("deadlines.opinion", "no such clock")


def test_fired_exact_not_fired_and_table_ids() -> None:
    fired = ["r1", "tier#2"]
    assert match_fired(spec(fired=("r1", "tier")), fired) == []
    [m] = match_fired(spec(fired=("r1",), fired_exact=True), fired)
    assert m.note == 'also fired: ["tier#2"]'
    [m] = match_fired(spec(not_fired=("tier",)), fired)
    assert m.note == 'fired but must not: ["tier"]'


def test_exact_match_reports_paths() -> None:
    problems = match_exact({"a": [1, {"b": 2}], "c": 1}, {"a": [1, {"b": 3}], "d": 1})
    assert [(p.path, p.note) for p in problems] == [
        ("a[1].b", ""),
        ("c", "missing"),
        ("d", "unexpected"),
    ]


def test_case_defaults_and_conveniences() -> None:
    data = case_data(
        spec(
            case={
                "departments": ["a", {"id": "b", "role": "lead"}],
                "returns": 2,
                "enterprise": {"size": "small"},
            }
        )
    )
    case = load_case(data)
    assert case.received_at == DEFAULT_NOW
    assert [d.id for d in case.departments] == ["a", "b"] and case.lead_department == "b"
    assert len(case.returns) == 2
    assert case.enterprise is not None and case.enterprise.name == "测试企业"


def test_reading_keeps_lines_and_collects_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "- name: one\n  case: {}\n  now: 2026-03-02\n"
        "- name: two\n  expect: {severity: 3, tierr: x}\n"
        "- just text\n",
        encoding="utf-8",
    )
    loaded = read_test_file(path, "t.yaml")
    assert [(t.name, t.line) for t in loaded.tests] == [("one", 1)]
    assert loaded.tests[0].now is not None and loaded.tests[0].now.isoformat().startswith(
        "2026-03-02T09:00"
    )
    assert [str(p) for p in loaded.problems] == [
        "t.yaml:5:12: P201 expect.severity: Input should be a valid string (got a number)",
        "t.yaml:5:25: P201 unknown key 'tierr'; did you mean 'tier'?",
        "t.yaml:6:3: P201 a test is a mapping with name, case, expect …",
    ]


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("- name: [\n", encoding="utf-8")
    [problem] = read_test_file(path, "t.yaml").problems
    assert problem.code == "P200" and problem.line == 2


@pytest.mark.parametrize(
    ("expr", "selected"),
    [
        ("退单", ["两次退单"]),
        ("not 退单", ["三个部门", "file-b::x"]),
        ("部门 or x", ["三个部门", "file-b::x"]),
        ("(退单 or 部门) and not 三个", ["两次退单"]),
        ("FILE-B", ["file-b::x"]),
    ],
)
def test_keyword_expressions(expr: str, selected: list[str]) -> None:
    tests = [spec(name="两次退单"), spec(name="三个部门"), spec(name="x", file=Path("file-b"))]
    chosen = [t for t in tests if compile_keyword(expr)(t)]
    assert [
        t.name if t.file == Path("t.yaml") else f"{t.file}::{t.name}" for t in chosen
    ] == selected


@pytest.mark.parametrize("expr", ["a and", "(a", "a b", "and", ")"])
def test_malformed_keyword_expressions(expr: str) -> None:
    with pytest.raises(KeywordError):
        compile_keyword(expr)


@given(
    word=st.text(alphabet="abc", min_size=1, max_size=3), name=st.text(alphabet="abc ", max_size=8)
)
def test_not_is_the_complement(word: str, name: str) -> None:
    test = spec(name=name)
    assert compile_keyword(f"not {word}")(test) != compile_keyword(word)(test)


BASIC = Path(__file__).parent / "packs" / "basic"


@pytest.mark.parametrize(
    ("expect", "problems"),
    [
        ({"severity": "S3", "tier": "major", "tags": ["准入不准营"]}, []),
        ({"severity": "s3"}, ["severity: 's3' is not a severity here (S1, S2, S3, S4)"]),
        ({"tier": "majr"}, ["tier: 'majr' is not a tier here (general, major)"]),
        (
            {"departments": {"lead": "gxq.jrjj", "co": {"contains": ["gxq.zwfw"]}}},
            [
                "departments.lead: no rule or table row of pack rt.basic sets 'gxq.jrjj'; "
                "did you mean 'gxq.jrj'?"
            ],
        ),
        (
            {"experts": {"suggested": {"excludes": ["think_tnk"]}, "required": []}},
            [
                "experts.suggested: no rule or table row of pack rt.basic sets 'think_tnk'; "
                "did you mean 'think_tank'?"
            ],
        ),
        ({"deadlines": {"resolve": "20 working days", "meeting": None}}, []),
        (
            {"deadlines": {"resolv": "20 working days", "resolve": "2 working days"}},
            [
                "deadlines.resolv: no rule or table row of pack rt.basic sets this clock; "
                "did you mean 'resolve'?",
                "deadlines.resolve: no rule sets the period '2 working days' "
                "(only '20 working days')",
            ],
        ),
        ({"actions": ["notify"]}, ["actions: no rule or table row of pack rt.basic sets 'notify'"]),
    ],
)
def test_expected_values_no_decision_can_hold(
    expect: dict[str, object], problems: list[str]
) -> None:
    from zhenshen_core.rules import load_pack
    from zhenshen_core.rules.tester.reachable import impossible_expectations

    assert impossible_expectations(expect, load_pack(BASIC)) == problems


def test_a_test_expecting_an_impossible_value_is_an_error_not_a_failure(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zhenshen_core.cli.main import build_cli

    pack = tmp_path / "basic"
    pack.mkdir()
    for name in ("pack.yaml", "rules.yaml"):
        (pack / name).write_text((BASIC / name).read_text(encoding="utf-8"), encoding="utf-8")
    (pack / "tests").mkdir()
    (pack / "tests" / "typo.yaml").write_text(
        "- name: 专家拼错\n  case: {domain: financing, facts: {loan_wan: 5000}}\n"
        "  expect:\n    experts: {suggested: {excludes: [think_tnk]}}\n",
        encoding="utf-8",
    )
    result = CliRunner(env={"ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1"}).invoke(
        build_cli(), ["test", str(pack)]
    )
    assert result.exit_code == 1
    assert f"{pack}/tests/typo.yaml:3: expected values no decision can hold: experts.suggested" in (
        result.stdout
    )
    assert "did you mean 'think_tank'?" in result.stdout and "1 error" in result.stdout
