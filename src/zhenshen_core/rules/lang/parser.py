"""Expression text → AST, with a real LALR parser (lark); nothing is ever evaluated as Python.

Expressions live inside YAML scalars, so ``parse_expression`` takes the scalar's own position and
shifts every span by it: an error then points at the character in the rule file, not in the
expression string.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from zhenshen_core.rules.diagnostics import ExpressionSyntaxError
from zhenshen_core.rules.lang.ast import (
    And,
    Compare,
    CompareOp,
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
    Scalar,
    Span,
    depth,
)
from zhenshen_core.rules.lang.grammar import GRAMMAR
from zhenshen_core.rules.lang.grammar_tables import load_parser, write_tables

MAX_EXPRESSION_LENGTH = 10_000
#: How deeply an expression may nest (``not``, ``and``/``or`` in parentheses, operands). Real
#: conditions nest a handful of levels; the checks and the engines walk an expression
#: recursively, so a limit far below Python's recursion limit keeps a hostile one from
#: crashing them.
MAX_EXPRESSION_DEPTH = 50

_TOKEN_NAMES = {
    "COMP": "a comparison (== != < <= > >=)",
    "NAME": "a field name",
    "STRING": "a string",
    "NUMBER": "a number",
    "DATE": "a date (YYYY-MM-DD)",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "DOT": "'.'",
    "$END": "end of expression",
}


#: How lark builds the expression parser (also what the saved tables are checked against).
PARSER_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "start": ["start", "operand_start"],
    "propagate_positions": True,
    "maybe_placeholders": True,
}


def save_parser_tables() -> Path:
    """Rewrite the saved LALR tables after a grammar change (``make grammar-tables``)."""
    return write_tables(GRAMMAR, PARSER_OPTIONS)


@functools.cache
def _parser() -> Lark:
    """One parser per process, reentrant: from the saved LALR tables when they match the
    grammar (see ``grammar_tables``), else built from the grammar."""
    saved = load_parser(GRAMMAR, PARSER_OPTIONS)
    return saved if saved is not None else Lark(GRAMMAR, **PARSER_OPTIONS)


def _unescape(raw: str) -> str:
    """Decode a quoted string literal. Unknown escapes keep their backslash (regex-friendly)."""
    body = raw[1:-1]
    out: list[str] = []
    i = 0
    simple = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in simple:
                out.append(simple[nxt])
                i += 2
                continue
            if nxt == "u" and i + 6 <= len(body):
                try:
                    out.append(chr(int(body[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                except ValueError:
                    pass  # not four hex digits: keep the backslash literally, like other escapes
            out.append(ch)
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class _ToAst(Transformer[Token, Expr]):
    """Builds frozen AST nodes; positions are shifted to the enclosing file."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__()
        self._line, self._column = line, column

    def span(self, line: int | None, column: int | None) -> Span:
        line = line or 1
        column = column or 1
        if line == 1:
            return Span(self._line, self._column + column - 1)
        return Span(self._line + line - 1, column)

    def _meta_span(self, meta: Any) -> Span:
        return self.span(getattr(meta, "line", 1), getattr(meta, "column", 1))

    # -- literals -------------------------------------------------------------------------
    def string(self, children: list[Token]) -> Literal:
        tok = children[0]
        return Literal(_unescape(str(tok)), self.span(tok.line, tok.column))

    def number(self, children: list[Token]) -> Literal:
        tok = children[0]
        text = str(tok)
        value: int | float = float(text) if any(c in text for c in ".eE") else int(text)
        return Literal(value, self.span(tok.line, tok.column))

    def date_(self, children: list[Token]) -> Literal:
        tok = children[0]
        span = self.span(tok.line, tok.column)
        try:
            return Literal(date.fromisoformat(str(tok)), span)
        except ValueError:
            raise ExpressionSyntaxError(
                f"invalid date {tok!s} (expected a real calendar date YYYY-MM-DD)",
                span.line,
                span.column,
            ) from None

    @v_args(meta=True)
    def true(self, meta: Any, children: list[Any]) -> Literal:
        return Literal(True, self._meta_span(meta))

    @v_args(meta=True)
    def false(self, meta: Any, children: list[Any]) -> Literal:
        return Literal(False, self._meta_span(meta))

    @v_args(meta=True)
    def list_(self, meta: Any, children: list[Literal | None]) -> Literal:
        values: tuple[Scalar, ...] = tuple(
            c.value  # type: ignore[misc]
            for c in children
            if c is not None
        )
        return Literal(values, self._meta_span(meta))

    # -- operands -------------------------------------------------------------------------
    def field(self, children: list[Token]) -> Field:
        first = children[0]
        return Field(tuple(str(t) for t in children), self.span(first.line, first.column))

    @v_args(meta=True)
    def count(self, meta: Any, children: list[Field]) -> Count:
        return Count(children[0], self._meta_span(meta))

    # -- tests ----------------------------------------------------------------------------
    @v_args(meta=True)
    def compare(self, meta: Any, children: list[Any]) -> Compare:
        left, op, right = children
        op_text: CompareOp = str(op)  # type: ignore[assignment]
        return Compare(op_text, left, right, self._meta_span(meta))

    @v_args(meta=True)
    def in_(self, meta: Any, children: list[Operand]) -> In:
        return In(children[0], children[1], self._meta_span(meta))

    @v_args(meta=True)
    def not_in(self, meta: Any, children: list[Operand]) -> NotIn:
        return NotIn(children[0], children[1], self._meta_span(meta))

    @v_args(meta=True)
    def contains(self, meta: Any, children: list[Operand]) -> Contains:
        return Contains(children[0], children[1], self._meta_span(meta))

    @v_args(meta=True)
    def contains_any(self, meta: Any, children: list[Operand]) -> ContainsAny:
        return ContainsAny(children[0], children[1], self._meta_span(meta))

    @v_args(meta=True)
    def contains_all(self, meta: Any, children: list[Operand]) -> ContainsAll:
        return ContainsAll(children[0], children[1], self._meta_span(meta))

    @v_args(meta=True)
    def matches(self, meta: Any, children: list[Any]) -> Matches:
        subject, pattern = children
        return Matches(subject, _unescape(str(pattern)), self._meta_span(meta))

    @v_args(meta=True)
    def exists(self, meta: Any, children: list[Field]) -> Exists:
        return Exists(children[0], self._meta_span(meta))

    @v_args(meta=True)
    def truthy(self, meta: Any, children: list[Field]) -> Compare:
        field = children[0]
        return Compare("==", field, Literal(True, field.span), self._meta_span(meta))

    # -- connectives ----------------------------------------------------------------------
    @v_args(meta=True)
    def and_(self, meta: Any, children: list[Expr]) -> And:
        left, right = children
        items = (*left.items, right) if isinstance(left, And) else (left, right)
        return And(items, self._meta_span(meta))

    @v_args(meta=True)
    def or_(self, meta: Any, children: list[Expr]) -> Or:
        left, right = children
        items = (*left.items, right) if isinstance(left, Or) else (left, right)
        return Or(items, self._meta_span(meta))

    @v_args(meta=True)
    def not_(self, meta: Any, children: list[Expr]) -> Not:
        return Not(children[0], self._meta_span(meta))


def _expected(exc: UnexpectedInput) -> str:
    names = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or [])
    shown = [_TOKEN_NAMES.get(n, n.lower().strip('"')) for n in names]
    keywords = [s for s in shown if s.isalpha() and s.islower() and " " not in s]
    others = [s for s in shown if s not in keywords]
    parts = others + ([", ".join(f"'{k}'" for k in keywords)] if keywords else [])
    return "; ".join(parts[:8])


def _too_deep(levels: int | None, line: int, column: int, source: str) -> ExpressionSyntaxError:
    found = "" if levels is None else f" ({levels} levels)"
    return ExpressionSyntaxError(
        f"expression nests too deeply{found}; the limit is {MAX_EXPRESSION_DEPTH} levels of "
        "not, and/or and operands",
        line,
        column,
        source,
    )


def parse_expression(text: str, *, line: int = 1, column: int = 1, source: str = "<expr>") -> Expr:
    """Parse one condition into an AST.

    ``line``/``column`` are where the text starts in its file, so spans and errors are located in
    the file. Raises :class:`ExpressionSyntaxError` (a ``RuleError``) on any syntax problem.
    """
    result = _parse(text, "start", line, column, source)
    return result  # type: ignore[return-value]


def parse_operand(text: str, *, line: int = 1, column: int = 1, source: str = "<expr>") -> Operand:
    """Parse a decision-table input: a field path, ``count(field)`` or a literal."""
    result = _parse(text, "operand_start", line, column, source)
    return result  # type: ignore[return-value]


def _parse(text: str, start: str, line: int, column: int, source: str) -> Expr | Operand:
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionSyntaxError(
            f"expression is {len(text)} characters; the limit is {MAX_EXPRESSION_LENGTH}",
            line,
            column,
            source,
        )
    if not text.strip():
        raise ExpressionSyntaxError("empty expression", line, column, source)
    builder = _ToAst(line, column)
    try:
        tree = _parser().parse(text, start=start)
        result = builder.transform(tree)
    except UnexpectedCharacters as exc:
        span = builder.span(exc.line, exc.column)
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        raise ExpressionSyntaxError(
            f"unexpected character {char!r}; expected {_expected(exc)}",
            span.line,
            span.column,
            source,
        ) from None
    except UnexpectedEOF as exc:
        lines = text.splitlines() or [""]
        span = builder.span(len(lines), len(lines[-1]) + 1)
        raise ExpressionSyntaxError(
            f"expression ends too early; expected {_expected(exc)}", span.line, span.column, source
        ) from None
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            lines = text.splitlines() or [""]
            span = builder.span(len(lines), len(lines[-1]) + 1)
            found = "end of expression"
        else:
            span = builder.span(tok.line, tok.column)
            found = repr(str(tok))
        raise ExpressionSyntaxError(
            f"unexpected {found}; expected {_expected(exc)}", span.line, span.column, source
        ) from None
    except UnexpectedInput as exc:  # pragma: no cover - lark's other cases
        span = builder.span(exc.line, exc.column)
        raise ExpressionSyntaxError(str(exc), span.line, span.column, source) from None
    except RecursionError:  # too deep even to build
        raise _too_deep(None, line, column, source) from None
    except Exception as exc:
        inner = getattr(exc, "orig_exc", None)
        if isinstance(inner, RecursionError):
            raise _too_deep(None, line, column, source) from None
        if isinstance(inner, ExpressionSyntaxError):
            raise ExpressionSyntaxError(inner.detail, inner.line, inner.column, source) from None
        raise
    if not isinstance(result, (Tree, Token)):
        levels = depth(result)
        if levels > MAX_EXPRESSION_DEPTH:
            raise _too_deep(levels, line, column, source)
        return result
    raise ExpressionSyntaxError("not a condition", line, column, source)  # pragma: no cover


__all__ = ["MAX_EXPRESSION_DEPTH", "MAX_EXPRESSION_LENGTH", "parse_expression", "parse_operand"]
