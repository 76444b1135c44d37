"""Readable explanations of a decision, for staff and auditors (Chinese labels, English codes).

The explanation is derived only from the ``Decision`` and the pack, never from engine state, so
the same text can be produced later from a stored decision to answer "why was this case graded
major?".
"""

from __future__ import annotations

import json
from typing import Any

from zhenshen_core.model.enums import Chair, Tier
from zhenshen_core.rules.engines.decision import Decision
from zhenshen_core.rules.engines.facts import field_spec
from zhenshen_core.rules.lang.ast import to_source
from zhenshen_core.rules.pack.model import ResolvedPack

STAGE_LABELS = {
    "classify": "定级 classify",
    "route": "分办 route",
    "review": "调度 review",
    "deadline": "时限 deadline",
}


def _label(enum: type[Tier] | type[Chair], value: str | None) -> str:
    if value is None:
        return "—"
    try:
        member = enum(value)
    except ValueError:
        return value
    return f"{member.label} ({value})"


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def explain(decision: Decision, pack: ResolvedPack) -> str:
    """A multi-line explanation of ``decision``: outcome first, then each fired rule."""
    names = {d.id: d.name or d.id for d in pack.departments.values()}
    experts = {e.id: e.name or e.id for e in pack.experts.values()}

    def dep(d: str | None) -> str:
        return "—" if d is None else f"{names.get(d, d)} ({d})"

    lines = [
        f"案件 case {decision.case_id} — 规则包 pack {decision.pack.id} {decision.pack.version} "
        f"(sha256 {decision.pack.sha256[:12]})",
        f"  严重程度 severity: {decision.severity}",
        f"  甄审层级 tier: {_label(Tier, decision.tier)}",
        f"  主持 chair: {_label(Chair, decision.chair)}",
        f"  牵头部门 lead: {dep(decision.departments.lead)}",
        "  配合部门 co: " + (", ".join(dep(d) for d in decision.departments.co) or "—"),
    ]
    for title, ids in (
        ("必请专家 required experts", decision.experts.required),
        ("建议专家 suggested experts", decision.experts.suggested),
    ):
        shown = [
            f"{experts.get(e, e)} ({e})"
            + (f" — {decision.experts.reasons[e]}" if e in decision.experts.reasons else "")
            for e in ids
        ]
        lines.append(f"  {title}: " + ("; ".join(shown) or "—"))
    lines.append("  标签 tags: " + (", ".join(decision.tags) or "—"))
    deadlines = ", ".join(f"{k} = {v}" for k, v in decision.deadlines.items())
    lines.append("  时限 deadlines: " + (deadlines or "—"))
    lines.append("  动作 actions: " + (", ".join(decision.actions) or "—"))
    if not decision.fired:
        lines.append("  未触发任何规则 no rule fired (pack defaults apply)")
        return "\n".join(lines)
    lines.append("  触发规则 fired:")
    specs = {s.id: s for s in pack.rules}
    for fired in decision.fired:
        spec = specs.get(fired.rule)
        where = f" [{spec.file}:{spec.line}]" if spec else ""
        lines.append(f"    - {fired.rule} ({STAGE_LABELS.get(fired.stage, fired.stage)}){where}")
        if spec is not None:
            if spec.description:
                lines.append(f"      {spec.description}")
            if spec.condition is not None:
                lines.append(f"      when: {to_source(spec.condition)}")
        for name, value in fired.values.items():
            field = field_spec(name)
            label = f" {field.label}" if field else ""
            lines.append(f"      {name}{label} = {_value(value)}")
    return "\n".join(lines)


__all__ = ["explain"]
