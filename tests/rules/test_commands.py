"""``zhenshen check``, ``eval`` and ``schema pack`` through click's runner."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from zhenshen_core.cli.main import build_cli

PACKS = Path(__file__).parent / "packs"
WritePack = Callable[..., Path]
CASE = {
    "external_id": "12345-001",
    "channel": "hotline_12345",
    "received_at": "2026-03-02T10:00:00+08:00",
    "appeal_type": "complaint",
    "domain": "market_entry_operation",
    "content": "营业执照已办好，但企业无法经营",
}


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("ZHENSHEN_PACK_PATH", raising=False)
    group = build_cli()

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(group, list(args), input=input, catch_exceptions=False)

    return invoke


def test_check_clean_is_silent(run: Callable[..., Result]) -> None:
    result = run("--pack-path", str(PACKS), "check", str(PACKS / "base"), "district")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_check_dirty_reports_every_problem(
    run: Callable[..., Result], write_pack: WritePack
) -> None:
    folder = write_pack(
        "rules:\n"
        "  - {id: a, when: 'enterprize.size == \"small\"', then: {tags: [x]}}\n"
        "  - {id: b, when: 'returns >', then: {tags: [x]}}\n"
    )
    result = run("check", str(folder))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].endswith(
        "rules.yaml:2:20: R101 unknown field 'enterprize.size'; did you mean 'enterprise.size'? [a]"
    )
    assert ":3:29: R100 unexpected end of expression" in lines[1]
    assert lines[-1] == "2 error(s), 0 warning(s)"


def test_check_warnings_exit_zero_and_json(
    run: Callable[..., Result], write_pack: WritePack
) -> None:
    folder = write_pack(
        "rules:\n  - id: a\n"
        '    when: \'domain == "financing" and domain == "x"\'\n'
        "    then: {tags: [x]}\n"
    )
    result = run("check", str(folder))
    assert result.exit_code == 0 and "W400" in result.stderr
    result = run("check", "--format", "json", str(folder))
    codes = {d["code"] for d in json.loads(result.stdout)}
    assert codes == {"W400"}


def test_check_unknown_pack_id(run: Callable[..., Result]) -> None:
    result = run("--pack-path", str(PACKS), "check", "distrct")
    assert result.exit_code == 1 and "did you mean 'district'" in result.stderr


def test_eval_json_case(run: Callable[..., Result]) -> None:
    result = run(
        "eval",
        "--pack",
        str(PACKS / "base"),
        "--input",
        "-",
        input=json.dumps(CASE, ensure_ascii=False, indent=2),
    )
    assert result.exit_code == 0, result.stderr
    decision = json.loads(result.stdout)
    assert list(decision) == [
        "case_id",
        "pack",
        "severity",
        "tier",
        "chair",
        "departments",
        "experts",
        "tags",
        "deadlines",
        "actions",
        "fired",
    ]
    assert decision["severity"] == "S3" and decision["tier"] == "major"
    assert decision["departments"] == {"lead": "gxq.scjgj", "co": ["gxq.zwfw"]}
    assert decision["fired"][0]["rule"] == "severity.cannot-operate"


def test_eval_jsonl_keeps_order_and_reports_bad_lines(run: Callable[..., Result]) -> None:
    second = dict(CASE, external_id="12345-002", domain="policy_redemption", content="补贴未兑现")
    stream = "\n".join(
        [
            json.dumps(CASE, ensure_ascii=False),
            '{"content": "no received_at"}',
            "not json",
            "",
            json.dumps(second, ensure_ascii=False),
        ]
    )
    result = run(
        "--pack-path", str(PACKS), "eval", "--pack", "district", "--input", "-", input=stream
    )
    assert result.exit_code == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["severity"] for d in out] == ["S3", "S2"]
    assert out[1]["departments"]["lead"] == "gxq.jjj"
    assert "<stdin>:2: invalid case: received_at" in result.stderr
    assert "<stdin>:3: invalid JSON" in result.stderr


def test_eval_reads_jsonl_as_a_stream() -> None:
    """Each record is handed on before the next line is read (constant memory)."""
    from zhenshen_core.cli.rules import _records

    read: list[str] = []

    def lines() -> Iterator[str]:
        for n in range(3):
            read.append(f"line {n + 1}")
            yield json.dumps(dict(CASE, external_id=f"x{n}")) + "\n"

    stream = lines()
    records = _records(stream)  # type: ignore[arg-type]
    number, first = next(records)
    assert (number, read) == (1, ["line 1"])
    assert json.loads(first)["external_id"] == "x0"
    assert [n for n, _ in records] == [2, 3]


def test_eval_line_separators_inside_json_strings(run: Callable[..., Result]) -> None:
    """U+2028, U+0085 and form feeds are valid inside JSON strings: one case per line."""
    odd = dict(CASE, content="企业无法经营\u2028第二段\x85\x0c结束")
    stream = json.dumps(odd, ensure_ascii=False) + "\r\n" + json.dumps(CASE, ensure_ascii=False)
    result = run("eval", "--pack", str(PACKS / "base"), "--input", "-", input=stream)
    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.split("\n") if line]
    assert [d["fired"][0]["values"]["content"] for d in out] == [odd["content"], CASE["content"]]


def test_eval_pretty_document_after_blank_lines_reports_its_line(
    run: Callable[..., Result],
) -> None:
    pretty = json.dumps(CASE, ensure_ascii=False, indent=2).replace('"appeal_type"', "appeal_type")
    result = run("eval", "--pack", str(PACKS / "base"), "--input", "-", input="\n\n" + pretty)
    assert result.exit_code == 1
    broken = 3 + pretty.splitlines().index(
        next(line for line in pretty.splitlines() if "appeal_type" in line)
    )
    assert f"<stdin>:{broken}: invalid JSON" in result.stderr


def test_eval_explain(run: Callable[..., Result]) -> None:
    result = run(
        "eval",
        "--pack",
        str(PACKS / "base"),
        "--explain",
        "--input",
        "-",
        input=json.dumps(CASE, ensure_ascii=False),
    )
    assert result.exit_code == 0
    assert "严重程度 severity: S3" in result.stdout
    assert "severity.cannot-operate" in result.stdout
    assert 'content 诉求内容 = "营业执照已办好，但企业无法经营"' in result.stdout


def test_eval_bad_pack_exits_3(run: Callable[..., Result], write_pack: WritePack) -> None:
    folder = write_pack("rules:\n  - {id: a, when: 'nope', then: {tags: [x]}}\n")
    result = run("eval", "--pack", str(folder), "--input", "-", input="{}")
    assert result.exit_code == 3 and "R101" in result.stderr


def test_schema_pack(run: Callable[..., Result]) -> None:
    result = run("schema", "pack")
    schema = json.loads(result.stdout)
    assert len(schema["anyOf"]) == 2
    assert "RuleModel" in schema["$defs"] and "TableModel" in schema["$defs"]
    only = json.loads(run("schema", "pack", "--kind", "pack").stdout)
    assert "severity_levels" in only["properties"] and "schema" in only["required"]
    assert "case" in run("schema", "--help").stdout


def test_schema_facts_lists_every_field_of_the_spec(run: Callable[..., Result]) -> None:
    from zhenshen_core.rules.engines.facts import FACT_SCHEMA

    schema = json.loads(run("schema", "facts").stdout)
    assert set(schema["properties"]) == set(FACT_SCHEMA)
    assert schema["properties"]["channel"]["enum"][0] == "hotline_12345"
    assert schema["properties"]["received_at"] == {
        "type": "string",
        "format": "date",
        "title": "受理日期 (Asia/Shanghai)",
    }


def test_eval_durable_missing_exits_3(
    run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "zhenshen_core.rules.engines.durable", None)
    result = run(
        "eval",
        "--pack",
        str(PACKS / "base"),
        "--engine",
        "durable",
        "--input",
        "-",
        input=json.dumps(CASE),
    )
    assert result.exit_code == 3 and "durable engine is not available" in result.stderr


def test_engine_protocol_and_evaluate_many() -> None:
    from zhenshen_core.model import load_case
    from zhenshen_core.rules import CompiledEngine, Engine, load_pack

    engine = CompiledEngine(load_pack(PACKS / "base"))
    assert isinstance(engine, Engine)
    cases = [load_case(dict(CASE, external_id=f"x{i}")) for i in range(3)]
    assert [d.case_id for d in engine.evaluate_many(cases)] == [c.id for c in cases]
