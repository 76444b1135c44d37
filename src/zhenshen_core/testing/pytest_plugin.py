"""An opt-in pytest plugin that runs rule-pack YAML tests as pytest items.

Enable it with ``-p zhenshen_core.testing.pytest_plugin`` (or ``addopts`` in the ini file, or
``pytest_plugins = ["zhenshen_core.testing.pytest_plugin"]`` in the root ``conftest.py``). It is
deliberately not registered through an entry point: projects that do not test packs pay
nothing, and a pytest run never changes behaviour because a library was installed.

Collected files: YAML files in a ``tests/`` folder whose parent folder holds ``pack.yaml`` (a
pack's own tests), plus files matching the ini option ``zhenshen_test_files`` (globs relative to
the rootdir). Each test in a file is one item named after the test; ``-k`` works on those names.
A failure shows the test's file:line, each difference (expected / actual) and the rules that
fired with their values, like ``zhenshen test``. Packs are loaded once per session; ``extends``
finds base packs registered by installed plugins and in ``ZHENSHEN_PACK_PATH``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from zhenshen_core.rules.diagnostics import Diagnostic, PackError
from zhenshen_core.rules.engines.base import Engine
from zhenshen_core.rules.engines.registry import make_engine
from zhenshen_core.rules.pack.model import ResolvedPack
from zhenshen_core.rules.tester.model import TestSpec, read_test_file
from zhenshen_core.rules.tester.report import TextReporter
from zhenshen_core.rules.tester.runner import (
    PACK_FILE,
    TESTS_DIR,
    TestResult,
    default_search_paths,
    run_test,
)

INI_GLOBS = "zhenshen_test_files"


@dataclass
class _Packs:
    """Per-session cache: pack folder → loaded pack and engine, or the load error."""

    loaded: dict[Path, tuple[ResolvedPack, Engine] | PackError] = field(default_factory=dict)
    plugin_packs: dict[str, Path] | None = None

    def get(self, folder: Path) -> tuple[ResolvedPack, Engine] | PackError:
        key = folder.resolve()
        if key not in self.loaded:
            self.loaded[key] = self._load(key)
        return self.loaded[key]

    def _load(self, folder: Path) -> tuple[ResolvedPack, Engine] | PackError:
        from zhenshen_core.rules.pack.loader import load_pack

        if self.plugin_packs is None:
            from zhenshen_core.plugins import PluginConfig, PluginHost

            host = PluginHost(PluginConfig.from_env())
            self.plugin_packs = {k: Path(v.path) for k, v in host.rule_packs().items()}
        try:
            pack = load_pack(
                folder,
                search_paths=default_search_paths(),
                plugin_packs=self.plugin_packs,
                analyse=False,
            )
        except PackError as exc:
            return exc
        return pack, make_engine("compiled", pack)


_PACKS_KEY = pytest.StashKey[_Packs]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_GLOBS,
        "globs of extra zhenshen pack test YAML files (rootdir-relative)",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_PACKS_KEY] = _Packs()


def _pack_folder(path: Path) -> Path | None:
    for folder in path.resolve().parents:
        if (folder / PACK_FILE).is_file():
            return folder
    return None


def _is_pack_test(path: Path, config: pytest.Config) -> bool:
    if path.suffix not in (".yaml", ".yml"):
        return False
    globs: list[str] = config.getini(INI_GLOBS)
    if globs:
        try:
            rel = path.resolve().relative_to(config.rootpath.resolve()).as_posix()
        except ValueError:
            rel = path.as_posix()
        if any(fnmatch.fnmatch(rel, g) for g in globs):
            return True
    parents = path.resolve().parents
    return any(p.name == TESTS_DIR and (p.parent / PACK_FILE).is_file() for p in parents)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_pack_test(file_path, parent.config):
        return PackTestFile.from_parent(parent, path=file_path)
    return None


class PackTestFile(pytest.File):
    """One pack test file; its tests are the items."""

    def collect(self) -> Iterator[pytest.Item]:
        folder = _pack_folder(self.path)
        loaded = read_test_file(self.path, str(self.path))
        if folder is None:
            problem = Diagnostic(
                str(self.path), 1, 1, "P203", f"no {PACK_FILE} in this file's folder or above"
            )
            yield ProblemItem.from_parent(self, name="(collection)", problems=[problem])
            return
        if loaded.problems:
            yield ProblemItem.from_parent(self, name="(collection)", problems=loaded.problems)
        for spec in loaded.tests:
            yield PackTestItem.from_parent(self, name=spec.name, spec=spec, folder=folder)


class PackTestFailure(Exception):
    """Raised by an item whose decision did not match; carries the whole result."""

    def __init__(self, result: TestResult) -> None:
        super().__init__(result.message or f"{len(result.mismatches)} difference(s)")
        self.result = result


class PackLoadFailure(Exception):
    def __init__(self, error: PackError) -> None:
        super().__init__(str(error))
        self.error = error


class PackTestItem(pytest.Item):
    def __init__(self, *, spec: TestSpec, folder: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.folder = folder
        if spec.skip is not None:
            self.add_marker(pytest.mark.skip(reason=spec.skip))

    def runtest(self) -> None:
        loaded = self.config.stash[_PACKS_KEY].get(self.folder)
        if isinstance(loaded, PackError):
            raise PackLoadFailure(loaded)
        pack, engine = loaded
        result = run_test(self.spec, pack, engine)
        if result.outcome == "skipped":
            pytest.skip(result.message)
        if result.outcome != "passed":
            raise PackTestFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        error = excinfo.value
        if isinstance(error, PackTestFailure):
            result = error.result
            if result.outcome == "error":
                return result.message
            lines = [f"{self.spec.location}  (pack {result.pack})"]
            lines.extend(TextReporter.mismatch(m).rstrip("\n") for m in result.mismatches)
            fired = (result.decision or {}).get("fired", [])
            lines.append("  rules that fired:" if fired else "  no rule fired")
            for item in fired:
                values = " ".join(f"{k}={v!r}" for k, v in item.get("values", {}).items())
                lines.append(f"    {item['stage']:<8}  {item['rule']}  {values}".rstrip())
            return "\n".join(lines)
        if isinstance(error, PackLoadFailure):
            return "pack failed to load:\n" + "\n".join(str(d) for d in error.error.diagnostics)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.spec.line - 1, f"{self.spec.file}::{self.spec.name}"


class ProblemItem(pytest.Item):
    """Stands for a test file's problems (YAML or schema errors) so they fail the run."""

    def __init__(self, *, problems: list[Diagnostic], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problems = problems

    def runtest(self) -> None:
        raise PackTestFileError(self.problems)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PackTestFileError):
            return "\n".join(str(d) for d in excinfo.value.problems)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}: invalid test file"


class PackTestFileError(Exception):
    def __init__(self, problems: list[Diagnostic]) -> None:
        super().__init__("; ".join(str(d) for d in problems))
        self.problems = problems


__all__ = ["PackTestFile", "PackTestItem", "ProblemItem", "pytest_collect_file"]
