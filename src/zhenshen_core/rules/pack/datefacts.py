"""Which untyped facts a pack reads as dates, and the tests that would then never match.

``facts.*`` fields have no declared type: a test says what it expects (``facts.amount >= 100``
a number). Numbers, strings and booleans arrive from JSON as themselves, but dates arrive as
ISO strings, so a fact compared with a date would never match one. A pack that compares a fact
with a date therefore has that fact read as a date in every view (``ResolvedPack.date_facts``,
``facts.read_dates``). The same fact compared with a string that looks like a date would then
never match, so that is an error (R102) at the string, naming where the date test is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from zhenshen_core.rules.engines.facts import FACTS_PREFIX, as_date
from zhenshen_core.rules.lang.ast import (
    And,
    Compare,
    Contains,
    ContainsAll,
    ContainsAny,
    Expr,
    Field,
    In,
    Literal,
    Not,
    NotIn,
    Operand,
    Or,
    Span,
)


@dataclass(frozen=True, slots=True)
class FactLiteral:
    """A ``facts.*`` field tested against one literal value, and where."""

    field: str
    value: object
    span: Span


def _pairs(a: Operand, b: Operand) -> Iterator[tuple[str, Literal]]:
    for field, literal in ((a, b), (b, a)):
        if (
            isinstance(field, Field)
            and field.name.startswith(FACTS_PREFIX)
            and isinstance(literal, Literal)
        ):
            yield field.name, literal


def fact_literals(expr: Expr | None) -> Iterator[FactLiteral]:
    """Every literal value a ``facts.*`` field of ``expr`` is compared with."""
    match expr:
        case None:
            return
        case And(items) | Or(items):
            for item in items:
                yield from fact_literals(item)
        case Not(item):
            yield from fact_literals(item)
        case (
            Compare(_, a, b)
            | In(a, b)
            | NotIn(a, b)
            | Contains(a, b)
            | ContainsAny(a, b)
            | ContainsAll(a, b)
        ):
            for name, literal in _pairs(a, b):
                values = literal.value if isinstance(literal.value, tuple) else (literal.value,)
                for value in values:
                    yield FactLiteral(name, value, literal.span)


def _is_date(value: object) -> bool:
    return isinstance(value, date)


def date_facts(conditions: Iterable[Expr | None]) -> frozenset[str]:
    """The ``facts.*`` fields compared with a date somewhere in ``conditions``."""
    return frozenset(
        found.field
        for condition in conditions
        for found in fact_literals(condition)
        if _is_date(found.value)
    )


def dated_strings(
    conditions: Iterable[tuple[str, Expr | None]], dates: frozenset[str]
) -> Iterator[tuple[str, FactLiteral]]:
    """(file, literal) for each ISO-date-looking string compared with a date fact: it would
    never match, since the fact's ISO strings are read as dates."""
    for file, condition in conditions:
        for found in fact_literals(condition):
            text = found.value
            if found.field in dates and isinstance(text, str) and as_date(text) is not text:
                yield file, found


__all__ = ["FactLiteral", "date_facts", "dated_strings", "fact_literals"]
