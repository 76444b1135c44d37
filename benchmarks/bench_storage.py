"""SQLite store: batch vs one-at-a-time ingest, and the indexed due-clock sweep vs a Python scan.

    .venv/bin/python benchmarks/bench_storage.py [--n 5000] [--batch 500]

Everything runs in one process on fresh database files in a temporary directory:

1. the same N prepared cases (3 events each: receive, accept, clock_update) are ingested with
   ``ingest`` one call per case, then with ``ingest_many`` in batches; the cost of building the
   pydantic objects is outside the timed part, so the numbers are the store's;
2. over the N stored cases (one running clock each, alerts spread over a year) the sweep asks
   which clocks are due three days in: ``due_clocks`` (one indexed query) against the obvious
   alternative, loading every case and filtering its clocks in Python. Both answers must match.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from zhenshen_core.model import Case, CaseEvent
from zhenshen_core.storage import SQLiteStore
from zhenshen_core.testing.storage_contract import (
    BASE_TIME,
    fire,
    make_case,
    make_clock,
    received,
)

Item = tuple[Case, list[CaseEvent]]


def prepare(n: int) -> list[Item]:
    items = []
    for i in range(n):
        case, events = received(make_case(i))
        case, accepted = fire(case, "accept")
        clock = make_clock(
            "opinion",
            due_at=BASE_TIME + timedelta(days=400),
            next_alert_at=BASE_TIME + timedelta(minutes=(i * 7919) % (365 * 24 * 60)),
        )
        case, clocked = fire(case, "clock_update", {"clock": clock.model_dump(mode="json")})
        items.append((case, [*events, accepted, clocked]))
    return items


def ingest_one_by_one(store: SQLiteStore, items: list[Item], _: int) -> None:
    for case, events in items:
        store.ingest(case, events)


def ingest_batched(store: SQLiteStore, items: list[Item], batch: int) -> None:
    for start in range(0, len(items), batch):
        store.ingest_many(items[start : start + batch])


def time_ingest(
    tmp: Path,
    name: str,
    fn: Callable[[SQLiteStore, list[Item], int], None],
    items: list[Item],
    batch: int,
) -> tuple[float, Path]:
    path = tmp / f"{name}.db"
    with SQLiteStore(path) as store:
        start = time.perf_counter()
        fn(store, items, batch)
        elapsed = time.perf_counter() - start
        assert store.count() == len(items)
    return elapsed, path


def sweep_scan(store: SQLiteStore, now: datetime) -> list[tuple[str, str]]:
    due = [
        (clock.next_alert_at, case.id, name)
        for case in store.query()
        for name, clock in case.clocks.items()
        if clock.running and clock.next_alert_at is not None and clock.next_alert_at <= now
    ]
    return [(case_id, name) for _, case_id, name in sorted(due)]


def sweep_indexed(store: SQLiteStore, now: datetime) -> list[tuple[str, str]]:
    return [(d.case_id, d.clock) for d in store.due_clocks(now, limit=10**9)]


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="number of cases (default 5000)")
    parser.add_argument("--batch", type=int, default=500, help="ingest_many batch size")
    args = parser.parse_args()
    if args.n < 1 or args.batch < 1:
        parser.error("--n and --batch must be positive")

    items = prepare(args.n)
    with tempfile.TemporaryDirectory(prefix="zhenshen-bench-") as tmpdir:
        tmp = Path(tmpdir)
        single, _ = time_ingest(tmp, "single", ingest_one_by_one, items, args.batch)
        batched, path = time_ingest(tmp, "batched", ingest_batched, items, args.batch)
        print(f"ingest of {args.n:,} cases (3 events each) into SQLite, WAL, synchronous=NORMAL")
        print(f"  {'one ingest() per case':<34}{args.n / single:>12,.0f} cases/s")
        print(
            f"  {f'ingest_many(), batches of {args.batch}':<34}{args.n / batched:>12,.0f} cases/s"
            f"   {single / batched:.1f}x"
        )

        now = BASE_TIME + timedelta(days=3)
        with SQLiteStore(path) as store:
            indexed = sweep_indexed(store, now)
            scanned = sweep_scan(store, now)
            assert indexed == scanned, "the two sweeps disagree"
            t_index = median_time(lambda: sweep_indexed(store, now), repeat=20)
            t_scan = median_time(lambda: sweep_scan(store, now), repeat=3)
        print(f"due-clock sweep over {args.n:,} stored cases ({len(indexed)} due), median time")
        print(f"  {'due_clocks() indexed query':<34}{t_index * 1000:>12.2f} ms")
        print(
            f"  {'load every case, filter in Python':<34}{t_scan * 1000:>12.2f} ms"
            f"   index {t_scan / t_index:,.0f}x faster"
        )


if __name__ == "__main__":
    main()
