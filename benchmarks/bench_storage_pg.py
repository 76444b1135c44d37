"""PostgreSQL store: batch ingest and the due-clock sweep, with SQLite and the obvious alternatives.

    export ZHENSHEN_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/bench_storage_pg.py                 # --ingest 5000 --n 100000
    .venv/bin/python benchmarks/bench_storage_pg.py --n 1000000     # the 1M-case sweep target

Every PostgreSQL part runs in fresh schemas named ``bench_<random>`` that are dropped at the end.

1. **Ingest.** The same prepared cases (3 events each: receive, accept, clock_update; building the
   pydantic objects is outside the timed part) are stored with ``ingest_many`` in batches into
   SQLite (a temporary file, WAL) and into PostgreSQL, and one ``ingest`` call per case into
   PostgreSQL (the obvious alternative to batching). Target: ≥ 3,000 cases/s into PostgreSQL.
2. **Sweep at the ingest size**, on both stores: ``due_clocks(now, limit=1000)``, median time.
3. **Sweep over ``--n`` stored cases** in PostgreSQL. The cases are generated inside the server
   (``INSERT … SELECT`` over ``generate_series`` from one template case, with distinct ids, work
   order numbers, received times and alert times, and their receive events and refs), so loading
   a million takes a minute or two instead of an hour of client round trips. Then
   ``due_clocks(now, limit=1000)`` and ``claim_due_clocks`` are timed against the obvious
   alternative without a clocks table: the same question asked of the JSONB documents. The two
   answers must agree. Target: < 200 ms over 1,000,000 cases.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import psycopg
from psycopg import sql
from zhenshen_postgres import PostgresStore
from zhenshen_postgres.store import parse_url

from zhenshen_core.model import Case, CaseEvent, Lifecycle
from zhenshen_core.storage import SQLiteStore
from zhenshen_core.testing.storage_contract import (
    BASE_TIME,
    fire,
    make_case,
    make_clock,
    received,
)

Item = tuple[Case, list[CaseEvent]]
MINUTES_A_YEAR = 365 * 24 * 60
NOW = BASE_TIME + timedelta(days=3)


def prepare(n: int, *, events: int = 3) -> list[Item]:
    """``n`` cases with a running clock; ``events`` 1 puts the clock on the draft at intake."""
    items: list[Item] = []
    for i in range(n):
        alert = BASE_TIME + timedelta(minutes=(i * 7919) % MINUTES_A_YEAR)
        if events == 1:
            clock = make_clock(
                "opinion", due_at=BASE_TIME + timedelta(days=400), next_alert_at=alert
            )
            draft = make_case(i, clocks={"opinion": clock.model_dump(mode="json")})
            items.append(received(draft))
            continue
        case, history = received(make_case(i))
        case, accepted = fire(case, "accept")
        clock = make_clock(
            "opinion",
            due_at=BASE_TIME + timedelta(days=400),
            next_alert_at=alert,
        )
        case, clocked = fire(case, "clock_update", {"clock": clock.model_dump(mode="json")})
        items.append((case, [*history, accepted, clocked]))
    return items


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class Schemas:
    """Fresh schemas on the benchmark server, all dropped at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.created: list[str] = []

    def new(self) -> str:
        schema = "bench_" + secrets.token_hex(5)
        self.created.append(schema)
        return f"{self.url}{'&' if '?' in self.url else '?'}schema={schema}"

    def drop_all(self) -> None:
        with psycopg.connect(parse_url(self.url).conninfo, autocommit=True) as conn:
            for schema in self.created:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )


def batched(store: SQLiteStore | PostgresStore, items: list[Item], batch: int) -> None:
    for start in range(0, len(items), batch):
        results = store.ingest_many(items[start : start + batch])
        assert all(r.created for r in results), "every case in the benchmark is new"


def part_ingest(
    schemas: Schemas, workloads: dict[str, list[Item]], batch: int, repeat: int, tmp: Path
) -> tuple[PostgresStore, SQLiteStore]:
    """Time each workload ``repeat`` times into fresh stores (best and median rate: the machine
    is shared, and the best run is the closest to what the code can do); returns stores that
    hold the last workload."""
    kept: list[PostgresStore | SQLiteStore] = []
    for index, (label, items) in enumerate(workloads.items()):
        n = len(items)
        rates: dict[str, list[float]] = {"sqlite": [], "pg": []}
        for run in range(repeat):
            for store in kept:
                store.close()
            sqlite = SQLiteStore(tmp / f"bench-{index}-{run}.db")
            pg = PostgresStore(schemas.new())
            kept = [pg, sqlite]
            rates["sqlite"].append(n / timed(lambda: batched(sqlite, items, batch)))  # noqa: B023
            rates["pg"].append(n / timed(lambda: batched(pg, items, batch)))  # noqa: B023
            assert sqlite.count() == pg.count() == n
        single_n = min(n, 1000)
        with PostgresStore(schemas.new()) as one:
            single = single_n / timed(lambda: [one.ingest(c, e) for c, e in items[:single_n]])  # noqa: B023
        print(f"ingest of {n:,} cases, {label}, batches of {batch}; best / median of {repeat}")
        for name, key in (("SQLite ingest_many()", "sqlite"), ("PostgreSQL ingest_many()", "pg")):
            best, median = max(rates[key]), statistics.median(rates[key])
            target = "   target >= 3,000" if key == "pg" else ""
            print(f"  {name:<42}{best:>8,.0f} / {median:>6,.0f} cases/s{target}")
        print(
            f"  {f'PostgreSQL one ingest() per case ({single_n:,})':<42}{single:>8,.0f} cases/s"
            f"            batch {statistics.median(rates['pg']) / single:.1f}x faster (median)"
        )
    pg_store, sqlite_store = kept
    assert isinstance(pg_store, PostgresStore) and isinstance(sqlite_store, SQLiteStore)
    return pg_store, sqlite_store


def part_small_sweep(pg: PostgresStore, sqlite: SQLiteStore, n: int) -> None:
    a = [(d.case_id, d.clock) for d in pg.due_clocks(NOW)]
    b = [(d.case_id, d.clock) for d in sqlite.due_clocks(NOW)]
    assert a == b, "SQLite and PostgreSQL disagree on the due clocks"
    t_pg = median_time(lambda: pg.due_clocks(NOW), 20)
    t_sqlite = median_time(lambda: sqlite.due_clocks(NOW), 20)
    print(f"due_clocks(limit=1000) over {n:,} cases ({len(a)} due), median of 20")
    print(f"  {'SQLite':<40}{t_sqlite * 1000:>12.2f} ms")
    print(f"  {'PostgreSQL':<40}{t_pg * 1000:>12.2f} ms")


_MARK_RECV = datetime(2001, 1, 1, 1, 1, 1, tzinfo=BASE_TIME.tzinfo)
_MARK_ALERT = datetime(2002, 2, 2, 2, 2, 2, tzinfo=BASE_TIME.tzinfo)


def _templates() -> tuple[str, str]:
    """One valid case (version 1, a running clock) and its receive event, as JSON text with
    placeholders where cases differ: plain text ``replace`` in SQL is ten times cheaper per row
    than a chain of ``jsonb_set`` calls."""
    clock = make_clock("opinion", due_at=BASE_TIME + timedelta(days=400), next_alert_at=_MARK_ALERT)
    draft = make_case(
        0,
        id="@ID@",
        external_id="@EXT@",
        received_at=_MARK_RECV.isoformat(),
        clocks={"opinion": clock.model_dump(mode="json")},
    )
    case, event = Lifecycle().receive(draft, actor="bench")
    texts = []
    for text in (case.model_dump_json(context={"unmasked": True}), event.model_dump_json()):
        for mark, name in ((_MARK_RECV, "@RECV@"), (_MARK_ALERT, "@ALERT@")):
            assert mark.isoformat() in text
            text = text.replace(mark.isoformat(), name)
        texts.append(text)
    return texts[0], texts[1]


# The fields that differ from case to case, in the document and in the draft inside the event.
_FILL = """
    replace(replace(replace(replace(%({})s, '@ID@', g.id), '@EXT@', g.ext),
        '@RECV@', to_json(g.recv) #>> '{{}}'), '@ALERT@', to_json(g.alert) #>> '{{}}')
"""
_CASE_DOC = "(" + _FILL.format("doc") + ")::jsonb"
_EVENT_DOC = "(" + _FILL.format("event") + ")::json"
_SERIES = """
    (SELECT 'ZB' || lpad(i::text, 14, '0') AS id, 'BENCH-' || i AS ext,
            %(base)s::timestamptz + i * interval '1 second' AS recv,
            %(base)s::timestamptz + ((i * 7919) %% 525600) * interval '1 minute' AS alert,
            %(due)s::timestamptz AS due
     FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS i) AS g
"""


def generate(url: str, n: int) -> float:
    """Store ``n`` cases server-side; returns the seconds it took."""
    doc, event = _templates()
    parsed = parse_url(url)
    start = time.perf_counter()
    with psycopg.connect(parsed.conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(parsed.schema)))
        conn.execute("SET TIME ZONE 'Asia/Shanghai'")
        chunk = 100_000
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk) - 1
            params = {
                "doc": doc,
                "event": event,
                "base": BASE_TIME,
                "lo": lo,
                "hi": hi,
                "due": BASE_TIME + timedelta(days=400),
            }
            with conn.transaction():
                conn.execute(
                    "INSERT INTO cases (id, doc, status, domain, lead_department, departments,"
                    " enterprise_uscc, channel, received_at, version)"
                    f" SELECT g.id, {_CASE_DOC}, 'received', 'construction_permit',"
                    " 'gxq.dept0', ARRAY['gxq.dept0', 'gxq.co'], NULL, 'hotline_12345',"
                    f" g.recv, 1 FROM {_SERIES}",
                    params,
                )
                conn.execute(
                    "INSERT INTO events (case_id, seq, at, type, actor, doc)"
                    f" SELECT g.id, 1, g.recv, 'receive', 'bench', {_EVENT_DOC} FROM {_SERIES}",
                    params,
                )
                conn.execute(
                    "INSERT INTO external_refs (channel, external_id, case_id)"
                    f" SELECT 'hotline_12345', g.ext, g.id FROM {_SERIES}",
                    params,
                )
                conn.execute(
                    "INSERT INTO clocks (case_id, name, next_alert_at, due_at, case_version)"
                    f" SELECT g.id, 'opinion', g.alert, g.due, 1 FROM {_SERIES}",
                    params,
                )
            print(f"  … {hi + 1:,} cases stored ({time.perf_counter() - start:.0f} s)", flush=True)
        conn.execute("ANALYZE")
    return time.perf_counter() - start


def jsonb_scan(url: str, now: datetime, limit: int) -> Callable[[], list[tuple[str, str]]]:
    """The sweep without a clocks table: ask every case document for its running clocks."""
    parsed = parse_url(url)
    conn = psycopg.connect(parsed.conninfo, autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(parsed.schema)))

    def run() -> list[tuple[str, str]]:
        rows = conn.execute(
            "SELECT c.id, k.key FROM cases c, jsonb_each(c.doc -> 'clocks') AS k"
            " WHERE k.value ->> 'stopped_at' IS NULL AND k.value ->> 'next_alert_at' IS NOT NULL"
            " AND (k.value ->> 'next_alert_at')::timestamptz <= %s"
            " ORDER BY (k.value ->> 'next_alert_at')::timestamptz, c.id, k.key LIMIT %s",
            (now, limit),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    return run


def count_due(url: str, now: datetime) -> int:
    parsed = parse_url(url)
    with psycopg.connect(parsed.conninfo) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(parsed.schema)))
        row = conn.execute(
            "SELECT count(*) FROM clocks WHERE next_alert_at <= %s", (now,)
        ).fetchone()
    return int(row[0]) if row else 0


def part_big_sweep(schemas: Schemas, n: int) -> None:
    url = schemas.new()
    with PostgresStore(url) as store:
        print(f"generating {n:,} stored cases in PostgreSQL")
        seconds = generate(url, n)
        assert store.count() == n
        sample = store.get("ZB" + f"{n // 2:014d}")
        assert Lifecycle().replay(store.events(sample.id)) == sample, "generated data is valid"
        # Far enough into the year that at least 6,000 clocks are due (3 days at 1M cases), so
        # each of the five timed claims below takes a fresh 1,000.
        now = BASE_TIME + timedelta(days=min(365, max(3, math.ceil(6000 * 365 / n) + 1)))
        due_total = count_due(url, now)
        indexed = [(d.case_id, d.clock) for d in store.due_clocks(now, limit=1000)]
        scan = jsonb_scan(url, now, 1000)
        assert indexed == scan(), "the indexed sweep and the document scan disagree"
        t_index = median_time(lambda: store.due_clocks(now, limit=1000), 20)
        t_claim = median_time(lambda: store.claim_due_clocks(now, node="bench", limit=1000), 5)
        store.release_claims("bench")
        t_scan = median_time(scan, 3 if n <= 200_000 else 1)
    print(
        f"sweep over {n:,} stored cases (loaded in {seconds:.0f} s): {due_total:,} clocks due,"
        " 1,000 returned per call"
    )
    print(f"  {'due_clocks() on the clocks index':<40}{t_index * 1000:>12.2f} ms   target < 200")
    print(f"  {'claim_due_clocks() (SKIP LOCKED, lease)':<40}{t_claim * 1000:>12.2f} ms")
    print(
        f"  {'scan of the JSONB documents':<40}{t_scan * 1000:>12.2f} ms"
        f"   index {t_scan / t_index:,.0f}x faster"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ingest", type=int, default=5000, help="cases to ingest (default 5000)")
    parser.add_argument("--batch", type=int, default=1000, help="ingest_many batch size")
    parser.add_argument("--n", type=int, default=100_000, help="stored cases for the big sweep")
    parser.add_argument("--repeat", type=int, default=3, help="ingest runs per workload")
    parser.add_argument("--url", default=os.environ.get("ZHENSHEN_TEST_PG_URL", ""))
    args = parser.parse_args()
    if not args.url:
        parser.error("give --url or set ZHENSHEN_TEST_PG_URL (postgresql://user@host:port/db)")
    if min(args.ingest, args.batch, args.n, args.repeat) < 1:
        parser.error("--ingest, --batch, --n and --repeat must be positive")

    schemas = Schemas(args.url)
    # The machine is often shared: a fixed pure-Python loop shows how much CPU this run had
    # (about 0.4 s on an idle 2020s core).
    print(f"calibration: sum(range(20_000_000)) took {timed(lambda: sum(range(20_000_000))):.2f} s")
    workloads = {
        "receive event only (what batch intake stores)": prepare(args.ingest, events=1),
        "3 events each (receive, accept, clock_update)": prepare(args.ingest, events=3),
    }
    try:
        with tempfile.TemporaryDirectory(prefix="zhenshen-bench-") as tmpdir:
            pg, sqlite = part_ingest(schemas, workloads, args.batch, args.repeat, Path(tmpdir))
            try:
                part_small_sweep(pg, sqlite, args.ingest)
            finally:
                pg.close()
                sqlite.close()
        part_big_sweep(schemas, args.n)
    finally:
        schemas.drop_all()


if __name__ == "__main__":
    main()
