"""The main job of `make demo`: a simulated year on SQLite, with a report."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from zhenshen_core.cli.main import build_cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    pytest.importorskip("zhenshen_chengdu_gaoxin", reason="needs the reference pack plugin "
                        "(installed by make test)")
    monkeypatch.setenv("COLUMNS", "120")
    return CliRunner()


def test_demo_runs_the_whole_desk_quickly(cli: CliRunner, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'demo.db'}"
    started = time.perf_counter()
    result = cli.invoke(build_cli(), ["demo", "--store", store, "--format", "json",
                                      "--corpus", str(ROOT / "examples/corpus/sample-200.jsonl"),
                                      "--html", str(tmp_path / "report.html")])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    report = data["report"]
    assert data["intake"]["created"] == 200 and data["skipped"] == []
    assert report["total"] == 200 and 5 <= report["joint_review"] <= 40
    assert report["by_status"]["closed"] > 150
    assert report["clocks"]["opinion"]["on_time"] > 0
    assert 0.5 < report["satisfied_rate"] <= 1.0
    assert report["generalisations"], "the reference pack's 举一反三 rule should propose one"
    assert "suggested_rule" in report["generalisations"][0]
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "举一反三" in html
    assert elapsed < 60, f"the demo took {elapsed:.1f}s; the issue asks for under a minute"

    # a second run on the same store is idempotent: nothing new, nothing redone
    again = cli.invoke(build_cli(), ["demo", "--store", store, "--format", "json",
                                     "--corpus", str(ROOT / "examples/corpus/sample-200.jsonl")])
    assert again.exit_code == 0
    assert json.loads(again.stdout)["intake"]["created"] == 0

    letter_case = next(c for c in json.loads(cli.invoke(build_cli(), [
        "cases", "list", "--store", store, "--format", "json"]).stdout) if c["opinion"])
    letter = cli.invoke(build_cli(), ["letter", letter_case["id"], "--store", store])
    assert letter.exit_code == 0 and "甄别审查意见书" in letter.stdout

    report_text = cli.invoke(build_cli(), ["report", "--store", store, "--now",
                                           "2020-12-31T18:00"])
    assert report_text.exit_code == 0 and "on-time rate" in report_text.stdout
