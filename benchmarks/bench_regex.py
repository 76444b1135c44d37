"""``matches`` on RE2 (``rules.regex.searcher``) vs Python's ``re``, the obvious alternative.

Two questions, in one run:

* what RE2 costs on ordinary district patterns over real-looking complaint texts (the
  generated corpus): searches per second, both engines, same answers required;
* what it saves on patterns that make a backtracking engine explode: seconds per search as
  the text grows, for ``re`` (stopped once one search passes ``--give-up`` seconds) and RE2.

    .venv/bin/python benchmarks/bench_regex.py [--texts 20000] [--give-up 2]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence

from zhenshen_chengdu_gaoxin.corpus import generate_cases

from zhenshen_core.rules.lang.regex import pattern_problem, searcher

ORDINARY = [
    r"\d{4}年",
    r"(停产|停业|无法经营)",
    r"贷款\d+万",
    r"^企业反映",
    r"(审批|许可).{0,12}(缓慢|迟迟)",
    r"[\u4e00-\u9fff]{2,4}有限公司",
]
HOSTILE: list[tuple[str, Callable[[int], str], list[int]]] = [
    ("(a|a)*c", lambda n: "a" * n, [16, 18, 20, 22, 24, 26, 10_000]),
    (r"\w*\w*\w*x", lambda n: "企" * n, [100, 200, 400, 800, 1_600, 20_000]),
]


def per_second(search: Callable[[str], object], texts: Sequence[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        search(text)
    return len(texts) / (time.perf_counter() - start)


def seconds(search: Callable[[str], object], text: str) -> float:
    start = time.perf_counter()
    search(text)
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--give-up", type=float, default=2.0, help="seconds per re search")
    args = parser.parse_args(argv)
    texts = [case["content"] for case in generate_cases(args.texts, seed=7)]
    mean = sum(map(len, texts)) / len(texts)
    print(f"{len(texts):,} generated complaint texts, {mean:.0f} characters on average")
    print(f"{'pattern':<32} {'re /s':>12} {'RE2 /s':>12} {'RE2 / re':>9} {'hits':>7}")
    for pattern in ORDINARY:
        assert pattern_problem(pattern) is None, pattern
        compiled, ours = re.compile(pattern).search, searcher(pattern)
        hits = sum(1 for t in texts if compiled(t))
        if hits != sum(1 for t in texts if ours(t)):
            raise SystemExit(f"RE2 and re disagree on {pattern!r}")
        slow, fast = per_second(compiled, texts), per_second(ours, texts)
        print(f"{pattern:<32} {slow:>12,.0f} {fast:>12,.0f} {fast / slow:>8.2f}x {hits:>7,}")
    print()
    print(f"{'pattern':<14} {'text length':>11} {'re s':>10} {'RE2 s':>10}")
    for pattern, make, sizes in HOSTILE:
        compiled, ours = re.compile(pattern).search, searcher(pattern)
        gave_up = False
        for size in sizes:
            text = make(size)
            slow = "gave up" if gave_up else f"{seconds(compiled, text):10.4f}"
            if not gave_up and float(slow) > args.give_up:
                gave_up = True
            print(f"{pattern:<14} {size:>11,} {slow:>10} {seconds(ours, text):>10.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
