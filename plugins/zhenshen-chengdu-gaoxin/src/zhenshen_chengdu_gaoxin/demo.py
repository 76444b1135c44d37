"""The main job of ``make demo``: a year of a district's joint review desk, simulated.

It reads a corpus of 12345-style work orders and replays the year on one timeline: each work
order arrives at its ``received_at`` (the desk stores it, the pack grades and routes it, its
clocks start), the cases the pack sends to joint review go through the whole process of the
source article (screening, the joint meeting, the opinion letter, the leading group's
confirmation, execution tasks, feedback), the rest go to ordinary handling, and the supervision
sweep runs every working morning. Then it builds the report.

Every step — a staff action, an enterprise's feedback, a sweep — is an event on that one
timeline and runs in time order, so the desk's clock never goes back: each case's history
starts with its receipt and is in time order, as a real desk's would be. A dissatisfied
enterprise's case is reopened and goes round again (screening, a new meeting, a new opinion)
until the enterprise is satisfied, at most ``MAX_ROUNDS`` times; a case whose next step falls
after the end of the year is reported as in progress. Staff actions are drawn from a seeded
random generator per case, so the same corpus and seed give the same report; a few steps are
deliberately late so the sweep and the on-time rates have something to show.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from zhenshen_core.desk import Desk, SweepResult
from zhenshen_core.desk.report import DeskReport, ReportLabels, build_report
from zhenshen_core.errors import CaseNotFoundError, GuardError
from zhenshen_core.intake import IntakeSummary, count_source, draft_case, guarded_read
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.model.enums import CaseStatus, DepartmentRole, OpinionResult, Satisfaction
from zhenshen_core.progress import SILENT, Advance, ProgressReporter

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

MAX_ROUNDS = 3
"""Joint reviews a case gets at most: a third round's feedback is never negative (the desk
keeps at it until the enterprise is satisfied, as the article's 100 % satisfaction reports)."""

#: 好差评 weights (非常满意 … 非常不满意) by round: fewer negatives each time round.
RATING_WEIGHTS = {1: (60, 30, 6, 3, 1), 2: (60, 30, 8, 1.5, 0.5), MAX_ROUNDS: (60, 30, 10, 0, 0)}

SWEEP_AT = time(8, 30)
"""The supervision sweep runs every working morning, as a scheduler would run it."""

Process = Iterator[datetime]
"""A simulated actor: yields the instant of its next step and does it when resumed then."""


@dataclass
class SimClock:
    """The simulated 'now' the desk reads while the demo replays a year of work; the real time
    until :func:`run_demo` sets it (a desk built on it warms up its cross-case rules as any
    desk does, at the real time)."""

    current: datetime | None = None

    def __call__(self) -> datetime:
        return self.current if self.current is not None else datetime.now(SHANGHAI)


@dataclass
class DemoResult:
    intake: IntakeSummary
    sweep: SweepResult
    report: DeskReport
    joint_review_ids: list[str] = field(default_factory=list)
    routed_ids: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    in_progress: list[str] = field(default_factory=list)
    """Cases whose next step falls after the end: still open, legitimately."""
    after_end: int = 0
    """Work orders of the corpus received after the end: not on the desk yet."""


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


class _Timeline:
    """Processes ordered by the instant of their next step (ties: first scheduled first)."""

    def __init__(self, sim: SimClock, end: datetime) -> None:
        self.sim, self.end = sim, end
        self._queue: list[tuple[datetime, int, str, Process]] = []
        self._order = itertools.count()

    def start(self, key: str, process: Process) -> None:
        self._schedule(key, process)

    def _schedule(self, key: str, process: Process) -> None:
        try:
            at = next(process)
        except StopIteration:
            return
        if at < self.sim():  # a bug in a process, not something to paper over
            raise RuntimeError(f"{key}: next step at {at} is before now ({self.sim()})")
        heapq.heappush(self._queue, (at, next(self._order), key, process))

    def run(self, skipped: list[str]) -> list[str]:
        """Run every step up to the end; the keys of processes with a step after it."""
        pending: list[str] = []
        while self._queue:
            at, _, key, process = heapq.heappop(self._queue)
            if at > self.end:
                pending.append(key)
                continue
            self.sim.current = at
            try:
                self._schedule(key, process)
            except GuardError as exc:  # a step the case's state refuses: report, go on
                skipped.append(f"{key}: {exc}")
        return pending


class _Simulation:
    def __init__(self, desk: Desk, sim: SimClock, seed: int) -> None:
        self.desk, self.sim, self.seed = desk, sim, seed
        self.alerts = SweepResult()
        self.joint: list[str] = []
        self.routed: list[str] = []

    @property
    def now(self) -> datetime:
        return self.sim()

    def wd(self, start: datetime, n: int, hour: int) -> datetime:
        """``hour`` o'clock on the ``n``-th working day after ``start``'s day (n ≥ 1)."""
        return _at(self.desk.calendar.add_working_days(start.date(), n), hour)

    # --- a case, from arrival to its last step ------------------------------------------------

    def case(self, draft: Case, intake: IntakeSummary, advance: Advance) -> Process:
        yield draft.received_at
        advance(1)
        try:
            self.desk.get(draft.id)
        except CaseNotFoundError:
            new = True
        else:
            new = False
        case = self.desk.receive(draft)
        intake.case_ids.append(case.id)
        if not new:
            intake.duplicates += 1
            return  # stored by an earlier run of the demo (or twice in the corpus): done
        intake.created += 1
        rng = random.Random(f"{self.seed}:{case.id}")
        if case.status is CaseStatus.SCREENING or self.desk.needs_joint_review(case):
            self.joint.append(case.id)  # (SCREENING: escalated at once by a cross-case rule)
            yield from self.joint_review(case.id, rng, 1)
        else:
            self.routed.append(case.id)
            yield from self.ordinary(case.id, rng)

    def joint_review(self, cid: str, rng: random.Random, round_no: int) -> Process:
        d = self.desk
        if d.get(cid).status is not CaseStatus.SCREENING:
            yield (at := self.now + timedelta(hours=2))
            d.screen(cid, at=at)
        meeting_at = self.wd(self.now, rng.choice([2, 3, 4, 4, 5, 6, 8, 12]), 10)
        yield (at := self.now + timedelta(hours=1))
        d.schedule_meeting(cid, meeting_at, at=at)
        yield meeting_at
        d.hold_meeting(cid, meeting_at, minutes="各部门逐项研究企业诉求，形成一致意见。")
        for expert in d.get(cid).experts:
            if expert.required and ADVICE.get(expert.kind):
                d.record_expert_advice(cid, expert.kind, ADVICE[expert.kind], at=meeting_at)
        late_letter = rng.random() < 0.12
        yield (at := self.wd(meeting_at, 3 if late_letter else rng.choice([1, 1, 2]), 16))
        result = rng.choices(list(REASONS), weights=[6, 3, 1, 1])[0]
        current = d.get(cid)
        leads_first = sorted(current.departments, key=lambda x: x.role is not DepartmentRole.LEAD)
        depts = [x.id for x in leads_first] or ["gxq.yshj"]
        measures = [
            {"description": text, "department": dept, "period": period}
            for dept, (text, period) in zip(depts, MEASURES, strict=False)
        ]
        d.issue_opinion(
            cid,
            result=result,
            reasons=REASONS[result],
            measures=measures,
            legal_basis=LEGAL_BASIS,
            at=at,
        )
        yield (at := self.wd(at, 2, 10))
        d.confirm(cid, at, note="领导小组会议确认")
        yield (assign_at := at + timedelta(hours=1))
        for measure in measures:
            d.assign_task(
                cid, measure["department"], measure["description"], measure["period"], at=assign_at
            )
        d.start_execution(cid, at=assign_at)
        open_tasks = [t.id for t in d.get(cid).tasks if t.completed_at is None]
        done = sorted(
            (self.wd(assign_at, 16 if rng.random() < 0.1 else rng.randint(3, 9), 15), task)
            for task in open_tasks
        )
        for done_at, task_id in done:
            yield done_at
            d.complete_task(cid, task_id, result="已按意见书落实", at=done_at)
        yield (at := self.now + timedelta(hours=1))
        d.finish_execution(cid, at=at)
        yield from self.feedback(cid, rng, round_no)

    def ordinary(self, cid: str, rng: random.Random) -> Process:
        d = self.desk
        yield (at := self.now + timedelta(hours=1))
        d.route(cid, reason="常规办理", at=at)
        yield (at := self.wd(at, rng.choice([1, 2, 3, 5, 7, 9, 12]), 17))
        d.complete_routed(cid, at=at)
        yield from self.feedback(cid, rng, 1)

    def feedback(self, cid: str, rng: random.Random, round_no: int) -> Process:
        """The enterprise's 好差评 the next working day; dissatisfied, the case goes round
        again (reopened into screening: a new joint review)."""
        d = self.desk
        weights = RATING_WEIGHTS.get(round_no, RATING_WEIGHTS[MAX_ROUNDS])
        rating = rng.choices(list(Satisfaction), weights=weights)[0]
        yield (at := self.wd(self.now, 1, 11))
        d.record_feedback(cid, rating, at=at)
        yield (at := at + timedelta(hours=1))
        if not rating.is_negative:
            d.close_case(cid, at=at)
            return
        d.reopen(cid, at=at)
        yield from self.joint_review(cid, rng, round_no + 1)

    # --- supervision ---------------------------------------------------------------------------

    def sweeps(self, first: date) -> Process:
        day = first
        while True:
            day = self.desk.calendar.add_working_days(day, 1)
            yield (at := _at(day, SWEEP_AT.hour, SWEEP_AT.minute))
            found = self.desk.sweep(at)
            self.alerts.alerts.extend(found.alerts)
            self.alerts.conflicts.extend(found.conflicts)


def read_work_orders(
    desk: Desk,
    channel: str,
    corpus: str,
    summary: IntakeSummary,
    progress: ProgressReporter = SILENT,
) -> list[Case]:
    """Every valid work order of ``corpus`` in arrival order; the others are dead letters."""
    host = desk.host
    records = guarded_read(
        host.intake_channel(channel).read(corpus),
        corpus,
        channel,
        host.intake_channel_plugin(channel),
    )
    drafts: list[Case] = []
    advance = progress.phase(
        "ingest", lambda: count_source(host, channel, corpus), unit="work orders"
    )
    for record in records:
        advance(1)
        summary.read += 1
        draft = draft_case(record, host, channel, summary, desk.store, desk.now)
        if draft is not None:
            drafts.append(draft)
    drafts.sort(key=lambda c: c.received_at)  # stable: input order among equal instants
    return drafts


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
    """Replay ``corpus`` on ``desk`` until ``end`` (see the module docstring), and report.

    Run again on the same store, it stores nothing new and redoes nothing: a work order the
    store holds already is left as it is.
    """
    sim.current = end
    intake = IntakeSummary(channel=channel, source=corpus)
    drafts = read_work_orders(desk, channel, corpus, intake, progress)
    advance = progress.phase("simulate", len(drafts), unit="work orders")
    simulation = _Simulation(desk, sim, seed)
    sim.current = min((d.received_at for d in drafts), default=end)
    timeline = _Timeline(sim, end)
    for draft in drafts:
        timeline.start(draft.id, simulation.case(draft, intake, advance))
    if drafts:
        timeline.start("sweep", simulation.sweeps(drafts[0].received_at.date()))
    skipped: list[str] = []
    pending = set(timeline.run(skipped))
    received = set(intake.case_ids)
    sim.current = end
    swept_clocks = progress.phase("sweep", unit="clocks")
    last = desk.sweep(end)
    swept_clocks(last.clocks)
    swept = simulation.alerts
    swept.alerts.extend(last.alerts)
    swept.conflicts.extend(last.conflicts)
    progress.phase("report", unit="cases")
    report = build_report(
        desk.store,
        end,
        joint_review_tag=desk.settings.joint_review_tag,
        labels=ReportLabels.from_pack(desk.pack),
    )
    return DemoResult(
        intake,
        swept,
        report,
        simulation.joint,
        simulation.routed,
        skipped,
        sorted(pending & received),
        sum(1 for d in drafts if d.received_at > end),
    )
