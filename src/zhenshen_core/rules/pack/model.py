"""Pack file formats (pydantic, version ``schema: 1``) and the resolved, engine-neutral pack.

Two layers:

* ``PackFile`` / ``RuleFile`` validate what district staff write (``pack.yaml`` and the rule and
  table files). They generate the JSON Schema that editors use (``zhenshen schema pack``). Keys
  are never repurposed; a new meaning gets a new key.
* ``ResolvedPack`` is what engines consume after ``extends`` is resolved and every expression is
  parsed and type-checked: an ordered tuple of ``RuleSpec`` (plain rules and decision-table rows
  alike) with an ``Expr`` condition and an ``Outcome``. Engines only decide *which* specs match a
  fact view; the shared combiner (``decision.py``) turns matches into a ``Decision``. That split
  is what makes the compiled and durable engines agree by construction on everything except
  matching, which the differential test covers.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from zhenshen_core.rules.diagnostics import Diagnostic
from zhenshen_core.rules.engines.facts import STAGES
from zhenshen_core.rules.engines.outputs import LIST_OUTPUTS, TABLE_OUTPUT_ALIASES, TABLE_OUTPUTS
from zhenshen_core.rules.lang.ast import Expr, Operand
from zhenshen_core.rules.lang.cells import Cell
from zhenshen_core.rules.pack.limits import MAX_BASES

Stage = Literal["classify", "route", "review", "deadline"]
HitPolicy = Literal["first", "unique", "priority", "collect"]

Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\w][\w.:/-]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DepartmentSpec(_Strict):
    """A department (部门). Aliases keep old ids working after a bureau is renamed; short names
    (简称, e.g. 市场监管局) are how staff write it in free text such as an opinion's measures."""

    id: Id
    name: str = ""
    aliases: list[str] = Field(default_factory=list)
    short_names: list[str] = Field(
        default_factory=list, description="简称 that name it in free text, e.g. 市场监管局"
    )
    valid_from: date | None = None
    valid_to: date | None = None


class ExpertSpec(_Strict):
    """A kind of expert (律师 lawyer, 智库专家 think_tank …)."""

    id: Id
    name: str = ""


class DomainSpec(_Strict):
    """A problem domain (准入不准营 market_entry_operation …)."""

    id: Id
    name: str = ""


class PackFile(_Strict):
    """``pack.yaml``."""

    schema_version: Literal[1] = Field(alias="schema", description="format version; always 1")
    id: Id
    version: str = Field(min_length=1)
    name: str = ""
    description: str = ""
    extends: list[Id] = Field(default_factory=list, max_length=MAX_BASES)
    calendar: str | None = None
    severity_levels: list[Id] | None = Field(
        default=None, description="ordered low → high; the first is the default"
    )
    default_tier: str | None = None
    default_chair: str | None = None
    departments: list[DepartmentSpec] = Field(default_factory=list)
    experts: list[ExpertSpec] = Field(default_factory=list)
    domains: list[DomainSpec] = Field(default_factory=list)
    include: list[str] | None = Field(
        default=None, description="globs of rule/table files; default every other *.yaml"
    )
    disable: list[Id] = Field(default_factory=list, description="rule ids of base packs to drop")

    @field_validator("severity_levels")
    @classmethod
    def _levels_unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("severity_levels needs at least one level")
            if len(set(value)) != len(value):
                raise ValueError("severity_levels must not repeat a level")
        return value


class SeverityThen(_Strict):
    at_least: str | None = None
    bump: int | None = Field(default=None, ge=1, le=100)

    @model_validator(mode="after")
    def _one(self) -> SeverityThen:
        if self.at_least is None and self.bump is None:
            raise ValueError("severity needs at_least or bump")
        return self


class ExpertsThen(_Strict):
    require: list[Id] = Field(default_factory=list)
    suggest: list[Id] = Field(default_factory=list)
    reason: str = ""


class DepartmentsThen(_Strict):
    lead: Id | None = None
    co: list[Id] = Field(default_factory=list)


class Then(_Strict):
    """What a rule decides when its condition holds."""

    severity: SeverityThen | None = None
    tier: str | None = None
    chair: str | None = None
    tags: list[str] = Field(default_factory=list)
    experts: ExpertsThen | None = None
    departments: DepartmentsThen | None = None
    deadlines: dict[Id, str] = Field(default_factory=dict)
    actions: list[Id] = Field(default_factory=list)


class RuleModel(_Strict):
    """One rule: ``when`` an expression holds, ``then`` outcomes."""

    id: Id
    description: str = ""
    stage: Stage = "classify"
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    when: str = Field(min_length=1, description="condition in the rule expression language")
    then: Then


class TableModel(_Strict):
    """A decision table: input expressions, unary-test cells, outputs and a hit policy."""

    id: Id
    description: str = ""
    stage: Stage = "route"
    hit: HitPolicy = "first"
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    inputs: list[str] = Field(min_length=1)
    outputs: list[str] = Field(min_length=1)
    output_order: dict[str, list[str]] = Field(
        default_factory=dict,
        description="for hit: priority, each output's values from most to least important",
    )
    rows: list[list[Cell]] = Field(min_length=1)


class CrossCaseThenModel(_Strict):
    """What a completed cross-case pattern does (at least one effect)."""

    facts: dict[Id, str | int | float | bool] = Field(
        default_factory=dict, description="facts set on the case that completes the pattern"
    )
    escalate: bool = Field(default=False, description="move a routed case into joint review")
    generalise: bool = Field(default=False, description="propose a 举一反三 generalisation")

    @model_validator(mode="after")
    def _some_effect(self) -> CrossCaseThenModel:
        if not (self.facts or self.escalate or self.generalise):
            raise ValueError("then needs at least one of: facts, escalate, generalise")
        return self


class CrossCaseModel(_Strict):
    """A stateful rule over many cases: ``count`` cases sharing ``key`` within ``window``."""

    id: Id
    description: str = ""
    event: Literal["receive", "return"] = Field(
        default="receive", description="what feeds the pattern: a received case or a 退单"
    )
    when: str | None = Field(default=None, description="filter on the case (classify fields)")
    key: list[str] = Field(min_length=1, max_length=4, description="fact paths to correlate on")
    count: int = Field(ge=2, le=8)
    window: str = Field(description='calendar days, e.g. "30 days"')
    then: CrossCaseThenModel

    @field_validator("key", mode="before")
    @classmethod
    def _one_key(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class RuleFile(_Strict):
    """A rule or table file (any ``*.yaml`` the pack includes)."""

    schema_version: Literal[1] = Field(default=1, alias="schema")
    rules: list[RuleModel] = Field(default_factory=list)
    tables: list[TableModel] = Field(default_factory=list)
    crosscase: list[CrossCaseModel] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# The resolved pack: what engines consume.


@dataclass(frozen=True, slots=True)
class Outcome:
    """Everything a rule or table row can set; empty fields set nothing."""

    severity_at_least: str | None = None
    severity_bump: int = 0
    tier: str | None = None
    chair: str | None = None
    tags: tuple[str, ...] = ()
    experts_required: tuple[str, ...] = ()
    experts_suggested: tuple[str, ...] = ()
    expert_reason: str = ""
    lead: str | None = None
    co: tuple[str, ...] = ()
    deadlines: tuple[tuple[str, str], ...] = ()
    actions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A matchable unit: a rule, or one row of a decision table.

    ``order`` is the position in the resolved pack (base packs first), used to break priority
    ties. ``condition`` None means "always" (a table row of ``-`` cells). For table rows,
    ``table`` names the table and ``row`` is 1-based; ``id`` is ``"<table>#<row>"``.
    """

    id: str
    stage: Stage
    priority: int
    order: int
    condition: Expr | None
    outcome: Outcome
    file: str = "<pack>"
    line: int = 0
    column: int = 0
    description: str = ""
    table: str | None = None
    row: int | None = None
    reads: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A resolved table: its hit policy and, for ``priority``, each row's rank (lower wins)."""

    id: str
    stage: Stage
    hit: HitPolicy
    inputs: tuple[Operand, ...]
    outputs: tuple[str, ...]
    rows: tuple[str, ...]  # RuleSpec ids, in row order
    rank: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class CrossCaseThen:
    facts: Mapping[str, Any] = field(default_factory=dict)
    escalate: bool = False
    generalise: bool = False


@dataclass(frozen=True)
class CrossCaseSpec:
    """A resolved cross-case rule; the desk runs these on durable_rules."""

    id: str
    event: Literal["receive", "return"]
    key: tuple[str, ...]
    count: int
    window_days: int
    then: CrossCaseThen
    when: Expr | None = None
    description: str = ""
    file: str = "<pack>"
    line: int = 0


@dataclass(frozen=True)
class ResolvedPack:
    """A pack after ``extends``, type checks and table compilation. Immutable and shareable."""

    id: str
    version: str
    name: str
    sha256: str
    severity_levels: tuple[str, ...]
    default_tier: str | None
    default_chair: str | None
    calendar: str | None
    departments: dict[str, DepartmentSpec]
    experts: dict[str, ExpertSpec]
    domains: dict[str, DomainSpec]
    rules: tuple[RuleSpec, ...]
    tables: tuple[TableSpec, ...] = ()
    warnings: tuple[Diagnostic, ...] = ()
    crosscase: tuple[CrossCaseSpec, ...] = ()
    #: Rule, table and cross-case ids of base packs removed with ``disable:``, and by which pack.
    disabled: Mapping[str, str] = field(default_factory=dict, compare=False)
    path: str = ""
    lineage: tuple[str, ...] = ()
    #: ``facts.*`` fields the pack compares with dates: views read their ISO date strings as
    #: dates (``facts.read_dates``), since JSON has none.
    date_facts: frozenset[str] = frozenset()
    _by_stage: dict[str, tuple[RuleSpec, ...]] = field(default_factory=dict, repr=False)
    level_rank: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _reads: set[str] = field(default_factory=set, repr=False, compare=False)

    def __post_init__(self) -> None:
        for stage in STAGES:
            self._by_stage[stage] = tuple(r for r in self.rules if r.stage == stage)
        self.level_rank.update({level: i for i, level in enumerate(self.severity_levels)})
        self._reads.update(
            name for r in self.rules for name in r.reads if name.startswith("decision.")
        )

    @functools.cached_property
    def table_stages(self) -> frozenset[str]:
        """Stages that have decision-table rows (only those need hit-policy filtering)."""
        return frozenset(r.stage for r in self.rules if r.table is not None)

    @functools.cached_property
    def memo(self) -> dict[str, Any]:
        """A per-pack cache for derived objects (engines store shared immutable values)."""
        return {}

    @functools.cached_property
    def decision_reads(self) -> frozenset[str]:
        """The ``decision.*`` fields some rule or table reads (what stages must publish)."""
        return frozenset(self._reads)

    def stage_rules(self, stage: str) -> tuple[RuleSpec, ...]:
        """The specs of one stage, in definition order (engines return indices into this)."""
        return self._by_stage.get(stage, ())

    @functools.cached_property
    def stage_offsets(self) -> dict[str, int]:
        """Where each stage's specs start when all stages' specs are numbered in stage order:
        spec ``i`` of a stage is number ``offset + i``. A matcher's bit mask (``bits_matcher``)
        sets bit ``offset + i``, so one integer names what matched in several stages."""
        offsets: dict[str, int] = {}
        start = 0
        for stage in STAGES:
            offsets[stage] = start
            start += len(self._by_stage[stage])
        return offsets

    def rule(self, rule_id: str) -> RuleSpec:
        for spec in self.rules:
            if spec.id == rule_id:
                return spec
        raise KeyError(rule_id)

    @property
    def ref(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "sha256": self.sha256}

    def severity_rank(self, level: str) -> int:
        return self.level_rank[level]


__all__ = [
    "LIST_OUTPUTS",
    "TABLE_OUTPUTS",
    "TABLE_OUTPUT_ALIASES",
    "Cell",
    "CrossCaseModel",
    "CrossCaseSpec",
    "CrossCaseThen",
    "CrossCaseThenModel",
    "DepartmentSpec",
    "DepartmentsThen",
    "DomainSpec",
    "ExpertSpec",
    "ExpertsThen",
    "HitPolicy",
    "Outcome",
    "PackFile",
    "ResolvedPack",
    "RuleFile",
    "RuleModel",
    "RuleSpec",
    "SeverityThen",
    "Stage",
    "TableModel",
    "TableSpec",
    "Then",
]
