"""Working-day arithmetic: the precomputed index against two libraries, in one run.

    .venv/bin/python benchmarks/bench_calendar.py

Each contender answers the same queries (start day, n working days) from one fixed seed; the
answers are compared so the speed-up is between correct implementations only.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import chinese_calendar
import holidays

from zhenshen_core.deadlines import national_calendar

Query = tuple[date, int]


def queries(count: int, seed: int = 20260213) -> list[Query]:
    rng = random.Random(seed)
    first = date(2006, 1, 1).toordinal()  # avoid 2005-12-31, where chinesecalendar is wrong
    last = date(2025, 6, 30).toordinal()
    return [(date.fromordinal(rng.randint(first, last)), rng.randint(1, 60)) for _ in range(count)]


def timed(fn: Callable[[date, int], date], qs: list[Query]) -> tuple[float, list[date]]:
    start = time.perf_counter()
    out = [fn(d, n) for d, n in qs]
    return time.perf_counter() - start, out


def main() -> None:
    cal = national_calendar()
    cn = holidays.country_holidays("CN", years=range(2004, 2027))

    def holidays_loop(d: date, n: int) -> date:
        # the documented way with `holidays`: step day by day, test is_working_day
        while n:
            d += timedelta(days=1)
            if cn.is_working_day(d):
                n -= 1
        return d

    def cc_find_workday(d: date, n: int) -> date:
        # find_workday(0, x) is the first workday on or after x: shift to the legal rule
        return chinese_calendar.find_workday(n - 1, d + timedelta(days=1))

    big = queries(1_000_000)
    few, small = big[:2_000], big[:20_000]  # the libraries are too slow for a million
    t_index, r_index = timed(cal.add_working_days, big)
    t_cc, r_cc = timed(cc_find_workday, few)
    t_hol, r_hol = timed(holidays_loop, small)
    assert r_index[: len(few)] == r_cc == r_hol[: len(few)], "contenders disagree"
    assert r_index[: len(small)] == r_hol, "contenders disagree"
    rate_index = len(big) / t_index
    rate_cc = len(few) / t_cc
    rate_hol = len(small) / t_hol
    print(f"{'contender':42} {'queries':>9} {'adds/second':>14} {'index lead':>11}")
    print(f"{'zhenshen Calendar.add_working_days':42} {len(big):>9,} {rate_index:>14,.0f} {'':>11}")
    print(
        f"{'chinese_calendar.find_workday':42} {len(few):>9,} {rate_cc:>14,.0f} "
        f"{rate_index / rate_cc:>10,.0f}x"
    )
    print(
        f"{'holidays CN is_working_day loop':42} {len(small):>9,} {rate_hol:>14,.0f} "
        f"{rate_index / rate_hol:>10,.0f}x"
    )
    ok = rate_index >= 500_000 and rate_index >= 100 * max(rate_cc, rate_hol)
    print("targets (>= 500,000/s and >= 100x both):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
