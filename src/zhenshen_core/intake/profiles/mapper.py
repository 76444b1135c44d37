"""A checked profile compiled into a list of closures, one per field, built once.

Mapping a record then costs one dictionary read and the converters of each field: no profile
is looked up, no format re-parsed, no decision about the field's type taken per record. A
record that fails keeps going through the other fields, so its rejection names every problem
at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from zhenshen_core.intake.profiles.converters import (
    BLANKS,
    CONVERTERS,
    DEFAULT_FORMATS,
    ConversionError,
    Convert,
    DateParser,
    enum_reader,
    fact_value,
    map_gives,
    text_of,
)
from zhenshen_core.intake.profiles.model import (
    Classification,
    ConverterSpec,
    FieldSpec,
    ProfileFile,
)
from zhenshen_core.intake.profiles.targets import CO, LEAD, Kind, Target
from zhenshen_core.model.enums import DepartmentRole
from zhenshen_core.plugins.records import FieldTrace

Row = Mapping[str, Any]
Out = dict[str, Any]


@dataclass(frozen=True)
class FieldProblem:
    """Why one field of a record could not be filled."""

    field: str
    columns: tuple[str, ...]
    value: Any
    message: str

    def __str__(self) -> str:
        if not self.columns:
            return f"{self.field}: {self.message}"
        source = " + ".join(self.columns)
        text = "" if self.value is None else repr(text_of(self.value))
        shown = f" {text}" if text and text not in self.message else ""
        return f"{source}{shown} → {self.field}: {self.message}"


class MappingError(ValueError):
    """A record the profile cannot map; ``problems`` lists every field that failed."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class _Failed(Exception):
    def __init__(self, problem: FieldProblem) -> None:
        self.problem = problem


# --- how a field reads what its converters give ---------------------------------------------

#: Kinds a converter chain may not end in for a field of the key's kind.
INCOMPATIBLE: dict[str, frozenset[str]] = {
    "text": frozenset({"list"}),
    "enum": frozenset({"bool", "datetime", "date", "list"}),
    "datetime": frozenset({"bool", "list"}),
    "date": frozenset({"bool", "list"}),
    "bool": frozenset({"datetime", "date", "list"}),
    "list": frozenset({"bool", "datetime", "date"}),
    "number": frozenset({"bool", "datetime", "date", "list"}),
    "integer": frozenset({"bool", "datetime", "date", "list"}),
    "any": frozenset(),
}


def gives(converter: ConverterSpec) -> Kind:
    """What kind of value ``converter`` gives."""
    if converter.name == "map":
        return map_gives(converter.arg)
    return CONVERTERS[converter.name].gives


def _to_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def field_reader(target: Target, last: Kind | None) -> Convert | None:
    """The reading a field of ``target``'s kind applies after converters that give ``last``
    (None: no converters): codes or labels of an enumeration, default date formats …"""
    kind = target.kind
    if kind == "text":
        return None if last == "text" else text_of
    if kind == "enum":
        return enum_reader(target.choices)
    if kind == "datetime":
        return None if last == "datetime" else DateParser(DEFAULT_FORMATS)
    if kind == "date":
        if last == "date":
            return None
        if last == "datetime":
            return _to_date
        parse = DateParser(DEFAULT_FORMATS)
        return lambda value: parse(value).date()
    if kind == "bool":
        return None if last == "bool" else CONVERTERS["flag"].build(None)
    if kind == "list":
        return None if last == "list" else CONVERTERS["split"].build(None)
    if kind in ("number", "integer"):
        return None if last == kind else CONVERTERS[kind].build(None)
    return fact_value


def chain(target: Target, converters: Sequence[ConverterSpec]) -> list[Convert]:
    """The functions a value of the field goes through, in order."""
    steps = [CONVERTERS[c.name].build(c.arg) for c in converters]
    reader = field_reader(target, gives(converters[-1]) if converters else None)
    if reader is not None:
        steps.append(reader)
    return steps


def read_default(target: Target, value: Any) -> Any:
    """A default as the field keeps it (``help`` for an appeal type, a date for a date-time);
    raises ``ConversionError`` when it cannot be one."""
    reader = field_reader(target, None)
    return value if reader is None else reader(value)


# --- writing into the draft -------------------------------------------------------------------


def _setter(path: str) -> Callable[[Out, Any], None]:
    parts = path.split(".")
    if len(parts) == 1:
        key = parts[0]

        def set_top(out: Out, value: Any) -> None:
            out[key] = value

        return set_top
    if len(parts) == 2:
        outer, inner = parts

        def set_nested(out: Out, value: Any) -> None:
            found = out.get(outer)
            if found is None:
                out[outer] = {inner: value}
            else:
                found[inner] = value

        return set_nested

    def set_deep(out: Out, value: Any) -> None:
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    return set_deep


def get_path(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


_EMPTY = object()


def _first_value(row: Row, columns: tuple[str, ...], join: str) -> Any:
    """The source value of a field: one column's cell, or several columns' texts joined;
    ``_EMPTY`` when there is nothing."""
    if len(columns) == 1:
        value = row.get(columns[0])
        if value is None:
            return _EMPTY
        if type(value) is str:
            value = value.strip(BLANKS)
            if not value:
                return _EMPTY
        return value
    parts = []
    for column in columns:
        value = row.get(column)
        if value is not None:
            text = text_of(value).strip(BLANKS)
            if text:
                parts.append(text)
    return join.join(parts) if parts else _EMPTY


def compile_field(
    path: str, spec: FieldSpec, target: Target, default: Any
) -> Callable[[Row, Out], None]:
    """One field's closure: read its columns, convert, write into the draft."""
    columns = tuple(spec.source)
    steps = chain(target, spec.convert)
    # A text field read as it is (the common case): text stays text without a call.
    text_only = len(steps) == 1 and steps[0] is text_of
    convert = None if text_only else _composed(steps)
    put = _setter(path)
    join = spec.join
    required = spec.required
    column = columns[0] if len(columns) == 1 else None

    def empty(out: Out, value: Any) -> None:
        if default is not None:
            put(out, default)
        elif required:
            why = "is empty and the field is required" if columns else "has no value"
            raise _Failed(FieldProblem(path, columns, value, why))

    def run(row: Row, out: Out) -> None:
        if column is not None:  # the common case, without a call
            value = row.get(column)
            if value is None or (type(value) is str and not (value := value.strip(BLANKS))):
                empty(out, None)
                return
        else:
            value = _first_value(row, columns, join) if columns else _EMPTY
            if value is _EMPTY:
                empty(out, None)
                return
        if text_only:
            if type(value) is not str:
                value = text_of(value)
        elif convert is not None:
            original = value
            try:
                value = convert(value)
            except ConversionError as exc:
                raise _Failed(FieldProblem(path, columns, original, str(exc))) from None
            if value is None or value == "" or value == []:
                empty(out, original)
                return
        put(out, value)

    return run


def _composed(steps: Sequence[Convert]) -> Convert | None:
    """One function for a field's steps (None: the value is kept as read): a call per field,
    not a loop over a tuple of one."""
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]
    ordered = tuple(steps)

    def composed(value: Any) -> Any:
        for step in ordered:
            value = step(value)
        return value

    return composed


def compile_classification(
    spec: Classification,
) -> Callable[[Row, Out], None]:
    """Fills domain, departments and tags from the code, where the fields left them empty."""
    column = spec.source
    steps = tuple(CONVERTERS[c.name].build(c.arg) for c in spec.convert)
    codes = {code.strip(BLANKS): entry for code, entry in spec.codes.items()}
    longest = max((len(c) for c in codes), default=0)
    prefix = spec.match == "prefix"
    reject = spec.unknown == "reject"
    fact = spec.fact
    where = "classification"

    def run(row: Row, out: Out) -> None:
        raw = row.get(column)
        if raw is None:
            return
        code: Any = text_of(raw).strip(BLANKS)
        if not code:
            return
        try:
            for step in steps:
                code = step(code)
        except ConversionError as exc:
            raise _Failed(FieldProblem(where, (column,), raw, str(exc))) from None
        code = text_of(code)
        if fact is not None:
            facts = out.get("facts")
            if facts is None:
                out["facts"] = {fact: code}
            else:
                facts[fact] = code
        entry = codes.get(code)
        if entry is None and prefix:
            for size in range(min(len(code) - 1, longest), 0, -1):
                entry = codes.get(code[:size])
                if entry is not None:
                    break
        if entry is None:
            if reject:
                raise _Failed(
                    FieldProblem(where, (column,), raw, "not a code of the classification table")
                )
            return
        if entry.domain is not None and "domain" not in out:
            out["domain"] = entry.domain
        if entry.lead is not None and LEAD not in out:
            out[LEAD] = entry.lead
        if entry.co and CO not in out:
            out[CO] = list(entry.co)
        if entry.tags:
            tags = out.get("tags") or []
            out["tags"] = [*tags, *(t for t in entry.tags if t not in tags)]

    return run


_LEAD_ROLE = DepartmentRole.LEAD.value
_CO_ROLE = DepartmentRole.CO.value


def _departments(out: Out) -> None:
    lead = out.pop(LEAD, None)
    co = out.pop(CO, None)
    if lead is None and not co:
        return
    departments = [{"id": lead, "role": _LEAD_ROLE}] if lead else []
    departments += [{"id": d, "role": _CO_ROLE} for d in co or () if d != lead]
    out["departments"] = departments


# --- the compiled profile ---------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def header_key(text: Any) -> str:
    """A header cell as compared with a profile's columns: NFKC, no blanks (``来电 时间``,
    ``来电时间\\n`` and full-width forms all match ``来电时间``)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text_of(text))).strip(BLANKS)


class Profile:
    """A checked, compiled mapping profile. Build it with :func:`load_profile`.

    ``map(row)`` turns one source record (column → value) into a case draft for
    :func:`~zhenshen_core.model.load_case`, or raises :class:`MappingError`.
    """

    def __init__(
        self,
        spec: ProfileFile,
        targets: Mapping[str, Target],
        defaults: Mapping[str, Any],
        *,
        source: str = "<profile>",
        channel: str | None = None,
    ) -> None:
        self.spec = spec
        self.source = source
        self.channel = (spec.channel.value if spec.channel else None) or channel
        self._fields = [
            (path, compile_field(path, field, targets[path], defaults.get(path)))
            for path, field in spec.fields.items()
        ]
        self._runs = tuple(run for _, run in self._fields)
        self._classify = (
            compile_classification(spec.classification) if spec.classification else None
        )
        columns: dict[str, None] = {}
        for field in spec.fields.values():
            columns.update(dict.fromkeys(field.source))
        if spec.classification is not None:
            columns[spec.classification.source] = None
        self.columns: tuple[str, ...] = tuple(columns)
        self.required_columns: tuple[str, ...] = tuple(
            dict.fromkeys(
                c
                for f in spec.fields.values()
                if f.required and f.default is None
                for c in f.source
            )
        )
        self._keys = {header_key(c): c for c in self.columns}

    @property
    def name(self) -> str:
        return self.spec.name or self.source

    def map(self, row: Row) -> Out:
        """The case draft of one record; :class:`MappingError` names every field that failed."""
        out: Out = {"channel": self.channel} if self.channel else {}
        problems: list[FieldProblem] | None = None
        for run in self._runs:
            try:
                run(row, out)
            except _Failed as failed:
                problems = [*(problems or ()), failed.problem]
        if self._classify is not None:
            try:
                self._classify(row, out)
            except _Failed as failed:
                problems = [*(problems or ()), failed.problem]
        if problems:
            raise MappingError(problems)
        if LEAD in out or CO in out:
            _departments(out)
        return out

    # --- sources with a header row -----------------------------------------------------------

    def header_names(self, cells: Sequence[Any]) -> list[str]:
        """Each header cell as the profile's column it matches (blank and width differences
        forgiven), or as its own text when it matches none."""
        out = []
        for cell in cells:
            key = header_key(cell)
            out.append(self._keys.get(key, text_of(cell).strip(BLANKS)))
        return out

    def header_score(self, cells: Sequence[Any]) -> int:
        """How many of the profile's columns a row holds (finding the header row)."""
        keys = self._keys
        return len({header_key(c) for c in cells if c not in (None, "")} & keys.keys())

    def missing_columns(self, header: Sequence[str]) -> list[str]:
        """Columns of required fields that ``header`` (as :meth:`header_names` gives it)
        lacks: without them no record of the file can be a case."""
        present = set(header)
        return [c for c in self.required_columns if c not in present]

    # --- explaining ----------------------------------------------------------------------------

    def trace(self, row: Row) -> list[FieldTrace]:
        """For ``--dry-run``: each field's source column(s) and value beside the case value."""
        out: list[FieldTrace] = []
        if self.channel and "channel" not in self.spec.fields:
            out.append(FieldTrace("channel", self.channel, "", None))
        for path, run in self._fields:
            spec = self.spec.fields[path]
            label = " + ".join(spec.source)
            shown = _first_value(row, tuple(spec.source), spec.join) if spec.source else _EMPTY
            source_value = None if shown is _EMPTY else shown
            draft: Out = {}
            try:
                run(row, draft)
            except _Failed as failed:
                out.append(FieldTrace(path, None, label, source_value, failed.problem.message))
                continue
            out.append(FieldTrace(path, get_path(draft, path), label, source_value))
        if self._classify is not None and self.spec.classification is not None:
            column = self.spec.classification.source
            before: Out = {}
            for _, run in self._fields:
                try:
                    run(row, before)
                except _Failed:
                    continue
            after = dict(before)
            if isinstance(before.get("facts"), dict):
                after["facts"] = dict(before["facts"])
            try:
                self._classify(row, after)
            except _Failed as failed:
                out.append(
                    FieldTrace(
                        "classification", None, column, row.get(column), failed.problem.message
                    )
                )
                return out
            label = f"{column} (classification)"
            code = row.get(column)
            for key in ("domain", LEAD, CO, "tags"):
                if after.get(key) != before.get(key):
                    out.append(FieldTrace(key, after.get(key), label, code))
            facts_before = before.get("facts") or {}
            for key, value in (after.get("facts") or {}).items():
                if facts_before.get(key) != value:
                    out.append(FieldTrace(f"facts.{key}", value, label, code))
        return out


__all__ = [
    "INCOMPATIBLE",
    "FieldProblem",
    "MappingError",
    "Profile",
    "chain",
    "compile_classification",
    "compile_field",
    "field_reader",
    "get_path",
    "gives",
    "header_key",
    "read_default",
]
