"""The desk report: what the leading group reads (cases by domain and tier, deadlines kept,
overdue list, satisfaction, 举一反三 proposals), as data, text or a self-contained HTML page.

Counting goes through the store's query interface, so the report works on any backend.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zhenshen_core.model.case import Case
from zhenshen_core.model.enums import CaseStatus, Satisfaction
from zhenshen_core.storage.protocol import CaseStore


@dataclass
class ClockStats:
    on_time: int = 0
    late: int = 0
    running: int = 0
    overdue: int = 0

    @property
    def finished(self) -> int:
        return self.on_time + self.late

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.finished if self.finished else None


@dataclass
class Overdue:
    case_id: str
    clock: str
    due_at: datetime
    status: str
    title: str


@dataclass
class DeskReport:
    generated_at: datetime
    total: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_domain: Counter[str] = field(default_factory=Counter)
    by_tier: Counter[str] = field(default_factory=Counter)
    by_domain_tier: Counter[tuple[str, str]] = field(default_factory=Counter)
    joint_review: int = 0
    clocks: dict[str, ClockStats] = field(default_factory=dict)
    overdue: list[Overdue] = field(default_factory=list)
    satisfaction: Counter[str] = field(default_factory=Counter)
    generalisations: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: int = 0

    @property
    def satisfied_rate(self) -> float | None:
        rated = sum(self.satisfaction.values())
        good = sum(n for k, n in self.satisfaction.items() if not Satisfaction(k).is_negative)
        return good / rated if rated else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "total": self.total,
            "joint_review": self.joint_review,
            "by_status": dict(self.by_status),
            "by_domain": dict(self.by_domain),
            "by_tier": dict(self.by_tier),
            "clocks": {
                name: {
                    "on_time": s.on_time,
                    "late": s.late,
                    "running": s.running,
                    "overdue": s.overdue,
                    "on_time_rate": s.on_time_rate,
                }
                for name, s in sorted(self.clocks.items())
            },
            "overdue": [
                {
                    "case_id": o.case_id,
                    "clock": o.clock,
                    "due_at": o.due_at.isoformat(),
                    "status": o.status,
                    "title": o.title,
                }
                for o in self.overdue
            ],
            "satisfaction": dict(self.satisfaction),
            "satisfied_rate": self.satisfied_rate,
            "generalisations": self.generalisations,
            "dead_letters": self.dead_letters,
        }


def build_report(
    store: CaseStore, now: datetime, *, joint_review_tag: str = "联合甄审"
) -> DeskReport:
    report = DeskReport(generated_at=now)
    for case in store.query():
        _count(report, case, now, joint_review_tag)
    report.overdue.sort(key=lambda o: o.due_at)
    report.generalisations = [r.data | {"id": r.id} for r in store.records("generalisation")]
    report.dead_letters = len(store.dead_letters())
    return report


def _count(report: DeskReport, case: Case, now: datetime, tag: str) -> None:
    report.total += 1
    report.by_status[case.status.value] += 1
    domain = case.domain or "(none)"
    tier = case.tier.value if case.tier else "(none)"
    report.by_domain[domain] += 1
    report.by_tier[tier] += 1
    report.by_domain_tier[(domain, tier)] += 1
    if tag in case.tags:
        report.joint_review += 1
    if case.feedback:
        report.satisfaction[case.feedback[-1].satisfaction.value] += 1
    for name, clock in case.clocks.items():
        key = "task" if name.startswith("task:") else name
        stats = report.clocks.setdefault(key, ClockStats())
        if clock.stopped_at is not None:
            if clock.stopped_at <= clock.due_at:
                stats.on_time += 1
            else:
                stats.late += 1
        elif clock.due_at < now:
            stats.overdue += 1
            stats.running += 1
            report.overdue.append(
                Overdue(case.id, name, clock.due_at, case.status.value, case.title)
            )
        else:
            stats.running += 1


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def render_text(report: DeskReport, *, overdue_limit: int = 10) -> str:
    lines = [
        f"联合甄审 desk report — {report.generated_at:%Y-%m-%d %H:%M}",
        f"cases: {report.total}   joint review (联合甄审): {report.joint_review}   "
        f"dead letters: {report.dead_letters}",
        "",
        "by domain and tier:",
    ]
    for domain, n in report.by_domain.most_common():
        tiers = ", ".join(
            f"{t} {c}" for (d, t), c in sorted(report.by_domain_tier.items()) if d == domain
        )
        lines.append(f"  {domain:<24} {n:>5}   ({tiers})")
    lines += ["", "by status:"]
    for status, n in report.by_status.most_common():
        lines.append(f"  {status:<22} {CaseStatus(status).label:<10} {n:>5}")
    lines += ["", "deadlines (on time / late / running / overdue, on-time rate):"]
    for name, s in sorted(report.clocks.items()):
        lines.append(
            f"  {name:<12} {s.on_time:>5} {s.late:>5} {s.running:>5} {s.overdue:>5}   "
            f"{_pct(s.on_time_rate)}"
        )
    lines += ["", f"overdue now: {len(report.overdue)}"]
    for o in report.overdue[:overdue_limit]:
        lines.append(
            f"  {o.case_id}  {o.clock:<10} due {o.due_at:%Y-%m-%d %H:%M}  {o.status}  "
            f"{o.title[:24]}"
        )
    lines += ["", f"satisfaction (好差评), satisfied rate {_pct(report.satisfied_rate)}:"]
    for level in Satisfaction:
        if report.satisfaction[level.value]:
            lines.append(f"  {level.label:<6} {report.satisfaction[level.value]:>5}")
    lines += ["", f"举一反三 proposals: {len(report.generalisations)}"]
    for g in report.generalisations:
        lines.append(f"  {g['id']}: {g.get('summary', '')} ({len(g.get('case_ids', []))} cases)")
    return "\n".join(lines) + "\n"


def _bar_chart(title: str, data: Sequence[tuple[str, float]], unit: str = "") -> str:
    """A small inline SVG bar chart: no JavaScript, no external assets."""
    if not data:
        return ""
    width, bar_h, gap, label_w = 640, 18, 6, 200
    top = max(v for _, v in data) or 1
    height = len(data) * (bar_h + gap) + 10
    rows = []
    for i, (label, value) in enumerate(data):
        y = i * (bar_h + gap) + 5
        w = (width - label_w - 60) * value / top
        rows.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end">{html.escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#b22222"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 13}">{value:g}{unit}</text>'
        )
    return (
        f'<h2>{html.escape(title)}</h2><svg width="{width}" height="{height}" '
        f'font-size="12" role="img">{"".join(rows)}</svg>'
    )


def render_html(report: DeskReport) -> str:
    data = report.as_dict()
    domain_chart = _bar_chart("按问题领域 cases by domain", report.by_domain.most_common())
    tier_chart = _bar_chart("按甄审层级 cases by tier", report.by_tier.most_common())
    ontime = [
        (name, round(100 * (s.on_time_rate or 0), 1))
        for name, s in sorted(report.clocks.items())
        if s.finished
    ]
    ontime_chart = _bar_chart("按期办结率 on-time rate per deadline", ontime, "%")
    sat_chart = _bar_chart(
        "满意度 satisfaction", [(lvl.label, report.satisfaction[lvl.value]) for lvl in Satisfaction]
    )
    overdue_rows = "".join(
        f"<tr><td>{html.escape(o.case_id)}</td><td>{html.escape(o.clock)}</td>"
        f"<td>{o.due_at:%Y-%m-%d %H:%M}</td><td>{html.escape(o.status)}</td>"
        f"<td>{html.escape(o.title)}</td></tr>"
        for o in report.overdue
    )
    gen_rows = "".join(
        f"<li><b>{html.escape(str(g['id']))}</b> {html.escape(str(g.get('summary', '')))} "
        f"({len(g.get('case_ids', []))} cases)</li>"
        for g in report.generalisations
    )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>联合甄审工作报告</title>
<style>body{{font-family:"Noto Sans CJK SC",sans-serif;max-width:960px;margin:2em auto;color:#222}}
h1{{color:#b22222;border-bottom:2px solid #b22222}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px;font-size:13px}}</style></head><body>
<h1>联合甄审工作报告 Joint review desk report</h1>
<p>{report.generated_at:%Y-%m-%d %H:%M} · cases {data["total"]}
 · joint review {data["joint_review"]} · satisfied {_pct(report.satisfied_rate)}
 · dead letters {data["dead_letters"]}</p>
{domain_chart}{tier_chart}{ontime_chart}{sat_chart}
<h2>超期未办结 Overdue ({len(report.overdue)})</h2>
<table><tr><th>case</th><th>clock</th><th>due</th><th>status</th><th>title</th></tr>{overdue_rows}</table>
<h2>举一反三 Generalisation proposals ({len(report.generalisations)})</h2><ul>{gen_rows}</ul>
</body></html>
"""
