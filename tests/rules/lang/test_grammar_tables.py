"""The saved LALR tables: current, equal to a parser built from the grammar, and never used
when they do not match."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lark
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lark import Lark, Tree

from zhenshen_core.rules.lang import grammar_tables
from zhenshen_core.rules.lang.grammar import GRAMMAR
from zhenshen_core.rules.lang.parser import PARSER_OPTIONS, _parser
from zhenshen_core.testing.rule_strategies import expressions, to_source

SAVED = json.loads(grammar_tables.TABLES.read_text(encoding="utf-8"))
SAME_LARK = SAVED["lark"] == lark.__version__


@pytest.fixture(scope="module")
def built() -> Lark:
    return Lark(GRAMMAR, **PARSER_OPTIONS)


def test_saved_tables_match_the_grammar() -> None:
    assert SAVED["fingerprint"] == grammar_tables.fingerprint(GRAMMAR, PARSER_OPTIONS), (
        "the expression grammar changed: run `make grammar-tables` and commit the result"
    )


@pytest.mark.skipif(not SAME_LARK, reason="the tables were saved with another lark version")
def test_the_parser_in_use_is_the_saved_one_unchanged() -> None:
    """Loading loses nothing: the parser in use serialises back to the file's tables. (Two
    parsers built from the grammar number their states differently, so the tables are only
    compared with themselves; the parsers are compared by what they parse, below.)"""
    saved = _parser()
    assert saved.source_path == "<deserialized>"
    again = json.loads(json.dumps(grammar_tables.tables_of(saved, GRAMMAR, PARSER_OPTIONS)))
    assert again == SAVED


def _shape(tree: Any) -> Any:
    """A parse tree with every node's and token's position (lark's == ignores positions)."""
    if isinstance(tree, Tree):
        meta = tree.meta
        where = (meta.line, meta.column, meta.end_line, meta.end_column) if not meta.empty else ()
        return (tree.data, where, [_shape(child) for child in tree.children])
    if tree is None:
        return None
    return (tree.type, str(tree), tree.line, tree.column, tree.end_column)


@pytest.mark.skipif(not SAME_LARK, reason="the tables were saved with another lark version")
@given(expr=st.sampled_from(["classify", "route", "deadline"]).flatmap(expressions))
def test_saved_and_built_parsers_give_the_same_trees(expr: Any, built: Lark) -> None:
    text = to_source(expr)
    assert _shape(_parser().parse(text, start="start")) == _shape(built.parse(text, start="start"))


@pytest.mark.parametrize(
    "text", ['domain == "x" and', "count(tags) >= ", "content contains_any [", "== 1", "a b"]
)
def test_saved_and_built_parsers_fail_alike(text: str, built: Lark) -> None:
    errors = []
    for parser in (_parser(), built):
        with pytest.raises(lark.exceptions.UnexpectedInput) as caught:
            parser.parse(text, start="start")
        errors.append((type(caught.value), caught.value.line, caught.value.column))
    assert errors[0] == errors[1]


@pytest.mark.parametrize(
    "change",
    [
        lambda doc: doc.update(fingerprint="0" * 64),  # another grammar
        lambda doc: doc.update(lark="0.0.1"),  # another lark
        lambda doc: doc["data"].pop("parser"),  # damaged
    ],
)
def test_mismatched_or_damaged_tables_are_not_used(tmp_path: Path, change: Any) -> None:
    doc = json.loads(json.dumps(SAVED))
    doc["lark"] = lark.__version__
    change(doc)
    path = tmp_path / "tables.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert grammar_tables.load_parser(GRAMMAR, PARSER_OPTIONS, path) is None
    path.write_text("{not json", encoding="utf-8")
    assert grammar_tables.load_parser(GRAMMAR, PARSER_OPTIONS, path) is None
    assert grammar_tables.load_parser(GRAMMAR, PARSER_OPTIONS, tmp_path / "missing") is None


plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        | st.dictionaries(st.integers(), inner, min_size=1, max_size=3)
    ),
    max_leaves=20,
)


@given(value=plain)
def test_int_keyed_dicts_survive_json(value: Any) -> None:
    encoded = json.loads(json.dumps(grammar_tables._encode(value)))
    assert grammar_tables._decode(encoded) == value
