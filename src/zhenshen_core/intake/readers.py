"""The built-in channel readers: ``json`` (one case or a list), ``jsonl`` and ``csv``.

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
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from zhenshen_core.plugins.records import IntakeRecord
from zhenshen_core.textio import bad_byte, escaped, json_loads, open_stream, too_deep

MAX_RECORD_CHARS = 1_000_000


def _read_text(source: str) -> str:
    """The whole source; bytes that are not UTF-8 are kept for ``bad_byte`` (one bad record
    must not cost the others)."""
    with open_stream(source) as stream:
        return stream.read()


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def read_json(source: str) -> Iterator[IntakeRecord]:
    """One JSON object, or an array of objects; each array element keeps its line number."""
    text = _read_text(source)
    bad = bad_byte(text)
    if bad is not None:  # one document: where it breaks is all there is to say
        yield IntakeRecord(source, bad.line, "", None, bad.in_record)
        return
    decoder = json.JSONDecoder()
    i = _skip_ws(text, 0)
    if i < len(text) and text[i] == "[":
        i = _skip_ws(text, i + 1)
        if i < len(text) and text[i] == "]":
            return
        while i < len(text):
            line = _line_of(text, i)
            try:
                value, end = _raw_decode(decoder, text, i)
            except json.JSONDecodeError as exc:
                yield IntakeRecord(
                    source,
                    exc.lineno,
                    text[i : i + 2000],
                    None,
                    f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                )
                return
            yield _object_record(source, line, text[i:end], value)
            i = _skip_ws(text, end)
            if i < len(text) and text[i] == ",":
                i = _skip_ws(text, i + 1)
                continue
            if i < len(text) and text[i] == "]":
                return
            yield IntakeRecord(
                source,
                _line_of(text, i),
                text[i : i + 200],
                None,
                f"malformed JSON at line {_line_of(text, i)}: expected ',' or ']'",
            )
            return
        return
    try:
        value = json_loads(text)
    except json.JSONDecodeError as exc:
        yield IntakeRecord(
            source,
            exc.lineno,
            text[:2000],
            None,
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
        )
        return
    yield _object_record(source, 1, text, value)


def _raw_decode(decoder: json.JSONDecoder, text: str, i: int) -> tuple[Any, int]:
    try:
        return decoder.raw_decode(text, i)
    except RecursionError:  # as deep as the parser can go: a syntax error like any other
        raise too_deep(text, i) from None


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


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
            if not stripped:
                continue
            bad = bad_byte(stripped)
            if bad is not None:
                yield IntakeRecord(source, number, escaped(stripped), None, bad.in_record)
                continue
            if len(stripped) > MAX_RECORD_CHARS:
                yield IntakeRecord(
                    source,
                    number,
                    stripped[:2000],
                    None,
                    f"record longer than {MAX_RECORD_CHARS} characters",
                )
                continue
            try:
                value = json_loads(stripped)
            except json.JSONDecodeError as exc:
                yield IntakeRecord(
                    source,
                    number,
                    stripped,
                    None,
                    f"malformed JSON at column {exc.colno}: {exc.msg}",
                )
                continue
            yield _object_record(source, number, stripped, value)


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
        except json.JSONDecodeError:
            return cell
    if column.endswith((".anonymous", ".confidential")):
        return cell.strip().lower() in {"1", "true", "yes", "y", "是"}
    return cell


def csv_row_to_mapping(row: Mapping[str, str]) -> dict[str, Any]:
    """Dotted headers (``enterprise.uscc``, ``facts.amount_wan``) build nested fields.

    ``departments`` is ``id:role;id:role``; list columns use ``;`` or ``|``; empty cells are
    left out so the model's defaults apply.
    """
    data: dict[str, Any] = {}
    for column, cell in row.items():
        if column is None or cell is None or cell.strip() == "":
            continue
        key = column.strip()
        value = _csv_value(key, cell.strip())
        target = data
        parts = key.split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return data


def _header_problem(columns: Sequence[str]) -> str | None:
    """Columns must name case fields (the part before the first dot for nested ones)."""
    from zhenshen_core.model.case import Case

    known = set(Case.model_fields)
    unknown = [c for c in columns if c.strip().split(".", 1)[0] not in known]
    if not unknown:
        return None
    hints = []
    for column in unknown:
        close = difflib.get_close_matches(column.strip().split(".", 1)[0], sorted(known), n=1)
        hints.append(f"{column!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return (
        f"CSV header has column(s) that are not case fields: {', '.join(hints)}; "
        "use the case model's field names, dotted for nested ones (enterprise.uscc)"
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
    for line, row in _csv_rows(reader):
        if isinstance(row, csv.Error):  # e.g. a field over the csv module's size limit
            yield IntakeRecord(source, line, "", None, f"unreadable CSV row: {row}")
            continue
        raw = ",".join(v or "" for v in row.values() if isinstance(v, str))
        bad = bad_byte(raw)
        if bad is not None:
            yield IntakeRecord(source, line, escaped(raw), None, bad.problem)
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
        yield IntakeRecord(source, line, raw, csv_row_to_mapping(row))


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
