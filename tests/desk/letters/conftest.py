from __future__ import annotations

from typing import Any

import pytest

from zhenshen_core.model import Case, load_case


def sample_case_data() -> dict[str, Any]:
    """The article's own example: a high-tech firm's planning application stuck on a missing
    land-title proof, reviewed jointly by planning and construction."""
    return {
        "external_id": "GX20200413-000001",
        "channel": "hotline_12345",
        "received_at": "2020-04-13T09:30:00+08:00",
        "appeal_type": "help",
        "title": "报规报建缺少权属证明",
        "content": (
            "厂房为早年取得，土地证因历史遗留问题未能换发，办理报规报建时无法提供权属证明文件。"
        ),
        "domain": "planning_title_proof",
        "enterprise": {
            "name": "成都睿澜科技有限公司",
            "uscc": "91510100MA68NDJH6X",
            "size": "small",
            "tags": ["高新技术企业"],
        },
        "requester": {"name": "王先生", "phone": "13800009876"},
        "departments": [
            {"id": "gxq.gtj", "role": "lead"},
            {"id": "gxq.gycsjsj", "role": "co"},
        ],
        "tier": "general",
        "chair": "office_head",
        "severity": "S2",
        "experts": [
            {
                "kind": "lawyer",
                "required": True,
                "reason": "权属证明缺失，需律师审查权属",
                "name": "李律师",
                "advice": "可依据原出让合同和历史档案出具权属说明，替代缺失的证明文件。",
            }
        ],
        "meetings": [
            {
                "id": "M1",
                "kind": "joint_review",
                "scheduled_at": "2020-04-16T14:30:00+08:00",
                "held_at": "2020-04-16T14:30:00+08:00",
                "chair": "office_head",
                "attendees": ["gxq.gtj", "gxq.gycsjsj", "lawyer"],
            }
        ],
        "opinion": {
            "letter_no": "成高甄审〔2020〕3号",
            "result": "supported",
            "reasons": "企业用地取得合法，权属证明缺失系历史原因所致，可以权属说明替代。",
            "measures": [
                {
                    "description": "规划和自然资源局出具权属说明",
                    "department": "gxq.gtj",
                    "due": "2020-04-30",
                },
                # as staff write it: department and period in the text (10 working days
                # from 2020-04-20 across the May Day holiday and its make-up days)
                "公园城市建设局10个工作日内并联受理报建",
            ],
            "legal_basis": ["《优化营商环境条例》（国务院令第722号）"],
            "issued_at": "2020-04-20T10:00:00+08:00",
        },
        "tasks": [
            {
                "id": "T1",
                "department": "gxq.gtj",
                "description": "规划和自然资源局出具权属说明",
                "due": "2020-04-30",
            },
            {
                "id": "T2",
                "department": "gxq.gycsjsj",
                "description": "公园城市建设局并联受理报建",
                "due": "2020-05-15",
            },
        ],
    }


@pytest.fixture
def case_data() -> dict[str, Any]:
    return sample_case_data()


@pytest.fixture
def case(case_data: dict[str, Any]) -> Case:
    return load_case(case_data)
