"""Self-checks of the reference pack that do not need the rule engine: the data is coherent
and every rule is exercised by at least one pack test (full rule coverage)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from zhenshen_chengdu_gaoxin import PACK_ID, PACK_PATH
from zhenshen_chengdu_gaoxin import plugin as pack_plugin
from zhenshen_chengdu_gaoxin.corpus import DOMAINS

yaml = YAML(typ="safe", pure=True)


def _load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data = _load(PACK_PATH / "pack.yaml")
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def rules() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(PACK_PATH.glob("*.yaml")):
        if path.name == "pack.yaml":
            continue
        out += _load(path).get("rules", [])
    return out


@pytest.fixture(scope="module")
def tables() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(PACK_PATH.glob("*.yaml")):
        if path.name != "pack.yaml":
            out += _load(path).get("tables", [])
    return out


@pytest.fixture(scope="module")
def pack_tests() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted((PACK_PATH / "tests").glob("*.yaml")):
        out += _load(path)
    return out


def test_plugin_registers_the_pack() -> None:
    [source] = pack_plugin.zhenshen_rule_packs()
    assert source.id == PACK_ID == "cn.chengdu.gaoxin"
    assert (source.path / "pack.yaml").is_file()


def test_manifest(manifest: dict[str, Any]) -> None:
    assert manifest["schema"] == 1
    assert manifest["id"] == PACK_ID
    assert manifest["severity_levels"] == ["S1", "S2", "S3", "S4"]
    assert manifest["calendar"] == "cn"
    assert {e["id"] for e in manifest["experts"]} == {"lawyer", "think_tank", "industry"}


def test_pack_domains_cover_the_corpus(manifest: dict[str, Any]) -> None:
    assert {d["id"] for d in manifest["domains"]} == {d.id for d in DOMAINS}


def test_corpus_departments_exist_in_pack(manifest: dict[str, Any]) -> None:
    known = {d["id"] for d in manifest["departments"]}
    for domain in DOMAINS:
        assert {domain.lead, *domain.co} <= known, domain.id


def test_rule_ids_unique_and_described(rules: list[dict[str, Any]]) -> None:
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    assert all(r.get("description") for r in rules)


def test_references_resolve(manifest: dict[str, Any], rules: list[dict[str, Any]]) -> None:
    departments = {d["id"] for d in manifest["departments"]}
    experts = {e["id"] for e in manifest["experts"]}
    domains = {d["id"] for d in manifest["domains"]}
    for rule in rules:
        then = rule["then"]
        routed = then.get("departments", {})
        for dept in [routed.get("lead"), *routed.get("co", [])]:
            assert dept is None or dept in departments, (rule["id"], dept)
        wanted = then.get("experts", {})
        assert set(wanted.get("require", [])) | set(wanted.get("suggest", [])) <= experts
        for name in re.findall(r'domain == "(\w+)"', rule["when"]):
            assert name in domains, (rule["id"], name)


def test_article_deadlines_present(rules: list[dict[str, Any]]) -> None:
    deadlines = {
        (name, period)
        for rule in rules
        for name, period in rule["then"].get("deadlines", {}).items()
    }
    assert ("opinion", "2 working days") in deadlines
    assert ("permit", "60 working days") in deadlines
    assert ("permit", "25 working days") in deadlines


def test_every_rule_and_table_is_covered_by_a_pack_test(
    rules: list[dict[str, Any]], tables: list[dict[str, Any]], pack_tests: list[dict[str, Any]]
) -> None:
    fired = {rule_id for t in pack_tests for rule_id in t.get("fired", [])}
    assert {r["id"] for r in rules} | {t["id"] for t in tables} <= fired


def test_pack_tests_are_well_formed(
    rules: list[dict[str, Any]], tables: list[dict[str, Any]], pack_tests: list[dict[str, Any]]
) -> None:
    known = {r["id"] for r in rules} | {t["id"] for t in tables}
    known |= {f"{t['id']}#{n}" for t in tables for n in range(1, len(t["rows"]) + 1)}  # rows
    names = [t["name"] for t in pack_tests]
    assert len(names) == len(set(names))
    for test in pack_tests:
        assert set(test) <= {"name", "case", "expect", "fired", "not_fired"}, test["name"]
        assert isinstance(test["case"], dict) and isinstance(test["expect"], dict)
        referenced = set(test.get("fired", [])) | set(test.get("not_fired", []))
        assert referenced <= known, (test["name"], referenced - known)


def test_pack_files_are_in_canonical_format() -> None:
    """`zhenshen fmt --check` passes: staff diffs stay about rules, not layout."""
    from pathlib import Path

    from click.testing import CliRunner

    from zhenshen_core.cli.main import build_cli

    pack = Path(__file__).resolve().parents[1] / "src/zhenshen_chengdu_gaoxin/pack"
    result = CliRunner().invoke(build_cli(), ["fmt", "--check", str(pack)])
    assert result.exit_code == 0, result.output


def test_pack_declares_the_cross_case_rules() -> None:
    from zhenshen_chengdu_gaoxin import PACK_PATH

    from zhenshen_core.rules import load_pack

    ids = {spec.id for spec in load_pack(PACK_PATH).crosscase}
    assert ids == {"crosscase.repeat-enterprise", "crosscase.returned-twice",
                   "crosscase.similar-problems"}
