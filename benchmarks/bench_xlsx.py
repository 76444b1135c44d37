"""xlsx intake: a 100,000-row workbook into SQLite, reading alone against the whole ingest,
and against ``csv`` of the same rows.

    .venv/bin/python benchmarks/bench_xlsx.py [--n 100000] [--seed 1] [--no-openpyxl]

The same generated work orders (``zhenshen corpus``'s generator) are written twice, in a
temporary directory: as a workbook in the layout ``zhenshen export xlsx`` writes (Chinese
headers, a merged title row above them, shared strings and date cells as Excel saves them;
the XML is written directly, which takes seconds instead of openpyxl's minutes) and as CSV
with the case model's field names for the built-in ``csv`` channel. Timed, each once:

1. ``read: python-calamine`` — open the workbook and turn every row into Python values;
2. ``read: openpyxl read-only`` — the same with openpyxl (the obvious alternative);
3. ``xlsx channel records`` — the channel's records: header found, rows mapped by the
   default profile, raw JSON kept for dead letters (no store);
4. ``xlsx ingest into SQLite`` — ``zhenshen ingest xlsx``'s work: records validated and stored;
5. ``csv channel records`` and 6. ``csv ingest into SQLite`` — the same for the CSV.

Both ingests must store the same cases (ids, times, types, titles, enterprises, departments),
or the run stops.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins/zhenshen-xlsx/src"))

from zhenshen_chengdu_gaoxin.corpus import generate_cases

from zhenshen_core.intake import ingest_source
from zhenshen_core.model.enums import AppealType, Channel
from zhenshen_core.plugins import PluginConfig, PluginHost
from zhenshen_core.storage import SQLiteStore

HEADER = [
    "工单编号", "渠道", "接收时间", "诉求类型", "标题", "诉求内容", "领域代码", "牵头部门代码",
    "配合部门代码", "企业名称", "统一社会信用代码", "来电人", "联系电话", "是否保密", "所属区域",
    "街道", "地址", "标签",
]  # fmt: skip
CSV_HEADER = [
    "external_id", "channel", "received_at", "appeal_type", "title", "content", "domain",
    "departments", "enterprise.name", "enterprise.uscc", "requester.name", "requester.phone",
    "requester.confidential", "location.district", "location.street", "location.address", "tags",
]  # fmt: skip
CHANNELS = {c.value: c.label for c in Channel}
APPEALS = {a.value: a.label for a in AppealType}
EPOCH = datetime(1899, 12, 30)


def _rows(n: int, seed: int) -> tuple[list[list[Any]], list[list[str]]]:
    """The same work orders as workbook rows and as CSV rows."""
    book, flat = [], []
    for case in generate_cases(n, seed=seed):
        when = datetime.fromisoformat(case["received_at"]).replace(tzinfo=None)
        enterprise = case.get("enterprise") or {}
        requester = case.get("requester") or {}
        location = case.get("location") or {}
        departments = case.get("departments") or []
        lead = next((d["id"] for d in departments if d["role"] == "lead"), "")
        co = [d["id"] for d in departments if d["role"] == "co"]
        phone = requester.get("phone") or ""
        confidential = bool(requester.get("confidential"))
        book.append(
            [
                case["external_id"], CHANNELS[case["channel"]], (when - EPOCH) / timedelta(days=1),
                APPEALS[case["appeal_type"]], case["title"], case["content"],
                case.get("domain") or "", lead, "；".join(co), enterprise.get("name", ""),
                enterprise.get("uscc", ""), requester.get("name") or "", phone,
                "是" if confidential else "否", location.get("district", ""),
                location.get("street", ""), location.get("address", ""),
                "；".join(case.get("tags") or []),
            ]
        )  # fmt: skip
        flat.append(
            [
                case["external_id"], case["channel"], when.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
                case["appeal_type"], case["title"], case["content"], case.get("domain") or "",
                ";".join(f"{d['id']}:{d['role']}" for d in departments),
                enterprise.get("name", ""), enterprise.get("uscc", ""),
                requester.get("name") or "", phone, "true" if confidential else "false",
                location.get("district", ""), location.get("street", ""),
                location.get("address", ""), ";".join(case.get("tags") or []),
            ]
        )  # fmt: skip
    return book, flat


_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas'
        '.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType'
        '="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml"'
        ' ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override'
        ' PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats'
        '-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
        '"xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.'
        'org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="台账" sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
        'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
        '"worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats'
        '.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship '
        'Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
    "xl/styles.xml": (  # style 1: numFmtId 22 (m/d/yy h:mm), a date-time cell
        '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/>'
        '<name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType='
        '"none"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/>'
        '<diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
        'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId='
        '"0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="22" fontId="0" fillId="0" '
        'borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1">'
        '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    ),
}


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def write_workbook(path: Path, rows: Iterable[list[Any]]) -> None:
    """As Excel saves one: a merged title row, the header, shared strings, date cells."""
    strings: dict[str, int] = {}
    columns = [_column(i) for i in range(len(HEADER))]

    def cell(ref: str, value: Any, date: bool = False) -> str:
        if isinstance(value, float):
            style = ' s="1"' if date else ""
            return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
        if value == "":
            return ""
        index = strings.setdefault(value, len(strings))
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _STATIC.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            stream.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            title = cell("A1", "成都高新区营商环境甄审台账")
            header = "".join(cell(f"{c}3", h) for c, h in zip(columns, HEADER, strict=True))
            stream.write(f'<row r="1">{title}</row><row r="3">{header}</row>'.encode())
            chunk = []
            for number, row in enumerate(rows, start=4):
                cells = "".join(
                    cell(f"{c}{number}", v, date=i == 2)
                    for i, (c, v) in enumerate(zip(columns, row, strict=True))
                )
                chunk.append(f'<row r="{number}">{cells}</row>')
                if len(chunk) >= 5000:
                    stream.write("".join(chunk).encode())
                    chunk = []
            stream.write("".join(chunk).encode())
            last = columns[-1]
            stream.write(f'</sheetData><mergeCells count="1"><mergeCell ref="A1:{last}1"/>'
                         "</mergeCells></worksheet>".encode())  # fmt: skip
        shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
        archive.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.'
            f'org/spreadsheetml/2006/main" count="{len(strings)}" uniqueCount="{len(strings)}">'
            f"{shared}</sst>",
        )


def _timed(run: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    count = run()
    return time.perf_counter() - start, count


def _key(store: SQLiteStore) -> dict[str, tuple[Any, ...]]:
    return {
        c.id: (
            c.received_at,
            c.appeal_type,
            c.title,
            c.content,
            c.enterprise,
            c.requester.confidential if c.requester else None,
            tuple(c.departments),
            tuple(c.tags),
        )
        for c in store.query()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="rows (default 100000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-openpyxl", action="store_true", help="skip openpyxl's read")
    args = parser.parse_args()

    import zhenshen_xlsx.plugin as xlsx_plugin
    from python_calamine import CalamineWorkbook

    host = PluginHost(PluginConfig(autoload=False))
    host.register(xlsx_plugin, "xlsx")
    book_rows, csv_rows = _rows(args.n, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "台账.xlsx"
        flat = Path(tmp) / "cases.csv"
        made, _ = _timed(lambda: write_workbook(book, book_rows) or 0)
        with flat.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(CSV_HEADER)
            writer.writerows(csv_rows)
        size = book.stat().st_size / 1e6
        print(f"{args.n:,} work orders: workbook {size:.1f} MB (written in {made:.1f} s), "
              f"CSV {flat.stat().st_size / 1e6:.1f} MB")  # fmt: skip

        def calamine() -> int:
            workbook = CalamineWorkbook.from_path(str(book))
            return sum(1 for _ in workbook.get_sheet_by_index(0).iter_rows())

        def openpyxl_read() -> int:
            import openpyxl

            workbook = openpyxl.load_workbook(book, read_only=True, data_only=True)
            count = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
            workbook.close()
            return count

        def records(channel: str, source: Path) -> Callable[[], int]:
            def run() -> int:
                reader = host.intake_channel(channel).reader()
                return sum(1 for r in reader.read(str(source)) if r.error is None)

            return run

        def ingest(channel: str, source: Path, store: SQLiteStore) -> Callable[[], int]:
            def run() -> int:
                summary = ingest_source(str(source), channel=channel, store=store, host=host)
                if summary.rejected:
                    raise SystemExit(f"{channel}: {summary.rejected[0]}")
                return summary.created

            return run

        stores = {name: SQLiteStore(str(Path(tmp) / f"{name}.db")) for name in ("xlsx", "csv")}
        contenders: list[tuple[str, Callable[[], int]]] = [
            ("read: python-calamine", calamine),
        ]
        if not args.no_openpyxl:
            contenders.append(("read: openpyxl read-only", openpyxl_read))
        contenders += [
            ("xlsx channel records (mapped)", records("xlsx", book)),
            ("xlsx ingest into SQLite", ingest("xlsx", book, stores["xlsx"])),
            ("csv channel records", records("csv", flat)),
            ("csv ingest into SQLite", ingest("csv", flat, stores["csv"])),
        ]
        print(f"  {'contender':<32}{'seconds':>9}{'rows/s':>12}")
        for label, run in contenders:
            seconds, count = _timed(run)
            print(f"  {label:<32}{seconds:>9.2f}{count / seconds:>12,.0f}")
        if _key(stores["xlsx"]) != _key(stores["csv"]):
            raise SystemExit("the xlsx and csv ingests stored different cases")
        print("both ingests stored the same cases")


if __name__ == "__main__":
    main()
