"""Pack loading: located errors (all of them), extends/disable/cycles, hashing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from zhenshen_core.rules import PackError, load_pack

PACKS = Path(__file__).parents[1] / "packs"
WritePack = Callable[..., Path]


def errors_of(folder: Path, **kw: object) -> list[str]:
    with pytest.raises(PackError) as info:
        load_pack(folder, **kw)  # type: ignore[arg-type]
    return [
        f"{d.line}:{d.col}: {d.code} {d.message}"
        for d in info.value.diagnostics
        if d.severity == "error"
    ]


def test_example_packs_load_cleanly() -> None:
    base = load_pack(PACKS / "base")
    assert base.id == "base" and base.warnings == ()
    assert len(base.sha256) == 64
    district = load_pack("district", search_paths=[PACKS])
    assert district.lineage == ("base", "district")
    ids = [r.id for r in district.rules]
    assert "financing.large-loan" not in ids  # disabled
    assert ids.index("severity.cannot-operate") == 0  # replaced in place
    assert ids[-1] == "district.anonymous-complaint"  # new ids add at the end
    assert "gxq.sqjd" in district.departments and "gxq.scjgj" in district.departments
    assert district.rule("severity.cannot-operate").outcome.co == ("gxq.zwfw", "gxq.sqjd")


def test_unknown_field_is_located_with_suggestion(write_pack: WritePack) -> None:
    folder = write_pack(
        """\
        rules:
          - id: r1
            when: domain == "financing" and enterprize.size == "small"
            then: {tags: [x]}
        """
    )
    (message,) = errors_of(folder)
    assert message.startswith("3:37: R101 unknown field 'enterprize.size'")
    assert "did you mean 'enterprise.size'" in message


def test_every_error_is_reported_not_just_the_first(write_pack: WritePack) -> None:
    folder = write_pack(
        """\
        rules:
          - id: r1
            when: count(content) > 1
            then: {tags: [x]}
          - id: r2
            when: received_at > ["a"]
            then: {severity: {at_least: S9}}
          - id: r3
            when: content matches "(?=a)b"
            then: {experts: {require: [lawer]}, departments: {lead: d.zz}}
          - id: r4
            when: domain ==
            then: {deadlines: {resolve: "30 wokring days"}, actions: [notify]}
          - id: r5
            when: appeal_type == "complain"
            then: {tier: huge}
          - id: r5b
            when: returns > 1
            then: {unknown_key: 1}
          - id: r6
            stage: classify
            when: decision.severity >= "S2"
            then: {tags: [x]}
        """
    )
    found = errors_of(folder, actions={"notify-street-office"})
    codes = [m.split()[1] for m in found]
    assert codes.count("R102") == 2  # count of a string; date > list
    assert "R103" in codes and "R100" in codes and "P207" in codes and "P205" in codes
    assert "P201" in codes  # unknown_key
    text = "\n".join(found)
    assert "3:11: R102 count() needs a list, but 'content' is a string" in text
    assert "'>' between a date and a list" in text
    assert "lookahead and lookbehind" in text
    assert "did you mean 'lawyer'" in text
    assert "unknown department 'd.zz'" in text
    assert "'complain' is not a valid appeal_type; did you mean 'complaint'" in text
    assert "S9" in text
    assert "a classify rule cannot read it" in text
    assert "unknown action 'notify'" in text and "notify-street-office" in text


def test_yaml_syntax_error_is_located(write_pack: WritePack) -> None:
    folder = write_pack("rules:\n  - id: r1\n    when: [unclosed\n")
    (message,) = errors_of(folder)
    assert message.startswith("4:1: P200") or message.split(":")[0] in {"3", "4"}
    assert "P200" in message


def test_duplicate_ids_across_files(write_pack: WritePack) -> None:
    write_pack("rules:\n  - {id: r1, when: 'returns > 1', then: {tags: [a]}}\n", name="a.yaml")
    folder = write_pack(
        "rules:\n  - {id: r1, when: 'returns > 2', then: {tags: [b]}}\n", name="b.yaml"
    )
    (message,) = errors_of(folder)
    assert "P202 duplicate id 'r1'" in message and "a.yaml:2" in message


def test_quoted_expression_columns_point_into_the_string(write_pack: WritePack) -> None:
    folder = write_pack('rules:\n  - id: r1\n    when: "returns > nope"\n    then: {tags: [a]}\n')
    (message,) = errors_of(folder)
    assert message.startswith("3:22: R101 unknown field 'nope'")


def test_alias_resolves_to_department_id(write_pack: WritePack) -> None:
    folder = write_pack(
        "rules:\n  - {id: r1, when: 'returns > 1', then: {departments: {lead: d.old}}}\n"
    )
    assert load_pack(folder).rule("r1").outcome.lead == "d.a"


def test_extends_missing_and_cycle(write_pack: WritePack, tmp_path: Path) -> None:
    write_pack(id="a", extra="extends: [b]\n")
    write_pack(id="b", extra="extends: [a]\n")
    (cycle,) = errors_of(tmp_path / "a", search_paths=[tmp_path])
    assert "P204 extends cycle: a → b → a" in cycle
    folder = write_pack(id="c", extra="extends: [bse]\n")
    write_pack(id="base")
    (missing,) = errors_of(folder, search_paths=[tmp_path])
    assert "P203 base pack 'bse' not found; did you mean 'base'?" in missing


def test_disable_unknown_rule_is_an_error(write_pack: WritePack, tmp_path: Path) -> None:
    write_pack("rules:\n  - {id: r1, when: 'returns > 1', then: {tags: [a]}}\n", id="base")
    child = write_pack(id="child", extra="extends: [base]\ndisable: [r2]\n")
    (message,) = errors_of(child, search_paths=[tmp_path])
    assert "P206 disable: no base pack defines 'r2'" in message


def test_plugin_packs_are_found_by_id(write_pack: WritePack, tmp_path: Path) -> None:
    base = write_pack("rules:\n  - {id: r1, when: 'returns > 1', then: {tags: [a]}}\n", id="b1")
    child = write_pack(id="child", extra="extends: [from-plugin]\n")
    pack = load_pack(child, plugin_packs={"from-plugin": base})
    assert [r.id for r in pack.rules] == ["r1"]


def test_hash_changes_with_content_and_not_with_location(
    write_pack: WritePack, tmp_path: Path
) -> None:
    rules = "rules:\n  - {id: r1, when: 'returns > 1', then: {tags: [a]}}\n"
    first = load_pack(write_pack(rules)).sha256
    moved = tmp_path / "elsewhere"
    (tmp_path / "p").rename(moved)
    assert load_pack(moved).sha256 == first
    (moved / "rules.yaml").write_text(rules.replace("> 1", "> 2"), encoding="utf-8")
    assert load_pack(moved).sha256 != first


def test_pack_not_found() -> None:
    with pytest.raises(PackError) as info:
        load_pack("no-such-pack", search_paths=[PACKS])
    assert "not found" in str(info.value)


def test_warnings_for_unreachable_and_conflicts(write_pack: WritePack) -> None:
    folder = write_pack(
        """\
        rules:
          - id: never
            when: domain == "financing" and domain == "credit_repair"
            then: {tags: [x]}
          - id: typo-domain
            when: domain == "finance"
            then: {tags: [x]}
          - id: lead-a
            when: returns > 1
            then: {departments: {lead: d.a}}
          - id: lead-b
            when: returns > 2
            then: {departments: {lead: d.b}}
          - id: lead-c
            when: domain == "financing"
            priority: 5
            then: {departments: {lead: d.c}}
        """
    )
    pack = load_pack(folder)
    found = {(d.code, d.rule) for d in pack.warnings}
    assert ("W400", "never") in found
    assert ("W400", "typo-domain") in found
    assert ("W401", "lead-b") in found
    assert not any(rule == "lead-c" for _, rule in found)
