"""Ingest throughput with personal data encrypted at rest, against the same store without.

    .venv/bin/python benchmarks/bench_encryption.py                   # all three sections
    .venv/bin/python benchmarks/bench_encryption.py --sections store  # --n 5000 --rounds 7
    export ZHENSHEN_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/test   # adds PostgreSQL
    .venv/bin/python benchmarks/bench_encryption.py --instructions    # counts, under valgrind
    .venv/bin/python benchmarks/bench_encryption.py --instructions --sections store,e2e

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

Three sections (``--sections``, default all):

* ``store``: the above, the storage layer alone (``ingest_many`` of prebuilt cases);
* ``e2e``: what an operator runs, ``zhenshen ingest jsonl FILE`` in process through the
  functions the command calls (``ingest_source`` without a pack, ``Desk.ingest`` with the
  reference pack ``cn.chengdu.gaoxin``): a JSONL file of generated work orders (the corpus
  generator's, each given a requester with a name and a mobile number, every other one a phone
  or ID number in its text, like the cases above; written once, outside the timed part) read,
  validated, decided with the pack, stored in the command's batches; the same three variants,
  the store's vault swapped as above, rounds back to back (``--e2e-n``, ``--e2e-rounds``);
* ``cli``: the command itself as a subprocess, once per variant (``--cli-rounds``), start-up
  included. Only what the command can be configured to do: the *plain* variant has no
  configuration (every store looks at personal data since issue 16), and a SQLite store always
  encrypts (without ``ZHENSHEN_PII_KEY`` it makes a key file beside the database), so SQLite is
  timed *encrypted* alone; PostgreSQL without a key stores unencrypted (it warns), so there
  *encrypted* is compared with *unencrypted*.

Every variant of a round must store the same number of cases, or the run stops.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import re
import resource
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
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from zhenshen_core.desk import Desk
from zhenshen_core.intake import ingest_source
from zhenshen_core.model import Case, CaseEvent, dump_case
from zhenshen_core.model.case import Requester
from zhenshen_core.plugins import PluginConfig, PluginHost
from zhenshen_core.privacy.keys import MasterKey
from zhenshen_core.rules import ResolvedPack, load_pack
from zhenshen_core.storage import SQLiteStore
from zhenshen_core.storage.crypto import Vault
from zhenshen_core.storage.protocol import CaseStore
from zhenshen_core.testing.storage_contract import BASE_TIME, fire, make_case, make_clock, received

Item = tuple[Case, list[CaseEvent]]
KEY = MasterKey.generate("the benchmark's key")
BATCH = 500
ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"
SECTIONS = ("store", "e2e", "cli")
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


class Run(NamedTuple):
    """One variant's run: wall time, CPU time, and the cases the store holds after it (counted
    outside the timed part: every variant of a round must hold the same number)."""

    wall: float
    cpu: float
    stored: int


def timed(store: CaseStore, items: list[Item], *, count: bool = True) -> Run:
    """Wall time and this process's CPU time of ingesting ``items``. On a shared machine the
    CPU time is the steadier figure; for SQLite it is all the work (the engine runs in the
    process), for PostgreSQL the client's share only. ``count`` False: the cases stored are
    not counted (reported as 0), so that an instruction count holds the ingest alone."""
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(items), BATCH):
        store.ingest_many(items[i : i + BATCH])
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    stored = store.count() if count else 0
    store.close()
    return Run(elapsed, used, stored)


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
    title: str,
    rounds: int,
    run: Callable[[str], Run],
    variants: Sequence[str] = VARIANTS,
) -> None:
    """Run ``variants`` back to back, ``rounds`` times, and print each one's best time and the
    median of its ratios to the first variant (the baseline) over the rounds, then the
    encrypted variant's ratio of each round, to the baseline and to unencrypted where both
    ran. ``title`` names the store and the work."""
    base = variants[0]
    best = {v: (float("inf"), float("inf")) for v in variants}
    ratios: dict[tuple[str, str], list[tuple[float, float]]] = {
        pair: [] for pair in _pairs(variants)
    }
    stored = 0
    for _ in range(rounds):
        times = {v: run(v) for v in variants}
        counts = {v: r.stored for v, r in times.items()}
        if len(set(counts.values())) != 1:
            sys.exit(f"{title}: the variants stored different numbers of cases: {counts}")
        stored = counts[base]
        for v, r in times.items():
            best[v] = (min(best[v][0], r.wall), min(best[v][1], r.cpu))
        for v, of in ratios:
            ratios[v, of].append((times[v].wall / times[of].wall, times[v].cpu / times[of].cpu))
    print(f"{title}, {rounds} round{'s' if rounds > 1 else ''}; {stored:,} cases stored by each")
    for v in variants:
        wall, cpu = best[v]
        line = f"  {v:12s} {wall:6.2f} s {stored / wall:7,.0f} cases/s  cpu {cpu:5.2f} s"
        if (v, base) in ratios:
            time_x = statistics.median(r[0] for r in ratios[v, base])
            cpu_x = statistics.median(r[1] for r in ratios[v, base])
            line += f"   {time_x:.2f}x the {base} time, {cpu_x:.2f}x its cpu (median)"
        print(line)
    for (v, of), found in ratios.items():
        if v != "encrypted":
            continue
        walls = [r[0] for r in found]
        line = (
            f"  {v} / {of}: {statistics.median(walls):.2f}x the time "
            f"(median; rounds {', '.join(f'{w:.2f}' for w in walls)}), "
            f"{statistics.median(r[1] for r in found):.2f}x the cpu"
        )
        if of == "plain":
            line += f"; goal <= 1.5x: {'met' if statistics.median(walls) <= 1.5 else 'not met'}"
        print(line)


def _pairs(variants: Sequence[str]) -> list[tuple[str, str]]:
    """The ratios ``compare`` reports: each variant to the baseline, and encrypted to
    unencrypted (encryption alone) when the baseline is plain."""
    pairs = [(v, variants[0]) for v in variants[1:]]
    if variants[0] != "unencrypted" and {"unencrypted", "encrypted"} <= set(variants):
        pairs.append(("encrypted", "unencrypted"))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="cases of the store section")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of the store section")
    parser.add_argument(
        "--sections",
        help=f"which to run, comma-separated, of {', '.join(SECTIONS)} (default all; with "
        "--instructions: store, and e2e when named; cli is never counted)",
    )
    parser.add_argument("--e2e-n", type=int, default=2000, help="work orders of e2e and cli")
    parser.add_argument("--e2e-rounds", type=int, default=5)
    parser.add_argument("--cli-rounds", type=int, default=1)
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count the instructions each SQLite variant executes a case (valgrind's "
        "cachegrind; the same on a busy machine as on an idle one)",
    )
    parser.add_argument("--only", choices=["none", *VARIANTS], help=argparse.SUPPRESS)
    parser.add_argument("--only-e2e", choices=["none", *VARIANTS], help=argparse.SUPPRESS)
    parser.add_argument("--pack", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    default = "store" if args.instructions else ",".join(SECTIONS)
    sections = [s.strip() for s in (args.sections or default).split(",") if s.strip()]
    if unknown := set(sections) - set(SECTIONS):
        parser.error(f"--sections: unknown {', '.join(sorted(unknown))}; known: {SECTIONS}")
    if args.instructions:
        count_instructions(min(args.n, 300), sections)
        return
    if args.only_e2e is not None:  # what --instructions --sections e2e runs under valgrind
        only_e2e(args.only_e2e, args.n, args.pack)
        return
    url = os.environ.get("ZHENSHEN_TEST_PG_URL")
    if args.only is not None:  # one variant, once: what --instructions runs under valgrind
        items = prepare(args.n)
        gc.collect()
        gc.freeze()
        if args.only != "none":
            with tempfile.TemporaryDirectory() as folder:
                timed(sqlite_store(Path(folder), args.only), items, count=False)
        return
    if "store" in sections:
        store_section(args.n, args.rounds, url)
    if "e2e" in sections or "cli" in sections:
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "orders.jsonl"
            write_orders(source, args.e2e_n)
            if "e2e" in sections:
                e2e_section(source, args.e2e_n, args.e2e_rounds, url)
            if "cli" in sections:
                cli_section(source, args.e2e_n, args.cli_rounds, url)
    if not url:
        print("PostgreSQL: skipped (set ZHENSHEN_TEST_PG_URL)")


def store_section(n: int, rounds: int, url: str | None) -> None:
    """The storage layer alone: ``ingest_many`` of prepared cases."""
    items = prepare(n)
    gc.collect()
    gc.freeze()  # the inputs stay; the collector looks only at what ingesting them makes
    title = f"ingest_many of {n:,} cases (3 events each), batches of {BATCH}"
    with tempfile.TemporaryDirectory() as folder:
        compare(
            f"SQLite: {title}",
            rounds,
            lambda variant: timed(sqlite_store(Path(folder), variant), items),
        )
    if url:

        def pg_run(variant: str) -> Run:
            store, schema = pg_store(url, variant)
            try:
                return timed(store, items)
            finally:
                drop(url, schema)

        compare(f"PostgreSQL: {title}", rounds, pg_run)
    gc.unfreeze()  # the cases go with this call; the sections after it make their own


# --- end to end: what `zhenshen ingest` does -----------------------------------------------


def write_orders(path: Path, n: int) -> None:
    """``n`` generated work orders as JSON Lines, with the store section's personal data: a
    requester with a name and a mobile number each, a phone number (one order in four) or an
    ID number (another one in four) in the text."""
    from zhenshen_chengdu_gaoxin.corpus import generate_cases

    with path.open("w", encoding="utf-8") as out:
        for i, order in enumerate(generate_cases(n, seed=1)):
            phone = f"139{i:08d}"
            if i % 4 == 1:
                order["content"] += f"联系电话{phone[:3]}-{phone[3:7]}-{phone[7:]}。"
            elif i % 4 == 3:
                order["content"] += "身份证号码11010519491231002X。"
            name = SURNAMES[i % 10] + "先生"
            order["requester"] = {"anonymous": False, "name": name, "phone": phone}
            out.write(json.dumps(order, ensure_ascii=False) + "\n")


def ingest_file(
    store: CaseStore, source: Path, host: PluginHost, pack: ResolvedPack | None, desk: Desk | None
) -> Run:
    """``zhenshen ingest jsonl SOURCE [--pack]`` in process: the call the command makes
    (``ingest_source`` without a pack, ``Desk.ingest`` with one), timed; the store is closed
    after counting its cases."""
    start, cpu = time.perf_counter(), time.process_time()
    if pack is None:
        summary = ingest_source(str(source), channel="jsonl", store=store, host=host)
    else:
        assert desk is not None
        desk = Desk(store, pack=pack, host=host, calendar=desk.calendar)
        summary = desk.ingest("jsonl", str(source))
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    if summary.rejected:
        sys.exit(f"ingest rejected {len(summary.rejected)} records: {summary.rejected[0]}")
    stored = store.count()
    store.close()
    return Run(elapsed, used, stored)


def e2e_section(source: Path, n: int, rounds: int, url: str | None) -> None:
    host = PluginHost(PluginConfig(autoload=False))
    pack = load_pack(PACK)
    with tempfile.TemporaryDirectory() as folder:
        desk = _warm_up(Path(folder), host, pack)
        for with_pack in (None, pack):
            what = "--pack cn.chengdu.gaoxin" if with_pack else "no pack"
            title = f"zhenshen ingest jsonl, {what}: {n:,} work orders"
            compare(
                f"SQLite: {title}",
                rounds,
                lambda v, p=with_pack: ingest_file(
                    sqlite_store(Path(folder), v), source, host, p, desk
                ),
            )
            if not url:
                continue

            def pg_run(variant: str, p: ResolvedPack | None = with_pack) -> Run:
                store, schema = pg_store(url, variant)
                try:
                    return ingest_file(store, source, host, p, desk)
                finally:
                    drop(url, schema)

            compare(f"PostgreSQL: {title}", rounds, pg_run)


def _warm_up(folder: Path, host: PluginHost, pack: ResolvedPack) -> Desk:
    """A desk whose calendar is built (the command reads it before it opens the store), after
    every variant has ingested a few orders with and without the pack, untimed: what the first
    ingest of a process loads and compiles (the channel, the pack's rules, the detector's
    patterns) would otherwise be charged to the variant that runs first."""
    desk = Desk(SQLiteStore(folder / "calendar.db", pii_key=KEY), pack=pack, host=host)
    _ = desk.calendar
    desk.store.close()
    warmup = folder / "warmup.jsonl"
    write_orders(warmup, 50)
    for variant in VARIANTS:
        for with_pack in (None, pack):
            ingest_file(sqlite_store(folder, variant), warmup, host, with_pack, desk)
    return desk


# --- the command as a subprocess -----------------------------------------------------------


def cli_section(source: Path, n: int, rounds: int, url: str | None) -> None:
    """``zhenshen ingest`` run as an operator runs it, in a fresh process each time."""
    zhenshen = shutil.which("zhenshen", path=str(Path(sys.executable).parent))
    if zhenshen is None:
        print("cli: skipped (no zhenshen command beside this Python)")
        return
    with tempfile.TemporaryDirectory() as folder:
        for pack in (None, "cn.chengdu.gaoxin"):
            what = f"--pack {pack}" if pack else "no pack"
            title = f"zhenshen ingest jsonl as a subprocess, {what}: {n:,} work orders"

            def sqlite_run(variant: str, p: str | None = pack) -> Run:
                target = Path(folder) / f"{secrets.token_hex(4)}.db"
                run = run_cli(zhenshen, source, f"sqlite:///{target}", variant, p, folder)
                with SQLiteStore(target, pii_key=KEY) as store:
                    return run._replace(stored=store.count())

            compare(f"SQLite: {title}", rounds, sqlite_run, ("encrypted",))
            if not url:
                continue

            def pg_run(variant: str, p: str | None = pack) -> Run:
                from zhenshen_postgres import PostgresStore

                schema = "bench_" + secrets.token_hex(6)
                target = f"{url}{'&' if '?' in url else '?'}schema={schema}"
                try:
                    run = run_cli(zhenshen, source, target, variant, p, folder)
                    store = PostgresStore(target, pii_key=KEY)
                    try:
                        return run._replace(stored=store.count())
                    finally:
                        store.close()
                finally:
                    drop(url, schema)

            compare(f"PostgreSQL: {title}", rounds, pg_run, ("unencrypted", "encrypted"))


def run_cli(
    zhenshen: str, source: Path, store: str, variant: str, pack: str | None, cwd: str
) -> Run:
    """One ``zhenshen ingest`` process: wall time from start to exit, and its CPU time. The
    variant is the environment an operator would set: ``ZHENSHEN_PII_KEY`` for *encrypted*,
    no key at all for *unencrypted* (PostgreSQL only)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ZHENSHEN_PII_", "ZHENSHEN_PACK"))
    }
    if variant == "encrypted":
        env["ZHENSHEN_PII_KEY"] = base64.b64encode(KEY.secret).decode()
    command = [zhenshen, "ingest", "jsonl", str(source), "--store", store]
    if pack is not None:
        command += ["--pack", pack]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)}: exit {done.returncode}\n{done.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Run(elapsed, cpu, 0)


def count_instructions(n: int, sections: Sequence[str]) -> None:
    """Instructions a case for each SQLite variant: the same script run under cachegrind with
    ``--only`` (``none`` prepares the cases and stores nothing: what the others have in common
    is subtracted). A count, not a time: Python's interpreter loop executes fewer instructions
    a cycle than SQLite's C, so the ratio of times is somewhat higher than this one; what it
    gives is a figure that does not move with the load, to tell a change's effect from noise.

    The ``e2e`` section the same way with ``--only-e2e``: ``none`` loads the pack, writes the
    orders and warms up as the others do, and ingests nothing."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("--instructions needs valgrind (Debian: apt-get install valgrind)")

    def per_case(only: str, *extra: str) -> dict[str, float]:
        counts = {
            v: _instructions(valgrind, [only, v, *extra, "--n", str(n)])
            for v in ("none", *VARIANTS)
        }
        return {v: (counts[v] - counts["none"]) / n for v in VARIANTS}

    def show(title: str, found: dict[str, float]) -> None:
        print(title)
        for v in VARIANTS:
            line = f"  {v:12s} {found[v]:12,.0f}   {found[v] / found['plain']:.2f}x plain"
            if v == "encrypted":
                line += f", {found[v] / found['unencrypted']:.2f}x unencrypted"
            print(line)

    if "store" in sections:
        show(
            f"SQLite: instructions a case, ingest_many of {n} cases (cachegrind)",
            per_case("--only"),
        )
    if "e2e" in sections:
        for pack in (False, True):
            what = "--pack cn.chengdu.gaoxin" if pack else "no pack"
            show(
                f"SQLite: instructions a work order, zhenshen ingest jsonl, {what}, {n} orders "
                "(cachegrind)",
                per_case("--only-e2e", *(["--pack"] if pack else [])),
            )


def _instructions(valgrind: str, arguments: list[str]) -> int:
    """The instructions this script executes with ``arguments``, counted by cachegrind."""
    run = subprocess.run(
        [valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, __file__, *arguments],
        capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )  # fmt: skip
    if run.returncode != 0:
        sys.exit(f"{' '.join(arguments)}: exit {run.returncode}\n{run.stderr[-3000:]}")
    found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if found is None:
        sys.exit(f"no instruction count in valgrind's output:\n{run.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def only_e2e(variant: str, n: int, with_pack: bool) -> None:
    """One variant of the e2e section, once, on SQLite (what ``--instructions`` counts): the
    pack loaded, the orders written and every variant warmed up on a few orders, as the timed
    section does; ``none`` stops there."""
    host = PluginHost(PluginConfig(autoload=False))
    pack = load_pack(PACK)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "orders.jsonl"
        write_orders(source, n)
        desk = _warm_up(Path(folder), host, pack)
        if variant != "none":
            store = sqlite_store(Path(folder), variant)
            ingest_file(store, source, host, pack if with_pack else None, desk)


if __name__ == "__main__":
    main()
