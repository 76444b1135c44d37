"""The sweep: due clocks found with one indexed query, each raising one alert at most.

A threshold crossed becomes a 催办 reminder, a breach a 督办 notice, recorded on the case as a
``supervise`` event and on the clock so it is raised once. On a store whose nodes claim clocks
(PostgreSQL) each node takes different clocks.
"""

from __future__ import annotations

from datetime import datetime

from zhenshen_core.deadlines.clocks import BREACH, acknowledge_alerts
from zhenshen_core.desk.core import DeskCore
from zhenshen_core.desk.recompute import recompute_if_calendar_changed
from zhenshen_core.desk.results import ClockAlert, SweepResult
from zhenshen_core.errors import ConcurrencyError

SWEEP_ATTEMPTS = 3
"""Tries per due clock when its case keeps changing under the sweep, before it is a conflict."""


def sweep(desk: DeskCore, when: datetime, *, limit: int, actor: str) -> SweepResult:
    """One sweep at ``when`` (see :meth:`Desk.sweep <zhenshen_core.desk.Desk.sweep>`): at most
    ``limit`` due clocks, each tried ``SWEEP_ATTEMPTS`` times while its case keeps changing."""
    result = SweepResult(recomputed=recompute_if_calendar_changed(desk))
    claim = getattr(desk.store, "claim_due_clocks", None)
    if callable(claim):  # several nodes on one database: each takes different clocks
        due_list = claim(when, node=desk.settings.node, limit=limit)
    else:
        due_list = desk.store.due_clocks(when, limit=limit)
    result.clocks, result.limit_reached = len(due_list), len(due_list) >= limit
    for due in due_list:
        for _attempt in range(SWEEP_ATTEMPTS):
            try:
                result.alerts.extend(_alert(desk, due.case_id, due.clock, when, actor))
                break
            except ConcurrencyError:
                continue  # the case moved meanwhile (often another clock of it): reload
        else:
            result.conflicts.append(due.case_id)
    return result


def _alert(desk: DeskCore, case_id: str, name: str, when: datetime, actor: str) -> list[ClockAlert]:
    case = desk.store.get(case_id)
    clock = case.clocks.get(name)
    if clock is None:
        return []
    updated, raised = acknowledge_alerts(desk.calendar, clock, when)
    if not raised and updated == clock:
        return []  # handled meanwhile by another sweep: nothing to record
    current, record = desk.clocks.update(case, updated, actor, when)
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
        current, sup_event = desk.lifecycle.fire(
            current, "supervise", actor=actor, at=when, payload={"record": supervision}
        )
        events.append(sup_event)
        alerts.append(ClockAlert(case_id, name, kind, clock.due_at, when))
    desk.store.save(current, events, expected_version=case.version)
    for alert in alerts:
        desk._notify(
            "clock_alert",
            current,
            "supervise",
            detail={"clock": alert.clock, "kind": alert.kind},
        )
    return alerts
