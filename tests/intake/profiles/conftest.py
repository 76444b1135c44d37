from __future__ import annotations

from pathlib import Path

import pytest

from zhenshen_core.rules import ResolvedPack, load_pack

ROOT = Path(__file__).resolve().parents[3]
PACK = ROOT / "plugins" / "zhenshen-chengdu-gaoxin" / "src" / "zhenshen_chengdu_gaoxin" / "pack"

PROFILE = """\
profile: 1
name: 成都高新区 12345
fields:
  external_id: {from: 工单编号, required: true}
  received_at:
    from: 来电时间
    required: true
    convert: {datetime: ["%Y/%m/%d %H:%M", "%Y年%m月%d日", excel]}
  appeal_type: {from: 诉求类型, default: help}
  title: {from: 诉求标题}
  content: {from: [诉求内容, 补充说明]}
  requester.name: {from: 来电人}
  requester.phone: {from: 联系电话, convert: phone}
  requester.confidential: {from: 是否保密}
  enterprise.name: {from: 企业名称}
  enterprise.uscc: {from: 统一社会信用代码}
  location.district: {from: 所属区域, default: 高新区}
  facts.amount_wan: {from: 涉及金额, convert: number}
classification:
  from: 诉求分类代码
  fact: category_code
  codes:
    "01": {domain: market_entry_operation, lead: gxq.scjgj}
    "0102": {domain: policy_redemption, lead: gxq.jfj, co: [gxq.czj], tags: [政策兑现]}
"""

ROW = {
    "工单编号": "GD001",
    "来电时间": "2026/3/4 9:05",
    "诉求类型": "投诉",
    "诉求标题": "证照办不下来",
    "诉求内容": "已取得执照但无法经营",
    "补充说明": " 补充 ",
    "来电人": "张三",
    "联系电话": 13800001234.0,
    "是否保密": "是",
    "企业名称": "成都某科技有限公司",
    "统一社会信用代码": "91510100MA68NDJH6X",
    "涉及金额": "1,234.5",
    "诉求分类代码": "010203",
}


@pytest.fixture(scope="session")
def pack() -> ResolvedPack:
    return load_pack(PACK)


@pytest.fixture
def profile_file(tmp_path: Path) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    return path
