"""Workbooks that cannot be imported as they are: each a clear error, nothing half-stored.

A formula error is a rejected row at its cell (the others are stored); a file that is no
workbook, an encrypted one, a renamed ``.xls`` and a sheet past the row limit refuse the whole
import before a single row is read (exit 3), and the store stays as it was.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from xlsx_workbooks import cli, streamed_sheet, with_formula_error, workbook

from zhenshen_core.storage import open_store

DATA = Path(__file__).parent / "data"
GOOD = ["GD001", "2026-03-04 09:05", "投诉", "t", "c", None, None, None]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    return cli(monkeypatch, tmp_path)


def _stored(tmp_path: Path) -> tuple[int, int]:
    """(cases, dead letters) in the test's store; (0, 0) when it was never created."""
    path = tmp_path / "d.db"
    if not path.exists():
        return 0, 0
    store = open_store(f"sqlite:///{path}")
    try:
        return store.count(), len(store.dead_letters())
    finally:
        store.close()


def test_a_formula_error_is_a_rejected_row_at_its_cell(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    rows = [
        GOOD,
        ["GD002", "@ERR@", "咨询", "t", "c", None, None, None],
        ["GD003", "2026-03-05", "咨询", "t", "c", None, None, "@NA@"],
        ["GD004", "2026-03-06", "咨询", "@UNUSED@", "c", None, None, None],
    ]
    path = workbook(tmp_path / "f.xlsx", rows)
    with_formula_error(path, "@ERR@", "1/0", "#DIV/0!")
    with_formula_error(path, "@NA@", "VLOOKUP(A6,选项!A:B,2,0)", "#N/A")
    with_formula_error(path, "@UNUSED@", "1/0", "#DIV/0!")
    result = run("ingest", "xlsx", "f.xlsx", "--store", "sqlite:///d.db")
    assert result.exit_code == 1
    assert (
        "f.xlsx!台账!B5: rejected: B5 (接收时间) holds the formula error #DIV/0!" in result.stderr
    )
    assert "f.xlsx!台账!H6: rejected: H6 (是否保密) holds the formula error #N/A" in result.stderr
    # 标题 is a column of the profile too: GD004's #DIV/0! title is no title
    assert "f.xlsx!台账!D7: rejected: D7 (标题)" in result.stderr
    assert _stored(tmp_path) == (1, 3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: shutil.copy(DATA / "encrypted.xlsx", p), "is password-protected"),
        (lambda p: shutil.copy(DATA / "legacy.xls", p), "is a legacy Excel 97-2003 file (.xls)"),
        (lambda p: p.write_text("工单编号,接收时间\nA,2026-03-04\n", "utf-8"), "is not an Excel"),
        (lambda p: p.write_text("<html><table><tr><td>1</td></tr></table>", "utf-8"), "HTML"),
        (lambda p: p.write_bytes(b""), "is empty (0 bytes)"),
        (lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 64), "is a damaged workbook"),
    ],
    ids=["encrypted", "xls-renamed", "csv-renamed", "html-renamed", "empty", "broken-zip"],
)
def test_a_file_that_is_no_readable_workbook_stores_nothing(
    tmp_path: Path,
    run: Callable[..., Result],
    make: Callable[[Path], object],
    message: str,
) -> None:
    workbook(tmp_path / "ok.xlsx", [GOOD])
    assert run("ingest", "xlsx", "ok.xlsx", "--store", "sqlite:///d.db").exit_code == 0
    make(tmp_path / "bad.xlsx")
    result = run("ingest", "xlsx", "bad.xlsx", "--store", "sqlite:///d.db")
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("error: ") and "bad.xlsx" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert _stored(tmp_path) == (1, 0)  # the earlier import only


def test_the_legacy_fixture_really_is_an_xls(tmp_path: Path, run: Callable[..., Result]) -> None:
    """The refusal above is about the file's form, not its content: the same rows as .xls
    open in calamine (it reads BIFF8), so what is refused is a renamed file."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(DATA / "legacy.xls"))
    assert book.get_sheet_by_index(0).to_python()[0] == ["工单编号", "接收时间", "诉求类型"]


@pytest.mark.slow  # about 8 s: a million rows written, then read twice
def test_a_million_row_sheet_is_refused_whole_before_any_row(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    started = time.perf_counter()
    rows = ((n, (f"GD{n}", 46085.375, "投诉")) for n in range(2, 1_048_577))
    streamed_sheet(tmp_path / "big.xlsx", ["工单编号", "接收时间", "诉求类型"], rows)
    made = time.perf_counter() - started
    result = run("ingest", "xlsx", "big.xlsx", "--store", "sqlite:///d.db")
    assert result.exit_code == 3
    assert "holds 1,048,575 rows below its header(s), more than the 500,000" in result.stderr
    assert "--max-rows N" in result.stderr
    assert _stored(tmp_path) == (0, 0)
    dry = run("ingest", "xlsx", "big.xlsx", "--dry-run", "--limit", "1", "--max-rows", "0")
    assert dry.exit_code == 0 and "#1 big.xlsx!Sheet1!A2 → case ZS" in dry.stdout
    assert time.perf_counter() - started < 60 + made


def test_a_sparse_sheet_down_to_the_last_row(tmp_path: Path, run: Callable[..., Result]) -> None:
    """Excel's last row (1,048,576) holds a record; the empty rows between are no records."""
    rows = [
        (2, ("S1", "2026-03-04 09:05", "投诉")),
        (3, ("S2", "2026-03-04 10:05", "咨询")),
        (1_048_576, ("S3", "还没填", "咨询")),
    ]
    streamed_sheet(tmp_path / "sparse.xlsx", ["工单编号", "接收时间", "诉求类型"], rows)
    result = run("ingest", "xlsx", "sparse.xlsx", "--store", "sqlite:///d.db", "--max-rows", "0")
    assert result.exit_code == 1
    assert "3 read, 2 created" in result.stdout
    assert "sparse.xlsx!Sheet1!B1048576: rejected:" in result.stderr
    assert _stored(tmp_path) == (2, 1)


def test_a_bad_max_rows_is_a_usage_error(tmp_path: Path, run: Callable[..., Result]) -> None:
    workbook(tmp_path / "ok.xlsx", [GOOD])
    result = run("ingest", "xlsx", "ok.xlsx", "--max-rows", "many")
    assert result.exit_code == 2 and "--max-rows: expected a whole number" in result.stderr
