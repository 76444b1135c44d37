"""Opening a workbook and finding its tables: what is wrong with a file is said before any
of its rows is read, so a workbook is either read or refused whole.

python-calamine reads the cells (in Rust, several times faster than openpyxl); what it does
not tell is found here: a file that is no ``.xlsx`` at all (a legacy ``.xls`` renamed, an
encrypted workbook, an HTML page saved as ``.xlsx``) and the cells holding a formula error,
which calamine hands over as empty cells (they would silently become missing values).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from zhenshen_core.errors import IntakeError
from zhenshen_core.intake.profiles import Profile, text_of

if TYPE_CHECKING:
    from python_calamine import CalamineSheet, CalamineWorkbook

ZIP = (b"PK\x03\x04", b"PK\x05\x06")
OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")

#: Data rows a workbook may hold before it is refused (``--max-rows 0``: no limit).
MAX_ROWS = 500_000


class WorkbookError(IntakeError):
    """A workbook that cannot be read, or a sheet that is not a table the profile describes.

    Nothing of the workbook is stored: the check runs before the first row is read."""


class SheetNotFound(WorkbookError):
    """``--sheet`` names no sheet of the workbook (a usage error)."""

    exit_code = 2


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _refuse(path: str, head: bytes) -> None:
    """Say what a file that is not an ``.xlsx`` package is, and what to do about it."""
    if not head:
        raise WorkbookError(f"{path} is empty (0 bytes), not a workbook")
    if head.startswith(OLE2):
        data = Path(path).read_bytes()
        if ENCRYPTED_STREAM in data:
            raise WorkbookError(
                f"{path} is password-protected (an encrypted workbook): open it in Excel or "
                "WPS, remove the password (文件 → 信息 → 保护工作簿 → 用密码进行加密, clear it), "
                "save and import again"
            )
        raise WorkbookError(
            f"{path} is a legacy Excel 97-2003 file (.xls) with another name: open it in Excel "
            "or WPS and save it as an Excel workbook (.xlsx), then import that"
        )
    if head.lstrip().startswith(b"<"):
        raise WorkbookError(
            f"{path} is an HTML or XML file with a workbook's name (what some web systems' "
            "'export to Excel' writes): open it in Excel and save it as .xlsx, or export CSV"
        )
    raise WorkbookError(f"{path} is not an Excel workbook (.xlsx is a zip package; this is not)")


def open_workbook(path: str) -> CalamineWorkbook:
    """The workbook, or :class:`WorkbookError` saying what the file is instead."""
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    try:
        with open(path, "rb") as stream:
            head = stream.read(8)
    except OSError as exc:
        raise WorkbookError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not head.startswith(ZIP):
        _refuse(path, head)
    try:
        return CalamineWorkbook.from_path(path)
    except PasswordError:
        raise WorkbookError(f"{path} is password-protected: remove the password first") from None
    except CalamineError as exc:
        raise WorkbookError(f"{path} is a damaged workbook: {exc}") from None


# --- formula errors ---------------------------------------------------------------------------

_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_ERROR_CELL = re.compile(rb"<c\s([^>]*\bt=\"e\"[^>]*)>(.*?)</c>", re.S)
_REF = re.compile(rb"\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_MARKER = b't="e"'


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the zip member holding its XML."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("p:Relationship", _NS)}
    parts: dict[str, str] = {}
    for sheet in book.findall("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        parts[sheet.get("name", "")] = member
    return parts


def _letters_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ch - 64)
    return index - 1


def error_cells(path: str, names: Sequence[str]) -> dict[str, dict[tuple[int, int], str]]:
    """For each sheet named, its cells holding a formula error: (row, column) 0-based → the
    error (``#DIV/0!``, ``#N/A`` …). The sheet's XML is only searched when it has one."""
    found: dict[str, dict[tuple[int, int], str]] = {name: {} for name in names}
    try:
        with zipfile.ZipFile(path) as archive:
            parts = _sheet_parts(archive)
            for name in names:
                member = parts.get(name)
                if member is None or not _holds_marker(archive, member):
                    continue
                data = archive.read(member)
                cells = found[name]
                for match in _ERROR_CELL.finditer(data):
                    ref = _REF.search(match.group(1))
                    value = _VALUE.search(match.group(2))
                    if ref is not None:
                        key = (int(ref.group(2)) - 1, _letters_index(ref.group(1)))
                        cells[key] = value.group(1).decode() if value else "#ERROR"
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise WorkbookError(f"{path} is a damaged workbook: {exc}") from None
    return found


def _holds_marker(archive: zipfile.ZipFile, member: str) -> bool:
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            if _MARKER in tail + chunk:
                return True
            tail = chunk[-len(_MARKER) :]
    return False


# --- tables -----------------------------------------------------------------------------------


@dataclass
class Table:
    """A sheet's table: where its header is, what its columns are called, what to fill in."""

    name: str
    sheet: CalamineSheet
    header_row: int  # 0-based, absolute
    first_column: int  # 0-based, absolute
    names: list[str]  # per column from first_column: the profile's column name, or ""
    rows: int  # rows below the header (empty ones included)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    merged: dict[int, list[tuple[int, tuple[int, int]]]] = field(default_factory=dict)

    def cell(self, row: int, index: int) -> str:
        """``F12``: the cell of 0-based absolute ``row`` and column ``index`` of the table."""
        return f"{column_letter(self.first_column + index)}{row + 1}"


def _is_empty(cells: Sequence[Any]) -> bool:
    for cell in cells:
        if cell != "" and cell is not None:
            if type(cell) is str and not cell.strip():
                continue
            return False
    return True


def _header(sheet: CalamineSheet, profile: Profile) -> tuple[int, list[Any]] | None:
    """The first row among the first ``header_search`` rows with content holding the most of
    the profile's columns (below a merged title, an empty line, a note …)."""
    best: tuple[int, list[Any]] | None = None
    best_score = 0
    seen = 0
    for index, cells in enumerate(sheet.iter_rows()):
        if _is_empty(cells):
            continue
        seen += 1
        score = profile.header_score(cells)
        if score > best_score:
            best, best_score = (index, cells), score
        if seen >= profile.spec.header_search:
            break
    return best


def _unique(names: list[str], first_column: int) -> list[str]:
    """Header names as row keys: a name used twice gets its column letter after it."""
    seen: dict[str, int] = {}
    out = []
    for index, name in enumerate(names):
        if name and name in seen:
            name = f"{name} ({column_letter(first_column + index)})"
        seen.setdefault(name, index)
        out.append(name)
    return out


def find_tables(
    path: str,
    workbook: CalamineWorkbook,
    profile: Profile,
    *,
    sheet: str | None = None,
    max_rows: int = MAX_ROWS,
) -> list[Table]:
    """Every selected sheet's table, checked: each problem that would cost every row of a
    sheet (no header, a required column missing, a column named twice) is collected, and any
    makes a :class:`WorkbookError` naming them all."""
    from python_calamine import CalamineError, SheetTypeEnum, SheetVisibleEnum

    if sheet is not None:
        if sheet not in workbook.sheet_names:
            raise SheetNotFound(
                f"{path} has no sheet {sheet!r}; its sheets: {', '.join(workbook.sheet_names)}"
            )
        names = [sheet]
    else:
        skipped = set(profile.spec.skip_sheets)
        names = [
            m.name
            for m in workbook.sheets_metadata
            if m.typ == SheetTypeEnum.WorkSheet
            and m.visible == SheetVisibleEnum.Visible
            and m.name not in skipped
        ]
    problems: list[str] = []
    tables: list[Table] = []
    for name in names:
        try:
            loaded = workbook.get_sheet_by_name(name)
        except CalamineError as exc:
            raise WorkbookError(f"{path}!{name} cannot be read: {exc}") from None
        if loaded.start is None:
            continue  # an empty sheet holds nothing to lose
        found = _header(loaded, profile)
        if found is None:
            expected = ", ".join(profile.columns[:6])
            problems.append(
                f"{path}!{name}: no row among its first {profile.spec.header_search} holds a "
                f"column of the profile ({expected} …); if the sheet holds no records, choose "
                "the sheet to read with --sheet NAME"
            )
            continue
        header_row, cells = found
        first_column = loaded.start[1]
        header = profile.header_names(cells)
        where = f"{path}!{name}!{column_letter(first_column)}{header_row + 1}"
        missing = profile.missing_columns(header)
        if missing:
            problems.append(
                f"{where}: the header row lacks the column(s) {', '.join(missing)} that "
                "required fields need"
            )
        used = set(profile.columns)
        twice = sorted({n for n in header if n in used and header.count(n) > 1})
        if twice:
            problems.append(f"{where}: column(s) {', '.join(twice)} appear twice in the header")
        rows = loaded.height - (header_row - loaded.start[0]) - 1
        tables.append(
            Table(name, loaded, header_row, first_column, _unique(header, first_column), rows)
        )
    if problems:
        raise WorkbookError("; ".join(problems))
    total = sum(t.rows for t in tables)
    if max_rows and total > max_rows:
        raise WorkbookError(
            f"{path} holds {total:,} rows below its header(s), more than the {max_rows:,} an "
            "import takes at once: split the workbook, or raise the limit with --max-rows N "
            "(0: none)"
        )
    errors = error_cells(path, [t.name for t in tables])
    for table in tables:
        table.errors = errors.get(table.name, {})
        table.merged = _merged(table)
    return tables


def _merged(table: Table) -> dict[int, list[tuple[int, tuple[int, int]]]]:
    """Row → (column, anchor cell) for merged cells below the header: a value merged over
    several rows (a 承办单位 for a group of work orders) belongs to each of them."""
    out: dict[int, list[tuple[int, tuple[int, int]]]] = {}
    for (top, left), (bottom, right) in table.sheet.merged_cell_ranges or ():
        if top <= table.header_row:
            continue
        for row in range(top, bottom + 1):
            for column in range(left, right + 1):
                if (row, column) != (top, left):
                    out.setdefault(row, []).append((column, (top, left)))
    return out


def table_rows(table: Table) -> Iterator[tuple[int, list[Any]]]:
    """(0-based absolute row, cells from the table's first column) of each row below the
    header with a value of its own, merged values filled in."""
    anchors: dict[tuple[int, int], Any] = {}
    first = table.first_column
    by_row: dict[int, set[int]] = {}
    for spans in table.merged.values():
        for _, (row, column) in spans:
            by_row.setdefault(row, set()).add(column)
    for index, cells in enumerate(table.sheet.iter_rows()):
        if index <= table.header_row or _is_empty(cells):
            continue  # a row with nothing of its own is no record, merged cells or not
        if by_row:
            for column in by_row.get(index, ()):
                if column - first < len(cells):
                    anchors[(index, column)] = cells[column - first]
            fills = table.merged.get(index)
            if fills:
                cells = list(cells)
                for column, anchor in fills:
                    if column - first < len(cells) and anchor in anchors:
                        cells[column - first] = anchors[anchor]
        yield index, cells


def shown(value: Any) -> Any:
    """A cell JSON has no type for (``json.dumps``'s ``default``, for the dead letter's raw
    record): dates, times and durations as ISO text."""
    return text_of(value)


__all__ = [
    "MAX_ROWS",
    "SheetNotFound",
    "Table",
    "WorkbookError",
    "column_letter",
    "error_cells",
    "find_tables",
    "open_workbook",
    "shown",
    "table_rows",
]
