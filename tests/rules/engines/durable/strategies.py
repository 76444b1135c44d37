"""Hypothesis strategies for conditions and fact views, aimed at the durable encoder's edges.

Values cluster around the literals (equal, just below, just above, other types), so the
order-preserving codes, interning, missing fields and list membership are all exercised.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import strategies as st

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
    Or,
)

SEVERITY_LEVELS = ("S1", "S2", "S3", "S4")
STRINGS = ("a", "b", "中文", 'q"\\x', "")
NUMBERS = (0, 1, 2, -3, 2.5, 10**17, 1e300, -1e-9)
DATES = (date(2024, 1, 1), date(2024, 6, 30), date(2025, 12, 31))
LIST_ITEMS = ("x", "y", "甲", "z")

STRING_FIELDS = ("domain", "channel", "enterprise.size")
NUMBER_FIELDS = ("returns",)
DATE_FIELDS = ("received_at",)
LIST_FIELDS = ("departments", "tags", "enterprise.tags")
ANY_FIELDS = ("facts.amount", "facts.kind")
SEVERITY_FIELD = "decision.severity"

_ops = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
_eq_ops = st.sampled_from(["==", "!="])


def _field(name: str) -> Field:
    return Field(tuple(name.split(".")))


def _swap(draw: Any, left: Any, right: Any) -> tuple[Any, Any]:
    return (right, left) if draw(st.booleans()) else (left, right)


@st.composite
def tests(draw: Any) -> Expr:
    kind = draw(st.integers(0, 11))
    if kind == 0:
        f = _field(draw(st.sampled_from(STRING_FIELDS)))
        left, right = _swap(draw, f, Literal(draw(st.sampled_from(STRINGS))))
        return Compare(draw(_eq_ops), left, right)
    if kind == 1:
        f = _field(draw(st.sampled_from(NUMBER_FIELDS + ANY_FIELDS)))
        left, right = _swap(draw, f, Literal(draw(st.sampled_from(NUMBERS))))
        return Compare(draw(_ops), left, right)
    if kind == 2:
        f = _field(draw(st.sampled_from(DATE_FIELDS)))
        return Compare(draw(_ops), f, Literal(draw(st.sampled_from(DATES))))
    if kind == 3:
        f = _field(SEVERITY_FIELD)
        left, right = _swap(draw, f, Literal(draw(st.sampled_from(SEVERITY_LEVELS))))
        return Compare(draw(_ops), left, right)
    if kind == 4:
        f = _field(draw(st.sampled_from(STRING_FIELDS + ANY_FIELDS)))
        values = tuple(draw(st.lists(st.sampled_from((*STRINGS, 1, 2.5)), max_size=4)))
        cls = In if draw(st.booleans()) else NotIn
        return cls(f, Literal(values))
    if kind == 5:
        f = _field(draw(st.sampled_from(LIST_FIELDS)))
        item = Literal(draw(st.sampled_from(LIST_ITEMS)))
        return Contains(f, item) if draw(st.booleans()) else In(item, f)
    if kind == 6:
        f = _field(draw(st.sampled_from(LIST_FIELDS)))
        values = tuple(draw(st.lists(st.sampled_from(LIST_ITEMS), max_size=3)))
        cls = ContainsAny if draw(st.booleans()) else ContainsAll
        return cls(f, Literal(values))
    if kind == 7:
        f = _field(draw(st.sampled_from((*LIST_FIELDS, "content"))))
        return Compare(draw(_ops), Count(f), Literal(draw(st.sampled_from((0, 1, 2, 2.5)))))
    if kind == 8:
        f = _field(draw(st.sampled_from(("content", "title", *ANY_FIELDS))))
        return Contains(f, Literal(draw(st.sampled_from(("停产", "a", "")))))
    if kind == 9:
        f = _field(draw(st.sampled_from(("content", *ANY_FIELDS))))
        return Matches(f, draw(st.sampled_from(("^a", "停.", "b$"))))
    if kind == 10:
        return Exists(_field(draw(st.sampled_from(STRING_FIELDS + LIST_FIELDS + ANY_FIELDS))))
    return Compare(draw(_ops), _field("returns"), _field("facts.amount"))


def expressions(max_leaves: int = 6) -> st.SearchStrategy[Expr]:
    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        pair = st.lists(children, min_size=2, max_size=3).map(tuple)
        return st.one_of(pair.map(And), pair.map(Or), children.map(Not))

    return st.recursive(tests(), extend, max_leaves=max_leaves)


@st.composite
def views(draw: Any) -> dict[str, Any]:
    view: dict[str, Any] = {}

    def maybe(name: str, values: st.SearchStrategy[Any]) -> None:
        if draw(st.integers(0, 4)):
            view[name] = draw(values)

    for name in STRING_FIELDS:
        maybe(name, st.sampled_from((*STRINGS, "other")))
    maybe("returns", st.sampled_from((*NUMBERS, 3, 2.4999, 10**17 + 1)))
    maybe("received_at", st.sampled_from((*DATES, date(2024, 3, 3))))
    maybe(SEVERITY_FIELD, st.sampled_from(SEVERITY_LEVELS))
    for name in LIST_FIELDS:
        maybe(name, st.lists(st.sampled_from((*LIST_ITEMS, "w")), max_size=3).map(tuple))
    maybe("content", st.sampled_from(("", "企业停产", "abc", "a停x")))
    maybe("title", st.sampled_from(("a", "b")))
    maybe("facts.amount", st.sampled_from((*NUMBERS, "a", True, 1.0, "1")))
    maybe("facts.kind", st.sampled_from((*STRINGS, 1, 2.5, True)))
    return view
