"""A pack reaches only its own files: symbolic links and paths leading out are refused (P210).

Each case builds real links (files and folders, relative and absolute, with ``..`` in their
targets) and checks the error is located where the pack names the path, and that nothing
outside was read or written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from zhenshen_core.rules import PackError, load_pack
from zhenshen_core.rules.tester import run_pack_tests

WritePack = Callable[..., Path]

OUTSIDE_RULES = """\
rules:
  - id: outside.rule
    when: domain == "financing"
    then: {tags: [from-outside]}
"""

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")


def _outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere" / "rules"
    folder.mkdir(parents=True)
    (folder / "evil.yaml").write_text(OUTSIDE_RULES, encoding="utf-8")
    return folder


def _diagnostics(folder: Path, **kw: object) -> list[tuple[str, int, int, str, str]]:
    with pytest.raises(PackError) as info:
        load_pack(folder, plugin_packs={}, **kw)  # type: ignore[arg-type]
    return [(d.file, d.line, d.col, d.code, d.message) for d in info.value.diagnostics]


def test_include_through_a_linked_folder_is_refused_at_the_include(
    write_pack: WritePack, tmp_path: Path
) -> None:
    outside = _outside(tmp_path)
    folder = write_pack(
        'rules: [{id: r1, when: domain == "financing", then: {tags: [x]}}]\n',
        extra='include: ["rules.yaml", "linkdir/*.yaml"]\n',
    )
    (folder / "linkdir").symlink_to(os.path.relpath(outside, folder))  # relative, with '..'
    ((file, line, col, code, message),) = _diagnostics(folder)
    assert code == "P210" and file.endswith("pack.yaml")
    text = (folder / "pack.yaml").read_text(encoding="utf-8").splitlines()
    assert "linkdir/*.yaml" in text[line - 1][col - 1 :]  # the include entry itself
    assert "linkdir/evil.yaml leads outside the pack" in message
    assert str(outside / "evil.yaml") in message


@pytest.mark.parametrize("absolute", [True, False])
def test_a_linked_rule_file_is_refused_where_it_lies(
    write_pack: WritePack, tmp_path: Path, absolute: bool
) -> None:
    outside = _outside(tmp_path) / "evil.yaml"
    folder = write_pack('rules: [{id: r1, when: domain == "financing", then: {tags: [x]}}]\n')
    target = outside if absolute else Path(os.path.relpath(outside, folder))
    (folder / "more.yaml").symlink_to(target)
    ((file, line, col, code, message),) = _diagnostics(folder)
    assert (code, line, col) == ("P210", 1, 1)
    assert file.endswith("more.yaml") and "leads outside the pack" in message


def test_a_dotdot_path_inside_the_link_target_that_comes_back_is_fine(
    write_pack: WritePack,
) -> None:
    folder = write_pack(extra="include: [sub/*.yaml]\n")
    (folder / "real").mkdir()
    (folder / "real" / "r.yaml").write_text(
        'rules: [{id: r1, when: domain == "financing", then: {tags: [x]}}]\n', encoding="utf-8"
    )
    (folder / "sub").mkdir()
    (folder / "sub" / "r.yaml").symlink_to("../real/./r.yaml")  # stays in the pack
    pack = load_pack(folder, plugin_packs={})
    assert [r.id for r in pack.rules] == ["r1"]


def test_a_link_into_a_declared_base_pack_is_allowed(
    write_pack: WritePack, tmp_path: Path
) -> None:
    base = write_pack(
        'rules: [{id: shared, when: domain == "financing", then: {tags: [s]}}]\n', id="base"
    )
    district = write_pack(
        'rules: [{id: own, when: domain == "financing", then: {tags: [o]}}]\n',
        id="district",
        extra="extends: [base]\ninclude: [rules.yaml, shared/more.yaml]\n",
    )
    (base / "more.yaml").write_text(
        'rules: [{id: via.link, when: domain == "financing", then: {tags: [v]}}]\n',
        encoding="utf-8",
    )
    (district / "shared").symlink_to(base)  # the base's own folder
    pack = load_pack(district, search_paths=[tmp_path], plugin_packs={})
    assert sorted(r.id for r in pack.rules) == ["own", "shared", "via.link"]


def test_a_link_into_a_pack_that_is_not_a_base_is_refused(
    write_pack: WritePack, tmp_path: Path
) -> None:
    other = write_pack(
        'rules: [{id: other.rule, when: domain == "financing", then: {tags: [s]}}]\n', id="other"
    )
    folder = write_pack(extra="include: [rules.yaml, other/*.yaml]\n")
    (folder / "rules.yaml").write_text("", encoding="utf-8")
    (folder / "other").symlink_to(other)
    codes = [d[3] for d in _diagnostics(folder, search_paths=[tmp_path])]
    assert codes == ["P210"]  # its rules.yaml (a pack.yaml is never a rule file)


def test_pack_yaml_linked_outside_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "p.yaml").write_text(
        'schema: 1\nid: p\nversion: "1"\nseverity_levels: [S1]\n', encoding="utf-8"
    )
    folder = tmp_path / "pk"
    folder.mkdir()
    (folder / "pack.yaml").symlink_to(elsewhere / "p.yaml")
    ((file, _line, _col, code, message),) = _diagnostics(folder)
    assert code == "P210" and file.endswith("pack.yaml") and "leads outside" in message


def test_a_linked_pack_folder_is_the_pack(write_pack: WritePack, tmp_path: Path) -> None:
    folder = write_pack('rules: [{id: r1, when: domain == "financing", then: {tags: [x]}}]\n')
    alias = tmp_path / "alias"
    alias.symlink_to(folder)  # the user names a link to a pack: its real folder is the pack
    assert [r.id for r in load_pack(alias, plugin_packs={}).rules] == ["r1"]


def test_test_files_and_golden_files_stay_in_the_pack(
    write_pack: WritePack, tmp_path: Path
) -> None:
    folder = write_pack('rules: [{id: r1, when: domain == "financing", then: {tags: [x]}}]\n')
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "t.yaml").write_text(
        "- name: outside\n  case: {domain: financing}\n  expect: {tags: [x]}\n", encoding="utf-8"
    )
    tests = folder / "tests"
    tests.mkdir()
    (tests / "linked.yaml").symlink_to(outside / "t.yaml")
    (tests / "own.yaml").write_text(
        "- name: inside\n  case: {domain: financing}\n  expect: {tags: [x]}\n"
        "- name: golden out\n  case: {domain: financing}\n"
        "  golden: ../../elsewhere/stolen.json\n",
        encoding="utf-8",
    )
    run = run_pack_tests([str(folder)], update_golden=True)
    problems = [(p.file, p.line, p.code, p.message) for p in run.collection_errors]
    assert [(Path(f).name, line, code) for f, line, code, _ in problems] == [
        ("linked.yaml", 1, "P210"),
        ("own.yaml", 6, "P210"),  # the line of the test's golden key
    ]
    assert "golden file" in problems[1][3] and "leads outside the pack" in problems[1][3]
    assert [r.test.name for r in run.results] == ["inside"]
    assert not (outside / "stolen.json").exists()  # --update-golden wrote nothing outside
