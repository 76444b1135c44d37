"""``matches`` runs on RE2: Python's regex meaning, without backtracking (``rules.regex``)."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.rules.lang.ast import MAX_MATCH_INPUT
from zhenshen_core.rules.lang.regex import pattern_problem, searcher


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"\d{4}年", None),
        (r"(停产|停业)+", None),
        (r"(a+)+$", None),  # nested quantifiers cost nothing on RE2
        (r"(\w*)*", None),
        (r"^(停产|停业)[^，]{0,20}$", None),
        (r"(?i)abc", None),
        (r"(.)\1", "backreferences and octal escapes are not allowed in regexes"),
        (r"(?P<x>a)(?P=x)", "backreferences and conditional groups are not allowed in regexes"),
        (r"(?=停产)", "lookahead and lookbehind ((?=...), (?!...), (?<=...)) are not supported"),
        (r"\b停产", r"\b and \B (word boundaries) are not supported"),
        (r"[\S]", r"\S inside [...] is not supported"),
        (r"(?x) a", "regex flag(s) 'x' are not supported"),
        (r"[[:alpha:]]", "invalid regex: Possible nested set"),  # a warning in re, refused here
        ("(", "invalid regex: missing ), unterminated subpattern"),
        ("a" * 201, "regex is 201 characters; the limit is 200"),
    ],
)
def test_what_the_language_accepts(pattern: str, problem: str | None) -> None:
    found = pattern_problem(pattern)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (a backtracking engine would run for hours here)."""

    def expired(*_: object) -> None:
        raise AssertionError(f"still matching after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("(a|a)*c", "a" * MAX_MATCH_INPUT),  # exponential in re: seconds for 24 letters
        (r"\w*\w*\w*x", "企业" * (MAX_MATCH_INPUT // 2)),  # O(n^4) in re: hours
        ("(a+)+b", "a" * MAX_MATCH_INPUT),
        (r"^(\d+)*$", "1" * 5000 + "x"),
    ],
)
def test_patterns_that_backtrack_forever_in_re_answer_at_once(pattern: str, text: str) -> None:
    assert pattern_problem(pattern) is None
    with _deadline(30):
        assert searcher(pattern)(text) is False


# Patterns and texts over an alphabet where Python's and RE2's defaults differ: Chinese, full-width
# digits, the ideographic space, accented letters, newlines.
ALPHABET = ["a", "b", "c", "A", "B", "0", "5", "２", "企", "业", " ", "\u3000", "\n", "_", ".",
            "，", "\t", "é", "É", "\x0b"]  # fmt: skip
TEXT = st.lists(st.sampled_from(ALPHABET), max_size=12).map("".join)
CLASS_ITEMS = ["a", "b", "a-c", "0-9", "企", "业", r"\d", r"\s", r"\w", "２", " ", "\u3000",
               r"\.", "_", "é", r"\D", r"\n"]  # fmt: skip
ATOMS = st.one_of(
    st.sampled_from(ALPHABET).map(re.escape),
    st.sampled_from([".", r"\d", r"\D", r"\w", r"\W", r"\s", r"\S", "^", "$", r"\A", r"\Z"]),
    st.builds(
        lambda negated, items: "[" + ("^" if negated else "") + "".join(items) + "]",
        st.booleans(),
        st.lists(st.sampled_from(CLASS_ITEMS), min_size=1, max_size=3),
    ),
)
QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "{1,2}", "{,2}", "{2}", "*?", "+?"])


def _regexes(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    group = st.builds(lambda body, kind: f"({kind}{body})", inner, st.sampled_from(["", "?:"]))
    either = st.lists(inner, min_size=2, max_size=3).map("|".join)
    quantified = st.builds(lambda part, q: part + q, group, QUANTIFIERS)
    return st.one_of(
        st.lists(st.one_of(inner, quantified), min_size=1, max_size=4).map("".join),
        either.map(lambda body: f"(?:{body})"),
    )


PATTERNS = st.builds(
    lambda flags, body: flags + body,
    st.sampled_from(["", "", "(?i)", "(?s)", "(?m)", "(?ms)"]),
    st.recursive(
        st.builds(lambda atom, q: atom + q, ATOMS, QUANTIFIERS),
        _regexes,
        max_leaves=8,
    ),
)


@given(PATTERNS, st.lists(TEXT, min_size=1, max_size=5))
def test_matches_means_what_re_search_means(pattern: str, texts: list[str]) -> None:
    try:
        re.compile(pattern)
    except re.error:
        return  # not a regex at all (e.g. a quantifier after an anchor in some positions)
    if pattern_problem(pattern) is not None:
        return
    search = searcher(pattern)
    for text in texts:
        assert search(text) == (re.search(pattern, text) is not None), (pattern, text)
