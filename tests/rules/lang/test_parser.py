"""The expression parser: every construct, located errors, and a print/parse round trip."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.rules import ExpressionSyntaxError, parse_expression
from zhenshen_core.rules.lang.ast import (
    And,
    Compare,
    ContainsAll,
    ContainsAny,
    Count,
    Exists,
    Field,
    In,
    Literal,
    Matches,
    Not,
    NotIn,
    Or,
    Span,
    fields_read,
    to_source,
)


def test_issue_example() -> None:
    expr = parse_expression(
        'domain == "market_entry_operation" and content contains_any ["停产", "无法经营"]'
    )
    assert isinstance(expr, And)
    first, second = expr.items
    assert first == Compare(
        "==",
        Field(("domain",), Span(1, 1)),
        Literal("market_entry_operation", Span(1, 11)),
        Span(1, 1),
    )
    assert isinstance(second, ContainsAny)
    assert second.items == Literal(("停产", "无法经营"), Span(1, 61))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("a in [1, 2]", In),
        ("a not in [1, 2]", NotIn),
        ('tags contains_all ["x"]', ContainsAll),
        ('content matches "\\d+"', Matches),
        ("exists(facts.投资额)", Exists),
        ("not a", Not),
        ("a or b", Or),
    ],
)
def test_constructs(text: str, kind: type) -> None:
    assert isinstance(parse_expression(text), kind)


def test_literals() -> None:
    expr = parse_expression("x == [1, 2.5, true, false, 2024-02-29, 'q', \"w\\n\"]")
    assert isinstance(expr, Compare) and isinstance(expr.right, Literal)
    assert expr.right.value == (1, 2.5, True, False, date(2024, 2, 29), "q", "w\n")


def test_count_and_precedence() -> None:
    expr = parse_expression("a or b and not count(departments) >= 3")
    assert isinstance(expr, Or)
    right = expr.items[1]
    assert isinstance(right, And)
    negated = right.items[1]
    assert isinstance(negated, Not) and isinstance(negated.item, Compare)
    assert isinstance(negated.item.left, Count)


def test_chains_are_flat() -> None:
    expr = parse_expression("a and b and c and d")
    assert isinstance(expr, And) and len(expr.items) == 4


def test_bare_field_means_true() -> None:
    expr = parse_expression("requester.anonymous")
    assert expr == Compare(
        "==", Field(("requester", "anonymous"), Span(1, 1)), Literal(True, Span(1, 1)), Span(1, 1)
    )


def test_spans_are_shifted_to_the_file() -> None:
    expr = parse_expression("a == 1 and\n  b == 2", line=10, column=11)
    assert isinstance(expr, And)
    assert expr.items[0].span == Span(10, 11)
    assert expr.items[1].span == Span(11, 3)


def test_regex_escapes_survive() -> None:
    expr = parse_expression('content matches "\\d{4}年"')
    assert isinstance(expr, Matches) and expr.pattern == "\\d{4}年"


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("a ==", 1, 5, "end of expression"),
        ("a === b", 1, 5, "unexpected character"),
        ("x == 2024-02-30", 1, 6, "invalid date"),
        ("and", 1, 1, "unexpected 'and'"),
        ("(a == 1", 1, 8, "expected ')'"),
        ("a == 1 b", 1, 8, "unexpected"),
        ("", 1, 1, "empty"),
        ("__import__('os')", 1, 11, "unexpected"),
    ],
)
def test_syntax_errors_are_located(text: str, line: int, column: int, fragment: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression(text)
    assert (info.value.line, info.value.column) == (line, column)
    assert fragment in info.value.detail
    assert info.value.diagnostics[0].code == "R100"


def test_fields_read_in_order_without_duplicates() -> None:
    expr = parse_expression("b == 1 or a == 2 or b == 3 or count(c) > 0")
    assert [f.name for f in fields_read(expr)] == ["b", "a", "c"]


names = st.sampled_from(["domain", "content", "tags", "facts.x", "enterprise.size"])
scalars = st.one_of(
    st.text(alphabet='ab 甲"\\', max_size=4),
    st.integers(-5, 5),
    st.booleans(),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 1, 1)),
)
operands = st.one_of(
    names.map(lambda n: Field(tuple(n.split(".")))),
    scalars.map(Literal),
    st.lists(scalars, max_size=3).map(lambda v: Literal(tuple(v))),
    names.map(lambda n: Count(Field(tuple(n.split("."))))),
)
tests = st.one_of(
    st.builds(Compare, st.sampled_from(["==", "!=", "<", ">="]), operands, operands),
    st.builds(In, operands, operands),
    st.builds(NotIn, operands, operands),
    st.builds(ContainsAny, operands, operands),
    names.map(lambda n: Exists(Field(tuple(n.split("."))))),
)
exprs = st.recursive(
    tests,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
    ),
    max_leaves=8,
)


def _strip(node: object) -> str:
    return to_source(node)  # type: ignore[arg-type]


@given(exprs)
def test_to_source_round_trips(expr: object) -> None:
    # The parser flattens nested and/or chains, so compare after one normalising pass.
    once = to_source(parse_expression(_strip(expr)))
    assert to_source(parse_expression(once)) == once


def test_nesting_is_bounded_before_anything_recurses_over_it() -> None:
    """The checks and engines walk expressions recursively: 2,400 nested ``not`` (9,600
    characters, under the length limit) ended ``check`` and ``eval`` with a RecursionError."""
    from zhenshen_core.rules.lang.ast import depth
    from zhenshen_core.rules.lang.parser import MAX_EXPRESSION_DEPTH

    deepest = "not " * (MAX_EXPRESSION_DEPTH - 2) + 'domain == "x"'
    assert depth(parse_expression(deepest)) == MAX_EXPRESSION_DEPTH
    for levels in (MAX_EXPRESSION_DEPTH - 1, 2400):
        text = "not " * levels + 'domain == "x"'
        with pytest.raises(ExpressionSyntaxError, match="expression nests too deeply") as caught:
            parse_expression(text, line=7, column=11, source="rules.yaml")
        assert (caught.value.line, caught.value.column) == (7, 11)
    nested = "(" * 30 + 'domain == "x" and (appeal_type == "help" or tags contains "甲")' + ")" * 30
    assert depth(parse_expression(nested)) == 4  # parentheses group; they do not nest nodes
