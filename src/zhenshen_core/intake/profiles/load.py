"""Reading and checking a profile like a pack: every problem at once, each at its line and
column (``profile.yaml:12:5: M504 …``), before a single record is mapped.

The YAML is read by the rule packs' reader (:func:`zhenshen_core.rules.read_yaml`), so a
profile gets the same positions, the same refusal of files that are not UTF-8, and the same
limits on size, nesting and aliases.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from zhenshen_core.echo import shown_input, shown_key
from zhenshen_core.errors import ZhenshenError
from zhenshen_core.intake.profiles.converters import (
    ConversionError,
    enum_reader,
    format_problem,
)
from zhenshen_core.intake.profiles.mapper import INCOMPATIBLE, Profile, gives, read_default
from zhenshen_core.intake.profiles.model import (
    Classification,
    ConverterSpec,
    FieldSpec,
    ProfileFile,
)
from zhenshen_core.intake.profiles.targets import CO, KIND_WORDS, LEAD, Target, target_for, targets
from zhenshen_core.rules import Diagnostic, DiagnosticSink, Located, read_yaml
from zhenshen_core.rules.pack.source import dotted

#: Every code a profile check reports, and what it means (the reference page lists them).
CODES: dict[str, str] = {
    "P200": "YAML syntax error, a file that is not UTF-8, or one that cannot be read",
    "P208": "a file that cannot be read",
    "P209": "a file that is too large",
    "M500": "invalid profile: an unknown key, a value of the wrong type, a field with neither "
    "`from` nor `default`, an unquoted code with a leading zero",
    "M501": "unknown case field (with the closest one)",
    "M502": "unknown domain or department of the pack given with --pack",
    "M503": "duplicate source column: a column named twice in one field's `from`",
    "M504": "bad converter: unknown, a bad argument or date format, or one that gives what the "
    "field cannot hold",
    "M505": "a value the field cannot hold: a default, a map value, a code of an enumeration",
    "M506": "warning: one column feeds two fields (a copy-and-paste slip, or meant: the "
    "profile still loads)",
}

Path_ = tuple[str | int, ...]


class ProfileError(ZhenshenError):
    """A profile that failed its checks; ``diagnostics`` lists every located problem."""

    def __init__(self, diagnostics: Sequence[Diagnostic], source: str = "profile") -> None:
        self.diagnostics = list(diagnostics)
        errors = sum(1 for d in self.diagnostics if d.severity == "error")
        head = f"{errors} error(s) in mapping profile {source}"
        detail = "\n".join(str(d) for d in self.diagnostics)
        super().__init__(f"{head}\n{detail}" if detail else head)


@dataclass(frozen=True)
class PackNames:
    """What a profile may name of a pack: its domain ids, department ids and their aliases."""

    id: str
    domains: frozenset[str]
    departments: frozenset[str]

    @classmethod
    def of(cls, pack: Any) -> PackNames:
        departments: set[str] = set()
        for dept_id, spec in pack.departments.items():
            departments.add(dept_id)
            departments.update(getattr(spec, "aliases", ()) or ())
        return cls(pack.id, frozenset(pack.domains), frozenset(departments))


_LEADING_ZERO_KEY = re.compile(r"(?:^\s*(?:-\s+)?|[{,]\s*)(0[0-9]+)\s*:(?=\s|$)")


class _Checker:
    def __init__(self, loc: Located, sink: DiagnosticSink, pack: PackNames | None) -> None:
        self.loc, self.sink, self.pack = loc, sink, pack
        self.defaults: dict[str, Any] = {}

    def error(self, path: Path_, code: str, message: str, *, key: bool = False) -> None:
        line, col = self.key_at(path) if key else self.loc.at(path)
        self.sink.error(self.loc.file, line, col, code, message)

    def key_at(self, path: Path_) -> tuple[int, int]:
        """Where the key that ends ``path`` is written (the loader keeps value positions)."""
        line, col = self.loc.at(path)
        key = str(path[-1])
        for back in range(0, 4):
            index = line - 1 - back
            if index < 0 or index >= len(self.loc.lines):
                break
            text = self.loc.lines[index]
            found = re.search(r"(?:^|[\s{,])[\"']?" + re.escape(key) + r"[\"']?\s*:", text)
            if found is not None:
                start = found.start() + (1 if text[found.start()] in " \t{," else 0)
                return index + 1, start + 1
        return line, col

    # --- the whole file -----------------------------------------------------------------------

    def run(self) -> ProfileFile | None:
        self.leading_zero_keys()
        data = self.loc.data
        if not isinstance(data, dict):
            self.error((), "M500", "a profile is a mapping with `profile: 1` and `fields:`")
            return None
        spec: ProfileFile | None = None
        try:
            spec = ProfileFile.model_validate(data)
        except ValidationError as exc:
            self.validation(exc, ())
        fields = data.get("fields")
        if isinstance(fields, dict):
            self.fields(fields, spec)
        raw_cls = data.get("classification")
        classification = (
            spec.classification if spec is not None else _valid(Classification, raw_cls)
        )
        if classification is not None:
            self.classification(classification)
        return spec if not self.sink.errors else None

    def leading_zero_keys(self) -> None:
        for number, text in enumerate(self.loc.lines, start=1):
            if "#" in text:
                text = text.split("#", 1)[0]
            for found in _LEADING_ZERO_KEY.finditer(text):
                code = found.group(1)
                self.sink.error(
                    self.loc.file,
                    number,
                    found.start(1) + 1,
                    "M500",
                    f'{code} is read by YAML as the number {int(code)}: quote the code ("{code}")',
                )

    def validation(self, exc: ValidationError, base: Path_) -> None:
        for err in exc.errors(include_url=False):
            where = (*base, *err["loc"])
            kind = err["type"]
            message = str(err["msg"]).removeprefix("Value error, ")
            code = "M504" if kind == "converter" else "M500"
            if kind == "extra_forbidden":  # named, its value never shown (zhenshen_core.echo)
                message = f"unknown key {shown_key(where[-1])} (the profile reference lists keys)"
                self.error(where, code, message, key=True)
                continue
            shown = "" if kind in ("converter", "field_empty") else shown_input(err)
            self.error(where, code, f"{dotted(where)}: {message}{shown}")

    # --- fields -------------------------------------------------------------------------------

    def fields(self, raw: Mapping[str, Any], spec: ProfileFile | None) -> None:
        seen: dict[str, str] = {}
        for name, raw_field in raw.items():
            path: Path_ = ("fields", name)
            target = target_for(name)
            if target is None:
                self.unknown_field(name, path)
                continue
            field = spec.fields.get(name) if spec is not None else _valid(FieldSpec, raw_field)
            if field is None:
                continue
            self.columns(name, field, path, raw_field, seen)
            self.converters(target, field.convert, (*path, "convert"), raw_field)
            self.default(target, field, path)
            self.pack_values(target, field, path, raw_field)

    def unknown_field(self, name: str, path: Path_) -> None:
        known = [*targets(), "facts.<name>"]
        close = difflib.get_close_matches(name, list(targets()), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        owned = name.split(".")[0] in (
            "id",
            "status",
            "version",
            "severity",
            "tier",
            "chair",
            "decision",
            "opinion",
        )
        why = " (set by the lifecycle or the rules, never by intake)" if owned else ""
        hint = "" if owned else hint
        self.error(
            path,
            "M501",
            f"unknown case field {name!r}{why}{hint} (known: {', '.join(known)})",
            key=True,
        )

    def columns(
        self,
        name: str,
        field: FieldSpec,
        path: Path_,
        raw_field: Any,
        seen: dict[str, str],
    ) -> None:
        listed = isinstance(raw_field, dict) and isinstance(raw_field.get("from"), list)
        mine: set[str] = set()
        for index, column in enumerate(field.source):
            where = (*path, "from", index) if listed else (*path, "from")
            if column in mine:
                self.error(where, "M503", f"column {column!r} is named twice in {name}.from")
                continue
            mine.add(column)
            if column in seen:
                line, col = self.loc.at(where)
                self.sink.warn(
                    self.loc.file,
                    line,
                    col,
                    "M506",
                    f"column {column!r} fills {seen[column]!r} too: is that meant? (a value "
                    "the rules need twice is better kept once, e.g. with the "
                    "classification's `fact`)",
                )
                continue
            seen[column] = name

    def converters(
        self, target: Target, converters: Sequence[ConverterSpec], base: Path_, raw_field: Any
    ) -> None:
        listed = isinstance(raw_field, dict) and isinstance(raw_field.get("convert"), list)
        for index, converter in enumerate(converters):
            where = (*base, index) if listed else base
            if converter.name in ("datetime", "date"):
                for i, fmt in enumerate(converter.arg or ()):
                    problem = format_problem(fmt)
                    if problem is not None:
                        self.error((*where, converter.name, i), "M504", problem)
            if converter.name == "map" and target.kind == "enum":
                reader = enum_reader(target.choices)
                for key, value in converter.arg.items():
                    try:
                        reader(value)
                    except ConversionError as exc:
                        self.error(
                            (*where, "map", key),
                            "M505",
                            f"map value for {key!r} cannot be {target.path}: {exc}",
                        )
        if converters:
            last = gives(converters[-1])
            if last in INCOMPATIBLE[target.kind]:
                where = (*base, len(converters) - 1) if listed else base
                self.error(
                    where,
                    "M504",
                    f"converter {converters[-1].name!r} gives {KIND_WORDS[last]}; "
                    f"{target.path} needs {KIND_WORDS[target.kind]}",
                )

    def default(self, target: Target, field: FieldSpec, path: Path_) -> None:
        if field.default is None:
            return
        try:
            self.defaults[target.path] = read_default(target, field.default)
        except ConversionError as exc:
            self.error((*path, "default"), "M505", f"default cannot be {target.path}: {exc}")

    # --- the pack -----------------------------------------------------------------------------

    def pack_values(self, target: Target, field: FieldSpec, path: Path_, raw_field: Any) -> None:
        if self.pack is None:
            return
        kinds = {"domain": "domain", LEAD: "department", CO: "department"}
        kind = kinds.get(target.path)
        if kind is None:
            return
        listed = isinstance(raw_field, dict) and isinstance(raw_field.get("convert"), list)
        values: list[tuple[Path_, Any]] = []
        if field.default is not None:
            values.append(((*path, "default"), field.default))
        for index, converter in enumerate(field.convert):
            if converter.name == "map":
                where = (*path, "convert", index) if listed else (*path, "convert")
                values += [((*where, "map", k), v) for k, v in converter.arg.items()]
        for where, value in values:
            for item in value if isinstance(value, list) else [value]:
                self.pack_name(where, kind, str(item))

    def pack_name(self, where: Path_, kind: str, value: str) -> None:
        assert self.pack is not None
        known: Collection[str] = self.pack.domains if kind == "domain" else self.pack.departments
        if value in known:
            return
        close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        self.error(
            where,
            "M502",
            f"unknown {kind} {value!r} of pack {self.pack.id}{hint} "
            f"(known: {', '.join(sorted(known)) or '(none)'})",
        )

    def classification(self, spec: Classification) -> None:
        base: Path_ = ("classification",)
        raw = self.loc.data.get("classification") if isinstance(self.loc.data, dict) else None
        text_target = Target("classification code", "text")
        self.converters(text_target, spec.convert, (*base, "convert"), raw)
        if self.pack is None:
            return
        for code, entry in spec.codes.items():
            where = (*base, "codes", code)
            if entry.domain is not None:
                self.pack_name((*where, "domain"), "domain", entry.domain)
            if entry.lead is not None:
                self.pack_name((*where, "lead"), "department", entry.lead)
            for index, co in enumerate(entry.co):
                self.pack_name((*where, "co", index), "department", co)


def _valid(model: Any, raw: Any) -> Any:
    if raw is None:
        return None
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


def check_profile(
    path: str | Path, *, pack: Any = None, display: str | None = None
) -> tuple[ProfileFile | None, dict[str, Any], list[Diagnostic]]:
    """Read and check a profile: the validated file (None when it has errors), its defaults
    as the fields keep them, and every problem found. ``pack``: a loaded rule pack whose
    domains and departments the profile must name."""
    sink = DiagnosticSink()
    loc = read_yaml(Path(path), sink, display or str(path))
    if loc is None:
        return None, {}, sink.items
    checker = _Checker(loc, sink, PackNames.of(pack) if pack is not None else None)
    spec = checker.run()
    return spec, checker.defaults, sorted(sink.items, key=lambda d: (d.line, d.col))


def load_profile(
    path: str | Path,
    *,
    pack: Any = None,
    channel: str | None = None,
    display: str | None = None,
) -> Profile:
    """A checked, compiled profile, or :class:`ProfileError` listing every problem.

    ``channel``: the case channel (``hotline_12345``, ``batch_import`` …) when the profile
    names none."""
    shown = display or str(path)
    spec, defaults, diagnostics = check_profile(path, pack=pack, display=shown)
    if spec is None or any(d.severity == "error" for d in diagnostics):
        raise ProfileError(diagnostics, shown)
    every = {name: target_for(name) for name in spec.fields}
    return Profile(
        spec,
        {k: v for k, v in every.items() if v is not None},
        defaults,
        source=shown,
        channel=channel,
    )


__all__ = ["CODES", "PackNames", "ProfileError", "check_profile", "load_profile"]
