"""A deterministic generator of synthetic 12345-style enterprise work orders.

Demos, benchmarks and pack evaluations need a realistic stream of requests, but real work orders
carry personal data and cannot be shipped. This module makes them up instead, from word lists
and templates, so that:

* the same ``seed`` always gives byte-identical output (one ``random.Random`` per call, never the
  global random state), which makes demo reports and benchmark inputs reproducible;
* every case is valid input for :func:`zhenshen_core.model.load_case` (the minimal case JSON of the
  intake channels, model field names), with a valid 统一社会信用代码 (GB 32100-2015 check character
  computed by python-stdnum, organisation code with its GB 11714 check character);
* arrival times follow the official working-day calendar (State Council holiday notices and 调休
  make-up days, via :func:`zhenshen_core.deadlines.national_calendar`); for dates outside the
  calendar's data the plain Monday-Friday rule is used instead, because a demo must not fail on a
  year whose notice is not published yet;
* a small fraction (about 7 % by default) carry the features the Chengdu reference pack escalates
  to joint review — several departments, a licensed firm that cannot operate, a large amount,
  repeated contact, two returns between departments, social-risk words — and the rest carry none
  of them, so a pack evaluation of the corpus can be checked against
  :func:`generate_labelled`'s planted features.

Enterprise names are random combinations of syllables and people appear only as "王先生"-style
forms of address with phone numbers in the reserved-looking ``1380000xxxx`` style: nothing refers
to a real person, and any resemblance of a made-up firm name to a real one is accidental.

Why one module of this size: most of it is word lists and templates per domain, read together
with the few functions that draw from them; the planted escalation features must stay beside
the texts that carry them, or the labels would drift from what the generator writes.
"""

from __future__ import annotations

import json
import random
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any, TypeVar

from stdnum.cn import uscc as stdnum_uscc

from zhenshen_core.deadlines import Calendar, CalendarError, national_calendar
from zhenshen_core.model.case import SHANGHAI

__all__ = [
    "DEFAULT_END",
    "DEFAULT_PROFILE",
    "DEFAULT_START",
    "DOMAINS",
    "ESCALATION_FEATURES",
    "CorpusProfile",
    "DomainSpec",
    "generate_cases",
    "generate_labelled",
    "make_uscc",
    "write_jsonl",
]

DEFAULT_START = date(2020, 1, 2)
DEFAULT_END = date(2020, 12, 31)

T = TypeVar("T")

# The escalation features a case can carry; the reference pack has one severity rule for each.
ESCALATION_FEATURES = (
    "cross_department",
    "cannot_operate",
    "large_amount",
    "repeated_contact",
    "returned_twice",
    "social_risk",
)

# Thresholds shared with the Chengdu reference pack's severity rules (documented there too).
LARGE_AMOUNT_WAN = 500
REPEATED_CONTACTS = 2
RETURNS_TO_ESCALATE = 2


@dataclass(frozen=True)
class DomainSpec:
    """One problem domain: who handles it and the text fragments its work orders are made of.

    ``lead`` and ``co`` are department ids of the reference pack; ``problems`` are
    ``(title, body)`` pairs with ``{slot}`` placeholders; ``amount`` is the range of
    ``facts.amount_wan`` the domain's requests talk about (None when money is not at stake).
    """

    id: str
    name: str
    lead: str
    co: tuple[str, ...]
    problems: tuple[tuple[str, str], ...]
    asks: tuple[str, ...]
    amount: tuple[int, int] | None = None
    multi_department: bool = True


DOMAINS: tuple[DomainSpec, ...] = (
    DomainSpec(
        id="market_entry_operation",
        name="准入不准营",
        lead="gxq.scjgj",
        co=("gxq.zwfw", "gxq.sthcsglj", "gxq.gycsjsj"),
        problems=(
            (
                "取得营业执照后无法办理{permit}",
                "我公司{enterprise}已于{month}月取得营业执照，主营{business}，但在办理{permit}时"
                "被告知{obstacle}，相关部门之间说法不一。",
            ),
            (
                "{permit}办理受阻影响开业",
                "{enterprise}位于{street}{road}，门店装修已完成，办理{permit}时因{obstacle}"
                "一直未能通过，窗口建议我们咨询其他部门。",
            ),
            (
                "经营场所变更后{permit}无法延续",
                "{enterprise}因业务扩大迁至{street}{road}，变更登记已完成，但原有{permit}需要"
                "重新办理，{obstacle}。",
            ),
        ),
        asks=("希望明确办理路径。", "请求协调相关部门尽快办理。", "希望给予指导。"),
    ),
    DomainSpec(
        id="policy_redemption",
        name="政策兑现",
        lead="gxq.jfj",
        co=("gxq.czj", "gxq.kjj"),
        problems=(
            (
                "{policy}迟迟未兑现",
                "{enterprise}于{month}月申报了{policy}，已通过公示，涉及资金约{amount}万元，"
                "至今未拨付，多次询问答复不一。",
            ),
            (
                "{policy}申报条件理解不一致",
                "{enterprise}属于{tag}，按照文件应符合{policy}申报条件，但经办人员对条款"
                "口径解释不一，申报被退回，涉及金额约{amount}万元。",
            ),
            (
                "咨询{policy}申报流程",
                "{enterprise}计划申报{policy}，不清楚需要准备哪些材料以及受理时间，"
                "预计申报金额{amount}万元。",
            ),
        ),
        asks=("希望尽快兑现。", "请求明确政策口径。", "希望告知办理进度。"),
        amount=(5, 480),
    ),
    DomainSpec(
        id="financing",
        name="融资",
        lead="gxq.czj",
        co=("gxq.jfj", "gxq.kjj"),
        problems=(
            (
                "申请{loan}遇到困难",
                "{enterprise}因扩大生产需要申请{loan}约{amount}万元，合作银行要求{obstacle_fin}，"
                "企业无法满足。",
            ),
            (
                "{loan}贴息申请无人受理",
                "{enterprise}已获得{loan}{amount}万元，按政策可申请贴息，但提交材料后一直"
                "没有回复。",
            ),
        ),
        asks=("希望协调金融机构给予支持。", "请求帮助对接融资渠道。", "希望告知贴息办理进度。"),
        amount=(50, 480),
    ),
    DomainSpec(
        id="credit_repair",
        name="信用修复",
        lead="gxq.scjgj",
        co=("gxq.swj", "gxq.jfj"),
        problems=(
            (
                "申请移出经营异常名录",
                "{enterprise}因{credit_cause}被列入经营异常名录，现已整改完毕并补报，"
                "申请移出后影响{credit_effect}，问题仍未解决。",
            ),
            (
                "行政处罚信息信用修复",
                "{enterprise}曾因{credit_cause}受到行政处罚，罚款已缴清，公示期已满，"
                "但信用网站仍显示记录，影响{credit_effect}。",
            ),
        ),
        asks=("请求尽快办理信用修复。", "希望明确修复条件和流程。"),
    ),
    DomainSpec(
        id="construction_permit",
        name="施工许可",
        lead="gxq.gycsjsj",
        co=("gxq.gtj", "gxq.sthcsglj", "gxq.zwfw"),
        problems=(
            (
                "{project}施工许可办理缓慢",
                "{enterprise}投资建设的{project}位于{street}，总投资约{amount}万元，施工许可"
                "申请已提交，但{obstacle_build}，工期受到影响。",
            ),
            (
                "咨询{project}施工许可办理时限",
                "{enterprise}拟建{project}，总投资约{amount}万元，想了解施工许可需要哪些"
                "前置审批以及办理时限。",
            ),
        ),
        asks=("希望加快办理。", "请求明确办理时限。", "希望提供并联审批服务。"),
        amount=(80, 480),
    ),
    DomainSpec(
        id="planning_title_proof",
        name="报规报建/权属证明",
        lead="gxq.gtj",
        co=("gxq.gycsjsj", "gxq.zwfw"),
        problems=(
            (
                "报规报建缺少权属证明",
                "{enterprise}使用的{site}为早年取得，{title_issue}，办理报规报建时无法提供"
                "权属证明文件，项目无法推进。",
            ),
            (
                "厂房改扩建规划审批受阻",
                "{enterprise}拟对位于{street}的{site}进行改扩建，规划审批要求补充权属材料，"
                "{title_issue}。",
            ),
        ),
        asks=("希望协调解决权属证明问题。", "请求给予政策指导。"),
    ),
    DomainSpec(
        id="tax_service",
        name="税务服务",
        lead="gxq.swj",
        co=(),
        problems=(
            ("{tax_topic}办理咨询", "{enterprise}咨询{tax_topic}的办理条件和所需材料。"),
            ("{tax_topic}进度查询", "{enterprise}已提交{tax_topic}申请，想了解目前办理进度。"),
        ),
        asks=("请予答复。", "希望告知办理进度。"),
        multi_department=False,
    ),
    DomainSpec(
        id="social_security",
        name="社会保障",
        lead="gxq.rsj",
        co=(),
        problems=(
            ("{social_topic}咨询", "{enterprise}人事咨询{social_topic}的办理流程。"),
            (
                "{social_topic}办理问题",
                "{enterprise}在线办理{social_topic}时系统提示错误，无法提交。",
            ),
        ),
        asks=("请予答复。", "希望尽快处理。"),
        multi_department=False,
    ),
    DomainSpec(
        id="utilities",
        name="水电气报装",
        lead="gxq.jfj",
        co=(),
        problems=(
            (
                "{utility}报装进度慢",
                "{enterprise}位于{street}{road}，{utility}报装申请已提交，至今未完成接入。",
            ),
            ("{utility}费用咨询", "{enterprise}咨询{utility}报装的收费标准及办理时限。"),
        ),
        asks=("希望加快办理。", "请予答复。"),
        multi_department=False,
    ),
    DomainSpec(
        id="ip_protection",
        name="知识产权",
        lead="gxq.scjgj",
        co=(),
        problems=(("{ip_topic}咨询", "{enterprise}咨询{ip_topic}的办理流程及相关扶持政策。"),),
        asks=("请予答复。",),
        multi_department=False,
    ),
)

_DOMAIN_BY_ID: Mapping[str, DomainSpec] = {d.id: d for d in DOMAINS}

_SLOTS: Mapping[str, tuple[str, ...]] = {
    "permit": (
        "食品经营许可",
        "排污许可",
        "消防安全检查",
        "卫生许可",
        "特种设备使用登记",
        "医疗器械经营备案",
        "危险化学品经营许可",
        "户外广告设置许可",
    ),
    "obstacle": (
        "经营场所用途与规划用途不一致",
        "需要先取得其他部门的前置意见",
        "房屋消防验收资料缺失",
        "系统中无法选择对应经营范围",
        "环评手续需要重新办理",
    ),
    "business": (
        "软件开发",
        "餐饮服务",
        "医疗器械销售",
        "文化创意",
        "检验检测",
        "跨境电商",
        "连锁零售",
    ),
    "policy": (
        "高新技术企业认定奖励",
        "研发费用补贴",
        "新经济企业梯度培育奖励",
        "稳岗补贴",
        "首台套装备奖励",
        "人才安居补贴",
        "上市挂牌奖励",
    ),
    "loan": ("知识产权质押贷款", "科技型中小企业信用贷款", "应急转贷资金", "供应链融资"),
    "obstacle_fin": ("提供不动产抵押", "追加第三方担保", "提供近三年审计报告"),
    "credit_cause": ("未按时报送年度报告", "逾期申报纳税", "通过登记的住所无法联系"),
    "credit_effect": ("参与政府采购投标", "申请银行贷款", "申报高新技术企业"),
    "project": ("研发中心项目", "标准厂房项目", "产业园二期项目", "生产基地扩建项目", "综合楼项目"),
    "obstacle_build": (
        "需要补充的材料反复变化",
        "图审意见与规划意见不一致",
        "各部门审批环节串联排队",
    ),
    "site": ("厂房", "工业用地", "办公楼", "仓储用房"),
    "title_issue": (
        "当时的土地证因历史遗留问题未能换发",
        "原权属人已注销无法配合办理",
        "土地出让合同与实际用地范围不符",
    ),
    "tax_topic": (
        "增值税留抵退税",
        "研发费用加计扣除",
        "发票领用",
        "跨区域涉税事项报告",
        "出口退税",
    ),
    "social_topic": ("社保开户", "职工参保登记", "失业保险稳岗返还", "工伤认定", "社保费缓缴"),
    "utility": ("用电", "用水", "天然气", "宽带"),
    "ip_topic": ("专利申请", "商标注册", "专利权质押登记", "知识产权维权援助"),
}

_STREETS = (
    "肖家河街道",
    "芳草街道",
    "石羊街道",
    "桂溪街道",
    "合作街道",
    "西园街道",
    "中和街道",
    "新川片区",
)
_ROADS = (
    "天府大道",
    "益州大道",
    "天府三街",
    "府城大道",
    "交子大道",
    "科园南路",
    "西芯大道",
    "创业路",
    "锦城大道",
    "剑南大道",
)
_SYLLABLES = (
    "睿",
    "澜",
    "岷",
    "朗",
    "璟",
    "曜",
    "沐",
    "禾",
    "翎",
    "杉",
    "蔚",
    "骁",
    "筠",
    "棠",
    "珂",
    "昶",
    "钿",
    "泓",
    "岱",
    "芮",
    "霁",
    "淙",
    "骞",
    "瑭",
)
_SECTORS: tuple[tuple[str, str], ...] = (
    ("科技", "6513"),
    ("信息技术", "6550"),
    ("生物医药", "2761"),
    ("智能制造", "3491"),
    ("电子", "3982"),
    ("餐饮管理", "6210"),
    ("商贸", "5199"),
    ("文化传媒", "8770"),
    ("检测技术", "7452"),
    ("新能源", "4416"),
)
_FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")
_TAGS = (
    "高新技术企业",
    "专精特新",
    "瞪羚企业",
    "科技型中小企业",
    "新经济企业",
    "独角兽企业",
    "外资企业",
    "上市公司",
)
_REGIONS = ("510109", "510109", "510109", "510100", "510107", "510116", "510104")
_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "马", "胡")
_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

_OPENERS: Mapping[str, tuple[str, ...]] = {
    "consult": ("来电咨询：", "企业咨询：", "诉求人咨询："),
    "help": ("来电求助：", "企业反映：", "诉求人反映："),
    "complaint": ("来电投诉：", "企业投诉：", "诉求人不满："),
    "suggestion": ("企业建议：", "诉求人建议："),
    "report": ("来电举报：",),
    "praise": ("来电表扬：",),
}

_ESCALATION_TEXT: Mapping[str, tuple[str, ...]] = {
    "cannot_operate": (
        "目前门店已停业，企业至今无法经营。",
        "设备已安装完毕，但企业无法经营，损失严重。",
    ),
    "repeated_contact": ("此前已多次反映，问题仍未解决。", "企业已第{contacts}次来电反映此事。"),
    "returned_twice": ("工单在{dept_a}和{dept_b}之间多次退回，无部门牵头办理。",),
    "social_risk": (
        "涉及员工{people}余人工资发放，员工情绪激动。",
        "企业表示如问题得不到解决将向媒体曝光。",
        "企业表示如再无答复将联合其他企业集体上访。",
    ),
    "cross_department": ("该事项涉及{dept_a}、{dept_b}等多个部门。",),
}

_DEPARTMENT_NAMES: Mapping[str, str] = {
    "gxq.scjgj": "市场监管局",
    "gxq.zwfw": "政务服务中心",
    "gxq.gycsjsj": "公园城市建设局",
    "gxq.sthcsglj": "生态环境和城市管理局",
    "gxq.jfj": "经济运行局",
    "gxq.czj": "财政金融局",
    "gxq.gtj": "规划和自然资源局",
    "gxq.swj": "税务局",
    "gxq.rsj": "人社局",
    "gxq.kjj": "科技创新局",
}


def _weights(pairs: Sequence[tuple[str, float]]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


@dataclass(frozen=True)
class CorpusProfile:
    """The mixes the generator draws from; override one to model another district's traffic.

    Weights need not sum to 1. ``escalation_rate`` is the share of cases planted with at least
    one escalation feature; ``anonymous_rate`` the share of anonymous requesters;
    ``repeat_enterprise_rate`` the share of cases from an enterprise seen before;
    ``rest_day_weight`` how likely a rest day is to receive a case relative to a working day.
    """

    channels: Sequence[tuple[str, float]] = (
        ("hotline_12345", 55),
        ("web", 12),
        ("app", 12),
        ("service_officer", 8),
        ("hall_window", 6),
        ("complaint_portal", 3),
        ("email", 2),
        ("upstream_transfer", 1),
        ("dept_referral", 1),
    )
    appeal_types: Sequence[tuple[str, float]] = (
        ("help", 35),
        ("consult", 28),
        ("complaint", 22),
        ("suggestion", 8),
        ("report", 4),
        ("praise", 3),
    )
    domains: Sequence[tuple[str, float]] = (
        ("market_entry_operation", 12),
        ("policy_redemption", 14),
        ("financing", 8),
        ("credit_repair", 6),
        ("construction_permit", 8),
        ("planning_title_proof", 4),
        ("tax_service", 18),
        ("social_security", 16),
        ("utilities", 10),
        ("ip_protection", 4),
    )
    sizes: Sequence[tuple[str, float]] = (
        ("micro", 35),
        ("small", 38),
        ("medium", 18),
        ("large", 6),
        ("unknown", 3),
    )
    escalation_rate: float = 0.07
    anonymous_rate: float = 0.25
    repeat_enterprise_rate: float = 0.3
    rest_day_weight: float = 0.08
    office_hours_rate: float = 0.85

    def __post_init__(self) -> None:
        for name in ("channels", "appeal_types", "domains", "sizes"):
            mix = getattr(self, name)
            if not mix or any(w < 0 for _, w in mix) or sum(w for _, w in mix) <= 0:
                raise ValueError(f"CorpusProfile.{name} needs positive weights, got {mix!r}")
        unknown = [d for d, _ in self.domains if d not in _DOMAIN_BY_ID]
        if unknown:
            raise ValueError(
                f"CorpusProfile.domains names unknown domains {unknown}; "
                f"known: {', '.join(_DOMAIN_BY_ID)}"
            )
        for name in (
            "escalation_rate",
            "anonymous_rate",
            "repeat_enterprise_rate",
            "office_hours_rate",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"CorpusProfile.{name} must be within [0, 1], got {value}")
        if self.rest_day_weight < 0:
            raise ValueError("CorpusProfile.rest_day_weight must not be negative")


DEFAULT_PROFILE = CorpusProfile()

_ESCALATING_DOMAINS = (
    ("market_entry_operation", 30),
    ("policy_redemption", 20),
    ("financing", 12),
    ("credit_repair", 10),
    ("construction_permit", 18),
    ("planning_title_proof", 10),
)


def make_uscc(rng: random.Random, region: str = "510109") -> str:
    """A valid 统一社会信用代码: 9 (market regulator) 1 (enterprise), the region, a GB 11714
    organisation code with its own check character, and the GB 32100 check character."""
    if rng.random() < 0.8:  # codes issued since 2015 start with MA
        body = "MA" + "".join(rng.choice(_ORG_ALPHABET) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(w * int(c, 36) for w, c in zip(weights, body, strict=True))
    check = 11 - total % 11
    org = body + ("0" if check == 11 else "X" if check == 10 else str(check))
    first17 = "91" + region + org
    return first17 + str(stdnum_uscc.calc_check_digit(first17))


@dataclass
class _Enterprise:
    name: str
    uscc: str
    size: str
    industry_code: str
    tags: list[str]
    street: str
    road: str


@dataclass
class _State:
    """Per-call state; lives only inside one generator run, so calls never share anything."""

    rng: random.Random
    profile: CorpusProfile
    enterprises: list[_Enterprise] = field(default_factory=list)
    names: set[str] = field(default_factory=set)


def _pick(rng: random.Random, mix: Sequence[tuple[str, float]]) -> str:
    items, weights = _weights(mix)
    return rng.choices(items, weights=weights)[0]


def _new_enterprise(state: _State) -> _Enterprise:
    rng = state.rng
    for _ in range(50):
        brand = "".join(rng.sample(_SYLLABLES, rng.choice((2, 3))))
        sector, code = rng.choice(_SECTORS)
        name = f"成都{brand}{sector}{rng.choice(_FORMS)}"
        if name not in state.names:
            break
    state.names.add(name)
    size = _pick(rng, state.profile.sizes)
    tag_count = rng.choices((0, 1, 2), weights=(45, 40, 15))[0]
    tags = sorted(rng.sample(_TAGS[:6], tag_count)) if tag_count else []
    return _Enterprise(
        name=name,
        uscc=make_uscc(rng, rng.choice(_REGIONS)),
        size=size,
        industry_code=code,
        tags=tags,
        street=rng.choice(_STREETS),
        road=rng.choice(_ROADS),
    )


def _enterprise(state: _State) -> _Enterprise:
    if state.enterprises and state.rng.random() < state.profile.repeat_enterprise_rate:
        # Earlier enterprises are a little likelier to come back (a few frequent callers).
        k = len(state.enterprises)
        return state.enterprises[min(int(k * state.rng.random() ** 2), k - 1)]
    firm = _new_enterprise(state)
    state.enterprises.append(firm)
    return firm


def _is_working_day(calendar: Calendar, day: date) -> bool:
    """The official calendar where it has data, Monday-Friday outside it (see module doc)."""
    try:
        return calendar.is_working_day(day)
    except CalendarError:
        return day.weekday() < 5


def _arrival_times(state: _State, n: int, start: date, end: date) -> list[datetime]:
    rng, profile = state.rng, state.profile
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    calendar = national_calendar()
    weights = [1.0 if _is_working_day(calendar, d) else profile.rest_day_weight for d in days]
    if sum(weights) <= 0:
        weights = [1.0] * len(days)
    cumulative = list(accumulate(weights))
    total = cumulative[-1]
    times: list[datetime] = []
    for _ in range(n):
        day = days[min(bisect_right(cumulative, rng.random() * total), len(days) - 1)]
        if rng.random() < profile.office_hours_rate:
            # 09:00-12:00 or 13:30-17:30, the hours 12345 agents and service windows are busiest.
            minute = rng.randrange(180 + 240)
            minute = 9 * 60 + minute if minute < 180 else 13 * 60 + 30 + (minute - 180)
        else:
            minute = rng.randrange(7 * 60, 22 * 60)
        moment = datetime.combine(day, time(minute // 60, minute % 60, rng.randrange(60)))
        times.append(moment.replace(tzinfo=SHANGHAI))
    times.sort()
    return times


def _features(state: _State, domain: DomainSpec) -> list[str]:
    rng = state.rng
    candidates = ["repeated_contact", "returned_twice", "social_risk"]
    if domain.multi_department:
        candidates.append("cross_department")
    if domain.id == "market_entry_operation":
        candidates += ["cannot_operate", "cannot_operate"]
    if domain.amount is not None:
        candidates += ["large_amount"]
    count = rng.choices((1, 2, 3), weights=(60, 30, 10))[0]
    chosen: list[str] = []
    while len(chosen) < count and candidates:
        feature = rng.choice(candidates)
        candidates = [c for c in candidates if c != feature]
        chosen.append(feature)
    return sorted(chosen, key=ESCALATION_FEATURES.index)


def _draft(
    state: _State, index: int, received_at: datetime
) -> tuple[dict[str, Any], frozenset[str]]:
    rng, profile = state.rng, state.profile
    escalate = rng.random() < profile.escalation_rate
    appeal = _pick(rng, profile.appeal_types)
    if escalate:
        domain = _DOMAIN_BY_ID[_pick(rng, _ESCALATING_DOMAINS)]
        if appeal == "praise":
            appeal = "complaint"
    else:
        domain = _DOMAIN_BY_ID[_pick(rng, profile.domains)]
    features = _features(state, domain) if escalate else []
    firm = _enterprise(state)
    channel = _pick(rng, profile.channels)

    facts: dict[str, Any] = {}
    if domain.amount is not None:
        low, high = domain.amount
        amount = rng.randint(low, high)
        if "large_amount" in features:
            amount = rng.choice((rng.randint(LARGE_AMOUNT_WAN, 1900), rng.randint(2000, 8000)))
        facts["amount_wan"] = amount
    contacts = rng.choices((0, 1), weights=(75, 25))[0]
    if "repeated_contact" in features:
        contacts = rng.randint(REPEATED_CONTACTS, 5)
    facts["prior_contacts"] = contacts
    returns = rng.choices((0, 1), weights=(85, 15))[0] if domain.multi_department else 0
    if "returned_twice" in features:
        returns = rng.randint(RETURNS_TO_ESCALATE, 3)
    facts["returns_between_departments"] = returns
    if domain.id == "construction_permit":
        # A small low-risk project cannot be a large-amount one; the flag follows the amount.
        facts["low_risk_small_project"] = "large_amount" not in features and rng.random() < 0.4
        if facts["low_risk_small_project"] and facts["amount_wan"] > 300:
            facts["amount_wan"] = rng.randint(30, 300)

    co = list(domain.co)
    rng.shuffle(co)
    dept_a = _DEPARTMENT_NAMES[domain.lead]
    dept_b = _DEPARTMENT_NAMES[co[0]] if co else "政务服务中心"
    values: dict[str, Any] = {
        "enterprise": firm.name,
        "street": firm.street,
        "road": firm.road,
        "month": rng.randint(1, 12),
        "amount": facts.get("amount_wan", 0),
        "tag": firm.tags[0] if firm.tags else "科技型中小企业",
        "contacts": contacts + 1,
        "dept_a": dept_a,
        "dept_b": dept_b,
        "people": rng.choice((50, 80, 120, 200, 300)),
    }
    # One draw per slot, so the title and the content talk about the same permit or policy.
    slots: dict[str, Any] = {k: rng.choice(v) for k, v in _SLOTS.items()}
    slots.update(values)
    title_t, body_t = rng.choice(domain.problems)
    title = title_t.format_map(slots)
    parts = [rng.choice(_OPENERS[appeal]), body_t.format_map(slots)]
    for feature in features:
        if feature in _ESCALATION_TEXT:
            parts.append(rng.choice(_ESCALATION_TEXT[feature]).format_map(slots))
    if appeal == "praise":
        title = f"表扬{dept_a}工作人员"
        parts = [
            rng.choice(_OPENERS["praise"]),
            f"{firm.name}此前反映的“{title}”"
            f"一事，{dept_a}工作人员主动对接、耐心指导，问题已解决，特此表扬。",
        ]
    elif appeal == "suggestion":
        parts.append("建议优化相关办理流程，实行一窗受理、并联办理。")
    else:
        parts.append(rng.choice(domain.asks))

    departments: list[dict[str, str]] = []
    if "cross_department" in features:
        departments = [{"id": domain.lead, "role": "lead"}]
        departments += [{"id": d, "role": "co"} for d in co[: rng.randint(1, min(3, len(co)))]]
    elif rng.random() < 0.6:
        # The hotline dispatcher's own single-department assignment.
        departments = [{"id": domain.lead, "role": "lead"}]

    anonymous = rng.random() < profile.anonymous_rate
    requester: dict[str, Any] = {"anonymous": anonymous}
    if not anonymous:
        requester["name"] = rng.choice(_SURNAMES) + rng.choice(("先生", "女士"))
        requester["phone"] = (
            rng.choice(("1380000", "1390000", "1350000")) + f"{rng.randrange(10000):04d}"
        )
        requester["confidential"] = rng.random() < 0.1

    enterprise: dict[str, Any] = {"name": firm.name, "size": firm.size, "tags": list(firm.tags)}
    if rng.random() < 0.92:  # some callers do not know their code
        enterprise["uscc"] = firm.uscc
    enterprise["industry_code"] = firm.industry_code

    case: dict[str, Any] = {
        "external_id": f"GX{received_at:%Y%m%d}-{index + 1:06d}",
        "channel": channel,
        "received_at": received_at.isoformat(),
        "appeal_type": appeal,
        "title": title,
        "content": "".join(parts),
        "domain": domain.id,
        "enterprise": enterprise,
        "requester": requester,
        "location": {
            "district": "成都高新区",
            "street": firm.street,
            "address": f"{firm.road}{rng.randint(1, 2000)}号",
        },
        "departments": departments,
        "facts": facts,
    }
    return case, frozenset(features)


def generate_labelled(
    n: int,
    *,
    seed: int = 0,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    profile: CorpusProfile = DEFAULT_PROFILE,
) -> Iterator[tuple[dict[str, Any], frozenset[str]]]:
    """Like :func:`generate_cases`, each case paired with the escalation features planted in
    it (empty for the ordinary majority) — the ground truth for checking a pack's escalations."""
    if n < 0:
        raise ValueError(f"number of cases must not be negative, got {n}")
    if end < start:
        raise ValueError(f"end date {end} is before start date {start}")
    state = _State(rng=random.Random(seed), profile=profile)
    times = _arrival_times(state, n, start, end)
    for index, received_at in enumerate(times):
        yield _draft(state, index, received_at)


def generate_cases(
    n: int,
    *,
    seed: int = 0,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    profile: CorpusProfile = DEFAULT_PROFILE,
) -> Iterator[dict[str, Any]]:
    """Yield ``n`` synthetic work orders (minimal case JSON as dicts) in arrival order.

    Deterministic for a given ``seed``, dates and profile; arrival times lie in
    ``[start, end]`` (both inclusive), Asia/Shanghai.
    """
    for case, _features in generate_labelled(n, seed=seed, start=start, end=end, profile=profile):
        yield case


def write_jsonl(
    path: str | Path,
    n: int,
    seed: int = 0,
    *,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
) -> int:
    """Write ``n`` cases as JSON Lines (UTF-8, Chinese kept readable); returns the count."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="\n") as out:
        for case in generate_cases(n, seed=seed, start=start, end=end):
            out.write(json.dumps(case, ensure_ascii=False, sort_keys=False) + "\n")
            count += 1
    return count
