"""The expression AST shared by every rule engine.

The parser (``parser.py``) produces these nodes, the type checker (``typecheck.py``) validates
them against the fact schema, and each engine compiles them (``compiled.py`` to Python closures,
``durable/`` to durable_rules rulesets). Keeping one engine-neutral tree is what lets the two
engines be checked against each other; so these names and fields are a stable contract.

Nodes are frozen, slotted dataclasses: hashable (engines index and deduplicate conditions by
node), cheap, and impossible to mutate after the type checker has approved them. Lists in
literals are tuples for the same reason.

Semantics every engine must implement (see ``docs/reference/rule-language.md``):

* A *test* reading a field missing from the fact view is false, whatever the operator
  (``!=`` and ``not in`` included). ``Not`` is plain boolean negation of its operand's result, so
  ``not (x == "a")`` is true when ``x`` is missing.
* ``Exists(f)`` is true when ``f`` is present (not missing and not ``None``).
* ``Count(f)`` of a missing list is 0; counting never makes a test false by itself.
* ``Contains``: a string operand tests substring, a list operand tests membership.
  ``ContainsAny`` / ``ContainsAll`` take a list on the right and apply ``Contains`` per item.
* ``Matches`` means ``re.search`` on the first ``MAX_MATCH_INPUT`` characters of a string
  (run by RE2 in linear time; see ``rules.regex``).
* Ordered comparisons on a severity field (``decision.severity``) use the pack's level order.
* A bare field used as a condition (``requester.anonymous``) is parsed as
  ``Compare("==", field, Literal(True))``; there is no separate truthiness node.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal as TypingLiteral
from typing import TypeAlias

#: Longest string prefix a ``matches`` test looks at; bounds the regex work per case.
MAX_MATCH_INPUT = 20_000
#: Longest regex pattern accepted in a ``matches`` test.
MAX_PATTERN_LENGTH = 200

CompareOp: TypeAlias = TypingLiteral["==", "!=", "<", "<=", ">", ">="]
COMPARE_OPS: tuple[CompareOp, ...] = ("==", "!=", "<", "<=", ">", ">=")

Scalar: TypeAlias = str | int | float | bool | date
LiteralValue: TypeAlias = Scalar | tuple[Scalar, ...]


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node starts in its source file (1-based line and column)."""

    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


NO_SPAN = Span(0, 0)


# ---------------------------------------------------------------------------------------------
# Operands: what a test reads or compares against.


@dataclass(frozen=True, slots=True)
class Field:
    """A dotted path into the fact view, e.g. ``enterprise.size`` or ``facts.投资额``."""

    path: tuple[str, ...]
    span: Span = NO_SPAN

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: string, int, float, bool, ISO date, or a list (tuple) of scalars."""

    value: LiteralValue
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Count:
    """``count(field)``: length of a list field; 0 when missing; a non-list value makes any
    test reading it false (only possible for dynamically typed ``facts.*``)."""

    field: Field
    span: Span = NO_SPAN


Operand: TypeAlias = Field | Literal | Count


# ---------------------------------------------------------------------------------------------
# Tests: boolean leaves.


@dataclass(frozen=True, slots=True)
class Compare:
    """``left OP right`` with OP one of ``== != < <= > >=``."""

    op: CompareOp
    left: Operand
    right: Operand
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class In:
    """``item in collection``: membership of a scalar in a list (or substring of a string)."""

    item: Operand
    collection: Operand
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class NotIn:
    """``item not in collection``; false (not true) when either side is missing."""

    item: Operand
    collection: Operand
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Contains:
    """``container contains item``: substring for strings, membership for lists."""

    container: Operand
    item: Operand
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class ContainsAny:
    """``container contains_any [a, b]``: at least one item is contained."""

    container: Operand
    items: Operand
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class ContainsAll:
    """``container contains_all [a, b]``: every item is contained (vacuously true for [])."""

    container: Operand
    items: Operand
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Matches:
    """``field matches "regex"``: ``re.search`` on a bounded prefix of a string field."""

    subject: Operand
    pattern: str
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Exists:
    """``exists(field)``: the field is present in the fact view."""

    field: Field
    span: Span = NO_SPAN


# ---------------------------------------------------------------------------------------------
# Connectives.


@dataclass(frozen=True, slots=True)
class And:
    """All operands hold. Always at least two operands (the parser flattens chains)."""

    items: tuple[Expr, ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Or:
    """At least one operand holds. Always at least two operands."""

    items: tuple[Expr, ...]
    span: Span = NO_SPAN


@dataclass(frozen=True, slots=True)
class Not:
    """Boolean negation of the operand's result."""

    item: Expr
    span: Span = NO_SPAN


Test: TypeAlias = Compare | In | NotIn | Contains | ContainsAny | ContainsAll | Matches | Exists
Expr: TypeAlias = Test | And | Or | Not
Node: TypeAlias = Expr | Operand

TEST_TYPES: tuple[type, ...] = (
    Compare,
    In,
    NotIn,
    Contains,
    ContainsAny,
    ContainsAll,
    Matches,
    Exists,
)


def children(node: Node) -> tuple[Node, ...]:
    """Direct sub-nodes, in source order."""
    match node:
        case And(items) | Or(items):
            return items
        case Not(item):
            return (item,)
        case Compare(_, left, right):
            return (left, right)
        case In(a, b) | NotIn(a, b) | Contains(a, b) | ContainsAny(a, b) | ContainsAll(a, b):
            return (a, b)
        case Matches(subject, _):
            return (subject,)
        case Exists(field) | Count(field):
            return (field,)
        case _:
            return ()


def depth(node: Node) -> int:
    """Levels of nesting below and including ``node`` (a field or literal is 1)."""
    deepest = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children(current))
    return deepest


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, pre-order."""
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def fields_read(node: Node) -> tuple[Field, ...]:
    """Fields the expression reads, first occurrence order, without duplicates by name.

    A decision's ``fired[].values`` lists exactly these fields, so an auditor sees every input
    the condition looked at.
    """
    seen: dict[str, Field] = {}
    for sub in walk(node):
        if isinstance(sub, Field) and sub.name not in seen:
            seen[sub.name] = sub
    return tuple(seen.values())


def _literal_source(value: LiteralValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "[" + ", ".join(_literal_source(v) for v in value) + "]"
    return repr(value)


_PRECEDENCE = {Or: 1, And: 2, Not: 3}


def to_source(node: Node) -> str:
    """Render a node back to expression text that parses to an equal tree (spans aside)."""

    def wrap(child: Node, parent_level: int) -> str:
        text = to_source(child)
        level = _PRECEDENCE.get(type(child), 4)
        return f"({text})" if level <= parent_level else text

    match node:
        case Field():
            return node.name
        case Literal(value):
            return _literal_source(value)
        case Count(field):
            return f"count({field.name})"
        case Compare(op, left, right):
            return f"{to_source(left)} {op} {to_source(right)}"
        case In(a, b):
            return f"{to_source(a)} in {to_source(b)}"
        case NotIn(a, b):
            return f"{to_source(a)} not in {to_source(b)}"
        case Contains(a, b):
            return f"{to_source(a)} contains {to_source(b)}"
        case ContainsAny(a, b):
            return f"{to_source(a)} contains_any {to_source(b)}"
        case ContainsAll(a, b):
            return f"{to_source(a)} contains_all {to_source(b)}"
        case Matches(subject, pattern):
            return f"{to_source(subject)} matches {_literal_source(pattern)}"
        case Exists(field):
            return f"exists({field.name})"
        case And(items):
            return " and ".join(wrap(i, 2) for i in items)
        case Or(items):
            return " or ".join(wrap(i, 1) for i in items)
        case Not(item):
            return f"not {wrap(item, 3)}"
    raise TypeError(f"not an AST node: {node!r}")


__all__ = [
    "COMPARE_OPS",
    "MAX_MATCH_INPUT",
    "MAX_PATTERN_LENGTH",
    "NO_SPAN",
    "TEST_TYPES",
    "And",
    "Compare",
    "CompareOp",
    "Contains",
    "ContainsAll",
    "ContainsAny",
    "Count",
    "Exists",
    "Expr",
    "Field",
    "In",
    "Literal",
    "LiteralValue",
    "Matches",
    "Node",
    "Not",
    "NotIn",
    "Operand",
    "Or",
    "Scalar",
    "Span",
    "Test",
    "children",
    "depth",
    "fields_read",
    "to_source",
    "walk",
]
