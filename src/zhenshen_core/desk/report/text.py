"""The desk report as plain text, for a terminal or a mail.

Names, not codes (the JSON form has the codes); Chinese takes two columns on a terminal, so
columns are padded by display width. A section with nothing to show says "none" instead of
printing a table header over no rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len

from zhenshen_core.desk.report.model import AS_OF_SOURCES, DeskReport, Tally
from zhenshen_core.model.enums import Satisfaction

MONTHS_SHOWN = 12
GRID_MONTHS = 6


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def pad(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` terminal columns (CJK characters take two)."""
    if cell_len(text) > width:
        out = ""
        for char in text:
            if cell_len(out + char) > width - 1:
                break
            out += char
        text = out + "…"
    return text + " " * (width - cell_len(text))


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        first = pad(cells[0], widths[0])
        rest = [" " * (w - cell_len(c)) + c for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  " + first + " " + " ".join(rest)

    return [line(header), *(line(r) for r in rows)]


def _tally_cells(t: Tally) -> list[str]:
    return [
        str(t.led),
        str(t.closed),
        str(t.on_time),
        str(t.late),
        str(t.overdue),
        str(t.returned),
        pct(t.on_time_rate),
        pct(t.satisfied_rate),
        pct(t.return_rate),
    ]


TALLY_HEADER = [
    "牵头",
    "办结",
    "按时",
    "超时办结",
    "超期未结",
    "退单",
    "按时办结率",
    "满意率",
    "退单率",
]
TALLY_WIDTHS = [6, 6, 6, 8, 8, 6, 10, 6, 6]


def render_text(report: DeskReport, *, overdue_limit: int = 10) -> str:
    names = report.labels
    source = AS_OF_SOURCES.get(report.as_of_source, report.as_of_source)
    lines = [
        f"联合甄审工作报告 desk report — as of {report.as_of:%Y-%m-%d %H:%M} ({source})",
        f"cases: {report.total}   joint review (联合甄审): {report.joint_review}   "
        f"dead letters: {report.dead_letters}",
        f"sweep incidents: {report.sweep_incidents}   notices pending: "
        f"{report.outbox.get('pending', 0)}, failed: {report.outbox.get('failed', 0)}",
        "",
    ]
    if not report.total:
        lines += ["no cases in the store", ""]
    else:
        lines.append("by domain and tier:")
        for domain, n in report.by_domain.most_common():
            tiers = ", ".join(
                f"{names.tier(t)} {c}"
                for (d, t), c in sorted(report.by_domain_tier.items())
                if d == domain
            )
            lines.append(f"  {pad(names.domain(domain), 24)} {n:>6}   ({tiers})")
        lines += ["", "by status:"]
        for status, n in report.by_status.most_common():
            lines.append(f"  {pad(names.status(status), 24)} {n:>6}")
        lines.append("")

    if report.clocks:
        lines.append("deadlines (on time / late / running / overdue, on-time rate):")
        for name, s in sorted(report.clocks.items()):
            lines.append(
                f"  {pad(names.clock(name), 16)} {s.on_time:>6} {s.late:>6} {s.running:>6} "
                f"{s.overdue:>6}   {pct(s.on_time_rate)}"
            )
    else:
        lines.append("deadlines: none")

    departments = report.department_rows()
    lines += ["", "departments (督办; rates defined in docs/howto/desk-report.md):"]
    if departments:
        rows = [[names.department(d.id), *_tally_cells(d.totals)] for d in departments]
        rows.append(["合计 all", *_tally_cells(report.overall.totals)])
        lines += _table(["部门 department", *TALLY_HEADER], rows, [24, *TALLY_WIDTHS])
    else:
        lines.append("  none")

    months = report.months(MONTHS_SHOWN)
    lines += ["", "monthly (all departments):"]
    if months:
        rows = []
        for m in months:
            t = report.overall.months[m]
            rates = [pct(t.on_time_rate), pct(t.satisfied_rate)]
            rows.append([m, str(t.led), str(t.closed), *rates, str(t.returned)])
        header = ["月份 month", "受理", "办结", "按时办结率", "满意率", "退单"]
        lines += _table(header, rows, [10, 6, 6, 10, 8, 6])
        recent = months[-GRID_MONTHS:]
        lines += [
            "",
            f"monthly per department, {recent[0]} to {recent[-1]} "
            "(cases led / 按时办结率 of the cases closed that month):",
        ]
        header = ["部门 department", *(m[2:] for m in recent)]
        rows = []
        for d in departments:
            cells = []
            for m in recent:
                month = d.months.get(m)
                busy = month is not None and (month.led or month.closed)
                cells.append(f"{month.led}/{pct(month.on_time_rate)}" if month and busy else "-")
            rows.append([names.department(d.id), *cells])
        lines += _table(header, rows, [24, *([8] * len(recent))])
    else:
        lines.append("  none")

    lines += [""]
    if report.overdue:
        lines.append(f"overdue now: {len(report.overdue)} (most overdue first)")
        rows = [
            [
                o.external_id or o.case_id,
                names.department(o.department),
                names.clock(o.clock),
                f"{o.due_at:%Y-%m-%d}",
                str(o.days_overdue),
                o.title,
            ]
            for o in report.overdue[:overdue_limit]
        ]
        header = ["工单 case", "牵头部门", "时限 clock", "到期 due", "超期天", "标题 title"]
        widths = (20, 22, 14, 10, 6, 30)
        lines += [
            "  " + "  ".join(pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in [header, *rows]
        ]
        if len(report.overdue) > overdue_limit:
            lines.append(f"  … and {len(report.overdue) - overdue_limit} more (--format json)")
    else:
        lines.append("overdue now: none")

    lines += [""]
    if report.satisfaction:
        lines.append(f"satisfaction (好差评), satisfied rate {pct(report.satisfied_rate)}:")
        for level in Satisfaction:
            if report.satisfaction[level.value]:
                lines.append(f"  {pad(level.label, 12)} {report.satisfaction[level.value]:>6}")
    else:
        lines.append("satisfaction (好差评): none rated")

    lines += [""]
    if report.generalisations:
        lines.append(f"举一反三 proposals: {len(report.generalisations)}")
        for g in report.generalisations:
            lines.append(f"  {g.data.get('summary', '')}")
            for case in g.cases:
                ref = case.get("external_id") or case["id"]
                lines.append(f"    {ref}  {case.get('title') or ''}")
    else:
        lines.append("举一反三 proposals: none")
    return "\n".join(lines) + "\n"
