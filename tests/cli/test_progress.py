"""Long work tells its progress: rate and ETA on a terminal, one summary line everywhere else."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from zhenshen_core.cli.main import build_cli
from zhenshen_core.cli.progress import LiveProgress
from zhenshen_core.intake import count_source, read_csv, read_json, read_jsonl
from zhenshen_core.plugins import PluginConfig, PluginHost

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples/corpus/sample-200.jsonl"
PACK = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"
ESC = "\x1b["


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, force_interactive=True, width=120), out


def test_terminal_shows_count_total_rate_and_eta() -> None:
    console, out = terminal()
    clock = FakeClock()
    with LiveProgress(console, get_time=clock) as progress:
        assert progress.live
        advance = progress.phase("ingest", 1000, unit="records")
        for _ in range(4):
            clock.now += 1.0
            advance(100)
        progress.refresh()
        frame = out.getvalue()
        assert "400/1000" in frame
        assert "100 records/s" in frame
        assert "ETA 0:00:06" in frame  # 600 left at 100 a second
    assert ESC in out.getvalue()
    assert [(p.label, p.done, p.seconds) for p in progress.phases] == [("ingest", 400, 4.0)]


def test_no_terminal_draws_nothing_and_counts_nothing_it_does_not_show() -> None:
    out = io.StringIO()
    clock = FakeClock()
    counted: list[int] = []

    def total() -> int:
        counted.append(1)
        return 10

    with LiveProgress(Console(file=out, width=120), get_time=clock) as progress:
        assert not progress.live
        advance = progress.phase("ingest", total, unit="records")
        clock.now += 2.5
        advance(10)
        progress.phase("decide", 10, unit="cases")(10)
        clock.now += 0.5
    assert out.getvalue() == ""
    assert counted == [], "a total nobody sees is not counted"
    assert progress.timings() == "ingest 2.5 s, decide 0.5 s"
    assert progress.seconds == 3.0


def test_force_color_alone_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI systems set FORCE_COLOR for coloured logs: no live display there."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
    assert not LiveProgress().live


def test_channels_count_exactly_what_they_read(tmp_path: Path) -> None:
    host = PluginHost(PluginConfig(autoload=False))
    jsonl = tmp_path / "cases.jsonl"
    jsonl.write_text('{"a": 1}\n\n   \nnot json\n{"b": 2}', encoding="utf-8")
    assert count_source(host, "jsonl", str(jsonl)) == len(list(read_jsonl(str(jsonl)))) == 3
    array = tmp_path / "cases.json"
    array.write_text('[{"a": 1},\n {"b": 2},\n 3]', encoding="utf-8")
    assert count_source(host, "json", str(array)) == len(list(read_json(str(array)))) == 3
    table = tmp_path / "cases.csv"
    table.write_text('title,content\nx,"two\nlines"\ny,z\n', encoding="utf-8")
    assert count_source(host, "csv", str(table)) == len(list(read_csv(str(table)))) == 2
    assert count_source(host, "jsonl", "-") is None
    assert count_source(host, "jsonl", str(tmp_path / "missing.jsonl")) is None


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
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
            return CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)
        finally:
            monkeypatch.delenv("TTY_INTERACTIVE", raising=False)
            monkeypatch.delenv("TTY_COMPATIBLE", raising=False)

    return invoke


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "orders.jsonl"
    path.write_text("".join(SAMPLE.read_text(encoding="utf-8").splitlines(True)[:30]), "utf-8")
    return path


def test_ingest_piped_prints_one_summary_line_without_escape_codes(
    run: Callable[..., Result], corpus: Path
) -> None:
    result = run("ingest", "jsonl", str(corpus), "--store", "sqlite:///a.db")
    assert result.exit_code == 0, result.output
    assert ESC not in result.stdout and ESC not in result.stderr
    # Without a pack the only stderr line is the note that the cases are stored undecided.
    assert result.stderr.startswith("note: no rule pack") and result.stderr.count("\n") == 1
    line = result.stdout.strip()
    assert "\n" not in line
    assert line.startswith("30 read, 30 created, 0 duplicate, 0 rejected (dead letters) in ")
    assert line.endswith(" s")
    data = json.loads(
        run("ingest", "jsonl", str(corpus), "--store", "sqlite:///a.db", "--format", "json").stdout
    )
    assert data["duplicates"] == 30 and data["seconds"] >= 0


def test_ingest_on_a_terminal_shows_total_and_rate(
    run: Callable[..., Result], corpus: Path
) -> None:
    result = run("ingest", "jsonl", str(corpus), "--store", "sqlite:///a.db", tty=True)
    assert result.exit_code == 0, result.output
    assert ESC in result.stderr
    assert "/30" in result.stderr, "the total is known: the file's records were counted"
    assert "records/s" in result.stderr
    assert ESC not in result.stdout and result.stdout.startswith("30 read, 30 created")
