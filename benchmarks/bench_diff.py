"""Benchmark ``zhenshen diff``: a corpus against a 100-rule pack and its edited version.

Compares, in one run:

* **naive** — the obvious single-process loop: the built-in JSONL intake reader, ``load_case``,
  ``CompiledEngine.evaluate`` with both packs, compare the JSON forms (``naive_diff``);
* **diff, 1 job, no screen** — ``diff_corpus`` evaluating both packs for every case;
* **diff, 1 job** — with the screen (only cases a differing rule can match are evaluated twice);
* **diff, all cores** — the default: screen plus a process pool over streamed chunks, on the
  full corpus.

The baselines run on a prefix of the corpus (``--sample``) and are projected to the full size;
the default run is measured on the whole corpus. Changed-case counts of all variants are
checked against each other on the prefix. Peak memory is the largest resident set of the
parent and of any worker (``ru_maxrss``).

    .venv/bin/python benchmarks/bench_diff.py                 # 1,000,000 cases, 100 rules
    .venv/bin/python benchmarks/bench_diff.py --cases 200000 --sample 10000
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
from itertools import islice
from pathlib import Path

from zhenshen_chengdu_gaoxin.corpus import generate_cases

DOMAINS = [
    "tax_service",
    "social_security",
    "policy_redemption",
    "market_entry_operation",
    "utilities",
    "construction_permit",
    "financing",
    "credit_repair",
    "planning_title_proof",
    "ip_protection",
]
DEPARTMENTS = [
    "gxq.scjgj",
    "gxq.jfj",
    "gxq.swj",
    "gxq.rsj",
    "gxq.gycsjsj",
    "gxq.czj",
    "gxq.gtj",
    "gxq.zwfw",
    "gxq.sthcsglj",
    "gxq.kjj",
]
WORDS = [
    "无法经营",
    "停产",
    "补贴",
    "兑现",
    "贷款",
    "信用",
    "许可",
    "权属",
    "历史遗留",
    "拖欠",
    "多次",
    "投诉",
    "不满",
    "损失",
    "审批",
    "延期",
    "社保",
    "发票",
    "退税",
    "水电",
]
TAGS = ["独角兽企业", "高新技术企业", "新经济企业", "科技型中小企业", "专精特新", "瞪羚企业"]
APPEALS = ["consult", "help", "complaint", "report", "suggestion"]


def _rule(i: int, rng: random.Random) -> str:
    kind = i % 6
    domain = DOMAINS[i % len(DOMAINS)]
    words = rng.sample(WORDS, 2)
    if kind == 0:
        when = f'domain == "{domain}" and content contains_any ["{words[0]}", "{words[1]}"]'
    elif kind == 1:
        when = f'domain == "{domain}" and facts.prior_contacts >= {1 + i % 3}'
    elif kind == 2:
        when = f'appeal_type == "{APPEALS[i % len(APPEALS)]}" and content contains "{words[0]}"'
    elif kind == 3:
        when = f'enterprise.tags contains "{TAGS[i % len(TAGS)]}" and domain == "{domain}"'
    elif kind == 4:
        when = f'count(departments) >= {2 + i % 2} and domain == "{domain}"'
    else:
        when = f'domain == "{domain}" and facts.amount_wan >= {100 * (1 + i % 5)}'
    level = ["S2", "S3", "S4"][i % 3]
    dept = DEPARTMENTS[i % len(DEPARTMENTS)]
    then = [f"      severity: {{at_least: {level}}}", f"      tags: [t{i % 17}]"]
    if i % 4 == 0:
        then.append(f"      departments: {{lead: {dept}}}")
    if i % 9 == 0:
        then.append("      experts: {suggest: [think_tank]}")
    return (
        f"  - id: r{i:03d}\n    priority: {i % 5}\n    when: '{when}'\n    then:\n"
        + "\n".join(then)
        + "\n"
    )


def write_pack(folder: Path, pack_id: str, rules: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    departments = "\n".join(f"  - {{id: {d}}}" for d in DEPARTMENTS)
    domains = "\n".join(f"  - {{id: {d}}}" for d in DOMAINS)
    (folder / "pack.yaml").write_text(
        f"schema: 1\nid: {pack_id}\nversion: '1'\nseverity_levels: [S1, S2, S3, S4]\n"
        f"default_tier: general\ndefault_chair: office_head\ndepartments:\n{departments}\n"
        f"experts:\n  - {{id: lawyer}}\n  - {{id: think_tank}}\ndomains:\n{domains}\n",
        encoding="utf-8",
    )
    table = (
        "tables:\n  - id: tier\n    stage: route\n    hit: first\n"
        "    inputs: [decision.severity, count(departments)]\n    outputs: [tier, chair]\n"
        "    rows:\n"
        '      - [">= S3", "-", major, leader_in_charge]\n'
        '      - ["-", ">= 3", major, leader_in_charge]\n'
        '      - ["-", "-", general, office_head]\n'
    )
    (folder / "rules.yaml").write_text("rules:\n" + "".join(rules) + table, encoding="utf-8")


def make_packs(root: Path, n_rules: int) -> tuple[Path, Path]:
    rng = random.Random(7)
    rules = [_rule(i, rng) for i in range(n_rules)]
    old, new = root / "old", root / "new"
    write_pack(old, "bench", rules)
    edited = list(rules)
    edited[3] = edited[3].replace("at_least: S2", "at_least: S3")  # raise one rule's severity
    edited[10] = edited[10].replace("facts.prior_contacts >= 2", "facts.prior_contacts >= 1")
    del edited[20]  # remove one rule
    edited.append(_rule(n_rules + 1, random.Random(99)).replace(f"r{n_rules + 1:03d}", "new.rule"))
    write_pack(new, "bench", edited)
    return old, new


def make_corpus(path: Path, n: int, unique: int) -> None:
    """``unique`` generated cases, repeated to ``n`` lines (generation is slower than diff)."""
    import json

    lines = [json.dumps(c, ensure_ascii=False) + "\n" for c in generate_cases(unique, seed=3)]
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            out.write(lines[i % unique])


def peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument(
        "--sample", type=int, default=20_000, help="prefix used for the single-process baselines"
    )
    parser.add_argument("--unique", type=int, default=50_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    from zhenshen_core.rules.impact import PackRef, diff_corpus, naive_diff

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old, new = make_packs(root, args.rules)
        corpus, sample = root / "corpus.jsonl", root / "sample.jsonl"
        started = time.perf_counter()
        make_corpus(corpus, args.cases, min(args.unique, args.cases))
        with corpus.open(encoding="utf-8") as src, sample.open("w", encoding="utf-8") as dst:
            dst.writelines(islice(src, args.sample))
        print(
            f"corpus: {args.cases:,} cases ({args.unique:,} unique), pack: {args.rules} rules "
            f"+ a 3-row tier table; prepared in {time.perf_counter() - started:.1f}s; "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        )
        old_ref, new_ref = PackRef(str(old)), PackRef(str(new))
        n = args.sample

        started = time.perf_counter()
        naive = naive_diff(old_ref.load(), new_ref.load(), str(sample))
        naive_s = time.perf_counter() - started

        rows = [("naive loop, 1 process", n, naive_s, naive.changed)]
        from zhenshen_core.rules import impact

        for label, screen in (("diff, 1 job, no screen", False), ("diff, 1 job", True)):
            started = time.perf_counter()
            result = diff_corpus(old_ref, new_ref, str(sample), jobs=1, screen=screen)
            rows.append((label, n, time.perf_counter() - started, result.summary.changed))

        cpu_before = os.times()
        started = time.perf_counter()
        full = diff_corpus(old_ref, new_ref, str(corpus), jobs=args.jobs)
        full_s = time.perf_counter() - started
        cpu_after = os.times()
        cpu = sum(cpu_after[i] - cpu_before[i] for i in range(4))
        rows.append((f"diff, {args.jobs} jobs (default)", args.cases, full_s, full.summary.changed))

        print(
            f"\n{'variant':<28} {'cases':>10} {'seconds':>9} {'cases/s':>9} "
            f"{'1M proj. s':>10} {'changed':>8}"
        )
        for label, count, seconds, changed in rows:
            rate = count / seconds
            print(
                f"{label:<28} {count:>10,} {seconds:>9.2f} {rate:>9,.0f} "
                f"{1_000_000 / rate:>10.1f} {changed:>8,}"
            )
        counts = {c for label, count, _, c in rows if count == n}
        print(f"\nchanged cases agree on the {n:,}-case prefix: {len(counts) == 1}")
        share = full.summary.changed / max(full.summary.cases, 1)
        print(
            f"changed on the full corpus: {full.summary.changed:,} ({100 * share:.1f}%); "
            f"screen mode: {impact.screen_for(old_ref.load(), new_ref.load()).mode}"
        )
        print(
            f"default run: {cpu:.1f} CPU seconds in {full_s:.1f} s wall = {cpu / full_s:.2f} "
            f"cores busy on average (load from other processes shares the machine)"
        )
        own, children = peak_mb()
        print(f"peak RSS: parent {own:.0f} MB, largest worker {children:.0f} MB")


if __name__ == "__main__":
    main()
