"""The reference semantics of the expression language: a small tree-walking interpreter.

It is deliberately naive — one function, no indexing, no caching — so that it reads like the
specification. The compiled engine must agree with it on every expression and fact view (a
property test checks this), the durable engine must agree with the compiled one (a differential
test), and the benchmark uses it as the "loop over every rule" baseline.

Value rules (shared by every engine):

* ``None`` (or an absent key) is *missing*: every test reading a missing operand is false.
* Equality is kind-strict: booleans equal only booleans (``true`` is not ``1``), numbers compare
  across int/float, strings, dates and lists (tuples) compare with their own kind.
* Ordering applies to two numbers, two dates, or two severity levels (by the pack's order);
  anything else is false.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from zhenshen_core.rules.engines.facts import FieldType, field_spec
from zhenshen_core.rules.lang.ast import (
    And,
    Compare,
    Contains,
    ContainsAll,
    ContainsAny,
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
)
from zhenshen_core.rules.lang.regex import searcher


def value_of(operand: Operand, facts: Mapping[str, Any]) -> Any:
    """An operand's value, or None when missing. ``count`` of a missing field is 0."""
    if isinstance(operand, Field):
        return facts.get(operand.name)
    if isinstance(operand, Literal):
        return operand.value
    inner = facts.get(operand.field.name)
    if inner is None:
        return 0
    if isinstance(inner, tuple | list):
        return len(inner)
    return None  # count of a string or scalar fact: not a number we can use


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, date):
        return "date"
    if isinstance(value, tuple | list):
        return "list"
    return "other"


def same(a: Any, b: Any) -> bool:
    """Kind-strict equality (``True`` is not ``1``; lists compare element-wise)."""
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return False
    if ka == "list":
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def member(item: Any, collection: Any) -> bool:
    """``item`` is in a list (kind-strict) or a substring of a string."""
    if isinstance(collection, tuple | list):
        return any(same(item, x) for x in collection)
    if isinstance(collection, str):
        return isinstance(item, str) and item in collection
    return False


def is_severity(operand: Operand) -> bool:
    if not isinstance(operand, Field):
        return False
    spec = field_spec(operand.name)
    return spec is not None and spec.type == FieldType.SEVERITY


def ordered(op: str, a: Any, b: Any) -> bool:
    ka, kb = _kind(a), _kind(b)
    if ka != kb or ka not in ("number", "date"):
        return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def holds(expr: Expr, facts: Mapping[str, Any], levels: tuple[str, ...] = ()) -> bool:
    """Whether ``expr`` is true for ``facts``; ``levels`` orders severity values."""
    match expr:
        case And(items):
            return all(holds(i, facts, levels) for i in items)
        case Or(items):
            return any(holds(i, facts, levels) for i in items)
        case Not(item):
            return not holds(item, facts, levels)
        case Exists(field):
            return facts.get(field.name) is not None
        case Compare(op, left, right):
            a, b = value_of(left, facts), value_of(right, facts)
            if a is None or b is None:
                return False
            if op == "==":
                return same(a, b)
            if op == "!=":
                return not same(a, b)
            if (is_severity(left) or is_severity(right)) and a in levels and b in levels:
                a, b = levels.index(a), levels.index(b)
            return ordered(op, a, b)
        case In(item, collection):
            a, b = value_of(item, facts), value_of(collection, facts)
            return a is not None and b is not None and member(a, b)
        case NotIn(item, collection):
            a, b = value_of(item, facts), value_of(collection, facts)
            if a is None or b is None or not isinstance(b, tuple | list | str):
                return False
            return not member(a, b)
        case Contains(container, item):
            a, b = value_of(container, facts), value_of(item, facts)
            return a is not None and b is not None and member(b, a)
        case ContainsAny(container, items):
            a, b = value_of(container, facts), value_of(items, facts)
            if a is None or not isinstance(b, tuple | list):
                return False
            return any(member(x, a) for x in b)
        case ContainsAll(container, items):
            a, b = value_of(container, facts), value_of(items, facts)
            if not isinstance(a, tuple | list | str) or not isinstance(b, tuple | list):
                return False
            return all(member(x, a) for x in b)
        case Matches(subject, pattern):
            a = value_of(subject, facts)
            return isinstance(a, str) and searcher(pattern)(a)
    raise TypeError(f"not an expression: {expr!r}")  # pragma: no cover


__all__ = ["holds", "member", "ordered", "same", "value_of"]
