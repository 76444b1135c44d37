"""The ``12345`` channel: a 12345 platform's own work orders, mapped by a profile.

The export's format comes from the file's extension: ``.json`` (an array of work orders, or
one), ``.jsonl``/``.ndjson`` (one per line; also standard input, ``-``), ``.csv`` (a header
row, found below any title rows as in a workbook) and ``.xlsx`` (read by the xlsx channel's
workbook reader: merged title rows, formula errors, rows located at their cell). Every record
keeps its source row as JSON in ``raw``, so a dead letter can be mapped again once the profile
or the data is fixed, and ``--dry-run`` can trace it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from zhenshen_xlsx.reader import BadOption, XlsxReader, profile_option, row_record
from zhenshen_xlsx.workbook import MAX_ROWS

from zhenshen_core.builtin.intake import count_jsonl, count_records, read_json, read_jsonl
from zhenshen_core.errors import IntakeError
from zhenshen_core.intake import swallowed_record
from zhenshen_core.intake.profiles import MappingError, Profile
from zhenshen_core.plugins import ChannelOption, FieldTrace, IntakeReader, IntakeRecord
from zhenshen_core.textio import bad_byte, escaped, open_stream

CHANNEL = "12345"
#: The case channel of a work order unless the profile says otherwise.
CASE_CHANNEL = "hotline_12345"

OPTIONS = (
    ChannelOption(
        "profile",
        "mapping profile (YAML) of the platform's export; default: the built-in profile of "
        "a common export layout (工单编号, 来电时间, 诉求类型 …)",
        "PROFILE.yaml",
    ),
    ChannelOption("sheet", "for an .xlsx export: read only this sheet", "NAME"),
)

FORMATS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
}


def default_profile_path() -> Path:
    """The built-in profile: a common 12345 export layout."""
    return Path(str(resources.files("zhenshen_12345") / "profiles" / "default.yaml"))


def format_of(source: str) -> str:
    """``json``, ``jsonl``, ``csv`` or ``xlsx`` from the file name (standard input: JSONL)."""
    if source == "-":
        return "jsonl"
    found = FORMATS.get(Path(source).suffix.lower())
    if found is None:
        known = ", ".join(FORMATS)
        raise IntakeError(
            f"cannot tell the format of {source} from its extension; the 12345 channel reads "
            f"{known} (standard input '-' as JSON Lines)"
        )
    return found


def _mapped(records: Iterator[IntakeRecord], profile: Profile) -> Iterator[IntakeRecord]:
    """Records whose ``data`` is the source object, mapped by the profile."""
    for record in records:
        if record.error is not None or record.data is None:
            yield record
            continue
        try:
            data = profile.map(record.data)
        except MappingError as exc:
            yield IntakeRecord(record.source, record.line, record.raw, None, str(exc))
            continue
        yield IntakeRecord(record.source, record.line, record.raw, data)


def _csv_rows(text: str) -> Iterator[tuple[int, list[str] | csv.Error]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, exc
            continue
        yield reader.line_num, cells


def read_csv(source: str, profile: Profile) -> Iterator[IntakeRecord]:
    """A CSV export: the header is the first row (of the first ``header_search`` with
    content) holding the most of the profile's columns; title rows above it are skipped."""
    with open_stream(source) as stream:
        text = stream.read()
    rows = _csv_rows(text)
    seen: list[tuple[int, list[str] | csv.Error]] = []
    header: tuple[int, list[str]] | None = None
    best = 0
    for line, cells in rows:
        seen.append((line, cells))
        if isinstance(cells, csv.Error) or not any(c.strip() for c in cells):
            continue
        score = profile.header_score(cells)
        if score > best:
            header, best = (line, cells), score
        if sum(1 for _, c in seen if not isinstance(c, csv.Error)) >= profile.spec.header_search:
            break
    if header is None:
        raise IntakeError(
            f"{source}: no row among its first {profile.spec.header_search} holds a column of "
            f"the profile ({', '.join(profile.columns[:6])} …)"
        )
    header_line, header_cells = header
    names = profile.header_names(header_cells)
    missing = profile.missing_columns(names)
    if missing:
        raise IntakeError(
            f"{source}:{header_line}: the header row lacks the column(s) {', '.join(missing)} "
            "that required fields need"
        )
    used = set(profile.columns)
    twice = sorted({n for n in names if n in used and names.count(n) > 1})
    if twice:
        raise IntakeError(f"{source}:{header_line}: column(s) {', '.join(twice)} appear twice")
    pending = [(line, cells) for line, cells in seen if line > header_line]
    received = profile.spec.fields.get("received_at")
    dates = [i for i, name in enumerate(names) if received and name in received.source]
    end = header_line  # where the previous row ended

    def remaining() -> Iterator[tuple[int, list[str] | csv.Error]]:
        yield from pending
        yield from rows

    for line, cells in remaining():
        first, end = end + 1, line
        if isinstance(cells, csv.Error):
            yield IntakeRecord(source, line, "", None, f"unreadable CSV row: {cells}")
            continue
        if not any(c.strip() for c in cells):
            continue
        joined = ",".join(cells)
        bad = bad_byte(joined)
        if bad is not None:
            yield IntakeRecord(source, line, escaped(joined), None, bad.problem)
            continue
        swallowed = swallowed_record(cells, names, dates)
        if swallowed is not None:
            problem = f"lines {first}-{line}: {swallowed}"
            yield IntakeRecord(source, first, joined, None, problem)
            continue
        if len(cells) > len(names):
            yield IntakeRecord(
                source,
                line,
                joined,
                None,
                f"row has {len(cells)} cells but the header has {len(names)}",
            )
            continue
        row = {name: cell for name, cell in zip(names, cells, strict=False) if name}
        raw = json.dumps(row, ensure_ascii=False)
        try:
            data = profile.map(row)
        except MappingError as exc:
            yield IntakeRecord(source, line, raw, None, str(exc))
            continue
        yield IntakeRecord(source, line, raw, data)


class WorkOrderReader:
    """The channel as set up for one ingest: a profile and, for workbooks, a sheet."""

    def __init__(self, profile: Profile, sheet: str | None = None) -> None:
        self.profile = profile
        self.workbooks = XlsxReader(profile, sheet, MAX_ROWS)

    def read(self, source: str) -> Iterator[IntakeRecord]:
        kind = format_of(source)
        if kind == "json":
            return _mapped(read_json(source), self.profile)
        if kind == "jsonl":
            return _mapped(read_jsonl(source), self.profile)
        if kind == "csv":
            return read_csv(source, self.profile)
        return self.workbooks.read(source)

    def count(self, source: str) -> int:
        kind = format_of(source)
        if kind == "xlsx":
            return self.workbooks.count(source)
        if kind == "json":
            return count_records(read_json)(source)
        return count_jsonl(source)  # lines with content: the CSV's header and titles too

    def explain(self, record: IntakeRecord) -> list[FieldTrace]:
        row: Any = json.loads(record.raw)
        if not isinstance(row, Mapping):
            return []
        return self.profile.trace({str(k): v for k, v in row.items()})

    def from_raw(self, raw: str, source: str, line: int | None) -> IntakeRecord:
        """One work order from its own text: a JSON object of the platform's fields (a queue
        message's body, or a dead letter's ``raw`` sent again)."""
        return row_record(raw, source, line, self.profile)

    def intake_reader(self) -> IntakeReader:
        return IntakeReader(self.read, self.count, self.explain, self.from_raw)


def configure(options: Mapping[str, str]) -> IntakeReader:
    """``zhenshen ingest 12345 FILE [--profile P] [--sheet NAME]``."""
    profile = profile_option(options, default_profile_path(), CASE_CHANNEL)
    return WorkOrderReader(profile, options.get("sheet")).intake_reader()


def _default_read(source: str) -> Iterator[IntakeRecord]:
    return configure({}).read(source)


def _default_count(source: str) -> int:
    count = configure({}).count
    assert count is not None
    return count(source)


def _default_from_raw(raw: str, source: str, line: int | None) -> IntakeRecord:
    from_raw = configure({}).from_raw
    assert from_raw is not None
    return from_raw(raw, source, line)


def channel_parts() -> dict[str, Any]:
    """The pieces of the ``12345`` IntakeChannel record."""
    return {
        "read": _default_read,
        "count": _default_count,
        "options": OPTIONS,
        "configure": configure,
        "from_raw": _default_from_raw,
    }


__all__ = [
    "CASE_CHANNEL",
    "CHANNEL",
    "OPTIONS",
    "BadOption",
    "WorkOrderReader",
    "configure",
    "default_profile_path",
    "format_of",
    "read_csv",
]
