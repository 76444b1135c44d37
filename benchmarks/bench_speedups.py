"""The speed pairs: each second implementation kept for speed, against the one it duplicates.

Five jobs were once done twice, the second time faster (``docs/explanation/speedups.md``).
A second implementation stays only where it saves more than about 50 ms on a documented
workload; this script measures each pair in one run, same inputs, interleaved rounds, best of
``--repeat``:

* ``yaml``: pack YAML read by libyaml (``pack.yaml_fast``) or by ruamel.yaml alone —
  ``load_pack`` of the reference pack (what ``zhenshen check``, ``eval`` and ``test`` do first),
  and of a generated 1,000-rule pack;
* ``tables``: the expression parser from the saved LALR tables (``lang/grammar_tables.json``) or
  built from the grammar — in a fresh process each time, as every command starts;
* ``projection``: the fact view restricted to the fields a pack reads (``FactProjection``) or the
  whole view (``fact_view``) — the compiled engine on 20,000 generated cases, the reference pack;
* ``record``: ``zhenshen diff``'s raw-record reading (``RecordProjection``) or every record
  validated (``--validate-all``) — 20,000 cases, the 100-rule pack pair of bench_diff.py, 1 job;
* ``json``: decision JSON written straight from the combiner (``evaluate_json``) or through the
  ``Decision`` model (``evaluate(case).to_json()``) — 20,000 cases, the reference pack.

    .venv/bin/python benchmarks/bench_speedups.py [--cases 20000] [--repeat 3] [--only yaml,json]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "cn.chengdu.gaoxin"


def best(repeat: int, *runs: Callable[[], Any]) -> list[float]:
    """Seconds of each run, best of ``repeat`` rounds, the runs interleaved in each round
    (after one untimed round: imports, the plugin host and lazily built parts are paid once)."""
    for run in runs:
        run()
    times = [float("inf")] * len(runs)
    for _ in range(repeat):
        for i, run in enumerate(runs):
            started = time.perf_counter()
            run()
            times[i] = min(times[i], time.perf_counter() - started)
    return times


def row(pair: str, workload: str, fast: float, slow: float) -> None:
    saved = (slow - fast) * 1000
    verdict = "keep" if saved > 50 else "drop"
    print(
        f"{pair:<11} {workload:<44} {fast * 1000:9.1f} {slow * 1000:9.1f} {saved:9.1f}  {verdict}"
    )


def bench_yaml(repeat: int) -> None:
    from zhenshen_core.rules import load_pack
    from zhenshen_core.rules.pack import yaml_fast

    def with_ruamel(load: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            original = yaml_fast.located
            yaml_fast.located = lambda text, name: None  # type: ignore[assignment]
            try:
                return load()
            finally:
                yaml_fast.located = original

        return run

    def reference() -> Any:
        return load_pack(REFERENCE)

    fast, slow = best(repeat, reference, with_ruamel(reference))
    row("yaml", f"load_pack {REFERENCE}", fast, slow)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_diff import make_packs

    with tempfile.TemporaryDirectory() as tmp:
        old, _ = make_packs(Path(tmp), 1000)

        def big() -> Any:
            return load_pack(old)

        fast, slow = best(repeat, big, with_ruamel(big))
        row("yaml", "load_pack of a generated 1,000-rule pack", fast, slow)


def bench_tables(repeat: int) -> None:
    """Each build in a fresh process (as every command pays it: lark's grammar compiler is
    imported only to build), timed inside that process after the imports both ways share, so
    process start-up noise stays out of the figure."""
    timed = (
        "import time\n"
        "from lark import Lark\n"
        "from zhenshen_core.rules.lang import parser\n"
        "started = time.perf_counter()\n"
        "{build}\n"
        "print(time.perf_counter() - started)\n"
    )
    saved = timed.format(build="parser._parser()")
    built = timed.format(build="Lark(parser.GRAMMAR, **parser.PARSER_OPTIONS)")

    def process(code: str) -> float:
        done = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
        return float(done.stdout)

    rounds = max(repeat, 5)
    fast = min(process(saved) for _ in range(rounds))
    slow = min(process(built) for _ in range(rounds))
    row("tables", "a fresh process builds the parser", fast, slow)


def _cases(n: int) -> list[Any]:
    from zhenshen_chengdu_gaoxin.corpus import generate_cases

    from zhenshen_core.model import load_case

    return [load_case(c) for c in generate_cases(n, seed=5)]


def bench_projection(repeat: int, cases: list[Any]) -> None:
    import functools

    from zhenshen_core.rules import CompiledEngine, MatcherEngine, load_pack
    from zhenshen_core.rules.engines.compiled import CompiledMatcher
    from zhenshen_core.rules.engines.facts import fact_view

    pack = load_pack(REFERENCE)

    def projected() -> None:
        engine = CompiledEngine(pack)
        for case in cases:
            engine.evaluate_json(case)

    def whole() -> None:
        view = functools.partial(fact_view, dates=pack.date_facts)
        engine = MatcherEngine(pack, CompiledMatcher(pack), view=view)
        for case in cases:
            engine.evaluate_json(case)

    fast, slow = best(repeat, projected, whole)
    row("projection", f"compiled engine, {len(cases):,} cases, {REFERENCE}", fast, slow)


def bench_record(repeat: int, n: int) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_diff import make_corpus, make_packs

    from zhenshen_core.rules.impact import PackRef, diff_corpus

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old, new = make_packs(root, 100)
        corpus = root / "corpus.jsonl"
        make_corpus(corpus, n, min(n, 50_000))
        refs = PackRef(str(old)), PackRef(str(new))

        def raw() -> Any:
            return diff_corpus(*refs, str(corpus), jobs=1)

        def validated() -> Any:
            return diff_corpus(*refs, str(corpus), jobs=1, validate_all=True)

        assert raw().summary.as_dict() == validated().summary.as_dict()
        fast, slow = best(repeat, raw, validated)
        row("record", f"zhenshen diff, {n:,} cases, 100 rules, 1 job", fast, slow)


def bench_json(repeat: int, cases: list[Any]) -> None:
    from zhenshen_core.rules import CompiledEngine, load_pack

    pack = load_pack(REFERENCE)

    def direct() -> None:
        engine = CompiledEngine(pack)
        for case in cases:
            engine.evaluate_json(case)

    def through_model() -> None:
        engine = CompiledEngine(pack)
        for case in cases:
            engine.evaluate(case).to_json().encode()

    fast, slow = best(repeat, direct, through_model)
    row("json", f"compiled engine, {len(cases):,} cases, {REFERENCE}", fast, slow)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="yaml,tables,projection,record,json")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; best of {args.repeat}")
    print(f"{'pair':<11} {'workload':<44} {'fast ms':>9} {'other ms':>9} {'saved ms':>9}  verdict")
    if "yaml" in only:
        bench_yaml(args.repeat)
    if "tables" in only:
        bench_tables(args.repeat)
    cases = _cases(args.cases) if only & {"projection", "json"} else []
    if "projection" in only:
        bench_projection(args.repeat, cases)
    if "record" in only:
        bench_record(args.repeat, args.cases)
    if "json" in only:
        bench_json(args.repeat, cases)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
