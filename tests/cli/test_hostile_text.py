"""Input that is not UTF-8 (a GBK export, a damaged line), and UTF-8 with a byte-order mark,
through every command that reads people's files: a located message and the documented exit
code, the good records still processed, never a traceback or an "internal error"."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from zhenshen_core.cli.main import build_cli

PACKS = Path(__file__).parents[1] / "rules" / "packs"
BOM = b"\xef\xbb\xbf"
Run = Callable[..., Result]


def _case(n: int, **extra: str) -> bytes:
    record = {
        "external_id": f"NU-{n}",
        "channel": "hotline_12345",
        "received_at": "2026-03-02T10:00:00+08:00",
        "domain": "market_entry_operation",
        "content": "营业执照已办好，但企业无法经营",
        **extra,
    }
    return json.dumps(record, ensure_ascii=False).encode()


# Line 2 holds GBK bytes inside a JSON string (企业 in GBK: c6 f3 d2 b5): column 13.
GBK_LINE = b'{"content": "\xc6\xf3\xd2\xb5", "received_at": "2026-03-02T10:00:00+08:00"}'
MIXED = _case(1) + b"\n" + GBK_LINE + b"\n" + _case(3) + b"\n"
GBK_PROBLEM = "column 14: not UTF-8 text (byte 0xC6); save the file as UTF-8"


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Run:
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("ZHENSHEN_PACK_PATH", raising=False)
    monkeypatch.delenv("ZHENSHEN_STORE", raising=False)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, input: bytes | None = None) -> Result:
        return CliRunner().invoke(build_cli(), list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_eval_skips_a_line_that_is_not_utf8_and_decides_the_rest(
    run: Run, tmp_path: Path, source: str
) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(MIXED)
    if source == "file":
        result = run("eval", "--pack", str(PACKS / "base"), "--input", str(path))
        name = str(path)
    else:
        result = run("eval", "--pack", str(PACKS / "base"), input=MIXED)
        name = "<stdin>"
    assert result.exit_code == 1
    decisions = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["case_id"] for d in decisions] == [
        json.loads(run("eval", "--pack", str(PACKS / "base"), input=_case(n)).stdout)["case_id"]
        for n in (1, 3)
    ]
    assert result.stderr.splitlines() == [f"{name}:2: {GBK_PROBLEM}", "1 invalid record(s) skipped"]


def test_eval_reads_a_byte_order_mark(run: Run) -> None:
    result = run("eval", "--pack", str(PACKS / "base"), input=BOM + _case(1) + b"\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["severity"]


def test_eval_of_a_document_that_is_not_utf8(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_bytes(b"[" + _case(1) + b",\n" + GBK_LINE + b"]")
    result = run("eval", "--pack", str(PACKS / "base"), "--input", str(path))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines()[0] == f"{path}:2: {GBK_PROBLEM}"


def test_ingest_rejects_the_line_and_stores_the_others(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(BOM + MIXED)
    store = f"sqlite:///{tmp_path / 'desk.db'}"
    result = run("ingest", "jsonl", str(path), "--store", store)
    assert result.exit_code == 1
    assert "3 read, 2 created, 0 duplicate, 1 rejected" in result.output
    assert f"{path}:2: rejected: {GBK_PROBLEM}" in result.output
    listed = run("cases", "list", "--store", store, "--format", "json")
    assert len(json.loads(listed.stdout)) == 2


def test_ingest_keeps_the_bad_bytes_of_a_rejected_record_visible(tmp_path: Path) -> None:
    from zhenshen_core.intake import read_csv, read_json, read_jsonl

    jsonl = tmp_path / "cases.jsonl"
    jsonl.write_bytes(MIXED)
    rejected = [r for r in read_jsonl(str(jsonl)) if r.error]
    assert [(r.line, r.error) for r in rejected] == [(2, GBK_PROBLEM)]
    assert rejected[0].raw.startswith('{"content": "\\xc6\\xf3')

    table = tmp_path / "cases.csv"
    table.write_bytes(
        b"received_at,title\n2026-03-02T10:00:00+08:00,ok\n2026-03-02T10:00:00+08:00,\xc6\xf3\n"
    )
    records = list(read_csv(str(table)))
    assert [r.error for r in records] == [
        None,
        "not UTF-8 text (byte 0xC6); save the file as UTF-8",
    ]
    assert records[1].line == 3 and "\\xc6\\xf3" in records[1].raw

    document = tmp_path / "cases.json"
    document.write_bytes(b"[" + _case(1) + b",\n" + GBK_LINE + b"]")
    # An array is read element by element: only the element holding the bad bytes is refused.
    assert [(r.line, r.error) for r in read_json(str(document))] == [(1, None), (2, GBK_PROBLEM)]


def _diff(run: Run, path: Path) -> Any:
    """The JSON report of ``zhenshen diff`` base → district over every record of ``path``."""
    arguments = ["diff", str(PACKS / "base"), str(PACKS / "district"), "--cases", str(path)]
    options = ["--validate-all", "--jobs", "1", "--format", "json"]
    return json.loads(run("--pack-path", str(PACKS), *arguments, *options).stdout)


def test_diff_counts_the_line_as_invalid(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(MIXED)
    report = _diff(run, path)
    assert report["invalid"] == [{"line": 2, "error": GBK_PROBLEM}]
    assert report["summary"]["cases"] == 3


def test_config_file_that_is_not_utf8_is_a_located_usage_error(run: Run, tmp_path: Path) -> None:
    (tmp_path / "zhenshen.toml").write_bytes(b'store = "\xc6\xf3"\n')
    result = run("cases", "list", "--store", "memory://")
    assert result.exit_code == 2
    assert f"{tmp_path / 'zhenshen.toml'}:1:10: not UTF-8 text (byte 0xC6)" in result.output


def test_config_file_with_a_byte_order_mark(run: Run, tmp_path: Path) -> None:
    (tmp_path / "zhenshen.toml").write_bytes(BOM + b'store = "memory://"\n')
    result = run("cases", "list")
    assert result.exit_code == 0, result.output


def _pack_with(tmp_path: Path, name: str, data: bytes) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir(exist_ok=True)
    for item in (PACKS / "base").iterdir():
        (pack / item.name).write_bytes(item.read_bytes())
    target = pack / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return pack


def test_check_and_fmt_locate_the_byte_in_a_rule_file(run: Run, tmp_path: Path) -> None:
    rules = b"rules:\n  - id: extra\n    description: " + b"\xc6\xf3\n"
    pack = _pack_with(tmp_path, "extra.yaml", rules)
    checked = run("check", str(pack))
    assert checked.exit_code == 1
    located = "pack/extra.yaml:3:18: P200 not UTF-8 text (byte 0xC6)"  # relative to the cwd
    assert located in checked.stderr
    formatted = run("fmt", "--check", str(pack / "extra.yaml"))
    assert formatted.exit_code != 0
    assert f"error: {pack / 'extra.yaml'}:3:18: not UTF-8 text (byte 0xC6)" in formatted.stderr


def test_a_test_file_that_is_not_utf8(run: Run, tmp_path: Path) -> None:
    pack = _pack_with(tmp_path, "tests/test_gbk.yaml", b"tests:\n  - name: \xc6\xf3\n")
    result = run("test", str(pack))
    assert result.exit_code != 0
    assert "pack/tests/test_gbk.yaml:2:11: P200 not UTF-8 text" in result.output


def test_a_calendar_file_that_is_not_utf8(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_bytes(b"name: \xc6\xf3\n")
    result = run("calendar", "check", str(path))
    assert result.exit_code == 1
    assert f"{path}:1:7: not UTF-8 text (byte 0xC6)" in result.output


DEEP_LINE = b"[" * 5000 + b"]" * 5000
DEEP_FACTS = (
    b'{"received_at": "2026-03-02T10:00:00+08:00", "facts": {"a": '
    + b"[" * 5000
    + b"]" * 5000
    + b"}}"
)


def test_eval_skips_records_nested_too_deeply(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b"\n".join([_case(1), DEEP_FACTS, DEEP_LINE, _case(4)]) + b"\n")
    result = run("eval", "--pack", str(PACKS / "base"), "--input", str(path))
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 2
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"{path}:2: invalid JSON: arrays and objects nested too deeply")
    assert errors[1].startswith(f"{path}:3: invalid JSON: arrays and objects nested too deeply")
    assert errors[2] == "2 invalid record(s) skipped"


def test_eval_of_a_document_nested_too_deeply(run: Run) -> None:
    result = run("eval", "--pack", str(PACKS / "base"), input=b"[" + DEEP_LINE + b"]")
    assert result.exit_code == 1
    assert "<stdin>:1: invalid JSON: arrays and objects nested too deeply" in result.stderr


def test_facts_nested_deeper_than_the_model_allows(run: Run) -> None:
    facts = b'{"received_at": "2026-03-02T10:00:00+08:00", "facts": {"a": ' + b"[" * 40
    result = run("eval", "--pack", str(PACKS / "base"), input=facts + b"]" * 40 + b"}}")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "<stdin>:1: invalid case: facts: facts nest lists and mappings more than 32 levels deep"
    )


def test_ingest_and_diff_reject_records_nested_too_deeply(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b"\n".join([_case(1), DEEP_FACTS, _case(3)]) + b"\n")
    store = f"sqlite:///{tmp_path / 'desk.db'}"
    ingested = run("ingest", "jsonl", str(path), "--store", store)
    assert ingested.exit_code == 1
    assert "3 read, 2 created, 0 duplicate, 1 rejected" in ingested.output
    assert "arrays and objects nested too deeply" in ingested.output
    document = tmp_path / "cases.json"
    document.write_bytes(b"[" + _case(1) + b",\n" + DEEP_LINE + b"]")
    assert "nested too deeply" in run("ingest", "json", str(document), "--store", store).output
    [invalid] = _diff(run, path)["invalid"]
    assert invalid["line"] == 2 and "nested too deeply" in invalid["error"]


def test_files_nested_too_deeply(run: Run, tmp_path: Path) -> None:
    deep_yaml = b"[" * 5000 + b"]" * 5000
    pack = _pack_with(tmp_path, "extra.yaml", b"rules: " + deep_yaml + b"\n")
    checked = run("check", str(pack))
    assert checked.exit_code == 1
    # libyaml's limit of 1,000 levels, located; ruamel is never asked (seconds to fail)
    assert "pack/extra.yaml:1:1007: P200 YAML: lists or mappings nested too deeply" in (
        checked.stderr
    )
    calendar = tmp_path / "calendar.yaml"
    calendar.write_bytes(b"name: " + b"[" * 400 + b"]" * 400 + b"\n")
    result = run("calendar", "check", str(calendar))
    assert result.exit_code == 1 and "nested too deeply" in result.output
    (tmp_path / "zhenshen.toml").write_bytes(b"a = " + deep_yaml + b"\n")
    configured = run("cases", "list", "--store", "memory://")
    assert configured.exit_code == 2
    assert "invalid TOML: lists or mappings nested too deeply" in configured.output


# Nine levels of nine aliases: 400 bytes that expand to 387,420,489 values when walked.
LAUGHS = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 9)
)


def test_yaml_aliases_that_expand_without_end_are_refused(run: Run, tmp_path: Path) -> None:
    """A "billion laughs" file is refused in well under a second; walking it took minutes and
    gigabytes before."""
    pack = _pack_with(tmp_path, "extra.yaml", (LAUGHS + "rules: []\n").encode())
    checked = run("check", str(pack))
    assert checked.exit_code == 1
    assert "pack/extra.yaml:1:1: P200 YAML aliases (*name) expand to more than 1,000,000" in (
        checked.stderr
    )
    tests = LAUGHS + "tests:\n  - name: 笑\n    case: {tags: *a8}\n"
    pack = _pack_with(tmp_path, "tests/test_laughs.yaml", tests.encode())
    tested = run("test", str(pack))
    assert tested.exit_code != 0 and "P200 YAML aliases (*name) expand" in tested.output
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(LAUGHS + "holidays: *a8\n", encoding="utf-8")
    result = run("calendar", "check", str(calendar))
    assert result.exit_code == 1 and "YAML aliases (*name) expand" in result.output


def test_a_few_aliases_are_still_fine(run: Run, tmp_path: Path) -> None:
    rules = (
        "rules:\n"
        '  - id: extra.a\n    when: domain == "financing"\n    then: {tags: &both [甲, 乙]}\n'
        '  - id: extra.b\n    when: domain == "credit_repair"\n    then: {tags: *both}\n'
    )
    checked = run("check", "--no-warnings", str(_pack_with(tmp_path, "extra.yaml", rules.encode())))
    assert (checked.exit_code, checked.stderr) == (0, "")
