"""The ``then:`` outputs: what a rule or a table row can decide, declared once.

Each output has a name (its path in the decision and its table column: ``experts.suggested``),
a kind (how the outputs of several rules combine), a label, its valid values (a library enum or
a pack collection), the ``decision.*`` fact later stages read it from, and the attribute of
``pack.model.Outcome`` that carries it. The table columns and their aliases (``pack.model``),
the list outputs that tables and tests read as lists, the ``decision.*`` fields of the fact
schema (``engines.facts``), the values a pack test can expect (``tester.reachable``) and the
changes ``zhenshen diff`` reports (``impact``) are derived from ``OUTPUTS``.

What stays written per output: how it is validated in a rule file (``pack.model.Then``), how
the combiner merges it (``decision._State``) and where the ``Decision`` keeps it; the recipe in
``CONTRIBUTING.md`` lists those three places.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from zhenshen_core.model.enums import Chair, Tier


class OutputKind(StrEnum):
    """How the outputs of several matching rules combine into one decision."""

    LEVEL = "level"  # severity: the highest at_least, plus every bump, in the pack's order
    CHOICE = "choice"  # one value: the rule with the highest priority (then the first) wins
    LIST = "list"  # a union, in rule order, without repeats
    CLOCKS = "clocks"  # deadlines.<clock>: a period per clock, chosen as CHOICE per clock


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One ``then:`` output; see the module docstring."""

    name: str
    kind: OutputKind
    label: str
    description: str
    values: tuple[str, ...] | str | None = None
    fact: str | None = None
    alias: str | None = None
    change: str | None = None
    outcome: str = ""


def _enum(values: type[StrEnum]) -> tuple[str, ...]:
    return tuple(m.value for m in values)


Out, K = OutputSpec, OutputKind

OUTPUTS: tuple[OutputSpec, ...] = (
    Out(
        "severity",
        K.LEVEL,
        "严重程度",
        "raise severity to at least this level",
        "severity_levels",
        "decision.severity",
        change="severity",
        outcome="severity_at_least",
    ),
    Out(
        "tier",
        K.CHOICE,
        "甄审层级",
        "review tier (general | major)",
        _enum(Tier),
        "decision.tier",
        change="tier",
        outcome="tier",
    ),
    Out(
        "chair",
        K.CHOICE,
        "主持",
        "who chairs the review (office_head | leader_in_charge)",
        _enum(Chair),
        "decision.chair",
        change="chair",
        outcome="chair",
    ),
    Out(
        "departments.lead",
        K.CHOICE,
        "牵头部门",
        "lead department",
        "departments",
        "decision.departments.lead",
        alias="lead",
        change="lead_department",
        outcome="lead",
    ),
    Out(
        "departments.co",
        K.LIST,
        "配合部门",
        "co-operating departments (list)",
        "departments",
        "decision.departments.co",
        alias="co",
        change="co_departments",
        outcome="co",
    ),
    Out(
        "experts.required",
        K.LIST,
        "必请专家",
        "experts who must be consulted (list)",
        "experts",
        "decision.experts.required",
        change="experts_required",
        outcome="experts_required",
    ),
    Out(
        "experts.suggested",
        K.LIST,
        "建议专家",
        "experts worth consulting (list)",
        "experts",
        "decision.experts.suggested",
        change="experts_suggested",
        outcome="experts_suggested",
    ),
    Out(
        "tags",
        K.LIST,
        "决定标签",
        "decision tags (list)",
        None,
        "decision.tags",
        change="tags",
        outcome="tags",
    ),
    Out(
        "actions",
        K.LIST,
        "动作",
        "named actions (list)",
        None,
        "decision.actions",
        change="actions",
        outcome="actions",
    ),
    Out(
        "deadlines.<clock>",
        K.CLOCKS,
        "时限",
        "the period of one deadline clock, e.g. deadlines.resolve",
        change="deadlines",
        outcome="deadlines",
    ),
)

del Out, K

#: Table output columns and what they set (``deadlines.<clock>`` stands for every clock).
TABLE_OUTPUTS: dict[str, str] = {spec.name: spec.description for spec in OUTPUTS}
#: Short column names tables may use.
TABLE_OUTPUT_ALIASES: dict[str, str] = {
    spec.alias: spec.name for spec in OUTPUTS if spec.alias is not None
}
#: Outputs whose value is a list (in tables, in pack tests' expectations).
LIST_OUTPUTS: frozenset[str] = frozenset(
    spec.name for spec in OUTPUTS if spec.kind is OutputKind.LIST
)


__all__ = [
    "LIST_OUTPUTS",
    "OUTPUTS",
    "TABLE_OUTPUTS",
    "TABLE_OUTPUT_ALIASES",
    "OutputKind",
    "OutputSpec",
]
