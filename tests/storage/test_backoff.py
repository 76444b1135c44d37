"""``backoff_delays``: bounded exponential backoff with full jitter, for backend authors."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhenshen_core.storage.backend import backoff_delays


@given(
    retries=st.integers(0, 30),
    base=st.floats(0.001, 1.0),
    cap=st.floats(0.001, 10.0),
    seed=st.integers(),
)
def test_each_delay_is_within_its_exponential_bound(
    retries: int, base: float, cap: float, seed: int
) -> None:
    delays = backoff_delays(retries, base=base, cap=cap, rng=random.Random(seed))
    assert len(delays) == retries
    for n, delay in enumerate(delays):
        assert 0.0 <= delay <= min(cap, base * 2**n)


def test_the_defaults_wait_at_most_three_seconds_in_all() -> None:
    worst = sum(min(5.0, 0.1 * 2**n) for n in range(5))
    assert worst == pytest.approx(3.1)
    assert sum(backoff_delays(5, rng=random.Random(1))) <= worst


def test_jitter_spreads_nodes_that_failed_together() -> None:
    firsts = {backoff_delays(3, rng=random.Random(seed))[2] for seed in range(20)}
    assert len(firsts) == 20


def test_negative_retries_are_refused() -> None:
    with pytest.raises(ValueError, match="retries must be >= 0"):
        backoff_delays(-1)
