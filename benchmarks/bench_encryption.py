"""Ingest throughput with personal data encrypted at rest, against the same store without.

    .venv/bin/python benchmarks/bench_encryption.py                   # --n 5000 --rounds 7
    export ZHENSHEN_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/test   # adds PostgreSQL
    .venv/bin/python benchmarks/bench_encryption.py --instructions    # counts, under valgrind

The same prepared work orders (typical 12345 content of about 200 characters, a requester with
a name and a mobile number; every other order carries a phone or an ID number in its text; 3
events each: receive, accept, clock_update; building them is outside the timed part, and they
are frozen out of the garbage collector's view, as a streaming ``zhenshen ingest`` never holds
thousands of parsed orders) are stored with ``ingest_many`` in batches of 500, three ways:

* **plain**: the store with a vault that writes documents as they are, without looking at them
  (what the stores did before issue 16) -- the goal's baseline;
* **unencrypted**: the store with no master key (what PostgreSQL does when none is configured):
  personal data detected and the blind index written, so erasure and access requests work,
  nothing sealed;
* **encrypted**: the store as shipped with a master key: every personal value sealed with the
  case's data key (AES-256-GCM), the data key wrapped, the blind index keyed.

Each round ingests into a fresh SQLite file (WAL) or a fresh PostgreSQL schema, the three
variants back to back; a round's ratios compare runs made under the same load, and the median
of the rounds' ratios is the figure to read on a shared machine (the best times are shown
beside it). Goal: encrypted within 1.5x the plain time.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from zhenshen_core.model import Case, CaseEvent, dump_case
from zhenshen_core.model.case import Requester
from zhenshen_core.privacy.keys import MasterKey
from zhenshen_core.storage import SQLiteStore
from zhenshen_core.storage.crypto import Vault
from zhenshen_core.storage.protocol import CaseStore
from zhenshen_core.testing.storage_contract import BASE_TIME, fire, make_case, make_clock, received

Item = tuple[Case, list[CaseEvent]]
KEY = MasterKey.generate("the benchmark's key")
BATCH = 500
SURNAMES = "王李张刘陈杨黄赵吴周"
TEXT = (
    "我公司位于高新区天府大道，营业执照已于上月办理完毕，但因消防验收意见迟迟未出，厂房无法投入"
    "生产，多次到窗口咨询均被告知等待，已影响订单交付。请求有关部门协调消防、住建等单位尽快明确"
    "验收标准和办理时限，帮助企业早日开工。"
)


def prepare(n: int) -> list[Item]:
    items = []
    for i in range(n):
        phone = f"139{i:08d}"
        extra = ""
        if i % 4 == 1:
            extra = f"联系电话{phone[:3]}-{phone[3:7]}-{phone[7:]}。"
        elif i % 4 == 3:
            extra = "身份证号码11010519491231002X。"
        name = SURNAMES[i % 10] + "先生"
        draft = make_case(i, content=TEXT + extra, requester=Requester(name=name, phone=phone))
        case, events = received(draft)
        case, accept = fire(case, "accept")
        clock = make_clock(
            "resolve", due_at=BASE_TIME + timedelta(days=15), next_alert_at=BASE_TIME + timedelta(1)
        )
        case, tick = fire(case, "clock_update", {"clock": clock.model_dump(mode="json")})
        items.append((case, [*events, accept, tick]))
    return items


class PlainVault(Vault):
    """What the stores did before issue 16: documents written as they are, nothing looked at,
    sealed or indexed."""

    def __init__(self) -> None:
        super().__init__(None)

    def seal_case(self, sealing: Any, case: Case, events: Sequence[CaseEvent]) -> Any:
        return dump_case(case), [e.model_dump_json() for e in events]


def timed(store: CaseStore, items: list[Item]) -> tuple[float, float]:
    """Wall time and this process's CPU time of ingesting ``items``. On a shared machine the
    CPU time is the steadier figure; for SQLite it is all the work (the engine runs in the
    process), for PostgreSQL the client's share only."""
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(items), BATCH):
        store.ingest_many(items[i : i + BATCH])
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    store.close()
    return elapsed, used


VARIANTS = ("plain", "unencrypted", "encrypted")


def sqlite_store(folder: Path, variant: str) -> CaseStore:
    store = SQLiteStore(folder / f"{secrets.token_hex(4)}.db", pii_key=KEY)
    _set_vault(store, variant)
    return store


def pg_store(url: str, variant: str) -> tuple[CaseStore, str]:
    from zhenshen_postgres import PostgresStore

    schema = "bench_" + secrets.token_hex(6)
    store = PostgresStore(f"{url}{'&' if '?' in url else '?'}schema={schema}", pii_key=KEY)
    _set_vault(store, variant)
    return store, schema


def _set_vault(store: CaseStore, variant: str) -> None:
    if variant == "plain":
        store._vault = PlainVault()  # type: ignore[attr-defined]  # as before: nothing looked at
    elif variant == "unencrypted":
        store._vault = Vault(None)  # type: ignore[attr-defined]  # a store without a master key


def drop(url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def compare(
    name: str, items: list[Item], rounds: int, run: Callable[[str], tuple[float, float]]
) -> None:
    best = {v: (float("inf"), float("inf")) for v in VARIANTS}
    ratios: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS[1:]}
    for _ in range(rounds):
        times = {v: run(v) for v in VARIANTS}
        for v, (wall, cpu) in times.items():
            best[v] = (min(best[v][0], wall), min(best[v][1], cpu))
        for v in VARIANTS[1:]:
            ratios[v].append((times[v][0] / times["plain"][0], times[v][1] / times["plain"][1]))
    n = len(items)
    print(
        f"{name}: ingest_many of {n:,} cases (3 events each), batches of {BATCH}, {rounds} rounds"
    )
    for v in VARIANTS:
        wall, cpu = best[v]
        line = f"  {v:12s} {wall:6.2f} s {n / wall:7,.0f} cases/s  cpu {cpu:5.2f} s"
        if v in ratios:
            time_x = statistics.median(r[0] for r in ratios[v])
            cpu_x = statistics.median(r[1] for r in ratios[v])
            line += f"   {time_x:.2f}x the plain time, {cpu_x:.2f}x its cpu (median)"
        print(line)
    rounds_text = ", ".join(f"{r[0]:.2f}" for r in ratios["encrypted"])
    time_x = statistics.median(r[0] for r in ratios["encrypted"])
    verdict = "met" if time_x <= 1.5 else "not met"
    print(f"  encrypted / plain by round: {rounds_text}; goal <= 1.5x: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count the instructions each SQLite variant executes a case (valgrind's "
        "cachegrind; the same on a busy machine as on an idle one)",
    )
    parser.add_argument("--only", choices=["none", *VARIANTS], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instructions:
        count_instructions(min(args.n, 300))
        return
    items = prepare(args.n)
    gc.collect()
    gc.freeze()  # the inputs stay; the collector looks only at what ingesting them makes
    if args.only is not None:  # one variant, once: what --instructions runs under valgrind
        if args.only != "none":
            with tempfile.TemporaryDirectory() as folder:
                timed(sqlite_store(Path(folder), args.only), items)
        return
    with tempfile.TemporaryDirectory() as folder:
        compare(
            "SQLite",
            items,
            args.rounds,
            lambda variant: timed(sqlite_store(Path(folder), variant), items),
        )
    url = os.environ.get("ZHENSHEN_TEST_PG_URL")
    if not url:
        print("PostgreSQL: skipped (set ZHENSHEN_TEST_PG_URL)")
        return

    def pg_run(variant: str) -> tuple[float, float]:
        store, schema = pg_store(url, variant)
        try:
            return timed(store, items)
        finally:
            drop(url, schema)

    compare("PostgreSQL", items, args.rounds, pg_run)


def count_instructions(n: int) -> None:
    """Instructions a case for each SQLite variant: the same script run under cachegrind with
    ``--only`` (``none`` prepares the cases and stores nothing: what the others have in common
    is subtracted). A count, not a time: Python's interpreter loop executes fewer instructions
    a cycle than SQLite's C, so the ratio of times is somewhat higher than this one; what it
    gives is a figure that does not move with the load, to tell a change's effect from noise."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("--instructions needs valgrind (Debian: apt-get install valgrind)")
    counts = {}
    for variant in ("none", *VARIANTS):
        run = subprocess.run(
            [valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
             sys.executable, __file__, "--only", variant, "--n", str(n)],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )  # fmt: skip
        found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
        if found is None:
            sys.exit(f"no instruction count in valgrind's output:\n{run.stderr[-2000:]}")
        counts[variant] = int(found.group(1).replace(",", ""))
    per_case = {v: (counts[v] - counts["none"]) / n for v in VARIANTS}
    print(f"SQLite: instructions a case, ingest_many of {n} cases (cachegrind)")
    for v in VARIANTS:
        ratio = per_case[v] / per_case["plain"]
        print(f"  {v:12s} {per_case[v]:12,.0f}   {ratio:.2f}x plain")


if __name__ == "__main__":
    main()
