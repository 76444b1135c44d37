"""Provisional clocks recomputed when newer calendar data is installed.

Past the published holiday notices a desk's provisional calendar estimates the days (the law's
holidays, no make-up days) and flags the clocks that rest on them. A release with next year's
notice, a calendar plugin or a layer file settles them: each clock whose due instant moves gets
a ``clock_update`` event and a ``deadline_changed`` notification (reason ``calendar``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from zhenshen_core.deadlines import DeadlineError
from zhenshen_core.deadlines.clocks import recompute_clock
from zhenshen_core.desk.clocks import MovedClock
from zhenshen_core.desk.core import DeskCore
from zhenshen_core.desk.results import ClockChange, RecomputeResult
from zhenshen_core.errors import ConcurrencyError
from zhenshen_core.model.case import Case
from zhenshen_core.model.clock import Clock
from zhenshen_core.model.enums import CaseStatus
from zhenshen_core.model.lifecycle import TERMINAL
from zhenshen_core.storage.protocol import CaseQuery, Record

RECOMPUTE_RECORD = ("calendar_recompute", "provisional-clocks")
"""Store record (kind, id) of the calendar the provisional clocks were last recomputed on."""


def recompute_provisional_clocks(desk: DeskCore, *, actor: str = "calendar") -> RecomputeResult:
    """Recompute the provisional clocks of active cases on ``desk``'s calendar (see
    :meth:`Desk.recompute_provisional_clocks
    <zhenshen_core.desk.Desk.recompute_provisional_clocks>`), and record the calendar they
    were recomputed on once every case is done."""
    cal = desk.calendar
    result = RecomputeResult(cal.name, cal.version)
    active = [s for s in CaseStatus if s not in TERMINAL]
    for case in desk.store.query(CaseQuery(status=active)):
        stale = [
            c for c in case.clocks.values() if c.provisional and c.calendar_version != cal.version
        ]
        if not stale:
            continue
        result.checked += len(stale)
        try:
            _recompute_case(desk, case, stale, actor, result)
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
            "at": desk.now().isoformat(),
        }
        desk.store.put_record(Record(kind=kind, id=record_id, data=data))
    return result


def _recompute_case(
    desk: DeskCore, case: Case, stale: Sequence[Clock], actor: str, result: RecomputeResult
) -> None:
    at = desk.now()
    current, events, moved = case, [], []
    for clock in stale:
        new = recompute_clock(desk.calendar, clock)
        same = (new.due_at, new.provisional, new.next_alert_at)
        if same == (clock.due_at, clock.provisional, clock.next_alert_at):
            continue  # still an estimate, and the same one: nothing to record
        current, record = desk.clocks.update(current, new, actor, at)
        events.append(record)
        if new.due_at != clock.due_at:
            moved.append(MovedClock(new, clock.due_at, record))
            result.changed.append(
                ClockChange(case.id, clock.name, clock.due_at, new.due_at, new.provisional)
            )
        if not new.provisional:
            result.settled += 1
    if events:
        desk._save(
            current,
            events,
            expected_version=case.version,
            announce=desk._moved(current, moved, "calendar"),
        )


def recompute_if_calendar_changed(desk: DeskCore) -> RecomputeResult | None:
    """The sweep's cheap check: recompute only when the calendar changed since last time.

    A node still on older data (an earlier ``known_until`` than the last recomputation)
    leaves the clocks alone, so two nodes in a rolling upgrade do not undo each other.
    """
    kind, record_id = RECOMPUTE_RECORD
    last = next((r for r in desk.store.records(kind) if r.id == record_id), None)
    if last is not None:
        if last.data.get("version") == desk.calendar.version:
            return None
        seen = last.data.get("known_until")
        if isinstance(seen, str) and date.fromisoformat(seen) > desk.calendar.known_until:
            return None
    return recompute_provisional_clocks(desk)
