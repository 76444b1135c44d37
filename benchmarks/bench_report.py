"""The desk report over a large SQLite store: digests projected in SQL vs loading every case.

    .venv/bin/python benchmarks/bench_report.py [--n 50000] [--via ingest|demo] [--keep DIR]

The store is made the way an operator makes one: ``zhenshen corpus generate N`` writes N
synthetic work orders, then either ``zhenshen ingest`` stores them (``--via ingest``: received
cases, as ingest leaves them today) or ``zhenshen demo`` runs the simulated year on them
(``--via demo``, the default: every case decided, routed or reviewed jointly, with clocks,
feedback and closing — the histories a real desk's report counts). ``--keep DIR`` keeps the
corpus and database there and reuses them on the next run (the demo on 50,000 cases takes
minutes; the report seconds).

Then, in one process, three ways to the same numbers, each run three times (median shown):

1. ``build_report`` — the report as ``zhenshen report`` makes it: case digests read from the
   store's ``digest`` column (one query; a file made before schema migration 2 is migrated when
   it is opened, outside the timed part), counted in Python;
2. the obvious alternative, what the report did before: load every case (``store.query()``,
   JSON parsed and validated into ``Case`` objects) and count those — here by digesting each
   loaded case and counting the digests, so both paths count with the same code;
3. ``latest_event_at`` (the default "as of" instant): one ``max(at)`` over the events.

Both reports must be equal (the alternative also reads each closed case's history for its
closing instant, outside the timed part) or the run stops.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from zhenshen_core.desk.report import build_report
from zhenshen_core.model.enums import CaseStatus
from zhenshen_core.storage import SQLiteStore
from zhenshen_core.storage.digest import CaseDigest, digest_of, latest_event_at

TAG = "联合甄审"
ZHENSHEN = str(Path(sys.executable).with_name("zhenshen"))


def make_store(n: int, via: str, folder: Path) -> Path:
    corpus = folder / f"corpus-{n}.jsonl"
    db = folder / f"report-{via}-{n}.db"
    if db.exists():
        print(f"reusing {db}")
        return db
    started = time.perf_counter()
    subprocess.run(
        [ZHENSHEN, "corpus", "generate", str(n), "--seed", "2020", "-o", str(corpus)], check=True
    )
    if via == "ingest":
        command = [ZHENSHEN, "ingest", "jsonl", str(corpus), "--store", f"sqlite:///{db}"]
    else:
        command = [ZHENSHEN, "demo", "--corpus", str(corpus), "--store", f"sqlite:///{db}",
                   "--format", "json"]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    print(f"built {db} ({via}) in {time.perf_counter() - started:.0f} s")
    return db


class LoadEveryCase:
    """The store without its digest query: the report reads every case through ``query``."""

    def __init__(self, store: SQLiteStore, closed_at: dict[str, Any]) -> None:
        self.store = store
        self.closed_at = closed_at

    def case_digests(self, tag: str) -> Iterator[CaseDigest]:
        for case in self.store.query():
            yield digest_of(case, tag=tag, closed_at=self.closed_at.get(case.id))

    def records(self, kind: str) -> Any:
        return self.store.records(kind)

    def dead_letters(self) -> Any:
        return self.store.dead_letters()


def timed(run: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--via", choices=["demo", "ingest"], default="demo")
    parser.add_argument("--keep", type=Path, default=None, help="keep and reuse files here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        db = make_store(args.n, args.via, folder)
        store = SQLiteStore(str(db))
        as_of = latest_event_at(store)
        assert as_of is not None
        closed_at = {
            case_id: max(e.at for e in store.events(case_id) if e.type == "close")
            for case_id in [d.id for d in store.case_digests(TAG) if d.status == CaseStatus.CLOSED]
        }
        fast_t, fast = timed(lambda: build_report(store, as_of).as_dict())
        slow_t, slow = timed(lambda: build_report(LoadEveryCase(store, closed_at), as_of).as_dict())
        latest_t, _ = timed(lambda: latest_event_at(store))
        if fast != slow:
            sys.exit("the two reports differ")
        size = db.stat().st_size / 1e6
        print(
            f"desk report over {fast['total']:,} cases ({args.via}; {size:,.0f} MB SQLite file), "
            "median of 3"
        )
        print(f"  build_report (digest column, one query)   {fast_t:8.2f} s")
        print(f"  load every case, then count               {slow_t:8.2f} s   "
              f"digests {slow_t / fast_t:.1f}x faster")  # fmt: skip
        print(f"  latest_event_at (default as-of)           {latest_t * 1000:8.1f} ms")
        store.close()


if __name__ == "__main__":
    main()
