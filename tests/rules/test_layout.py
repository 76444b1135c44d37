"""The rules package keeps the shape the architecture describes: no import cycle, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

RULES = Path(__file__).resolve().parents[2] / "src" / "zhenshen_core" / "rules"
SRC = RULES.parents[1]
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    found = {}
    for path in RULES.rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, known: dict[str, Path]) -> set[str]:
    """Every rules module ``path`` imports, at module level, in a function or for type checks."""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in known:
                targets.add(node.module)
            targets.update(
                f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known
            )
        elif isinstance(node, ast.Import):
            targets.update(a.name for a in node.names if a.name in known)
    return targets


def test_no_import_cycle_in_rules() -> None:
    known = _modules()
    graph = {name: _imports(path, known) for name, path in known.items()}
    # a package imports its own submodules to re-export them; that is no cycle
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError(" -> ".join([*trail[trail.index(name) :], name]))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_modules_over_600_lines_say_why() -> None:
    long = []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        reason = "Over 600 lines on purpose" in (ast.get_docstring(ast.parse(text)) or "")
        if text.count("\n") > MAX_LINES and not reason:
            long.append(name)
    assert not long, long
