"""``-k EXPR``: pytest's keyword selection, for test names.

``EXPR`` is words combined with ``and``, ``or``, ``not`` and parentheses; a word matches when it
is a case-insensitive substring of the test's name or file path. Parsed by a small recursive
descent parser (never ``eval``); a malformed expression is a usage error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from zhenshen_core.rules.tester.model import TestSpec

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")
_OPS = {"and", "or", "not"}

Predicate = Callable[[str], bool]


class KeywordError(ValueError):
    """A ``-k`` expression that does not parse; the message says where."""


@dataclass
class _Parser:
    tokens: list[str]
    expr: str
    pos: int = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def fail(self, what: str) -> KeywordError:
        got = self.peek()
        where = f"at {got!r}" if got is not None else "at the end"
        return KeywordError(f"-k {self.expr!r}: expected {what} {where}")

    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda _text: True
        pred = self.or_expr()
        if self.peek() is not None:
            raise self.fail("'and', 'or' or ')'")
        return pred

    def or_expr(self) -> Predicate:
        left = self.and_expr()
        while self.peek() == "or":
            self.take()
            right = self.and_expr()
            left = (lambda a, b: lambda t: a(t) or b(t))(left, right)
        return left

    def and_expr(self) -> Predicate:
        left = self.not_expr()
        while self.peek() == "and":
            self.take()
            right = self.not_expr()
            left = (lambda a, b: lambda t: a(t) and b(t))(left, right)
        return left

    def not_expr(self) -> Predicate:
        if self.peek() == "not":
            self.take()
            inner = self.not_expr()
            return lambda t: not inner(t)
        return self.atom()

    def atom(self) -> Predicate:
        token = self.peek()
        if token == "(":
            self.take()
            inner = self.or_expr()
            if self.peek() != ")":
                raise self.fail("')'")
            self.take()
            return inner
        if token is None or token == ")" or token in _OPS:
            raise self.fail("a word")
        word = self.take().casefold()
        return lambda t: word in t


def compile_keyword(expr: str) -> Callable[[TestSpec], bool]:
    """A test filter for ``-k EXPR``; raises :class:`KeywordError` for a malformed one."""
    tokens = [m.group(1) for m in _TOKEN.finditer(expr)]
    predicate = _Parser(tokens, expr).parse()
    return lambda test: predicate(f"{test.file}::{test.name}".casefold())


__all__ = ["KeywordError", "compile_keyword"]
