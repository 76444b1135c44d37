"""``zhenshen export xlsx``: a workbook a desk manager can filter, masked, that imports again."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import Result
from xlsx_workbooks import cli
from zhenshen_xlsx.export import COLUMNS, export_cases

from zhenshen_core.model.lifecycle import load_case
from zhenshen_core.storage import open_store

ROOT = Path(__file__).resolve().parents[3]
PACK = ROOT / "plugins" / "zhenshen-chengdu-gaoxin" / "src" / "zhenshen_chengdu_gaoxin" / "pack"

CASES = [
    {
        "external_id": "GD-1",
        "channel": "hotline_12345",
        "received_at": "2026-03-04T09:05:00+08:00",
        "appeal_type": "complaint",
        "title": '=HYPERLINK("http://example.invalid","点我")',
        "content": "已取得营业执照但无法经营\x07，门店停业",
        "domain": "market_entry_operation",
        "enterprise": {"name": "成都某科技有限公司", "uscc": "91510100MA68NDJH6X"},
        "requester": {"name": "王先生", "phone": "13800001234"},
        "tags": ["准入不准营", "重点企业"],
    },
    {
        "external_id": "GD-2",
        "channel": "web",
        "received_at": "2026-03-05T14:30:00+08:00",
        "appeal_type": "consult",
        "title": "补贴何时兑现",
        "content": "去年申报的补贴尚未兑现",
        "domain": "policy_redemption",
        "requester": {"name": "李女士", "phone": "13900005678", "confidential": True},
        "departments": [{"id": "gxq.jfj", "role": "lead"}, {"id": "gxq.czj", "role": "co"}],
    },
]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    return cli(monkeypatch, tmp_path)


@pytest.fixture
def desk_db(tmp_path: Path, run: Callable[..., Result]) -> str:
    source = tmp_path / "cases.jsonl"
    source.write_text(
        "\n".join(json.dumps(c, ensure_ascii=False) for c in CASES) + "\n", encoding="utf-8"
    )
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    result = run("ingest", "jsonl", str(source), "--store", url, "--pack", str(PACK))
    assert result.exit_code == 0, result.output
    return url


def _rows(path: Path | io.BytesIO) -> tuple[openpyxl.Workbook, list[dict[str, object]]]:
    book = openpyxl.load_workbook(path)
    sheet = book["案件"]
    values = list(sheet.iter_rows(values_only=True))
    header = [str(v) for v in values[0]]
    return book, [dict(zip(header, row, strict=True)) for row in values[1:]]


def test_the_workbook_is_filterable_and_masked(desk_db: str, run: Callable[..., Result]) -> None:
    result = run("export", "xlsx", "--store", desk_db, "-o", "out.xlsx", "--pack", str(PACK))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "2 case(s) written to out.xlsx"
    book, rows = _rows(Path("out.xlsx"))
    sheet = book["案件"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(COLUMNS))}3"
    assert sheet.column_dimensions["K"].width == 50  # 诉求内容
    first, second = rows
    assert first["接收时间"] == datetime(2026, 3, 4, 9, 5)  # a real date, Beijing time
    assert sheet["E2"].is_date and sheet["E2"].number_format == "yyyy-mm-dd hh:mm"
    assert (first["状态"], first["状态代码"]) == ("已接收", "received")
    assert (first["诉求类型"], first["诉求类型代码"]) == ("投诉", "complaint")
    assert (first["领域"], first["领域代码"]) == ("准入不准营", "market_entry_operation")
    assert first["严重程度"] and first["甄审层级"] and first["最近到期"]
    assert first["联系电话"] == "138****1234" and first["来电人"] == "王**"  # names masked too
    assert second["联系电话"] is None and second["来电人"] is None  # confidential: withheld
    assert (second["牵头部门代码"], second["牵头部门"]) == ("gxq.jfj", "经济运行局（发展改革局）")
    # a citizen's text is never a formula, and characters XML cannot hold are dropped
    assert sheet["J2"].data_type == "s" and str(first["标题"]).startswith("=HYPERLINK")
    assert first["诉求内容"] == "已取得营业执照但无法经营，门店停业"
    assert str(first["标签"]).startswith("准入不准营；重点企业")  # and the pack's tags
    legend = list(book["代码说明"].iter_rows(values_only=True))
    assert ("状态", "screening", "甄别中") in legend and ("领域", "financing", "融资") in legend


def test_status_filter_and_standard_output(desk_db: str, run: Callable[..., Result]) -> None:
    none = run("export", "xlsx", "--store", desk_db, "--status", "closed", "-o", "none.xlsx")
    assert none.exit_code == 0 and _rows(Path("none.xlsx"))[1] == []
    piped = run("export", "xlsx", "--store", desk_db, "-o", "-")
    assert piped.exit_code == 0 and "2 case(s) written to standard output" in piped.stderr
    assert len(_rows(io.BytesIO(piped.stdout_bytes))[1]) == 2


def test_an_exported_workbook_imports_again(
    desk_db: str, run: Callable[..., Result], tmp_path: Path
) -> None:
    assert run("export", "xlsx", "--store", desk_db, "-o", "out.xlsx").exit_code == 0
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    imported = run("ingest", "xlsx", "out.xlsx", "--store", fresh)
    assert imported.exit_code == 0, imported.output
    assert "2 read, 2 created" in imported.stdout
    before, after = open_store(desk_db), open_store(fresh)
    try:
        old = {c.id: c for c in before.query()}
        new = {c.id: c for c in after.query()}
        assert old.keys() == new.keys()  # same channel and work-order number: same case
        for case_id, case in new.items():
            was = old[case_id]
            for field in (
                "external_id",
                "channel",
                "received_at",
                "appeal_type",
                "title",
                "domain",
                "enterprise",
                "tags",
                "departments",
            ):
                assert getattr(case, field) == getattr(was, field), field
            assert case.content == was.content.replace("\x07", "")
            assert case.requester is not None and case.requester.phone is None  # was masked
    finally:
        before.close()
        after.close()
    again = run("ingest", "xlsx", "out.xlsx", "--store", desk_db)
    assert "0 created, 2 duplicate" in again.stdout


def test_a_failed_export_leaves_no_file(tmp_path: Path) -> None:
    def cases() -> Iterator[object]:
        yield load_case(dict(CASES[1]))
        raise OSError("the store went away")

    target = tmp_path / "out.xlsx"
    target.write_bytes(b"yesterday's export")
    with pytest.raises(OSError, match="went away"):
        export_cases(cases(), target)  # type: ignore[arg-type]
    assert target.read_bytes() == b"yesterday's export"
    assert [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]
