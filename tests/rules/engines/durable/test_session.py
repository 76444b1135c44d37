"""The guarded session: firings, sid hygiene, error mapping, and each measured crash trigger.

Every probe that could crash or hang the interpreter runs in a child process.
"""

from __future__ import annotations

import pytest

from zhenshen_core.errors import ZhenshenError
from zhenshen_core.rules.engines.durable.session import (
    SENTINEL_RULE,
    DurableSession,
    EngineError,
    engine_error,
    guarded_definition,
)

from .isolated import assert_clean, run_isolated

RULES = {
    "eq": {"x": 1},
    "gt": {"$gt": {"y": 3}},
    "either": {"$or": [{"x": 1}, {"y": 5}]},
    "missing": {"$nex": {"x": 1}},
    "always": None,
}


@pytest.mark.parametrize("strategy", ["worker", "fresh"])
def test_fire_reports_each_matching_rule_once(strategy: str) -> None:
    with DurableSession(RULES, strategy=strategy) as session:  # type: ignore[arg-type]
        assert session.fire({"x": 1, "y": 5}) == {"eq", "gt", "either", "always"}
        assert session.fire({"y": 1}) == {"missing", "always"}
        assert session.fire({"x": 2, "y": 2}) == {"always"}
        # The same fact again: nothing is left over from the previous evaluation.
        assert session.fire({"x": 1, "y": 5}) == {"eq", "gt", "either", "always"}


def test_sentinel_guards_every_rule_and_is_never_reported() -> None:
    definition = guarded_definition({"neg": {"$nex": {"x": 1}}})
    assert definition["neg"]["all"][0]["m"]["$and"][0] == {"$ex": {"case_id": 1}}
    assert SENTINEL_RULE in definition
    with DurableSession({"neg": {"$nex": {"x": 1}}}) as session:
        # A bare $nex would also match the session-state fact, thousands of times.
        assert session.fire({}) == {"neg"}


@pytest.mark.parametrize("strategy", ["worker", "fresh"])
def test_sessions_never_pile_up(strategy: str) -> None:
    # The engine refuses the 1,025th live sid with a MemoryError; 2,000 evaluations must pass.
    with DurableSession({"a": {"x": 1}}, strategy=strategy) as session:  # type: ignore[arg-type]
        for i in range(2000):
            assert session.fire({"x": i % 2}) == ({"a"} if i % 2 == 1 else set())


def test_engine_error_is_a_zhenshen_error_with_the_code_meaning() -> None:
    class FakeEngineError(Exception):
        pass

    err = engine_error(FakeEngineError("Could not assert fact, error code: 302"), "assert_fact")
    assert isinstance(err, ZhenshenError)
    assert err.code == 302
    assert "255 properties" in str(err)
    oom = engine_error(MemoryError(), "assert_fact")
    assert oom.code is None and "MemoryError" in str(oom)


def test_too_many_properties_is_error_302_not_a_crash() -> None:
    with DurableSession({"a": {"p0": 1}}) as session:
        with pytest.raises(EngineError) as info:
            session.fire({f"p{i}": 1 for i in range(300)})
        assert info.value.code == 302
        assert session.fire({"p0": 1}) == {"a"}  # still usable


def test_stack_overflow_is_error_303_and_the_session_recovers() -> None:
    rules = {f"r{i}": {"$gt": {"x": i}} for i in range(65)}
    with DurableSession(rules) as session:
        with pytest.raises(EngineError) as info:
            session.fire({"x": 1000})
        assert info.value.code == 303
        assert session.fire({"x": 2}) == {"r0", "r1"}


def test_invalid_rule_names_and_closed_sessions_are_refused() -> None:
    with pytest.raises(EngineError):
        DurableSession({'bad"name': {"x": 1}})
    with pytest.raises(EngineError):
        DurableSession({SENTINEL_RULE: {"x": 1}})
    session = DurableSession({"a": {"x": 1}})
    session.close()
    session.close()  # idempotent
    with pytest.raises(EngineError, match="closed"):
        session.fire({"x": 1})


def test_unencodable_fact_is_an_engine_error() -> None:
    with DurableSession({"a": {"x": 1}}) as session, pytest.raises(EngineError):
        session.fire({"x": float("nan")})


def test_ruleset_names_are_unique_per_session() -> None:
    a, b = DurableSession({"a": {"x": 1}}), DurableSession({"a": {"x": 1}})
    try:
        assert a.name != b.name
    finally:
        a.close()
        b.close()


# ---------------------------------------------------------------------------------------------
# The crash and hang triggers of notes/durable-rules.md, each in a child process.


@pytest.mark.slow
def test_unhandled_facts_do_not_corrupt_the_heap() -> None:
    # Facts that match no user rule, then more asserts and retracts: the sentinel handles them.
    result = run_isolated(
        """
        from zhenshen_core.rules.engines.durable.session import DurableSession
        for n in (10, 100):
            s = DurableSession({f"r{i}": {"x": i} for i in range(n)})
            for k in range(3000):
                assert s.fire({"x": -1, "y": k}) == frozenset()
            s.close()
        print("OK")
        """
    )
    assert_clean(result)


@pytest.mark.slow
def test_close_after_evaluations_never_deletes_pending_activations() -> None:
    result = run_isolated(
        """
        from zhenshen_core.rules.engines.durable.session import DurableSession
        for strategy in ("worker", "fresh"):
            for round in range(300):
                s = DurableSession({f"r{i}": {"x": i % 3} for i in range(30)}, strategy=strategy)
                s.fire({"x": 1})
                s.close()
        print("OK")
        """
    )
    assert_clean(result)


@pytest.mark.slow
def test_engine_with_512_equality_values_is_bucketed_not_hung() -> None:
    # 600 rules `facts.kind == v_i` would put 600 children under one alpha node (the engine's
    # probe loop never ends past 511). The compiler chains them under a bucket property instead
    # (and the limit model would split the ruleset if that were not enough).
    result = run_isolated(
        """
        from zhenshen_core.rules.lang.ast import Compare, Field, In, Literal
        from zhenshen_core.rules.engines.durable.translate import StageTranslator, slim_fact
        from zhenshen_core.rules.engines.durable.limits import partition, stack_height
        from zhenshen_core.rules.engines.durable.session import DurableSession
        kind = Field(("facts", "kind"))
        exprs = [Compare("==", kind, Literal(f"v{i}")) for i in range(600)]
        exprs.append(In(kind, Literal(("v1", "v300", "v599", "zz"))))
        stage = StageTranslator(("S1",)).translate(exprs)
        assert sorted(p.kind for p in stage.props) == ["intern", "intern"], stage.props
        groups = partition(stage.rules)
        assert len(groups) == 1, len(groups)
        (session,) = [DurableSession(g) for g in groups]
        for value, expected in (("v599", [599, 600]), ("v0", [0]), ("v300", [300, 600]),
                                ("nope", []), ("zz", [600])):
            fact = slim_fact(stage.props, {"facts.kind": value}, ("S1",), {"S1": 0})
            fired = sorted(i for n in session.fire(fact) for i in stage.owners[n])
            assert fired == expected, (value, fired)
        print("OK")
        """,
        timeout=120,
    )
    assert_clean(result)


@pytest.mark.slow
def test_256_rules_with_one_condition_are_merged() -> None:
    result = run_isolated(
        """
        from zhenshen_core.rules.lang.ast import Compare, Field, Literal
        from zhenshen_core.rules.engines.durable.translate import StageTranslator, slim_fact
        from zhenshen_core.rules.engines.durable.session import DurableSession
        exprs = [Compare("==", Field(("domain",)), Literal("financing"))] * 300
        stage = StageTranslator(("S1",)).translate(exprs)
        assert len(stage.rules) == 1
        s = DurableSession(stage.rules)
        fact = slim_fact(stage.props, {"domain": "financing"}, ("S1",), {"S1": 0})
        for _ in range(100):
            (name,) = s.fire(fact)
        assert stage.owners[name] == tuple(range(300))
        print("OK")
        """
    )
    assert_clean(result)


@pytest.mark.slow
def test_more_than_4096_rules_are_split() -> None:
    result = run_isolated(
        """
        from zhenshen_core.rules.engines.durable.limits import partition
        from zhenshen_core.rules.engines.durable.session import DurableSession
        rules = {f"r{i}": {"$and": [{"a": i % 400}, {"b": i // 400}]} for i in range(4200)}
        groups = partition(rules)
        assert len(groups) == 2 and all(len(g) <= 4000 for g in groups)
        sessions = [DurableSession(g) for g in groups]
        fired = set().union(*(s.fire({"a": 7, "b": 10}) for s in sessions))
        assert fired == {"r4007"}, fired
        print("OK")
        """,
        timeout=180,
    )
    assert_clean(result)
