"""Which rules differ between two packs, and the *screen*: the cheapest test that proves a case
cannot decide differently, so that most cases are evaluated once or not at all."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zhenshen_core.rules.pack.model import ResolvedPack, RuleSpec

# --- comparing two decisions --------------------------------------------------------------------


def _signature(spec: RuleSpec) -> tuple[Any, ...]:
    from zhenshen_core.rules.lang.ast import to_source

    condition = None if spec.condition is None else to_source(spec.condition)
    return (spec.stage, spec.priority, condition, spec.outcome, spec.table)


def changed_definitions(old: ResolvedPack, new: ResolvedPack) -> frozenset[str]:
    """Ids present in both packs whose rule or row means something different now."""
    before = {s.id: _signature(s) for s in old.rules}
    return frozenset(s.id for s in new.rules if s.id in before and before[s.id] != _signature(s))


def _item_ids(pack: ResolvedPack) -> list[str]:
    """The rule, table and cross-case ids a pack defines (a table once, not per row)."""
    ids = dict.fromkeys(spec.table or spec.id for spec in pack.rules)
    ids.update(dict.fromkeys(spec.id for spec in pack.crosscase))
    return list(ids)


@dataclass(frozen=True)
class RuleChanges:
    """What changed between two packs' rule sets, whatever it does to the corpus: a rule that
    no case of the corpus fires is still a change a reviewer must see (a ``disable:`` in a
    district pack, a rule deleted by mistake)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    disabled_by: Mapping[str, str] = field(default_factory=dict)  # removed id → pack

    def as_dict(self) -> dict[str, Any]:
        return {
            "added_rules": list(self.added),
            "removed_rules": [
                {"id": rid, "disabled_by": self.disabled_by.get(rid)} for rid in self.removed
            ],
        }


def rule_changes(old: ResolvedPack, new: ResolvedPack) -> RuleChanges:
    """Ids only the new pack defines, and ids it no longer defines (with the pack whose
    ``disable:`` removed them, when that is how they went)."""
    before, after = _item_ids(old), _item_ids(new)
    kept_before, kept_after = set(before), set(after)
    removed = tuple(i for i in before if i not in kept_after)
    return RuleChanges(
        added=tuple(i for i in after if i not in kept_before),
        removed=removed,
        disabled_by={i: new.disabled[i] for i in removed if i in new.disabled},
    )


@dataclass(frozen=True)
class Screen:
    """Which cases can possibly decide differently, found without evaluating both packs.

    A decision can only change when a rule or row that differs between the packs (added,
    removed, or redefined) matches the case under one of them: if none does, both packs match
    exactly the same unchanged specs at every stage, in the same relative order, and combine
    them into the same decision. So:

    * ``none`` — nothing differs that affects decisions: no case changes;
    * ``base`` — every differing spec reads case fields only: testing their conditions on the
      fact view picks the cases to evaluate in full (usually a small fraction);
    * ``staged`` — some differing spec reads ``decision.*``: the old pack is evaluated with a
      matcher that also tests the differing specs of each stage on that stage's facts; the new
      pack runs only when one matches;
    * ``full`` — global settings (severity levels, default tier or chair), table definitions in
      a way rows cannot capture, or the relative order of unchanged specs differ: evaluate both.
    """

    mode: str
    tests: tuple[Callable[[Mapping[str, Any]], bool], ...] = ()
    reads: frozenset[str] = frozenset()
    by_stage: Mapping[str, tuple[Callable[[Mapping[str, Any]], bool], ...]] = field(
        default_factory=dict
    )


def screen_for(old: ResolvedPack, new: ResolvedPack) -> Screen:
    from zhenshen_core.rules.engines.compiled import compile_expr

    if (old.severity_levels, old.default_tier, old.default_chair) != (
        new.severity_levels,
        new.default_tier,
        new.default_chair,
    ):
        return Screen("full")
    modified = set(changed_definitions(old, new))
    old_tables = {t.id: (t.stage, t.hit, t.outputs, t.rank) for t in old.tables}
    for table in new.tables:
        if table.id in old_tables and old_tables[table.id] != (
            table.stage,
            table.hit,
            table.outputs,
            table.rank,
        ):
            modified.update(s.id for s in (*old.rules, *new.rules) if s.table == table.id)
    old_ids = {s.id for s in old.rules}
    new_ids = {s.id for s in new.rules}
    differing = [s for s in old.rules if s.id in modified or s.id not in new_ids]
    differing += [s for s in new.rules if s.id in modified or s.id not in old_ids]
    changed = {s.id for s in differing}
    if [s.id for s in old.rules if s.id not in changed] != [
        s.id for s in new.rules if s.id not in changed
    ]:
        return Screen("full")
    if not differing:
        return Screen("none")

    def test(spec: RuleSpec, levels: tuple[str, ...]) -> Callable[[Mapping[str, Any]], bool]:
        if spec.condition is None:
            return lambda facts: True
        return compile_expr(spec.condition, levels)

    tests = tuple(test(s, old.severity_levels) for s in differing)  # levels are equal here
    if not any(r.startswith("decision.") for s in differing for r in s.reads):
        return Screen("base", tests, frozenset(r for s in differing for r in s.reads))
    stages = {s.stage for s in differing}
    if any(not old.stage_rules(stage) for stage in stages):
        return Screen("full")
    by_stage: dict[str, tuple[Callable[[Mapping[str, Any]], bool], ...]] = {}
    for spec, check in zip(differing, tests, strict=True):
        by_stage[spec.stage] = (*by_stage.get(spec.stage, ()), check)
    return Screen("staged", tests, by_stage=by_stage)


class _Recording:
    """A matcher that also notes whether any differing spec matches at its stage."""

    def __init__(
        self, inner: Any, by_stage: Mapping[str, tuple[Callable[[Mapping[str, Any]], bool], ...]]
    ) -> None:
        self.inner = inner
        self.by_stage = by_stage
        self.hit = False

    def match(self, stage: str, facts: Mapping[str, Any]) -> Any:
        if not self.hit:
            self.hit = any(check(facts) for check in self.by_stage.get(stage, ()))
        return self.inner.match(stage, facts)


__all__ = ["RuleChanges", "Screen", "changed_definitions", "rule_changes", "screen_for"]
