"""The pack limits (``rules.pack.limits``): a pack at each limit loads, one past it is a located
``P209`` naming the real cause; YAML tags are located errors in every file people hand over."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhenshen_core.cli.main import build_cli
from zhenshen_core.rules import PackError, load_pack
from zhenshen_core.rules.pack import limits
from zhenshen_core.rules.tester import read_test_file

WritePack = Callable[..., Path]
RULE = '  - {{id: r{i}, when: \'title == "t{i}"\', then: {{tags: [t{i}]}}}}'


def _errors(folder: Path, **kw: object) -> list[tuple[str, int, int, str, str]]:
    with pytest.raises(PackError) as info:
        load_pack(folder, plugin_packs={}, analyse=False, **kw)  # type: ignore[arg-type]
    return [
        (Path(d.file).name, d.line, d.col, d.code, d.message)
        for d in info.value.diagnostics
        if d.severity == "error"
    ]


def _table(rows: int) -> str:
    body = "\n".join(f'      - ["t{i}", S2]' for i in range(rows))
    return (
        "tables:\n  - id: big\n    stage: classify\n    inputs: [title]\n"
        f"    outputs: [severity]\n    rows:\n{body}\n"
    )


def test_a_table_at_the_row_limit_loads_and_one_row_more_is_refused(
    write_pack: WritePack,
) -> None:
    folder = write_pack(_table(limits.MAX_TABLE_ROWS))
    pack = load_pack(folder, plugin_packs={}, analyse=False)
    assert len(pack.rules) == limits.MAX_TABLE_ROWS
    (folder / "rules.yaml").write_text(_table(limits.MAX_TABLE_ROWS + 1), encoding="utf-8")
    started = time.perf_counter()
    ((file, line, col, code, message),) = _errors(folder)
    assert time.perf_counter() - started < 5  # refused before any row is checked
    assert (file, line, col, code) == ("rules.yaml", 7, 7, "P209")  # the first row
    assert message == (
        "table 'big' has 5,001 rows; a pack allows at most 5,000 (split it, or drop what is "
        "unused)"
    )


def test_rules_of_one_file_and_of_a_pack_with_its_bases_are_bounded(
    write_pack: WritePack, tmp_path: Path
) -> None:
    half = limits.MAX_RULES // 2 + 1
    many = "rules:\n" + "\n".join(RULE.format(i=i) for i in range(limits.MAX_RULES + 1))
    folder = write_pack(many)
    ((file, line, col, code, message),) = _errors(folder)
    assert (file, line, col, code) == ("rules.yaml", 2, 3, "P209")
    assert message.startswith("5,001 entries under rules; a pack allows at most 5,000")
    base = write_pack("rules:\n" + "\n".join(RULE.format(i=i) for i in range(half)), id="base")
    assert len(load_pack(base, plugin_packs={}, analyse=False).rules) == half
    own = "\n".join(RULE.format(i=i).replace("id: r", "id: own") for i in range(half))
    district = write_pack("rules:\n" + own, id="district", extra="extends: [base]\n")
    ((file, line, col, code, message),) = _errors(district, search_paths=[tmp_path])
    assert (file, code) == ("pack.yaml", "P209")
    assert line == 2  # the pack's id
    assert "with its bases the pack has 5,002 rules, tables and cross-case rules" in message


def _chain(root: Path, depth: int) -> Path:
    """``p{depth-1}`` extends ... extends ``p0``: a chain of ``depth`` packs."""
    for i in range(depth):
        folder = root / f"p{i}"
        folder.mkdir(parents=True)
        extends = f"extends: [p{i - 1}]\n" if i else "severity_levels: [S1, S2]\n"
        (folder / "pack.yaml").write_text(
            f'schema: 1\nid: p{i}\nversion: "1"\n{extends}', encoding="utf-8"
        )
    return root / f"p{depth - 1}"


def test_extends_depth_at_the_limit_loads_and_deeper_is_named_as_such(tmp_path: Path) -> None:
    top = _chain(tmp_path / "ok", limits.MAX_EXTENDS_DEPTH)
    pack = load_pack(top, search_paths=[tmp_path / "ok"], plugin_packs={}, analyse=False)
    assert len(pack.lineage) == limits.MAX_EXTENDS_DEPTH
    top = _chain(tmp_path / "deep", limits.MAX_EXTENDS_DEPTH + 1)
    ((file, line, col, code, message),) = _errors(top, search_paths=[tmp_path / "deep"])
    assert (file, line, col, code) == ("pack.yaml", 4, 11, "P209")
    assert "extends nests deeper than 16 packs (p16 → p15 → … → p1 → p0)" in message


def test_a_chain_of_1500_packs_is_an_extends_error_not_a_nesting_error(tmp_path: Path) -> None:
    top = _chain(tmp_path, 1500)
    messages = [m for *_, m in _errors(top, search_paths=[tmp_path])]
    assert len(messages) == 1 and "extends nests deeper than 16 packs" in messages[0]
    assert "nested too deeply" not in messages[0]


def test_a_pack_names_at_most_16_bases(write_pack: WritePack) -> None:
    bases = ", ".join(f"b{i}" for i in range(limits.MAX_BASES + 1))
    folder = write_pack(extra=f"extends: [{bases}]\n")
    ((_file, _line, _col, code, message),) = _errors(folder)
    assert code == "P201" and message.startswith("extends: List should have at most 16 items")


def test_file_size_total_size_and_file_count(write_pack: WritePack) -> None:
    folder = write_pack()
    (folder / "huge.yaml").write_bytes(b"#" * (limits.MAX_FILE_BYTES + 1))
    ((file, line, col, code, message),) = _errors(folder)
    assert (file, line, col, code) == ("huge.yaml", 1, 1, "P209")
    assert message == "file larger than 1,000,000 bytes (the limit)"
    (folder / "huge.yaml").unlink()
    comment = b"#" * (limits.MAX_FILE_BYTES - 10) + b"\n"
    for i in range(limits.MAX_PACK_BYTES // limits.MAX_FILE_BYTES + 1):
        (folder / f"c{i}.yaml").write_bytes(comment)
    ((file, _line, _col, code, message),) = _errors(folder)
    assert (file, code) == ("pack.yaml", "P209")
    assert message == (
        "with its bases the pack's rule files hold 2,999,973 bytes (its own 3: 2,999,973); a "
        "pack with its bases may hold at most 2,000,000"
    )
    for path in folder.glob("c*.yaml"):
        path.unlink()
    for i in range(limits.MAX_PACK_FILES + 1):
        (folder / f"f{i}.yaml").write_text("", encoding="utf-8")
    ((file, _line, _col, code, message),) = _errors(folder)
    assert (file, code) == ("pack.yaml", "P209")
    assert message.startswith("the folder holds 501 rule files or more")


def test_pack_test_files_are_bounded_too(tmp_path: Path) -> None:
    big = tmp_path / "t.yaml"
    big.write_bytes(b"#" * (limits.MAX_FILE_BYTES + 1))
    (problem,) = read_test_file(big).problems
    assert problem.code == "P209"
    assert problem.message == "file of 1,000,001 bytes; the most is 1,000,000"


# --- YAML tags ---------------------------------------------------------------------------------

TAGS = [
    '!!python/object/apply:os.system ["touch PWNED"]',
    "!!python/name:os.system",
    "!!binary aGVsbG8=",
    "!custom value",
    "!!set {a}",
]


@pytest.mark.parametrize("tagged", TAGS)
def test_a_yaml_tag_in_a_rule_file_is_a_located_yaml_error(
    write_pack: WritePack, tagged: str
) -> None:
    folder = write_pack(f"rules:\n  - id: r1\n    when: {tagged}\n    then: {{tags: [x]}}\n")
    ((file, line, col, code, message),) = _errors(folder)
    assert (file, line, col, code) == ("rules.yaml", 3, 11, "P200")
    assert "is not allowed: these files are data, written in plain YAML without tags" in message


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, str]]:
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(
            build_cli(),
            ["--no-plugins", *args],
            env={"ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "200"},
        )
        return result.exit_code, result.output

    return run


@pytest.mark.parametrize("tagged", TAGS[:2])
def test_a_yaml_tag_in_tests_calendars_and_profiles_is_located(
    cli: Callable[..., tuple[int, str]], write_pack: WritePack, tmp_path: Path, tagged: str
) -> None:
    folder = write_pack('rules: [{id: r1, when: domain == "financing", then: {tags: [x]}}]\n')
    (folder / "tests").mkdir()
    (folder / "tests" / "t.yaml").write_text(f"- name: a\n  case: {tagged}\n", encoding="utf-8")
    code, out = cli("test", str(folder))
    assert code == 1 and "tests/t.yaml:2:9: P200" in out and "is not allowed" in out
    (tmp_path / "cal.yaml").write_text(f"year: 2030\nholidays: {tagged}\n", encoding="utf-8")
    code, out = cli("calendar", "check", "cal.yaml")
    assert code != 0 and "cal.yaml:2:11: not valid YAML: tag" in out
    (tmp_path / "prof.yaml").write_text(
        f"profile: 1\nname: {tagged}\nchannel: api\nfields: {{}}\n", encoding="utf-8"
    )
    code, out = cli("profile", "check", "prof.yaml")
    assert code == 1 and "prof.yaml:2:7: P200 YAML: tag" in out
    assert "internal error" not in out and not (tmp_path / "PWNED").exists()


def test_a_calendar_range_is_bounded(cli: Callable[..., tuple[int, str]], tmp_path: Path) -> None:
    (tmp_path / "cal.yaml").write_text(
        "holidays:\n  - {from: 2000-01-01, to: 9999-12-31, name: forever}\n", encoding="utf-8"
    )
    code, out = cli("calendar", "check", "cal.yaml")
    assert code != 0
    assert "cal.yaml:2:28: a range of 2,921,940 days; one entry spans at most 366 days" in out
