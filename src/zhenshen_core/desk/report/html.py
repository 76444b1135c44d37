"""The desk report as one self-contained HTML page: inline SVG charts, no scripts, no external
assets, a CJK font stack (:mod:`zhenshen_core.desk.fonts`) so it is not tofu where fonts exist."""

from __future__ import annotations

import html
from collections.abc import Sequence

from zhenshen_core.desk.fonts import SANS
from zhenshen_core.desk.report.model import AS_OF_SOURCES, DeskReport, Tally
from zhenshen_core.model.enums import Satisfaction

MONTHS_SHOWN = 12
AS_OF_LABELS = {"data": "数据中最新事件的时间", "now": "生成报告的时间", "given": "指定时间"}


def _e(value: object) -> str:
    return html.escape(str(value))


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _bar_chart(title: str, data: Sequence[tuple[str, float]], unit: str = "") -> str:
    """A small inline SVG bar chart; nothing at all when there is nothing to chart."""
    if not data or not any(v for _, v in data):
        return ""
    width, bar_h, gap, label_w = 640, 18, 6, 200
    top = max(v for _, v in data) or 1
    height = len(data) * (bar_h + gap) + 10
    rows = []
    for i, (label, value) in enumerate(data):
        y = i * (bar_h + gap) + 5
        w = (width - label_w - 60) * value / top
        rows.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end">{_e(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#b22222"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 13}">{value:g}{unit}</text>'
        )
    return (
        f'<h2>{_e(title)}</h2><svg width="{width}" height="{height}" '
        f'font-size="12" role="img">{"".join(rows)}</svg>'
    )


def _sparkline(values: Sequence[int]) -> str:
    """Cases led per month as tiny bars (the trend at a glance)."""
    if not any(values):
        return ""
    top, w, h = max(values), 6, 20
    bars = "".join(
        f'<rect x="{i * (w + 2)}" y="{h - h * v / top:.1f}" width="{w}" '
        f'height="{h * v / top:.1f}" fill="#b22222"/>'
        for i, v in enumerate(values)
    )
    return f'<svg width="{len(values) * (w + 2)}" height="{h}" role="img">{bars}</svg>'


def _tally_cells(t: Tally) -> str:
    cells = [t.led, t.closed, t.on_time, t.late, t.overdue, t.returned]
    rates = [t.on_time_rate, t.satisfied_rate, t.return_rate]
    return "".join(f'<td class="n">{c}</td>' for c in cells) + "".join(
        f'<td class="n">{_pct(r)}</td>' for r in rates
    )


TALLY_HEAD = (
    "<th>牵头</th><th>办结</th><th>按时办结</th><th>超时办结</th><th>超期未结</th><th>退单</th>"
    "<th>按时办结率</th><th>满意率</th><th>退单率</th>"
)


def _departments(report: DeskReport) -> str:
    rows = report.department_rows()
    if not rows:
        return "<h2>部门督办 Departments</h2><p>无 none</p>"
    months = report.months(MONTHS_SHOWN)
    body = "".join(
        f"<tr><td>{_e(report.labels.department(d.id))}</td>{_tally_cells(d.totals)}"
        f"<td>{_sparkline([d.months[m].led if m in d.months else 0 for m in months])}</td></tr>"
        for d in rows
    )
    total = (
        f'<tr class="total"><td>合计</td>{_tally_cells(report.overall.totals)}'
        f"<td>{_sparkline([report.overall.months[m].led for m in months])}</td></tr>"
    )
    return (
        "<h2>部门督办 Departments</h2>"
        f"<table><tr><th>部门</th>{TALLY_HEAD}<th>月度受理趋势</th></tr>{body}{total}</table>"
        '<p class="note">按时办结率 = 按期办结件数 ÷ 办结件数；'
        "满意率 = 最近一次评价为非常满意、满意或基本满意的件数 ÷ 已评价件数；"
        "退单率 = 退单件数 ÷ 经办件数（牵头或退单）；超期未结 = 报告时点仍有时限已过期的在办件。"
        "定义见 docs/howto/desk-report.md。</p>"
    )


def _monthly(report: DeskReport) -> str:
    months = report.months(MONTHS_SHOWN)
    if not months:
        return ""
    head = "".join(f"<th>{_e(m)}</th>" for m in months)

    def row(label: str, view_months: dict[str, Tally]) -> str:
        cells = []
        for m in months:
            t = view_months.get(m)
            if t is None or not (t.led or t.closed or t.rated or t.returned):
                cells.append('<td class="n">–</td>')
            else:
                cells.append(
                    f'<td class="n">{t.led}<br><small>{_pct(t.on_time_rate)}</small></td>'
                )
        return f"<tr><td>{_e(label)}</td>{''.join(cells)}</tr>"

    rows = "".join(
        row(report.labels.department(d.id), d.months) for d in report.department_rows()
    )
    rows += row("合计", report.overall.months)
    return (
        "<h2>月度趋势 Monthly trend</h2>"
        '<p class="note">每格：当月牵头受理件数，下方为当月办结件的按时办结率。</p>'
        f"<table><tr><th>部门</th>{head}</tr>{rows}</table>"
    )


def _overdue(report: DeskReport) -> str:
    title = f"<h2>超期未办结 Overdue ({len(report.overdue)})</h2>"
    if not report.overdue:
        return title + "<p>无 none</p>"
    names = report.labels
    rows = "".join(
        f"<tr><td>{_e(o.external_id or o.case_id)}</td>"
        f"<td>{_e(names.department(o.department))}</td>"
        f"<td>{_e(names.clock(o.clock))}</td><td>{o.due_at:%Y-%m-%d}</td>"
        f'<td class="n">{o.days_overdue}</td><td>{_e(names.status(o.status))}</td>'
        f"<td>{_e(o.title)}</td></tr>"
        for o in report.overdue
    )
    return (
        title + "<table><tr><th>工单编号</th><th>牵头部门</th><th>时限</th><th>到期日</th>"
        f"<th>超期天数</th><th>状态</th><th>标题</th></tr>{rows}</table>"
    )


def _proposals(report: DeskReport) -> str:
    title = f"<h2>举一反三 Generalisation proposals ({len(report.generalisations)})</h2>"
    if not report.generalisations:
        return title + "<p>无 none</p>"
    items = []
    for g in report.generalisations:
        cases = "".join(
            f"<li>{_e(c.get('external_id') or c['id'])} {_e(c.get('title') or '')}</li>"
            for c in g.cases
        )
        items.append(f"<li>{_e(g.data.get('summary', ''))}<ul>{cases}</ul></li>")
    return title + f"<ul>{''.join(items)}</ul>"


def render_html(report: DeskReport) -> str:
    names = report.labels
    as_of = f"{report.as_of:%Y-%m-%d %H:%M}"
    source = AS_OF_LABELS.get(report.as_of_source, report.as_of_source)
    english = AS_OF_SOURCES.get(report.as_of_source, report.as_of_source)
    pending, failed = report.outbox.get("pending", 0), report.outbox.get("failed", 0)
    charts = "".join(
        [
            _bar_chart(
                "按问题领域 cases by domain",
                [(names.domain(d), n) for d, n in report.by_domain.most_common()],
            ),
            _bar_chart(
                "按甄审层级 cases by tier",
                [(names.tier(t), n) for t, n in report.by_tier.most_common()],
            ),
            _bar_chart(
                "按期办结率 on-time rate per deadline",
                [
                    (names.clock(name), round(100 * (s.on_time_rate or 0), 1))
                    for name, s in sorted(report.clocks.items())
                    if s.finished
                ],
                "%",
            ),
            _bar_chart(
                "满意度 satisfaction",
                [(lvl.label, report.satisfaction[lvl.value]) for lvl in Satisfaction],
            ),
        ]
    )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>联合甄审工作报告</title>
<style>body{{font-family:{SANS};max-width:1100px;margin:2em auto;color:#222}}
h1{{color:#b22222;border-bottom:2px solid #b22222}}table{{border-collapse:collapse;margin:.5em 0}}
td,th{{border:1px solid #ccc;padding:2px 8px;font-size:13px;vertical-align:top}}
th{{background:#f6f0f0;font-weight:normal}}td.n{{text-align:right}}tr.total td{{font-weight:bold}}
.note{{font-size:12px;color:#555}}svg text{{font-family:inherit}}</style></head><body>
<h1>联合甄审工作报告 Joint review desk report</h1>
<p class="as-of">截至 {as_of}（{_e(source)}；as of {as_of}, {_e(english)}）</p>
<p>案件 {report.total} · 联合甄审 {report.joint_review} · 满意率 {_pct(report.satisfied_rate)}
 · 按时办结率 {_pct(report.overall.totals.on_time_rate)} · 退单 {report.overall.totals.returned}
 · 死信 dead letters {report.dead_letters}
 · 督办巡检异常 sweep incidents {report.sweep_incidents}
 · 待发通知 notices pending {pending}, failed {failed}</p>
{charts}
{_departments(report)}
{_monthly(report)}
{_overdue(report)}
{_proposals(report)}
</body></html>
"""
