"""Masking in every output: what it costs a case shown and a decision made.

    .venv/bin/python benchmarks/bench_mask.py [--cases 20000] [--seed 16] [--repeat 3]

Seeded, generated work orders (the corpus generator's cases, their content replaced by
``bench_pii``'s ~200-character texts, so one in six carries a phone number, an ID number, a
card or an e-mail address and one in four names its requester) with requesters whose name and
phone are set. Two questions, each answered against the obvious alternative in the same run:

* **A case shown** (``cases show --format json``, the HTTP service, a notifier): the stored JSON
  form (``dump_case``, what was printed before masking), ``mask_case`` (fields by key, the
  requester's name looked for, everything else by detection), ``masked_case`` (the same as a
  ``Case`` again, for letters and notifiers), and the obvious way: ``mask_text`` over the whole
  JSON text of the case (one detector pass; it cannot mask a name field or an address, so it is
  a lower bound, not an equal).
* **A decision made**: the compiled engine on the reference pack, ``evaluate_json`` with the
  trace masked (what every decision does now) against the same engine with the trace's
  masking replaced by the identity (what it did before): the cost of never copying personal
  data into ``fired[].values``.

Timings are the best of ``--repeat`` passes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pii import _mobile, generate_orders  # noqa: E402

from zhenshen_core import Case, load_pack  # noqa: E402
from zhenshen_core.model.lifecycle import dump_case  # noqa: E402
from zhenshen_core.privacy import mask_case, mask_text, masked_case  # noqa: E402
from zhenshen_core.rules import CompiledEngine  # noqa: E402

PACK = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"


def make_cases(count: int, seed: int) -> list[Case]:
    from zhenshen_chengdu_gaoxin.corpus import generate_cases

    rng = random.Random(seed)
    orders = generate_orders(count, seed)
    cases = []
    for data, (text, name) in zip(generate_cases(count, seed=seed), orders, strict=True):
        data["content"] = text
        data["requester"] = {
            "name": name,
            "phone": _mobile(rng),
            "confidential": rng.random() < 0.05,
        }
        cases.append(Case.model_validate(data))
    return cases


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def table(title: str, rows: Sequence[tuple[str, float]], count: int, unit: str) -> None:
    print(title)
    print(f"  {'contender':<44} {'seconds':>8} {unit + '/second':>16} {'time':>7}")
    base = rows[0][1]
    for name, seconds in rows:
        print(f"  {name:<44} {seconds:8.3f} {count / seconds:16,.0f} {seconds / base:6.1f}x")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    cases = make_cases(args.cases, args.seed)
    average = sum(len(c.content) for c in cases) / len(cases)
    print(f"{len(cases):,} generated cases, content {average:.0f} characters on average")

    # the masked forms must hide every requester phone: checked once, before timing
    for case in cases[:2000]:
        assert case.requester is not None and case.requester.phone
        assert case.requester.phone not in json.dumps(mask_case(case), ensure_ascii=False)

    shown = [
        (
            "dump_case (unmasked, the old output)",
            best_of(args.repeat, lambda: [dump_case(c) for c in cases]),
        ),
        ("mask_case", best_of(args.repeat, lambda: [mask_case(c) for c in cases])),
        (
            "masked_case (a Case again)",
            best_of(args.repeat, lambda: [masked_case(c) for c in cases]),
        ),
        (
            "mask_text over the JSON text (lower bound)",
            best_of(
                args.repeat,
                lambda: [mask_text(json.dumps(dump_case(c), ensure_ascii=False)) for c in cases],
            ),
        ),
    ]
    table("a case shown", shown, len(cases), "cases")

    pack = load_pack(PACK)
    masked_engine = CompiledEngine(pack)
    plain_engine = CompiledEngine(pack)
    plain_engine.combiner._private = lambda name, value, requester: value  # type: ignore[attr-defined]
    for case in cases[:2000]:
        out = masked_engine.evaluate_json(case).decode()
        assert case.requester is not None and case.requester.phone not in out
    for engine in (masked_engine, plain_engine):  # warm: the decision cache filled once
        for case in cases:
            engine.evaluate_json(case)
    decided = [
        (
            "evaluate_json, trace masked (now)",
            best_of(args.repeat, lambda: [masked_engine.evaluate_json(c) for c in cases]),
        ),
        (
            "evaluate_json, trace not masked (before)",
            best_of(args.repeat, lambda: [plain_engine.evaluate_json(c) for c in cases]),
        ),
    ]
    table("a decision made (reference pack, warm)", decided, len(cases), "decisions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
