"""The case lifecycle as a transition table.

States, events, guards and effects are data: a :class:`Transition` per event says from which
states it may fire, where it leads (or ``None`` to stay), which payload it takes, what must hold
before it fires and how it changes the case. A pack or an embedding system extends the table
with :meth:`Lifecycle.extend` instead of editing a chain of ``if``s.

Every change to a case, including recording a rule decision or a clock, is an event; so replaying
the events from the first ``receive`` rebuilds the case exactly (``Lifecycle.replay``).

Two rules hold whatever fires an event:

* **A terminal state stops every clock.** An event that leads into a terminal state (not
  accepted, withdrawn, merged, closed) stops the case's running clocks in the same event, so no
  path (a desk step, ``Desk.transition``, a direct ``fire``) leaves a finished case with a clock
  that a sweep would later try to alert on.
* **Some events are the desk's own.** ``decide``, ``clock_update``, ``supervise`` and
  ``update_facts`` record what the rules, the clocks and the sweep did (``Transition.desk_only``);
  a person may request every other event (:data:`PERSON_EVENTS`, :func:`is_person_event`).

Why one module of this size: it is the table itself — each event's payload model, guard and
effect sit next to the row that uses them, so the whole lifecycle reads top to bottom in one
place (the generated case-model reference lists it); split by event, the table would be
scattered over files that each hold a few lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from zhenshen_core.errors import (
    CaseValidationError,
    GuardError,
    IllegalTransitionError,
    describe_validation_error,
)
from zhenshen_core.model.case import (
    SHANGHAI,
    AwareDatetime,
    Case,
    Confirmation,
    DepartmentAssignment,
    DepartmentReturn,
    ExecutionTask,
    ExpertRequest,
    Feedback,
    Meeting,
    PackRef,
    ReviewOpinion,
    SupervisionRecord,
    ensure_aware,
)
from zhenshen_core.model.clock import Clock
from zhenshen_core.model.enums import (
    CaseStatus as S,
)
from zhenshen_core.model.enums import (
    Chair,
    MeetingKind,
    TaskStatus,
    Tier,
)
from zhenshen_core.model.events import CaseEvent

Guard = Callable[[Case, BaseModel], str | None]
Effect = Callable[[Case, BaseModel, datetime], None]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoPayload(_Payload):
    """Events that carry nothing; any key given is an error (``extra="forbid"``)."""


class ReasonPayload(_Payload):
    reason: str = Field(min_length=1)


class OptionalReasonPayload(_Payload):
    reason: str = ""


class RoutePayload(_Payload):
    departments: list[DepartmentAssignment] = Field(default_factory=list)
    reason: str = ""


class MergePayload(_Payload):
    into: str = Field(min_length=1)


class ScheduleMeetingPayload(_Payload):
    meeting_id: str = Field(min_length=1)
    scheduled_at: AwareDatetime
    kind: MeetingKind = MeetingKind.JOINT_REVIEW
    chair: Chair | None = None
    attendees: list[str] = Field(default_factory=list)


class HoldMeetingPayload(_Payload):
    meeting_id: str = Field(min_length=1)
    held_at: AwareDatetime
    attendees: list[str] | None = None
    minutes: str = ""


class IssueOpinionPayload(_Payload):
    opinion: ReviewOpinion


class ConfirmPayload(_Payload):
    meeting: Meeting
    note: str = ""


class TaskPayload(_Payload):
    task: ExecutionTask


class CompleteTaskPayload(_Payload):
    task_id: str
    completed_at: AwareDatetime
    result: str = ""


class SupervisePayload(_Payload):
    record: SupervisionRecord


class FeedbackPayload(_Payload):
    feedback: Feedback


class ExpertAdvicePayload(_Payload):
    """An expert's advice as given (at or after the meeting); the letter quotes it."""

    kind: str = Field(min_length=1, description="expert kind id from the pack, e.g. lawyer")
    advice: str = Field(min_length=1)
    name: str | None = Field(default=None, description="who gave it, e.g. 李律师")


class GeneralisePayload(_Payload):
    generalisation_id: str = Field(min_length=1)


class DecidePayload(_Payload):
    """The rules engine's outcome, copied onto the case (the full decision is kept too)."""

    decision: dict[str, Any]
    severity: str | None = None
    tier: Tier | None = None
    chair: Chair | None = None
    departments: list[DepartmentAssignment] | None = None
    experts: list[ExpertRequest] | None = None
    tags: list[str] = Field(default_factory=list)
    pack: PackRef | None = None


class ClockPayload(_Payload):
    clock: Clock


class NotePayload(_Payload):
    text: str = Field(min_length=1)


class ReturnPayload(_Payload):
    record: DepartmentReturn


class FactsPayload(_Payload):
    facts: dict[str, Any]


class DepartmentsPayload(_Payload):
    departments: list[DepartmentAssignment]


@dataclass(frozen=True)
class Transition:
    """One row of the table: ``event`` may fire in ``sources`` and leads to ``target``."""

    event: str
    sources: frozenset[S]
    target: S | None
    payload: type[BaseModel] = NoPayload
    guard: Guard | None = None
    effect: Effect | None = None
    description: str = ""
    desk_only: bool = False
    """Recorded only by the desk itself (rules, clocks, sweeps), never requested by a person."""


# --- guards: return a reason when the event must not fire -------------------------------------


def _joint_meeting_held(case: Case, payload: BaseModel) -> str | None:
    held = [m for m in case.meetings if m.kind is MeetingKind.JOINT_REVIEW and m.held_at]
    if not held:
        return "no joint review meeting (联合甄审会议) has been held"
    assert isinstance(payload, IssueOpinionPayload)
    issued = payload.opinion.issued_at
    if not any(m.held_at is not None and m.held_at <= issued for m in held):
        first = min(m.held_at for m in held if m.held_at is not None)
        return (
            f"the opinion is dated {issued.isoformat()}, before the joint review meeting it "
            f"follows (held {first.isoformat()})"
        )
    return None


def _meeting_scheduled(case: Case, payload: BaseModel) -> str | None:
    assert isinstance(payload, HoldMeetingPayload)
    if not any(m.id == payload.meeting_id and m.held_at is None for m in case.meetings):
        open_ids = [m.id for m in case.meetings if m.held_at is None]
        return f"meeting {payload.meeting_id!r} is not scheduled; open meetings: {open_ids}"
    return None


def _leading_group_meeting(case: Case, payload: BaseModel) -> str | None:
    assert isinstance(payload, ConfirmPayload)
    meeting = payload.meeting
    if meeting.kind is not MeetingKind.LEADING_GROUP:
        return "confirmation requires a leading-group meeting (领导小组会议), got " + meeting.kind
    if meeting.held_at is None:
        return "the leading-group meeting has not been held (held_at missing)"
    return None


def _task_open(case: Case, payload: BaseModel) -> str | None:
    assert isinstance(payload, CompleteTaskPayload)
    task = next((t for t in case.tasks if t.id == payload.task_id), None)
    if task is None:
        return f"no task {payload.task_id!r}; tasks: {[t.id for t in case.tasks]}"
    if task.status is not TaskStatus.OPEN:
        return f"task {payload.task_id!r} is already {task.status.value}"
    return None


def _new_task(case: Case, payload: BaseModel) -> str | None:
    assert isinstance(payload, TaskPayload)
    if any(t.id == payload.task.id for t in case.tasks):
        return f"task {payload.task.id!r} already exists"
    return None


def _has_tasks(case: Case, _: BaseModel) -> str | None:
    return None if case.tasks else "assign at least one execution task first"


def _all_tasks_done(case: Case, _: BaseModel) -> str | None:
    open_ids = [t.id for t in case.tasks if t.status is TaskStatus.OPEN]
    return f"tasks still open: {open_ids}" if open_ids else None


def _satisfied(case: Case, _: BaseModel) -> str | None:
    if not case.feedback:
        return "no feedback recorded; record the enterprise's evaluation first"
    if case.feedback[-1].satisfaction.is_negative:
        return "the latest feedback is negative; reopen the case instead"
    return None


def _dissatisfied(case: Case, _: BaseModel) -> str | None:
    if not case.feedback or not case.feedback[-1].satisfaction.is_negative:
        return "reopening requires negative feedback (不满意 or 非常不满意)"
    return None


def _new_meeting(case: Case, payload: BaseModel) -> str | None:
    assert isinstance(payload, ScheduleMeetingPayload)
    if any(m.id == payload.meeting_id for m in case.meetings):
        return f"meeting {payload.meeting_id!r} already exists"
    return None


# --- effects: change the (copied) case --------------------------------------------------------


def _route(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, RoutePayload)
    if p.departments:
        case.departments = list(p.departments)


def _merge(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, MergePayload)
    case.merged_into = p.into


def _schedule(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, ScheduleMeetingPayload)
    case.meetings.append(
        Meeting(
            id=p.meeting_id,
            kind=p.kind,
            scheduled_at=p.scheduled_at,
            chair=p.chair or case.chair,
            attendees=list(p.attendees),
        )
    )


def _hold(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, HoldMeetingPayload)
    for i, m in enumerate(case.meetings):
        if m.id == p.meeting_id:
            case.meetings[i] = m.model_copy(
                update={
                    "held_at": p.held_at,
                    "attendees": p.attendees if p.attendees is not None else m.attendees,
                    "minutes": p.minutes,
                }
            )


def _issue(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, IssueOpinionPayload)
    case.opinion = p.opinion


def _confirm(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, ConfirmPayload)
    case.meetings.append(p.meeting)
    assert p.meeting.held_at is not None
    case.confirmation = Confirmation(
        meeting_id=p.meeting.id, confirmed_at=p.meeting.held_at, note=p.note
    )


def _assign_task(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, TaskPayload)
    case.tasks.append(p.task)


def _complete_task(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, CompleteTaskPayload)
    for i, t in enumerate(case.tasks):
        if t.id == p.task_id:
            case.tasks[i] = t.model_copy(
                update={
                    "status": TaskStatus.DONE,
                    "completed_at": p.completed_at,
                    "result": p.result,
                }
            )


def _supervise(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, SupervisePayload)
    case.supervision.append(p.record)


def _feedback(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, FeedbackPayload)
    case.feedback.append(p.feedback)


def _generalise(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, GeneralisePayload)
    case.tags = _union(case.tags, [f"generalised:{p.generalisation_id}"])


def _decide(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, DecidePayload)
    case.decision = p.decision
    case.severity = p.severity if p.severity is not None else case.severity
    case.tier = p.tier if p.tier is not None else case.tier
    case.chair = p.chair if p.chair is not None else case.chair
    if p.departments is not None:
        case.departments = list(p.departments)
    if p.experts is not None:
        case.experts = _keep_advice(case.experts, p.experts)
    case.tags = _union(case.tags, p.tags)
    case.pack = p.pack or case.pack


def _keep_advice(old: Sequence[ExpertRequest], new: Sequence[ExpertRequest]) -> list[ExpertRequest]:
    """A new decision replaces which experts are called for, never the advice already given:
    advice stays with its expert kind, and advice of a kind no longer called for is kept as a
    non-required expert."""
    given = {e.kind: e for e in old if e.advice}
    out = []
    for expert in new:
        had = given.pop(expert.kind, None)
        if had is not None:
            expert = expert.model_copy(
                update={"name": had.name, "advice": had.advice, "advised_at": had.advised_at}
            )
        out.append(expert)
    out += [e.model_copy(update={"required": False}) for e in given.values()]
    return out


def _expert_advice(case: Case, p: BaseModel, at: datetime) -> None:
    assert isinstance(p, ExpertAdvicePayload)
    given: dict[str, Any] = {"advice": p.advice, "advised_at": at}
    if p.name:
        given["name"] = p.name
    for i, expert in enumerate(case.experts):
        if expert.kind == p.kind:
            case.experts[i] = expert.model_copy(update=given)
            return
    case.experts.append(
        ExpertRequest(kind=p.kind, required=False, name=p.name, advice=p.advice, advised_at=at)
    )


def _clock(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, ClockPayload)
    case.clocks[p.clock.name] = p.clock


def _note(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, NotePayload)
    case.notes.append(p.text)


def _return(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, ReturnPayload)
    case.returns.append(p.record)


def _facts(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, FactsPayload)
    case.facts = {**case.facts, **p.facts}


def _departments(case: Case, p: BaseModel, _: datetime) -> None:
    assert isinstance(p, DepartmentsPayload)
    case.departments = list(p.departments)


def _erase_personal(case: Case, p: BaseModel, _: datetime) -> None:
    """Personal fields become ``[已删除]`` and personal data is cut out of the text; replayed
    from a history whose sealed values were shredded, it gives the same case again."""
    from zhenshen_core.privacy._fields import redact_document

    names = [case.requester.name] if case.requester and case.requester.name else []
    redacted = Case.model_validate(redact_document(dump_case(case), names))
    for name in Case.model_fields:
        if name not in ("status", "version"):
            setattr(case, name, getattr(redacted, name))


def _union(old: Sequence[str], new: Iterable[str]) -> list[str]:
    out = list(old)
    out.extend(t for t in new if t not in out)
    return out


#: The event erasure appends; it redacts the case and leaves its status alone.
PERSONAL_DATA_ERASED = "personal_data_erased"

TERMINAL: frozenset[S] = frozenset({S.NOT_ACCEPTED, S.WITHDRAWN, S.MERGED, S.CLOSED})
ACTIVE: frozenset[S] = frozenset(S) - TERMINAL


def _t(
    event: str, sources: Iterable[S], target: S | None, description: str, **kw: Any
) -> Transition:
    return Transition(event, frozenset(sources), target, description=description, **kw)


DEFAULT_TRANSITIONS: tuple[Transition, ...] = (
    _t("accept", [S.RECEIVED], S.ACCEPTED, "受理: the desk takes the request on"),
    _t(
        "reject",
        [S.RECEIVED, S.ACCEPTED],
        S.NOT_ACCEPTED,
        "不予受理: out of scope (litigation, arbitration, reconsideration, 信访 …)",
        payload=ReasonPayload,
    ),
    _t(
        "route",
        [S.RECEIVED, S.ACCEPTED, S.SCREENING],
        S.ROUTED,
        "single-department request handed to ordinary handling",
        payload=RoutePayload,
        effect=_route,
    ),
    _t(
        "escalate",
        [S.ROUTED],
        S.SCREENING,
        "ordinary handling escalated to joint review",
        payload=OptionalReasonPayload,
    ),
    _t("complete", [S.ROUTED], S.FEEDBACK, "ordinary handling finished; ask for feedback"),
    _t("start_screening", [S.ACCEPTED, S.REOPENED], S.SCREENING, "甄别问题、研究解决方案"),
    _t(
        "request_info",
        [S.SCREENING],
        S.AWAITING_INFO,
        "wait for the enterprise's materials",
        payload=ReasonPayload,
    ),
    _t("provide_info", [S.AWAITING_INFO], S.SCREENING, "materials received; screening resumes"),
    _t(
        "schedule_meeting",
        [S.SCREENING, S.MEETING_HELD],
        S.MEETING_SCHEDULED,
        "召集联合甄审会议",
        payload=ScheduleMeetingPayload,
        guard=_new_meeting,
        effect=_schedule,
    ),
    _t(
        "hold_meeting",
        [S.MEETING_SCHEDULED],
        S.MEETING_HELD,
        "the joint review meeting took place",
        payload=HoldMeetingPayload,
        guard=_meeting_scheduled,
        effect=_hold,
    ),
    _t(
        "issue_opinion",
        [S.MEETING_HELD],
        S.OPINION_ISSUED,
        "出具甄别审查意见书 with result and reasons",
        payload=IssueOpinionPayload,
        guard=_joint_meeting_held,
        effect=_issue,
    ),
    _t(
        "submit_for_confirmation",
        [S.OPINION_ISSUED],
        S.PENDING_CONFIRMATION,
        "send the opinion to the leading group",
    ),
    _t(
        "confirm",
        [S.PENDING_CONFIRMATION],
        S.CONFIRMED,
        "领导小组会议确认行政效力",
        payload=ConfirmPayload,
        guard=_leading_group_meeting,
        effect=_confirm,
    ),
    _t(
        "send_back",
        [S.PENDING_CONFIRMATION],
        S.SCREENING,
        "the leading group sends the opinion back",
        payload=ReasonPayload,
    ),
    _t(
        "assign_task",
        [S.CONFIRMED, S.EXECUTING],
        None,
        "assign an execution measure",
        payload=TaskPayload,
        guard=_new_task,
        effect=_assign_task,
    ),
    _t("start_execution", [S.CONFIRMED], S.EXECUTING, "后续监督执行 begins", guard=_has_tasks),
    _t(
        "complete_task",
        [S.EXECUTING],
        None,
        "a department reports a measure done",
        payload=CompleteTaskPayload,
        guard=_task_open,
        effect=_complete_task,
    ),
    _t(
        "finish_execution",
        [S.EXECUTING],
        S.FEEDBACK,
        "all measures done; ask for feedback",
        guard=_all_tasks_done,
    ),
    _t(
        "record_feedback",
        [S.FEEDBACK],
        None,
        "the enterprise's 好差评 evaluation",
        payload=FeedbackPayload,
        effect=_feedback,
    ),
    _t("close", [S.FEEDBACK], S.CLOSED, "办结 after satisfactory feedback", guard=_satisfied),
    _t(
        "reopen",
        [S.FEEDBACK],
        S.REOPENED,
        "dissatisfied: the case goes round again",
        guard=_dissatisfied,
    ),
    _t(
        "withdraw",
        ACTIVE,
        S.WITHDRAWN,
        "the enterprise withdraws the request",
        payload=OptionalReasonPayload,
    ),
    _t(
        "merge",
        [S.RECEIVED, S.ACCEPTED, S.SCREENING, S.ROUTED],
        S.MERGED,
        "duplicate of another case",
        payload=MergePayload,
        effect=_merge,
    ),
    _t(
        "generalise",
        [S.CLOSED],
        None,
        "举一反三: linked to an institutional fix",
        payload=GeneralisePayload,
        effect=_generalise,
    ),
    # Bookkeeping events allowed in every active state; they do not move the case.
    _t(
        "decide",
        ACTIVE,
        None,
        "record the rules engine's decision",
        payload=DecidePayload,
        effect=_decide,
        desk_only=True,
    ),
    _t(
        "clock_update",
        ACTIVE,
        None,
        "start, pause, resume, extend or stop a deadline clock",
        payload=ClockPayload,
        effect=_clock,
        desk_only=True,
    ),
    _t(
        "supervise",
        ACTIVE,
        None,
        "a reminder or supervision notice",
        payload=SupervisePayload,
        effect=_supervise,
        desk_only=True,
    ),
    _t(
        "record_expert_advice",
        ACTIVE,
        None,
        "an expert's advice (律师、智库专家意见), quoted by the opinion letter",
        payload=ExpertAdvicePayload,
        effect=_expert_advice,
    ),
    _t("note", ACTIVE, None, "a free-text note", payload=NotePayload, effect=_note),
    _t(
        "return_case",
        ACTIVE,
        None,
        "退单: a department hands the case back",
        payload=ReturnPayload,
        effect=_return,
    ),
    _t(
        "update_facts",
        ACTIVE,
        None,
        "an enricher or a cross-case rule adds facts",
        payload=FactsPayload,
        effect=_facts,
        desk_only=True,
    ),
    _t(
        "assign_departments",
        ACTIVE,
        None,
        "set lead and co departments",
        payload=DepartmentsPayload,
        effect=_departments,
    ),
    # The desk's own act, in any state (a closed case is the usual one): PIPL art. 47.
    _t(
        PERSONAL_DATA_ERASED,
        frozenset(S),
        None,
        "个人信息删除: the requester's personal data destroyed (zhenshen privacy erase)",
        payload=OptionalReasonPayload,
        effect=_erase_personal,
        desk_only=True,  # erasure runs through 'zhenshen privacy erase', which destroys keys
    ),
)

RECEIVE = "receive"

PERSON_EVENTS: frozenset[str] = frozenset(t.event for t in DEFAULT_TRANSITIONS if not t.desk_only)
"""Events of the default lifecycle a person may request (``Desk.transition``, ``zhenshen cases
transition``, an HTTP API): every event of the table but the desk's own."""
DESK_EVENTS: frozenset[str] = frozenset(
    [RECEIVE, *(t.event for t in DEFAULT_TRANSITIONS if t.desk_only)]
)
"""Events only the desk itself records: the rules' decisions, clock changes, sweeps, intake."""


def is_person_event(event: str, lifecycle: Lifecycle | None = None) -> bool:
    """Whether a person may request ``event`` (of ``lifecycle``, default the standard one)."""
    if lifecycle is None:
        return event in PERSON_EVENTS
    return event in lifecycle.person_events()


def stop_running_clocks(case: Case, at: datetime) -> None:
    """Stop every running clock of ``case`` (changed in place) at ``at``: an open pause ends
    then too (what ``deadlines.stop_clock`` does, without a calendar, which stopping needs not)."""
    when = ensure_aware(at).astimezone(SHANGHAI)
    for name, clock in list(case.clocks.items()):
        if not clock.running:
            continue
        pauses = list(clock.pauses)
        if clock.paused:
            pauses[-1] = pauses[-1].model_copy(update={"end": when})
        case.clocks[name] = clock.model_copy(
            update={"stopped_at": when, "pauses": pauses, "next_alert_at": None}
        )


@dataclass(frozen=True)
class Lifecycle:
    """An immutable transition table. ``extend`` returns a new table; nothing is global."""

    transitions: Mapping[str, Transition] = field(
        default_factory=lambda: {t.event: t for t in DEFAULT_TRANSITIONS}
    )

    def extend(self, *extra: Transition) -> Lifecycle:
        """A new lifecycle where ``extra`` add events or replace same-named ones."""
        merged = dict(self.transitions)
        merged.update({t.event: t for t in extra})
        return Lifecycle(merged)

    def allowed_events(self, status: S) -> list[str]:
        return sorted(e for e, t in self.transitions.items() if status in t.sources)

    def person_events(self) -> list[str]:
        """The events of this table a person may request (not ``desk_only``), sorted."""
        return sorted(e for e, t in self.transitions.items() if not t.desk_only)

    def person_events_in(self, status: S) -> list[str]:
        """The events a person may request of a case in ``status`` now, sorted: what a
        refusal of a person's request names (never an event only the desk records)."""
        return sorted(
            e for e, t in self.transitions.items() if status in t.sources and not t.desk_only
        )

    def receive(
        self, draft: Case, *, actor: str, at: datetime | None = None
    ) -> tuple[Case, CaseEvent]:
        """Start a case's history; the payload keeps the whole draft so replay is exact."""
        when = ensure_aware(at or draft.received_at)
        record = draft.model_copy(update={"status": S.RECEIVED, "version": 0})
        event = CaseEvent(
            case_id=record.id,
            seq=1,
            at=when,
            actor=actor,
            type=RECEIVE,
            from_status=None,
            to_status=S.RECEIVED,
            payload={"case": dump_case(record)},
        )
        return self.apply(None, event), event

    def fire(
        self,
        case: Case,
        event: str,
        *,
        actor: str,
        at: datetime,
        payload: Mapping[str, Any] | None = None,
        rule_ids: Sequence[str] = (),
    ) -> tuple[Case, CaseEvent]:
        """Check the event is allowed and its guard holds, then return the new case and event.

        The input case is not modified, so a failed save leaves the caller's object intact.
        """
        record = self._record(case, event, actor, at, payload or {}, rule_ids)
        return self.apply(case, record), record

    def fire_all(
        self,
        case: Case,
        steps: Sequence[tuple[str, Mapping[str, Any], Sequence[str]]],
        *,
        actor: str,
        at: datetime,
        in_place: bool = False,
    ) -> tuple[Case, list[CaseEvent]]:
        """``fire`` for several ``(event, payload, rule_ids)`` in a row, on one copy of the case.

        Each event is checked against the state the ones before it left, as separate ``fire``
        calls would; the case is copied once instead of once per event (a decision and its
        clocks, in bulk intake). The input case is not modified, unless ``in_place`` says the
        caller just built it and holds it alone (then it is changed and returned, uncopied;
        after a failed check it is left half-changed, to be dropped).
        """
        current = case if in_place else case.model_copy(deep=True)
        records = []
        for event, payload, rule_ids in steps:
            record = self._record(current, event, actor, at, payload, rule_ids)
            self._apply_in_place(current, record)
            records.append(record)
        return current, records

    def _record(
        self,
        case: Case,
        event: str,
        actor: str,
        at: datetime,
        payload: Mapping[str, Any],
        rule_ids: Sequence[str],
    ) -> CaseEvent:
        transition = self.transitions.get(event)
        if transition is None or case.status not in transition.sources:
            raise IllegalTransitionError(case.status.value, event, self.allowed_events(case.status))
        parsed = _parse_payload(transition, case, event, payload)
        if transition.guard is not None:
            problem = transition.guard(case, parsed)
            if problem:
                raise GuardError(case.status.value, event, problem)
        return CaseEvent(
            case_id=case.id,
            seq=case.version + 1,
            at=ensure_aware(at),
            actor=actor,
            type=event,
            from_status=case.status,
            to_status=transition.target or case.status,
            payload=parsed.model_dump(mode="json", context={"unmasked": True}),
            rule_ids=list(rule_ids),
        )

    def apply(self, case: Case | None, event: CaseEvent) -> Case:
        """Apply a recorded event without re-checking guards (they held when it was written)."""
        if event.type == RECEIVE:
            if case is not None:
                raise IllegalTransitionError(case.status.value, RECEIVE, [])
            new = Case.model_validate(event.payload["case"])
            return new.model_copy(update={"status": S.RECEIVED, "version": 1})
        if case is None:
            raise IllegalTransitionError("(none)", event.type, [RECEIVE])
        self._check_source(case, event)
        new = case.model_copy(deep=True)
        self._apply_in_place(new, event)
        return new

    def _check_source(self, case: Case, event: CaseEvent) -> None:
        transition = self.transitions.get(event.type)
        if transition is None or case.status not in transition.sources:
            raise IllegalTransitionError(
                case.status.value, event.type, self.allowed_events(case.status)
            )

    def _apply_in_place(self, case: Case, event: CaseEvent) -> None:
        """An event's effect on a case object nobody else holds (a copy, or a replay's own)."""
        self._check_source(case, event)
        transition = self.transitions[event.type]
        if transition.effect is not None:
            parsed = transition.payload.model_validate(event.payload)
            transition.effect(case, parsed, event.at)
        if event.to_status in TERMINAL and case.status not in TERMINAL:
            stop_running_clocks(case, event.at)  # whatever path led here (module docstring)
        case.status = event.to_status
        case.version = event.seq

    def replay(self, events: Iterable[CaseEvent]) -> Case:
        """Rebuild a case from its history (one object, changed event by event)."""
        case: Case | None = None
        for event in events:
            if case is None or event.type == RECEIVE:
                case = self.apply(case, event)
            else:
                self._apply_in_place(case, event)
        if case is None:
            raise ValueError("cannot replay an empty history")
        return case


def _parse_payload(
    transition: Transition, case: Case, event: str, payload: Mapping[str, Any]
) -> BaseModel:
    try:
        return transition.payload.model_validate(dict(payload))
    except ValidationError as exc:
        details = "; ".join(describe_validation_error(err, "(payload)") for err in exc.errors())
        raise GuardError(case.status.value, event, f"invalid payload: {details}") from exc


def dump_case(case: Case) -> dict[str, Any]:
    """The storage form of a case: JSON-safe and unmasked (masking is for display only)."""
    return case.model_dump(mode="json", context={"unmasked": True})


def load_case(data: Mapping[str, Any]) -> Case:
    """Parse a stored or submitted case, turning pydantic errors into ``CaseValidationError``."""
    try:
        return Case.model_validate(dict(data))
    except ValidationError as exc:
        errors = [dict(e) for e in exc.errors(include_url=False)]
        lines = [describe_validation_error(e, "(case)") for e in exc.errors(include_url=False)]
        raise CaseValidationError("invalid case: " + "; ".join(lines), errors) from exc
