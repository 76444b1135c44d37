"""The sweep: due clocks found with one indexed query, each raising one alert at most.

A threshold crossed becomes a 催办 reminder, a breach a 督办 notice, recorded on the case as a
``supervise`` event and on the clock so it is raised once, with its outbox notices in the same
write. On a store whose nodes claim clocks (PostgreSQL) each node takes different clocks.

Each due clock is its own job, as a workflow engine runs each timer: an error while handling
one (a case left in a state no alert fits, a bug, a failing rule) is recorded as a
:class:`~zhenshen_core.storage.outbox.SweepIncident` with the reason, and the sweep goes on
with the others. The store holds the clock back until the incident's retry time (exponential
backoff, :data:`~zhenshen_core.storage.outbox.INCIDENT_BACKOFF`); the incident is resolved when
the clock later sweeps without error. Only a store that cannot be reached stops a sweep
(there is nowhere to record anything then). First, the sweep delivers the outbox notices a
crash or a failing notifier left pending.
"""

from __future__ import annotations

from datetime import datetime

from zhenshen_core.deadlines.clocks import BREACH, acknowledge_alerts
from zhenshen_core.desk.core import Announcement, DeskCore
from zhenshen_core.desk.outbox import DELIVERY_BATCH, deliver, deliver_due
from zhenshen_core.desk.recompute import recompute_if_calendar_changed
from zhenshen_core.desk.results import ClockAlert, SweepResult
from zhenshen_core.errors import ConcurrencyError, StoreUnavailableError
from zhenshen_core.model.case import Case
from zhenshen_core.model.lifecycle import TERMINAL
from zhenshen_core.storage.outbox import INCIDENT_BACKOFF, SweepIncident, retry_after
from zhenshen_core.storage.protocol import DueClock, claims_due_clocks

SWEEP_ATTEMPTS = 3
"""Tries per due clock when its case keeps changing under the sweep, before it is a conflict."""
MAX_REASON = 500
"""Characters of an error kept as an incident's reason."""


def sweep(desk: DeskCore, when: datetime, *, limit: int, actor: str) -> SweepResult:
    """One sweep at ``when`` (see :meth:`Desk.sweep <zhenshen_core.desk.Desk.sweep>`): at most
    ``limit`` due clocks, each tried ``SWEEP_ATTEMPTS`` times while its case keeps changing,
    each isolated from the others."""
    result = SweepResult()
    try:
        result.recomputed = recompute_if_calendar_changed(desk)
    except StoreUnavailableError:
        raise
    except Exception as exc:  # a case the recomputation cannot read never stops the sweep
        result.recompute_error = f"{type(exc).__name__}: {exc}"[:MAX_REASON]
    before = desk.deliveries.delivered, len(desk.deliveries.failed)
    deliver_due(desk, when, limit=limit)
    open_incidents = {(i.case_id, i.clock): i for i in desk.store.incidents()}
    if claims_due_clocks(desk.store):  # several nodes: each takes different clocks
        due_list = desk.store.claim_due_clocks(when, node=desk.settings.node, limit=limit)
    else:
        due_list = desk.store.due_clocks(when, limit=limit)
    result.clocks, result.limit_reached = len(due_list), len(due_list) >= limit
    desk._deferred = []  # the alerts' notices are delivered in batches (DELIVERY_BATCH)
    try:
        _sweep_clocks(desk, due_list, open_incidents, when, actor, result)
        _deliver_deferred(desk, when)
    finally:
        desk._deferred = None  # what was not delivered stays pending for the next sweep
    if result.conflicts and claims_due_clocks(desk.store):
        # Clocks whose case kept changing: another node may take them now, not after the lease.
        desk.store.release_claims(desk.settings.node)
    result.held = sum(1 for i in open_incidents.values() if i.holds(when))
    result.notices_delivered = desk.deliveries.delivered - before[0]
    result.notices_failed = len(desk.deliveries.failed) - before[1]
    return result


def _deliver_deferred(desk: DeskCore, when: datetime) -> None:
    batch, desk._deferred = desk._deferred or [], []
    if batch:
        cases = {case.id: case for case, _ in batch}
        deliver(desk, [n for _, notices in batch for n in notices], when, cases=cases)


def _sweep_clocks(
    desk: DeskCore,
    due_list: list[DueClock],
    open_incidents: dict[tuple[str, str], SweepIncident],
    when: datetime,
    actor: str,
    result: SweepResult,
) -> None:
    for due in due_list:
        prior = open_incidents.get((due.case_id, due.clock))
        try:
            _one_clock(desk, due, when, actor, result)
        except StoreUnavailableError:
            raise  # nowhere to record anything: the whole sweep is to be run again
        except Exception as exc:  # one case never stops the sweep: recorded, retried later
            incident = _incident(prior, due, exc, when)
            desk.store.put_incident(incident)
            result.incidents.append(incident)
            continue
        if prior is not None:
            resolved = prior.model_copy(update={"resolved_at": when})
            desk.store.put_incident(resolved)
            result.resolved.append(resolved)
        if sum(len(n) for _, n in desk._deferred or []) >= DELIVERY_BATCH:
            _deliver_deferred(desk, when)


def _one_clock(
    desk: DeskCore, due: DueClock, when: datetime, actor: str, result: SweepResult
) -> None:
    for _attempt in range(SWEEP_ATTEMPTS):
        try:
            result.alerts.extend(_alert(desk, due.case_id, due.clock, when, actor))
            return
        except ConcurrencyError:
            continue  # the case moved meanwhile (often another clock of it): reload
    result.conflicts.append(due.case_id)


def _refold(desk: DeskCore, case: Case) -> None:
    """A finished case whose clocks still run (stored by a version before a terminal state
    stopped them): its document is made again from its own history, where the terminal event
    now stops them, and saved without a new event. The history is the record; the document
    is its fold, and the two agree again."""
    folded = desk.lifecycle.replay(desk.store.events(case.id))
    if folded.version != case.version:
        raise ConcurrencyError(case.id, case.version, folded.version)
    if any(c.running for c in folded.clocks.values()):
        running = sorted(n for n, c in folded.clocks.items() if c.running)
        raise ValueError(
            f"case {case.id} is {case.status.value} but its history leaves {running} running"
        )
    desk.store.save(folded, [], expected_version=case.version)


def _incident(
    prior: SweepIncident | None, due: DueClock, exc: Exception, when: datetime
) -> SweepIncident:
    attempts = (prior.attempts if prior is not None else 0) + 1
    return SweepIncident(
        case_id=due.case_id,
        clock=due.clock,
        reason=f"{type(exc).__name__}: {exc}"[:MAX_REASON],
        attempts=attempts,
        first_at=prior.first_at if prior is not None else when,
        last_at=when,
        next_retry_at=when + retry_after(attempts, INCIDENT_BACKOFF),
    )


def _alert(desk: DeskCore, case_id: str, name: str, when: datetime, actor: str) -> list[ClockAlert]:
    case = desk.store.get(case_id)
    if case.status in TERMINAL:
        _refold(desk, case)
        return []
    clock = case.clocks.get(name)
    if clock is None:
        return []
    updated, raised = acknowledge_alerts(desk.calendar, clock, when)
    if not raised and updated == clock:
        return []  # handled meanwhile by another sweep: nothing to record
    current, record = desk.clocks.update(case, updated, actor, when)
    events = [record]
    alerts = []
    announce = []
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
        current, sup_event = desk.lifecycle.fire(
            current, "supervise", actor=actor, at=when, payload={"record": supervision}
        )
        events.append(sup_event)
        alerts.append(ClockAlert(case_id, name, kind, clock.due_at, when))
        announce.append(
            Announcement(
                "clock_alert", sup_event.seq, "supervise", detail={"clock": name, "kind": kind}
            )
        )
    desk._save(current, events, expected_version=case.version, announce=announce, at=when)
    return alerts
