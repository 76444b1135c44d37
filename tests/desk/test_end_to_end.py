"""A 12345 work order driven through every state of the joint review to CLOSED."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from zhenshen_core.desk import Desk
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.enums import CaseStatus, Chair, Tier
from zhenshen_core.model.lifecycle import Lifecycle
from zhenshen_core.plugins import HookFailure, PluginConfig, PluginHost, hookimpl
from zhenshen_core.rules import ResolvedPack
from zhenshen_core.storage import SQLiteStore

gaoxin_plugin = pytest.importorskip("zhenshen_chengdu_gaoxin.plugin")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.decisions = 0

    @hookimpl
    def zhenshen_case_transitioned(self, case: object, event: object) -> None:
        self.events.append(event.type)  # type: ignore[attr-defined]

    @hookimpl
    def zhenshen_decision_made(self, case: object, decision: object) -> None:
        self.decisions += 1


class BrokenSms:
    @hookimpl
    def zhenshen_case_transitioned(self, case: object, event: object) -> None:
        raise ConnectionError("SMS gateway unreachable")


def test_work_order_to_closed(
    tmp_path: Path, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    host = PluginHost(PluginConfig(autoload=False))
    host.register(gaoxin_plugin)  # the pack's plugin: the zone's letter heading (DeskDefaults)
    recorder = Recorder()
    host.register(recorder, name="recorder")
    host.register(BrokenSms(), name="sms")
    clock = {"now": at("2026-02-10T09:30")}
    store = SQLiteStore(str(tmp_path / "desk.db"))
    desk = Desk(store, pack=reference_pack, host=host, now=lambda: clock["now"])

    case = desk.receive(work_order)
    # the decision: graded, tiered, routed, experts and deadlines, explained
    assert case.severity == "S3" and case.tier is Tier.MAJOR
    assert case.chair is Chair.LEADER_IN_CHARGE
    assert case.lead_department == "gxq.scjgj"
    assert {d.id for d in case.departments} >= {"gxq.scjgj", "gxq.zwfw", "gxq.sthcsglj"}
    assert [e.kind for e in case.experts if e.required] == ["lawyer"]
    assert desk.needs_joint_review(case)
    assert case.decision is not None and case.decision["pack"]["id"] == "cn.chengdu.gaoxin"
    fired = {f["rule"] for f in case.decision["fired"]}
    assert {"severity.cannot-operate", "route.market-entry", "deadline.joint-review"} <= fired
    assert case.clocks["contact"].due_at == at("2026-02-12T00:00")  # 24:00 of 2026-02-11
    assert "opinion" not in case.clocks  # starts only when the meeting is held
    assert recorder.decisions == 1

    # a second delivery of the same work order is the same case
    assert desk.receive(work_order).id == case.id and store.count() == 1

    case = desk.screen(case.id, at=at("2026-02-10T11:00"))
    assert case.status is CaseStatus.SCREENING and case.clocks["contact"].stopped_at is not None

    case = desk.schedule_meeting(case.id, at("2026-02-13T09:00"), at=at("2026-02-11T10:00"))
    meeting = case.meetings[-1]
    assert meeting.chair is Chair.LEADER_IN_CHARGE
    assert meeting.attendees[0] == "gxq.scjgj"  # the lead first
    assert set(meeting.attendees) == {d.id for d in case.departments} | {"expert:lawyer"}

    # held on the Friday before the 2026 Spring Festival: 2-14 is a make-up Saturday, then the
    # holiday runs 2-15..2-23, so "2 working days after the meeting" ends on 2-24.
    case = desk.hold_meeting(case.id, at("2026-02-13T10:00"), minutes="各部门形成一致意见")
    opinion_clock = case.clocks["opinion"]
    assert opinion_clock.period == "2 working days"
    assert opinion_clock.due_at == at("2026-02-25T00:00")  # 24:00 of 2026-02-24
    assert case.clocks["meeting"].stopped_at is not None

    # the lawyer the rules called for gives advice at the meeting; the letter quotes it
    case = desk.record_expert_advice(
        case.id, "lawyer", "消防与排污事项可并联办理，合同违约风险可控。", name="张律师",
        at=at("2026-02-13T11:00"),
    )
    assert case.status is CaseStatus.MEETING_HELD  # bookkeeping: the case does not move

    case = desk.issue_opinion(
        case.id,
        result="supported",
        reasons="企业已具备经营条件，消防与排污事项应并联办理。",
        measures=["市场监管局牵头，三个工作日内组织联合踏勘"],
        legal_basis=["《优化营商环境条例》第十九条"],
        at=at("2026-02-24T16:00"),
    )
    assert case.status is CaseStatus.PENDING_CONFIRMATION
    assert case.opinion is not None and case.opinion.letter_no == "成高甄审〔2026〕1号"
    assert case.clocks["opinion"].stopped_at == at("2026-02-24T16:00")
    assert case.clocks["opinion"].stopped_at <= case.clocks["opinion"].due_at  # on time

    letter = desk.render_letter(case.id, "markdown").decode()
    for expected in (
        "甄别审查意见书",
        "成高甄审〔2026〕1号",
        "成都示例智造科技有限公司",
        "予以支持",
        "企业已具备经营条件",
        "市场监管局牵头",
        "优化营商环境条例",
        "专家意见（律师，张律师）：消防与排污事项可并联办理，合同违约风险可控。",
        # the measure's department (short name 市场监管局) and 3 working days from 2-24
        "| 市场监督管理局 | 2026年2月27日 |",
    ):
        assert expected in letter, expected
    assert "13800001111" not in letter
    assert "expert:" not in letter and "gxq." not in letter
    assert "参会单位及人员：" in letter and "、律师" in letter

    case = desk.confirm(case.id, at("2026-02-26T15:00"), note="领导小组会议确认")
    assert case.status is CaseStatus.CONFIRMED and case.confirmation is not None
    case = desk.assign_task(
        case.id, "gxq.scjgj", "组织联合踏勘并办结许可", "3 working days", at=at("2026-02-26T16:00")
    )
    assert case.tasks[0].due == date(2026, 3, 2)  # 2-28 is a make-up Saturday
    case = desk.start_execution(case.id, at=at("2026-02-26T16:05"))

    # the supervision sweep: past half of the task's time → a reminder, once
    swept = desk.sweep(at("2026-03-01T12:00"))
    assert [(a.clock, a.kind) for a in swept.alerts if a.case_id == case.id][:1] == [
        ("task:T1", "0.5")
    ]
    again = desk.sweep(at("2026-03-01T12:00"))
    assert not [a for a in again.alerts if a.clock == "task:T1" and a.kind == "0.5"]
    assert any(s.kind == "reminder" and s.clock == "task:T1" for s in desk.get(case.id).supervision)

    case = desk.complete_task(case.id, "T1", result="许可已办结", at=at("2026-03-02T15:00"))
    case = desk.finish_execution(case.id, at=at("2026-03-02T16:00"))
    case = desk.record_feedback(
        case.id, "very_satisfied", comment="问题解决", at=at("2026-03-03T10:00")
    )
    case = desk.close_case(case.id, at=at("2026-03-03T11:00"))
    assert case.status is CaseStatus.CLOSED
    assert all(c.stopped_at is not None for c in case.clocks.values())

    # the append-only history replays to exactly the stored case
    events = store.events(case.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert Lifecycle().replay(events) == store.get(case.id)
    kinds = [e.type for e in events if e.type != "clock_update"]
    assert kinds[:3] == ["receive", "decide", "accept"]
    assert kinds[-3:] == ["finish_execution", "record_feedback", "close"]
    statuses = [e.to_status for e in events]
    for state in (
        CaseStatus.SCREENING,
        CaseStatus.MEETING_HELD,
        CaseStatus.OPINION_ISSUED,
        CaseStatus.CONFIRMED,
        CaseStatus.EXECUTING,
        CaseStatus.FEEDBACK,
    ):
        assert state in statuses

    # the broken SMS plugin was reported every time and never rolled anything back
    assert recorder.events.count("close") == 1
    assert desk.failures and all(
        isinstance(f, HookFailure) and f.plugin == "sms" for f in desk.failures
    )


def test_negative_feedback_reopens_into_screening(
    tmp_path: Path, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    store = SQLiteStore(str(tmp_path / "desk.db"))
    desk = Desk(store, pack=reference_pack, now=lambda: at("2026-03-02T09:00"))
    order = dict(
        work_order,
        external_id="GX-2",
        domain="tax_service",
        content="发票申领咨询",
        appeal_type="consult",
        facts={},
    )
    case = desk.receive(order)
    assert not desk.needs_joint_review(case)
    case = desk.route(case.id, at=at("2026-03-02T10:00"))
    case = desk.complete_routed(case.id, at=at("2026-03-03T10:00"))
    case = desk.record_feedback(case.id, "dissatisfied", at=at("2026-03-04T10:00"))
    case = desk.reopen(case.id, at=at("2026-03-04T11:00"))
    assert case.status is CaseStatus.SCREENING


def test_request_info_pauses_clocks(
    tmp_path: Path, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    desk = Desk(
        SQLiteStore(str(tmp_path / "d.db")), pack=reference_pack, now=lambda: at("2026-02-10T09:30")
    )
    case = desk.receive(work_order)
    case = desk.screen(case.id, at=at("2026-02-10T10:00"))
    due_before = case.clocks["resolve"].due_at
    case = desk.request_info(case.id, "缺少消防验收资料", at=at("2026-03-02T09:00"))
    assert case.clocks["resolve"].paused and case.status is CaseStatus.AWAITING_INFO
    case = desk.provide_info(case.id, at=at("2026-03-06T09:00"))
    assert not case.clocks["resolve"].paused
    assert case.clocks["resolve"].due_at > due_before  # excluded time extends the deadline


def test_a_pack_may_ship_its_own_letter_template(
    tmp_path: Path, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    import dataclasses
    import shutil

    folder = tmp_path / "pack"
    shutil.copytree(reference_pack.path, folder)
    (folder / "templates").mkdir()
    (folder / "templates" / "opinion_letter.md.j2").write_text(
        "# {{ title }} {{ letter_no }}\n区县自定义模板：{{ result.label }}\n", encoding="utf-8"
    )
    (folder / "templates" / "opinion_letter.html.j2").write_text(
        "<p>{{ case.title }}</p>", encoding="utf-8"
    )
    pack = dataclasses.replace(reference_pack, path=str(folder))
    desk = Desk(SQLiteStore(str(tmp_path / "d.db")), pack=pack, now=lambda: at("2026-03-02T09:00"))
    case = desk.receive(work_order)
    desk.screen(case.id, at=at("2026-03-02T10:00"))
    desk.schedule_meeting(case.id, at("2026-03-03T09:00"), at=at("2026-03-02T11:00"))
    desk.hold_meeting(case.id, at("2026-03-03T09:00"))
    desk.record_expert_advice(case.id, "lawyer", "意见", at=at("2026-03-03T10:00"))
    desk.issue_opinion(case.id, result="supported", reasons="理由", at=at("2026-03-04T09:00"))
    letter = desk.render_letter(case.id, "markdown").decode()
    assert "区县自定义模板：予以支持" in letter and "〔2026〕1号" in letter
    html = desk.render_letter(case.id, "html").decode()
    assert html == f"<p>{work_order['title']}</p>"


def test_extensions_are_recorded_and_capped(
    tmp_path: Path, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    import pytest

    from zhenshen_core.deadlines.clocks import ClockStateError

    desk = Desk(
        SQLiteStore(str(tmp_path / "d.db")), pack=reference_pack, now=lambda: at("2026-09-14T09:00")
    )
    case = desk.receive(dict(work_order, received_at="2026-09-14T09:00:00+08:00"))
    before = case.clocks["resolve"].due_at
    case = desk.extend_clock(
        case.id,
        "resolve",
        "10 working days",
        approver="张主任",
        reason="需补充现场核查",
        cap="10 working days",
    )
    clock = case.clocks["resolve"]
    assert clock.extensions[0].approver == "张主任" and clock.due_at > before
    with pytest.raises(ClockStateError, match="more than the cap"):
        desk.extend_clock(
            case.id,
            "resolve",
            "1 working day",
            approver="张主任",
            reason="再延",
            cap="10 working days",
        )
    with pytest.raises(ClockStateError, match="approver"):
        desk.extend_clock(case.id, "resolve", "1 day", approver=" ", reason="x")
