"""zhenshen test: output, exit codes, selection, coverage, JSON, JUnit and golden files."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ..conftest import Invoke

FAILING = textwrap.dedent("""\
    - name: 故意失败
      case: {domain: financing, content: 贷款, facts: {loan_wan: 5000}}
      expect:
        severity: S4
        tags: [准入不准营]
        experts: {suggested: {excludes: [think_tank]}}
      fired: [severity.cannot-operate]
    - name: 正常通过
      case: {domain: financing, facts: {loan_wan: 5000}}
      expect: {severity: S3, departments: {lead: gxq.jrj}}
    """)


def test_passing_packs_print_a_dot_per_test(zhenshen: Invoke, packs: Path) -> None:
    result = zhenshen("--pack-path", "packs", "test", "packs/basic", "packs/district")
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "packs/basic/tests/classify.yaml ..."
    assert lines[1] == "packs/basic/tests/route.yaml .s"
    assert lines[2] == "packs/district/tests/district.yaml ."
    assert lines[-1].startswith("=") and " 5 passed, 1 skipped in " in lines[-1]
    assert len(lines[-1]) == 100
    assert result.stderr == ""


def test_a_pack_id_found_on_the_pack_path(zhenshen: Invoke, packs: Path) -> None:
    result = zhenshen("--pack-path", "packs", "test", "rt.district")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_a_folder_of_packs_and_the_default_folder(zhenshen: Invoke, packs: Path) -> None:
    import shutil

    shutil.rmtree(packs / "broken")
    result = zhenshen("--pack-path", "packs", "test")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "5 passed, 1 skipped" in result.stdout


def test_failures_show_file_line_diff_and_fired_rules(zhenshen: Invoke, packs: Path) -> None:
    (packs / "basic/tests/failing.yaml").write_text(FAILING, encoding="utf-8")
    result = zhenshen("test", "packs/basic")
    assert result.exit_code == 1
    out = result.stdout
    assert "packs/basic/tests/failing.yaml F." in out
    assert " FAILURES " in out
    assert "packs/basic/tests/failing.yaml:1  (pack rt.basic)" in out
    assert '  severity\n    expected: "S4"\n    actual:   "S3"\n' in out
    assert '  tags  (missing ["准入不准营"])' in out
    assert '  experts.suggested  (must not contain ["think_tank"])' in out
    assert 'fired  (did not fire: ["severity.cannot-operate"])' in out
    assert '    classify  financing.large-loan  domain="financing" facts.loan_wan=5000' in out
    assert "1 failed, 5 passed, 1 skipped" in out.splitlines()[-1]


def test_errors_for_bad_cases_and_unknown_rule_ids(zhenshen: Invoke, packs: Path) -> None:
    (packs / "basic/tests/bad.yaml").write_text(
        textwrap.dedent("""\
        - name: typo
          case: {}
          not_fired: [severity.cannot-operat]
        - name: bad case
          case: {channel: fax}
        """),
        encoding="utf-8",
    )
    result = zhenshen("test", "packs/basic")
    assert result.exit_code == 1
    assert (
        "packs/basic/tests/bad.yaml:3: unknown rule id 'severity.cannot-operat' "
        "(did you mean 'severity.cannot-operate'?)"
    ) in result.stdout
    assert "packs/basic/tests/bad.yaml:5: case: invalid case: channel:" in result.stdout
    assert "2 errors" in result.stdout.splitlines()[-1]


def test_invalid_test_file_is_reported_with_location(zhenshen: Invoke, packs: Path) -> None:
    (packs / "basic/tests/schema.yaml").write_text(
        "- name: a\n  case: {}\n- name: a\n  case: {}\n- name: b\n  expcet: {severity: S2}\n",
        encoding="utf-8",
    )
    result = zhenshen("test", "packs/basic")
    assert result.exit_code == 1
    assert (
        "packs/basic/tests/schema.yaml:6:3: P201 unknown key 'expcet'; did you mean 'expect'?"
    ) in result.stdout
    assert (
        "packs/basic/tests/schema.yaml:3:3: P202 duplicate test name 'a' (first at line 1)"
        in result.stdout
    )


def test_keyword_selection_and_exitfirst(zhenshen: Invoke, packs: Path) -> None:
    (packs / "basic/tests/failing.yaml").write_text(FAILING, encoding="utf-8")
    selected = zhenshen("test", "packs/basic", "-k", "退单 or (部门 and not 等待)", "-v")
    assert selected.exit_code == 0, selected.stdout
    assert selected.stdout.splitlines()[:2] == [
        "packs/basic/tests/classify.yaml:22 两次退单升级一级 PASSED",
        "packs/basic/tests/route.yaml:2 三个部门为重大 PASSED",
    ]
    assert "2 passed, 5 deselected" in selected.stdout
    stopped = zhenshen("test", "packs/basic", "-x", "-k", "failing or route")
    assert stopped.exit_code == 1
    assert "packs/basic/tests/failing.yaml F\n" in stopped.stdout
    assert "(stopped at first failure)" in stopped.stdout
    bad = zhenshen("test", "packs/basic", "-k", "a and (b")
    assert bad.exit_code == 2
    assert "expected ')'" in bad.stderr


def test_coverage_table_and_threshold(zhenshen: Invoke, packs: Path) -> None:
    result = zhenshen("--pack-path", "packs", "test", "packs/basic", "packs/district", "--coverage")
    assert result.exit_code == 0
    out = result.stdout
    assert " COVERAGE " in out
    assert "rt.basic       3/4         3/3     85.7%" in out
    assert "rt.district    1/2         0/0     50.0%" in out
    assert "total                              77.8%" in out
    assert "  packs/basic/rules.yaml:11  financing.large-loan  (rt.basic)" in out
    assert "  packs/district/rules.yaml:8  district.unused  (rt.district)" in out
    low = zhenshen(
        "--pack-path", "packs", "test", "packs/basic", "packs/district", "--threshold", "80"
    )
    assert low.exit_code == 1
    assert "FAIL: coverage 77.8% is below the threshold 80%" in low.stdout
    ok = zhenshen("test", "packs/basic", "--threshold", "85")
    assert ok.exit_code == 0


def test_json_report(zhenshen: Invoke, packs: Path) -> None:
    (packs / "basic/tests/failing.yaml").write_text(FAILING, encoding="utf-8")
    result = zhenshen("test", "packs/basic", "--format", "json", "--coverage")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["summary"] == {
        "passed": 5,
        "failed": 1,
        "errors": 0,
        "skipped": 1,
        "deselected": 0,
        "total": 7,
        "golden_updated": 0,
        "duration_s": report["summary"]["duration_s"],
    }
    assert report["exit_code"] == 1
    failed = [t for t in report["tests"] if t["outcome"] == "failed"]
    assert failed[0]["name"] == "故意失败"
    assert failed[0]["file"] == "packs/basic/tests/failing.yaml"
    assert failed[0]["line"] == 1
    assert {m["path"] for m in failed[0]["mismatches"]} == {
        "severity",
        "tags",
        "experts.suggested",
        "fired",
    }
    assert report["packs"][0]["id"] == "rt.basic"
    assert report["coverage"]["packs"][0]["rules"] == {"total": 4, "fired": 4}


def test_junit_xml(zhenshen: Invoke, packs: Path) -> None:
    (packs / "basic/tests/failing.yaml").write_text(FAILING, encoding="utf-8")
    result = zhenshen("test", "packs/basic", "--junit-xml", "out/report.xml")
    assert result.exit_code == 1
    root = ET.parse("out/report.xml").getroot()
    assert root.tag == "testsuites" and root.get("tests") == "7"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    failing = suites["packs/basic/tests/failing.yaml"]
    assert failing.get("failures") == "1" and failing.get("tests") == "2"
    case = failing.find("testcase[@name='故意失败']")
    assert case is not None and case.get("line") == "1"
    failure = case.find("failure")
    assert failure is not None and failure.get("message", "").startswith("severity: expected")
    skipped = suites["packs/basic/tests/route.yaml"].find("testcase/skipped")
    assert skipped is not None and skipped.get("message") == "等待金融工作局确认"


def test_control_characters_in_names_are_shown_not_sent(zhenshen: Invoke, packs: Path) -> None:
    """A test name may hold anything YAML can: the JUnit XML stays well-formed (XML 1.0 cannot
    hold most control characters at all) and the terminal shows escapes instead of obeying
    them."""
    (packs / "basic/tests/odd.yaml").write_text(
        '- name: "坏\\x01名\\x1b[31m"\n  case: {domain: financing}\n  expect: {severity: S4}\n',
        encoding="utf-8",
    )
    result = zhenshen("test", "packs/basic/tests/odd.yaml", "--junit-xml", "out/odd.xml")
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout and "\x01" not in result.stdout
    assert "坏\\x01名\\x1b[31m" in result.stdout
    case = ET.parse("out/odd.xml").getroot().find(".//testcase")
    assert case is not None and case.get("name") == "坏\\x01名\\x1b[31m"


def test_golden_files(zhenshen: Invoke, packs: Path) -> None:
    tests = packs / "basic/tests/golden.yaml"
    tests.write_text(
        "- name: 黄金\n  case: {domain: financing, facts: {loan_wan: 5000}}\n  golden: true\n",
        encoding="utf-8",
    )
    missing = zhenshen("test", str(tests))
    assert missing.exit_code == 1
    assert "does not exist; run with --update-golden" in missing.stdout
    written = zhenshen("test", str(tests), "--update-golden")
    assert written.exit_code == 0
    assert "1 golden updated" in written.stdout
    golden = packs / "basic/tests/golden/golden/黄金.json"
    data = json.loads(golden.read_text(encoding="utf-8"))
    assert data["severity"] == "S3" and data["pack"] == {"id": "rt.basic"}
    assert zhenshen("test", str(tests)).exit_code == 0
    data["tier"] = "general"
    golden.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    changed = zhenshen("test", str(tests))
    assert changed.exit_code == 1
    assert '  golden tier\n    expected: "general"\n    actual:   "major"' in changed.stdout
    for damaged, problem in (
        (b"[" * 5000, "arrays and objects nested too deeply"),
        (b'{"tier": "\xc6\xf3"}', "not UTF-8 text (byte 0xC6)"),
    ):
        golden.write_bytes(damaged)
        broken = zhenshen("test", str(tests))
        assert broken.exit_code == 1 and "golden file is not valid JSON" in broken.stdout
        assert problem in broken.stdout


def test_pack_that_fails_to_load_exits_3(zhenshen: Invoke, packs: Path) -> None:
    result = zhenshen("test", "packs/broken")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "error: pack packs/broken failed to load",
        "packs/broken/rules.yaml:3:11: R101 unknown field 'domian'; did you mean 'domain'? [bad]",
    ]


def test_unknown_pack_id_exits_3(zhenshen: Invoke, packs: Path) -> None:
    result = zhenshen("--pack-path", "packs", "test", "rt.basik")
    assert result.exit_code == 3
    assert "did you mean 'rt.basic'?" in result.stderr


def test_no_tests_exits_5(zhenshen: Invoke, packs: Path) -> None:
    result = zhenshen("test", "packs/empty")
    assert result.exit_code == 5
    assert "no tests collected" in result.stderr
    assert zhenshen("test", "packs/basic", "-k", "nothing-matches").exit_code == 5
    (packs.parent / "no-packs-here").mkdir()
    nothing = zhenshen("test", "no-packs-here")
    assert nothing.exit_code == 5
    assert "no pack.yaml in this folder or below; no tests collected" in nothing.stderr


def test_usage_errors_exit_2(zhenshen: Invoke, packs: Path, tmp_path: Path) -> None:
    lonely = tmp_path / "lonely.yaml"
    lonely.write_text("- name: x\n", encoding="utf-8")
    result = zhenshen("test", str(lonely))
    assert result.exit_code == 2
    assert "no pack.yaml in its folder or above" in result.stderr
    assert zhenshen("test", "--threshold", "120").exit_code == 2


def test_help_carries_a_worked_example(zhenshen: Invoke) -> None:
    result = zhenshen("test", "--help")
    assert result.exit_code == 0
    for needle in (
        "my-pack/tests/severity.yaml",
        "zhenshen test my-pack --coverage",
        "Exit codes: 0 all passed",
        "--update-golden",
        "--junit-xml FILE",
    ):
        assert needle in result.stdout


def test_durable_engine_gives_the_same_results(zhenshen: Invoke, packs: Path) -> None:
    result = zhenshen("test", "packs/basic", "--engine", "durable")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "4 passed, 1 skipped" in result.stdout


def test_the_help_example_works(
    zhenshen: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files shown in ``zhenshen test --help`` form a pack whose tests pass as shown."""
    from zhenshen_core.cli.tester import TEST_HELP

    monkeypatch.chdir(tmp_path)
    lines = TEST_HELP.splitlines()
    for i, line in enumerate(lines):
        name = line.strip()
        if name.startswith("my-pack/") and name.endswith(".yaml"):
            body = []
            for follow in lines[i + 1 :]:
                if follow.strip() in ("", "\b"):
                    break
                body.append(follow)
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent("\n".join(body)) + "\n", encoding="utf-8")
    assert sorted(p.name for p in (tmp_path / "my-pack").rglob("*.yaml")) == [
        "pack.yaml",
        "rules.yaml",
        "severity.yaml",
    ]
    result = zhenshen("test", "my-pack")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.startswith("my-pack/tests/severity.yaml ..\n")
    assert "2 passed" in result.stdout
