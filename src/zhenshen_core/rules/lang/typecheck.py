"""Load-time checks of expressions against the fact schema.

A rule that reads ``enterprize.size`` or compares a date with a list would silently never fire at
run time (missing fields are false). So every such mistake is caught when the pack loads, at the
exact position in the YAML file, with the nearest valid name when a name is unknown.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal as TypingLiteral

from zhenshen_core.rules.engines.facts import FACT_SCHEMA, STAGES, FieldType, field_spec
from zhenshen_core.rules.lang.ast import (
    And,
    Compare,
    Contains,
    ContainsAll,
    ContainsAny,
    Count,
    Exists,
    Expr,
    Field,
    In,
    Literal,
    Matches,
    Not,
    NotIn,
    Operand,
    Or,
    Span,
)
from zhenshen_core.rules.lang.regex import pattern_problem

ORDERED = frozenset({"<", "<=", ">", ">="})


@dataclass(frozen=True, slots=True)
class Problem:
    """A located type problem; the loader adds the file name."""

    span: Span
    code: str
    message: str
    severity: TypingLiteral["error", "warning"] = "error"


@dataclass(frozen=True)
class TypeContext:
    """What the checker needs to know about the pack and the rule's stage."""

    stage: str = "classify"
    severity_levels: tuple[str, ...] = ()
    collections: Mapping[str, frozenset[str]] = field(default_factory=dict)


def _literal_type(value: object) -> FieldType:
    if isinstance(value, bool):
        return FieldType.BOOL
    if isinstance(value, int | float):
        return FieldType.NUMBER
    if isinstance(value, date):
        return FieldType.DATE
    if isinstance(value, tuple):
        return FieldType.LIST
    return FieldType.STRING


_TYPE_WORDS = {
    FieldType.STRING: "a string",
    FieldType.NUMBER: "a number",
    FieldType.BOOL: "a boolean",
    FieldType.DATE: "a date",
    FieldType.SEVERITY: "a severity level",
    FieldType.LIST: "a list",
    FieldType.ANY: "a fact",
}


def _suggest(name: str, stage: str) -> str:
    candidates = [n for n, s in FACT_SCHEMA.items() if not s.decision_only or stage != STAGES[0]]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return "; custom facts are written facts.<name>"


class _Checker:
    def __init__(self, ctx: TypeContext) -> None:
        self.ctx = ctx
        self.problems: list[Problem] = []

    def error(self, span: Span, code: str, message: str) -> None:
        self.problems.append(Problem(span, code, message))

    def warn(self, span: Span, code: str, message: str) -> None:
        self.problems.append(Problem(span, code, message, "warning"))

    # -- operands -------------------------------------------------------------------------
    def field_type(self, node: Field) -> FieldType | None:
        spec = field_spec(node.name)
        if spec is None:
            self.error(
                node.span,
                "R101",
                f"unknown field {node.name!r}{_suggest(node.name, self.ctx.stage)}",
            )
            return None
        if spec.decision_only and self.ctx.stage == STAGES[0]:
            self.error(
                node.span,
                "R101",
                f"{node.name!r} is decided by earlier stages; a classify rule cannot read it "
                "(use stage: route, review or deadline)",
            )
            return None
        return spec.type

    def operand_type(self, node: Operand) -> FieldType | None:
        if isinstance(node, Field):
            return self.field_type(node)
        if isinstance(node, Count):
            inner = self.field_type(node.field)
            if inner not in (None, FieldType.LIST, FieldType.ANY):
                self.error(
                    node.span,
                    "R102",
                    f"count() needs a list, but {node.field.name!r} is {_TYPE_WORDS[inner]}",
                )
            return FieldType.NUMBER
        return _literal_type(node.value)

    def check_values(self, field_node: Operand, literal: Operand) -> None:
        """A literal compared with an enum-like field must be one of its values."""
        if not isinstance(field_node, Field) or not isinstance(literal, Literal):
            return
        spec = field_spec(field_node.name)
        if spec is None or spec.values is None:
            return
        raw = literal.value
        items = raw if isinstance(raw, tuple) else (raw,)
        for item in items:
            if not isinstance(item, str):
                continue
            if isinstance(spec.values, tuple):
                if item not in spec.values:
                    close = difflib.get_close_matches(item, spec.values, n=1, cutoff=0.5)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    self.error(
                        literal.span,
                        "R104",
                        f"{item!r} is not a valid {field_node.name}{hint} "
                        f"(one of: {', '.join(spec.values)})",
                    )
            elif spec.values == "severity_levels":
                levels = self.ctx.severity_levels
                if levels and item not in levels:
                    self.error(
                        literal.span,
                        "R104",
                        f"{item!r} is not a severity level of this pack "
                        f"(one of: {', '.join(levels)})",
                    )
            else:
                known = self.ctx.collections.get(spec.values)
                if known is not None and item not in known:
                    close = difflib.get_close_matches(item, sorted(known), n=1, cutoff=0.5)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    self.warn(
                        literal.span,
                        "W400",
                        f"{item!r} is not one of the pack's {spec.values}{hint}; "
                        "this test can never be true",
                    )

    # -- tests ----------------------------------------------------------------------------
    def compatible(self, a: FieldType, b: FieldType) -> bool:
        if FieldType.ANY in (a, b) or a == b:
            return True
        return {a, b} == {FieldType.SEVERITY, FieldType.STRING}

    def check(self, node: Expr) -> None:
        match node:
            case And(items) | Or(items):
                for item in items:
                    self.check(item)
            case Not(item):
                self.check(item)
            case Compare(op, left, right):
                self.check_compare(node, op, left, right)
            case In(item, collection) | NotIn(item, collection):
                self.check_membership(node.span, item, collection, "in")
            case Contains(container, item):
                self.check_membership(node.span, item, container, "contains")
            case ContainsAny(container, items) | ContainsAll(container, items):
                self.check_many(node.span, container, items)
            case Matches(subject, pattern):
                subject_type = self.operand_type(subject)
                if subject_type not in (None, FieldType.STRING, FieldType.ANY):
                    self.error(
                        node.span,
                        "R102",
                        f"matches needs a string, not {_TYPE_WORDS[subject_type]}",
                    )
                problem = pattern_problem(pattern)
                if problem:
                    self.error(node.span, "R103", problem)
            case Exists(field_node):
                self.field_type(field_node)

    def check_compare(self, node: Compare, op: str, left: Operand, right: Operand) -> None:
        lt, rt = self.operand_type(left), self.operand_type(right)
        if lt is None or rt is None:
            return
        if isinstance(left, Literal) and isinstance(right, Literal):
            self.error(node.span, "R102", "comparison between two constants")
            return
        if not self.compatible(lt, rt):
            self.error(
                node.span,
                "R102",
                f"{op!r} between {_TYPE_WORDS[lt]} and {_TYPE_WORDS[rt]}",
            )
            return
        if op in ORDERED:
            kinds = {lt, rt} - {FieldType.ANY}
            if kinds & {FieldType.LIST, FieldType.BOOL} or kinds == {FieldType.STRING}:
                bad = next(iter(kinds & {FieldType.LIST, FieldType.BOOL, FieldType.STRING}))
                plural = {FieldType.LIST: "lists", FieldType.BOOL: "booleans"}.get(bad, "strings")
                self.error(
                    node.span,
                    "R102",
                    f"{op!r} cannot order {plural}; only numbers, dates and "
                    "severity levels are ordered",
                )
                return
        self.check_values(left, right)
        self.check_values(right, left)

    def check_membership(self, span: Span, item: Operand, coll: Operand, word: str) -> None:
        it, ct = self.operand_type(item), self.operand_type(coll)
        if it is None or ct is None:
            return
        if ct not in (FieldType.LIST, FieldType.STRING, FieldType.ANY):
            self.error(span, "R102", f"{word!r} needs a list or a string, not {_TYPE_WORDS[ct]}")
            return
        if it == FieldType.LIST:
            hint = " (use contains_any / contains_all for lists)" if word == "contains" else ""
            self.error(span, "R102", f"{word!r} tests one value, not a list{hint}")
            return
        if ct == FieldType.STRING and it not in (FieldType.STRING, FieldType.ANY):
            self.error(span, "R102", f"{word!r} in a string needs a string, not {_TYPE_WORDS[it]}")
            return
        if isinstance(coll, Field) and isinstance(item, Literal):
            self.check_values(coll, item)
        if isinstance(item, Field) and isinstance(coll, Literal):
            self.check_values(item, coll)

    def check_many(self, span: Span, container: Operand, items: Operand) -> None:
        ct, it = self.operand_type(container), self.operand_type(items)
        if ct is None or it is None:
            return
        if ct not in (FieldType.LIST, FieldType.STRING, FieldType.ANY):
            self.error(
                span,
                "R102",
                f"contains_any/contains_all need a list or a string, not {_TYPE_WORDS[ct]}",
            )
        if it not in (FieldType.LIST, FieldType.ANY):
            self.error(
                span,
                "R102",
                f"contains_any/contains_all take a list on the right, not {_TYPE_WORDS[it]}",
            )
            return
        if isinstance(container, Field) and isinstance(items, Literal):
            self.check_values(container, items)


def check_expression(expr: Expr, ctx: TypeContext) -> list[Problem]:
    """Every type problem in ``expr`` (empty when it is well typed)."""
    checker = _Checker(ctx)
    checker.check(expr)
    return checker.problems


def regex_problem(pattern: str) -> str | None:
    """Public for the table loader and the CLI: why a regex is rejected, or None."""
    return pattern_problem(pattern)


def operand_type(operand: Operand, ctx: TypeContext) -> tuple[FieldType | None, list[Problem]]:
    """The static type of a table input (None when unknown), with any problems found."""
    checker = _Checker(ctx)
    kind = checker.operand_type(operand)
    return kind, checker.problems


__all__ = ["Problem", "TypeContext", "check_expression", "operand_type", "regex_problem"]
