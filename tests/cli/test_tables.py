"""Tables for people: fitted on a terminal without cutting an id, whole when piped; and
``cases list`` one page at a time.

A terminal is pinned with rich's own ``TTY_COMPATIBLE=1`` in-process (and with a real pty in
one subprocess test); the width with ``COLUMNS``.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from hypothesis import assume, given
from hypothesis import strategies as st
from rich.cells import cell_len

Run = Callable[..., Result]
SAMPLE = Path(__file__).parents[2] / "examples" / "corpus" / "sample-200.jsonl"
CASE_ID = re.compile(r"\bZS[0-9A-F]{16}\b")


@pytest.fixture
def desk(run: Run, tmp_path: Path) -> str:
    """A store holding the 200 sample work orders."""
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    assert run("ingest", "jsonl", str(SAMPLE), "--store", url).exit_code == 0
    return url


def _listed(run: Run, store: str, *args: str) -> list[dict[str, object]]:
    result = run("cases", "list", "--store", store, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    cases: list[dict[str, object]] = json.loads(result.stdout)
    return cases


def test_cases_list_on_an_80_column_terminal_keeps_every_id_whole(
    run: Run, desk: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    expected = [str(c["id"]) for c in _listed(run, desk, "--limit", "20")]
    result = run("cases", "list", "--store", desk, "--limit", "20")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    assert "…" not in result.stdout
    assert CASE_ID.findall(result.stdout) == expected  # each whole, in order: pasteable
    shown = run("cases", "show", expected[3], "--store", desk)
    assert shown.exit_code == 0 and expected[3] in shown.stdout
    # Titles wrap instead of shrinking to a few characters: every title is there in full.
    header = lines[0]
    assert header.split() == ["id", "received", "status", "title"]  # lead, domain left out
    start = header.index("title")
    text = "".join(_from_cell(line, start).strip() for line in lines[1:])
    cases = _listed(run, desk, "--limit", "20")
    for case in cases:
        assert str(case["title"]) in text


def test_cases_list_on_a_wide_terminal_shows_every_column(
    run: Run, desk: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    result = run("cases", "list", "--store", desk, "--limit", "5")
    header = result.stdout.splitlines()[0].split()
    assert header == ["id", "received", "status", "domain", "lead", "title"]


def test_piped_cases_list_is_never_cut_whatever_the_width(
    run: Run, desk: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    cases = _listed(run, desk, "--limit", "30")
    result = run("cases", "list", "--store", desk, "--limit", "30")
    assert result.exit_code == 0 and "…" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "received", "status", "domain", "lead", "title"]
    assert len(lines) == 1 + len(cases)  # one line per case: nothing wrapped
    for line, case in zip(lines[1:], cases, strict=True):
        assert line.startswith(str(case["id"]) + "  ")
        assert line.endswith(str(case["title"]))
        assert str(case["domain"] or "-") in line


def test_cases_list_shows_a_page_and_says_how_to_see_the_rest(run: Run, desk: str) -> None:
    first = run("cases", "list", "--store", desk)
    assert first.exit_code == 0
    assert len(CASE_ID.findall(first.stdout)) == 50
    assert first.stderr == (
        "cases 1-50 of 200; 150 more: --offset 50 for the next page, --limit 0 for all\n"
    )
    assert len(_listed(run, desk)) == 50  # json pages the same way
    every = _listed(run, desk, "--limit", "0")
    assert len(every) == 200
    last = run("cases", "list", "--store", desk, "--offset", "190", "--format", "json")
    assert [c["id"] for c in json.loads(last.stdout)] == [c["id"] for c in every[190:]]
    assert last.stderr == "cases 191-200 of 200\n"
    few = run("cases", "list", "--store", desk, "--status", "accepted")
    assert few.exit_code == 0 and few.stderr == "0 case(s)\n"
    past = run("cases", "list", "--store", desk, "--offset", "500")
    assert past.exit_code == 0 and past.stderr == "no cases after --offset 500: 200 match\n"


def test_plugins_and_history_piped_keep_names_whole(
    run: Run, desk: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    result = run("plugins")
    assert result.exit_code == 0 and "…" not in result.stdout
    assert "zhenshen_core.builtin.renderers  zhenshen-core" in result.stdout
    case_id = str(_listed(run, desk, "--limit", "1")[0]["id"])
    history = run("cases", "history", case_id, "--store", desk)
    assert history.stdout.splitlines()[1].split()[3:] == ["intake", "receive", "-", "received"]


def test_diff_piped_keeps_rule_ids_whole(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packs = Path(__file__).parents[1] / "rules" / "packs"
    corpus = tmp_path / "cases.jsonl"
    rows = [
        {"received_at": "2026-03-02T10:00:00+08:00", "domain": "market_entry_operation",
         "content": "营业执照已办好，但企业无法经营", "title": f"t{i}"}
        for i in range(3)
    ]  # fmt: skip
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    monkeypatch.setenv("COLUMNS", "40")
    base, district = str(packs / "base"), str(packs / "district")
    result = run("--pack-path", str(packs), "diff", base, district, "--cases", str(corpus))
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    changed = [line for line in result.stdout.splitlines() if CASE_ID.search(line)]
    assert changed and all(line.rstrip().endswith("severity.cannot-operate") for line in changed)


@pytest.mark.slow
def test_cases_list_in_a_real_terminal(tmp_path: Path) -> None:
    """The same promise through a pty, as an operator's terminal sees it."""
    store = f"sqlite:///{tmp_path / 'desk.db'}"
    env = {**os.environ, "COLUMNS": "80", "ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "NO_COLOR"):
        env.pop(name, None)
    command = [sys.executable, "-m", "zhenshen_core"]
    subprocess.run(
        [*command, "ingest", "jsonl", str(SAMPLE), "--store", store], env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    main, child = pty.openpty()
    with subprocess.Popen(
        [*command, "cases", "list", "--store", store, "--limit", "10"],
        stdout=child,
        stderr=subprocess.PIPE,
        env=env,
    ) as process:
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the child has closed the pty
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    os.close(main)
    text = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode("utf-8"))
    lines = text.replace("\r\n", "\n").splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    assert len(CASE_ID.findall(text)) == 10 and "…" not in text


WORD = st.text("abcdefghij.-_#甲乙丙", min_size=1, max_size=12)
CELL = st.lists(WORD, min_size=0, max_size=4).map(" ".join)


@given(
    shapes=st.lists(
        st.tuples(st.booleans(), st.booleans(), st.integers(0, 3)), min_size=1, max_size=5
    ),
    cells=st.lists(st.lists(CELL, min_size=5, max_size=5), min_size=0, max_size=6),
    width=st.integers(10, 120),
)
def test_fitted_tables_never_cut_a_whole_cell(
    shapes: list[tuple[bool, bool, int]], cells: list[list[str]], width: int
) -> None:
    from zhenshen_core.cli.output import Column, render_table

    columns = [
        Column(f"c{i}", whole=whole, words=words and not whole, drop=0 if whole else drop)
        for i, (whole, words, drop) in enumerate(shapes)
    ]
    rows = [row[: len(columns)] for row in cells]
    piped = render_table(columns, rows, width=None)
    assert len(piped.splitlines()) == 1 + len(rows)  # one line per row, nothing wrapped
    for line, row in zip(piped.splitlines()[1:], rows, strict=True):
        for cell in row:
            assert cell in line
    fitted = render_table(columns, rows, width=width)
    lines = fitted.splitlines()
    for i, column in enumerate(columns):
        for row in rows:
            if column.whole and row[i]:
                assert any(row[i] in line for line in lines)
            if column.words:  # wrapped between words only
                for word in row[i].split():
                    assert any(word in line for line in lines) or not _kept(lines, column)
    essentials = sum(
        max([cell_len(c.header)] + [cell_len(r[i]) for r in rows])
        for i, c in enumerate(columns)
        if c.whole
    ) + 2 * (sum(c.whole for c in columns) - 1)
    # A wrapping column that may not be left out needs its floor and a gap: min_width, or
    # its longest word when it wraps between words only (a CJK word is two cells a character).
    floors = 0
    for i, c in enumerate(columns):
        if c.whole or c.drop:
            continue
        texts = [r[i] for r in rows] + [c.header]
        longest = max((cell_len(w) for t in texts for w in t.split()), default=0)
        natural = max((cell_len(t) for t in texts), default=0)
        floors += min(max(natural, 1), max(c.min_width, longest if c.words else 0)) + 2
    if essentials + floors <= width:
        assert max((cell_len(line) for line in lines), default=0) <= width


def _from_cell(line: str, start: int) -> str:
    """What ``line`` shows from terminal cell ``start`` on (CJK characters are two cells)."""
    used = 0
    for i, char in enumerate(line):
        if used >= start:
            return line[i:]
        used += cell_len(char)
    return ""


def _kept(lines: list[str], column: Any) -> bool:
    return bool(lines) and column.header in lines[0].split()


TEXT = st.text(
    st.sampled_from([*"abcXYZ019 .-_#[]/", "甲", "乙", "丙", "\n"]), max_size=14
)


@given(
    shapes=st.lists(st.tuples(st.booleans(), st.sampled_from(["left", "right"])), min_size=1,
                    max_size=4),
    cells=st.lists(st.lists(TEXT, min_size=4, max_size=4), max_size=5),
    title=st.none() | st.text("abc 甲", min_size=1, max_size=30),
    header=st.booleans(),
)  # fmt: skip
def test_piped_tables_are_laid_out_as_rich_lays_out_a_wide_table(
    shapes: list[tuple[bool, str]], cells: list[list[str]], title: str | None, header: bool
) -> None:
    """The pipe's plain layout (fast) equals rich's layout of the same table on a page wide
    enough for it: the same columns, padding, multi-line cells and title."""
    from zhenshen_core.cli.output import Column, render_table

    columns = [
        Column(f"h{i}", whole=whole, justify=justify)  # type: ignore[arg-type]
        for i, (whole, justify) in enumerate(shapes)
    ]
    rows = [row[: len(columns)] for row in cells]
    piped = render_table(columns, rows, width=None, title=title, show_header=header)
    body = piped.splitlines()[0 if title is None else 1 :]
    # rich fits a title into the table's width: compare titles that fit a table that has lines
    assume(title is None or (body and cell_len(title) <= max(cell_len(line) for line in body)))
    wide = render_table(columns, rows, width=10_000, title=title, show_header=header)
    assert piped == wide
