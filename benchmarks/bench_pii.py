"""Personal-data detection: the prefilter and one combined pattern, against the obvious way.

    .venv/bin/python benchmarks/bench_pii.py [--orders 50000] [--seed 16] [--repeat 3]

Seeded, generated 12345-style work orders of about 200 characters (the corpus generator's
text, padded with the sentences such orders carry: dates, amounts, order numbers). Most carry
no personal data; about one in six carries a phone number, a landline, an ID number, a bank
card or an e-mail address, and about one in four names its requester in the text. Each order
is searched with its requester's name. Contenders, on the same orders:

* ``detect_personal_data``: the prefilter (seven digits in a row or an at sign), then one
  combined pattern for the few orders that pass it, then the checks;
* the same combined pattern on every order, without the prefilter;
* that, without the lookahead for the characters a finding can start with that the combined
  pattern begins with;
* the obvious way: one ``re`` pattern per kind run over every order, every candidate checked,
  overlaps resolved afterwards.

All three must report the same spans for every order, or the run stops. Timings are the best
of ``--repeat`` passes over all the orders.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from stdnum import luhn
from stdnum.cn import ric
from zhenshen_chengdu_gaoxin.corpus import generate_cases

from zhenshen_core.privacy import PersonalDataKind, PersonalDataSpan, detect_personal_data
from zhenshen_core.privacy._checks import PROVINCES, is_bank_card, is_id_number, is_uscc
from zhenshen_core.privacy._detect import _landline_value, _numbers_and_emails, _with_names
from zhenshen_core.privacy._names import name_occurrences, usable_names
from zhenshen_core.privacy._patterns import (
    BANK_CARD_GROUPED,
    COMPACT,
    DIGIT_RUN,
    EMAIL,
    ID_NUMBER,
    LANDLINE,
    MOBILE,
    PREFILTER,
)

TARGET = 50_000
Detector = Callable[[str, Sequence[str]], list[PersonalDataSpan]]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉萍红鹏辉国志海燕"
#: Sentences work orders are padded with: dates, counts and amounts, none seven digits long.
PADDING = (
    "经多次与相关部门沟通，至今仍未得到明确答复。",
    "企业目前有员工{people}人，项目总投资约{amount}万元。",
    "此前已于{year}年{month}月{day}日通过热线反映过此事。",
    "相关材料已于{month}月{day}日全部提交至政务服务中心窗口。",
    "项目用地面积约{area}平方米，已取得不动产权证书。",
    "企业年产值约{amount}万元，因此事已停工{days}天。",
    "希望有关部门尽快协调解决，给企业一个明确的办理时限。",
    "据企业介绍，同类问题在园区内并非个例。",
)
#: Sentences with long numbers that are not personal data (order and contract numbers,
#: amounts in yuan): they pass the prefilter and must be checked and left alone.
NUMBERED = (
    "原工单号GX{year}{month:02d}{day:02d}-{serial:06d}，已超期未办结。",
    "合同编号{contract}，涉及金额{money}元。",
    "受理回执编号{receipt}。",
)
CONTACT = (
    "联系电话{mobile}。",
    "请回电{mobile}（{name}）。",
    "座机{landline}。",
    "申请人身份证号码{id_number}。",
    "补贴请打到对公账户外的个人银行卡{card}。",
    "材料可发送至邮箱{email}。",
)


def _mobile(rng: random.Random) -> str:
    number = "1" + rng.choice("3456789") + "".join(rng.choices("0123456789", k=9))
    style = rng.random()
    if style < 0.6:
        return number
    if style < 0.8:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if style < 0.9:
        return f"+86-{number[:3]}-{number[3:7]}-{number[7:]}"
    return number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _id_number(rng: random.Random) -> str:
    body = rng.choice(sorted(PROVINCES)) + f"{rng.randrange(10_000):04d}"
    body += f"{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body += f"{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def _card(rng: random.Random) -> str:
    body = "62" + "".join(rng.choices("0123456789", k=rng.choice((13, 14, 16))))
    number = body + luhn.calc_check_digit(body)
    if rng.random() < 0.3:
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


def generate_orders(count: int, seed: int, numbered: float = 0.1) -> list[tuple[str, str]]:
    """(text, requester name) for ``count`` work orders of about 200 characters; a share
    ``numbered`` of them also carries a long number that is not personal data."""
    rng = random.Random(seed)
    orders = []
    for case in generate_cases(count, seed=seed):
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 1, 2))))
        values = {
            "people": rng.choice((30, 80, 150, 320)),
            "amount": rng.randint(50, 9000),
            "year": rng.choice((2019, 2020, 2021)),
            "month": rng.randint(1, 12),
            "day": rng.randint(1, 28),
            "serial": rng.randrange(1_000_000),
            "area": rng.randint(800, 120_000),
            "days": rng.randint(3, 90),
            "contract": f"HT{rng.randrange(10**10):010d}",
            "receipt": f"{rng.randrange(10**15):015d}",
            "money": rng.randint(100_000, 90_000_000),
            "name": name,
            "mobile": _mobile(rng),
            "landline": f"028-8{rng.randrange(10**7):07d}",
            "id_number": _id_number(rng),
            "card": _card(rng),
            "email": f"{rng.choice(('zhang', 'li.ming', 'wf2020', 'service'))}@example.com",
        }
        parts = [case["title"] + "。", case["content"]]
        if rng.random() < 0.25:
            parts.insert(0, f"市民{name}来电反映：")
        if rng.random() < 1 / 6:
            for template in rng.sample(CONTACT, rng.choice((1, 1, 2))):
                parts.insert(rng.randint(1, len(parts)), template.format_map(values))
        if rng.random() < numbered:
            parts.append(rng.choice(NUMBERED).format_map(values))
        while sum(map(len, parts)) < 190:
            parts.append(rng.choice(PADDING).format_map(values))
        orders.append(("".join(parts)[:230], name))
    return orders


# ---- the obvious way: one pattern per kind, every candidate checked, overlaps resolved after

_SHAPES = (EMAIL, ID_NUMBER, MOBILE, LANDLINE, BANK_CARD_GROUPED, DIGIT_RUN)
_PER_KIND = [re.compile(pattern) for pattern in _SHAPES]
_NO_LOOKAHEAD = re.compile("|".join(_SHAPES))


def _checked(match: re.Match[str]) -> tuple[PersonalDataKind, str] | None:
    raw = match.group()
    compact = raw.translate(COMPACT)
    shape = match.lastgroup
    if shape == "email":
        local, _, domain = raw.replace("＠", "@").partition("@")
        return PersonalDataKind.EMAIL, f"{local}@{domain.lower()}"
    if shape == "mobile":
        return PersonalDataKind.MOBILE, compact[-11:]
    if shape == "landline":
        return PersonalDataKind.LANDLINE, _landline_value(match)
    if shape == "id":
        compact = compact.upper()
        if is_id_number(compact):
            return PersonalDataKind.ID_NUMBER, compact
        if compact.isdigit() and len(compact) == len(raw) and not is_uscc(compact):
            return (PersonalDataKind.BANK_CARD, compact) if is_bank_card(compact) else None
        return None
    return (PersonalDataKind.BANK_CARD, compact) if is_bank_card(compact) else None


def naive_detect(text: str, names: Sequence[str]) -> list[PersonalDataSpan]:
    candidates = []
    for precedence, pattern in enumerate(_PER_KIND):
        for match in pattern.finditer(text):
            found = _checked(match)
            if found is not None:
                candidates.append((match.start(), precedence, match.end(), found))
    candidates.sort()
    spans: list[PersonalDataSpan] = []
    for start, _precedence, end, (kind, value) in candidates:
        if not spans or start >= spans[-1].end:
            spans.append(PersonalDataSpan(start, end, kind, value))
    occurrences = name_occurrences(text, usable_names(names))
    return _with_names(spans, occurrences) if occurrences else spans


def unfiltered_detect(text: str, names: Sequence[str]) -> list[PersonalDataSpan]:
    spans = _numbers_and_emails(text)
    occurrences = name_occurrences(text, usable_names(names))
    return _with_names(spans, occurrences) if occurrences else spans


def no_lookahead_detect(text: str, names: Sequence[str]) -> list[PersonalDataSpan]:
    spans = []
    for match in _NO_LOOKAHEAD.finditer(text):
        found = _checked(match)
        if found is not None:
            spans.append(PersonalDataSpan(match.start(), match.end(), *found))
    occurrences = name_occurrences(text, usable_names(names))
    return _with_names(spans, occurrences) if occurrences else spans


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--numbered",
        type=float,
        default=0.1,
        help="share of orders with a long number that is not personal data (default 0.1)",
    )
    args = parser.parse_args(argv)
    orders = generate_orders(args.orders, args.seed, args.numbered)
    texts = [text for text, _ in orders]
    names = [(name,) for _, name in orders]
    mean = sum(map(len, texts)) / len(texts)

    contenders: list[tuple[str, Detector]] = [
        ("detect_personal_data", detect_personal_data),
        ("combined pattern, no prefilter", unfiltered_detect),
        ("... and no lookahead", no_lookahead_detect),
        ("one pattern per kind (naive)", naive_detect),
    ]

    def run_all(detect: Detector) -> list[list[PersonalDataSpan]]:
        return [detect(text, name) for text, name in zip(texts, names, strict=True)]

    results = {label: run_all(detect) for label, detect in contenders}
    reference = results["detect_personal_data"]
    for label, found in results.items():
        for index, (ours, theirs) in enumerate(zip(reference, found, strict=True)):
            if ours != theirs:
                sys.exit(f"{label} disagrees on order {index}: {texts[index]!r}\n{ours}\n{theirs}")
    kinds = Counter(span.kind.value for spans in reference for span in spans)
    with_data = sum(1 for spans in reference if spans)
    passing = sum(1 for text in texts if PREFILTER.search(text))
    print(f"{len(texts):,} generated work orders, {mean:.0f} characters on average")
    counts = ", ".join(f"{kind} {count:,}" for kind, count in sorted(kinds.items()))
    print(f"  {with_data:,} hold personal data: {counts}")
    print(f"  {passing:,} pass the prefilter ({passing / len(texts):.0%})")
    print(f"{'contender':<34}{'seconds':>9}{'orders/second':>15}{'time':>9}")
    seconds = {
        label: best_of(args.repeat, lambda detect=detect: run_all(detect))
        for label, detect in contenders
    }
    ours = seconds["detect_personal_data"]
    for label, taken in seconds.items():
        ratio = "" if label == "detect_personal_data" else f"{taken / ours:>8.1f}x"
        print(f"{label:<34}{taken:>9.3f}{len(texts) / taken:>15,.0f}{ratio:>9}")
    rate = len(texts) / ours
    verdict = "met" if rate >= TARGET else "NOT met"
    print(f"target (>= {TARGET:,} orders/second): {verdict}")
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
