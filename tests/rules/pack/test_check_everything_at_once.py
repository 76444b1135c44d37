"""``zhenshen check`` reports errors and warnings in one run, and refuses zero-length periods
(a pack's P207 and ``zhenshen deadline`` alike)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.cli.main import build_cli
from zhenshen_core.deadlines import PeriodError, parse_period
from zhenshen_core.rules import load_pack
from zhenshen_core.rules.diagnostics import PackError

from ..conftest import WritePack

Run = Callable[..., Result]

RULES = """\
rules:
  - id: never
    when: domain == "financing" and domain == "credit_repair"
    then: {tags: [t]}
  - id: one
    when: content contains "a"
    then: {departments: {lead: d.a}}
  - id: two
    when: content contains "b"
    then: {departments: {lead: d.b}}
  - id: broken
    when: domian == "financing"
    then: {tags: [t]}
"""


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    group = build_cli()

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(group, list(args), catch_exceptions=False)

    return invoke


def test_warnings_are_reported_with_the_errors(write_pack: WritePack, run: Run) -> None:
    folder = write_pack(RULES)
    with pytest.raises(PackError) as info:
        load_pack(folder)
    codes = sorted((d.code, d.rule) for d in info.value.diagnostics)
    assert codes == [("R101", "broken"), ("W400", "never"), ("W401", "two")]
    result = run("check", str(folder))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(": W400 never can never fire" in line for line in lines)
    assert any(": W401 two and one both set departments.lead" in line for line in lines)
    assert lines[-1] == "1 error(s), 2 warning(s)"
    quiet = run("check", "--no-warnings", str(folder))
    assert quiet.stderr.splitlines()[-1] == "1 error(s), 0 warning(s)"


def test_fixing_the_error_leaves_the_same_warnings(write_pack: WritePack) -> None:
    broken = write_pack(RULES, id="broken")
    with pytest.raises(PackError) as info:
        load_pack(broken)
    fixed = load_pack(write_pack(RULES.replace("domian", "domain"), id="fixed"))
    before = sorted(str(d).split("/broken/", 1)[1] for d in info.value.diagnostics)
    after = sorted(str(d).split("/fixed/", 1)[1] for d in fixed.warnings)
    assert [d for d in before if " R101 " not in d] == after


@pytest.mark.parametrize(
    ("rules", "line", "col"),
    [
        (
            'rules:\n  - id: z\n    stage: deadline\n    when: content contains "a"\n'
            "    then: {deadlines: {resolve: 0 working days}}\n",
            5,
            33,
        ),
        (
            "tables:\n  - id: t\n    stage: deadline\n    inputs: [decision.severity]\n"
            '    outputs: [deadlines.resolve]\n    rows:\n      - [">= S3", 0天]\n',
            7,
            19,
        ),
    ],
)
def test_a_zero_period_in_a_pack_is_a_located_error(
    write_pack: WritePack, run: Run, rules: str, line: int, col: int
) -> None:
    folder = write_pack(rules)
    with pytest.raises(PackError) as info:
        load_pack(folder)
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.line, diag.col) == ("P207", line, col)
    assert "has no length" in diag.message
    assert run("check", str(folder)).exit_code == 1


def test_zhenshen_deadline_refuses_a_zero_period_too(run: Run) -> None:
    for args in (("0 working days",), ("0个工作日",), ("2 days", "--extend", "0h")):
        result = run("deadline", "2026-03-02", *args)
        assert result.exit_code == 2, result.output
        assert "has no length" in result.stderr
    assert run("deadline", "2026-03-02", "1 working day").exit_code == 0


SPELLINGS = st.sampled_from(
    ["working days", "wd", "个工作日", "days", "d", "天", "months", "个月", "years", "年",
     "hours", "h", "小时", "working hours", "wh"]
)  # fmt: skip


@given(amount=st.integers(0, 400), spelling=SPELLINGS, space=st.sampled_from(["", " "]))
def test_deadline_period_refuses_exactly_the_zero_periods(
    amount: int, spelling: str, space: str
) -> None:
    from zhenshen_core.deadlines import deadline_period

    text = f"{amount}{space}{spelling}"
    if amount == 0:
        with pytest.raises(PeriodError, match="has no length"):
            deadline_period(text)
    else:
        assert deadline_period(text) == parse_period(text)


def test_every_diagnostic_code_is_documented() -> None:
    """A code the loader emits is listed in CODES (the errors reference is generated from it)
    and in the rule-language reference's table."""
    import re

    from zhenshen_core.rules.diagnostics import CODES

    root = Path(__file__).parents[3]
    source = "\n".join(p.read_text("utf-8") for p in (root / "src/zhenshen_core").rglob("*.py"))
    emitted = set(re.findall(r'"([RPTW]\d{3})"', source))
    assert emitted <= set(CODES)
    reference = (root / "docs/reference/rule-language.md").read_text("utf-8")
    documented = set(re.findall(r"^\| ([RPTW]\d{3}) \|", reference, re.MULTILINE))
    assert set(CODES) <= documented
