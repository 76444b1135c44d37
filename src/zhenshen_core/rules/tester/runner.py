"""Collecting and running pack tests; the result every report format is written from.

The runner is a library API first (``run_pack_tests``) so that the CLI, the pytest plugin and a
district's own CI scripts run tests the same way; the CLI only parses arguments and prints.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from zhenshen_core.errors import CaseValidationError
from zhenshen_core.model.lifecycle import load_case
from zhenshen_core.rules.diagnostics import Diagnostic, EvaluationError, PackError
from zhenshen_core.rules.engines.base import Engine
from zhenshen_core.rules.engines.registry import make_engine
from zhenshen_core.rules.pack.limits import MAX_FILE_BYTES
from zhenshen_core.rules.pack.model import ResolvedPack
from zhenshen_core.rules.tester.files import pack_test_files
from zhenshen_core.rules.tester.matching import (
    Mismatch,
    golden_view,
    match_exact,
    match_expect,
    match_fired,
    unknown_rule_ids,
)
from zhenshen_core.rules.tester.model import TestFile, TestSpec, case_data, read_test_file
from zhenshen_core.rules.tester.reachable import impossible_expectations
from zhenshen_core.textio import json_loads, read_text

if TYPE_CHECKING:
    from zhenshen_core.plugins.host import PluginHost

PACK_FILE = "pack.yaml"
TESTS_DIR = "tests"
PACK_PATH_ENV = "ZHENSHEN_PACK_PATH"
_SKIP_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        "build",
        "dist",
        "golden",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)

Outcome = Literal["passed", "failed", "error", "skipped"]


def display(path: Path) -> str:
    """Paths relative to the working directory when possible: short and clickable."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- collection -------------------------------------------------------------------------------


class NoPacksFound(FileNotFoundError):
    """A folder argument holds no pack at all: nothing to collect (exit 5, like pytest)."""


@dataclass
class PackUnderTest:
    """A pack named on the command line, its loaded form (or load error) and its test files."""

    source: str
    folder: Path | None
    pack: ResolvedPack | None = None
    error: PackError | None = None
    files: list[TestFile] = field(default_factory=list)
    only_files: list[Path] | None = None

    @property
    def label(self) -> str:
        return self.pack.id if self.pack is not None else self.source

    @property
    def tests(self) -> list[TestSpec]:
        return [t for f in self.files for t in f.tests]


def _is_skipped(path: Path, root: Path) -> bool:
    return any(
        part.startswith(".") or part in _SKIP_DIRS for part in path.relative_to(root).parts[:-1]
    )


def _pack_folder_of(path: Path) -> Path | None:
    for folder in path.resolve().parents:
        if (folder / PACK_FILE).is_file():
            return folder
    return None


def test_files_of(folder: Path) -> list[Path]:
    """``tests/**/*.yaml`` of a pack folder, sorted."""
    root = folder / TESTS_DIR
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix in (".yaml", ".yml") and p.is_file() and not _is_skipped(p, root)
    )


def find_packs(arguments: Sequence[str]) -> list[PackUnderTest]:
    """Turn arguments into packs: a pack folder, a test file (its pack is the nearest folder
    above with ``pack.yaml``), a folder holding packs further down, or else a pack id."""
    found: dict[str, PackUnderTest] = {}
    order: list[str] = []

    def add(source: str, folder: Path | None, only: Path | None = None) -> None:
        key = str(folder.resolve()) if folder is not None else f"id:{source}"
        put = found.get(key)
        if put is None:
            put = PackUnderTest(source, folder, only_files=[] if only is not None else None)
            found[key] = put
            order.append(key)
        if only is None:
            put.only_files = None
        elif put.only_files is not None:
            put.only_files.append(only)

    for argument in arguments or ["."]:
        path = Path(argument)
        if path.is_file() and path.name != PACK_FILE and path.suffix in (".yaml", ".yml"):
            folder = _pack_folder_of(path)
            if folder is None:
                raise FileNotFoundError(
                    f"{argument}: no {PACK_FILE} in its folder or above, so its pack is unknown"
                )
            add(argument, folder, path)
        elif path.is_file() and path.name == PACK_FILE:
            add(argument, path.parent)
        elif path.is_dir() and (path / PACK_FILE).is_file():
            add(argument, path)
        elif path.is_dir():
            packs = sorted(p.parent for p in path.rglob(PACK_FILE) if not _is_skipped(p, path))
            if not packs:
                raise NoPacksFound(f"{argument}: no {PACK_FILE} in this folder or below")
            for folder in packs:
                add(display(folder), folder)
        else:
            add(argument, None)
    return [found[k] for k in order]


def load_packs(
    packs: Iterable[PackUnderTest],
    *,
    search_paths: Sequence[Path] = (),
    plugin_packs: Mapping[str, Path] | None = None,
    actions: Collection[str] | None = None,
) -> None:
    """Load each pack (errors are kept on the pack) and read its test files."""
    from zhenshen_core.rules.pack.extends import resolve_source
    from zhenshen_core.rules.pack.loader import load_pack

    for put in packs:
        target: str | Path = put.folder if put.folder is not None else put.source
        try:
            put.pack = load_pack(
                target,
                search_paths=search_paths,
                plugin_packs=plugin_packs,
                actions=actions,
                analyse=False,
            )
        except PackError as exc:
            put.error = exc
        if put.folder is None:
            put.folder = resolve_source(put.source, list(search_paths), dict(plugin_packs or {}))
        if put.folder is None:
            continue
        if put.only_files is not None:  # files named on the command line: the user's choice
            put.files = [read_test_file(p, display(p)) for p in put.only_files]
        else:
            put.files = pack_test_files(put.folder, test_files_of(put.folder), display)



def default_search_paths() -> list[Path]:
    return [Path(p) for p in os.environ.get(PACK_PATH_ENV, "").split(os.pathsep) if p]


# --- running ----------------------------------------------------------------------------------


@dataclass
class TestResult:
    """What happened to one test."""

    __test__ = False

    test: TestSpec
    pack: str
    outcome: Outcome
    mismatches: list[Mismatch] = field(default_factory=list)
    message: str = ""
    decision: dict[str, Any] | None = None
    duration: float = 0.0
    golden_updated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.test.name,
            "file": str(self.test.file),
            "line": self.test.line,
            "pack": self.pack,
            "outcome": self.outcome,
            "duration_s": round(self.duration, 6),
            "message": self.message,
            "mismatches": [m.as_dict() for m in self.mismatches],
            "fired": [f["rule"] for f in (self.decision or {}).get("fired", [])],
            "golden_updated": self.golden_updated,
        }


def _rule_ids(pack: ResolvedPack) -> list[str]:
    return [spec.id for spec in pack.rules]


def _error(test: TestSpec, pack: str, message: str, key: str | None = None) -> TestResult:
    line = test.key_lines.get(key, test.line) if key else test.line
    where = f"{test.file}:{line}"
    return TestResult(test, pack, "error", message=f"{where}: {message}")


def run_test(
    test: TestSpec, pack: ResolvedPack, engine: Engine, *, update_golden: bool = False
) -> TestResult:
    """Evaluate one test's case and compare; never raises for bad test data."""
    started = time.perf_counter()
    result = _run(test, pack, engine, update_golden)
    result.duration = time.perf_counter() - started
    return result


def _run(test: TestSpec, pack: ResolvedPack, engine: Engine, update_golden: bool) -> TestResult:
    if test.skip is not None:
        return TestResult(test, pack.id, "skipped", message=test.skip)
    unknown = unknown_rule_ids(test, _rule_ids(pack))
    if unknown:
        import difflib

        hints = []
        for rule in unknown:
            close = difflib.get_close_matches(rule, _rule_ids(pack), n=1)
            hints.append(f"{rule!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        key = "fired" if any(u in test.fired for u in unknown) else "not_fired"
        return _error(test, pack.id, f"unknown rule id {', '.join(hints)} in pack {pack.id}", key)
    impossible = impossible_expectations(test.expect, pack)
    if impossible:
        message = "expected values no decision can hold: " + "; ".join(impossible)
        return _error(test, pack.id, message, "expect")
    try:
        case = load_case(case_data(test))
    except CaseValidationError as exc:
        return _error(test, pack.id, f"case: {exc}", "case")
    try:
        decision = engine.evaluate(case).to_dict()
    except (EvaluationError, ValueError) as exc:
        return _error(test, pack.id, f"evaluation failed: {exc}", "case")
    result = TestResult(test, pack.id, "passed", decision=decision)
    result.mismatches.extend(match_expect(test.expect, decision))
    result.mismatches.extend(match_fired(test, [f["rule"] for f in decision["fired"]]))
    if test.golden is not None:
        _check_golden(test, decision, result, update_golden)
    if result.mismatches and result.outcome == "passed":
        result.outcome = "failed"
    return result


def _check_golden(
    test: TestSpec, decision: Mapping[str, Any], result: TestResult, update: bool
) -> None:
    assert test.golden is not None
    view = golden_view(decision)
    path = test.golden
    expected: Any = None
    if path.is_file():
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ValueError(f"larger than {MAX_FILE_BYTES:,} bytes")
            expected = json_loads(read_text(path))
        except (OSError, ValueError) as exc:
            if not update:
                result.outcome = "error"
                result.message = f"{display(path)}: golden file is not valid JSON: {exc}"
                return
    if update:
        if expected != view:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(view, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            result.golden_updated = True
        return
    if expected is None:
        result.mismatches.append(
            Mismatch(
                "golden",
                None,
                None,
                f"{display(path)} does not exist; run with --update-golden to write it",
            )
        )
        return
    for mismatch in match_exact(expected, view):
        result.mismatches.append(
            Mismatch(f"golden {mismatch.path}", mismatch.expected, mismatch.actual, mismatch.note)
        )


# --- coverage ---------------------------------------------------------------------------------


@dataclass
class RuleCoverage:
    id: str
    kind: Literal["rule", "row"]
    file: str
    line: int
    hits: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "file": self.file,
            "line": self.line,
            "hits": self.hits,
        }


@dataclass
class PackCoverage:
    """Coverage of the rules and table rows a pack defines itself (not its bases': they are
    covered by the base pack's own tests)."""

    pack: str
    items: list[RuleCoverage]

    def _count(self, kind: str, fired: bool | None = None) -> int:
        return sum(
            1 for i in self.items if i.kind == kind and (fired is None or (i.hits > 0) == fired)
        )

    @property
    def covered(self) -> int:
        return sum(1 for i in self.items if i.hits)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / len(self.items) if self.items else 100.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "rules": {"total": self._count("rule"), "fired": self._count("rule", True)},
            "rows": {"total": self._count("row"), "fired": self._count("row", True)},
            "percent": round(self.percent, 2),
            "never_fired": [i.as_dict() for i in self.items if not i.hits],
            "items": [i.as_dict() for i in self.items],
        }


@dataclass
class Coverage:
    packs: list[PackCoverage]

    @property
    def total(self) -> int:
        return sum(len(p.items) for p in self.packs)

    @property
    def covered(self) -> int:
        return sum(p.covered for p in self.packs)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "percent": round(self.percent, 2),
            "total": self.total,
            "fired": self.covered,
            "packs": [p.as_dict() for p in self.packs],
        }


def _own(spec_file: str, folder: Path | None) -> bool:
    if folder is None:
        return True
    try:
        Path(spec_file).resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def coverage_of(packs: Sequence[PackUnderTest], results: Sequence[TestResult]) -> Coverage:
    hits: dict[str, dict[str, int]] = {}
    for result in results:
        if result.decision is None:
            continue
        per = hits.setdefault(result.pack, {})
        for fired in result.decision.get("fired", []):
            per[fired["rule"]] = per.get(fired["rule"], 0) + 1
    out = []
    for put in packs:
        if put.pack is None:
            continue
        per = hits.get(put.pack.id, {})
        items = [
            RuleCoverage(
                spec.id,
                "row" if spec.table is not None else "rule",
                spec.file,
                spec.line,
                per.get(spec.id, 0),
            )
            for spec in put.pack.rules
            if _own(spec.file, put.folder)
        ]
        out.append(PackCoverage(put.pack.id, items))
    return Coverage(out)


# --- the whole run ----------------------------------------------------------------------------


@dataclass
class TestRun:
    """Everything a report needs; ``exit_code`` applies pytest's codes."""

    __test__ = False

    packs: list[PackUnderTest]
    results: list[TestResult] = field(default_factory=list)
    coverage: Coverage | None = None
    duration: float = 0.0
    stopped_early: bool = False
    deselected: int = 0

    @property
    def collection_errors(self) -> list[Diagnostic]:
        return [d for p in self.packs for f in p.files for d in f.problems]

    @property
    def load_errors(self) -> list[PackUnderTest]:
        return [p for p in self.packs if p.error is not None]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def ok(self) -> bool:
        return not (
            self.load_errors
            or self.collection_errors
            or self.count("failed")
            or self.count("error")
        )

    def exit_code(self, threshold: float | None = None) -> int:
        if self.load_errors:
            return 3
        if self.collection_errors or self.count("failed") or self.count("error"):
            return 1
        if not self.results:
            return 5
        if (
            threshold is not None
            and self.coverage is not None
            and self.coverage.percent + 1e-9 < threshold
        ):
            return 1
        return 0

    def summary(self) -> dict[str, Any]:
        return {
            "passed": self.count("passed"),
            "failed": self.count("failed"),
            "errors": self.count("error") + len(self.collection_errors),
            "skipped": self.count("skipped"),
            "deselected": self.deselected,
            "total": len(self.results),
            "golden_updated": sum(1 for r in self.results if r.golden_updated),
            "duration_s": round(self.duration, 3),
        }


def run_tests(
    packs: list[PackUnderTest],
    *,
    select: Callable[[TestSpec], bool] | None = None,
    fail_fast: bool = False,
    update_golden: bool = False,
    engine: str = "compiled",
    coverage: bool = False,
    on_result: Callable[[TestResult], None] | None = None,
    host: PluginHost | None = None,
) -> TestRun:
    """Run the tests of loaded packs (``load_packs``) in file order, on the engine named
    ``engine`` (``engines.registry.make_engine``; a plugin's engine is found through ``host``)."""
    started = time.perf_counter()
    run = TestRun(packs)
    for put in packs:
        if put.pack is None:
            continue
        built = make_engine(engine, put.pack, host=host)
        for test in put.tests:
            if select is not None and not select(test):
                run.deselected += 1
                continue
            result = run_test(test, put.pack, built, update_golden=update_golden)
            run.results.append(result)
            if on_result is not None:
                on_result(result)
            if fail_fast and result.outcome in ("failed", "error"):
                run.stopped_early = True
                break
        if run.stopped_early:
            break
    if coverage:
        run.coverage = coverage_of(packs, run.results)
    run.duration = time.perf_counter() - started
    return run


def run_pack_tests(
    arguments: Sequence[str | Path],
    *,
    search_paths: Sequence[Path] | None = None,
    plugin_packs: Mapping[str, Path] | None = None,
    actions: Collection[str] | None = None,
    **options: Any,
) -> TestRun:
    """Collect, load and run in one call (the Python API of ``zhenshen test``).

    ``search_paths`` defaults to ``ZHENSHEN_PACK_PATH``; ``options`` go to :func:`run_tests`.
    """
    packs = find_packs([str(a) for a in arguments])
    load_packs(
        packs,
        search_paths=default_search_paths() if search_paths is None else search_paths,
        plugin_packs=plugin_packs,
        actions=actions,
    )
    return run_tests(packs, **options)


__all__ = [
    "Coverage",
    "NoPacksFound",
    "PackCoverage",
    "PackUnderTest",
    "RuleCoverage",
    "TestResult",
    "TestRun",
    "coverage_of",
    "default_search_paths",
    "display",
    "find_packs",
    "load_packs",
    "run_pack_tests",
    "run_test",
    "run_tests",
    "test_files_of",
]
