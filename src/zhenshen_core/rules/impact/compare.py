"""Two decisions of one case compared output by output (``engines.outputs``), and the counts
over a corpus (mergeable: workers build one per chunk)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zhenshen_core.rules.engines.outputs import OUTPUTS, OutputKind


def _rank(levels: Sequence[str], level: str) -> int:
    return levels.index(level) if level in levels else -1


def _list_delta(old: Sequence[str], new: Sequence[str]) -> tuple[list[str], list[str]]:
    return [x for x in new if x not in old], [x for x in old if x not in new]


def _decided(decision: Any, name: str) -> Any:
    """The value of output ``name`` in a ``Decision`` (``deadlines.<clock>``: every clock)."""
    value = decision
    for part in name.split(".")[:2] if not name.startswith("deadlines.") else ("deadlines",):
        value = getattr(value, part)
    return value


def compare(
    old: Any, new: Any, modified: frozenset[str], levels: Sequence[str]
) -> dict[str, Any] | None:
    """The differences between two ``Decision`` objects, or None when they agree."""
    changes: dict[str, Any] = {}
    for output in OUTPUTS:  # in their order: the order of a change's fields
        a, b = _decided(old, output.name), _decided(new, output.name)
        if a == b or output.change is None:
            continue
        if output.kind is OutputKind.LEVEL:
            up = _rank(levels, b) > _rank(levels, a)
            changes[output.change] = {"old": a, "new": b, "direction": "up" if up else "down"}
        elif output.kind is OutputKind.CHOICE:
            changes[output.change] = {"old": a, "new": b}
        elif output.kind is OutputKind.LIST:
            added, removed = _list_delta(a, b)
            if added or removed:
                changes[output.change] = {"added": added, "removed": removed}
        else:
            clocks = sorted(set(a) | set(b))
            changes[output.change] = {
                c: {"old": a.get(c), "new": b.get(c)} for c in clocks if a.get(c) != b.get(c)
            }
    if not changes:
        return None
    fired_old = [f.rule for f in old.fired]
    fired_new = [f.rule for f in new.fired]
    rules = [f"+{r}" for r in fired_new if r not in fired_old]
    rules += [f"-{r}" for r in fired_old if r not in fired_new]
    rules += [f"~{r}" for r in fired_new if r in fired_old and r in modified]
    return {"case_id": new.case_id, "changes": changes, "rules": rules}


# --- aggregation --------------------------------------------------------------------------------


@dataclass
class DiffSummary:
    """Counts over the whole corpus (mergeable: workers build one per chunk)."""

    cases: int = 0
    invalid: int = 0
    changed: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    transitions: dict[str, Counter[str]] = field(default_factory=dict)
    rules: Counter[str] = field(default_factory=Counter)

    def add(self, change: Mapping[str, Any]) -> None:
        self.changed += 1
        for name, delta in change["changes"].items():
            if name == "severity":
                self.fields[f"severity_{delta['direction']}"] += 1
                self._bump("severity", f"{delta['old']}→{delta['new']}")
            elif name in ("tier", "chair", "lead_department"):
                self.fields[name] += 1
                self._bump(name, f"{delta['old'] or '(none)'}→{delta['new'] or '(none)'}")
            elif name == "deadlines":
                self.fields["deadlines"] += 1
                for clock in delta:
                    self._bump("deadlines", clock)
            else:
                if delta["added"]:
                    self.fields[f"{name}_added"] += 1
                if delta["removed"]:
                    self.fields[f"{name}_removed"] += 1
                for item in delta["added"]:
                    self._bump(f"{name}_added", item)
                for item in delta["removed"]:
                    self._bump(f"{name}_removed", item)
        for rule in change["rules"]:
            self.rules[rule] += 1

    def _bump(self, key: str, value: str) -> None:
        self.transitions.setdefault(key, Counter())[value] += 1

    def merge(self, other: DiffSummary) -> None:
        self.cases += other.cases
        self.invalid += other.invalid
        self.changed += other.changed
        self.fields.update(other.fields)
        self.rules.update(other.rules)
        for key, counter in other.transitions.items():
            self.transitions.setdefault(key, Counter()).update(counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "invalid": self.invalid,
            "changed": self.changed,
            "unchanged": self.cases - self.invalid - self.changed,
            "fields": dict(sorted(self.fields.items())),
            "by_value": {k: dict(v.most_common()) for k, v in sorted(self.transitions.items())},
            "rules": dict(self.rules.most_common()),
        }


@dataclass
class ChunkResult:
    summary: DiffSummary
    changes: list[dict[str, Any]]
    invalid: list[dict[str, Any]]


__all__ = ["ChunkResult", "DiffSummary", "compare"]
