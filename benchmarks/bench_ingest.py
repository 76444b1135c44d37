"""Bulk intake with decisions: ``zhenshen ingest --pack`` against storing, then deciding each case.

    .venv/bin/python benchmarks/bench_ingest.py [--n 20000] [--seed 1]

One process, fresh SQLite files in a temporary directory, the reference pack and the same
generated work orders (``zhenshen corpus generate``) for every contender:

1. ``ingest, no pack`` — what ``zhenshen ingest`` did before: validate and store, undecided;
2. ``ingest --pack`` — ``Desk.ingest``: each case enriched, decided and its clocks started in
   memory, then stored with its whole history in the batch's one write (500 per batch);
3. ``store, then decide each`` — the obvious alternative (and what ``Desk.ingest`` did before):
   batch-store the undecided cases, then ``Desk.decide`` each one (and its cross-case rules),
   one read and one write per case;
4. ``ingest --pack again`` — the same file a second time: every record a repeat delivery.

Contenders 2 and 3 must store the same severity, tier, lead department and clock due dates for
every case, or the run stops.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from zhenshen_chengdu_gaoxin.corpus import write_jsonl

from zhenshen_core.desk import Desk
from zhenshen_core.intake import ingest_source
from zhenshen_core.plugins import PluginConfig, PluginHost
from zhenshen_core.rules import load_pack
from zhenshen_core.storage import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"


def _timed(run: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    count = run()
    return time.perf_counter() - start, count


def _outcomes(store: SQLiteStore) -> dict[str, tuple[object, ...]]:
    return {
        c.id: (
            c.severity,
            c.tier,
            c.lead_department,
            tuple(sorted((n, k.due_at) for n, k in c.clocks.items())),
        )
        for c in store.query()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="work orders (default 20000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    host = PluginHost(PluginConfig(autoload=False))
    pack = load_pack(PACK)
    with tempfile.TemporaryDirectory() as tmp:
        source = str(Path(tmp) / "orders.jsonl")
        write_jsonl(source, args.n, seed=args.seed)
        stores = {name: SQLiteStore(str(Path(tmp) / f"{name}.db")) for name in "abc"}
        _ = Desk(stores["b"], pack=pack, host=host).calendar  # built once, outside the timing

        def plain() -> int:
            return ingest_source(source, channel="jsonl", store=stores["a"], host=host).created

        def with_pack() -> int:
            return Desk(stores["b"], pack=pack, host=host).ingest("jsonl", source).created

        def store_then_decide() -> int:
            desk = Desk(stores["c"], pack=pack, host=host)
            summary = ingest_source(source, channel="jsonl", store=desk.store, host=host)
            for case_id in summary.case_ids:
                desk._cross_case(desk.decide(case_id), "receive")  # as Desk.ingest did
            return summary.created

        def again() -> int:
            return Desk(stores["b"], pack=pack, host=host).ingest("jsonl", source).duplicates

        rows = [
            ("ingest, no pack (undecided)", *_timed(plain)),
            ("ingest --pack", *_timed(with_pack)),
            ("store, then decide each", *_timed(store_then_decide)),
            ("ingest --pack again (repeats)", *_timed(again)),
        ]
        if _outcomes(stores["b"]) != _outcomes(stores["c"]):
            sys.exit("ingest --pack and store-then-decide stored different decisions")
        for store in stores.values():
            store.close()

    print(f"ingest of {args.n:,} generated work orders into SQLite (WAL), reference pack")
    base = rows[1][1]
    for name, seconds, count in rows:
        ratio = "" if name == rows[1][0] else f"{seconds / base:6.2f}x the time"
        print(f"  {name:<32} {count:>7,} cases {seconds:7.2f} s {count / seconds:8,.0f}/s  {ratio}")


if __name__ == "__main__":
    main()
