"""`zhenshen eval --jobs`: the process pool gives the same output, in order, as one process."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from zhenshen_core.cli import rules as rules_cli
from zhenshen_core.cli.main import build_cli

# Process pools and a piped child process per test.
pytestmark = pytest.mark.slow

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


def _no_setup(_: int) -> None:
    """A pool initializer with nothing to set up (module-level: pools pickle it by name)."""


def _slowly(chunk: list[int]) -> list[int]:
    import time

    time.sleep(0.05)
    return chunk


def test_a_pool_abandoned_by_its_reader_stops_with_it() -> None:
    """``eval --jobs 2 | head`` must not leave the workers running (it hung before)."""
    import multiprocessing

    from zhenshen_core.rules.engines.parallel import ordered_pool

    results = ordered_pool(
        range(10_000), _slowly, jobs=2, chunk_size=10, initializer=_no_setup, initargs=(0,)
    )
    assert next(results) == list(range(10))
    results.close()  # what the command does when writing fails
    assert multiprocessing.active_children() == []


def test_eval_piped_into_a_reader_that_stops_ends_quietly(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    line = (ROOT / "examples/corpus/sample-200.jsonl").read_text(encoding="utf-8").splitlines()[0]
    corpus = tmp_path / "cases.jsonl"
    corpus.write_text((line + "\n") * 20_000, encoding="utf-8")
    env = dict(os.environ, ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD="1")
    command = [sys.executable, "-m", "zhenshen_core", "eval", "--pack", str(PACK)]
    for jobs in ("1", "2"):
        process = subprocess.Popen(
            [*command, "--input", str(corpus), "--jobs", jobs],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()  # the reader has gone, as `| head -1` does
        assert process.wait(timeout=120) == 1  # click's quiet exit for a closed pipe
        assert process.stderr.read() == b""
