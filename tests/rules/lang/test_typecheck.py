"""Type checker and regex safety, on expressions directly."""

from __future__ import annotations

import pytest

from zhenshen_core.rules import parse_expression
from zhenshen_core.rules.lang.typecheck import TypeContext, check_expression, regex_problem

CTX = TypeContext(
    stage="route",
    severity_levels=("S1", "S2", "S3"),
    collections={
        "domains": frozenset({"financing"}),
        "departments": frozenset({"d.a"}),
        "experts": frozenset({"lawyer"}),
    },
)


def problems(text: str, ctx: TypeContext = CTX) -> list[str]:
    return [f"{p.code} {p.message}" for p in check_expression(parse_expression(text), ctx)]


@pytest.mark.parametrize(
    "text",
    [
        'domain == "financing" and content contains_any ["停产"]',
        "count(departments) >= 2 and returns > 1",
        'decision.severity >= "S2"',
        '"S2" < decision.severity',
        "received_at >= 2026-01-01",
        'facts.anything > 3 and facts.x == "a"',
        '"d.a" in departments and tags contains_all []',
        'content matches "^(停产|停业)[^，]{0,20}$"',
        "requester.anonymous and not exists(enterprise.name)",
    ],
)
def test_well_typed(text: str) -> None:
    assert problems(text) == []


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("count(content) > 1", "R102 count() needs a list"),
        ("received_at > [1]", "R102 '>' between a date and a list"),
        ('title < "b"', "R102 '<' cannot order strings"),
        ('tags contains ["a"]', "use contains_any"),
        ('returns == "2"', "R102 '==' between a number and a string"),
        ("1 == 1", "two constants"),
        ('decision.severity > "S9"', "R104 'S9' is not a severity level"),
        ('enterprise.size == "huge"', "R104 'huge' is not a valid enterprise.size"),
        ('domain == "finance"', "W400 'finance' is not one of the pack's domains"),
        ('depts contains "a"', "R101 unknown field 'depts'"),
    ],
)
def test_type_errors(text: str, fragment: str) -> None:
    found = problems(text)
    assert any(fragment in p for p in found), found


def test_decision_fields_are_not_readable_in_classify() -> None:
    (found,) = problems('decision.tier == "major"', TypeContext(stage="classify"))
    assert found.startswith("R101") and "classify rule cannot read it" in found


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        (r"\d{4}年", True),
        (r"(停产|停业)+", True),
        (r"(a+)+$", True),  # RE2 runs it in linear time (tests/rules/test_regex.py)
        (r"(\w*)*", True),
        (r"((ab)*c)+", True),
        (r"(?<=a)b", False),
        (r"(.)\1", False),
        (r"(?P<x>a)(?P=x)", False),
        ("a" * 201, False),
        ("(", False),
        (r"[(]+x", True),
    ],
)
def test_regex_safety(pattern: str, ok: bool) -> None:
    assert (regex_problem(pattern) is None) is ok
