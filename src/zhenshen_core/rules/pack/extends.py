"""Finding packs and resolving ``extends``: a pack's files read, validated and merged with its
bases' (child items override, ``disable`` removes), with a cycle or an unknown base reported at
its line. What comes out (``Merged``) is still unchecked: ``check`` parses and type-checks it.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from zhenshen_core.rules.diagnostics import (
    DiagnosticSink,
)
from zhenshen_core.rules.pack.confine import PackRoots, link_display
from zhenshen_core.rules.pack.limits import (
    MAX_EXTENDS_DEPTH,
    MAX_FILE_BYTES,
    MAX_PACK_BYTES,
    MAX_PACK_FILES,
    MAX_RULES,
    MAX_TABLE_ROWS,
    over,
)
from zhenshen_core.rules.pack.located import Located, Path_
from zhenshen_core.rules.pack.model import (
    CrossCaseModel,
    DepartmentSpec,
    DomainSpec,
    ExpertSpec,
    PackFile,
    RuleFile,
    RuleModel,
    TableModel,
)
from zhenshen_core.rules.pack.source import read_yaml, report_validation
from zhenshen_core.textio import (
    NotUtf8Error,
    read_text,
)

PACK_FILE = "pack.yaml"


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
        self.bytes_read = 0  # rule-file bytes of every pack this loader has read
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
        own = PackRoots(folder)
        if not own.admits(pack_path):
            shown = link_display(pack_path)
            self.sink.error(shown, 1, 1, "P210", own.refusal(pack_path, shown))
            return None
        loc = read_yaml(pack_path, self.sink, _display(pack_path))
        if loc is None:
            return None
        return self._pack_from(folder, loc, lambda pack: self._read_files(folder, pack, loc))

    def _read_files(self, folder: Path, pack: PackFile, loc: Located) -> list[Located | None]:
        """The pack's rule files, read only while the rule files of this load (the pack and
        its bases) hold at most ``MAX_PACK_BYTES`` together (each file's own limit is
        ``read_yaml``'s)."""
        paths = self._rule_files(folder, pack, loc)
        total = 0
        for path in paths:
            with contextlib.suppress(OSError):  # read_yaml reports it, with the reason
                total += path.stat().st_size
        self.bytes_read += total
        if self.bytes_read > MAX_PACK_BYTES:
            line, col = loc.at(())
            message = (
                f"with its bases the pack's rule files hold {self.bytes_read:,} bytes (its own "
                f"{len(paths)}: {total:,}); a pack with its bases may hold at most "
                f"{MAX_PACK_BYTES:,}"
            )
            self.sink.error(loc.file, line, col, "P209", message)
            return []
        return [self._read(path) for path in paths]

    def _read(self, path: Path) -> Located | None:
        return read_yaml(path, self.sink, _display(path))

    def _base_folders(self, pack: PackFile) -> list[Path]:
        """The folders of the bases ``pack`` declares (those that can be found)."""
        return [f for f in (self.find(b) for b in pack.extends) if f is not None]

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
            report_validation(exc, loc, (), self.sink)
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
        """The rule files: every ``*.yaml`` outside ``tests/``, or what ``include`` matches;
        each one's real path in the pack (``confine``), at most ``MAX_PACK_FILES`` of them."""
        roots = PackRoots(folder, lambda: self._base_folders(pack))
        result: list[Path] = []
        if pack.include is None:
            for path in folder.rglob("*.yaml"):
                parts = path.relative_to(folder).parts
                if parts == (PACK_FILE,) or "tests" in parts[:-1]:
                    continue
                if not roots.admits(path):
                    shown = link_display(path)
                    self.sink.error(shown, 1, 1, "P210", roots.refusal(path, shown))
                    continue
                result.append(path)
                if len(result) > MAX_PACK_FILES:
                    line, col = loc.at(())
                    message = over(len(result), MAX_PACK_FILES, "rule files or more")
                    self.sink.error(loc.file, line, col, "P209", f"the folder holds {message}")
                    return []
            return sorted(result)
        for i, pattern in enumerate(pack.include):
            line, col = loc.at(("include", i))
            if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
                self.sink.error(loc.file, line, col, "P208", "include globs must stay in the pack")
                continue
            matches = sorted(p for p in folder.glob(pattern) if p.is_file())
            if not matches:
                self.sink.error(loc.file, line, col, "P208", f"{pattern!r} matches no file")
            for match in matches:
                if match in result or match.name == PACK_FILE:
                    continue
                if not roots.admits(match):
                    shown = str(match.relative_to(folder))
                    refusal = roots.refusal(match, shown)
                    self.sink.error(loc.file, line, col, "P210", f"{pattern!r}: {refusal}")
                    continue
                result.append(match)
            if len(result) > MAX_PACK_FILES:
                message = over(len(result), MAX_PACK_FILES, "rule files")
                self.sink.error(loc.file, line, col, "P209", f"include matches {message}")
                return []
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
            report_validation(exc, loc, (), self.sink)
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
            if len(entries) > MAX_RULES:
                line, col = loc.at((key,))
                message = over(len(entries), MAX_RULES, f"entries under {key}")
                self.sink.error(loc.file, line, col, "P209", message)
                continue
            for i, entry in enumerate(entries):
                rule_id = entry.get("id") if isinstance(entry, dict) else None
                rows = entry.get("rows") if key == "tables" and isinstance(entry, dict) else None
                if isinstance(rows, list) and len(rows) > MAX_TABLE_ROWS:
                    line, col = loc.at((key, i, "rows"))
                    message = f"table {rule_id!r} has " + over(len(rows), MAX_TABLE_ROWS, "rows")
                    self.sink.error(loc.file, line, col, "P209", message, rule=rule_id)
                    continue
                try:
                    parsed = model.model_validate(entry)
                except ValidationError as exc:
                    report_validation(exc, loc, (key, i), self.sink, rule=rule_id)
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
            if len(stack) + 1 >= MAX_EXTENDS_DEPTH:
                chain = " → ".join((*stack[:2], "…", raw.pack.id, base_id))
                self.sink.error(
                    raw.loc.file,
                    line,
                    col,
                    "P209",
                    f"extends nests deeper than {MAX_EXTENDS_DEPTH} packs ({chain}); "
                    f"a pack's bases may nest at most {MAX_EXTENDS_DEPTH} levels",
                )
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
        if len(result.items) > MAX_RULES:
            line, col = raw.loc.at(("id",))
            message = over(len(result.items), MAX_RULES, "rules, tables and cross-case rules")
            message = f"with its bases the pack has {message}"
            self.sink.error(raw.loc.file, line, col, "P209", message)
            self._merged[folder] = None
            return None
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
        if pack_yaml.stat().st_size > MAX_FILE_BYTES:
            return None
        data = YAML(typ="safe").load(read_text(pack_yaml))
    except (OSError, NotUtf8Error, YAMLError, RecursionError):
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------------------------------------
# Compiling a merged pack.


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


__all__ = [
    "PACK_FILE",
    "InstalledPacks",
    "Item",
    "Loader",
    "MemoryLoader",
    "Merged",
    "RawPack",
    "resolve_source",
]
