"""Piped CLI tables: the plain layout against rich laying out the same table, in one run.

    .venv/bin/python benchmarks/bench_tables.py [ROWS]

Both render the ``cases list`` table of ROWS rows (default 50,000) at its natural width, as a
pipe gets it; the two texts must be equal (as a property test in tests/cli/test_tables.py
also checks), so the speed-up is between identical outputs.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from zhenshen_core.cli.cases import CASE_COLUMNS
from zhenshen_core.cli.output import render_table

TITLES = (
    "取得营业执照后无法办理危险化学品经营许可",
    "咨询产业园二期项目施工许可办理时限",
    "首台套装备奖励申报条件理解不一致",
)
DOMAINS = ("market_entry_operation", "construction_permit", "policy_redemption", "-")
STATUSES = ("received 已接收", "screening 甄别中", "routed 已转办", "closed 已办结")


def rows(count: int, seed: int = 13) -> list[tuple[str, ...]]:
    rng = random.Random(seed)
    return [
        (
            f"ZS{rng.getrandbits(64):016X}",
            f"2020-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} 09:{rng.randint(0, 59):02d}",
            rng.choice(STATUSES),
            rng.choice(DOMAINS),
            rng.choice(("gxq.scjgj", "gxq.jfj", "gxq.gycsjsj", "-")),
            rng.choice(TITLES)[: rng.randint(4, 20)],
        )
        for _ in range(count)
    ]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    table = rows(count)
    start = time.perf_counter()
    plain = render_table(CASE_COLUMNS, table, width=None)
    plain_s = time.perf_counter() - start
    start = time.perf_counter()
    wide = render_table(CASE_COLUMNS, table, width=10_000)  # rich, on a page wide enough
    rich_s = time.perf_counter() - start
    if plain != wide:
        sys.exit("the two layouts differ: no comparison")
    print(f"{count:,} rows of cases list, piped ({len(plain):,} characters)")
    print(f"{'layout':<28}{'seconds':>10}{'rows/second':>14}")
    print(f"{'plain (what a pipe gets)':<28}{plain_s:>10.2f}{count / plain_s:>14,.0f}")
    print(f"{'rich Table, wide page':<28}{rich_s:>10.2f}{count / rich_s:>14,.0f}")
    print(f"plain lead: {rich_s / plain_s:.1f}x")


if __name__ == "__main__":
    main()
