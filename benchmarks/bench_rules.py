"""Compiled engine vs the obvious alternatives, on generated packs of N = 10, 100, 1000 rules.

In one run, on the same seeded pack and cases:

* ``compiled``   — ``CompiledEngine``: closures + value index (the default engine);
* ``closures``   — the same closures without the index (every rule evaluated for every case);
* ``naive``      — ``InterpretedEngine``: walks every rule's AST for every case (the "loop over
  every rule" evaluator); on a subset of cases when N is large, to keep the run short;
* ``durable``    — ``DurableEngine`` when importable (``--durable``; see bench_durable.py for
  the durable-focused comparison with raw durable_rules).

All contenders must produce identical decision JSON on the measured cases, or the run stops.
Every engine is timed on cases it has never seen: *cold* (a new engine) and *warm* (an engine
that has already decided another sample of the same distribution, as a long-running service
has); timing the same cases twice would only measure the decision cache.

Then ``zhenshen eval`` runs end to end over JSONL files of 20,000 and 100,000 cases (parse,
validate, decide, print) in a subprocess, next to the same command on an empty input (process
start, imports and pack load), so the fixed cost and the streaming rate are both visible.

Rules look like district rules: ``domain == D and content contains_any [words]`` (indexable),
``appeal_type in [...] and returns >= k``, ``tags contains T``, ``enterprise.size == S and
facts.amount >= X``, some unindexable ``content contains W`` and route/deadline rules on
``decision.*``; priorities collide on purpose.

    .venv/bin/python benchmarks/bench_rules.py [--cases 20000] [--sizes 10,100,1000] [--durable]
        [--e2e-cases 20000,100000] [--no-e2e]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from zhenshen_core.model import Case
from zhenshen_core.rules import CompiledEngine, InterpretedEngine, ResolvedPack, load_pack

APPEALS = ["consult", "help", "complaint", "report", "suggestion", "praise"]
SIZES = ["micro", "small", "medium", "large", "unknown"]
DEPARTMENTS = [f"dep.{i:02d}" for i in range(12)]


class Vocabulary:
    """Names the rules and cases draw on. It grows with N, the way real packs grow: a
    1,000-rule pack covers more domains, programmes, streets and keywords than a 100-rule
    pack, rather than stacking ten times as many rules on the same case. So the number of
    rules that *fire* per case stays about the same, and the benchmark measures matching."""

    def __init__(self, n: int) -> None:
        self.domains = [f"domain_{i:03d}" for i in range(max(20, n // 5))]
        self.words = [f"词{i:04d}" for i in range(max(300, 3 * n))]
        self.tags = [f"标签{i:03d}" for i in range(max(30, n // 3))]
        self.programmes = [f"p{i:03d}" for i in range(max(10, n // 10))]
        self.streets = [f"街道{i:03d}" for i in range(max(10, n // 10))]


LEVELS = ["S1", "S2", "S3", "S4"]
PERIODS = ["2 working days", "15 working days", "30 working days", "1 month"]


def make_rule(i: int, rng: random.Random, v: Vocabulary) -> dict[str, Any]:
    shape = rng.random()
    if shape < 0.45:
        words = ", ".join(f'"{w}"' for w in rng.sample(v.words, 3))
        when = f'domain == "{rng.choice(v.domains)}" and content contains_any [{words}]'
    elif shape < 0.65:
        appeals = ", ".join(f'"{a}"' for a in rng.sample(APPEALS, 2))
        when = (
            f'location.street == "{rng.choice(v.streets)}" and appeal_type in [{appeals}] '
            f"and returns >= {rng.randint(0, 2)}"
        )
    elif shape < 0.8:
        when = f'tags contains "{rng.choice(v.tags)}"'
    elif shape < 0.9:
        when = (
            f'facts.programme == "{rng.choice(v.programmes)}" and '
            f"facts.amount >= {rng.randint(0, 1_000_000)}"
        )
    else:
        when = f'content contains "{rng.choice(v.words)}"'
    then: dict[str, Any] = {"tags": [rng.choice(v.tags)]}
    if rng.random() < 0.5:
        then["severity"] = {"at_least": rng.choice(LEVELS)}
    if rng.random() < 0.3:
        then["departments"] = {"lead": rng.choice(DEPARTMENTS), "co": rng.sample(DEPARTMENTS, 2)}
    if rng.random() < 0.2:
        then["experts"] = {"require": ["lawyer"], "reason": "需法律意见"}
    stage = "classify"
    if rng.random() < 0.1:
        stage = "route"
        when = f'decision.severity >= "{rng.choice(LEVELS)}" and ' + when
        then = {"tier": rng.choice(["general", "major"]), "tags": [rng.choice(v.tags)]}
    elif rng.random() < 0.05:
        stage = "deadline"
        then = {"deadlines": {"resolve": rng.choice(PERIODS)}}
    return {
        "id": f"rule.{i:04d}",
        "stage": stage,
        "priority": rng.randint(0, 3),
        "when": when,
        "then": then,
    }


def write_pack(n: int, folder: Path, rng: random.Random, vocab: Vocabulary) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_unicode = True
    pack = {
        "schema": 1,
        "id": f"bench-{n}",
        "version": "1",
        "severity_levels": LEVELS,
        "default_tier": "general",
        "default_chair": "office_head",
        "departments": [{"id": d} for d in DEPARTMENTS],
        "experts": [{"id": "lawyer"}],
        "domains": [{"id": d} for d in vocab.domains],
    }
    rules = {
        "schema": 1,
        "rules": [make_rule(i, rng, vocab) for i in range(n)],
        "tables": [
            {
                "id": "tier",
                "stage": "route",
                "hit": "first",
                "inputs": ["decision.severity", "count(departments)"],
                "outputs": ["tier", "chair"],
                "rows": [
                    [">= S3", "-", "major", "leader_in_charge"],
                    ["-", ">= 3", "major", "leader_in_charge"],
                    ["-", "-", "general", "office_head"],
                ],
            }
        ],
    }
    with (folder / "pack.yaml").open("w", encoding="utf-8") as handle:
        yaml.dump(pack, handle)
    with (folder / "rules.yaml").open("w", encoding="utf-8") as handle:
        yaml.dump(rules, handle)
    return folder


def make_case_dicts(count: int, rng: random.Random, v: Vocabulary) -> list[dict[str, Any]]:
    start = datetime(2026, 3, 2, 9, 0)
    out = []
    for i in range(count):
        case: dict[str, Any] = {
            "external_id": f"B{i:07d}",
            "channel": "hotline_12345",
            "received_at": (start + timedelta(minutes=i)).isoformat() + "+08:00",
            "appeal_type": rng.choice(APPEALS),
            "domain": rng.choice(v.domains),
            "content": "企业反映" + "，".join(rng.sample(v.words, 4)),
            "tags": rng.sample(v.tags, rng.randint(0, 2)),
            "departments": [{"id": d} for d in rng.sample(DEPARTMENTS, rng.randint(0, 3))],
            "location": {"district": "高新区", "street": rng.choice(v.streets)},
            "facts": {"amount": rng.randint(0, 1_000_000), "programme": rng.choice(v.programmes)},
        }
        if rng.random() < 0.7:
            case["enterprise"] = {"name": "某科技有限公司", "size": rng.choice(SIZES)}
        if rng.random() < 0.3:
            case["returns"] = [
                {"at": case["received_at"], "from_department": DEPARTMENTS[0]}
                for _ in range(rng.randint(1, 3))
            ]
        out.append(case)
    return out


def calibration() -> float:
    """Seconds for a fixed pure-Python loop: the machine's speed at the time. On a virtual
    machine it drifts (by a third over minutes here), and load average does not show it."""
    begin = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i * i
    return time.perf_counter() - begin


def _rate(evaluate: Callable[[Case], Any], cases: Sequence[Case]) -> float:
    gc.collect()
    begin = time.process_time()  # CPU time: the shared machine's load does not count
    for case in cases:  # decisions are dropped, as a streaming caller would
        evaluate(case)
    return len(cases) / (time.process_time() - begin)


def timed(
    factory: Callable[[], Any],
    cases: Sequence[Case],
    warm_up: Sequence[Case],
    repeat: int = 3,
) -> tuple[float, float, list[str]]:
    """(cold, warm) cases/second, and the decisions (JSON) of ``cases``.

    * cold: a new engine, one pass over ``cases`` (its decision cache fills as it goes);
    * warm: a new engine that has already decided ``warm_up`` (other cases from the same
      distribution), one pass over ``cases`` it has never seen: a long-running service.
      Best of ``repeat`` (each with a new engine). Never the same cases twice, which would
      only measure the cache.
    """
    gc.collect()
    gc.freeze()  # the pack and the input cases are long-lived: keep them out of GC scans
    engine = factory()
    cold = _rate(engine.evaluate, cases)
    decisions = [engine.evaluate(c).to_json() for c in cases]
    _close(engine)
    warm = 0.0
    for _ in range(repeat):
        engine = factory()
        for case in warm_up:
            engine.evaluate(case)
        warm = max(warm, _rate(engine.evaluate, cases))
        _close(engine)
    gc.unfreeze()
    return cold, warm, decisions


def _close(engine: Any) -> None:
    close = getattr(engine, "close", None)
    if close is not None:
        close()


def peak_mb(factory: Callable[[], Any], cases: Sequence[Case]) -> float:
    """Peak Python heap (tracemalloc) while building the engine and evaluating ``cases``."""
    gc.collect()
    tracemalloc.start()
    engine = factory()
    for case in cases:
        engine.evaluate(case)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    close = getattr(engine, "close", None)
    if close is not None:
        close()
    return peak / 2**20


def _run_eval(folder: Path, path: str) -> tuple[float, int]:
    """Seconds and decisions printed; output goes to a file, as ``> out.jsonl`` would (a pipe
    to this process would time the benchmark's own reading too)."""
    exe = Path(sys.executable).with_name("zhenshen")
    env = dict(os.environ, ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD="1")
    with tempfile.TemporaryFile() as out:
        begin = time.perf_counter()
        result = subprocess.run(
            [str(exe), "eval", "--pack", str(folder), "--input", path],
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
            check=False,
        )
        elapsed = time.perf_counter() - begin
        if result.returncode != 0:
            raise SystemExit(f"zhenshen eval failed: {result.stderr.decode()[:500]}")
        out.seek(0)
        return elapsed, sum(chunk.count(b"\n") for chunk in iter(lambda: out.read(1 << 20), b""))


def end_to_end(
    folder: Path, dicts: Sequence[dict[str, Any]], tmp: Path, repeat: int = 5
) -> tuple[float, float]:
    """Wall-clock seconds of ``zhenshen eval`` over ``dicts`` as JSONL (best of ``repeat``),
    and of the same command over an empty input (process start, imports, pack load)."""
    path = tmp / f"cases-{len(dicts)}.jsonl"
    path.write_text(
        "\n".join(json.dumps(d, ensure_ascii=False) for d in dicts) + "\n", encoding="utf-8"
    )
    _run_eval(folder, os.devnull)  # warm the file cache and imports
    start = min(_run_eval(folder, os.devnull)[0] for _ in range(repeat))
    best = float("inf")
    for _ in range(repeat):
        elapsed, lines = _run_eval(folder, str(path))
        if lines != len(dicts):
            raise SystemExit(f"zhenshen eval printed {lines} decisions for {len(dicts)} cases")
        best = min(best, elapsed)
    return best, start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument(
        "--naive-cases",
        type=int,
        default=2_000,
        help="cases for the naive interpreter (it is slow by design)",
    )
    parser.add_argument("--durable", action="store_true", help="also time DurableEngine")
    parser.add_argument("--no-e2e", action="store_true", help="skip zhenshen eval end to end")
    parser.add_argument(
        "--e2e-cases",
        default="20000,100000",
        help="stream lengths for zhenshen eval end to end (comma-separated)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    version = sys.version.split()[0]
    print(
        f"{args.cases:,} unseen cases per N; CPU time; one process; Python {version}. "
        "cold: a new engine; warm: an engine that has decided another "
        f"{args.cases:,} cases (best of 3)"
    )
    print("load average at start: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"calibration at start: {calibration():.3f} s")
    print(
        f"{'rules':>6} {'engine':<10} {'cases':>7} {'cold/s':>10} {'warm/s':>10} "
        f"{'vs naive':>9} {'peak MB':>8}"
    )
    results: dict[tuple[int, str], float] = {}
    e2e_vocab: Vocabulary | None = None
    e2e_sizes = [int(x) for x in args.e2e_cases.split(",") if x]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for n in sizes:
            vocab = Vocabulary(n)
            folder = write_pack(n, tmp / f"pack-{n}", random.Random(n), vocab)
            dicts = make_case_dicts(args.cases, random.Random(20260302), vocab)
            cases = [Case.model_validate(d) for d in dicts]
            warm_up = [
                Case.model_validate(d) for d in make_case_dicts(args.cases, random.Random(1), vocab)
            ]
            if n == 100 and not args.no_e2e:
                e2e_vocab = vocab  # the stream is made after the timings: no 100k dicts in memory
            pack: ResolvedPack = load_pack(folder, analyse=False)
            contenders: list[tuple[str, Callable[[], Any], Sequence[Case], int]] = [
                ("compiled", lambda p=pack: CompiledEngine(p), cases, 3),
                ("closures", lambda p=pack: CompiledEngine(p, indexed=False), cases, 1),
                ("naive", lambda p=pack: InterpretedEngine(p), cases[: args.naive_cases], 1),
            ]
            if args.durable:
                try:
                    from zhenshen_core.rules.engines.durable import DurableEngine
                except ImportError:
                    print("  (durable engine not importable; skipped)")
                else:
                    contenders.append(("durable", lambda p=pack: DurableEngine(p), cases, 1))
            reference: list[str] | None = None
            naive_rate = 0.0
            rows = []
            for name, factory, subset, repeat in contenders:
                # The naive interpreter has no decision cache: warming it up changes nothing.
                warm_set = warm_up if name != "naive" else []
                cold, warm, decisions = timed(factory, subset, warm_set, repeat=repeat)
                if reference is None:
                    reference = decisions
                elif decisions != reference[: len(decisions)]:
                    bad = next(
                        i
                        for i, (a, b) in enumerate(zip(decisions, reference, strict=False))
                        if a != b
                    )
                    raise SystemExit(
                        f"{name} disagrees with compiled at N={n}, case {bad}:\n"
                        f"{decisions[bad]}\n{reference[bad]}"
                    )
                if name == "naive":
                    naive_rate = warm
                memory = peak_mb(factory, subset[:2000])
                rows.append((name, len(subset), cold, warm, memory))
                results[(n, name)] = warm
            for name, count, cold, warm, memory in rows:
                lead = f"{warm / naive_rate:8.1f}x" if naive_rate else ""
                print(
                    f"{n:>6} {name:<10} {count:>7,} {cold:>10,.0f} {warm:>10,.0f} "
                    f"{lead:>9} {memory:>8.1f}"
                )
        if e2e_vocab is not None:
            e2e_dicts = make_case_dicts(max(e2e_sizes), random.Random(20260302), e2e_vocab)
            folder = tmp / "pack-100"
            print("zhenshen eval --pack <100 rules> --input cases.jsonl (wall clock, best of 5):")
            for count in e2e_sizes:
                elapsed, start = end_to_end(folder, e2e_dicts[:count], tmp)
                rate = count / elapsed
                results[(count, "e2e")] = rate
                print(
                    f"  {count:>7,} cases: {elapsed:5.2f} s = {rate:>7,.0f} cases/s including "
                    f"{start:.2f} s of process start and pack load; "
                    f"{count / (elapsed - start):>7,.0f} cases/s after it"
                )
    print("load average at end: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"calibration at end: {calibration():.3f} s")
    if (100, "compiled") in results and (1000, "compiled") in results:
        at_100, at_1000 = results[(100, "compiled")], results[(1000, "compiled")]
        slowdown = at_100 / at_1000
        print(
            f"targets: compiled (warm) >= 50,000/s at N=100: {at_100:,.0f} "
            f"({'met' if at_100 >= 50_000 else 'NOT met'}); slowdown 100→1000 <= 3x: "
            f"{slowdown:.2f}x ({'met' if slowdown <= 3 else 'NOT met'})"
        )
    for count in e2e_sizes:
        e2e = results.get((count, "e2e"))
        if e2e is not None:
            print(
                f"target: eval end to end >= 20,000/s over {count:,} cases: {e2e:,.0f} "
                f"({'met' if e2e >= 20_000 else 'NOT met'})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
