"""Writes 台账示例.xlsx, the desk ledger the workbook how-to imports (run it to remake it).

    .venv/bin/python examples/workbooks/make_ledger.py

A ledger as a district office keeps one: a merged title and a line of who filled it in above
the header, real Excel dates and a date typed as text, the register number kept as text, a
department merged over the two rows it leads, an empty row, and one row whose date is a
formula that failed (#VALUE!) — what an import has to cope with. A 填表说明 sheet holds
the filling notes.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent
HEADER = [
    "台账编号", "登记日期", "企业名称", "统一社会信用代码", "问题概述", "具体情况", "问题类别",
    "牵头部门", "联系人", "联系电话", "是否保密", "备注",
]  # fmt: skip
ROWS = [
    ["TZ-2026-001", datetime(2026, 1, 6, 9, 30), "成都某科技有限公司", "91510100MA68NDJH6X",
     "取得执照后无法开业", "已取得营业执照，但食品经营许可因消防验收资料缺失迟迟办不下来，门店无法"
     "开业。", "准入不准营", "市场监管局", "王先生", "13800001234", "否", ""],
    ["TZ-2026-002", datetime(2026, 1, 20, 14, 0), "成都某生物医药有限公司", "",
     "研发补助未兑现", "2025年申报的研发费用补助至今未兑现。", "政策兑现", "经济运行局", "李女士",
     "13900005678", "是", "第二次反映"],
    ["TZ-2026-003", "2026.3.5", "成都某智能制造有限公司", "", "改扩建缺权属证明",
     "厂房改扩建规划审批要求补充权属证明，原权属人已注销。", "报规报建", "规划和自然资源局", "",
     "", "", ""],
    [None] * 12,
    ["TZ-2026-004", "@VALUE@", "成都某软件有限公司", "", "贴息无人受理", "贷款贴息申请无人受理。",
     "融资", "", "赵先生", "13700001111", "否", "登记日期公式出错"],
    ["TZ-2026-005", datetime(2026, 3, 20, 10, 15), "成都某电子有限公司", "", "施工许可反复退件",
     "办理施工许可需五个部门盖章，材料反复退回。", "施工许可", "", "", "", "否", ""],
]  # fmt: skip


def main() -> Path:
    path = HERE / "台账示例.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "2026年一季度"
    sheet.append(["高新区营商环境甄审室 企业诉求台账（2026年一季度）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(["填报单位：营商环境局　　填报日期：2026年3月31日"])
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    for cell in sheet["B"][3:]:
        cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.merge_cells("H6:H8")  # 规划和自然资源局 leads rows 6 to 8 (the empty row included)
    for column, width in zip("ABCDEFGHIJKL", (14, 18, 26, 22, 20, 50, 12, 18, 10, 14, 9, 16),
                             strict=True):  # fmt: skip
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A4"
    notes = book.create_sheet("填表说明")
    notes.append(["问题类别：准入不准营、政策兑现、融资、信用修复、施工许可、报规报建"])
    book.save(path)
    _formula_error(path, "@VALUE@", 'DATEVALUE("2026-13-01")', "#VALUE!")
    return path


def _formula_error(path: Path, marker: str, formula: str, error: str) -> None:
    """A formula with its cached error value, as Excel saves one (openpyxl cannot)."""
    temp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(
                    rb'<c r="([A-Z]+[0-9]+)"([^>]*) t="inlineStr"><is><t>'
                    + re.escape(marker.encode())
                    + rb"</t></is></c>",
                    lambda m: b'<c r="' + m.group(1) + b'"' + m.group(2) + b' t="e"><f>'
                    + formula.replace('"', "&quot;").encode() + b"</f><v>"
                    + error.encode() + b"</v></c>",
                    data,
                )  # fmt: skip
            out.writestr(item, data)
    shutil.move(temp, path)


if __name__ == "__main__":
    print(main())
