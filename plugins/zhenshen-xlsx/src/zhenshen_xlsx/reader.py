"""The ``xlsx`` channel: a workbook's rows, mapped to case drafts by a profile.

Every row is a record located at its cell (``book.xlsx!Sheet1!A12``; a rejected row at the
cell that failed, ``F12``). The workbook is opened and every selected sheet's table checked
before the first row is handed over, so a workbook that cannot be read stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zhenshen_core.errors import IntakeError
from zhenshen_core.intake import json_record
from zhenshen_core.intake.profiles import MappingError, Profile, load_profile
from zhenshen_core.plugins import ChannelOption, FieldTrace, IntakeReader, IntakeRecord
from zhenshen_xlsx.workbook import (
    MAX_ROWS,
    Table,
    WorkbookError,
    column_letter,
    find_tables,
    open_workbook,
    shown,
    table_rows,
)

if TYPE_CHECKING:
    from python_calamine import CalamineWorkbook

CHANNEL = "xlsx"
#: The case channel of a workbook's rows unless its profile or a column says otherwise.
CASE_CHANNEL = "batch_import"

OPTIONS = (
    ChannelOption(
        "profile",
        "mapping profile (YAML) for the workbook's headers; default: the layout "
        "'zhenshen export xlsx' writes",
        "PROFILE.yaml",
    ),
    ChannelOption("sheet", "read only this sheet (default: every visible sheet)", "NAME"),
    ChannelOption(
        "max-rows",
        f"refuse a workbook with more rows than this (default {MAX_ROWS:,}; 0: no limit)",
        "N",
    ),
)


class BadOption(IntakeError):
    """A channel option with a value the channel cannot use (a usage error)."""

    exit_code = 2


def default_profile_path() -> Path:
    """The profile of the layout ``zhenshen export xlsx`` writes (Chinese headers)."""
    return Path(str(resources.files("zhenshen_xlsx") / "profiles" / "desk.yaml"))


def profile_option(options: Mapping[str, str], default: Path, channel: str) -> Profile:
    """The profile ``--profile`` names (checked; every problem listed), or ``default``."""
    given = options.get("profile")
    if given is None:
        return load_profile(default, channel=channel, display=f"(built-in) {default.name}")
    if not Path(given).is_file():
        raise BadOption(f"--profile: no such file: {given}")
    return load_profile(given, channel=channel)


def _max_rows(options: Mapping[str, str]) -> int:
    text = options.get("max-rows")
    if text is None:
        return MAX_ROWS
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise BadOption(f"--max-rows: expected a whole number (0: no limit), got {text!r}")
    return value


class XlsxReader:
    """The channel as set up for one ingest. ``count`` and ``read`` share one opened
    workbook, so the progress total costs no second read of the file."""

    def __init__(self, profile: Profile, sheet: str | None = None, max_rows: int = MAX_ROWS):
        self.profile = profile
        self.sheet = sheet
        self.max_rows = max_rows
        self._opened: dict[str, tuple[CalamineWorkbook, list[Table]]] = {}

    def tables(self, source: str) -> tuple[CalamineWorkbook, list[Table]]:
        """The workbook and its checked tables (kept for the ``read`` that follows a
        ``count``)."""
        if source == "-":
            raise WorkbookError("the xlsx channel reads a workbook file, not standard input")
        found = self._opened.get(source)
        if found is None:
            workbook = open_workbook(source)
            found = (
                workbook,
                find_tables(
                    source, workbook, self.profile, sheet=self.sheet, max_rows=self.max_rows
                ),
            )
            self._opened[source] = found
        return found

    def count(self, source: str) -> int:
        return sum(t.rows for t in self.tables(source)[1])

    def read(self, source: str) -> Iterator[IntakeRecord]:
        workbook, tables = self.tables(source)
        try:
            for table in tables:
                yield from records(source, table, self.profile)
        finally:
            self._opened.pop(source, None)
            workbook.close()

    def explain(self, record: IntakeRecord) -> list[FieldTrace]:
        return self.profile.trace(json.loads(record.raw))

    def from_raw(self, raw: str, source: str, line: int | None) -> IntakeRecord:
        return row_record(raw, source, line, self.profile)

    def intake_reader(self) -> IntakeReader:
        return IntakeReader(self.read, self.count, self.explain, self.from_raw)


def row_record(raw: str, source: str, line: int | None, profile: Profile) -> IntakeRecord:
    """One row from its own text (the JSON object of its columns that every row record keeps
    as ``raw``), mapped by ``profile``: how a dead letter is sent again once the profile or the
    data is fixed, and how a queue message holding one row is read."""
    record = json_record(raw, source, line)
    if record.data is None:
        return record
    try:
        data = profile.map(record.data)
    except MappingError as exc:
        return IntakeRecord(source, line, record.raw, None, str(exc))
    return IntakeRecord(source, line, record.raw, data)


def records(source: str, table: Table, profile: Profile) -> Iterator[IntakeRecord]:
    """The records of one table, each at its cell."""
    names = table.names
    index_of = {name: i for i, name in enumerate(names) if name}
    columns = set(profile.columns)
    used = [i for i, name in enumerate(names) if name in columns]
    errors = table.errors
    first = table.first_column
    prefix = f"{source}!{table.name}!"
    where_row = column_letter(first)
    for row_index, cells in table_rows(table):
        row = {name: cell for name, cell in zip(names, cells, strict=False) if name}
        raw = json.dumps(row, ensure_ascii=False, default=shown)
        line = row_index + 1
        if errors:
            bad = [
                (i, errors[(row_index, first + i)])
                for i in used
                if (row_index, first + i) in errors
            ]
            if bad:
                index = bad[0][0]
                cells_named = ", ".join(
                    f"{table.cell(row_index, i)} ({names[i]}) holds the formula error {e}"
                    for i, e in bad
                )
                yield IntakeRecord(
                    source,
                    line,
                    raw,
                    None,
                    f"{cells_named}: fix the formula in the workbook, or type the value",
                    prefix + table.cell(row_index, index),
                )
                continue
        try:
            data = profile.map(row)
        except MappingError as exc:
            column = next((p.columns[0] for p in exc.problems if p.columns), None)
            index = index_of.get(column, 0) if column is not None else 0
            yield IntakeRecord(
                source, line, raw, None, str(exc), prefix + table.cell(row_index, index)
            )
            continue
        yield IntakeRecord(source, line, raw, data, None, f"{prefix}{where_row}{line}")


def configure(options: Mapping[str, str]) -> IntakeReader:
    """``zhenshen ingest xlsx FILE [--profile P] [--sheet NAME] [--max-rows N]``."""
    profile = profile_option(options, default_profile_path(), CASE_CHANNEL)
    return XlsxReader(profile, options.get("sheet"), _max_rows(options)).intake_reader()


def _default(source: str) -> Iterator[IntakeRecord]:
    return configure({}).read(source)


def _count(source: str) -> int:
    count = configure({}).count
    assert count is not None
    return count(source)


def _from_raw(raw: str, source: str, line: int | None) -> IntakeRecord:
    return XlsxReader(_default_profile()).from_raw(raw, source, line)


def _default_profile() -> Profile:
    return profile_option({}, default_profile_path(), CASE_CHANNEL)


def channel_parts() -> dict[str, Any]:
    """The pieces of the ``xlsx`` IntakeChannel record."""
    return {
        "read": _default,
        "count": _count,
        "options": OPTIONS,
        "configure": configure,
        "from_raw": _from_raw,
    }


__all__ = [
    "CASE_CHANNEL",
    "CHANNEL",
    "OPTIONS",
    "BadOption",
    "XlsxReader",
    "configure",
    "default_profile_path",
    "profile_option",
    "records",
    "row_record",
]
