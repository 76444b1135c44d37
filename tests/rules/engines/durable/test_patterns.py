"""Cross-case windows: completion, no alert storms, expiry, bounded keys."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhenshen_core.rules.engines.durable import CrossCaseSession, EngineError, WindowPattern

D0 = date(2026, 3, 2)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def test_third_request_within_30_days_fires_once() -> None:
    with_session = CrossCaseSession([WindowPattern("repeat", 3, 30)])
    try:
        assert with_session.observe("E1", "c1", day(0)) == []
        assert with_session.observe("E2", "x1", day(1)) == []  # other keys never join
        assert with_session.observe("E1", "c2", day(5)) == []
        (alert,) = with_session.observe("E1", "c3", day(29))
        assert alert.pattern == "repeat" and alert.key == "E1"
        assert alert.case_ids == ("c1", "c2", "c3")
        assert (alert.first_day, alert.last_day) == (day(0), day(29))
        # No storm: the 4th does not re-fire (1,2,4), (1,3,4), (2,3,4).
        assert with_session.observe("E1", "c4", day(29)) == []
    finally:
        with_session.close()


def test_window_is_exclusive_after_window_days() -> None:
    session = CrossCaseSession([WindowPattern("twice", 2, 30)])
    assert session.observe("E", "a", day(0)) == []
    assert session.observe("E", "b", day(30)) == []  # 30 days later: outside
    assert [a.case_ids for a in session.observe("E", "c", day(31))] == [("b", "c")]
    session.close()


def test_out_of_order_days_still_join_within_the_window() -> None:
    session = CrossCaseSession([WindowPattern("three", 3, 10)])
    assert session.observe("E", "a", day(9)) == []
    assert session.observe("E", "b", day(0)) == []  # replayed late, earlier day
    (alert,) = session.observe("E", "c", day(5))
    assert alert.case_ids == ("a", "b", "c")
    assert (alert.first_day, alert.last_day) == (day(0), day(9))
    assert session.observe("F", "a", day(0)) == []
    assert session.observe("F", "b", day(9)) == []
    assert session.observe("F", "c", day(-1)) == []  # day 9 - day -1 = 10: not within 10 days
    session.close()


def test_where_filters_observations_per_pattern() -> None:
    session = CrossCaseSession(
        [WindowPattern("returns", 2, 60, {"kind": "return"}), WindowPattern("any", 3, 60)]
    )
    assert session.observe("dept", "a", day(0), {"kind": "return"}) == []
    assert session.observe("dept", "b", day(1), {"kind": "request"}) == []
    alerts = session.observe("dept", "c", day(2), {"kind": "return"})
    assert sorted((a.pattern, a.case_ids) for a in alerts) == [
        ("any", ("a", "b", "c")),
        ("returns", ("a", "c")),
    ]
    session.close()


def test_expire_retracts_old_facts() -> None:
    session = CrossCaseSession([WindowPattern("twice", 2, 10)])
    session.observe("E", "a", day(0))
    session.observe("F", "b", day(0))
    assert session.expire(day(5)) == 0
    assert session.expire(day(10)) == 2
    assert session.observe("E", "c", day(11)) == []
    session.close()


def test_keys_are_bounded_by_eviction_or_error() -> None:
    evicting = CrossCaseSession([WindowPattern("twice", 2, 30)], max_keys=3)
    for k in range(10):
        evicting.observe(f"K{k}", "a", day(0))
    assert evicting.live_keys == 3
    # K0 was evicted: its first observation is forgotten.
    assert evicting.observe("K0", "b", day(1)) == []
    assert len(evicting.observe("K9", "b", day(1))) == 1
    evicting.close()

    strict = CrossCaseSession([WindowPattern("twice", 2, 30)], max_keys=2, on_overflow="error")
    strict.observe("A", "a", day(0))
    strict.observe("B", "a", day(0))
    with pytest.raises(EngineError, match="live keys"):
        strict.observe("C", "a", day(0))
    strict.close()


def test_keys_whose_observations_were_all_filtered_out_evict_and_close_cleanly() -> None:
    session = CrossCaseSession([WindowPattern("r", 2, 30, {"kind": "return"})], max_keys=2)
    for k in range(5):
        assert session.observe(f"K{k}", "a", day(0), {"kind": "request"}) == []
    assert session.observe("K9", "a", day(0), {"kind": "return"}) == []
    assert session.live_keys == 2
    session.close()


def test_more_keys_than_the_engine_sid_limit_with_eviction() -> None:
    session = CrossCaseSession([WindowPattern("twice", 2, 30)])
    for k in range(1500):  # the engine allows 1,024 live sids
        session.observe(f"K{k}", "a", day(0))
    assert session.live_keys == 1000
    session.close()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        WindowPattern("x", 1, 30)
    with pytest.raises(ValueError):
        WindowPattern("x", 2, 0)
    with pytest.raises(ValueError):
        CrossCaseSession([])
    with pytest.raises(ValueError):
        CrossCaseSession([WindowPattern("x", 2, 1), WindowPattern("x", 3, 1)])
    with pytest.raises(ValueError):
        CrossCaseSession([WindowPattern("x", 2, 1)], max_keys=5000)
    closed = CrossCaseSession([WindowPattern("x", 2, 1)])
    closed.close()
    with pytest.raises(EngineError):
        closed.observe("k", "c", D0)


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(2, 4),
    window=st.integers(1, 20),
    gaps=st.lists(st.integers(0, 8), min_size=1, max_size=15),
)
def test_alerts_equal_a_greedy_python_model(count: int, window: int, gaps: list[int]) -> None:
    """Each alert uses `count` unused observations within the window, the newest being the one
    just observed; each observation is used at most once."""
    session = CrossCaseSession([WindowPattern("p", count, window)])
    unused: list[tuple[int, str]] = []
    today = 0
    try:
        for i, gap in enumerate(gaps):
            today += gap
            unused = [(d, c) for d, c in unused if d + window > today]
            alerts = session.observe("k", f"c{i}", day(today))
            unused.append((today, f"c{i}"))
            if alerts:
                (alert,) = alerts
                assert alert.case_ids[-1] == f"c{i}"
                assert len(alert.case_ids) == count
                ids = set(alert.case_ids)
                assert ids <= {c for _, c in unused}
                days = [d for d, c in unused if c in ids]
                assert max(days) - min(days) < window
                unused = [(d, c) for d, c in unused if c not in ids]
            else:
                # no alert: fewer than `count` unused observations fit in one window ending today
                assert sum(1 for d, _ in unused if today - d < window) < count
    finally:
        session.close()


def test_join_patterns_end_with_a_test_that_never_fails() -> None:
    # durable_rules skips past the end of a join's expression sequence when its *last* test
    # fails (found under valgrind; segfaults depending on heap layout).
    from zhenshen_core.rules.engines.durable.patterns import _rule

    rule = _rule(0, WindowPattern("p", 4, 30))
    for pattern in rule["all"][1:]:
        ((_, cond),) = pattern.items()
        assert cond["$and"][-1] == {"$gte": {"seq": {"first": "seq"}}}


@pytest.mark.slow
def test_random_workload_in_a_child_process() -> None:
    from .isolated import assert_clean, run_isolated

    result = run_isolated(
        """
        import random
        from datetime import date, timedelta
        from zhenshen_core.rules.engines.durable import CrossCaseSession, WindowPattern
        rng = random.Random(3)
        d0 = date(2026, 1, 1)
        for round in range(3):
            s = CrossCaseSession(
                [WindowPattern("a", 2, 5), WindowPattern("b", 3, 10, {"k": 1}),
                 WindowPattern("c", 4, 20)],
                max_keys=20,
            )
            for i in range(1500):
                day = d0 + timedelta(days=i // 10 + rng.randrange(-3, 3))
                s.observe(f"K{rng.randrange(30)}", f"c{i}", day, {"k": rng.randrange(2)})
                if i % 200 == 0:
                    s.expire(d0 + timedelta(days=i // 10))
            s.close()
        print("OK")
        """,
        timeout=120,
    )
    assert_clean(result)
