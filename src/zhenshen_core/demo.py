"""The main job of ``make demo``: a year of a district's joint review desk, simulated.

It ingests a corpus of 12345-style work orders into a store, lets the pack grade and route every
case, drives the cases the pack sends to joint review through the whole process of the source
article (screening, the joint meeting, the opinion letter, the leading group's confirmation,
execution tasks, feedback), hands the rest to ordinary handling, sweeps the deadline clocks and
builds the report. Staff actions are simulated with a seeded random generator per case, so the
same corpus and seed give the same report; a few steps are deliberately late so the supervision
sweep and the on-time rates have something to show.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from zhenshen_core.desk import Desk, SweepResult
from zhenshen_core.errors import GuardError
from zhenshen_core.intake import IntakeSummary
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.model.enums import CaseStatus, DepartmentRole, OpinionResult, Satisfaction
from zhenshen_core.progress import SILENT, ProgressReporter
from zhenshen_core.report import DeskReport, ReportLabels, build_report

REASONS = {
    OpinionResult.SUPPORTED: "企业诉求事实清楚，符合现行政策规定，相关部门应在规定时限内予以办理。",
    OpinionResult.PARTIALLY_SUPPORTED: (
        "企业诉求部分符合政策规定；不符合部分已向企业说明理由及其他解决途径。"
    ),
    OpinionResult.NOT_SUPPORTED: "经核查，企业诉求缺乏政策依据，已向企业释明相关规定。",
    OpinionResult.POLICY_GAP: "现行政策对此类情形未作规定，建议完善制度并举一反三。",
}
MEASURES = (  # (description, period) for the lead department, then for the first co-department
    ("牵头落实甄别审查意见书确定的措施并反馈企业", "15 working days"),
    ("配合出具部门意见并落实职责范围内的措施", "10 working days"),
)
ADVICE = {
    "lawyer": "经审查，相关事实与法律依据清楚，建议依法依规予以办理并做好释法说理。",
    "think_tank": "建议从制度层面梳理同类问题，形成可复制的解决路径。",
    "industry": "从行业实践看，企业诉求具有代表性，建议并联推进相关审批。",
}
LEGAL_BASIS = ["《优化营商环境条例》（国务院令第722号）", "《四川省优化营商环境条例》"]


@dataclass
class SimClock:
    """The simulated 'now' the desk reads while the demo replays a year of work."""

    current: datetime

    def __call__(self) -> datetime:
        return self.current


@dataclass
class DemoResult:
    intake: IntakeSummary
    sweep: SweepResult
    report: DeskReport
    joint_review_ids: list[str] = field(default_factory=list)
    routed_ids: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


class _Simulation:
    def __init__(self, desk: Desk, sim: SimClock, end: datetime, seed: int) -> None:
        self.desk, self.sim, self.end, self.seed = desk, sim, end, seed

    def wd(self, start: datetime, n: int, hour: int) -> datetime:
        return _at(self.desk.calendar.add_working_days(start.date(), n), hour)

    def step(self, when: datetime, action: Callable[..., Case], *args: Any, **kw: Any) -> bool:
        """Run one staff action at ``when``; False once the demo's end is reached."""
        if when > self.end:
            return False
        self.sim.current = when
        action(*args, at=when, **kw)
        return True

    def joint_review(self, case: Case) -> None:
        rng = random.Random(f"{self.seed}:{case.id}")
        d, cid, r = self.desk, case.id, case.received_at
        meeting_at = self.wd(r, rng.choice([2, 3, 4, 4, 5, 6, 8, 12]), 10)
        late_letter = rng.random() < 0.12
        opinion_at = self.wd(meeting_at, 3 if late_letter else rng.choice([1, 1, 2]), 16)
        confirm_at = self.wd(opinion_at, 2, 10)
        result = rng.choices(list(REASONS), weights=[6, 3, 1, 1])[0]
        leads_first = sorted(case.departments, key=lambda x: x.role is not DepartmentRole.LEAD)
        depts = [x.id for x in leads_first] or ["gxq.yshj"]
        measures = [
            {"description": text, "department": dept, "period": period}
            for dept, (text, period) in zip(depts, MEASURES, strict=False)
        ]
        ok = (
            self.step(r + timedelta(hours=2), d.screen, cid)
            and self.step(r + timedelta(hours=3), d.schedule_meeting, cid, meeting_at)
            and self.step(meeting_at, self._hold, cid)
            and all(
                self.step(meeting_at, d.record_expert_advice, cid, e.kind, ADVICE.get(e.kind, ""))
                for e in d.get(cid).experts
                if e.required and ADVICE.get(e.kind)
            )
            and self.step(
                opinion_at,
                d.issue_opinion,
                cid,
                result=result,
                reasons=REASONS[result],
                measures=measures,
                legal_basis=LEGAL_BASIS,
            )
            and self.step(confirm_at, self._confirm, cid)
        )
        if not ok:
            return
        assign_at = confirm_at + timedelta(hours=1)
        for measure in measures:
            if not self.step(
                assign_at,
                d.assign_task,
                cid,
                measure["department"],
                measure["description"],
                measure["period"],
            ):
                return
        if not self.step(assign_at, d.start_execution, cid):
            return
        last = assign_at
        for task in d.get(cid).tasks:
            late = rng.random() < 0.1
            done_at = self.wd(assign_at, (16 if late else rng.randint(3, 9)), 15)
            last = max(last, done_at)
            if not self.step(done_at, d.complete_task, cid, task.id, result="已按意见书落实"):
                return
        self.close_loop(cid, last, rng)

    def _hold(self, case_id: str, *, at: datetime) -> Case:
        return self.desk.hold_meeting(case_id, at, minutes="各部门逐项研究企业诉求，形成一致意见。")

    def _confirm(self, case_id: str, *, at: datetime) -> Case:
        return self.desk.confirm(case_id, at, note="领导小组会议确认")

    def ordinary(self, case: Case) -> None:
        rng = random.Random(f"{self.seed}:{case.id}")
        d, r = self.desk, case.received_at
        done_at = self.wd(r, rng.choice([1, 2, 3, 5, 7, 9, 12]), 17)
        if self.step(r + timedelta(hours=1), d.route, case.id, reason="常规办理") and self.step(
            done_at, d.complete_routed, case.id
        ):
            self.close_loop(case.id, done_at, rng)

    def close_loop(self, case_id: str, after: datetime, rng: random.Random) -> None:
        d = self.desk
        executing = d.get(case_id).status is CaseStatus.EXECUTING
        if executing and not self.step(after + timedelta(hours=1), d.finish_execution, case_id):
            return
        rating = rng.choices(list(Satisfaction), weights=[60, 30, 6, 3, 1])[0]
        fb_at = self.wd(after, 1, 11)
        if not self.step(fb_at, d.record_feedback, case_id, rating):
            return
        then = d.reopen if rating.is_negative else d.close_case
        self.step(fb_at + timedelta(hours=1), then, case_id)


def run_demo(
    desk: Desk,
    sim: SimClock,
    corpus: str,
    *,
    end: datetime,
    seed: int = 2020,
    channel: str = "jsonl",
    progress: ProgressReporter = SILENT,
) -> DemoResult:
    """Ingest ``corpus``, simulate the desk's work until ``end``, sweep, and report.

    ``progress`` hears the phases: ingest (each record decided as it is read), simulate
    (cases), sweep, report.
    """
    sim.current = end
    intake = desk.ingest(channel, corpus, progress=progress)
    simulation = _Simulation(desk, sim, end, seed)
    joint: list[str] = []
    routed: list[str] = []
    skipped: list[str] = []
    case_ids = list(dict.fromkeys(intake.case_ids))
    advance = progress.phase("simulate", len(case_ids), unit="cases")
    for case_id in case_ids:
        advance(1)
        case = desk.get(case_id)
        if case.status is not CaseStatus.RECEIVED:
            continue  # already handled in an earlier run of the demo on the same store
        try:
            if desk.needs_joint_review(case):
                joint.append(case.id)
                simulation.joint_review(case)
            else:
                routed.append(case.id)
                simulation.ordinary(case)
        except GuardError as exc:  # a simulated step the case's state refuses: keep going
            skipped.append(f"{case_id}: {exc}")
    sim.current = end
    swept_clocks = progress.phase("sweep", unit="clocks")
    swept = desk.sweep(end)
    swept_clocks(swept.clocks)
    progress.phase("report", unit="cases")
    report = build_report(
        desk.store,
        end,
        joint_review_tag=desk.settings.joint_review_tag,
        labels=ReportLabels.from_pack(desk.pack),
    )
    return DemoResult(intake, swept, report, joint, routed, skipped)
