"""``zhenshen profile check`` and ``zhenshen profile test``: pytest's exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from zhenshen_core.cli.main import build_cli

from .conftest import PACK, PROFILE

Run = Callable[..., Result]

TESTS = """\
profile: profile.yaml
tests:
  - name: 投诉 with a code
    row: {工单编号: GD001, 来电时间: "2026/3/4 9:05", 诉求类型: 投诉, 诉求分类代码: "0102"}
    expect:
      external_id: GD001
      received_at: 2026-03-04T09:05:00+08:00
      appeal_type: 投诉
      domain: policy_redemption
      lead_department: gxq.jfj
      co_departments: [gxq.czj]
      facts: {category_code: "0102"}
  - name: a call time that is no date is rejected
    row: {工单编号: GD002, 来电时间: 昨天}
    reject: 来电时间
  - name: an Excel date cell
    row: {工单编号: GD003, 来电时间: 2026-03-04, 联系电话: "138 0000 1234"}
    expect: {received_at: 2026-03-04, requester: {phone: "13800001234"}}
"""


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "profile.yaml").write_text(PROFILE, encoding="utf-8")
    group = build_cli()

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(group, list(args), catch_exceptions=False)

    return invoke


def test_check_is_silent_on_a_clean_profile(run: Run) -> None:
    result = run("profile", "check", "profile.yaml", "--pack", str(PACK))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_check_lists_every_problem_and_exits_1(run: Run, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "profile: 1\nfields:\n  recieved_at: {from: 时间}\n  domain: {from: x, default: nope}\n",
        encoding="utf-8",
    )
    result = run("profile", "check", "bad.yaml", "--pack", str(PACK))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("bad.yaml:3:3: M501 unknown case field 'recieved_at'")
    assert lines[1].startswith("bad.yaml:4:30: M502 unknown domain 'nope'")
    assert lines[-1] == "2 error(s), 0 warning(s)"
    as_json = run("profile", "check", "bad.yaml", "--format", "json")
    assert [d["code"] for d in json.loads(as_json.stdout)] == ["M501"]


def test_check_with_a_pack_that_does_not_load_exits_3(run: Run) -> None:
    result = run("profile", "check", "profile.yaml", "--pack", "no.such.pack")
    assert result.exit_code == 3


def test_profile_tests_pass(run: Run, tmp_path: Path) -> None:
    (tmp_path / "profile.tests.yaml").write_text(TESTS, encoding="utf-8")
    result = run("profile", "test", "profile.yaml")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "profile.tests.yaml ..."
    assert "3 passed in" in result.stdout
    verbose = run("profile", "test", "-v", ".")
    assert "profile.tests.yaml::a call time that is no date is rejected PASSED" in verbose.stdout


def test_a_failing_profile_test_says_what_differs(run: Run, tmp_path: Path) -> None:
    failing = TESTS.replace("appeal_type: 投诉", "appeal_type: consult").replace(
        "reject: 来电时间", "reject: 工单编号"
    )
    (tmp_path / "profile.tests.yaml").write_text(failing, encoding="utf-8")
    result = run("profile", "test", "profile.tests.yaml")
    assert result.exit_code == 1
    assert "profile.tests.yaml:3: 投诉 with a code" in result.stdout
    assert "appeal_type: expected 'consult', got 'complaint'" in result.stdout
    assert "rejected, but the reason does not contain '工单编号'" in result.stdout
    assert "1 passed, 2 failed" in result.stdout
    as_json = json.loads(run("profile", "test", ".", "--format", "json").stdout)
    assert [t["passed"] for t in as_json] == [False, False, True]


def test_profile_test_exit_codes_for_nothing_and_broken(run: Run, tmp_path: Path) -> None:
    assert run("profile", "test", "profile.yaml").exit_code == 5
    (tmp_path / "profile.tests.yaml").write_text(
        "profile: missing.yaml\ntests: []\n", encoding="utf-8"
    )
    broken = run("profile", "test", ".")
    assert broken.exit_code == 3 and "P208 no such profile" in broken.stderr
    (tmp_path / "profile.tests.yaml").write_text(
        "profile: profile.yaml\ntests:\n  - {name: x, rows: {}}\n", encoding="utf-8"
    )
    schema = run("profile", "test", ".")
    assert schema.exit_code == 3 and "profile.tests.yaml:3:5: M500" in schema.stderr
    (tmp_path / "profile.yaml").write_text("profile: 1\nfields: {x: 1}\n", encoding="utf-8")
    (tmp_path / "profile.tests.yaml").write_text(TESTS, encoding="utf-8")
    bad_profile = run("profile", "test", ".")
    assert bad_profile.exit_code == 3 and "profile.yaml:2:10: M501" in bad_profile.stderr


def test_check_warnings_alone_exit_0(run: Run, tmp_path: Path) -> None:
    (tmp_path / "twice.yaml").write_text(
        "profile: 1\nfields:\n  received_at: {from: 日期}\n  title: {from: 问题}\n"
        "  content: {from: 问题}\n",
        encoding="utf-8",
    )
    result = run("profile", "check", "twice.yaml")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "twice.yaml:5:19: M506 column '问题' fills 'title' too: is that meant? (a value the "
        "rules need twice is better kept once, e.g. with the classification's `fact`)",
        "0 error(s), 1 warning(s)",
    ]
    quiet = run("profile", "check", "twice.yaml", "--no-warnings")
    assert (quiet.exit_code, quiet.stderr) == (0, "")
