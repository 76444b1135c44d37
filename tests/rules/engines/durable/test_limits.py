"""The alpha-network model predicts the engine's limits, and partitioning respects them."""

from __future__ import annotations

from typing import Any

import pytest

from zhenshen_core.rules.engines.durable.limits import (
    Limits,
    check_rule,
    connectives,
    partition,
    properties,
    stack_height,
)
from zhenshen_core.rules.engines.durable.session import DurableSession, EngineError

SHAPES: dict[str, Any] = {
    # rule i → (condition, a fact that matches every rule)
    "distinct properties": (
        lambda i: {"$gt": {f"p{i}": 0}},
        lambda n: {f"p{i}": 1 for i in range(n)},
    ),
    "one property, many thresholds": (lambda i: {"$gt": {"x": i}}, lambda n: {"x": 10**6}),
    "shared prefix": (
        lambda i: {"$and": [{"d": 1}, {"$gt": {"x": i}}]},
        lambda n: {"d": 1, "x": 10**6},
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("n", [64, 65])
def test_stack_model_is_exact_at_the_engine_limit(shape: str, n: int) -> None:
    make_rule, make_fact = SHAPES[shape]
    rules = {f"r{i}": make_rule(i) for i in range(n)}
    assert stack_height(rules.values()) == n
    with DurableSession(rules) as session:
        if n <= 64:
            assert len(session.fire(make_fact(n))) == n
        else:
            with pytest.raises(EngineError) as info:
                session.fire(make_fact(n))
            assert info.value.code == 303


def test_equality_tests_on_one_property_are_mutually_exclusive() -> None:
    assert stack_height({"x": i} for i in range(400)) == 1


def test_partition_splits_what_would_overflow_and_still_finds_every_match() -> None:
    rules = {f"r{i}": {"$gt": {"x": i}} for i in range(150)}
    groups = partition(rules)
    assert len(groups) == 3 and sum(len(g) for g in groups) == 150
    sessions = [DurableSession(g) for g in groups]
    try:
        fired = set().union(*(s.fire({"x": 10**6}) for s in sessions))
        assert fired == set(rules)
    finally:
        for s in sessions:
            s.close()


@pytest.mark.parametrize(
    ("limits", "rules"),
    [
        (Limits(max_rules=10), {f"r{i}": {"x": i} for i in range(25)}),
        (Limits(max_properties=20), {f"r{i}": {f"p{i}": 1} for i in range(50)}),
        (Limits(max_children=30), {f"r{i}": {"x": i} for i in range(100)}),
        (Limits(max_negative_children=5), {f"r{i}": {"$nex": {f"p{i}": 1}} for i in range(12)}),
        (Limits(max_rules_per_node=4), {f"r{i}": {"x": 1} for i in range(9)}),
    ],
)
def test_each_limit_is_respected_by_partition(limits: Limits, rules: dict[str, Any]) -> None:
    groups = partition(rules, limits)
    assert len(groups) > 1
    assert [name for g in groups for name in g] == list(rules)
    for group in groups:
        partition(group, limits)  # each group alone fits
        assert len(partition(group, limits)) == 1


def test_a_rule_that_cannot_fit_alone_is_a_clear_error() -> None:
    wide = {"$or": [{"$gt": {f"p{i}": 0}} for i in range(70)]}
    with pytest.raises(EngineError, match="alpha nodes"):
        check_rule("wide", wide)
    deep: dict[str, Any] = {"x": 0}
    for i in range(20):
        deep = {"$and": [{"$or": [deep, {"y": i}]}, {"z": i}]}
    with pytest.raises(EngineError, match="and/or terms"):
        partition({"deep": deep})


def test_connectives_and_properties() -> None:
    cond = {"$and": [{"a": 1}, {"$or": [{"$gt": {"b": 2}}, {"$nex": {"c": 1}}]}]}
    assert connectives(cond) == 2
    assert properties(cond) == {"a", "b", "c"}
    assert connectives(None) == 0 and properties(None) == set()


@pytest.mark.parametrize("terms", [14, 15])
def test_connective_limit_matches_the_engine(terms: int) -> None:
    cond = {"$and": [{"$or": [{"a": i}, {"b": i}]} for i in range(terms - 1)]}
    assert connectives(cond) == terms
    if terms <= Limits().max_connectives:
        check_rule("r", cond)
        with DurableSession({"r": cond}) as session:
            assert session.fire({"a": 0, "b": 1}) == frozenset()
    else:
        with pytest.raises(EngineError, match="and/or terms"):
            check_rule("r", cond)
        with pytest.raises(EngineError) as info:
            DurableSession({"r": cond})
        assert info.value.code == 113
