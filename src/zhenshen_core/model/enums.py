"""Enumerations with stable English codes and Chinese labels.

Codes are what storage, rule packs and APIs exchange; they never change meaning (attrs' habit).
Labels are what district staff read, so they live beside the code instead of in a lookup table
that could drift.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class LabeledEnum(StrEnum):
    """A string enum whose members carry a Chinese label for display."""

    label: str

    def __new__(cls, code: str, label: str = "") -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label or code
        return member

    @classmethod
    def choices(cls) -> dict[str, str]:
        """Codes mapped to labels, for docs, schemas and error messages."""
        return {m.value: m.label for m in cls}


class AppealType(LabeledEnum):
    CONSULT = "consult", "咨询"
    HELP = "help", "求助"
    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    SUGGESTION = "suggestion", "建议"
    PRAISE = "praise", "表扬"


class Channel(LabeledEnum):
    HOTLINE_12345 = "hotline_12345", "12345热线"
    WEB = "web", "网站"
    APP = "app", "移动端"
    HALL_WINDOW = "hall_window", "政务大厅窗口"
    SERVICE_OFFICER = "service_officer", "企业服务专员"
    COMPLAINT_PORTAL = "complaint_portal", "投诉平台"
    UPSTREAM_TRANSFER = "upstream_transfer", "上级转办"
    DEPT_REFERRAL = "dept_referral", "部门移送"
    EMAIL = "email", "电子邮件"
    OPEN311 = "open311", "Open311"
    BATCH_IMPORT = "batch_import", "批量导入"
    API = "api", "接口"


class EnterpriseSize(LabeledEnum):
    MICRO = "micro", "微型"
    SMALL = "small", "小型"
    MEDIUM = "medium", "中型"
    LARGE = "large", "大型"
    UNKNOWN = "unknown", "未知"


class DepartmentRole(LabeledEnum):
    LEAD = "lead", "牵头"
    CO = "co", "配合"


class Tier(LabeledEnum):
    GENERAL = "general", "一般性问题"
    MAJOR = "major", "重大疑难问题"


class Chair(LabeledEnum):
    OFFICE_HEAD = "office_head", "营商环境领导小组办公室"
    LEADER_IN_CHARGE = "leader_in_charge", "管委会分管委领导"


class OpinionResult(LabeledEnum):
    SUPPORTED = "supported", "予以支持"
    PARTIALLY_SUPPORTED = "partially_supported", "部分支持"
    NOT_SUPPORTED = "not_supported", "不予支持"
    OTHER_PROCEDURE = "other_procedure", "通过其他程序解决"
    POLICY_GAP = "policy_gap", "政策空白，需完善制度"


class Satisfaction(LabeledEnum):
    """The national 好差评 five-level scale, best first."""

    VERY_SATISFIED = "very_satisfied", "非常满意"
    SATISFIED = "satisfied", "满意"
    BASICALLY_SATISFIED = "basically_satisfied", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"
    VERY_DISSATISFIED = "very_dissatisfied", "非常不满意"

    @property
    def is_negative(self) -> bool:
        """Negative ratings reopen a case, as the closed loop in the article requires."""
        return self in (Satisfaction.DISSATISFIED, Satisfaction.VERY_DISSATISFIED)


class MeetingKind(LabeledEnum):
    JOINT_REVIEW = "joint_review", "联合甄审会议"
    LEADING_GROUP = "leading_group", "领导小组会议"


class TaskStatus(LabeledEnum):
    OPEN = "open", "办理中"
    DONE = "done", "已完成"
    CANCELLED = "cancelled", "已撤销"


class CaseStatus(LabeledEnum):
    RECEIVED = "received", "已接收"
    ACCEPTED = "accepted", "已受理"
    NOT_ACCEPTED = "not_accepted", "不予受理"
    ROUTED = "routed", "已转常规办理"
    SCREENING = "screening", "甄别中"
    AWAITING_INFO = "awaiting_info", "待补充材料"
    MEETING_SCHEDULED = "meeting_scheduled", "已安排甄审会议"
    MEETING_HELD = "meeting_held", "已召开甄审会议"
    OPINION_ISSUED = "opinion_issued", "已出具意见书"
    PENDING_CONFIRMATION = "pending_confirmation", "待领导小组确认"
    CONFIRMED = "confirmed", "已确认"
    EXECUTING = "executing", "执行中"
    FEEDBACK = "feedback", "待反馈评价"
    CLOSED = "closed", "已办结"
    REOPENED = "reopened", "已重新启动"
    WITHDRAWN = "withdrawn", "已撤回"
    MERGED = "merged", "已合并"
