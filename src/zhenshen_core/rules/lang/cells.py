"""Decision-table cells: unary tests on the input side, values on the output side.

Staff think of tier and routing as tables, so tables are first-class. Each input cell is turned
into an ordinary expression over the column's input (``>= S3`` on ``decision.severity`` becomes
``decision.severity >= "S3"``), so a table row is just a rule whose condition is the conjunction
of its cells. Both engines therefore handle tables with no extra code; only the hit policy is
applied afterwards, by the shared combiner.

A cell is read by its syntax first, then checked against the input's type, so that it is a
valid unary test for its input or a located error — never a string by accident (``[100..120)``
read as the text "[100..120)" would silently never match). Cell syntax (input side), in the
manner of DMN's simple unary tests:

=========================  ===================================================================
``-`` (or empty)           any value, including a missing one
``x``                      equal to x (for a list input: the list contains x)
``= x``  ``!= x``          equal / not equal (a present value; ``!=`` is not for list inputs)
``< x`` ``<= x`` …         ordered comparison (numbers, dates, severity levels)
``[a..b]`` ``(a..b)``      range; ``[``/``]`` include the end, ``(``/``)`` leave it out
``t1, t2, …``              any of the tests (values, comparisons or ranges; for a list input:
                           contains any of the values)
``not(t1, t2, …)``         the input is present and none of the tests holds (one level)
=========================  ===================================================================

Values: ``"text"`` (a string, commas and brackets included), a number (``42``, ``-2.5``), a
date (``date("2026-03-01")`` or bare ``2026-03-01``), ``true``/``false``, or a bare word. A bare
word is read by the input's type: a number for ``count(...)``, a severity level for
``decision.severity``, a string for a string field. On an untyped ``facts.*`` input the cell
says the type: ``[100..120)`` compares numbers, ``>= date("2026-01-01")`` dates (an ISO date
string in the facts is then read as that date, see ``ResolvedPack.date_facts``).
A bare word never holds ``[ ] ( ) < > = ! "`` or ``..``: such a cell is a test that does not
parse, and an error at its own line and column (``T300``) — quote it to mean the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from zhenshen_core.rules.engines.facts import FieldType
from zhenshen_core.rules.lang.ast import (
    And,
    Compare,
    CompareOp,
    Contains,
    ContainsAny,
    Exists,
    Expr,
    Field,
    In,
    Literal,
    Not,
    Operand,
    Or,
    Scalar,
    Span,
    to_source,
)

#: What a table cell holds once YAML is read (``pack.model`` validates table rows with it).
Cell = str | int | float | bool | date | list[str] | None


class CellError(ValueError):
    """A cell that does not parse or does not fit its input; the loader adds the location."""


_NOT = re.compile(r"^not\s*\((.*)\)$", re.DOTALL)
_OP = re.compile(r"^(<=|>=|!=|<|>|=)\s*(.*)$", re.DOTALL)
_RANGE = re.compile(r"^([\[(])\s*(.*?)\s*\.\.\s*(.*?)\s*([\])])$", re.DOTALL)
_DATE_CALL = re.compile(r"""^date\s*\(\s*(["'])(.*)\1\s*\)$""", re.DOTALL)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Characters of the cell syntax itself: a bare word holding one is a test that did not parse.
_SYNTAX = re.compile(r'[\[\]()<>=!"]|\.\.')

_WORDS = {
    FieldType.STRING: "a string",
    FieldType.NUMBER: "a number",
    FieldType.BOOL: "a boolean",
    FieldType.DATE: "a date",
    FieldType.SEVERITY: "a severity level",
    FieldType.LIST: "a list",
    FieldType.ANY: "an untyped fact",
}


@dataclass(frozen=True, slots=True)
class _Value:
    """One value of a cell, with the type its syntax gives it."""

    value: Scalar
    kind: FieldType  # STRING, NUMBER, DATE or BOOL
    bare: bool  # an unquoted word: read by the input's type
    text: str


def is_any(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip() in ("", "-"))


def _split(text: str) -> list[str]:
    """Split on commas outside double quotes, brackets and parentheses."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    depth = 0
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "[(":
            depth += 1
        elif not quoted and ch in "])":
            depth = max(depth - 1, 0)
        if ch == "," and not quoted and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def _value(word: str | Scalar) -> _Value:
    """A value by its syntax alone (what it is before the input's type is considered)."""
    if not isinstance(word, str):  # a YAML number, boolean or date cell
        kind = (
            FieldType.BOOL
            if isinstance(word, bool)
            else FieldType.NUMBER
            if isinstance(word, int | float)
            else FieldType.DATE
            if isinstance(word, date)
            else FieldType.STRING
        )
        return _Value(word, kind, False, str(word))
    text = word.strip()
    if not text:
        raise CellError("empty value")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        inner = text[1:-1]
        if '"' in inner:
            raise CellError(f"{text} is not one quoted string (a quote inside it)")
        return _Value(inner, FieldType.STRING, False, text)
    call = _DATE_CALL.match(text)
    if call:
        return _Value(_iso_date(call.group(2), text), FieldType.DATE, False, text)
    if _NUMBER.match(text):
        return _Value(float(text) if "." in text else int(text), FieldType.NUMBER, True, text)
    if _ISO_DATE.match(text):
        return _Value(_iso_date(text, text), FieldType.DATE, True, text)
    if text in ("true", "false"):
        return _Value(text == "true", FieldType.BOOL, True, text)
    if _SYNTAX.search(text):
        raise CellError(
            f"{text!r} is not a unary test: see the cell syntax (ranges [a..b] or (a..b), "
            'comparisons < <= > >= = !=, lists a, b); quote it ("…") to mean this text'
        )
    return _Value(text, FieldType.STRING, True, text)


def _iso_date(text: str, shown: str) -> date:
    if not _ISO_DATE.match(text.strip()):
        raise CellError(f"{shown} is not an ISO date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CellError(f"{shown} is not a date of the calendar") from None


def _fit(value: _Value, kind: FieldType, subject: str) -> _Value:
    """``value`` as the input's type reads it, or why it can never match that input."""
    if kind == FieldType.ANY:
        return value
    want = FieldType.STRING if kind in (FieldType.SEVERITY, FieldType.LIST) else kind
    if value.kind == want:
        return value
    if value.bare and want == FieldType.STRING:
        return _Value(value.text, FieldType.STRING, True, value.text)  # 42 on a string field
    if value.bare and value.kind == FieldType.STRING:
        expected = {
            FieldType.NUMBER: "is not a number",
            FieldType.DATE: "is not an ISO date (YYYY-MM-DD)",
            FieldType.BOOL: "is not true or false",
        }[want]
        raise CellError(f"{value.text!r} {expected}; {subject} is {_WORDS[kind]}")
    raise CellError(
        f"{value.text} is {_WORDS[value.kind]}, but {subject} is {_WORDS[kind]}: "
        "the test could never match"
    )


def _scalar(word: str | Scalar, kind: FieldType, subject: str) -> Scalar:
    return _fit(_value(word), kind, subject).value


def _ordered(value: _Value, kind: FieldType, subject: str, what: str) -> _Value:
    """A value that an ordered test (``<``, a range) may compare with."""
    if kind == FieldType.LIST:
        raise CellError(f"{what} cannot test a list input; use count(...) as the input")
    fitted = _fit(value, kind, subject)
    if kind == FieldType.SEVERITY or fitted.kind in (FieldType.NUMBER, FieldType.DATE):
        return fitted
    noun = {FieldType.STRING: "strings", FieldType.BOOL: "booleans"}[fitted.kind]
    raise CellError(
        f"{what} compares {noun}, which are not ordered: only numbers, dates and severity "
        f"levels are ({subject} is {_WORDS[kind]})"
    )


def _range(match: re.Match[str], subject: Operand, kind: FieldType, name: str, span: Span) -> Expr:
    opening, low_text, high_text, closing = match.groups()
    low = _ordered(_value(low_text), kind, name, "a range")
    high = _ordered(_value(high_text), kind, name, "a range")
    if low.kind != high.kind:
        raise CellError(
            f"a range from {_WORDS[low.kind]} to {_WORDS[high.kind]}: both ends must be alike"
        )
    include_low, include_high = opening == "[", closing == "]"
    if low.kind in (FieldType.NUMBER, FieldType.DATE):
        a, b = low.value, high.value
        if a > b or (a == b and not (include_low and include_high)):  # type: ignore[operator]
            raise CellError(f"{match.group(0)} is an empty range: no value lies in it")
    return And(
        (
            Compare(">=" if include_low else ">", subject, Literal(low.value, span), span),
            Compare("<=" if include_high else "<", subject, Literal(high.value, span), span),
        ),
        span,
    )


def _test(part: str | Scalar, subject: Operand, kind: FieldType, span: Span) -> Expr:
    """One test of a cell: a comparison, a range or a value (equality)."""
    name = to_source(subject)
    as_list = kind == FieldType.LIST
    if isinstance(part, str):
        text = part.strip()
        if _NOT.match(text):
            raise CellError("not(...) applies to a whole cell: write not(a, b) for none of them")
        ranged = _RANGE.match(text)
        if ranged:
            return _range(ranged, subject, kind, name, span)
        compared = _OP.match(text)
        if compared:
            op_text, operand = compared.groups()
            if not operand.strip():
                raise CellError(f"{op_text!r} needs a value after it")
            op: CompareOp = "==" if op_text == "=" else op_text  # type: ignore[assignment]
            if op in ("==", "!="):
                value = _fit(_value(operand), kind, name)
                if as_list:
                    if op == "!=":
                        raise CellError(f"!= cannot test a list input; write not({operand})")
                    return Contains(subject, Literal(value.value, span), span)
                return Compare(op, subject, Literal(value.value, span), span)
            value = _ordered(_value(operand), kind, name, f"{op_text!r}")
            return Compare(op, subject, Literal(value.value, span), span)
    value = _fit(_value(part), kind, name)
    if as_list:
        return Contains(subject, Literal(value.value, span), span)
    return Compare("==", subject, Literal(value.value, span), span)


def _plain(part: str | Scalar) -> bool:
    """A part that is just a value (no operator, no range)."""
    if not isinstance(part, str):
        return True
    text = part.strip()
    return not (_OP.match(text) or _RANGE.match(text) or _NOT.match(text))


def _tests(parts: Sequence[str | Scalar], subject: Operand, kind: FieldType, span: Span) -> Expr:
    """The tests of a cell joined by "any of"; plain values become one membership test."""
    if any(isinstance(p, str) and not p.strip() for p in parts):
        raise CellError("empty value between commas")
    if len(parts) > 1 and all(_plain(p) for p in parts):
        name = to_source(subject)
        values = tuple(_scalar(p, kind, name) for p in parts)
        if kind == FieldType.LIST:
            return ContainsAny(subject, Literal(values, span), span)
        return In(subject, Literal(values, span), span)
    tests = [_test(p, subject, kind, span) for p in parts]
    return tests[0] if len(tests) == 1 else Or(tuple(tests), span)


def input_test(cell: Cell, subject: Operand, kind: FieldType, span: Span) -> Expr | None:
    """The expression for one input cell, or None for ``-``."""
    if is_any(cell):
        return None
    if isinstance(cell, list):
        if not cell:
            raise CellError("an empty list never matches; write - for any value")
        return _tests(list(cell), subject, kind, span)
    if not isinstance(cell, str):
        assert cell is not None
        return _test(cell, subject, kind, span)
    text = cell.strip()
    negated = _NOT.match(text)
    if negated:
        inner_text = negated.group(1).strip()
        if _NOT.match(inner_text):  # and nested without end, a RecursionError
            raise CellError("not(...) inside not(...): write the test itself")
        if is_any(inner_text):
            raise CellError("not(-) never matches; write the tests to exclude inside not(...)")
        inner = _tests(_split(inner_text), subject, kind, span)
        if isinstance(subject, Field):
            return And((Exists(subject, span), Not(inner, span)), span)
        return Not(inner, span)
    return _tests(_split(text), subject, kind, span)


def output_value(cell: Cell, is_list: bool) -> str | tuple[str, ...] | None:
    """An output cell: None for ``-``; a tuple for list outputs (comma-separated or a list)."""
    if is_any(cell):
        return None
    if isinstance(cell, list):
        values = tuple(str(v).strip() for v in cell)
    elif isinstance(cell, str):
        values = tuple(p.strip('"') for p in _split(cell))
    else:
        values = (str(cell),)
    if any(not v for v in values):
        raise CellError("empty value in output cell")
    if is_list:
        return values
    if len(values) != 1:
        raise CellError("this output takes one value, not a list")
    return values[0]


__all__ = ["CellError", "input_test", "is_any", "output_value"]
