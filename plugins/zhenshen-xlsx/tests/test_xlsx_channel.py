"""The ``xlsx`` channel on real workbooks: a header below a merged title, serial and text
dates, numbers kept as text, empty rows, sheets, and rejected rows located at their cell."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from xlsx_workbooks import HEADER, cli, workbook
from zhenshen_xlsx import SheetNotFound, WorkbookError, column_letter
from zhenshen_xlsx import plugin as xlsx_plugin

from zhenshen_core.intake import ingest_source
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.plugins import PluginConfig, PluginHost
from zhenshen_core.storage import MemoryStore

ROWS = [
    [
        "GD001",
        datetime(2026, 3, 4, 9, 5),
        "投诉",
        "办不了证",
        "已取得执照但无法经营",
        "成都甲公司",
        13800001234,
        "否",
    ],
    ["GD002", "2026/3/4 9:05", "咨询", "补贴", "补贴何时兑现", "成都乙公司", "139 0000 1234", "是"],
    [202603040003, 46085.375, "建议", "建议", "建议简化流程", None, None, None],
    ["GD004", "2026年3月5日", "help", "求助", "求助", None, None, None],
    ["GD005", "昨天", "求助", "坏日期", "x", None, None, None],
    ["GD006", date(2026, 3, 6), "吐槽", "坏类型", "x", None, None, None],
    [None] * 8,
    ["GD007", "2026-03-07 10:00:00", "举报", "举报", "x", None, None, None],
    [None] * 8,
    [None] * 8,
]


@pytest.fixture
def host() -> PluginHost:
    host = PluginHost(PluginConfig(autoload=False))
    host.register(xlsx_plugin, "xlsx")
    return host


def _ingest(host: PluginHost, path: Path, **options: str) -> tuple[MemoryStore, object]:
    store = MemoryStore()
    reader = host.intake_channel("xlsx").reader(options)
    summary = ingest_source(str(path), channel="xlsx", store=store, host=host, reader=reader)
    return store, summary


def _read(host: PluginHost, path: Path, **options: str) -> list[object]:
    """The channel's records, read straight from its reader (what it refuses, it raises)."""
    return list(host.intake_channel("xlsx").reader(options).read(str(path)))


def test_a_workbook_with_a_merged_title_is_imported(tmp_path: Path, host: PluginHost) -> None:
    book = workbook(tmp_path / "台账.xlsx", ROWS)
    store, summary = _ingest(host, book)
    cases = {c.external_id: c for c in store.query()}
    assert sorted(cases) == ["202603040003", "GD001", "GD002", "GD004", "GD007"]
    assert summary.read == 7  # empty rows (inside and trailing) are no records
    assert cases["GD001"].received_at == datetime(2026, 3, 4, 9, 5, tzinfo=SHANGHAI)
    assert cases["GD002"].received_at == datetime(2026, 3, 4, 9, 5, tzinfo=SHANGHAI)
    assert cases["202603040003"].received_at == datetime(2026, 3, 4, 9, 0, tzinfo=SHANGHAI)
    assert cases["GD004"].appeal_type.value == "help"
    assert cases["GD001"].channel.value == "batch_import"
    first = cases["GD001"].model_dump(context={"unmasked": True})["requester"]
    assert first == {
        "name": None,
        "phone": "13800001234",
        "anonymous": False,
        "confidential": False,
    }
    assert cases["GD002"].requester is not None and cases["GD002"].requester.confidential


def test_rejected_rows_are_dead_letters_at_their_cell(tmp_path: Path, host: PluginHost) -> None:
    book = workbook(tmp_path / "台账.xlsx", ROWS)
    store, summary = _ingest(host, book)
    where = [r.location for r in summary.rejected]  # type: ignore[attr-defined]
    # title in row 1, an empty row, the header in row 3: GD005 is row 8, GD006 row 9
    assert where == [f"{book}!台账!B8", f"{book}!台账!C9"]
    letters = store.dead_letters()
    assert [(d.source, d.line) for d in letters] == [(f"{book}!台账!B8", 8), (f"{book}!台账!C9", 9)]
    assert "'昨天' is not a date-time" in letters[0].reason
    assert "'吐槽' is not one of" in letters[1].reason
    raw = json.loads(letters[0].raw)
    assert raw["工单编号"] == "GD005" and raw["接收时间"] == "昨天"


def test_a_table_away_from_a1_is_located_right(tmp_path: Path, host: PluginHost) -> None:
    path = tmp_path / "offset.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["C5"], sheet["D5"] = "工单编号", "接收时间"
    sheet["C6"], sheet["D6"] = "A1", "2026-03-04 09:00"
    sheet["C7"], sheet["D7"] = "A2", "不是日期"
    book.save(path)
    store, summary = _ingest(host, path)
    assert [c.external_id for c in store.query()] == ["A1"]
    assert [r.location for r in summary.rejected] == [f"{path}!Sheet!D7"]  # type: ignore[attr-defined]


def test_merged_cells_below_the_header_belong_to_each_row(tmp_path: Path, host: PluginHost) -> None:
    path = tmp_path / "merged.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["工单编号", "接收时间", "企业名称"])
    sheet.append(["M1", "2026-03-04", "成都丙公司"])
    sheet.append(["M2", "2026-03-05", None])
    sheet.append(["M3", "2026-03-06", None])
    sheet.append(["M4", "2026-03-07", "成都丁公司"])
    sheet.append([None, None, None])
    sheet.append(["M6", "2026-03-08", "成都戊公司"])
    sheet.merge_cells("C2:C3")
    sheet.merge_cells("C5:C6")  # over an empty row: that row is still no record
    book.save(path)
    store, summary = _ingest(host, path)
    names = {c.external_id: c.enterprise.name if c.enterprise else None for c in store.query()}
    assert names == {
        "M1": "成都丙公司",
        "M2": "成都丙公司",
        "M3": None,
        "M4": "成都丁公司",
        "M6": "成都戊公司",
    }
    assert summary.rejected == []  # type: ignore[attr-defined]


def test_sheets_one_or_all_and_hidden_ones_skipped(tmp_path: Path, host: PluginHost) -> None:
    second = [list(HEADER), ["S2-1", "2026-03-04", "咨询", "", "", "", "", ""]]
    book = workbook(
        tmp_path / "sheets.xlsx",
        ROWS[:1],
        more={"第二批": second, "空白": []},
        hidden={"选项": [["下拉选项"], ["投诉"], ["咨询"]]},
    )
    store, _ = _ingest(host, book)
    assert sorted(c.external_id for c in store.query()) == ["GD001", "S2-1"]
    store, _ = _ingest(host, book, sheet="第二批")
    assert [c.external_id for c in store.query()] == ["S2-1"]
    with pytest.raises(SheetNotFound, match="has no sheet '第三批'; its sheets: 台账, 第二批"):
        _read(host, book, sheet="第三批")


def test_a_sheet_without_the_header_refuses_the_workbook(tmp_path: Path, host: PluginHost) -> None:
    book = workbook(tmp_path / "notes.xlsx", ROWS[:1], more={"填表说明": [["请按模板填写"]]})
    with pytest.raises(WorkbookError, match=r"notes\.xlsx!填表说明: no row among its first 30"):
        _read(host, book)
    store, _ = _ingest(host, book, sheet="台账")
    assert store.count() == 1


def test_a_header_without_a_required_column_refuses_the_workbook(
    tmp_path: Path, host: PluginHost
) -> None:
    book = workbook(tmp_path / "h.xlsx", [["X", "投诉"]], header=["工单编号", "诉求类型"])
    with pytest.raises(WorkbookError, match="lacks the column\\(s\\) 接收时间"):
        _read(host, book)


def test_a_custom_profile_maps_other_headers(tmp_path: Path, host: PluginHost) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "profile: 1\nfields:\n  external_id: {from: 编号}\n"
        "  received_at: {from: 日期, convert: {datetime: ['%Y年%m月%d日', excel]}}\n"
        "  facts.amount_wan: {from: 金额（万元）, convert: number}\n",
        encoding="utf-8",
    )
    path = workbook(
        tmp_path / "own.xlsx",
        [["A", "2026年3月4日", "1,200"], ["B", 46085, 35]],
        header=["编号", "日期", "金额（万元）"],
        title=None,
    )
    store, summary = _ingest(host, path, profile=str(profile))
    assert summary.rejected == []  # type: ignore[attr-defined]
    assert {c.external_id: c.facts["amount_wan"] for c in store.query()} == {"A": 1200, "B": 35}


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 16383)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "BA",
        "XFD",
    ]


def test_cli_ingest_dry_run_and_sheet_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = cli(monkeypatch, tmp_path)
    workbook(tmp_path / "台账.xlsx", ROWS)
    dry = run("ingest", "xlsx", "台账.xlsx", "--dry-run", "--limit", "2")
    assert dry.exit_code == 0, dry.output
    assert "#1 台账.xlsx!台账!A4 → case ZS" in dry.stdout
    assert "接收时间" in dry.stdout and "received_at" in dry.stdout
    assert "138****1234" in dry.stdout and "13800001234" not in dry.stdout
    assert not (tmp_path / "zhenshen.db").exists()
    stored = run("ingest", "xlsx", "台账.xlsx", "--store", "sqlite:///d.db", "--sheet", "台账")
    assert stored.exit_code == 1
    assert "7 read, 5 created, 0 duplicate, 2 rejected" in stored.stdout
    assert "台账.xlsx!台账!B8: rejected: 接收时间 → received_at: '昨天'" in stored.stderr
    unknown = run("ingest", "xlsx", "台账.xlsx", "--sheets", "台账")
    assert unknown.exit_code == 2
    assert "its options: --profile, --sheet, --max-rows" in unknown.stderr
    missing = run("ingest", "xlsx", "台账.xlsx", "--profile", "nope.yaml")
    assert missing.exit_code == 2 and "--profile: no such file: nope.yaml" in missing.stderr
    (tmp_path / "bad.yaml").write_text("profile: 1\nfields: {recieved_at: {from: x}}\n", "utf-8")
    bad = run("ingest", "xlsx", "台账.xlsx", "--profile", "bad.yaml", "--store", "sqlite:///e.db")
    assert bad.exit_code == 3 and "bad.yaml:2:10: M501" in bad.stderr
    assert not (tmp_path / "e.db").exists()
