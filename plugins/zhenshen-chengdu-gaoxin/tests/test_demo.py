"""The main job of `make demo`: a simulated year on SQLite, with a report.

``demo`` is this plugin's command: the tests run it as the console script does, through the
``zhenshen_cli_commands`` hook (``-p`` loads the plugin whether or not autoload is on).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from zhenshen_core.cli.main import prepare
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.progress import Advance, Total

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "examples/corpus/sample-200.jsonl"
PACK = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"
ESC = "\x1b["
PLUGIN = ("-p", "zhenshen_chengdu_gaoxin.plugin")


def zhenshen(*args: str) -> tuple[click.Group, list[str]]:
    """The command group and arguments the console script builds for ``zhenshen ARGS``."""
    return prepare([*PLUGIN, *args])


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("COLUMNS", "120")
    return CliRunner()


def test_demo_runs_the_whole_desk_quickly(cli: CliRunner, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'demo.db'}"
    started = time.perf_counter()
    result = cli.invoke(*zhenshen("demo", "--store", store, "--format", "json",
                                  "--corpus", str(SAMPLE), "--html", str(tmp_path / "report.html")))
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
    again = cli.invoke(*zhenshen("demo", "--store", store, "--format", "json",
                                 "--corpus", str(SAMPLE)))
    assert again.exit_code == 0
    assert json.loads(again.stdout)["intake"]["created"] == 0

    letter_case = next(c for c in json.loads(cli.invoke(*zhenshen(
        "cases", "list", "--store", store, "--format", "json")).stdout) if c["opinion"])
    letter = cli.invoke(*zhenshen("letter", letter_case["id"], "--store", store))
    assert letter.exit_code == 0 and "甄别审查意见书" in letter.stdout
    # no --pack: the plugin's default pack names the departments, its org signs the letter
    assert "成都高新区营商环境领导小组办公室" in letter.stdout
    assert "成高甄审〔2020〕" in letter.stdout

    report_text = cli.invoke(*zhenshen("report", "--store", store, "--now", "2020-12-31T18:00"))
    assert report_text.exit_code == 0 and "on-time rate" in report_text.stdout


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    """``zhenshen ARGS`` in-process, autoload off (the plugin given with ``-p``)."""
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("COLUMNS", "120")
    for name in ("TTY_INTERACTIVE", "TTY_COMPATIBLE", "FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, tty: bool = False) -> Result:
        if tty:  # what rich is told when a terminal is forced; CliRunner's stderr is a pipe
            monkeypatch.setenv("TTY_INTERACTIVE", "1")
            monkeypatch.setenv("TTY_COMPATIBLE", "1")
        try:
            return CliRunner().invoke(*zhenshen(*args), catch_exceptions=False)
        finally:
            monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
            monkeypatch.delenv("TTY_COMPATIBLE", raising=False)

    return invoke


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(True)[:30]), "utf-8")
    return path


def test_demo_reports_its_phases(run: Callable[..., Result], corpus: Path) -> None:
    piped = run("demo", "--store", "sqlite:///d.db", "--corpus", str(corpus), "--pack", str(PACK))
    assert piped.exit_code == 0, piped.output
    assert ESC not in piped.stdout and ESC not in piped.stderr
    summary = [line for line in piped.stderr.splitlines() if line.startswith("demo: ")]
    assert len(summary) == 1
    for phase in ("ingest", "simulate", "sweep", "report"):
        assert f"{phase} " in summary[0]
    args = ["--corpus", str(corpus), "--pack", str(PACK)]
    machine = run("demo", "--store", "sqlite:///f.db", *args, "--format", "json")
    json.loads(machine.output)  # stdout and stderr together: the JSON alone
    shown = run("demo", "--store", "sqlite:///e.db", *args, tty=True)
    assert shown.exit_code == 0
    assert ESC in shown.stderr and "cases/s" in shown.stderr
    assert ESC not in shown.stdout


class Recorder:
    def __init__(self) -> None:
        self.phases: list[tuple[str, int | None, list[int]]] = []

    def phase(self, label: str, total: Total = None, *, unit: str = "items") -> Advance:
        size = total() if callable(total) else total
        done: list[int] = []
        self.phases.append((label, size, done))
        return done.append


def test_run_demo_announces_each_phase_with_its_size(corpus: Path, tmp_path: Path) -> None:
    from zhenshen_chengdu_gaoxin.demo import SimClock, run_demo

    from zhenshen_core.desk import Desk
    from zhenshen_core.rules import load_pack
    from zhenshen_core.storage import SQLiteStore

    pack = load_pack(PACK)
    end = datetime(2020, 12, 31, 18, 0, tzinfo=SHANGHAI)
    sim = SimClock(end)
    desk = Desk(SQLiteStore(str(tmp_path / "r.db")), pack=pack, now=sim)
    recorder = Recorder()
    run_demo(desk, sim, str(corpus), end=end, progress=recorder)
    sizes = {label: (total, sum(done)) for label, total, done in recorder.phases}
    # With a pack each record is decided as it is ingested: one phase covers both.
    assert list(sizes) == ["ingest", "simulate", "sweep", "report"]
    assert sizes["ingest"] == (30, 30)
    assert sizes["simulate"] == (30, 30)


def test_demo_takes_pack_path_too(run: Callable[..., Result]) -> None:
    assert "--pack-path DIR" in run("demo", "--help").stdout


def test_demo_and_corpus_are_this_plugins_commands(run: Callable[..., Result]) -> None:
    listed = run("--help").stdout
    assert "demo " in listed and "corpus " in listed
    for command in ("demo", "corpus"):  # without the plugin, no such command (usage error)
        result = CliRunner().invoke(*prepare(["--no-plugins", command, "--help"]))
        assert result.exit_code == 2 and "No such command" in result.output
