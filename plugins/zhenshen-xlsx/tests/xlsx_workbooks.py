"""Workbooks for the tests, made as Excel makes them (openpyxl, or the sheet XML written
directly where openpyxl cannot: a formula with its cached error, a million rows)."""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
from click.testing import Result
from clikit import invoke_with_plugins, isolate_cli

HEADER = [
    "工单编号",
    "接收时间",
    "诉求类型",
    "标题",
    "诉求内容",
    "企业名称",
    "联系电话",
    "是否保密",
]


def workbook(
    path: Path,
    rows: Iterable[Sequence[Any]],
    *,
    header: Sequence[str] = HEADER,
    title: str | None = "成都高新区营商环境甄审台账（2026年3月）",
    sheet: str = "台账",
    more: dict[str, list[list[Any]]] | None = None,
    hidden: dict[str, list[list[Any]]] | None = None,
) -> Path:
    """A workbook whose first sheet has a merged title row, an empty row, then the table."""
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = sheet
    if title is not None:
        first.append([title])
        first.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        first.append([])
    first.append(list(header))
    for row in rows:
        first.append(list(row))
    for name, data in (more or {}).items():
        extra = book.create_sheet(name)
        for row in data:
            extra.append(row)
    for name, data in (hidden or {}).items():
        extra = book.create_sheet(name)
        extra.sheet_state = "hidden"
        for row in data:
            extra.append(row)
    book.save(path)
    return path


def with_formula_error(path: Path, marker: str, formula: str, error: str) -> None:
    """Replace the cell holding ``marker`` by a formula whose cached value is ``error``, as
    Excel saves ``=1/0`` (``<c t="e"><f>1/0</f><v>#DIV/0!</v></c>``)."""
    temp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                pattern = re.compile(
                    rb'<c r="([A-Z]+[0-9]+)"[^>]*t="inlineStr"[^>]*><is><t>'
                    + re.escape(marker.encode())
                    + rb"</t></is></c>"
                )
                data = pattern.sub(
                    lambda m: (
                        b'<c r="'
                        + m.group(1)
                        + b'" t="e"><f>'
                        + formula.encode()
                        + b"</f><v>"
                        + error.encode()
                        + b"</v></c>"
                    ),
                    data,
                )
            out.writestr(item, data)
    shutil.move(temp, path)


_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http'
        "://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
        '" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats'
        '.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http'
        "://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
        '" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def streamed_sheet(
    path: Path, header: Sequence[str], rows: Iterable[tuple[int, Sequence[Any]]]
) -> Path:
    """A one-sheet workbook written as XML in a stream: ``rows`` are (1-based row number,
    cells from column A). Numbers are numbers; text is inline text."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            stream.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            cells = "".join(_inline(f"{chr(65 + i)}1", h) for i, h in enumerate(header))
            stream.write(f'<row r="1">{cells}</row>'.encode())
            chunk: list[str] = []
            for number, values in rows:
                parts = []
                for i, value in enumerate(values):
                    ref = f"{chr(65 + i)}{number}"
                    if isinstance(value, int | float):
                        parts.append(f'<c r="{ref}"><v>{value}</v></c>')
                    else:
                        parts.append(_inline(ref, str(value)))
                chunk.append(f'<row r="{number}">{"".join(parts)}</row>')
                if len(chunk) >= 20_000:
                    stream.write("".join(chunk).encode())
                    chunk = []
            stream.write("".join(chunk).encode())
            stream.write(b"</sheetData></worksheet>")
    return path


def cli(monkeypatch: Any, tmp_path: Path) -> Callable[..., Result]:
    """The ``zhenshen`` CLI in-process, with only this repository's channel plugins."""
    isolate_cli(monkeypatch, tmp_path)

    def invoke(*args: str) -> Result:
        # the plugins' commands (export) are taken out again afterwards
        return invoke_with_plugins(("zhenshen_xlsx.plugin", "zhenshen_12345.plugin"), *args)

    return invoke
