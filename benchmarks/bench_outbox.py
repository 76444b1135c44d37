"""What the outbox costs a sweep: notices written with each alert vs a notifier called after it.

    .venv/bin/python benchmarks/bench_outbox.py [--n 500] [--runs 3]

A SQLite store of N cases, each with three due clocks (3N alerts), is swept in one process
three ways, each on a fresh copy of the same file, each run ``--runs`` times, interleaved, after
one warm-up run (median shown):

1. ``no notifier`` — the sweep alone: alerts saved, nothing to tell;
2. ``outbox`` — what the desk does: each alert's notice is written to the outbox in the alert's
   transaction, delivered to a notifier (which appends to a list) and its delivery recorded;
3. ``direct call`` — the obvious alternative, what the sweep did before: the notifier called
   right after each save, nothing written for it (a crash in between loses the notice).

Every run must raise 3N alerts, and the two with a notifier must tell it 3N times.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.desk.test_sweep import NOW, fill  # noqa: E402  (the sweep tests' own store)

from zhenshen_core import PluginConfig, PluginHost, hookimpl  # noqa: E402
from zhenshen_core.desk import Desk  # noqa: E402
from zhenshen_core.plugins import Notification, Notifier  # noqa: E402
from zhenshen_core.storage import SQLiteStore  # noqa: E402


class Sink:
    def __init__(self) -> None:
        self.received: list[str] = []

    def send(self, n: Notification) -> None:
        self.received.append(n.key or n.case.id)

    @hookimpl
    def zhenshen_notifiers(self) -> list[Notifier]:
        return [Notifier("sink", "keeps what it is told", self.send)]


class DirectDesk(Desk):
    """The sweep as it was: no notice written; the notifier called after the save."""

    def _notices(self, case_id: str, announce: Any, at: Any = None) -> list[Any]:
        return []

    def _tell(self, case: Any, announce: Any, notices: Any, at: Any = None) -> None:
        for a in announce:
            for name in self.host.notifier_names():
                note = Notification(a.kind, case, a.event_type, dict(a.detail))
                failure = self.host.send_notice(name, note)
                if failure is not None:
                    self.failures.append(failure)


def run(seed: Path, folder: Path, way: str) -> tuple[float, int, int]:
    db = folder / f"{way}.db"
    for suffix in ("", "-wal", "-shm"):
        if (seed.parent / (seed.name + suffix)).exists():
            shutil.copy(seed.parent / (seed.name + suffix), folder / (db.name + suffix))
    store = SQLiteStore(db)
    host = PluginHost(PluginConfig(autoload=False))
    sink = Sink()
    if way != "no notifier":
        host.register(sink, name="sink")
    desk = (DirectDesk if way == "direct call" else Desk)(store, host=host)
    start = time.perf_counter()
    result = desk.sweep(NOW, limit=10**9)
    seconds = time.perf_counter() - start
    store.close()
    return seconds, len(result.alerts), len(sink.received)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        seed = folder / "seed.db"
        with SQLiteStore(seed) as store:
            fill(store, args.n)
        alerts = 3 * args.n
        print(f"{args.n:,} cases, {alerts:,} due clocks, SQLite, median of {args.runs}")
        print(f"{'way':<14}{'seconds':>9}{'alerts/s':>10}{'vs direct':>11}")
        ways = ("no notifier", "direct call", "outbox")
        got: dict[str, list[float]] = {way: [] for way in ways}
        run(seed, folder, "no notifier")  # warm-up: imports, the calendar, the file cache
        for i in range(args.runs):  # interleaved, so a busy moment of the machine hits all
            for way in ways:
                run_dir = folder / f"{way.replace(' ', '-')}-{i}"
                run_dir.mkdir()
                seconds, raised, told = run(seed, run_dir, way)
                if raised != alerts or told != (0 if way == "no notifier" else alerts):
                    raise SystemExit(f"{way}: {raised} alerts, {told} told; expected {alerts}")
                got[way].append(seconds)
        times = {way: statistics.median(got[way]) for way in ways}
        for way, seconds in times.items():
            ratio = seconds / times["direct call"]
            print(f"{way:<14}{seconds:>9.2f}{alerts / seconds:>10,.0f}{ratio:>10.2f}×")


if __name__ == "__main__":
    main()
