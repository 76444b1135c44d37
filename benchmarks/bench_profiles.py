"""12345 profile mapping: a compiled profile against interpreting the profile per record.

    .venv/bin/python benchmarks/bench_profiles.py [--n 50000] [--seed 1]

The same work orders, as a 12345 platform exports them (Chinese columns; 来电时间 as
``2026/3/4 9:05``, ``2026年3月4日 9时5分``, ``2026-03-04 09:05:00`` or an Excel serial number;
诉求类型 as 投诉/咨询…; the phone as a workbook number; 是否保密 是/否; a GB/T 39666-style
诉求分类代码 to look up by longest prefix), mapped by a district's profile (14 fields and a
classification table) with:

1. ``compiled profile`` — ``Profile.map``: the profile compiled once into one closure per
   field (date formats as regular expressions, tables as dicts);
2. ``interpreted per record`` — the obvious alternative: walk the profile's fields for every
   record, look each converter up by name, try ``datetime.strptime`` format after format,
   search the enumeration's labels and the code table (longest code first).

Both must give identical drafts for every record, or the run stops. Mapping alone is timed
(rows are in memory already); a last line adds validating each draft into a ``Case`` for
scale. Target: >= 20,000 records/s for the compiled profile.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from zhenshen_chengdu_gaoxin.corpus import generate_cases

from zhenshen_core.intake.profiles import DEFAULT_FORMATS, Profile, ProfileFile, load_profile
from zhenshen_core.intake.profiles.converters import ConversionError, excel_serial, text_of
from zhenshen_core.intake.profiles.targets import target_for
from zhenshen_core.model.enums import AppealType
from zhenshen_core.model.lifecycle import load_case

PROFILE = """\
profile: 1
name: 成都高新区 12345 平台
channel: hotline_12345
fields:
  external_id: {from: 工单编号, required: true}
  received_at:
    from: 来电时间
    required: true
    convert:
      datetime: ["%Y/%m/%d %H:%M", "%Y年%m月%d日 %H时%M分", "%Y-%m-%d %H:%M:%S", excel]
  appeal_type: {from: 诉求类型, default: help}
  title: {from: 诉求标题}
  content: {from: [诉求内容, 补充说明]}
  requester.name: {from: 来电人}
  requester.phone: {from: 联系电话, convert: phone}
  requester.confidential: {from: 是否保密, convert: {flag: {yes: [是], no: [否]}}}
  enterprise.name: {from: 企业名称}
  enterprise.uscc: {from: 统一社会信用代码}
  location.district: {from: 所属区域}
  location.street: {from: 街道}
  facts.handling_unit: {from: 承办单位}
  facts.amount_wan: {from: 涉及金额, convert: number}
classification:
  from: 诉求分类代码
  fact: category_code
  codes:
    "01": {domain: market_entry_operation, lead: gxq.scjgj}
    "0102": {domain: market_entry_operation, lead: gxq.scjgj, co: [gxq.zwfw]}
    "02": {domain: policy_redemption, lead: gxq.jfj, co: [gxq.czj]}
    "03": {domain: financing, lead: gxq.czj}
    "04": {domain: credit_repair, lead: gxq.scjgj}
    "05": {domain: construction_permit, lead: gxq.gycsjsj}
    "0501": {domain: construction_permit, lead: gxq.gycsjsj, co: [gxq.sthcsglj]}
    "06": {domain: planning_title_proof, lead: gxq.gtj}
    "07": {domain: tax_service, lead: gxq.swj}
    "08": {domain: social_security, lead: gxq.rsj}
    "09": {domain: utilities}
    "10": {domain: ip_protection, lead: gxq.kjj}
"""

CODES = {
    "market_entry_operation": "01",
    "policy_redemption": "02",
    "financing": "03",
    "credit_repair": "04",
    "construction_permit": "05",
    "planning_title_proof": "06",
    "tax_service": "07",
    "social_security": "08",
    "utilities": "09",
    "ip_protection": "10",
}
LABELS = {t.value: t.label for t in AppealType}
UNITS = ["市场监管局", "经济运行局", "财政金融局", "公园城市建设局", "税务局", "人社局"]


def _when(moment: datetime, rng: random.Random) -> Any:
    kind = rng.randrange(4)
    if kind == 0:
        return f"{moment.year}/{moment.month}/{moment.day} {moment.hour}:{moment.minute:02d}"
    if kind == 1:
        return f"{moment.year}年{moment.month}月{moment.day}日 {moment.hour}时{moment.minute}分"
    if kind == 2:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return (moment - datetime(1899, 12, 30)) / timedelta(days=1)


def rows(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` work orders as a platform exports them."""
    rng = random.Random(seed)
    out = []
    for case in generate_cases(n, seed=seed):
        moment = datetime.fromisoformat(case["received_at"]).replace(tzinfo=None, second=0)
        enterprise = case.get("enterprise") or {}
        requester = case.get("requester") or {}
        location = case.get("location") or {}
        code = CODES.get(case.get("domain") or "", "99") + f"{rng.randrange(1, 6):02d}"
        phone = requester.get("phone")
        out.append(
            {
                "工单编号": case["external_id"],
                "来电时间": _when(moment, rng),
                "诉求类型": LABELS[case["appeal_type"]],
                "诉求标题": case["title"],
                "诉求内容": case["content"],
                "补充说明": "" if rng.random() < 0.8 else "企业再次来电催办",
                "来电人": requester.get("name") or "",
                "联系电话": float(phone) if phone else "",
                "是否保密": "是" if requester.get("confidential") else "否",
                "企业名称": enterprise.get("name", ""),
                "统一社会信用代码": enterprise.get("uscc", ""),
                "所属区域": location.get("district", ""),
                "街道": location.get("street", ""),
                "承办单位": rng.choice(UNITS),
                "涉及金额": str(case["facts"].get("amount_wan", "")),
                "诉求分类代码": code,
            }
        )
    return out


# --- the obvious alternative: interpret the profile for every record ---------------------------

_BLANKS = " \t\r\n\u3000\u00a0\u200b\ufeff"


def _strptime(text: str, formats: list[str]) -> datetime:
    for fmt in formats:
        if fmt == "excel":
            try:
                return excel_serial(float(text))
            except (ValueError, ConversionError):
                continue
        if fmt == "iso":
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                continue
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date-time")


def _convert(name: str, arg: Any, value: Any) -> Any:
    if name == "datetime":
        if isinstance(value, float):
            return excel_serial(value)
        return _strptime(text_of(value), list(arg or DEFAULT_FORMATS))
    if name == "phone":
        text = "".join(ch for ch in text_of(value) if ch not in " -()（）\u3000")
        return None if "*" in text else text
    if name == "flag":
        if text_of(value) in arg["yes"]:
            return True
        if text_of(value) in arg["no"]:
            return False
        raise ValueError(f"{value!r} is not a yes/no value")
    if name == "number":
        number = float(text_of(value).replace(",", ""))
        return int(number) if number.is_integer() else number
    raise ValueError(f"converter {name} is not interpreted here")


def _put(out: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = out
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def interpret(spec: ProfileFile, row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"channel": spec.channel.value if spec.channel else None}
    for path, field in spec.fields.items():
        target = target_for(path)
        assert target is not None
        parts = []
        for column in field.source:
            cell = row.get(column)
            if cell is None:
                continue
            if isinstance(cell, str):
                cell = cell.strip(_BLANKS)
                if not cell:
                    continue
            parts.append(cell)
        if not parts:
            if field.default is not None:
                _put(out, path, field.default)
            elif field.required:
                raise ValueError(f"{path} is required")
            continue
        value = parts[0] if len(parts) == 1 else field.join.join(text_of(p) for p in parts)
        for converter in field.convert:
            value = _convert(converter.name, converter.arg, value)
        if target.kind == "enum":
            for code, label in target.choices.items():
                if value in (code, label):
                    value = code
                    break
            else:
                raise ValueError(f"{value!r} is not one of the codes")
        elif target.kind == "text":
            value = text_of(value)
        if value is None or value == "":
            continue
        _put(out, path, value)
    table = spec.classification
    if table is not None:
        code = text_of(row.get(table.source) or "").strip()
        if code:
            out.setdefault("facts", {})[table.fact or "category_code"] = code
            for known in sorted(table.codes, key=len, reverse=True):
                if code.startswith(known):
                    entry = table.codes[known]
                    if entry.domain and "domain" not in out:
                        out["domain"] = entry.domain
                    departments = [{"id": entry.lead, "role": "lead"}] if entry.lead else []
                    departments += [{"id": c, "role": "co"} for c in entry.co]
                    if departments:
                        out["departments"] = departments
                    break
    return out


def _rate(label: str, n: int, seconds: float, baseline: float | None = None) -> str:
    lead = f"{baseline / seconds:7.1f}x" if baseline else ""
    return f"  {label:<34}{n / seconds:>12,.0f} records/s  {lead}"


def _best(run: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="work orders (default 50000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    data = rows(args.n, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "profile.yaml"
        path.write_text(PROFILE, encoding="utf-8")
        start = time.perf_counter()
        profile: Profile = load_profile(path)
        loaded = time.perf_counter() - start
    compiled = [profile.map(r) for r in data]
    interpreted = [interpret(profile.spec, r) for r in data]
    for index, (a, b) in enumerate(zip(compiled, interpreted, strict=True)):
        if a != b:
            raise SystemExit(f"record {index} differs:\n  compiled    {a}\n  interpreted {b}")
    mapped = _best(lambda: [profile.map(r) for r in data])
    naive = _best(lambda: [interpret(profile.spec, r) for r in data])
    print(f"mapping {args.n:,} work orders (profile loaded and compiled in {loaded * 1000:.0f} ms)")
    print(_rate("interpreted per record", args.n, naive))
    print(_rate("compiled profile", args.n, mapped, naive))
    validated = _best(lambda: [load_case(profile.map(r)) for r in data], repeat=1)
    print(_rate("compiled profile + Case validation", args.n, validated))
    met = args.n / mapped >= 20_000
    print(f"target (>= 20,000 records/s, mapping alone): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
