"""The clocks a desk runs around lifecycle events, on its calendar.

Which event starts, stops, pauses or resumes which clock is data (``DeskSettings.clock_starts``
and ``clock_stops``); every change is a ``clock_update`` event fired on the case, so the clock's
history is in the case's history like any other change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from zhenshen_core.deadlines import Calendar
from zhenshen_core.deadlines.clocks import pause_clock, resume_clock, start_clock, stop_clock
from zhenshen_core.desk.settings import DEFAULT_OPINION_PERIOD, DeskSettings
from zhenshen_core.model.case import Case
from zhenshen_core.model.clock import Clock
from zhenshen_core.model.enums import TaskStatus
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.model.lifecycle import Lifecycle

TERMINAL_EVENTS = frozenset({"close", "withdraw", "merge", "reject"})
"""Events after which no clock of the case runs."""


@dataclass(frozen=True)
class MovedClock:
    """A clock whose due instant a stored change moved (a ``deadline_changed`` to send)."""

    clock: Clock
    previous_due: datetime
    event: CaseEvent


@dataclass(frozen=True)
class DeskClocks:
    """A desk's calendar, lifecycle and settings, as the clock changes of its steps need them."""

    calendar: Calendar
    lifecycle: Lifecycle
    settings: DeskSettings

    def start(self, name: str, period: str, at: datetime) -> Clock:
        return start_clock(self.calendar, name, period, at, thresholds=self.settings.thresholds)

    def update(self, case: Case, clock: Clock, actor: str, at: datetime) -> tuple[Case, CaseEvent]:
        """Record ``clock`` as the case's clock of its name (a ``clock_update`` event)."""
        return self.lifecycle.fire(
            case,
            "clock_update",
            actor=actor,
            at=at,
            payload={"clock": clock.model_dump(mode="json")},
        )

    def effects(
        self, case: Case, event: str, actor: str, at: datetime, *, before: bool
    ) -> tuple[Case, list[CaseEvent]]:
        """Start, stop, pause or resume the clocks an event owns (data, in ``DeskSettings``).

        Stops are recorded just before the event (a closed case accepts no more events);
        starts, pauses and resumes just after it (a start may need the event's effect).
        """
        events: list[CaseEvent] = []
        changes: list[Clock] = []
        if before:
            terminal = event in TERMINAL_EVENTS
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
                        changes.append(self.start(name, period, at))
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
            elif event == "complete_task":  # a finished measure's clock stops with it
                done = {t.id for t in case.tasks if t.status is not TaskStatus.OPEN}
                changes += [
                    stop_clock(self.calendar, c, at)
                    for name, c in case.clocks.items()
                    if c.running and name.startswith("task:") and name[5:] in done
                ]
        for clock in changes:
            case, record = self.update(case, clock, actor, at)
            events.append(record)
        return case, events
