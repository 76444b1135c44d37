"""The joint review desk: one object that wires intake → rules → store → clocks → notifications.

Each method is one step of the process in the source article (screen, convene the joint review
meeting, issue the opinion letter within 2 working days, confirm at the leading-group meeting,
supervise execution, close the loop with the enterprise's feedback). A step validates its guard
through the lifecycle table, writes all of its events in one optimistic save (so a step is stored
whole or not at all), starts or stops the clocks it owns, and then notifies plugins; a failing
notifier is reported in ``Desk.failures`` and never rolls the case back.

The desk owns its plugin host, engine and calendar: two desks with different packs can live in
one process.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from zhenshen_core.crosscase import CrossCaseHit, CrossCaseMonitor, Trigger, generalisation_record
from zhenshen_core.deadlines import (
    Calendar,
    CalendarPolicy,
    DeadlineError,
    compute_due,
    national_calendar,
    parse_period,
)
from zhenshen_core.deadlines.clocks import (
    BREACH,
    acknowledge_alerts,
    change_period,
    extend_clock,
    pause_clock,
    recompute_clock,
    resume_clock,
    start_clock,
    stop_clock,
)
from zhenshen_core.errors import CaseNotFoundError, ConcurrencyError, GuardError
from zhenshen_core.intake import IntakeSummary, count_source, ingest_source
from zhenshen_core.model.case import SHANGHAI, Case, DepartmentAssignment, ExpertRequest, PackRef
from zhenshen_core.model.clock import Clock
from zhenshen_core.model.enums import (
    CaseStatus,
    Chair,
    DepartmentRole,
    MeetingKind,
    OpinionResult,
    Satisfaction,
    Tier,
)
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.model.lifecycle import TERMINAL, Lifecycle, dump_case, load_case
from zhenshen_core.plugins.host import HookFailure, PluginConfig, PluginHost
from zhenshen_core.plugins.records import Notification
from zhenshen_core.progress import SILENT, ProgressReporter
from zhenshen_core.storage.protocol import CaseQuery, CaseStore, Record

SWEEP_ATTEMPTS = 3
"""Tries per due clock when its case keeps changing under the sweep, before it is a conflict."""

DEFAULT_OPINION_PERIOD = "2 working days"
"""The article: the review opinion letter is issued within 2 working days after the meeting."""


@dataclass(frozen=True)
class DeskSettings:
    """District choices that are not rules: who signs, how letters are numbered, when clocks start.

    ``clock_starts`` maps a clock name from the pack's ``deadlines`` to the lifecycle event that
    starts it; clocks not listed start when the case is received. ``clock_stops`` names the
    events that stop a clock (the act it measures was done); every clock stops when the case is
    closed, withdrawn, merged or rejected.
    """

    org: str = "成都高新区营商环境领导小组办公室"
    letter_prefix: str = "成高甄审"
    thresholds: tuple[float, ...] = (0.5, 0.75)
    clock_starts: Mapping[str, str] = field(default_factory=lambda: {"opinion": "hold_meeting"})
    clock_stops: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            "contact": ("accept", "route", "reject"),
            "meeting": ("hold_meeting",),
            "opinion": ("issue_opinion",),
            "resolve": ("finish_execution", "complete"),
        }
    )
    node: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    """This process's name when a store lets sweeping nodes claim clocks (PostgreSQL)."""
    joint_review_tag: str = "联合甄审"
    """A decision carrying this tag goes to joint review; others go to ordinary handling."""


@dataclass(frozen=True)
class ClockAlert:
    """One alert raised by a sweep: a threshold crossed (reminder) or a breach (督办 notice)."""

    case_id: str
    clock: str
    kind: str  # "0.5", "0.75" … or "breach"
    due_at: datetime
    at: datetime


@dataclass(frozen=True)
class ClockChange:
    """A clock whose due instant a recomputation moved."""

    case_id: str
    clock: str
    previous_due: datetime
    due: datetime
    provisional: bool  # still resting on estimated days (the new data does not reach it)


@dataclass
class RecomputeResult:
    """What :meth:`Desk.recompute_provisional_clocks` did, for a log line or a report."""

    calendar: str
    version: str
    checked: int = 0  # provisional clocks computed on another calendar version
    changed: list[ClockChange] = field(default_factory=list)
    settled: int = 0  # clocks the calendar data now covers: no longer provisional
    conflicts: list[str] = field(default_factory=list)  # cases changed meanwhile: run again
    failures: list[tuple[str, str]] = field(default_factory=list)  # (case id, why)


@dataclass
class SweepResult:
    """What one sweep did: at most one alert per clock, the highest threshold it crossed or its
    breach (a long-overdue clock gets one 督办 notice, not three alerts)."""

    alerts: list[ClockAlert] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    recomputed: RecomputeResult | None = None  # the calendar changed since the last sweep
    clocks: int = 0
    """Due clocks handled (with or without an alert)."""
    limit_reached: bool = False
    """The sweep took as many clocks as its limit allowed: more may be due; sweep again."""

    def counts(self) -> dict[str, dict[str, int]]:
        """Alerts per clock and kind, for a summary; task clocks (``task:T1``) count as
        ``task``. Kinds are threshold keys ("0.5", "0.75") and "breach"."""
        out: dict[str, dict[str, int]] = {}
        for alert in self.alerts:
            per_kind = out.setdefault(alert.clock.split(":", 1)[0], {})
            per_kind[alert.kind] = per_kind.get(alert.kind, 0) + 1
        return out


@dataclass(frozen=True)
class Redecision:
    """The outcome of :meth:`Desk.redecide`: ``decided`` (first decision), ``changed`` or
    ``unchanged`` (nothing recorded)."""

    case: Case
    outcome: str


@dataclass(frozen=True)
class _Prepared:
    """A new case decided in memory, with every event its first write stores."""

    case: Case
    events: list[CaseEvent]
    decision: dict[str, Any] | None


@dataclass(frozen=True)
class _Moved:
    """A clock whose due instant a stored change moved."""

    clock: Clock
    previous_due: datetime
    event: CaseEvent


RECOMPUTE_RECORD = ("calendar_recompute", "provisional-clocks")
"""Store record (kind, id) of the calendar the provisional clocks were last recomputed on."""

_PROVENANCE = frozenset({"case_id", "pack", "fired"})
_NOT_INPUTS = frozenset({"decide", "clock_update", "supervise", "note"})
"""Events whose effects the rules never read, or must not read back (their own decisions)."""


def same_outcome(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether two decisions decide the same, whichever pack version and rules got there."""
    keys = (set(old) | set(new)) - _PROVENANCE
    return all(old.get(k) == new.get(k) for k in keys)


class Desk:
    """The facade developers embed. All times are aware datetimes (Asia/Shanghai by default)."""

    def __init__(
        self,
        store: CaseStore,
        *,
        pack: Any = None,
        engine: str = "compiled",
        host: PluginHost | None = None,
        calendar: Calendar | None = None,
        lifecycle: Lifecycle | None = None,
        settings: DeskSettings | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.host = host or PluginHost(PluginConfig(autoload=False))
        # Provisional: past the published notices the desk still decides, on the law's holidays,
        # and flags those clocks for recomputation (pass a strict calendar to refuse instead).
        self.calendar = calendar or national_calendar(CalendarPolicy.PROVISIONAL)
        self.lifecycle = lifecycle or Lifecycle()
        self.settings = settings or DeskSettings()
        self._now = now or (lambda: datetime.now(SHANGHAI))
        self.pack = pack
        self.engine = _make_engine(pack, engine) if pack is not None else None
        self.failures: list[HookFailure] = []
        specs = tuple(getattr(pack, "crosscase", ()) or ())
        self.crosscase = (
            CrossCaseMonitor(
                specs,
                tuple(getattr(pack, "severity_levels", ())),
                dates=getattr(pack, "date_facts", ()),
            )
            if specs
            else None
        )
        if self.crosscase is not None:
            self.warm_up()

    def warm_up(self) -> int:
        """Rebuild the cross-case windows from recent cases in the store (after a restart)."""
        if self.crosscase is None:
            return 0
        since = self.now() - timedelta(days=self.crosscase.max_window_days)
        return self.crosscase.warm_up(self.store.query(CaseQuery(received_from=since)))

    def close(self) -> None:
        if self.crosscase is not None:
            self.crosscase.close()
        self.store.close()

    # --- plumbing -------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._now()

    def get(self, case_id: str) -> Case:
        return self.store.get(case_id)

    def _commit(
        self,
        case: Case,
        steps: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        actor: str,
        at: datetime,
        rule_ids: Sequence[str] = (),
    ) -> Case:
        """Fire ``steps`` in order on a copy, clocks included, and save them in one write."""
        current, events = case, []
        for event, payload in steps:
            current, stops = self._clock_effects(current, event, actor, at, before=True)
            current, record = self.lifecycle.fire(
                current,
                event,
                actor=actor,
                at=at,
                payload=payload,
                rule_ids=rule_ids if event == "decide" else (),
            )
            current, starts = self._clock_effects(current, event, actor, at, before=False)
            events += [*stops, record, *starts]
        self.store.save(current, events, expected_version=case.version)
        for record in events:
            if record.type not in ("clock_update",):
                self._notify("case_transitioned", current, record.type, case=current, event=record)
        return current

    def _notify(self, kind: str, subject: Case, event_type: str | None, **kwargs: Any) -> None:
        detail = kwargs.pop("detail", {})
        self.failures.extend(
            self.host.notify(Notification(kind, subject, event_type, detail), **kwargs)
        )

    def _clock_update(
        self, case: Case, clock: Clock, actor: str, at: datetime
    ) -> tuple[Case, CaseEvent]:
        return self.lifecycle.fire(
            case,
            "clock_update",
            actor=actor,
            at=at,
            payload={"clock": clock.model_dump(mode="json")},
        )

    def _clock_effects(
        self, case: Case, event: str, actor: str, at: datetime, *, before: bool
    ) -> tuple[Case, list[CaseEvent]]:
        """Start, stop, pause or resume the clocks an event owns (data, in ``DeskSettings``).

        Stops are recorded just before the event (a closed case accepts no more events);
        starts, pauses and resumes just after it (a start may need the event's effect).
        """
        events: list[CaseEvent] = []
        changes: list[Clock] = []
        if before:
            terminal = event in ("close", "withdraw", "merge", "reject")
            for name, clock in case.clocks.items():
                if clock.stopped_at is not None:
                    continue
                if terminal or event in self.settings.clock_stops.get(name, ()):
                    changes.append(stop_clock(self.calendar, clock, at))
        else:
            deadlines = (case.decision or {}).get("deadlines", {}) or {}
            for name, trigger in self.settings.clock_starts.items():
                if trigger == event:
                    period = deadlines.get(name) or (
                        DEFAULT_OPINION_PERIOD if name == "opinion" else None
                    )
                    if period:
                        changes.append(self._start(name, period, at))
            if event == "request_info":
                changes += [
                    pause_clock(self.calendar, c, at, "待补充材料")
                    for c in case.clocks.values()
                    if c.stopped_at is None and not c.paused
                ]
            elif event == "provide_info":
                changes += [
                    resume_clock(self.calendar, c, at) for c in case.clocks.values() if c.paused
                ]
        for clock in changes:
            case, record = self._clock_update(case, clock, actor, at)
            events.append(record)
        return case, events

    def _start(self, name: str, period: str, at: datetime) -> Clock:
        return start_clock(self.calendar, name, period, at, thresholds=self.settings.thresholds)

    # --- intake and decision ----------------------------------------------------------------

    def receive(self, data: Mapping[str, Any] | Case, *, actor: str = "intake") -> Case:
        """Validate, decide and store one case in one write; a repeat delivery returns it.

        With a pack, the case is enriched and decided (clocks started) before anything is
        stored, and the receive, facts, decide and clock events go to the store in one
        ``ingest``: a failure to decide (a strict calendar that does not reach a deadline, a
        failing enricher) raises and leaves the store as it was, so delivering the same work
        order again tries again. A case that an earlier version stored undecided is decided
        when it is delivered again.
        """
        draft = (
            data
            if isinstance(data, Case)
            else load_case(self.host.normalise_intake(str(data.get("channel", "api")), data))
        )
        case, event = self.lifecycle.receive(draft, actor=actor)
        stored = self._stored(case)
        if stored is not None:
            return self._decide_if_undecided(stored)
        prepared = self._prepare(case, event, actor=actor)
        result = self.store.ingest(prepared.case, prepared.events)
        if not result.created:  # a concurrent delivery stored it between the look-up and now
            return self._decide_if_undecided(self.store.get(result.case_id))
        self._notify("case_received", case, event.type, case=case, event=event)
        return self._announce(prepared)

    def _stored(self, case: Case) -> Case | None:
        """The stored case for the same work order (any of its external refs, or its id)."""
        for ref in case.external_refs:
            found = self.store.find_external(ref.channel.value, ref.external_id)
            if found is not None:
                return found
        try:
            return self.store.get(case.id)
        except CaseNotFoundError:
            return None

    def _decide_if_undecided(self, case: Case) -> Case:
        """A repeat delivery: decide a case that was stored without its decision, else no-op."""
        if self.engine is None or case.decision is not None or case.status in TERMINAL:
            return case
        return self._cross_case(self.decide(case.id), "receive")

    def _prepare(self, case: Case, received: CaseEvent, *, actor: str) -> _Prepared:
        """Enrich and decide a new case in memory: everything its single write will store."""
        events = [received]
        facts = self.host.enrich(case)
        if facts:
            case, record = self.lifecycle.fire(
                case, "update_facts", actor=actor, at=received.at, payload={"facts": facts}
            )
            events.append(record)
        if self.engine is None:
            return _Prepared(case, events, None)
        decision = _decision_json(self.engine.evaluate(case))
        # The case came from lifecycle.receive or fire just above: nobody else holds it.
        case, decided, _ = self._decision_events(
            case, decision, actor="rules", at=self.now(), in_place=True
        )
        return _Prepared(case, [*events, *decided], decision)

    def _announce(self, prepared: _Prepared) -> Case:
        """After a new case's write: its notifications and rule actions, then cross-case rules."""
        case = prepared.case
        for record in prepared.events:
            if record.type == "update_facts":
                self._notify("case_transitioned", case, record.type, case=case, event=record)
        if prepared.decision is not None:
            self._notify("decision_made", case, "decide", case=case, decision=prepared.decision)
            self._run_actions(case, prepared.decision)
        return self._cross_case(case, "receive")

    def _cross_case(self, case: Case, on: Trigger, day: date | None = None) -> Case:
        """Feed the case to the cross-case rules and apply what completed patterns ask for."""
        if self.crosscase is None:
            return case
        for hit in self.crosscase.observe(case, on, day):
            case = self._apply_hit(case, hit)
        return case

    def _apply_hit(self, case: Case, hit: CrossCaseHit) -> Case:
        then = hit.rule.then
        at = self.now()
        if then.facts:
            facts = {**then.facts, f"crosscase.{hit.rule.id}": len(hit.case_ids)}
            case = self._commit(
                case, [("update_facts", {"facts": facts})], actor="crosscase", at=at
            )
            if self.engine is not None:
                case = self.decide(case.id, actor="crosscase")
        if then.escalate:
            if case.status is CaseStatus.ROUTED:
                case = self._commit(
                    case,
                    [("escalate", {"reason": hit.rule.description or hit.rule.id})],
                    actor="crosscase",
                    at=at,
                )
            elif case.status is CaseStatus.RECEIVED:
                case = self.screen(case.id, actor="crosscase", at=at)
        if then.generalise:
            domains = getattr(self.pack, "domains", {}) or {}
            names = {k: getattr(v, "name", k) for k, v in domains.items()}
            data = generalisation_record(hit, case, names)
            record_id = f"G-{hit.rule.id}-{hit.first_day:%Y%m%d}-{hit.case_ids[0]}"
            self.store.put_record(Record(kind="generalisation", id=record_id, data=data))
            self._notify("generalisation_proposed", case, None, detail={"id": record_id, **data})
        return case

    def ingest(
        self,
        channel: str,
        source: str,
        *,
        actor: str = "intake",
        progress: ProgressReporter = SILENT,
        options: Mapping[str, str] | None = None,
    ) -> IntakeSummary:
        """Bulk intake through a channel adapter, with :meth:`receive`'s pipeline per case.

        With a pack, each case is enriched and decided before its batch is stored, so every
        stored case is decided and its clocks run; the batch is still one write per 500
        records. A record that cannot be decided becomes a dead letter with the reason (nothing
        of it is stored), and a repeat delivery of a case stored undecided decides it.
        ``progress`` hears one phase, "ingest" (records, decided as they are read).
        ``options`` go to the channel (e.g. ``{"profile": "p.yaml"}``; see
        ``IntakeChannel.options``).
        """
        reader = self.host.intake_channel(channel).reader(options)
        return ingest_source(
            source,
            channel=channel,
            store=self.store,
            host=self.host,
            lifecycle=self.lifecycle,
            actor=actor,
            progress=progress.phase(
                "ingest",
                lambda: count_source(self.host, channel, source, reader=reader),
                unit="records",
            ),
            pipeline=_DeskIntake(self, actor) if self.engine is not None else None,
            reader=reader,
        )

    def decide(self, case_id: str, *, actor: str = "rules") -> Case:
        """Run the pack on the case, record the decision and start the clocks it names.

        A running clock whose period the decision changes is counted again from its start
        with the new period (``deadline_changed`` with reason ``decision``).
        """
        if self.engine is None:
            raise GuardError("-", "decide", "this desk has no rule pack")
        case = self.store.get(case_id)
        decision = _decision_json(self.engine.evaluate(self._decision_inputs(case)))
        return self._record_decision(case, decision, actor)

    def redecide(self, case_id: str, *, actor: str = "rules") -> Redecision:
        """Decide a stored case again (after a pack change); an unchanged outcome records nothing.

        The outcome is the decision less its provenance (pack id, version, hash) and its trace
        (rules fired, values): a new pack version that decides the case the same way leaves the
        case and its history as they are. A changed outcome is one ``decide`` event carrying the
        new pack's id, version and hash, plus a ``clock_update`` per clock it starts or
        re-periods.
        """
        if self.engine is None:
            raise GuardError("-", "decide", "this desk has no rule pack")
        case = self.store.get(case_id)
        if case.status in TERMINAL:
            raise GuardError(
                case.status.value, "decide", "the case is finished; its decision stays as recorded"
            )
        decision = _decision_json(self.engine.evaluate(self._decision_inputs(case)))
        if case.decision is None:
            return Redecision(self._record_decision(case, decision, actor), "decided")
        if same_outcome(case.decision, decision):
            return Redecision(case, "unchanged")
        return Redecision(self._record_decision(case, decision, actor), "changed")

    def _decision_inputs(self, case: Case) -> Case:
        """The case as the rules are to see it: its history replayed without earlier decisions.

        A decision writes severity, tier, departments, experts and tags onto the case. Reading
        them back would let one decision feed the next — a case routed to three departments
        would count as a work order naming three — and deciding twice would not give the same
        answer. A new decision starts from what was received and what happened since: facts,
        returns, departments set by hand, the status.
        """
        if case.decision is None:
            return case
        events = [e for e in self.store.events(case.id) if e.type not in _NOT_INPUTS]
        return self.lifecycle.replay(events)

    def _record_decision(self, case: Case, decision: dict[str, Any], actor: str) -> Case:
        at = self.now()
        current, events, moved = self._decision_events(case, decision, actor=actor, at=at)
        self.store.save(current, events, expected_version=case.version)
        self._notify_moved(current, moved, "decision")
        self._notify("decision_made", current, "decide", case=current, decision=decision)
        self._run_actions(current, decision)
        return current

    def _decision_events(
        self,
        case: Case,
        decision: Mapping[str, Any],
        *,
        actor: str,
        at: datetime,
        in_place: bool = False,
    ) -> tuple[Case, list[CaseEvent], list[_Moved]]:
        """The ``decide`` event and the clock changes it brings, on a copy; nothing is saved.

        Clocks the decision names start at the case's receipt, except those a lifecycle event
        starts (``DeskSettings.clock_starts``); a running clock whose period changed is counted
        again from its start; a clock the decision no longer names keeps running (a deadline
        already given to the enterprise does not vanish with a rule).
        """
        payload: dict[str, Any] = {
            "decision": dict(decision),
            "severity": decision.get("severity"),
            "tier": decision.get("tier"),
            "chair": decision.get("chair"),
            "tags": list(decision.get("tags") or []),
            "pack": PackRef(**decision["pack"]).model_dump() if decision.get("pack") else None,
        }
        departments = _departments(decision, case)
        if departments is not None:
            payload["departments"] = [d.model_dump(mode="json") for d in departments]
        experts = _experts(decision)
        if experts:
            payload["experts"] = [e.model_dump(mode="json") for e in experts]
        rule_ids = [f["rule"] for f in decision.get("fired", [])]
        clocks: list[tuple[Clock, Clock | None]] = []  # (new, the one it replaces)
        for name, period in (decision.get("deadlines") or {}).items():
            clock = case.clocks.get(name)
            if clock is None:
                if name not in self.settings.clock_starts:
                    clocks.append((self._start(name, period, case.received_at), None))
            elif clock.running and clock.period != str(parse_period(period)):
                clocks.append((change_period(self.calendar, clock, period), clock))
        steps: list[tuple[str, Mapping[str, Any], Sequence[str]]] = [
            ("decide", payload, rule_ids),
            *(("clock_update", {"clock": new.model_dump(mode="json")}, ()) for new, _ in clocks),
        ]
        current, events = self.lifecycle.fire_all(
            case, steps, actor=actor, at=at, in_place=in_place
        )
        moved = [
            _Moved(new, old.due_at, event)
            for (new, old), event in zip(clocks, events[1:], strict=True)
            if old is not None and new.due_at != old.due_at
        ]
        return current, events, moved

    def _notify_moved(self, case: Case, moved: Sequence[_Moved], reason: str) -> None:
        for m in moved:
            if m.clock.stopped_at is not None:
                continue
            self._notify(
                "deadline_changed",
                case,
                "clock_update",
                case=case,
                event=m.event,
                clock=m.clock,
                previous_due=m.previous_due,
                reason=reason,
                detail={
                    "clock": m.clock.name,
                    "previous_due": m.previous_due.isoformat(),
                    "due": m.clock.due_at.isoformat(),
                    "provisional": m.clock.provisional,
                    "reason": reason,
                },
            )

    def _run_actions(self, case: Case, decision: Mapping[str, Any]) -> None:
        names = decision.get("actions") or []
        if not names:
            return
        actions = self.host.rule_actions()
        for name in names:
            action = actions.get(name)
            if action is None:
                self.failures.append(HookFailure("-", f"action:{name}", "no plugin registers it"))
                continue
            try:
                action.run(case, decision)
            except Exception as exc:  # isolation, like notifiers
                self.failures.append(
                    HookFailure(name, "rule_action", f"{type(exc).__name__}: {exc}")
                )

    # --- the article's steps ----------------------------------------------------------------

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
        seq_id = f"{self.settings.letter_prefix}-{year}"
        current = {r.id: r for r in self.store.records("letter_sequence")}.get(seq_id)
        n = int(current.data["last"]) + 1 if current else 1
        self.store.put_record(Record(kind="letter_sequence", id=seq_id, data={"last": n}))
        return f"{self.settings.letter_prefix}〔{year}〕{n}号"

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
        from zhenshen_core.letters import MeasureError, Names, resolve_measures

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
        current, clock_event = self._clock_update(
            current, self._start(f"task:{task_id}", period, when), actor, when
        )
        self.store.save(current, [record, clock_event], expected_version=case.version)
        self._notify("case_transitioned", current, "assign_task", case=current, event=record)
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
        updated, record = self._clock_update(case, extended, actor, when)
        self.store.save(updated, [record], expected_version=case.version)
        self._notify_moved(updated, [_Moved(extended, current.due_at, record)], "extension")
        return updated

    def start_execution(
        self, case_id: str, *, at: datetime | None = None, actor: str = "office"
    ) -> Case:
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
            current, clock_event = self._clock_update(
                current, stop_clock(self.calendar, clock, when), actor, when
            )
            events.append(clock_event)
        self.store.save(current, events, expected_version=case.version)
        self._notify("case_transitioned", current, "complete_task", case=current, event=record)
        return current

    def finish_execution(
        self, case_id: str, *, at: datetime | None = None, actor: str = "office"
    ) -> Case:
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
        case = self.store.get(case_id)
        return self._commit(
            case, [("withdraw", {"reason": reason})], actor=actor, at=at or self.now()
        )

    def return_case(
        self,
        case_id: str,
        from_department: str,
        *,
        to_department: str | None = None,
        reason: str = "",
        at: datetime | None = None,
        actor: str = "department",
    ) -> Case:
        """退单: record it and re-run the rules (two returns escalate in the reference pack)."""
        case = self.store.get(case_id)
        when = at or self.now()
        record = {
            "at": when.isoformat(),
            "from_department": from_department,
            "to_department": to_department,
            "reason": reason,
        }
        case = self._commit(case, [("return_case", {"record": record})], actor=actor, at=when)
        case = self.decide(case.id) if self.engine is not None else case
        return self._cross_case(case, "return", when.astimezone(SHANGHAI).date())

    # --- supervision ------------------------------------------------------------------------

    def sweep(
        self, now: datetime | None = None, *, limit: int = 1000, actor: str = "supervisor"
    ) -> SweepResult:
        """Find clocks due for an alert (one indexed query) and record reminders and notices.

        A threshold crossed becomes a 催办 reminder, a breach a 督办 notice; each clock raises
        one alert per sweep, for the highest it crossed (lower thresholds crossed meanwhile are
        marked done without one), and each alert is recorded on the clock so it is raised once.
        A case changed concurrently is reloaded and tried again (the alert is computed from
        the stored clock, so a clock another node has just handled raises nothing); one that
        keeps changing is skipped and listed in ``conflicts``, and the next sweep picks it up.

        First, when the desk's calendar is not the one the provisional clocks were last
        recomputed on (newer notice data was installed), it recomputes them
        (:meth:`recompute_provisional_clocks`); otherwise that check is one record read.
        """
        when = now or self.now()
        result = SweepResult(recomputed=self._recompute_if_calendar_changed())
        claim = getattr(self.store, "claim_due_clocks", None)
        if callable(claim):  # several nodes on one database: each takes different clocks
            due_list = claim(when, node=self.settings.node, limit=limit)
        else:
            due_list = self.store.due_clocks(when, limit=limit)
        result.clocks, result.limit_reached = len(due_list), len(due_list) >= limit
        for due in due_list:
            for _attempt in range(SWEEP_ATTEMPTS):
                try:
                    result.alerts.extend(self._alert(due.case_id, due.clock, when, actor))
                    break
                except ConcurrencyError:
                    continue  # the case moved meanwhile (often another clock of it): reload
            else:
                result.conflicts.append(due.case_id)
        return result

    def recompute_provisional_clocks(self, *, actor: str = "calendar") -> RecomputeResult:
        """Recompute every provisional clock of an active case on this desk's calendar.

        Run it when newer calendar data is installed (a release with next year's notice, a
        calendar plugin, a layer file): each clock whose due instant moves gets a
        ``clock_update`` event and a ``deadline_changed`` notification (reason ``calendar``),
        as for an extension; a clock the data now covers loses its ``provisional`` flag. A
        second run changes nothing. A case changed meanwhile is listed in ``conflicts`` (run
        again); a clock the calendar cannot reach (a strict calendar) in ``failures``.
        """
        cal = self.calendar
        result = RecomputeResult(cal.name, cal.version)
        active = [s for s in CaseStatus if s not in TERMINAL]
        for case in self.store.query(CaseQuery(status=active)):
            stale = [
                c
                for c in case.clocks.values()
                if c.provisional and c.calendar_version != cal.version
            ]
            if not stale:
                continue
            result.checked += len(stale)
            try:
                self._recompute_case(case, stale, actor, result)
            except ConcurrencyError:
                result.conflicts.append(case.id)
            except DeadlineError as exc:
                result.failures.append((case.id, str(exc)))
        if not result.conflicts and not result.failures:
            kind, record_id = RECOMPUTE_RECORD
            data = {
                "calendar": cal.name,
                "version": cal.version,
                "known_until": cal.known_until.isoformat(),
                "at": self.now().isoformat(),
            }
            self.store.put_record(Record(kind=kind, id=record_id, data=data))
        return result

    def _recompute_case(
        self, case: Case, stale: Sequence[Clock], actor: str, result: RecomputeResult
    ) -> None:
        at = self.now()
        current, events, moved = case, [], []
        for clock in stale:
            new = recompute_clock(self.calendar, clock)
            same = (new.due_at, new.provisional, new.next_alert_at)
            if same == (clock.due_at, clock.provisional, clock.next_alert_at):
                continue  # still an estimate, and the same one: nothing to record
            current, record = self._clock_update(current, new, actor, at)
            events.append(record)
            if new.due_at != clock.due_at:
                moved.append(_Moved(new, clock.due_at, record))
                result.changed.append(
                    ClockChange(case.id, clock.name, clock.due_at, new.due_at, new.provisional)
                )
            if not new.provisional:
                result.settled += 1
        if events:
            self.store.save(current, events, expected_version=case.version)
            self._notify_moved(current, moved, "calendar")

    def _recompute_if_calendar_changed(self) -> RecomputeResult | None:
        """The sweep's cheap check: recompute only when the calendar changed since last time.

        A node still on older data (an earlier ``known_until`` than the last recomputation)
        leaves the clocks alone, so two nodes in a rolling upgrade do not undo each other.
        """
        kind, record_id = RECOMPUTE_RECORD
        last = next((r for r in self.store.records(kind) if r.id == record_id), None)
        if last is not None:
            if last.data.get("version") == self.calendar.version:
                return None
            seen = last.data.get("known_until")
            if isinstance(seen, str) and date.fromisoformat(seen) > self.calendar.known_until:
                return None
        return self.recompute_provisional_clocks()

    def _alert(self, case_id: str, name: str, when: datetime, actor: str) -> list[ClockAlert]:
        case = self.store.get(case_id)
        clock = case.clocks.get(name)
        if clock is None:
            return []
        updated, raised = acknowledge_alerts(self.calendar, clock, when)
        if not raised and updated == clock:
            return []  # handled meanwhile by another sweep: nothing to record
        current, record = self._clock_update(case, updated, actor, when)
        events = [record]
        alerts = []
        for kind in raised:
            note_kind = "notice" if kind == BREACH else "reminder"
            label = "督办通知：已超期" if kind == BREACH else f"催办提醒：已用时{float(kind):.0%}"
            supervision = {
                "at": when.isoformat(),
                "kind": note_kind,
                "clock": name,
                "task_id": name.split(":", 1)[1] if name.startswith("task:") else None,
                "note": f"{label}（{name}，期限 {clock.due_at.date().isoformat()}）",
            }
            current, sup_event = self.lifecycle.fire(
                current, "supervise", actor=actor, at=when, payload={"record": supervision}
            )
            events.append(sup_event)
            alerts.append(ClockAlert(case_id, name, kind, clock.due_at, when))
        self.store.save(current, events, expected_version=case.version)
        for alert in alerts:
            self._notify(
                "clock_alert",
                current,
                "supervise",
                detail={"clock": alert.clock, "kind": alert.kind},
            )
        return alerts

    # --- documents ----------------------------------------------------------------------------

    def letter_context(self, case: Case, renderer: str | None = None) -> dict[str, Any]:
        from zhenshen_core.letters import letter_context

        opinion = case.opinion
        return letter_context(
            case,
            case.decision,
            letter_no=(opinion.letter_no if opinion and opinion.letter_no else ""),
            issued_at=opinion.issued_at if opinion else self.now(),
            org=self.settings.org,
            pack=self.pack,
            template=self.pack_template(renderer) if renderer else None,
            calendar=self.calendar,
        )

    def pack_template(self, renderer: str) -> str | None:
        """A letter template the pack ships: ``templates/opinion_letter.<ext>.j2`` in its folder.

        Templates are pack data, rendered in Jinja2's sandbox; a pack without one uses the
        built-in template of the renderer.
        """
        folder = getattr(self.pack, "path", "") or ""
        ext = {"markdown": "md"}.get(renderer, renderer)
        candidate = Path(folder) / "templates" / f"opinion_letter.{ext}.j2"
        return str(candidate) if folder and candidate.is_file() else None

    def render_letter(self, case_id: str, renderer: str = "markdown") -> bytes:
        """The 甄别审查意见书 of a case, through a renderer plugin (markdown, html, docx …).

        The letter is checked first (its date, display names, measures, expert advice); a
        :class:`~zhenshen_core.letters.LetterCheckError` lists every problem.
        """
        case = self.store.get(case_id)
        if case.opinion is None:
            raise GuardError(case.status.value, "render_letter", "no opinion has been issued")
        return self.host.renderer(renderer).render(self.letter_context(case, renderer))

    def history(self, case_id: str) -> list[CaseEvent]:
        return self.store.events(case_id)

    def snapshot(self, case_id: str) -> dict[str, Any]:
        return dump_case(self.store.get(case_id))


# --- helpers -------------------------------------------------------------------------------------


class _DeskIntake:
    """The desk's receive pipeline for bulk intake (:func:`zhenshen_core.intake.ingest_records`).

    ``prepare`` decides a case before its batch is written; ``stored`` sends what ``receive``
    sends after its write; ``known`` handles a work order the store already had.
    """

    def __init__(self, desk: Desk, actor: str) -> None:
        self.desk = desk
        self.actor = actor
        self._pending: dict[str, _Prepared] = {}
        self._stored: dict[str, Case] = {}

    def prepare(self, case: Case, events: Sequence[CaseEvent]) -> tuple[Case, list[CaseEvent]]:
        stored = self.desk._stored(case)
        if stored is not None:  # a repeat delivery: the store will say so; nothing to decide
            self._stored[stored.id] = stored
            return case, list(events)
        prepared = self.desk._prepare(case, events[0], actor=self.actor)
        self._pending[case.id] = prepared
        return prepared.case, prepared.events

    def stored(self, case: Case) -> None:
        prepared = self._pending.pop(case.id, None)
        if prepared is not None:
            self.desk._announce(prepared)

    def known(self, case: Case, stored_id: str) -> None:
        self._pending.pop(case.id, None)
        stored = self._stored.pop(stored_id, None) or self.desk.store.get(stored_id)
        self.desk._decide_if_undecided(stored)


def _make_engine(pack: Any, engine: str) -> Any:
    if engine == "compiled":
        from zhenshen_core.rules import CompiledEngine

        return CompiledEngine(pack)
    if engine == "durable":
        from zhenshen_core.rules.durable import DurableEngine

        return DurableEngine(pack)
    raise ValueError(f"unknown engine {engine!r}; choose one of: compiled, durable")


def _decision_json(decision: Any) -> dict[str, Any]:
    if isinstance(decision, Mapping):
        return dict(decision)
    dumped: dict[str, Any] = decision.model_dump(mode="json")
    return dumped


def _departments(data: Mapping[str, Any], case: Case) -> list[DepartmentAssignment] | None:
    """The decision's lead and co departments; None keeps the case's own list."""
    depts = data.get("departments") or {}
    lead, co = depts.get("lead"), list(depts.get("co") or [])
    if not lead and not co:
        return None
    out = [DepartmentAssignment(id=lead, role=DepartmentRole.LEAD)] if lead else []
    if not lead and case.lead_department and case.lead_department not in co:
        out.append(DepartmentAssignment(id=case.lead_department, role=DepartmentRole.LEAD))
    out += [
        DepartmentAssignment(id=d, role=DepartmentRole.CO)
        for d in co
        if d != lead and d != case.lead_department
    ]
    return out


def _experts(data: Mapping[str, Any]) -> list[ExpertRequest]:
    experts = data.get("experts") or {}
    reasons = experts.get("reasons") or {}
    out = [
        ExpertRequest(kind=k, required=True, reason=str(reasons.get(k, "")))
        for k in experts.get("required") or []
    ]
    out += [
        ExpertRequest(kind=k, required=False, reason=str(reasons.get(k, "")))
        for k in experts.get("suggested") or []
    ]
    return out
