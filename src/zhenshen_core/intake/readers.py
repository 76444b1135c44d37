"""The built-in channel readers: ``json`` (one case or a list, streamed by
:mod:`~zhenshen_core.intake.jsonstream`), ``jsonl`` and ``csv``.

Readers only split a source into records and parse each one; validation against the case
model happens in :mod:`zhenshen_core.intake.pipeline`, so every channel's bad records reach the
dead-letter store the same way, with the line they came from. They are registered as channels by the
internal plugin :mod:`zhenshen_core.builtin.intake`; a plugin's own channel may reuse them
(``count_jsonl``, ``count_records``, ``csv_row_to_mapping``).
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from zhenshen_core.intake.jsonstream import MAX_RECORD_CHARS as MAX_RECORD_CHARS
from zhenshen_core.intake.jsonstream import read_json as read_json
from zhenshen_core.plugins.records import IntakeRecord
from zhenshen_core.textio import NumberTooLong, bad_byte, escaped, json_loads, open_stream


def _read_text(source: str) -> str:
    """The whole source; bytes that are not UTF-8 are kept for ``bad_byte`` (one bad record
    must not cost the others)."""
    with open_stream(source) as stream:
        return stream.read()


def _object_record(source: str, line: int | None, raw: str, value: Any) -> IntakeRecord:
    if not isinstance(value, dict):
        return IntakeRecord(
            source,
            line,
            raw,
            None,
            f"expected a JSON object for a case, got {type(value).__name__}",
        )
    return IntakeRecord(source, line, raw, value)


def read_jsonl(source: str) -> Iterator[IntakeRecord]:
    """One JSON object per line; blank lines are skipped, a bad line is one rejected record."""
    with open_stream(source) as stream:
        for number, line in enumerate(stream, start=1):
            stripped = line.strip()
            if stripped:
                yield json_record(stripped, source, number)


def json_record(raw: str, source: str, line: int | None) -> IntakeRecord:
    """One JSON case object from its own text: a line of JSON Lines, a queue message's body,
    a dead letter's ``raw`` sent again (the ``from_raw`` of the ``json`` and ``jsonl``
    channels). A text that is not one JSON object is that record's rejection."""
    stripped = raw.strip()
    bad = bad_byte(stripped)
    if bad is not None:
        return IntakeRecord(source, line, escaped(stripped), None, bad.in_record)
    if len(stripped) > MAX_RECORD_CHARS:
        return IntakeRecord(
            source, line, stripped[:2000], None, f"record longer than {MAX_RECORD_CHARS} characters"
        )
    try:
        value = json_loads(stripped)
    except json.JSONDecodeError as exc:
        return IntakeRecord(
            source, line, stripped, None, f"malformed JSON at column {exc.colno}: {exc.msg}"
        )
    return _object_record(source, line, stripped, value)


def count_jsonl(source: str) -> int:
    """The records ``read_jsonl`` will yield: one per non-blank line (a line count, no parse)."""
    with open_stream(source) as stream:
        return sum(1 for line in stream if line.strip())


def count_records(read: Callable[[str], Iterator[IntakeRecord]]) -> Callable[[str], int]:
    """A count by reading: for a single document (CSV, a JSON array), which is parsed whole
    anyway, at a fraction of the cost of validating and storing its records."""

    def count(source: str) -> int:
        return sum(1 for _ in read(source))

    return count


_LIST_FIELDS = {"tags", "enterprise.tags"}


def _csv_value(column: str, cell: str) -> Any:
    if column in _LIST_FIELDS:
        return [t.strip() for t in cell.replace("|", ";").split(";") if t.strip()]
    if column == "departments":
        out = []
        for part in cell.replace("|", ";").split(";"):
            if part.strip():
                dept, _, role = part.strip().partition(":")
                out.append({"id": dept.strip(), "role": role.strip() or "co"})
        return out
    if column.startswith("facts."):
        try:
            return json_loads(cell)
        except NumberTooLong as exc:
            raise ValueError(f"{column}: {exc.msg}") from None
        except json.JSONDecodeError:
            return cell
    if column.endswith((".anonymous", ".confidential")):
        return cell.strip().lower() in {"1", "true", "yes", "y", "是"}
    return cell


def csv_row_to_mapping(row: Mapping[str, str]) -> dict[str, Any]:
    """Dotted headers (``enterprise.uscc``, ``facts.amount_wan``) build nested fields.

    ``departments`` is ``id:role;id:role``; list columns use ``;`` or ``|``; empty cells are
    left out so the model's defaults apply. ``ValueError`` for a row no case can come from
    (a column nested inside another column's value, a facts cell holding an integer too long
    to read): the row's own problem, which a reader reports as that record's.
    """
    data: dict[str, Any] = {}
    for column, cell in row.items():
        if column is None or cell is None or cell.strip() == "":
            continue
        key = column.strip()
        value = _csv_value(key, cell.strip())
        target = data
        parts = key.split(".")
        for depth, part in enumerate(parts[:-1]):
            inner = target.setdefault(part, {})
            if not isinstance(inner, dict):
                outer = ".".join(parts[: depth + 1])
                raise ValueError(f"column {key!r} nests inside column {outer!r}, a value")
            target = inner
        if isinstance(target.get(parts[-1]), dict):
            raise ValueError(f"column {key!r} is also the parent of other columns")
        target[parts[-1]] = value
    return data


def _header_problem(columns: Sequence[str]) -> str | None:
    """Columns must name case fields (the part before the first dot for nested ones), each
    once, and none may be both a value and the parent of other columns."""
    from zhenshen_core.model.case import Case

    known = set(Case.model_fields)
    unknown = [c for c in columns if c.strip().split(".", 1)[0] not in known]
    if unknown:
        hints = []
        for column in unknown:
            close = difflib.get_close_matches(column.strip().split(".", 1)[0], sorted(known), n=1)
            hints.append(f"{column!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        return (
            f"CSV header has column(s) that are not case fields: {', '.join(hints)}; "
            "use the case model's field names, dotted for nested ones (enterprise.uscc)"
        )
    return _header_shape(columns)


def _header_shape(columns: Sequence[str]) -> str | None:
    """A column given twice (the csv module keeps the last cell, silently), an empty part
    (``enterprise.``), or a column that other columns nest in (``enterprise`` beside
    ``enterprise.name``): every row would lose or mix up data, so the header is refused."""
    names = [c.strip() for c in columns]
    seen: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        if name in seen:
            return f"CSV header: column {name!r} is given twice (columns {seen[name]} and {number})"
        seen[name] = number
        if "" in name.split("."):
            return f"CSV header: column {number} ({name!r}) has an empty name or name part"
    for name in names:
        for other in names:
            if other.startswith(name + "."):
                return (
                    f"CSV header: column {other!r} nests inside column {name!r}, which holds "
                    f"a value of its own; keep one of them"
                )
    return None


#: A line inside a quoted field looks like a record of its own when it has the header's
#: cells and its received-at cell starts like a date (2026-03-02, 2026/3/2, 2026年3月2日).
_DATE_START = re.compile(r"\s*\d{4}\s*[-/.年]\s*\d{1,2}")


def swallowed_record(
    cells: Sequence[str], names: Sequence[str], date_columns: Sequence[int] = ()
) -> str | None:
    """What is wrong when a quoted field of a CSV row swallowed the records after it, or None.

    A quote left open (``"broken title``) makes the csv module read on, across line breaks,
    until the next quote: the rows in between become part of one field, and two records
    read as one. A quoted field may hold line breaks for a reason (a complaint's several
    paragraphs), so a field is refused only when a line inside it looks like a record of this
    file: it reads, on its own, as at least as many cells as the header has, and the cells at
    ``date_columns`` (the received-at columns) start like a date. Without a date column, the
    line must have exactly the header's cells, and the header at least three. ``names`` are
    the header's columns, to name the field.
    """
    width = len(names)
    for index, cell in enumerate(cells):
        if "\n" not in cell and "\r" not in cell:
            continue
        lines = cell.splitlines()
        found = [inner for inner in lines[1:] if _looks_like_record(inner, width, date_columns)]
        if found:
            name = names[index] if index < len(names) else f"cell {index + 1}"
            shown = found[0] if len(found[0]) <= 80 else found[0][:77] + "..."
            what = "another record" if len(found) == 1 else f"{len(found)} other records"
            return (
                f"the quoted field {name!r} runs over {len(lines)} lines and holds what looks "
                f"like {what} ({shown!r}): a quote (\") left open swallowed it; close the "
                "quote and send the rows again"
            )
    return None


def _looks_like_record(line: str, width: int, date_columns: Sequence[int]) -> bool:
    if line.count(",") < width - 1:
        return False
    try:
        parts = next(csv.reader([line]), [])
    except csv.Error:
        return False
    if not date_columns:
        return len(parts) == width >= 3
    return len(parts) >= width and all(
        i < len(parts) and _DATE_START.match(parts[i]) is not None for i in date_columns
    )


def read_csv(source: str) -> Iterator[IntakeRecord]:
    """A header row of model field names (dotted for nested ones), then one case per row."""
    text = _read_text(source)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = reader.fieldnames
    except csv.Error as exc:
        yield IntakeRecord(source, 1, "", None, f"unreadable CSV header: {exc}")
        return
    if columns is None:
        return
    header = ",".join(columns)
    bad = bad_byte(header)
    problem = bad.in_record if bad is not None else _header_problem(columns)
    if problem is not None:  # every row would fail the same way: say it once, where it is
        yield IntakeRecord(source, 1, escaped(header), None, problem)
        return
    names = [c.strip() for c in columns]
    dates = [i for i, name in enumerate(names) if name == "received_at"]
    end = reader.line_num  # where the previous row ended
    for line, row in _csv_rows(reader):
        first, end = end + 1, line
        if isinstance(row, csv.Error):  # e.g. a field over the csv module's size limit
            yield IntakeRecord(source, line, "", None, f"unreadable CSV row: {row}")
            continue
        cells = [v for v in row.values() if isinstance(v, str)]
        extra = row.get(None)
        if isinstance(extra, list):
            cells += [v for v in extra if isinstance(v, str)]
        raw = ",".join(cells)
        bad = bad_byte(raw)
        if bad is not None:
            yield IntakeRecord(source, line, escaped(raw), None, bad.problem)
            continue
        swallowed = swallowed_record(cells, names, dates)
        if swallowed is not None:
            yield IntakeRecord(source, first, raw, None, f"lines {first}-{line}: {swallowed}")
            continue
        if None in row:
            yield IntakeRecord(
                source,
                line,
                raw,
                None,
                f"row has {len(row) - 1 + len(row[None])} cells but the header has "
                f"{len(columns)}",
            )
            continue
        try:
            data = csv_row_to_mapping(row)
        except ValueError as exc:
            yield IntakeRecord(source, line, raw, None, str(exc))
            continue
        yield IntakeRecord(source, line, raw, data)


def _csv_rows(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[Any, Any] | csv.Error]]:
    """(line, row) of each row, or (line, the error) for a row the csv module cannot read:
    one bad row is one rejected record, and the reader goes on with the next line."""
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.reader.line_num, exc
            continue
        yield reader.line_num, row
