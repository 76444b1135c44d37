"""The steps of the article, each one method: screen, meet, issue the opinion, confirm, execute,
close the loop with the enterprise's feedback.

Each step validates its guard through the lifecycle table, writes all of its events in one
optimistic save (a step is stored whole or not at all), starts or stops the clocks it owns, and
then notifies plugins. Steps that re-run the rules (a return between departments, a cross-case
pattern) are on :class:`~zhenshen_core.desk.Desk`, beside the decisions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from zhenshen_core.deadlines import compute_due, parse_period
from zhenshen_core.deadlines.clocks import extend_clock, stop_clock
from zhenshen_core.desk.clocks import MovedClock
from zhenshen_core.desk.core import DeskCore, transitioned
from zhenshen_core.desk.settings import GENERIC
from zhenshen_core.errors import GuardError
from zhenshen_core.model.case import Case
from zhenshen_core.model.enums import (
    CaseStatus,
    Chair,
    DepartmentRole,
    MeetingKind,
    OpinionResult,
    Satisfaction,
    Tier,
)
from zhenshen_core.storage.protocol import Record


class ArticleSteps(DeskCore):
    """The article's steps on a :class:`DeskCore`; :class:`~zhenshen_core.desk.Desk` adds
    intake, decisions, supervision and documents."""

    def screen(self, case_id: str, *, actor: str = "office", at: datetime | None = None) -> Case:
        """Accept the request (if new) and start screening (甄别问题、研究解决方案)."""
        case = self.store.get(case_id)
        steps: list[tuple[str, Mapping[str, Any]]] = []
        if case.status is CaseStatus.RECEIVED:
            steps = [("accept", {}), ("start_screening", {})]
        elif case.status is CaseStatus.ROUTED:
            steps = [("escalate", {"reason": "升级联合甄审"})]
        else:
            steps = [("start_screening", {})]
        return self._commit(case, steps, actor=actor, at=at or self.now())

    def route(
        self, case_id: str, *, reason: str = "", actor: str = "office", at: datetime | None = None
    ) -> Case:
        """Hand a single-department request to ordinary handling (it can be escalated later)."""
        case = self.store.get(case_id)
        steps: list[tuple[str, Mapping[str, Any]]] = [("route", {"reason": reason})]
        return self._commit(case, steps, actor=actor, at=at or self.now())

    def reject(
        self, case_id: str, reason: str, *, actor: str = "office", at: datetime | None = None
    ) -> Case:
        """不予受理: out of the desk's scope (litigation, 信访 …); every clock stops."""
        case = self.store.get(case_id)
        return self._commit(
            case, [("reject", {"reason": reason})], actor=actor, at=at or self.now()
        )

    def request_info(
        self, case_id: str, reason: str, *, actor: str = "office", at: datetime | None = None
    ) -> Case:
        """Wait for the enterprise's materials; every running clock pauses (excluded time)."""
        case = self.store.get(case_id)
        return self._commit(
            case, [("request_info", {"reason": reason})], actor=actor, at=at or self.now()
        )

    def provide_info(
        self, case_id: str, *, actor: str = "office", at: datetime | None = None
    ) -> Case:
        """The materials arrived: the clocks paused by ``request_info`` run on."""
        case = self.store.get(case_id)
        return self._commit(case, [("provide_info", {})], actor=actor, at=at or self.now())

    def attendees(self, case: Case) -> list[str]:
        """Every lead and co department, then every required expert (``expert:<kind>``).

        Stable ids, as events record them; the letter shows the pack's names."""
        depts = [
            d.id for d in sorted(case.departments, key=lambda d: d.role is not DepartmentRole.LEAD)
        ]
        experts = [f"expert:{e.kind}" for e in case.experts if e.required]
        return list(dict.fromkeys([*depts, *experts]))

    def needs_joint_review(self, case: Case) -> bool:
        """The pack decides: its decision tags the case for joint review (联合甄审)."""
        return self.settings.joint_review_tag in case.tags

    def chair_for(self, case: Case) -> Chair:
        """Who chairs the joint review: the decision's chair, else by tier (major → leader in
        charge, as the article says)."""
        if case.chair is not None:
            return case.chair
        return Chair.LEADER_IN_CHARGE if case.tier is Tier.MAJOR else Chair.OFFICE_HEAD

    def schedule_meeting(
        self, case_id: str, when: datetime, *, actor: str = "office", at: datetime | None = None
    ) -> Case:
        """召集联合甄审会议: attendees and chair follow from the decision."""
        case = self.store.get(case_id)
        meeting_id = f"{case.id}-M{len(case.meetings) + 1}"
        payload = {
            "meeting_id": meeting_id,
            "scheduled_at": when.isoformat(),
            "kind": MeetingKind.JOINT_REVIEW.value,
            "chair": self.chair_for(case).value,
            "attendees": self.attendees(case),
        }
        return self._commit(case, [("schedule_meeting", payload)], actor=actor, at=at or self.now())

    def hold_meeting(
        self,
        case_id: str,
        held_at: datetime,
        *,
        minutes: str = "",
        attendees: Sequence[str] | None = None,
        actor: str = "office",
    ) -> Case:
        """The meeting took place; the opinion-letter clock (2 working days) starts now."""
        case = self.store.get(case_id)
        open_meetings = [m for m in case.meetings if m.held_at is None]
        if not open_meetings:
            raise GuardError(case.status.value, "hold_meeting", "no meeting is scheduled")
        payload: dict[str, Any] = {
            "meeting_id": open_meetings[-1].id,
            "held_at": held_at.isoformat(),
            "minutes": minutes,
        }
        if attendees is not None:
            payload["attendees"] = list(attendees)
        return self._commit(case, [("hold_meeting", payload)], actor=actor, at=held_at)

    def record_expert_advice(
        self,
        case_id: str,
        kind: str,
        advice: str,
        *,
        name: str | None = None,
        at: datetime | None = None,
        actor: str = "office",
    ) -> Case:
        """An expert's advice (律师、智库专家意见), at or after the meeting; the letter quotes it.

        ``kind`` is the pack's expert id (``lawyer``); recording it again replaces the advice.
        A bookkeeping event: allowed in every active state, it does not move the case.
        """
        case = self.store.get(case_id)
        payload = {"kind": kind, "advice": advice, "name": name}
        return self._commit(
            case, [("record_expert_advice", payload)], actor=actor, at=at or self.now()
        )

    def next_letter_no(self, year: int) -> str:
        """Sequential 文号 per year, kept as a store record."""
        prefix = self.settings.letter_prefix or GENERIC.letter_prefix
        seq_id = f"{prefix}-{year}"
        current = {r.id: r for r in self.store.records("letter_sequence")}.get(seq_id)
        n = int(current.data["last"]) + 1 if current else 1
        self.store.put_record(Record(kind="letter_sequence", id=seq_id, data={"last": n}))
        return f"{prefix}〔{year}〕{n}号"

    def issue_opinion(
        self,
        case_id: str,
        *,
        result: OpinionResult | str,
        reasons: str,
        measures: Sequence[str | Mapping[str, Any]] = (),
        legal_basis: Sequence[str] = (),
        at: datetime | None = None,
        letter_no: str | None = None,
        actor: str = "office",
    ) -> Case:
        """出具甄别审查意见书 (result and reasons required) and send it for confirmation.

        Each measure is text that names its department and period as letters do
        ("公园城市建设局5个工作日内出具权属说明") or ``{description, department, period | due}``;
        the department is resolved against the pack (id, old id, name or short name) and the
        due day counted from the opinion's date on the desk's calendar. A measure without
        either is refused (``GuardError`` naming it) before anything is stored.
        """
        from zhenshen_core.desk.letters import MeasureError, Names, resolve_measures

        case = self.store.get(case_id)
        when = at or self.now()
        try:
            resolved = resolve_measures(
                measures,
                names=Names.build(self.pack),
                issued_at=when,
                calendar=self.calendar,
            )
        except MeasureError as exc:
            raise GuardError(case.status.value, "issue_opinion", str(exc)) from exc
        opinion = {
            "letter_no": letter_no or self.next_letter_no(when.year),
            "result": OpinionResult(result).value,
            "reasons": reasons,
            "measures": [m.model_dump(mode="json") for m in resolved],
            "legal_basis": list(legal_basis),
            "issued_at": when.isoformat(),
        }
        steps = [("issue_opinion", {"opinion": opinion}), ("submit_for_confirmation", {})]
        return self._commit(case, steps, actor=actor, at=when)

    def confirm(
        self, case_id: str, held_at: datetime, *, note: str = "", actor: str = "leading_group"
    ) -> Case:
        """领导小组会议确认行政效力."""
        case = self.store.get(case_id)
        meeting = {
            "id": f"{case.id}-LG{len(case.meetings) + 1}",
            "kind": MeetingKind.LEADING_GROUP.value,
            "scheduled_at": held_at.isoformat(),
            "held_at": held_at.isoformat(),
        }
        return self._commit(
            case, [("confirm", {"meeting": meeting, "note": note})], actor=actor, at=held_at
        )

    def assign_task(
        self,
        case_id: str,
        department: str,
        description: str,
        period: str,
        *,
        at: datetime | None = None,
        actor: str = "office",
    ) -> Case:
        """A measure for one department with its own clock (``task:<id>``)."""
        case = self.store.get(case_id)
        when = at or self.now()
        task_id = f"T{len(case.tasks) + 1}"
        due = compute_due(self.calendar, when, parse_period(period)).due
        task = {
            "id": task_id,
            "department": department,
            "description": description,
            "due": due.isoformat(),
        }
        current, record = self.lifecycle.fire(
            case, "assign_task", actor=actor, at=when, payload={"task": task}
        )
        current, clock_event = self.clocks.update(
            current, self.clocks.start(f"task:{task_id}", period, when), actor, when
        )
        self._save(
            current,
            [record, clock_event],
            expected_version=case.version,
            announce=[transitioned(current, record)],
        )
        return current

    def extend_clock(
        self,
        case_id: str,
        clock: str,
        period: str,
        *,
        approver: str,
        reason: str,
        cap: str | None = None,
        at: datetime | None = None,
        actor: str = "office",
    ) -> Case:
        """An approved extension (延期) with approver and reason; ``cap`` bounds the total."""
        case = self.store.get(case_id)
        current = case.clocks.get(clock)
        if current is None:
            raise GuardError(
                case.status.value,
                "extend_clock",
                f"no clock {clock!r}; clocks: {sorted(case.clocks)}",
            )
        when = at or self.now()
        extended = extend_clock(
            self.calendar, current, period, approver=approver, reason=reason, at=when, cap=cap
        )
        updated, record = self.clocks.update(case, extended, actor, when)
        moved = [MovedClock(extended, current.due_at, record)]
        self._save(
            updated,
            [record],
            expected_version=case.version,
            announce=self._moved(updated, moved, "extension"),
        )
        return updated

    def start_execution(
        self, case_id: str, *, at: datetime | None = None, actor: str = "office"
    ) -> Case:
        """The confirmed opinion is being carried out (后续监督执行); tasks can be assigned."""
        case = self.store.get(case_id)
        return self._commit(case, [("start_execution", {})], actor=actor, at=at or self.now())

    def complete_task(
        self,
        case_id: str,
        task_id: str,
        *,
        result: str = "",
        at: datetime | None = None,
        actor: str = "department",
    ) -> Case:
        """A department finished its task; the task's clock stops."""
        case = self.store.get(case_id)
        when = at or self.now()
        current, record = self.lifecycle.fire(
            case,
            "complete_task",
            actor=actor,
            at=when,
            payload={"task_id": task_id, "completed_at": when.isoformat(), "result": result},
        )
        events = [record]
        clock = current.clocks.get(f"task:{task_id}")
        if clock is not None and clock.stopped_at is None:
            current, clock_event = self.clocks.update(
                current, stop_clock(self.calendar, clock, when), actor, when
            )
            events.append(clock_event)
        self._save(
            current,
            events,
            expected_version=case.version,
            announce=[transitioned(current, record)],
        )
        return current

    def finish_execution(
        self, case_id: str, *, at: datetime | None = None, actor: str = "office"
    ) -> Case:
        """Every task is done; the case moves on to the enterprise's feedback."""
        case = self.store.get(case_id)
        return self._commit(case, [("finish_execution", {})], actor=actor, at=at or self.now())

    def record_feedback(
        self,
        case_id: str,
        satisfaction: Satisfaction | str,
        *,
        comment: str = "",
        at: datetime | None = None,
        actor: str = "enterprise",
    ) -> Case:
        """The enterprise's 好差评 on the result; negative feedback lets the case be reopened."""
        case = self.store.get(case_id)
        when = at or self.now()
        feedback = {
            "at": when.isoformat(),
            "satisfaction": Satisfaction(satisfaction).value,
            "comment": comment,
        }
        return self._commit(
            case, [("record_feedback", {"feedback": feedback})], actor=actor, at=when
        )

    def complete_routed(
        self, case_id: str, *, at: datetime | None = None, actor: str = "department"
    ) -> Case:
        """Ordinary handling finished; the case moves on to the enterprise's feedback."""
        case = self.store.get(case_id)
        return self._commit(case, [("complete", {})], actor=actor, at=at or self.now())

    def close_case(
        self, case_id: str, *, at: datetime | None = None, actor: str = "office"
    ) -> Case:
        """办结: only after non-negative feedback (the guard says so otherwise)."""
        case = self.store.get(case_id)
        return self._commit(case, [("close", {})], actor=actor, at=at or self.now())

    def reopen(self, case_id: str, *, at: datetime | None = None, actor: str = "office") -> Case:
        """Negative feedback sends the case round again, starting with screening."""
        case = self.store.get(case_id)
        return self._commit(
            case, [("reopen", {}), ("start_screening", {})], actor=actor, at=at or self.now()
        )

    def withdraw(
        self,
        case_id: str,
        *,
        reason: str = "",
        at: datetime | None = None,
        actor: str = "enterprise",
    ) -> Case:
        """The enterprise withdrew its request; every clock stops."""
        case = self.store.get(case_id)
        return self._commit(
            case, [("withdraw", {"reason": reason})], actor=actor, at=at or self.now()
        )
