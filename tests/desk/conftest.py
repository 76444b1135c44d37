from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zhenshen_core.rules import ResolvedPack, load_pack

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_PACK = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"

WORK_ORDER: dict[str, Any] = {
    "external_id": "GX20260210-000123",
    "channel": "hotline_12345",
    "received_at": "2026-02-10T09:30:00+08:00",
    "appeal_type": "complaint",
    "title": "取得营业执照后因消防验收无法经营",
    "content": "我公司已取得营业执照，但因消防验收和排污许可问题至今无法经营，已停产两个月，"
    "涉及合同违约风险。",
    "domain": "market_entry_operation",
    "enterprise": {
        "name": "成都示例智造科技有限公司",
        "uscc": "91510100MA68NDJH6X",
        "size": "small",
        "tags": ["高新技术企业"],
    },
    "requester": {"name": "李女士", "phone": "13800001111"},
    "facts": {"amount_wan": 800, "prior_contacts": 1},
}


@pytest.fixture
def work_order() -> dict[str, Any]:
    return dict(WORK_ORDER)


@pytest.fixture(scope="session")
def reference_pack() -> ResolvedPack:
    return load_pack(REFERENCE_PACK)
