"""The documents the browser tests render: a desk report and an opinion letter, both from a real
desk run (the reference pack, an in-memory store) rather than hand-made HTML."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from zhenshen_core.desk import Desk
from zhenshen_core.desk.report import build_report, render_html
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.rules import load_pack
from zhenshen_core.storage import open_store

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PACK = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"
WORK_ORDER: dict[str, Any] = {
    "external_id": "GX20260210-000123",
    "channel": "hotline_12345",
    "received_at": "2026-02-10T09:30:00+08:00",
    "appeal_type": "complaint",
    "title": "取得营业执照后因消防验收无法经营",
    "content": "我公司已取得营业执照，但因消防验收和排污许可问题至今无法经营，已停产两个月。",
    "domain": "market_entry_operation",
    "enterprise": {"name": "成都示例智造科技有限公司", "uscc": "91510100MA68NDJH6X"},
    "facts": {"amount_wan": 800, "prior_contacts": 1},
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def desk_documents() -> tuple[str, str]:
    """(report HTML, letter HTML) of one case taken through the joint review."""
    desk = Desk(
        open_store("memory://"), pack=load_pack(REFERENCE_PACK), now=lambda: _at("2026-03-10T09:00")
    )
    case = desk.receive(WORK_ORDER)
    desk.screen(case.id, at=_at("2026-02-10T11:00"))
    desk.schedule_meeting(case.id, _at("2026-02-13T09:00"), at=_at("2026-02-11T10:00"))
    desk.hold_meeting(case.id, _at("2026-02-13T10:00"), minutes="各部门形成一致意见")
    desk.record_expert_advice(
        case.id, "lawyer", "消防与排污事项可并联办理。", name="张律师", at=_at("2026-02-13T11:00")
    )
    desk.issue_opinion(
        case.id,
        result="supported",
        reasons="企业已具备经营条件，消防与排污事项应并联办理。",
        measures=["市场监管局牵头，三个工作日内组织联合踏勘"],
        legal_basis=["《优化营商环境条例》第十九条"],
        at=_at("2026-02-24T16:00"),
    )
    letter = desk.render_letter(case.id, "html").decode("utf-8")
    report = render_html(build_report(desk.store, _at("2026-03-10T09:00")))
    return report, letter
