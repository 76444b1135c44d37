"""The ``Decision`` record and the deterministic combiner every engine shares.

Engines answer one question per stage: *which rule specs match this fact view?* Everything else
(hit policies, severity arithmetic, unions, priority conflicts, the ``fired`` trace) happens here,
once, so two engines that match the same rules produce byte-identical decisions.

Combination rules (see docs/reference/rule-language.md):

* stages run ``classify`` → ``route`` → ``deadline``; a stage's conditions see the case plus the
  decision as it stood after the previous stage (``decision.*`` fields), never their own stage's;
* severity = the highest of the pack's default (first level) and every ``at_least``, plus the sum
  of every ``bump``, capped at the top level;
* tags, co-departments, experts and actions are unions in definition order; a required expert is
  never also suggested, the lead department is never also a co-department;
* lead, tier, chair and each deadline clock come from the highest-priority spec that sets them;
  equal priority → the spec defined first in the resolved pack;
* decision-table rows are filtered by their table's hit policy before combining.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from zhenshen_core.rules.diagnostics import EvaluationError
from zhenshen_core.rules.facts import STAGES
from zhenshen_core.rules.pack import ResolvedPack, RuleSpec, TableSpec

_M = TypeVar("_M", bound=BaseModel)

#: Strings longer than this are shortened in ``fired[].values`` (content can be 20,000 chars).
MAX_VALUE_CHARS = 200


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PackInfo(_Out):
    id: str
    version: str
    sha256: str


class Departments(_Out):
    lead: str | None = None
    co: list[str] = Field(default_factory=list)


class Experts(_Out):
    required: list[str] = Field(default_factory=list)
    suggested: list[str] = Field(default_factory=list)
    reasons: dict[str, str] = Field(
        default_factory=dict, description="expert id → why (from the rules that asked)"
    )


class Fired(_Out):
    """One fired rule or table row, with the values of every field its condition read."""

    rule: str
    stage: str
    values: dict[str, Any] = Field(default_factory=dict)


class Decision(_Out):
    """What a pack decided for one case (JSON: one object per case)."""

    case_id: str
    pack: PackInfo
    severity: str
    tier: str | None = None
    chair: str | None = None
    departments: Departments = Field(default_factory=Departments)
    experts: Experts = Field(default_factory=Experts)
    tags: list[str] = Field(default_factory=list)
    deadlines: dict[str, str] = Field(default_factory=dict)
    actions: list[str] = Field(default_factory=list)
    fired: list[Fired] = Field(default_factory=list)

    def to_json(self) -> str:
        """Compact JSON, Chinese kept readable; stable key order (the field order above)."""
        return self.model_dump_json()

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.model_dump_json())
        return result


_new = object.__new__
_set = object.__setattr__


def _build(cls: type[_M], fields: dict[str, Any]) -> _M:
    """Construct a model from values the combiner already guarantees valid, skipping
    validation: ``model_construct`` costs several microseconds per object, and a decision
    holds one object per fired rule. Equivalent to ``cls.model_construct(**fields)`` with every
    field given."""
    self = _new(cls)
    _set(self, "__dict__", fields)
    _set(self, "__pydantic_fields_set__", set(fields))
    _set(self, "__pydantic_extra__", None)
    _set(self, "__pydantic_private__", None)
    return self


class Matcher(Protocol):
    """What an engine provides: the indices (into ``pack.stage_rules(stage)``) that match."""

    def match(self, stage: str, facts: Mapping[str, Any]) -> Iterable[int]: ...


def _shown(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"
    if kind is int or kind is bool or kind is float or value is None:
        return value
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + "…"
    if isinstance(value, tuple | list):
        return [_shown(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Combiner:
    """Accumulates one case's decision stage by stage."""

    __slots__ = (
        "actions",
        "at_least",
        "bump",
        "co",
        "fired",
        "pack",
        "reasons",
        "required",
        "scalars",
        "suggested",
        "tags",
    )

    def __init__(self, pack: ResolvedPack) -> None:
        self.pack = pack
        self.at_least = 0
        self.bump = 0
        self.tags: dict[str, None] = {}
        self.required: dict[str, None] = {}
        self.suggested: dict[str, None] = {}
        self.reasons: dict[str, str] = {}
        self.co: dict[str, None] = {}
        self.actions: dict[str, None] = {}
        # key → (priority, -order, value): max wins
        self.scalars: dict[str, tuple[int, int, str]] = {}
        self.fired: list[Fired] = []

    def _scalar(self, key: str, spec: RuleSpec, value: str) -> None:
        candidate = (spec.priority, -spec.order, value)
        current = self.scalars.get(key)
        if current is None or candidate[:2] > current[:2]:
            self.scalars[key] = candidate

    def apply(self, spec: RuleSpec, facts: Mapping[str, Any]) -> None:
        out = spec.outcome
        if out.severity_at_least is not None:
            rank = self.pack.level_rank[out.severity_at_least]
            if rank > self.at_least:
                self.at_least = rank
        self.bump += out.severity_bump
        for tag in out.tags:
            self.tags[tag] = None
        for expert in out.experts_required:
            self.required[expert] = None
            if out.expert_reason:
                self._reason(expert, out.expert_reason)
        for expert in out.experts_suggested:
            self.suggested[expert] = None
            if out.expert_reason:
                self._reason(expert, out.expert_reason)
        for dep in out.co:
            self.co[dep] = None
        for action in out.actions:
            self.actions[action] = None
        if out.lead is not None:
            self._scalar("lead", spec, out.lead)
        if out.tier is not None:
            self._scalar("tier", spec, out.tier)
        if out.chair is not None:
            self._scalar("chair", spec, out.chair)
        for clock, period in out.deadlines:
            self._scalar("deadline:" + clock, spec, period)
        values = {name: _shown(facts.get(name)) for name in spec.reads}
        self.fired.append(_build(Fired, {"rule": spec.id, "stage": spec.stage, "values": values}))

    def _reason(self, expert: str, reason: str) -> None:
        known = self.reasons.get(expert)
        if known is None:
            self.reasons[expert] = reason
        elif reason not in known.split("；"):
            self.reasons[expert] = f"{known}；{reason}"

    def severity(self) -> str:
        levels = self.pack.severity_levels
        return levels[min(self.at_least + self.bump, len(levels) - 1)]

    def lead(self) -> str | None:
        found = self.scalars.get("lead")
        return found[2] if found else None

    def tier(self) -> str | None:
        found = self.scalars.get("tier")
        return found[2] if found else self.pack.default_tier

    def chair(self) -> str | None:
        found = self.scalars.get("chair")
        return found[2] if found else self.pack.default_chair

    def suggested_only(self) -> list[str]:
        return [e for e in self.suggested if e not in self.required]

    def co_only(self) -> list[str]:
        lead = self.lead()
        return [d for d in self.co if d != lead]

    def publish(self, facts: dict[str, Any], wanted: frozenset[str]) -> None:
        """Expose the decision so far to later stages as ``decision.*`` facts.

        Only the fields some later rule reads (``wanted``) are built; the lists cost more to
        build than most conditions cost to test.
        """
        if not wanted:
            return
        pack, scalars = self.pack, self.scalars
        levels = pack.severity_levels
        facts["decision.severity"] = levels[min(self.at_least + self.bump, len(levels) - 1)]
        found = scalars.get("tier")
        tier = found[2] if found else pack.default_tier
        if tier is not None:
            facts["decision.tier"] = tier
        found = scalars.get("chair")
        chair = found[2] if found else pack.default_chair
        if chair is not None:
            facts["decision.chair"] = chair
        found = scalars.get("lead")
        lead = found[2] if found else None
        if lead is not None:
            facts["decision.departments.lead"] = lead
        required = self.required
        if "decision.tags" in wanted:
            facts["decision.tags"] = tuple(self.tags)
        if "decision.experts.required" in wanted:
            facts["decision.experts.required"] = tuple(required)
        if "decision.experts.suggested" in wanted:
            facts["decision.experts.suggested"] = tuple(
                e for e in self.suggested if e not in required
            )
        if "decision.departments.co" in wanted:
            facts["decision.departments.co"] = tuple(d for d in self.co if d != lead)
        if "decision.actions" in wanted:
            facts["decision.actions"] = tuple(self.actions)

    def decision(self, case_id: str) -> Decision:
        pack = self.pack
        deadlines = {
            key.removeprefix("deadline:"): value[2]
            for key, value in sorted(self.scalars.items())
            if key.startswith("deadline:")
        }
        lead = self.lead()
        return _build(
            Decision,
            {
                "case_id": case_id,
                "pack": _pack_info(pack),
                "severity": self.severity(),
                "tier": self.tier(),
                "chair": self.chair(),
                "departments": _build(Departments, {"lead": lead, "co": self.co_only()}),
                "experts": _build(
                    Experts,
                    {
                        "required": list(self.required),
                        "suggested": self.suggested_only(),
                        "reasons": dict(self.reasons),
                    },
                ),
                "tags": list(self.tags),
                "deadlines": deadlines,
                "actions": list(self.actions),
                "fired": self.fired,
            },
        )


def _pack_info(pack: ResolvedPack) -> PackInfo:
    """One shared (frozen) PackInfo per pack."""
    info = pack.memo.get("pack_info")
    if info is None:
        info = pack.memo["pack_info"] = PackInfo(
            id=pack.id, version=pack.version, sha256=pack.sha256
        )
    result: PackInfo = info
    return result


def _hit_filter(
    specs: list[RuleSpec], tables: Mapping[str, TableSpec], case_id: str
) -> list[RuleSpec]:
    """Apply each table's hit policy to its matching rows; plain rules pass through."""
    by_table: dict[str, list[RuleSpec]] = {}
    for spec in specs:
        if spec.table is not None:
            by_table.setdefault(spec.table, []).append(spec)
    if not by_table:
        return specs
    keep: set[str] = set()
    for table_id, rows in by_table.items():
        table = tables[table_id]
        if table.hit == "collect" or len(rows) == 1:
            keep.update(r.id for r in rows)
        elif table.hit == "first":
            keep.add(min(rows, key=lambda r: r.order).id)
        elif table.hit == "unique":
            a, b = sorted(rows, key=lambda r: r.order)[:2]
            raise EvaluationError(
                f"table {table_id!r} has hit policy 'unique' but rows {a.row} "
                f"({a.file}:{a.line}) and {b.row} ({b.file}:{b.line}) both match case {case_id}"
            )
        else:  # priority: best output rank, then row order
            index = {rid: i for i, rid in enumerate(table.rows)}
            best = min(rows, key=lambda r: (table.rank[index[r.id]], r.order))
            keep.add(best.id)
    return [s for s in specs if s.table is None or s.id in keep]


def decide(
    pack: ResolvedPack,
    case_id: str,
    facts: dict[str, Any],
    matcher: Matcher,
    tables: Mapping[str, TableSpec] | None = None,
) -> Decision:
    """Run the three stages over ``facts`` (which gains ``decision.*`` fields) with ``matcher``."""
    if tables is None:
        tables = {t.id: t for t in pack.tables}
    combiner = _Combiner(pack)
    table_stages = pack.table_stages
    wanted = pack.decision_reads
    apply = combiner.apply
    for stage in STAGES:
        specs = pack.stage_rules(stage)
        if specs:
            found = matcher.match(stage, facts)
            matched = found if isinstance(found, list) else list(found)
            if len(matched) > 1:
                matched = sorted(set(matched))
            if matched:
                chosen = [specs[i] for i in matched]
                if stage in table_stages:
                    chosen = _hit_filter(chosen, tables, case_id)
                for spec in chosen:
                    apply(spec, facts)
        if stage != "deadline" and wanted:
            combiner.publish(facts, wanted)
    return combiner.decision(case_id)


__all__ = [
    "MAX_VALUE_CHARS",
    "Decision",
    "Departments",
    "Experts",
    "Fired",
    "Matcher",
    "PackInfo",
    "decide",
]
