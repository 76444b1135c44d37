"""Decision-table cells: unary tests on the input side, values on the output side.

Staff think of tier and routing as tables, so tables are first-class. Each input cell is turned
into an ordinary expression over the column's input (``>= S3`` on ``decision.severity`` becomes
``decision.severity >= "S3"``), so a table row is just a rule whose condition is the conjunction
of its cells. Both engines therefore handle tables with no extra code; only the hit policy is
applied afterwards, by the shared combiner.

Cell syntax (input side):

====================  ==========================================================
``-`` (or empty)      any value, including a missing one
``x``                 equal to x (for a list input: the list contains x)
``< x`` ``<= x`` …    ordered comparison (numbers, dates, severity levels)
``a, b, c``           one of (for a list input: contains any of)
``[a..b]``            inclusive range
``not(...)``          none of the above holds (and the input is present)
====================  ==========================================================

Bare words are strings; quote a value (``"a, b"``) to keep a comma. For a number input, words are
read as numbers; for a date input as ISO dates.
"""

from __future__ import annotations

import re
from datetime import date

from zhenshen_core.rules.ast import (
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
    Scalar,
    Span,
)
from zhenshen_core.rules.facts import FieldType
from zhenshen_core.rules.pack import Cell


class CellError(ValueError):
    """A cell that does not parse; the loader adds file, line and column."""


_RANGE = re.compile(r"^\[\s*(.+?)\s*\.\.\s*(.+?)\s*\]$")
_OP = re.compile(r"^(<=|>=|<|>)\s*(.+)$")
_NOT = re.compile(r"^not\s*\((.*)\)$", re.DOTALL)


def is_any(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip() in ("", "-"))


def _split(text: str) -> list[str]:
    """Split on commas outside double quotes."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def scalar(word: str | Scalar, kind: FieldType) -> Scalar:
    """Read one cell value according to the input column's type."""
    if not isinstance(word, str):
        return word
    text = word.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    if not text:
        raise CellError("empty value")
    if kind == FieldType.NUMBER or (kind == FieldType.ANY and re.fullmatch(r"-?\d+(\.\d+)?", text)):
        try:
            return float(text) if "." in text else int(text)
        except ValueError:
            raise CellError(f"{text!r} is not a number") from None
    if kind == FieldType.DATE or (
        kind == FieldType.ANY and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)
    ):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise CellError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None
    if kind == FieldType.BOOL or (kind == FieldType.ANY and text in ("true", "false")):
        if text not in ("true", "false"):
            raise CellError(f"{text!r} is not true or false")
        return text == "true"
    return text


def input_test(cell: Cell, subject: Operand, kind: FieldType, span: Span) -> Expr | None:
    """The expression for one input cell, or None for ``-``."""
    if is_any(cell):
        return None
    as_list = kind == FieldType.LIST
    if isinstance(cell, list):
        values = tuple(scalar(v, kind) for v in cell)
        if as_list:
            return ContainsAny(subject, Literal(values, span), span)
        return In(subject, Literal(values, span), span)
    if not isinstance(cell, str):
        assert cell is not None
        value = scalar(cell, kind)
        if as_list:
            return Contains(subject, Literal(value, span), span)
        return Compare("==", subject, Literal(value, span), span)
    text = cell.strip()
    negated = _NOT.match(text)
    if negated:
        if _NOT.match(negated.group(1).strip()):  # and nested without end, a RecursionError
            raise CellError("not(...) inside not(...): write the test itself")
        inner = input_test(negated.group(1), subject, kind, span)
        if inner is None:
            raise CellError("not(-) never matches; write the tests to exclude inside not(...)")
        if isinstance(subject, Field):
            return And((Exists(subject, span), Not(inner, span)), span)
        return Not(inner, span)
    ranged = _RANGE.match(text)
    if ranged:
        if as_list:
            raise CellError("a range cannot test a list input")
        low, high = scalar(ranged.group(1), kind), scalar(ranged.group(2), kind)
        return And(
            (
                Compare(">=", subject, Literal(low, span), span),
                Compare("<=", subject, Literal(high, span), span),
            ),
            span,
        )
    ordered = _OP.match(text)
    if ordered:
        if as_list:
            raise CellError("a list input cannot be ordered; use count(...) as the input")
        op: CompareOp = ordered.group(1)  # type: ignore[assignment]
        return Compare(op, subject, Literal(scalar(ordered.group(2), kind), span), span)
    parts = _split(text)
    if len(parts) > 1:
        values = tuple(scalar(p, kind) for p in parts)
        if as_list:
            return ContainsAny(subject, Literal(values, span), span)
        return In(subject, Literal(values, span), span)
    value = scalar(text, kind)
    if as_list:
        return Contains(subject, Literal(value, span), span)
    return Compare("==", subject, Literal(value, span), span)


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


__all__ = ["CellError", "input_test", "is_any", "output_value", "scalar"]
