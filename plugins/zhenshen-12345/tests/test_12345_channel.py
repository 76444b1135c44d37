"""The ``12345`` channel: a platform's own export in four formats, mapped by the built-in
profile or the district's own, with its classification codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result
from clikit import isolate_cli
from zhenshen_12345 import default_profile_path, format_of

from zhenshen_core.cli.main import prepare
from zhenshen_core.errors import IntakeError
from zhenshen_core.storage import open_store

ROOT = Path(__file__).resolve().parents[3]
PACK = ROOT / "plugins" / "zhenshen-chengdu-gaoxin" / "src" / "zhenshen_chengdu_gaoxin" / "pack"

COLUMNS = [
    "工单编号",
    "来电时间",
    "诉求类型",
    "诉求标题",
    "诉求内容",
    "来电人",
    "联系电话",
    "企业名称",
    "统一社会信用代码",
    "承办单位",
    "诉求分类代码",
    "是否保密",
    "所属区域",
]
ORDERS = [
    [
        "GD2026030400001",
        "2026/3/4 9:05",
        "投诉",
        "办不了证",
        "已取得执照但无法经营",
        "王先生",
        "13800001234",
        "成都某科技有限公司",
        "91510100MA68NDJH6X",
        "市场监管局",
        "0101",
        "否",
        "高新区",
    ],
    [
        "GD2026030400002",
        "2026年3月4日",
        "咨询",
        "补贴",
        "补贴何时兑现",
        "李女士",
        "13900005678",
        "",
        "",
        "经济运行局",
        "0203",
        "是",
        "高新区",
    ],
    [
        "GD2026030400003",
        "2026-03-04 10:30:00",
        "建议",
        "建议",
        "简化流程",
        "",
        "",
        "",
        "",
        "",
        "9901",
        "",
        "",
    ],
    ["GD2026030400004", "上周", "求助", "坏日期", "x", "", "", "", "", "", "", "", ""],
]

DISTRICT_PROFILE = """\
profile: 1
name: 成都高新区 12345 平台
fields:
  external_id: {from: 工单编号, required: true}
  received_at:
    from: 来电时间
    required: true
    convert: {datetime: ["%Y/%m/%d %H:%M", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S", excel]}
  appeal_type:
    from: 诉求类型
    convert: {map: {咨询: consult, 求助: help, 投诉: complaint, 举报: report, 建议: suggestion}}
  title: {from: 诉求标题}
  content: {from: [诉求内容]}
  requester.name: {from: 来电人}
  requester.phone: {from: 联系电话, convert: phone}
  requester.confidential: {from: 是否保密, convert: {flag: {yes: [是], no: [否]}}}
  enterprise.name: {from: 企业名称}
  enterprise.uscc: {from: 统一社会信用代码}
  location.district: {from: 所属区域}
classification:
  from: 诉求分类代码
  fact: category_code
  convert: {zfill: 4}
  codes:
    "01": {domain: market_entry_operation, lead: gxq.scjgj}
    "02": {domain: policy_redemption, lead: gxq.jfj, co: [gxq.czj]}
"""


def _dicts() -> list[dict[str, str]]:
    return [dict(zip(COLUMNS, row, strict=True)) for row in ORDERS]


def write_export(folder: Path, kind: str) -> Path:
    path = folder / f"export.{kind}"
    if kind == "jsonl":
        path.write_text(
            "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in _dicts()), "utf-8"
        )
    elif kind == "json":
        path.write_text(json.dumps(_dicts(), ensure_ascii=False, indent=1), "utf-8")
    elif kind == "csv":
        lines = ["12345热线工单导出（2026年3月）", "", ",".join(COLUMNS)]
        lines += [",".join(row) for row in ORDERS]
        path.write_text("\n".join(lines) + "\n", "utf-8-sig")  # Excel's CSV has a BOM
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "工单"
        sheet.append(["12345热线工单导出（2026年3月）"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
        sheet.append(COLUMNS)
        for row in ORDERS:
            cells: list[object] = list(row)
            cells[10] = int(row[10]) if row[10] else None  # codes kept as numbers: 0101 → 101
            sheet.append(cells)
        book.save(path)
    return path


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    isolate_cli(monkeypatch, tmp_path, columns=140)
    (tmp_path / "profile.yaml").write_text(DISTRICT_PROFILE, encoding="utf-8")

    def invoke(*args: str, input: str | None = None) -> Result:
        argv = ["-p", "zhenshen_12345.plugin", *args]
        group, argv = prepare(argv)
        return CliRunner().invoke(group, argv, input=input, catch_exceptions=False)

    return invoke


def _cases(url: str) -> dict[str, object]:
    store = open_store(url)
    try:
        return {c.external_id or "": c for c in store.query()}
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["jsonl", "json", "csv", "xlsx"])
def test_every_export_format_with_the_default_profile(
    run: Callable[..., Result], tmp_path: Path, kind: str
) -> None:
    path = write_export(tmp_path, kind)
    url = f"sqlite:///{tmp_path / 'd.db'}"
    result = run("ingest", "12345", path.name, "--store", url)
    assert result.exit_code == 1, result.output  # the fourth work order has no date
    assert "4 read, 3 created, 0 duplicate, 1 rejected" in result.stdout
    assert "'上周' is not a date-time" in result.stderr
    cases = _cases(url)
    first = cases["GD2026030400001"]
    assert first.channel.value == "hotline_12345"  # type: ignore[attr-defined]
    assert first.appeal_type.value == "complaint"  # type: ignore[attr-defined]
    assert first.enterprise.uscc == "91510100MA68NDJH6X"  # type: ignore[attr-defined]
    assert first.facts["handling_unit"] == "市场监管局"  # type: ignore[attr-defined]
    assert cases["GD2026030400002"].requester.confidential  # type: ignore[attr-defined]
    again = run("ingest", "12345", path.name, "--store", url)
    assert "0 created, 3 duplicate" in again.stdout


def test_the_xlsx_rejection_is_located_at_its_cell(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    write_export(tmp_path, "xlsx")
    result = run("ingest", "12345", "export.xlsx", "--store", "sqlite:///d.db")
    assert "export.xlsx!工单!B6: rejected: 来电时间 → received_at: '上周'" in result.stderr


def test_a_district_profile_with_classification_codes(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    write_export(tmp_path, "xlsx")
    check = run("profile", "check", "profile.yaml", "--pack", str(PACK))
    assert check.exit_code == 0, check.output
    url = f"sqlite:///{tmp_path / 'd.db'}"
    result = run(
        "ingest",
        "12345",
        "export.xlsx",
        "--profile",
        "profile.yaml",
        "--store",
        url,
        "--pack",
        str(PACK),
    )
    assert result.exit_code == 1 and "3 created" in result.stdout
    cases = _cases(url)
    first, second, third = (cases[f"GD202603040000{n}"] for n in (1, 2, 3))
    # 101 in the workbook (Excel dropped the zero) is 0101 again: code 01
    assert first.domain == "market_entry_operation"  # type: ignore[attr-defined]
    assert first.facts["category_code"] == "0101"  # type: ignore[attr-defined]
    assert second.lead_department == "gxq.jfj"  # type: ignore[attr-defined]
    assert third.facts["category_code"] == "9901"  # type: ignore[attr-defined]
    assert first.decision is not None  # decided with the pack as it was stored


def test_dry_run_side_by_side(run: Callable[..., Result], tmp_path: Path) -> None:
    write_export(tmp_path, "csv")
    result = run("ingest", "12345", "--profile", "profile.yaml", "--dry-run", "export.csv")
    assert result.exit_code == 1  # the fourth work order would be rejected
    out = result.stdout
    assert "#1 export.csv:4 → case ZS" in out
    assert "#4 export.csv:7 rejected: 来电时间 → received_at: '上周'" in out
    line = next(x for x in out.splitlines() if x.startswith("来电时间") and "2026/3/4" in x)
    assert "received_at" in line and "2026-03-04T09:05:00" in line
    assert "诉求分类代码 (classification)" in out and "gxq.scjgj" in out
    assert "13800001234" not in out and "138****1234" in out
    assert not (tmp_path / "zhenshen.db").exists()


def test_standard_input_is_json_lines(run: Callable[..., Result], tmp_path: Path) -> None:
    lines = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in _dicts()[:2])
    result = run("ingest", "12345", "-", "--store", "sqlite:///d.db", input=lines)
    assert result.exit_code == 0 and "2 created" in result.stdout


def test_files_the_channel_cannot_read(run: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "export.txt").write_text("x", "utf-8")
    result = run("ingest", "12345", "export.txt", "--store", "sqlite:///d.db")
    assert result.exit_code == 3
    assert "cannot tell the format of export.txt from its extension" in result.stderr
    (tmp_path / "other.csv").write_text("编号,时间\n1,2\n", "utf-8")
    header = run("ingest", "12345", "other.csv", "--store", "sqlite:///d.db")
    assert header.exit_code == 3 and "no row among its first 30" in header.stderr
    (tmp_path / "partial.csv").write_text("工单编号,诉求内容\n1,2\n", "utf-8")
    missing = run("ingest", "12345", "partial.csv", "--store", "sqlite:///d.db")
    assert missing.exit_code == 3 and "lacks the column(s) 来电时间" in missing.stderr
    assert _cases("sqlite:///d.db") == {}
    option = run("ingest", "12345", "partial.csv", "--sheet", "a", "--encoding", "gbk")
    assert option.exit_code == 2 and "its options: --profile, --sheet" in option.stderr


def test_a_gbk_row_is_one_rejected_record(run: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    good = "工单编号,来电时间\nA1,2026-03-04 09:00\n".encode()
    path.write_bytes(good + "A2,2026-03-05 09:00,备注".encode("gbk")[:-2] + b"\nA3,2026-03-06\n")
    result = run("ingest", "12345", "mixed.csv", "--store", "sqlite:///d.db")
    assert "3 read, 2 created" in result.stdout and "mixed.csv:3: rejected:" in result.stderr


def test_format_by_extension() -> None:
    assert [format_of(n) for n in ("a.JSON", "a.ndjson", "-", "a.csv", "a.xlsm")] == [
        "json",
        "jsonl",
        "jsonl",
        "csv",
        "xlsx",
    ]
    with pytest.raises(IntakeError):
        format_of("a.xls")


def test_the_default_profile_is_clean() -> None:
    from zhenshen_core.intake.profiles import check_profile
    from zhenshen_core.rules import load_pack

    assert check_profile(default_profile_path(), pack=load_pack(PACK))[2] == []
