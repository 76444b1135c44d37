"""Several nodes on one database, played by worker processes against the real server.

Workers are started with ``spawn`` (a forked child would share the parent's libpq socket) and
wait for a shared wall-clock instant before touching the database, so their statements really
overlap.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from multiprocessing.pool import Pool

import psycopg
import pytest
import zhenshen_pg_testkit as kit
from zhenshen_pg_testkit import ENV, SKIP_REASON
from zhenshen_postgres import PostgresStore
from zhenshen_postgres.migrations import MIGRATIONS
from zhenshen_postgres.store import parse_url

from zhenshen_core.deadlines import national_calendar
from zhenshen_core.deadlines.clocks import start_clock
from zhenshen_core.storage.protocol import CaseQuery
from zhenshen_core.testing.storage_contract import (
    BASE_TIME,
    fire,
    make_case,
    make_clock,
    received,
)

# A pool of spawned writer processes per test.
pytestmark = pytest.mark.slow

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)

WORKERS = 4


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    with multiprocessing.get_context("spawn").Pool(WORKERS) as workers:
        workers.map(time.sleep, [0] * WORKERS)  # import everything before the first race
        yield workers


def _soon() -> float:
    return time.time() + 0.3


def test_parallel_saves_on_one_version_exactly_one_wins(
    pool: Pool, pg_store: PostgresStore
) -> None:
    case, events = received(make_case(1))
    pg_store.ingest(case, events)
    start = _soon()
    outcomes = pool.starmap(
        kit.stale_update_worker, [(pg_store.url, case.id, f"node-{i}", start) for i in range(8)]
    )
    assert sorted(outcomes) == ["conflict"] * 7 + ["saved"]
    stored = pg_store.get(case.id)
    history = pg_store.events(case.id)
    assert stored.version == len(history) == 2
    assert stored.notes == [history[1].payload["text"]]


def test_retrying_writers_lose_no_update(pool: Pool, pg_store: PostgresStore) -> None:
    case, events = received(make_case(2))
    pg_store.ingest(case, events)
    rounds = 12
    pool.starmap(
        kit.increment_worker, [(pg_store.url, case.id, f"n{i}", rounds) for i in range(WORKERS)]
    )
    stored = pg_store.get(case.id)
    assert stored.version == 1 + WORKERS * rounds
    assert len(pg_store.events(case.id)) == stored.version
    assert sorted(stored.notes) == sorted(
        f"n{i}-{r}" for i in range(WORKERS) for r in range(rounds)
    )


def test_one_work_order_from_parallel_nodes_is_one_case(
    pool: Pool, pg_store: PostgresStore
) -> None:
    start = _soon()
    outcomes = pool.starmap(
        kit.ingest_worker, [(pg_store.url, 5, start, f"第{i}次推送") for i in range(8)]
    )
    assert len({case_id for case_id, _ in outcomes}) == 1
    assert sorted(created for _, created in outcomes) == [False] * 7 + [True]
    assert pg_store.count() == 1
    assert len(pg_store.events(outcomes[0][0])) == 1


def test_overlapping_batches_from_parallel_nodes_store_each_order_once(
    pool: Pool, pg_store: PostgresStore
) -> None:
    # Overlapping ranges, some reversed: without sorted writes these would deadlock, and every
    # overlap sends at least one node through the unique-key retry.
    batches = [
        list(range(0, 120)),
        list(range(60, 180))[::-1],
        list(range(100, 220)),
        list(range(0, 220, 3)),
    ]
    start = _soon()
    outcomes = pool.starmap(kit.ingest_batch_worker, [(pg_store.url, ns, start) for ns in batches])
    created = Counter(case_id for batch in outcomes for case_id, new in batch if new)
    assert set(created.values()) == {1}, "each work order is created by exactly one node"
    assert len(created) == 220 == pg_store.count()
    for ns, results in zip(batches, outcomes, strict=True):
        assert [case_id for case_id, _ in results] == [received(make_case(n))[0].id for n in ns]


def test_nodes_starting_together_migrate_once(pool: Pool, schema_url: str) -> None:
    start = _soon()
    applied = pool.starmap(kit.migrate_worker, [(schema_url, start)] * WORKERS)
    every = tuple(m.version for m in MIGRATIONS)
    assert sorted(map(tuple, applied)) == [(), (), (), every]
    parsed = parse_url(schema_url)
    with psycopg.connect(parsed.conninfo) as conn:
        rows = conn.execute(f"SELECT version FROM {parsed.schema}.schema_migrations").fetchall()
    assert rows == [(v,) for v in every]


def test_stores_opened_together_on_a_new_schema_all_work(pool: Pool, schema_url: str) -> None:
    start = _soon()
    versions = pool.starmap(kit.open_store_worker, [(schema_url, start)] * WORKERS)
    assert versions == [MIGRATIONS[-1].version] * WORKERS


def test_parallel_sweeps_never_claim_a_clock_twice(pool: Pool, pg_store: PostgresStore) -> None:
    items = []
    for n in range(300):
        case, events = received(make_case(n))
        clock = make_clock(
            "opinion",
            due_at=BASE_TIME + timedelta(days=20),
            next_alert_at=BASE_TIME + timedelta(minutes=n % 50),
        )
        case, event = fire(case, "clock_update", {"clock": clock.model_dump(mode="json")})
        items.append((case, [*events, event]))
    pg_store.ingest_many(items)
    now = BASE_TIME + timedelta(days=1)
    assert len(pg_store.due_clocks(now, limit=1000)) == 300
    start = _soon()
    claims = pool.starmap(
        kit.sweep_worker, [(pg_store.url, f"node-{i}", now.isoformat(), 7, start) for i in range(3)]
    )
    everything = [c for node in claims for c in node]
    assert len(everything) == len(set(everything)) == 300, "no clock claimed twice, none missed"
    assert sum(1 for node in claims if node) >= 2, "the sweep was really shared"
    assert pg_store.claim_due_clocks(now, node="late", limit=1000) == []
    assert pg_store.count(CaseQuery()) == 300


def test_parallel_desk_sweeps_raise_one_alert_per_clock(
    pool: Pool, pg_store: PostgresStore
) -> None:
    """Long-overdue clocks swept by three nodes at once: each clock raises exactly one alert, the
    breach (its 50 % and 75 % reminders are marked done), and each case gets one record each."""
    calendar = national_calendar()
    items = []
    for n in range(60):
        case, events = received(make_case(n))
        for name in ("contact", "opinion"):
            clock = start_clock(calendar, name, "2 working days", BASE_TIME)
            case, event = fire(case, "clock_update", {"clock": clock.model_dump(mode="json")})
            events.append(event)
        items.append((case, events))
    ids = [r.case_id for r in pg_store.ingest_many(items)]
    now = BASE_TIME + timedelta(days=30)
    start = _soon()
    raised = pool.starmap(
        kit.desk_sweep_worker,
        [(pg_store.url, f"node-{i}", now.isoformat(), 5, start) for i in range(3)],
    )
    everything = [alert for node in raised for alert in node]
    assert len(everything) == len(set(everything)) == 120, "one alert per clock, none twice"
    assert Counter(kind for _, _, kind in everything) == {"breach": 120}
    assert sum(1 for node in raised if node) >= 2, "the sweep was really shared"
    for case_id in ids[:10]:
        case = pg_store.get(case_id)
        assert sorted((s.clock, s.kind) for s in case.supervision) == [
            ("contact", "notice"),
            ("opinion", "notice"),
        ]
        assert case.clocks["contact"].notified == ["0.5", "0.75", "breach"]
    assert pg_store.due_clocks(now) == []
