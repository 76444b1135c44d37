"""Partial matching of an expected decision against the actual one, and readable differences.

Why partial: a test states what it is about (this case is S3 and goes to 市场监管局) and stays
green when an unrelated rule adds a tag. Lists compare as sets because rule order is not a
meaning; ``{contains, excludes}`` is there for packs that extend a base whose rules add more.
Golden files are the opposite tool: the whole decision, exactly, to catch *any* change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zhenshen_core.rules.tester.model import LIST_FIELDS, TestSpec


@dataclass(frozen=True)
class Mismatch:
    """One difference: where, what the test wanted, what the pack decided."""

    path: str
    expected: Any
    actual: Any
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "expected": self.expected,
            "actual": self.actual,
            "message": self.message(),
        }

    def message(self) -> str:
        text = f"{self.path}: expected {show(self.expected)}, got {show(self.actual)}"
        return f"{text} ({self.note})" if self.note else text


def show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _get(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _list_note(missing: Sequence[str], unexpected: Sequence[str]) -> str:
    parts = []
    if missing:
        parts.append(f"missing {show(list(missing))}")
    if unexpected:
        parts.append(f"unexpected {show(list(unexpected))}")
    return "; ".join(parts)


def _match_list(path: str, expected: Any, actual: Any) -> Mismatch | None:
    have = list(actual or [])
    if isinstance(expected, Mapping):
        contains = list(expected.get("contains") or [])
        excludes = list(expected.get("excludes") or [])
        missing = [x for x in contains if x not in have]
        present = [x for x in excludes if x in have]
        if missing or present:
            note = _list_note(missing, [])
            if present:
                note = "; ".join(filter(None, [note, f"must not contain {show(present)}"]))
            return Mismatch(path, dict(expected), have, note)
        return None
    want = list(expected or [])
    missing = [x for x in want if x not in have]
    unexpected = [x for x in have if x not in want]
    if missing or unexpected:
        return Mismatch(path, want, have, _list_note(missing, unexpected))
    return None


def _flatten(expect: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in expect.items():
        path = f"{prefix}{key}"
        if path in LIST_FIELDS or path == "deadlines":
            yield path, value
        elif isinstance(value, Mapping):
            yield from _flatten(value, path + ".")
        else:
            yield path, value


def match_expect(expect: Mapping[str, Any], actual: Mapping[str, Any]) -> list[Mismatch]:
    """Every difference between the fields ``expect`` names and the decision ``actual``."""
    problems: list[Mismatch] = []
    for path, want in _flatten(expect):
        have = _get(actual, path)
        if path in LIST_FIELDS:
            found = _match_list(path, want, have)
            if found is not None:
                problems.append(found)
        elif path == "deadlines":
            clocks = have or {}
            for clock, period in want.items():
                got = clocks.get(clock)
                if got != period:
                    note = "no such clock" if got is None and period is not None else ""
                    problems.append(Mismatch(f"deadlines.{clock}", period, got, note))
        elif have != want:
            problems.append(Mismatch(path, want, have))
    return problems


def fired_matches(wanted: str, fired_id: str) -> bool:
    """A rule id, or a table id standing for any of its rows (``tier`` matches ``tier#2``)."""
    return fired_id == wanted or fired_id.startswith(wanted + "#")


def match_fired(test: TestSpec, fired: Sequence[str]) -> list[Mismatch]:
    problems: list[Mismatch] = []
    missing = [w for w in test.fired if not any(fired_matches(w, f) for f in fired)]
    if missing:
        problems.append(
            Mismatch("fired", list(test.fired), list(fired), f"did not fire: {show(missing)}")
        )
    if test.fired_exact:
        extra = [f for f in fired if not any(fired_matches(w, f) for w in test.fired)]
        if extra:
            problems.append(
                Mismatch(
                    "fired (exact)", list(test.fired), list(fired), f"also fired: {show(extra)}"
                )
            )
    wrong = [w for w in test.not_fired if any(fired_matches(w, f) for f in fired)]
    if wrong:
        problems.append(
            Mismatch(
                "not_fired", list(test.not_fired), list(fired), f"fired but must not: {show(wrong)}"
            )
        )
    return problems


def golden_view(decision: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a decision a golden file pins: everything but the pack's version and hash,
    which change with every edit of the pack and would make every golden file fail."""
    view = dict(decision)
    pack = view.get("pack")
    if isinstance(pack, Mapping):
        view["pack"] = {"id": pack.get("id")}
    return view


def match_exact(expected: Any, actual: Any, path: str = "") -> list[Mismatch]:
    """A deep, exact comparison (golden files): mappings key by key, lists item by item."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        problems: list[Mismatch] = []
        for key in list(expected) + [k for k in actual if k not in expected]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in actual:
                problems.append(Mismatch(sub, expected[key], None, "missing"))
            elif key not in expected:
                problems.append(Mismatch(sub, None, actual[key], "unexpected"))
            else:
                problems.extend(match_exact(expected[key], actual[key], sub))
        return problems
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        problems = []
        for i, (a, b) in enumerate(zip(expected, actual, strict=True)):
            problems.extend(match_exact(a, b, f"{path}[{i}]"))
        return problems
    if expected != actual:
        return [Mismatch(path or "(decision)", expected, actual)]
    return []


def unknown_rule_ids(test: TestSpec, known: Iterable[str]) -> list[str]:
    """Ids in ``fired``/``not_fired`` that name no rule, row or table of the pack (typos)."""
    ids = set(known)
    tables = {i.split("#", 1)[0] for i in ids if "#" in i}
    return [w for w in (*test.fired, *test.not_fired) if w not in ids and w not in tables]


__all__ = [
    "Mismatch",
    "fired_matches",
    "golden_view",
    "match_exact",
    "match_expect",
    "match_fired",
    "show",
    "unknown_rule_ids",
]
