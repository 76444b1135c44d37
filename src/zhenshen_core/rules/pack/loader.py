"""Loading packs from disk: YAML with positions, validation, ``extends``, type checks.

Every problem is collected (not just the first) and reported as ``file:line:col: CODE message``.
Positions come from libyaml's node marks (``yaml_fast``, 30× faster) or, for whatever that reader
declines, ruamel.yaml's round-trip loader, which keeps the line and column of every key and
value; pydantic error locations are mapped back onto them.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from zhenshen_core.errors import describe_validation_error
from zhenshen_core.model.enums import Chair, Tier
from zhenshen_core.rules.diagnostics import (
    Diagnostic,
    DiagnosticSink,
    ExpressionSyntaxError,
    PackError,
)
from zhenshen_core.rules.engines.facts import FieldType
from zhenshen_core.rules.lang.ast import Expr, Span, fields_read
from zhenshen_core.rules.lang.cells import CellError, input_test, output_value
from zhenshen_core.rules.lang.parser import parse_expression, parse_operand
from zhenshen_core.rules.lang.typecheck import TypeContext, check_expression, operand_type
from zhenshen_core.rules.pack import yaml_fast
from zhenshen_core.rules.pack.model import (
    LIST_OUTPUTS,
    TABLE_OUTPUT_ALIASES,
    TABLE_OUTPUTS,
    CrossCaseModel,
    CrossCaseSpec,
    CrossCaseThen,
    DepartmentSpec,
    DomainSpec,
    ExpertSpec,
    Outcome,
    PackFile,
    ResolvedPack,
    RuleFile,
    RuleModel,
    RuleSpec,
    TableModel,
    TableSpec,
    Then,
)
from zhenshen_core.textio import (
    TOO_DEEP,
    TOO_MANY_VALUES,
    NotUtf8Error,
    decode,
    read_text,
    too_many_values,
)

PACK_FILE = "pack.yaml"
MAX_FILE_BYTES = 5_000_000
MAX_RULES = 20_000

Path_ = tuple[str | int, ...]


def _period_error(text: str) -> str | None:
    """Why a deadline period string is invalid (uses the deadlines package's parser; a
    period of length 0 is refused as ``zhenshen deadline`` refuses it)."""
    try:
        from zhenshen_core.deadlines import deadline_period
    except ImportError:  # pragma: no cover - the deadlines package ships with the core
        return None
    try:
        deadline_period(text)
    except ValueError as exc:
        return str(exc)
    return None


# ---------------------------------------------------------------------------------------------
# YAML with positions.


@dataclass
class Located:
    """A YAML file as plain data plus the 1-based position of every node."""

    file: str
    data: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    styles: dict[Path_, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def at(self, path: Sequence[str | int]) -> tuple[int, int]:
        key = tuple(path)
        while key:
            if key in self.positions:
                return self.positions[key]
            key = key[:-1]
        return (1, 1)

    def text_start(self, path: Sequence[str | int]) -> tuple[int, int]:
        """Where the text of a string value begins (inside quotes / on a block's next line)."""
        line, col = self.at(path)
        style = self.styles.get(tuple(path), "plain")
        if style == "quoted":
            return line, col + 1
        if style == "block" and line < len(self.lines):
            nxt = self.lines[line]  # the line after the indicator (lines is 0-based)
            return line + 1, len(nxt) - len(nxt.lstrip()) + 1
        return line, col


def _plain(node: Any, path: Path_, loc: Located) -> Any:
    lc = getattr(node, "lc", None)
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        for key, value in node.items():
            sub = (*path, str(key))
            if lc is not None:
                line, col = lc.value(key) if value is not None else lc.key(key)
                loc.positions[sub] = (line + 1, col + 1)
                kline, kcol = lc.key(key)
                loc.positions.setdefault(path, (kline + 1, kcol + 1))
            out[str(key)] = _plain(value, sub, loc)
        return out
    if isinstance(node, list):
        items = []
        for i, value in enumerate(node):
            sub = (*path, i)
            if lc is not None:
                line, col = lc.item(i)
                loc.positions[sub] = (line + 1, col + 1)
            items.append(_plain(value, sub, loc))
        return items
    if isinstance(node, DoubleQuotedScalarString | SingleQuotedScalarString):
        loc.styles[path] = "quoted"
        return str(node)
    if isinstance(node, LiteralScalarString | FoldedScalarString):
        loc.styles[path] = "block"
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, datetime):
        return node.date() if (node.hour, node.minute, node.second) == (0, 0, 0) else node
    if isinstance(node, date):
        return date(node.year, node.month, node.day)
    if isinstance(node, str):
        return str(node)
    return node


def read_yaml(path: Path, sink: DiagnosticSink, display: str | None = None) -> Located | None:
    """Parse one YAML file, or record a located P200 and return None."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        sink.error(name, 1, 1, "P208", f"cannot read file: {exc.strerror or exc}")
        return None
    if len(raw) > MAX_FILE_BYTES:
        sink.error(name, 1, 1, "P201", f"file is larger than {MAX_FILE_BYTES} bytes")
        return None
    try:
        text = decode(raw, name)
    except NotUtf8Error as exc:
        sink.error(name, exc.where.line, exc.where.column, "P200", exc.where.problem)
        return None
    try:
        return _parsed(text, name, sink)
    except yaml_fast.NestedTooDeeply as exc:
        sink.error(name, exc.line, exc.column, "P200", f"YAML: {TOO_DEEP}")
    except RecursionError:  # the YAML parsers recurse once per level of nesting
        sink.error(name, 1, 1, "P200", f"YAML: {TOO_DEEP}")
    return None


def _parsed(text: str, name: str, sink: DiagnosticSink) -> Located | None:
    fast = yaml_fast.located(text, name, Located)
    if fast is not None:
        return fast
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        sink.error(name, line, col, "P200", f"YAML: {problem}".strip())
        return None
    except YAMLError as exc:
        sink.error(name, 1, 1, "P200", f"YAML: {exc}")
        return None
    if too_many_values(data):  # checked before anything walks the aliases
        sink.error(name, 1, 1, "P200", TOO_MANY_VALUES)
        return None
    loc = Located(name, None, lines=text.splitlines())
    loc.data = _plain(data, (), loc)
    return loc


def _shown_cell(cell: Any) -> str:
    """A table cell for a message: as written, cut short when it is long."""
    text = repr(cell)
    return text if len(text) <= 80 else text[:77] + "…"


def _report_validation(
    exc: ValidationError, loc: Located, base: Path_, sink: DiagnosticSink, rule: str | None = None
) -> None:
    for err in exc.errors(include_url=False):
        where = (*base, *err["loc"])
        line, col = loc.at(where)
        dotted = ".".join(str(p) for p in where)
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; keys are listed by 'zhenshen schema pack')"
        bad = err.get("input")
        shown = (
            "" if err["type"] == "missing" or isinstance(bad, dict | list) else f" (got {bad!r})"
        )
        sink.error(loc.file, line, col, "P201", f"{dotted}: {message}{shown}", rule=rule, input=bad)


# ---------------------------------------------------------------------------------------------
# Raw packs (validated files, before extends and type checks).


@dataclass
class Item:
    """A rule or table as written, with where it came from."""

    model: RuleModel | TableModel | CrossCaseModel
    loc: Located
    path: Path_
    pack: str

    @property
    def id(self) -> str:
        return self.model.id


@dataclass
class RawPack:
    folder: Path
    pack: PackFile
    loc: Located
    items: list[Item]


@dataclass
class Merged:
    """The state of resolution: base packs folded together, then this pack on top."""

    items: dict[str, Item] = field(default_factory=dict)
    departments: dict[str, DepartmentSpec] = field(default_factory=dict)
    experts: dict[str, ExpertSpec] = field(default_factory=dict)
    domains: dict[str, DomainSpec] = field(default_factory=dict)
    severity_levels: tuple[str, ...] | None = None
    default_tier: str | None = None
    default_chair: str | None = None
    calendar: str | None = None
    lineage: list[str] = field(default_factory=list)
    disabled: dict[str, str] = field(default_factory=dict)  # item id → the pack disabling it

    def absorb(self, other: Merged) -> None:
        self.items.update(other.items)
        self.disabled.update(other.disabled)
        self.departments.update(other.departments)
        self.experts.update(other.experts)
        self.domains.update(other.domains)
        for name in ("severity_levels", "default_tier", "default_chair", "calendar"):
            if getattr(other, name) is not None:
                setattr(self, name, getattr(other, name))
        self.lineage.extend(p for p in other.lineage if p not in self.lineage)


class Loader:
    """Resolves one pack and its bases. One instance per ``load_pack`` call (no shared state)."""

    def __init__(
        self,
        search_paths: Sequence[Path],
        plugin_packs: Mapping[str, str | Path],
        actions: Collection[str] | None,
    ) -> None:
        # Both are kept as given and only read when a pack names a base or an action: a
        # caller may pass lazy views (the CLI does, so plugins load only when asked for).
        self.search_paths = [Path(p) for p in search_paths]
        self.plugin_packs = plugin_packs
        self.actions = actions
        self.sink = DiagnosticSink()
        self._index: dict[str, Path] | None = None
        self._raw: dict[Path, RawPack | None] = {}
        self._merged: dict[Path, Merged | None] = {}

    # -- finding packs --------------------------------------------------------------------
    def index(self) -> dict[str, Path]:
        """Pack ids on the search path (a folder that is a pack, or holds packs one level down)."""
        if self._index is None:
            found: dict[str, Path] = {}
            for root in self.search_paths:
                candidates = [root] if (root / PACK_FILE).is_file() else []
                if root.is_dir():
                    candidates += sorted(p for p in root.iterdir() if (p / PACK_FILE).is_file())
                for folder in candidates:
                    pack_id = _peek_id(folder / PACK_FILE)
                    if pack_id and pack_id not in found:
                        found[pack_id] = folder
            for pack_id, plugin_folder in self.plugin_packs.items():
                found.setdefault(pack_id, Path(plugin_folder))
            self._index = found
        return self._index

    def find(self, pack_id: str) -> Path | None:
        if pack_id in self.plugin_packs:
            return Path(self.plugin_packs[pack_id])
        return self.index().get(pack_id)

    # -- raw files ------------------------------------------------------------------------
    def raw(self, folder: Path) -> RawPack | None:
        folder = folder.resolve()
        if folder not in self._raw:
            self._raw[folder] = self._read_raw(folder)
        return self._raw[folder]

    def _read_raw(self, folder: Path) -> RawPack | None:
        pack_path = folder / PACK_FILE
        if not pack_path.is_file():
            self.sink.error(str(folder), 1, 1, "P208", f"no {PACK_FILE} in this folder")
            return None
        loc = read_yaml(pack_path, self.sink, _display(pack_path))
        if loc is None:
            return None
        return self._pack_from(
            folder, loc, lambda pack: [self._read(p) for p in self._rule_files(folder, pack, loc)]
        )

    def _read(self, path: Path) -> Located | None:
        return read_yaml(path, self.sink, _display(path))

    def _pack_from(
        self,
        folder: Path,
        loc: Located,
        rule_files: Callable[[PackFile], list[Located | None]],
    ) -> RawPack | None:
        if not isinstance(loc.data, dict):
            self.sink.error(loc.file, 1, 1, "P201", f"{PACK_FILE} must be a mapping of keys")
            return None
        try:
            pack = PackFile.model_validate(loc.data)
        except ValidationError as exc:
            _report_validation(exc, loc, (), self.sink)
            return None
        items: list[Item] = []
        seen: dict[str, Item] = {}
        for rule_loc in rule_files(pack):
            if rule_loc is None:
                continue
            for item in self._items_from(rule_loc, pack.id):
                if item.id in seen:
                    first = seen[item.id]
                    line, col = item.loc.at((*item.path, "id"))
                    fl, fc = first.loc.at((*first.path, "id"))
                    self.sink.error(
                        item.loc.file,
                        line,
                        col,
                        "P202",
                        f"duplicate id {item.id!r} (first defined at {first.loc.file}:{fl}:{fc})",
                        rule=item.id,
                    )
                    continue
                seen[item.id] = item
                items.append(item)
        return RawPack(folder, pack, loc, items)

    def _rule_files(self, folder: Path, pack: PackFile, loc: Located) -> list[Path]:
        if pack.include is None:
            files = [p for p in folder.rglob("*.yaml") if p.name != PACK_FILE or p.parent != folder]
            return sorted(
                p
                for p in files
                if "tests" not in p.relative_to(folder).parts[:-1] and p != folder / PACK_FILE
            )
        result: list[Path] = []
        for i, pattern in enumerate(pack.include):
            if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
                line, col = loc.at(("include", i))
                self.sink.error(loc.file, line, col, "P208", "include globs must stay in the pack")
                continue
            matches = sorted(p for p in folder.glob(pattern) if p.is_file())
            if not matches:
                line, col = loc.at(("include", i))
                self.sink.error(loc.file, line, col, "P208", f"{pattern!r} matches no file")
            result.extend(m for m in matches if m not in result and m.name != PACK_FILE)
        return result

    def _items_from(self, loc: Located, pack_id: str) -> list[Item]:
        data = loc.data
        if data is None:
            return []
        if not isinstance(data, dict):
            self.sink.error(
                loc.file, 1, 1, "P201", "a rule file must be a mapping with rules/tables"
            )
            return []
        rules = data.get("rules", [])
        tables = data.get("tables", [])
        crosscase = data.get("crosscase", [])
        try:
            RuleFile.model_validate(
                {k: ([] if k in ("rules", "tables", "crosscase") else v) for k, v in data.items()}
            )
        except ValidationError as exc:
            _report_validation(exc, loc, (), self.sink)
            return []
        items: list[Item] = []
        sections: tuple[tuple[str, type[RuleModel | TableModel | CrossCaseModel], Any], ...] = (
            ("rules", RuleModel, rules),
            ("tables", TableModel, tables),
            ("crosscase", CrossCaseModel, crosscase),
        )
        for key, model, entries in sections:
            if not isinstance(entries, list):
                line, col = loc.at((key,))
                self.sink.error(loc.file, line, col, "P201", f"{key} must be a list")
                continue
            for i, entry in enumerate(entries):
                rule_id = entry.get("id") if isinstance(entry, dict) else None
                try:
                    parsed = model.model_validate(entry)
                except ValidationError as exc:
                    _report_validation(exc, loc, (key, i), self.sink, rule=rule_id)
                    continue
                items.append(Item(parsed, loc, (key, i), pack_id))
        return items

    # -- extends --------------------------------------------------------------------------
    def merged(self, folder: Path, stack: tuple[str, ...]) -> Merged | None:
        folder = folder.resolve()
        if folder in self._merged:
            return self._merged[folder]
        raw = self.raw(folder)
        if raw is None:
            return None
        result = Merged()
        ok = True
        for i, base_id in enumerate(raw.pack.extends):
            line, col = raw.loc.at(("extends", i))
            if base_id in stack or base_id == raw.pack.id:
                chain = " → ".join((*stack, raw.pack.id, base_id))
                self.sink.error(raw.loc.file, line, col, "P204", f"extends cycle: {chain}")
                ok = False
                continue
            base_folder = self.find(base_id)
            if base_folder is None:
                known = sorted(self.index())
                close = difflib.get_close_matches(base_id, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                where = ", ".join(str(p) for p in self.search_paths) or "(no --pack-path given)"
                self.sink.error(
                    raw.loc.file,
                    line,
                    col,
                    "P203",
                    f"base pack {base_id!r} not found{hint} (searched plugin packs and {where})",
                )
                ok = False
                continue
            base = self.merged(base_folder, (*stack, raw.pack.id))
            if base is None:
                ok = False
                continue
            result.absorb(base)
        if not ok:
            self._merged[folder] = None
            return None
        for i, rule_id in enumerate(raw.pack.disable):
            if rule_id in result.items:
                del result.items[rule_id]
                result.disabled[rule_id] = raw.pack.id
            else:
                line, col = raw.loc.at(("disable", i))
                close = difflib.get_close_matches(rule_id, list(result.items), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.sink.error(
                    raw.loc.file,
                    line,
                    col,
                    "P206",
                    f"disable: no base pack defines {rule_id!r}{hint}",
                )
        for item in raw.items:
            result.items[item.id] = item  # same id replaces in place; new ids append
            result.disabled.pop(item.id, None)
        pack = raw.pack
        result.departments.update({d.id: d for d in pack.departments})
        result.experts.update({e.id: e for e in pack.experts})
        result.domains.update({d.id: d for d in pack.domains})
        if pack.severity_levels is not None:
            result.severity_levels = tuple(pack.severity_levels)
        for name in ("default_tier", "default_chair", "calendar"):
            if getattr(pack, name) is not None:
                setattr(result, name, getattr(pack, name))
        result.lineage.append(pack.id)
        self._merged[folder] = result
        return result


class MemoryLoader(Loader):
    """A loader over in-memory documents: ``{pack_id: {"pack.yaml": {...}, "x.yaml": {...}}}``.

    For tests, generators and embedding code that keeps packs in a database: no YAML parsing,
    no positions (problems point at line 1 of ``<pack_id>/<file>``).
    """

    def __init__(
        self,
        packs: Mapping[str, Mapping[str, Any]],
        actions: Collection[str] | None,
    ) -> None:
        super().__init__((), {}, actions)
        self.packs = packs

    def index(self) -> dict[str, Path]:
        return {pack_id: Path("/<memory>") / pack_id for pack_id in self.packs}

    def find(self, pack_id: str) -> Path | None:
        return self.index().get(pack_id)

    def _read_raw(self, folder: Path) -> RawPack | None:
        docs = self.packs.get(folder.name)
        if docs is None or PACK_FILE not in docs:
            self.sink.error(folder.name, 1, 1, "P203", f"no pack {folder.name!r} in memory")
            return None
        loc = Located(f"{folder.name}/{PACK_FILE}", docs[PACK_FILE])
        return self._pack_from(
            folder,
            loc,
            lambda pack: [
                Located(f"{folder.name}/{name}", doc)
                for name, doc in sorted(docs.items())
                if name != PACK_FILE
            ],
        )


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _peek_id(pack_yaml: Path) -> str | None:
    try:
        data = YAML(typ="safe").load(read_text(pack_yaml))
    except (OSError, NotUtf8Error, YAMLError):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------------------------------------
# Compiling a merged pack.


class Compiler:
    """Parses, type-checks and compiles every item of a merged pack into ``RuleSpec``s."""

    def __init__(self, merged: Merged, levels: tuple[str, ...], loader: Loader) -> None:
        self.merged = merged
        self.levels = levels
        self.loader = loader
        self.sink = loader.sink
        self.aliases: dict[str, str] = {}
        for dep in merged.departments.values():
            self.aliases[dep.id] = dep.id
            for alias in dep.aliases:
                self.aliases.setdefault(alias, dep.id)
        self.collections = {
            "domains": frozenset(merged.domains),
            "departments": frozenset(self.aliases),
            "experts": frozenset(merged.experts),
        }
        self.specs: list[RuleSpec] = []
        self.tables: list[TableSpec] = []
        self.crosscase: list[CrossCaseSpec] = []

    def ctx(self, stage: str) -> TypeContext:
        return TypeContext(stage, self.levels, self.collections)

    def problems(self, item: Item, expr: Expr, stage: str | None = None) -> None:
        model = item.model
        where = stage or (model.stage if not isinstance(model, CrossCaseModel) else "classify")
        for problem in check_expression(expr, self.ctx(where)):
            diag = Diagnostic(
                item.loc.file,
                problem.span.line,
                problem.span.column,
                problem.code,
                problem.message,
                problem.severity,
                rule=item.id,
            )
            self.sink.add(diag)

    def run(self) -> None:
        for item in self.merged.items.values():
            if len(self.specs) > MAX_RULES:
                self.sink.error(item.loc.file, 1, 1, "P201", f"more than {MAX_RULES} rules")
                return
            if isinstance(item.model, RuleModel):
                self.rule(item, item.model)
            elif isinstance(item.model, CrossCaseModel):
                self.cross_case(item, item.model)
            else:
                self.table(item, item.model)

    # -- outcomes -------------------------------------------------------------------------
    def _check_value(
        self, item: Item, path: Path_, value: str, kind: str, known: Collection[str]
    ) -> bool:
        if value in known:
            return True
        line, col = item.loc.at(path)
        close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        choices = ", ".join(sorted(known)) or "(none defined)"
        self.sink.error(
            item.loc.file,
            line,
            col,
            "R104",
            f"unknown {kind} {value!r}{hint} (known: {choices})",
            rule=item.id,
        )
        return False

    def department(self, item: Item, path: Path_, value: str) -> str:
        if self._check_value(item, path, value, "department", self.aliases):
            return self.aliases[value]
        return value

    def outcome(self, item: Item, base: Path_, then: Then) -> Outcome:
        at_least, bump = None, 0
        if then.severity is not None:
            if then.severity.at_least is not None:
                self._check_value(
                    item,
                    (*base, "severity", "at_least"),
                    then.severity.at_least,
                    "severity level",
                    self.levels,
                )
                at_least = then.severity.at_least
            bump = then.severity.bump or 0
        if then.tier is not None:
            self._check_value(item, (*base, "tier"), then.tier, "tier", [t.value for t in Tier])
        if then.chair is not None:
            self._check_value(item, (*base, "chair"), then.chair, "chair", [c.value for c in Chair])
        required: tuple[str, ...] = ()
        suggested: tuple[str, ...] = ()
        reason = ""
        if then.experts is not None:
            for key, values in (
                ("require", then.experts.require),
                ("suggest", then.experts.suggest),
            ):
                for i, expert in enumerate(values):
                    self._check_value(
                        item, (*base, "experts", key, i), expert, "expert", self.merged.experts
                    )
            required = tuple(dict.fromkeys(then.experts.require))
            suggested = tuple(dict.fromkeys(then.experts.suggest))
            reason = then.experts.reason
        lead = None
        co: tuple[str, ...] = ()
        if then.departments is not None:
            if then.departments.lead is not None:
                lead = self.department(item, (*base, "departments", "lead"), then.departments.lead)
            co = tuple(
                dict.fromkeys(
                    self.department(item, (*base, "departments", "co", i), d)
                    for i, d in enumerate(then.departments.co)
                )
            )
        for clock, period in then.deadlines.items():
            self.period(item, (*base, "deadlines", clock), period)
        for i, action in enumerate(then.actions):
            self.action(item, (*base, "actions", i), action)
        return Outcome(
            severity_at_least=at_least,
            severity_bump=bump,
            tier=then.tier,
            chair=then.chair,
            tags=tuple(dict.fromkeys(then.tags)),
            experts_required=required,
            experts_suggested=suggested,
            expert_reason=reason,
            lead=lead,
            co=co,
            deadlines=tuple(sorted(then.deadlines.items())),
            actions=tuple(dict.fromkeys(then.actions)),
        )

    def period(self, item: Item, path: Path_, period: str) -> None:
        problem = _period_error(period)
        if problem:
            line, col = item.loc.at(path)
            self.sink.error(item.loc.file, line, col, "P207", problem, rule=item.id)

    def action(self, item: Item, path: Path_, action: str) -> None:
        actions = self.loader.actions
        if actions is not None and action not in actions:
            line, col = item.loc.at(path)
            close = difflib.get_close_matches(action, sorted(actions), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.sink.error(
                item.loc.file,
                line,
                col,
                "P205",
                f"unknown action {action!r}{hint}; actions are registered by plugins "
                f"(loaded: {', '.join(sorted(actions)) or 'none'})",
                rule=item.id,
            )

    # -- rules ----------------------------------------------------------------------------
    def rule(self, item: Item, model: RuleModel) -> None:
        line, col = item.loc.text_start((*item.path, "when"))
        try:
            expr = parse_expression(model.when, line=line, column=col, source=item.loc.file)
        except ExpressionSyntaxError as exc:
            self.sink.error(item.loc.file, exc.line, exc.column, "R100", exc.detail, rule=item.id)
            expr = None
        if expr is not None:
            self.problems(item, expr)
        outcome = self.outcome(item, (*item.path, "then"), model.then)
        rline, rcol = item.loc.at(item.path)
        self.specs.append(
            RuleSpec(
                id=model.id,
                stage=model.stage,
                priority=model.priority,
                order=len(self.specs),
                condition=expr,
                outcome=outcome,
                file=item.loc.file,
                line=rline,
                column=rcol,
                description=model.description,
                reads=tuple(f.name for f in fields_read(expr)) if expr is not None else (),
            )
        )

    # -- cross-case rules -------------------------------------------------------------------
    def cross_case(self, item: Item, model: CrossCaseModel) -> None:
        """Check a cross-case rule's filter, key paths and window; the desk runs it."""
        file = item.loc.file
        expr = None
        if model.when is not None:
            line, col = item.loc.text_start((*item.path, "when"))
            try:
                expr = parse_expression(model.when, line=line, column=col, source=file)
            except ExpressionSyntaxError as exc:
                self.sink.error(file, exc.line, exc.column, "R100", exc.detail, rule=item.id)
            if expr is not None:
                self.problems(item, expr, "classify")
        for i, path in enumerate(model.key):
            line, col = item.loc.text_start((*item.path, "key", i))
            if path == "case_id":
                continue
            try:
                operand = parse_operand(path, line=line, column=col, source=file)
            except ExpressionSyntaxError as exc:
                self.sink.error(file, exc.line, exc.column, "R100", exc.detail, rule=item.id)
                continue
            _, problems = operand_type(operand, self.ctx("classify"))
            for problem in problems:
                self.sink.add(
                    Diagnostic(
                        file,
                        problem.span.line,
                        problem.span.column,
                        problem.code,
                        problem.message,
                        problem.severity,
                        rule=item.id,
                    )
                )
        from zhenshen_core.deadlines import parse_period

        days = 0
        with contextlib.suppress(ValueError):  # a bad period is reported just below as R106
            period = parse_period(model.window)
            if period.unit.value == "day":
                days = period.amount
        if days < 1:
            line, col = item.loc.at((*item.path, "window"))
            self.sink.error(
                file,
                line,
                col,
                "R106",
                f'window {model.window!r} must be calendar days, e.g. "30 days"',
                rule=item.id,
            )
            return
        rline, _ = item.loc.at(item.path)
        self.crosscase.append(
            CrossCaseSpec(
                id=model.id,
                event=model.event,
                key=tuple(model.key),
                count=model.count,
                window_days=days,
                then=CrossCaseThen(
                    dict(model.then.facts), model.then.escalate, model.then.generalise
                ),
                when=expr,
                description=model.description,
                file=file,
                line=rline,
            )
        )

    # -- tables ---------------------------------------------------------------------------
    def table(self, item: Item, model: TableModel) -> None:
        file = item.loc.file
        ctx = self.ctx(model.stage)
        inputs = []
        kinds: list[FieldType | None] = []
        for i, text in enumerate(model.inputs):
            line, col = item.loc.text_start((*item.path, "inputs", i))
            try:
                operand = parse_operand(text, line=line, column=col, source=file)
            except ExpressionSyntaxError as exc:
                self.sink.error(file, exc.line, exc.column, "R100", exc.detail, rule=item.id)
                return
            kind, problems = operand_type(operand, ctx)
            for p in problems:
                self.sink.add(
                    Diagnostic(
                        file,
                        p.span.line,
                        p.span.column,
                        p.code,
                        p.message,
                        p.severity,
                        rule=item.id,
                    )
                )
            inputs.append(operand)
            kinds.append(kind)
        outputs: list[str] = []
        for i, name in enumerate(model.outputs):
            canonical = TABLE_OUTPUT_ALIASES.get(name, name)
            valid = canonical in TABLE_OUTPUTS or (
                canonical.startswith("deadlines.") and len(canonical) > len("deadlines.")
            )
            if not valid:
                line, col = item.loc.at((*item.path, "outputs", i))
                close = difflib.get_close_matches(canonical, list(TABLE_OUTPUTS), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.sink.error(
                    file, line, col, "T300", f"unknown output {name!r}{hint}", rule=item.id
                )
            outputs.append(canonical)
        self.hit_policy(item, model, outputs)
        if any(k is None for k in kinds) or len(outputs) != len(model.outputs):
            return
        width = len(inputs) + len(outputs)
        row_ids: list[str] = []
        ranks: list[tuple[int, ...]] = []
        for r, row in enumerate(model.rows):
            row_path = (*item.path, "rows", r)
            if len(row) != width:
                line, col = item.loc.at(row_path)
                self.sink.error(
                    file,
                    line,
                    col,
                    "T300",
                    f"row {r + 1} has {len(row)} cells; expected {width} "
                    f"({len(inputs)} inputs + {len(outputs)} outputs)",
                    rule=item.id,
                )
                continue
            tests: list[Expr] = []
            broken = False
            for c, (cell, operand, kind) in enumerate(zip(row, inputs, kinds, strict=False)):
                line, col = item.loc.at((*row_path, c))
                try:
                    test = input_test(cell, operand, kind or FieldType.ANY, Span(line, col))
                except CellError as exc:
                    self.sink.error(
                        file, line, col, "T300", f"cell {_shown_cell(cell)}: {exc}", rule=item.id
                    )
                    broken = True
                    continue
                if test is not None:
                    tests.append(test)
            condition: Expr | None
            if not tests:
                condition = None
            elif len(tests) == 1:
                condition = tests[0]
            else:
                from zhenshen_core.rules.lang.ast import And

                condition = And(tuple(tests), tests[0].span)
            if condition is not None:
                self.problems(item, condition)
            then, rank = self.row_outputs(item, row_path, model, outputs, row[len(inputs) :])
            if broken or then is None:
                continue
            outcome = self.outcome(item, row_path, then)
            row_id = f"{model.id}#{r + 1}"
            line, col = item.loc.at(row_path)
            reads = [f.name for f in fields_read(condition)] if condition is not None else []
            for operand in inputs:  # a table row reports every input it looked at
                for f in fields_read(operand):
                    if f.name not in reads:
                        reads.append(f.name)
            self.specs.append(
                RuleSpec(
                    id=row_id,
                    stage=model.stage,
                    priority=model.priority,
                    order=len(self.specs),
                    condition=condition,
                    outcome=outcome,
                    file=file,
                    line=line,
                    column=col,
                    description=model.description,
                    table=model.id,
                    row=r + 1,
                    reads=tuple(reads),
                )
            )
            row_ids.append(row_id)
            ranks.append(rank)
        self.tables.append(
            TableSpec(
                model.id,
                model.stage,
                model.hit,
                tuple(inputs),
                tuple(outputs),
                tuple(row_ids),
                tuple(ranks),
            )
        )

    def hit_policy(self, item: Item, model: TableModel, outputs: list[str]) -> None:
        """A hit policy that would quietly act as another, and an ``output_order`` that would
        be ignored, are errors (T301, T302): the table must mean what it says."""
        file = item.loc.file
        for key in model.output_order:
            line, col = item.loc.at((*item.path, "output_order", key))
            name = TABLE_OUTPUT_ALIASES.get(key, key)
            if name not in outputs:
                close = difflib.get_close_matches(name, outputs, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.sink.error(
                    file,
                    line,
                    col,
                    "T302",
                    f"output_order names {key!r}, which is not an output of this table "
                    f"(outputs: {', '.join(outputs)}){hint}",
                    rule=item.id,
                )
            elif name in LIST_OUTPUTS:
                self.sink.error(
                    file,
                    line,
                    col,
                    "T302",
                    f"output_order cannot rank {key!r}: it is a list output, whose values are "
                    "not ranked (use hit: collect to union the lists of every matching row)",
                    rule=item.id,
                )
            elif model.hit != "priority":
                self.sink.error(
                    file,
                    line,
                    col,
                    "T302",
                    f"output_order is used by hit: priority only; this table's hit is "
                    f"{model.hit!r}, so the order would be ignored",
                    rule=item.id,
                )
        if model.hit == "priority" and not any(self.output_order(model, o) for o in outputs):
            line, col = item.loc.at((*item.path, "hit"))
            ranked = [o for o in outputs if o not in LIST_OUTPUTS]
            how = (
                f"add output_order: {{{ranked[0]}: [most, …, least important]}}"
                if ranked
                else "its outputs are lists, which are not ranked"
            )
            self.sink.error(
                file,
                line,
                col,
                "T301",
                f"hit: priority needs an order of output values, and none of "
                f"{', '.join(outputs)} has one, so it would act as hit: first; {how}, or "
                "write hit: first",
                rule=item.id,
            )

    def row_outputs(
        self, item: Item, row_path: Path_, model: TableModel, outputs: list[str], cells: list[Any]
    ) -> tuple[Then | None, tuple[int, ...]]:
        """Output cells as a ``Then`` (so outcome checks are shared) and the priority rank."""
        data: dict[str, Any] = {}
        rank: list[int] = []
        offset = len(model.inputs)
        for c, (name, cell) in enumerate(zip(outputs, cells, strict=False)):
            line, col = item.loc.at((*row_path, offset + c))
            try:
                value = output_value(cell, name in LIST_OUTPUTS)
            except CellError as exc:
                self.sink.error(
                    item.loc.file,
                    line,
                    col,
                    "T300",
                    f"cell {_shown_cell(cell)}: {exc}",
                    rule=item.id,
                )
                return None, ()
            order = self.output_order(model, name)
            if value is None:
                rank.append(len(order) + 1)
                continue
            rank.append(
                order.index(value) if isinstance(value, str) and value in order else len(order)
            )
            if name == "severity":
                data["severity"] = {"at_least": value}
            elif name == "departments.lead":
                data.setdefault("departments", {})["lead"] = value
            elif name == "departments.co":
                data.setdefault("departments", {})["co"] = list(value)
            elif name == "experts.required":
                data.setdefault("experts", {})["require"] = list(value)
            elif name == "experts.suggested":
                data.setdefault("experts", {})["suggest"] = list(value)
            elif name.startswith("deadlines."):
                problem = _period_error(str(value))
                if problem:  # located at the cell, not the row
                    self.sink.error(item.loc.file, line, col, "P207", problem, rule=item.id)
                    return None, ()
                data.setdefault("deadlines", {})[name.removeprefix("deadlines.")] = value
            else:
                data[name] = list(value) if isinstance(value, tuple) else value
        try:
            return Then.model_validate(data), tuple(rank)
        except ValidationError as exc:
            line, col = item.loc.at(row_path)
            for err in exc.errors(include_url=False):
                self.sink.error(
                    item.loc.file,
                    line,
                    col,
                    "T300",
                    describe_validation_error(err),
                    rule=item.id,
                )
            return None, ()

    def output_order(self, model: TableModel, name: str) -> list[str]:
        for key, values in model.output_order.items():
            if TABLE_OUTPUT_ALIASES.get(key, key) == name:
                return values
        if name == "tier":
            return [Tier.MAJOR.value, Tier.GENERAL.value]
        if name == "chair":
            return [Chair.LEADER_IN_CHARGE.value, Chair.OFFICE_HEAD.value]
        if name == "severity":
            return list(reversed(self.levels))
        return []


def _content_hash(merged: Merged, pack: PackFile) -> str:
    def dump(model: BaseModel) -> Any:
        return model.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    content = {
        "id": pack.id,
        "version": pack.version,
        "severity_levels": list(merged.severity_levels or ()),
        "default_tier": merged.default_tier,
        "default_chair": merged.default_chair,
        "calendar": merged.calendar,
        "departments": [dump(d) for d in merged.departments.values()],
        "experts": [dump(e) for e in merged.experts.values()],
        "domains": [dump(d) for d in merged.domains.values()],
        "items": [dump(i.model) for i in merged.items.values()],
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def resolve_source(
    source: str | Path, search_paths: Sequence[Path], plugin_packs: Mapping[str, str | Path]
) -> Path | None:
    """A pack argument: a folder, a ``pack.yaml`` path, or a pack id."""
    path = Path(source)
    if path.is_file() and path.name == PACK_FILE:
        return path.parent
    if path.is_dir():
        return path
    loader = Loader(search_paths, plugin_packs, None)
    return loader.find(str(source))


def load_pack(
    source: str | Path,
    *,
    search_paths: Sequence[str | Path] = (),
    plugin_packs: Mapping[str, str | Path] | None = None,
    actions: Collection[str] | None = None,
    analyse: bool = True,
) -> ResolvedPack:
    """Load, resolve, type-check and compile a pack.

    ``source`` is a pack folder, its ``pack.yaml`` or a pack id (looked up among
    ``plugin_packs`` and the ``search_paths`` folders, like every base named in ``extends``).
    ``plugin_packs`` maps pack ids to folders; left out, it is the packs of the installed
    plugins (the ``zhenshen`` entry points, unless ``ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD`` is set),
    looked up only when an id is asked for, so ``load_pack("cn.chengdu.gaoxin")`` works as
    ``zhenshen eval --pack cn.chengdu.gaoxin`` does; pass ``{}`` to use ``search_paths`` alone.
    ``actions`` is the set of registered action names; when given, a rule naming any other
    action is an error (the CLI always passes the plugins' actions). Raises ``PackError`` listing
    every error; warnings (and, with ``analyse``, the static analysis of ``analysis.py``) are
    kept on ``ResolvedPack.warnings``.
    """
    paths = [Path(p) for p in search_paths]
    plugins = InstalledPacks() if plugin_packs is None else plugin_packs
    loader = Loader(paths, plugins, actions)
    folder = resolve_source(source, paths, plugins)
    return _finish(loader, folder, source, analyse)


class InstalledPacks(Mapping[str, Path]):
    """The rule packs of the installed plugins, found when first read.

    A fresh plugin host is built for that (no module-level registry), so a folder pack with
    no ``extends`` never imports a plugin.
    """

    def __init__(self) -> None:
        self._packs: dict[str, Path] | None = None

    def _get(self) -> dict[str, Path]:
        if self._packs is None:
            from zhenshen_core.plugins import PluginConfig, PluginHost

            # Entry points only: a project's zhenshen_local.py is the CLI's, not a library's.
            host = PluginHost(PluginConfig(autoload=PluginConfig.from_env().autoload))
            self._packs = {pid: Path(rec.path) for pid, rec in host.rule_packs().items()}
        return self._packs

    def __getitem__(self, key: str) -> Path:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def load_documents(
    packs: Mapping[str, Mapping[str, Any]],
    pack_id: str,
    *,
    actions: Collection[str] | None = None,
    analyse: bool = True,
) -> ResolvedPack:
    """Load ``pack_id`` from in-memory documents (``{id: {file name: parsed YAML}}``)."""
    loader = MemoryLoader(packs, actions)
    return _finish(loader, loader.find(pack_id), pack_id, analyse)


def _finish(loader: Loader, folder: Path | None, source: str | Path, analyse: bool) -> ResolvedPack:
    if folder is None:
        known = sorted(loader.index())
        close = difflib.get_close_matches(str(source), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise PackError(
            [
                Diagnostic(
                    str(source), 1, 1, "P203", f"no pack folder or pack id {str(source)!r}{hint}"
                )
            ],
            summary=f"pack {str(source)!r} not found{hint}",
        )
    merged = loader.merged(folder, ())
    raw = loader.raw(folder)
    if merged is None or raw is None:
        raise PackError(loader.sink.items)
    if not merged.severity_levels:
        line, col = raw.loc.at(())
        loader.sink.error(
            raw.loc.file,
            line,
            col,
            "P201",
            "severity_levels is required (in this pack or a base pack)",
        )
        raise PackError(loader.sink.items)
    for name, enum in (("default_tier", Tier), ("default_chair", Chair)):
        value = getattr(merged, name)
        if value is not None and value not in {m.value for m in enum}:
            line, col = raw.loc.at((name,))
            loader.sink.error(
                raw.loc.file,
                line,
                col,
                "R104",
                f"{name} {value!r} is not one of: {', '.join(m.value for m in enum)}",
            )
    from zhenshen_core.rules.pack.analysis import analyse_pack

    compiler = Compiler(merged, merged.severity_levels, loader)
    compiler.run()
    dates = _date_facts(compiler, loader.sink)
    resolved = _resolved(loader, folder, merged, raw, compiler, dates)
    if loader.sink.errors:
        # The warnings of the static analysis too, on the rules that did compile: ``check``
        # reports everything at once, not the warnings only once every error is fixed.
        extra = analyse_pack(resolved) if analyse else []
        raise PackError([*loader.sink.items, *extra])
    if analyse:
        extra = analyse_pack(resolved)
        if extra:
            from dataclasses import replace

            resolved = replace(
                resolved,
                warnings=(*resolved.warnings, *extra),
                _by_stage={},
                level_rank={},
                _reads=set(),
            )
    return resolved


def _date_facts(compiler: Compiler, sink: DiagnosticSink) -> frozenset[str]:
    """The facts the pack reads as dates (``rules.datefacts``); a string that looks like a date
    compared with one of them is an error (R102), since it could never match."""
    from zhenshen_core.rules.pack.datefacts import date_facts, dated_strings, fact_literals

    conditions = [(s.file, s.id, s.condition) for s in compiler.specs]
    conditions += [(c.file, c.id, c.when) for c in compiler.crosscase]
    dates = date_facts(condition for _, _, condition in conditions)
    if not dates:
        return dates
    first: dict[str, str] = {}
    for file, _, condition in conditions:
        for found in fact_literals(condition):
            if isinstance(found.value, date):
                first.setdefault(found.field, f"{file}:{found.span.line}:{found.span.column}")
    for file, rule, condition in conditions:
        for _, found in dated_strings([(file, condition)], dates):
            sink.error(
                file,
                found.span.line,
                found.span.column,
                "R102",
                f"{found.field} is compared with a date at {first[found.field]}, so its ISO "
                f"date values are read as dates; the string {found.value!r} never equals one: "
                f'write date("{found.value}")',
                rule=rule,
            )
    return dates


def _resolved(
    loader: Loader,
    folder: Path,
    merged: Merged,
    raw: Any,
    compiler: Compiler,
    dates: frozenset[str] = frozenset(),
) -> ResolvedPack:
    return ResolvedPack(
        id=raw.pack.id,
        version=raw.pack.version,
        name=raw.pack.name,
        sha256=_content_hash(merged, raw.pack),
        severity_levels=merged.severity_levels or (),  # checked before compiling
        default_tier=merged.default_tier,
        default_chair=merged.default_chair,
        calendar=merged.calendar,
        departments=dict(merged.departments),
        experts=dict(merged.experts),
        domains=dict(merged.domains),
        rules=tuple(compiler.specs),
        tables=tuple(compiler.tables),
        crosscase=tuple(compiler.crosscase),
        warnings=tuple(loader.sink.items),
        path=str(folder),
        lineage=tuple(merged.lineage),
        date_facts=dates,
        disabled=dict(merged.disabled),
    )


__all__ = [
    "PACK_FILE",
    "InstalledPacks",
    "Located",
    "MemoryLoader",
    "load_documents",
    "load_pack",
    "read_yaml",
    "resolve_source",
]
