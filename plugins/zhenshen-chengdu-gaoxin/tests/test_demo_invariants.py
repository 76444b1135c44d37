"""The demo's histories are ones a real desk could have.

The old simulation decided every case at the end of the year (a decide on 2020-12-31 before a
route on 2020-01-02) and left reopened cases in screening for good. Whatever the corpus, seed
and end: each case's events are in time order from its receipt on, replaying them rebuilds the
stored case, and every case still open at the end has a step due after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zhenshen_chengdu_gaoxin.corpus import generate_cases
from zhenshen_chengdu_gaoxin.demo import DemoResult, SimClock, run_demo

from zhenshen_core.desk import Desk
from zhenshen_core.model import Case, CaseEvent, Lifecycle, dump_case
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.enums import CaseStatus
from zhenshen_core.model.lifecycle import TERMINAL
from zhenshen_core.plugins import PluginConfig, PluginHost
from zhenshen_core.rules import ResolvedPack, load_pack
from zhenshen_core.storage import CaseStore, MemoryStore, SQLiteStore

gaoxin = pytest.importorskip("zhenshen_chengdu_gaoxin", reason="needs the reference pack plugin")

SAMPLE = Path(__file__).resolve().parents[3] / "examples" / "corpus" / "sample-200.jsonl"
END = datetime(2020, 12, 31, 18, 0, tzinfo=SHANGHAI)
#: Bookkeeping events: they record what the desk noticed, not a step of the case's process.
BOOKKEEPING = {"decide", "clock_update", "supervise", "update_facts"}


@pytest.fixture(scope="module")
def pack() -> ResolvedPack:
    return load_pack(gaoxin.PACK_PATH)


def _demo(
    store: CaseStore, pack: ResolvedPack, corpus: Path, end: datetime, seed: int
) -> DemoResult:
    sim = SimClock(end)
    desk = Desk(store, pack=pack, host=PluginHost(PluginConfig(autoload=False)), now=sim)
    return run_demo(desk, sim, str(corpus), end=end, seed=seed)


def _histories(store: CaseStore) -> Iterator[tuple[Case, list[CaseEvent]]]:
    for case in store.query():
        yield case, store.events(case.id)


def check_histories(store: CaseStore, result: DemoResult, end: datetime) -> None:
    lifecycle = Lifecycle()
    open_cases: set[str] = set()
    for case, events in _histories(store):
        where = f"case {case.id}"
        assert [e.seq for e in events] == list(range(1, len(events) + 1)), where
        assert events[0].type == "receive", where
        assert events[0].at == case.received_at, where
        times = [e.at for e in events]
        assert times == sorted(times), (where, [(e.type, e.at.isoformat()) for e in events])
        assert times[-1] <= end, where
        rebuilt = lifecycle.replay(events)
        assert dump_case(rebuilt) == dump_case(case), where
        status = case.status
        assert status is not CaseStatus.REOPENED, where  # a reopened case goes round again
        if status is CaseStatus.CLOSED:
            assert not case.feedback[-1].satisfaction.is_negative, where
        steps = [e.type for e in events if e.type not in BOOKKEEPING]
        for i, step in enumerate(steps):
            if step == "reopen":  # the round after a reopen gets at least to a new meeting
                assert "schedule_meeting" in steps[i:] or case.id in result.in_progress, where
        if status not in TERMINAL:
            open_cases.add(case.id)
    # Open at the end exactly when the simulation has a step for it after the end: nothing is
    # left behind in a state no one will move it out of.
    assert open_cases == set(result.in_progress)
    assert result.skipped == []


def test_the_demo_year_is_a_history_a_desk_could_have(tmp_path: Path, pack: ResolvedPack) -> None:
    store = SQLiteStore(str(tmp_path / "demo.db"))
    result = _demo(store, pack, SAMPLE, END, 2020)
    assert result.intake.created == 200
    check_histories(store, result, END)
    assert 0 < len(result.in_progress) < 20
    reopened = [c for c, events in _histories(store) if any(e.type == "reopen" for e in events)]
    assert reopened, "the sample year has dissatisfied enterprises"
    before = {c.id: len(e) for c, e in _histories(store)}
    report = result.report.as_dict()

    again = _demo(store, pack, SAMPLE, END, 2020)  # idempotent on the same database
    assert (again.intake.created, again.intake.duplicates) == (0, 200)
    assert {c.id: len(e) for c, e in _histories(store)} == before
    assert again.report.as_dict() == report


@settings(  # each example simulates a year of up to 60 cases: a few seconds each
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(20, 60),
    days=st.integers(30, 330),
)
def test_any_corpus_and_end_give_possible_histories(
    tmp_path: Path, pack: ResolvedPack, seed: int, n: int, days: int
) -> None:
    corpus = tmp_path / f"c{seed}-{n}.jsonl"
    with corpus.open("w", encoding="utf-8") as out:
        for case in generate_cases(n, seed=seed):
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
    end = datetime(2020, 1, 2, 18, 0, tzinfo=SHANGHAI) + timedelta(days=days)
    store = MemoryStore()
    result = _demo(store, pack, corpus, end, seed)
    assert result.intake.created + result.after_end == n
    check_histories(store, result, end)
