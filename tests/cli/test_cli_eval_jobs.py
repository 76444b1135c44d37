"""`zhenshen eval --jobs`: the process pool gives the same output, in order, as one process."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from zhenshen_core.cli import rules as rules_cli
from zhenshen_core.cli.main import build_cli

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"


def test_pooled_eval_matches_single_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = (ROOT / "examples/corpus/sample-200.jsonl").read_text(encoding="utf-8").splitlines()
    lines.insert(120, '{"received_at": "not a date"}')
    corpus = tmp_path / "cases.jsonl"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(rules_cli, "POOL_MIN_RECORDS", 50)
    monkeypatch.setattr(rules_cli, "EVAL_CHUNK", 17)
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    args = ["eval", "--pack", str(PACK), "--input", str(corpus), "--format", "json"]
    single = CliRunner().invoke(build_cli(), args)
    pooled = CliRunner().invoke(build_cli(), [*args, "--jobs", "2"])
    assert single.exit_code == pooled.exit_code == 1
    assert pooled.stdout == single.stdout and len(pooled.stdout.splitlines()) == 200
    assert pooled.stderr == single.stderr
    assert f"{corpus}:121:" in pooled.stderr and "1 invalid record(s) skipped" in pooled.stderr
