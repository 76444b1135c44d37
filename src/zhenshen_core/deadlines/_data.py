"""Calendar data files: reading, validating and hashing them.

Data is YAML so that a district clerk can read and review it; every problem is reported with
``file:line:col`` because the person fixing it is editing a text file, not reading a traceback.
The content hash (not the file bytes) is the version, so reformatting or commenting a file does
not make stored deadlines look stale, while any change to a day does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from zhenshen_core.deadlines._errors import CalendarDataError, DataProblem
from zhenshen_core.echo import kind_of, shown, shown_key
from zhenshen_core.textio import (
    TOO_DEEP,
    TOO_MANY_VALUES,
    NotUtf8Error,
    read_text,
    too_many_values,
)
from zhenshen_core.yamldata import DataOnlyConstructor


class DayKind(StrEnum):
    """What a data entry says about a day."""

    REST = "rest"  # a holiday or other official rest day, whatever the weekday
    WORK = "work"  # a working day, typically a make-up weekend day (调休上班)


@dataclass(frozen=True, slots=True)
class Notice:
    """The instrument a day comes from, e.g. 国办发明电〔2025〕7号."""

    id: str
    title: str = ""
    date: date | None = None


@dataclass(frozen=True, slots=True)
class DayEntry:
    """One day that differs from the plain Monday-Friday rule."""

    day: date
    kind: DayKind
    name: str = ""
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class CalendarLayer:
    """The content of one data file: days that override the layer below, with their sources.

    ``known_until`` (optional) says the layer completes the calendar up to that day, which is
    how next year's notice can be added before a library release.
    """

    name: str
    days: tuple[DayEntry, ...]
    notices: tuple[Notice, ...] = ()
    known_until: date | None = None
    year: int | None = None
    source: str = ""
    digest: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(
                self, "digest", content_digest(self.name, self.days, self.known_until)
            )


def content_digest(name: str, days: Iterable[DayEntry], known_until: date | None) -> str:
    """sha256 over the meaning of the data, independent of layout, comments and order."""
    payload = {
        "name": name,
        "known_until": known_until.isoformat() if known_until else None,
        "days": sorted([d.day.isoformat(), d.kind.value, d.name, d.notice or ""] for d in days),
    }
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


_TOP_KEYS = {
    "year",
    "name",
    "title",
    "description",
    "notices",
    "holidays",
    "rest_days",
    "workdays",
    "known_until",
    "first_day",
    "kind",
}
_ENTRY_KEYS = {"date", "from", "to", "name", "notice"}

#: The largest calendar data file (characters): a year's notice is 2 KB, and ruamel reads
#: this much in about a second.
MAX_CALENDAR_CHARS = 200_000
#: The longest ``from``/``to`` range of one entry: no holiday or closure lasts longer, and a
#: range of ten thousand years would build millions of days.
MAX_SPAN_DAYS = 366


class _TextDateConstructor(DataOnlyConstructor):
    """Keeps dates as text so an impossible date (2026-13-01) becomes a located problem."""


_TextDateConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),
)


class _Reader:
    """Collects located problems while walking a ruamel round-trip document."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[DataProblem] = []

    def at(self, node: Any, key: Any = None, index: int | None = None) -> tuple[int, int]:
        lc = getattr(node, "lc", None)
        try:
            if lc is not None and key is not None:
                line, col = lc.key(key)
                return line + 1, col + 1
            if lc is not None and index is not None:
                line, col = lc.item(index)
                return line + 1, col + 1
            if lc is not None:
                return lc.line + 1, lc.col + 1
        except (KeyError, IndexError, TypeError):
            pass
        return 1, 1

    def value_at(self, node: Any, key: Any) -> tuple[int, int]:
        lc = getattr(node, "lc", None)
        try:
            line, col = lc.value(key)  # type: ignore[union-attr]
            return line + 1, col + 1
        except (AttributeError, KeyError, TypeError):
            return self.at(node, key)

    def problem(self, where: tuple[int, int], message: str) -> None:
        self.problems.append(DataProblem(self.path, where[0], where[1], message))

    def as_date(self, node: Any, key: str) -> date | None:
        value = node.get(key)
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        what = shown(value) if isinstance(value, str | int | float) else kind_of(value)
        self.problem(self.value_at(node, key), f"{key!r} must be a date YYYY-MM-DD, not {what}")
        return None


def _span(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def parse_calendar_text(text: str, path: str = "<string>") -> CalendarLayer:
    """Parse and validate calendar data; raise :class:`CalendarDataError` with every problem."""
    if len(text) > MAX_CALENDAR_CHARS:
        raise CalendarDataError(
            [DataProblem(path, 1, 1, f"larger than {MAX_CALENDAR_CHARS:,} characters (the limit)")]
        )
    reader = _Reader(path)
    yaml = YAML(typ="rt")
    yaml.Constructor = _TextDateConstructor
    try:
        doc = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise CalendarDataError(
            [DataProblem(path, line, col, f"not valid YAML: {exc.problem or exc}")]
        ) from None
    except RecursionError:  # the YAML parser recurses once per level of nesting
        raise CalendarDataError([DataProblem(path, 1, 1, f"not valid YAML: {TOO_DEEP}")]) from None
    if too_many_values(doc):
        raise CalendarDataError([DataProblem(path, 1, 1, TOO_MANY_VALUES)])
    if not isinstance(doc, dict):
        raise CalendarDataError(
            [
                DataProblem(
                    path, 1, 1, "a calendar file must be a mapping with 'holidays'/'workdays'"
                )
            ]
        )
    for key in doc:
        if key not in _TOP_KEYS:
            reader.problem(
                reader.at(doc, key),
                f"unknown key {shown_key(key)}; allowed: {', '.join(sorted(_TOP_KEYS))}",
            )
    year = doc.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        what = shown(year) if isinstance(year, str | float) else kind_of(year)
        reader.problem(reader.value_at(doc, "year"), f"'year' must be a number, not {what}")
        year = None
    name = str(doc.get("name") or (f"cn-{year}" if year else Path(path).stem))
    known_until = reader.as_date(doc, "known_until") if "known_until" in doc else None

    notices: list[Notice] = []
    raw_notices = doc.get("notices") or []
    if not isinstance(raw_notices, list):
        reader.problem(reader.value_at(doc, "notices"), "'notices' must be a list")
        raw_notices = []
    for i, item in enumerate(raw_notices):
        if not isinstance(item, dict) or not item.get("id"):
            reader.problem(reader.at(raw_notices, index=i), "a notice needs at least an 'id'")
            continue
        issued = reader.as_date(item, "date") if "date" in item else None
        notices.append(Notice(str(item["id"]), str(item.get("title") or ""), issued))
    notice_ids = {n.id for n in notices}

    seen: dict[date, tuple[DayKind, tuple[int, int]]] = {}
    days: list[DayEntry] = []
    sections = [("holidays", DayKind.REST), ("rest_days", DayKind.REST), ("workdays", DayKind.WORK)]
    for section, kind in sections:
        entries = doc.get(section)
        if entries is None:
            continue
        if not isinstance(entries, list):
            reader.problem(reader.value_at(doc, section), f"{section!r} must be a list")
            continue
        for i, entry in enumerate(entries):
            where = reader.at(entries, index=i)
            if not isinstance(entry, dict):
                reader.problem(where, f"each {section} entry must be a mapping with 'date'")
                continue
            for key in entry:
                if key not in _ENTRY_KEYS:
                    reader.problem(
                        reader.at(entry, key),
                        f"unknown key {shown_key(key)} in a day entry; allowed: "
                        f"{', '.join(sorted(_ENTRY_KEYS))}",
                    )
            if "date" in entry:
                one = reader.as_date(entry, "date")
                first, last = one, one
            elif "from" in entry and "to" in entry:
                first, last = reader.as_date(entry, "from"), reader.as_date(entry, "to")
                if first and last and last < first:
                    reader.problem(
                        reader.value_at(entry, "to"), f"'to' {last} is before 'from' {first}"
                    )
                    continue
                if first and last and (last - first).days + 1 > MAX_SPAN_DAYS:
                    reader.problem(
                        reader.value_at(entry, "to"),
                        f"a range of {(last - first).days + 1:,} days; one entry spans at most "
                        f"{MAX_SPAN_DAYS} days",
                    )
                    continue
            else:
                reader.problem(where, "a day entry needs 'date' or both 'from' and 'to'")
                continue
            if first is None or last is None:
                continue
            notice = entry.get("notice")
            if notice is not None and notices and str(notice) not in notice_ids:
                reader.problem(
                    reader.value_at(entry, "notice"),
                    f"notice {shown(notice)} is not declared under 'notices' "
                    f"(declared: {', '.join(sorted(notice_ids))})",
                )
            if kind is DayKind.WORK and first != last:
                reader.problem(where, "workdays are listed one 'date' at a time")
                continue
            for day in _span(first, last):
                if year is not None and not (date(year - 1, 12, 1) <= day <= date(year, 12, 31)):
                    reader.problem(
                        where,
                        f"{day} is outside the notice year {year} (only December of the year "
                        "before may hold cross-year days)",
                    )
                    break
                if day in seen:
                    prev_kind, prev_where = seen[day]
                    what = "listed twice" if prev_kind is kind else "both a rest day and a workday"
                    reader.problem(where, f"{day} is {what} (first at line {prev_where[0]})")
                    continue
                seen[day] = (kind, where)
                days.append(
                    DayEntry(
                        day,
                        kind,
                        str(entry.get("name") or ""),
                        str(notice) if notice is not None else None,
                    )
                )
    if reader.problems:
        raise CalendarDataError(reader.problems)
    return CalendarLayer(
        name=name,
        days=tuple(sorted(days, key=lambda d: d.day)),
        notices=tuple(notices),
        known_until=known_until,
        year=year,
        source=path,
    )


def load_calendar_file(path: str | Path) -> CalendarLayer:
    """Load one calendar data file (a year's notice, a province's or district's overrides)."""
    p = Path(path)
    try:
        if p.exists() and not p.is_file():
            raise CalendarDataError([DataProblem(str(p), 1, 1, "not a regular file")])
        if p.stat().st_size > 4 * MAX_CALENDAR_CHARS:  # 4 bytes a character at most in UTF-8
            too_large = f"larger than {MAX_CALENDAR_CHARS:,} characters (the limit)"
            raise CalendarDataError([DataProblem(str(p), 1, 1, too_large)])
        text = read_text(p)
    except OSError as exc:
        raise CalendarDataError([DataProblem(str(p), 1, 1, f"cannot read file: {exc}")]) from None
    except NotUtf8Error as exc:
        where = exc.where
        problem = DataProblem(str(p), where.line, where.column, where.problem)
        raise CalendarDataError([problem]) from None
    return parse_calendar_text(text, str(p))


@dataclass(frozen=True, slots=True)
class NationalData:
    """Everything shipped for the national calendar, loaded once."""

    name: str
    first_day: date
    known_until: date
    years: tuple[CalendarLayer, ...]
    version: str


def _data_dir() -> Any:
    return resources.files("zhenshen_core.deadlines").joinpath("data").joinpath("cn")


def load_national_data() -> NationalData:
    """Read the packaged national data; the version hashes every year's content together."""
    base = _data_dir()
    yaml = YAML(typ="safe")
    meta = yaml.load(base.joinpath("calendar.yaml").read_text(encoding="utf-8"))
    years: list[CalendarLayer] = []
    for item in sorted(base.iterdir(), key=lambda t: t.name):
        stem = item.name.removesuffix(".yaml")
        if item.name.endswith(".yaml") and stem.isdigit():
            years.append(parse_calendar_text(item.read_text(encoding="utf-8"), f"cn/{item.name}"))
    known_until = meta["known_until"]
    digest = hashlib.sha256()
    digest.update(f"{meta['name']}|{meta['first_day']}|{known_until}".encode())
    for layer_ in years:
        digest.update(layer_.digest.encode())
    return NationalData(
        name=str(meta["name"]),
        first_day=meta["first_day"],
        known_until=known_until,
        years=tuple(years),
        version=digest.hexdigest(),
    )
