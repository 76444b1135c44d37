"""``zhenshen export xlsx``: cases as a workbook a desk manager filters and sorts.

openpyxl's write-only mode streams the rows (memory stays flat however many cases), with a
frozen header, an autofilter, set column widths, dates as real Excel dates, and Chinese
labels beside the stable codes. Personal data is masked as in every output: the requester's
phone keeps its first 3 and last 4 digits, and a requester who asked for confidentiality
(是否保密) or anonymity is not named. The headers are what the channel's default profile
reads, so an exported workbook imports again (``zhenshen ingest xlsx``).

Text that Excel would run as a formula (``=…``, a citizen's words are data) is written as
text, and characters XML cannot hold are dropped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.model.enums import AppealType, CaseStatus, Chair, Channel, Tier
from zhenshen_core.model.identity import mask_phone
from zhenshen_core.privacy import masked_case

DATE_FORMAT = "yyyy-mm-dd hh:mm"
SHEET = "案件"
LEGEND = "代码说明"


@dataclass(frozen=True)
class Names:
    """Display names from a pack (``--pack``): domain and department ids → names."""

    domains: Mapping[str, str]
    departments: Mapping[str, str]

    @classmethod
    def of(cls, pack: Any) -> Names:
        return cls(
            {k: getattr(v, "name", "") or k for k, v in pack.domains.items()},
            {k: getattr(v, "name", "") or k for k, v in pack.departments.items()},
        )


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    value: Callable[[Case, Names | None], Any]
    date: bool = False
    wrap: bool = False


def _label(value: Any) -> str:
    return str(getattr(value, "label", "") or "") if value is not None else ""


def _code(value: Any) -> str:
    return str(getattr(value, "value", "") or "") if value is not None else ""


def _local(value: datetime | None) -> datetime | None:
    """Excel has no time zones: the instant as Beijing time, as the desk reads it."""
    return value.astimezone(SHANGHAI).replace(tzinfo=None) if value is not None else None


def _next_due(case: Case) -> datetime | None:
    running = [c.due_at for c in case.clocks.values() if c.running]
    return _local(min(running)) if running else None


def _requester_name(case: Case) -> str:
    who = case.requester
    if who is None or not who.name:
        return ""
    return "" if who.confidential or who.anonymous else who.name


def _phone(case: Case) -> str:
    """The (masked) phone; none for a requester whose identity is withheld (保密 is no number
    a workbook imported again could read)."""
    who = case.requester
    if who is None or not who.phone or who.confidential or who.anonymous:
        return ""
    return mask_phone(who.phone)


def _co(case: Case) -> list[str]:
    lead = case.lead_department
    return [d.id for d in case.departments if d.id != lead]


def _name(table: str, key: str | None, names: Names | None) -> str:
    if not key or names is None:
        return ""
    found: Mapping[str, str] = getattr(names, table)
    return found.get(key, "")


COLUMNS: tuple[Column, ...] = (
    Column("案件编号", 20, lambda c, n: c.id),
    Column("工单编号", 18, lambda c, n: c.external_id or ""),
    Column("渠道", 12, lambda c, n: _label(c.channel)),
    Column("渠道代码", 14, lambda c, n: _code(c.channel)),
    Column("接收时间", 17, lambda c, n: _local(c.received_at), date=True),
    Column("状态", 14, lambda c, n: _label(c.status)),
    Column("状态代码", 16, lambda c, n: _code(c.status)),
    Column("诉求类型", 9, lambda c, n: _label(c.appeal_type)),
    Column("诉求类型代码", 12, lambda c, n: _code(c.appeal_type)),
    Column("标题", 30, lambda c, n: c.title),
    Column("诉求内容", 50, lambda c, n: c.content, wrap=True),
    Column("领域", 14, lambda c, n: _name("domains", c.domain, n)),
    Column("领域代码", 22, lambda c, n: c.domain or ""),
    Column("牵头部门", 20, lambda c, n: _name("departments", c.lead_department, n)),
    Column("牵头部门代码", 14, lambda c, n: c.lead_department or ""),
    Column("配合部门代码", 22, lambda c, n: "；".join(_co(c))),
    Column("严重程度", 9, lambda c, n: c.severity or ""),
    Column("甄审层级", 12, lambda c, n: _label(c.tier)),
    Column("层级代码", 10, lambda c, n: _code(c.tier)),
    Column("主持", 18, lambda c, n: _label(c.chair)),
    Column("企业名称", 26, lambda c, n: c.enterprise.name if c.enterprise else ""),
    Column("统一社会信用代码", 21, lambda c, n: c.enterprise.uscc or "" if c.enterprise else ""),
    Column("来电人", 10, lambda c, n: _requester_name(c)),
    Column("联系电话", 14, lambda c, n: _phone(c)),
    Column(
        "是否保密",
        9,
        lambda c, n: ("是" if c.requester.confidential else "否") if c.requester else "",
    ),
    Column("所属区域", 12, lambda c, n: c.location.district or "" if c.location else ""),
    Column("街道", 12, lambda c, n: c.location.street or "" if c.location else ""),
    Column("地址", 24, lambda c, n: c.location.address or "" if c.location else ""),
    Column("最近到期", 17, lambda c, n: _next_due(c), date=True),
    Column("标签", 20, lambda c, n: "；".join(c.tags)),
)

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _cell(sheet: WriteOnlyWorksheet, value: Any, column: Column) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # never a formula, whatever the text begins with
        if column.wrap:
            cell.alignment = _WRAP
        return cell
    cell = WriteOnlyCell(sheet, value=value)
    if column.date:
        cell.number_format = DATE_FORMAT
    return cell


def _legend(book: Workbook, names: Names | None) -> None:
    sheet = book.create_sheet(LEGEND)
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 26
    sheet.column_dimensions["C"].width = 36
    # Not a header the import profile knows ("标签" is one): the import skips this sheet.
    header = [WriteOnlyCell(sheet, value=v) for v in ("列", "代码", "名称")]
    for cell in header:
        cell.font = _HEADER_FONT
    sheet.append(header)
    for title, enum in (
        ("渠道", Channel),
        ("状态", CaseStatus),
        ("诉求类型", AppealType),
        ("甄审层级", Tier),
        ("主持", Chair),
    ):
        for member in enum:
            sheet.append([title, member.value, member.label])
    if names is not None:
        for key, name in names.domains.items():
            sheet.append(["领域", key, name])
        for key, name in names.departments.items():
            sheet.append(["部门", key, name])


def write_workbook(cases: Iterable[Case], stream: IO[bytes], *, names: Names | None = None) -> int:
    """Write ``cases`` as a workbook to ``stream``; the number of cases written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        header.append(cell)
    sheet.append(header)
    count = 0
    failure: Exception | None = None
    try:
        for stored in cases:
            case = masked_case(stored)  # personal data masked as in every output
            sheet.append([_cell(sheet, column.value(case, names), column) for column in COLUMNS])
            count += 1
    except Exception as exc:  # finish the file's structure, then fail: the caller discards it
        failure = exc
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
    _legend(book, names)
    book.save(stream)
    if failure is not None:
        raise failure
    return count


def export_to_stream(
    cases: Iterable[Case], stream: IO[bytes], *, names: Names | None = None
) -> int:
    """Write the workbook to ``stream`` (standard output) only once it is complete."""
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as spool:
        count = write_workbook(cases, spool, names=names)
        spool.seek(0)
        shutil.copyfileobj(spool, stream)
    return count


def export_cases(cases: Iterable[Case], path: str | Path, *, names: Names | None = None) -> int:
    """Write the workbook to ``path`` whole or not at all: a temporary file beside it is
    renamed over it once complete, so a failure never leaves half a workbook."""
    target = Path(path)
    handle, temp = tempfile.mkstemp(
        prefix=".zhenshen-export-", suffix=".xlsx", dir=target.parent or Path(".")
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            count = write_workbook(cases, stream, names=names)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return count


__all__ = [
    "COLUMNS",
    "LEGEND",
    "SHEET",
    "Names",
    "export_cases",
    "export_to_stream",
    "write_workbook",
]
