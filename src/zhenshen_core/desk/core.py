"""The desk's state and plumbing: what every step of the article shares.

A desk owns its store, plugin host, calendar, lifecycle table, settings, rules engine and
cross-case monitor (no global state: two desks with different packs live in one process). A
step fires its events on a copy of the case, clocks included (:meth:`DeskCore._commit`),
and saves them in one optimistic write (:meth:`DeskCore._save`) together with one outbox
notice per registered notifier for each change to announce; then it calls the notification
hooks (in-process observers) and delivers the notices (:mod:`zhenshen_core.desk.outbox`). A
failing notifier, hook or rule action is reported in ``failures`` and never rolls the case
back; a notice that could not be delivered stays in the outbox for the next sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from zhenshen_core.deadlines import Calendar, CalendarPolicy, national_calendar
from zhenshen_core.desk.clocks import DeskClocks, MovedClock
from zhenshen_core.desk.outbox import Deliveries, deliver, notices_for
from zhenshen_core.desk.settings import DeskSettings
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.model.lifecycle import Lifecycle
from zhenshen_core.plugins.host import HookFailure, PluginConfig, PluginHost
from zhenshen_core.plugins.records import DeskDefaults, Notification
from zhenshen_core.storage.outbox import OutboxNotice
from zhenshen_core.storage.protocol import CaseQuery, CaseStore

if TYPE_CHECKING:
    from zhenshen_core.desk.monitor import CrossCaseMonitor
    from zhenshen_core.rules import Engine, ResolvedPack


@dataclass(frozen=True)
class Announcement:
    """A change to tell plugins about once it is stored: the ``zhenshen_<kind>`` hook's
    arguments, and what an outbox notice keeps of it (event number, event type, detail)."""

    kind: str
    seq: int
    event_type: str | None
    hook_kwargs: Mapping[str, Any] = field(default_factory=dict)
    detail: Mapping[str, Any] = field(default_factory=dict)


def transitioned(case: Case, record: CaseEvent) -> Announcement:
    """``case_transitioned`` for a stored event (the case after it)."""
    return Announcement(
        "case_transitioned", record.seq, record.type, {"case": case, "event": record}
    )


class DeskCore:
    """What the desk's steps share; :class:`~zhenshen_core.desk.Desk` is the class to use."""

    def __init__(
        self,
        store: CaseStore,
        *,
        pack: ResolvedPack | None = None,
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
        self.settings = (settings or DeskSettings()).completed(self._pack_defaults(pack, settings))
        self._now = now or (lambda: datetime.now(SHANGHAI))
        self.pack = pack
        self.engine = _make_engine(pack, engine, self.host) if pack is not None else None
        self.failures: list[HookFailure] = []
        self.deliveries = Deliveries()
        """Notices this desk delivered from the outbox, and those that failed."""
        self.crosscase: CrossCaseMonitor | None = None
        if pack is not None and pack.crosscase:
            from zhenshen_core.desk.monitor import CrossCaseMonitor

            self.crosscase = CrossCaseMonitor(
                pack.crosscase, pack.severity_levels, dates=pack.date_facts
            )
            self.warm_up()

    def _pack_defaults(
        self, pack: ResolvedPack | None, settings: DeskSettings | None
    ) -> DeskDefaults | None:
        """What the plugin shipping ``pack`` declares for its desk (org, letter prefix), when
        the settings leave either open and this desk's host knows that plugin."""
        if pack is None or (settings is not None and settings.org and settings.letter_prefix):
            return None
        source = self.host.rule_packs().get(pack.id)
        return source.desk if source is not None else None

    def warm_up(self) -> int:
        """Rebuild the cross-case windows from recent cases in the store (after a restart)."""
        if self.crosscase is None:
            return 0
        since = self.now() - timedelta(days=self.crosscase.max_window_days)
        return self.crosscase.warm_up(self.store.query(CaseQuery(received_from=since)))

    def close(self) -> None:
        """Release the cross-case session and the store."""
        if self.crosscase is not None:
            self.crosscase.close()
        self.store.close()

    def now(self) -> datetime:
        """The desk's clock (``now=`` at construction): tests and simulations replay time."""
        return self._now()

    def get(self, case_id: str) -> Case:
        """The stored case (``CaseNotFoundError`` when there is none)."""
        return self.store.get(case_id)

    @property
    def clocks(self) -> DeskClocks:
        """The clock changes of steps, on this desk's calendar, lifecycle and settings."""
        return DeskClocks(self.calendar, self.lifecycle, self.settings)

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
            current, stops = self.clocks.effects(current, event, actor, at, before=True)
            current, record = self.lifecycle.fire(
                current,
                event,
                actor=actor,
                at=at,
                payload=payload,
                rule_ids=rule_ids if event == "decide" else (),
            )
            current, starts = self.clocks.effects(current, event, actor, at, before=False)
            events += [*stops, record, *starts]
        announce = [transitioned(current, r) for r in events if r.type != "clock_update"]
        self._save(current, events, expected_version=case.version, announce=announce, at=at)
        return current

    def _save(
        self,
        case: Case,
        events: Sequence[CaseEvent],
        *,
        expected_version: int,
        announce: Sequence[Announcement] = (),
        at: datetime | None = None,
    ) -> None:
        """Save the case, its events and the outbox notices of ``announce`` in one write;
        then tell the hooks and deliver the notices (:meth:`_tell`). ``at`` is when the
        notices are written and first delivered (the step's instant; default the desk's now)."""
        notices = self._notices(case.id, announce, at)
        if notices:
            self.store.save(case, events, expected_version=expected_version, outbox=notices)
        else:  # a store written before the outbox still serves a desk without notifiers
            self.store.save(case, events, expected_version=expected_version)
        self._tell(case, announce, notices, at)

    def _notices(
        self, case_id: str, announce: Sequence[Announcement], at: datetime | None = None
    ) -> list[OutboxNotice]:
        """One outbox notice per registered notifier for each announcement (none without
        notifiers: the outbox holds only what someone is to receive)."""
        targets = self.host.notifier_names() if announce else []
        if not targets:
            return []
        at = at or self.now()
        return [
            notice
            for a in announce
            for notice in notices_for(
                targets, case_id, a.seq, a.kind, a.event_type, dict(a.detail), at
            )
        ]

    def _tell(
        self,
        case: Case,
        announce: Sequence[Announcement],
        notices: Sequence[OutboxNotice],
        at: datetime | None = None,
    ) -> None:
        """After a write: the notification hooks (in-process, isolated), then a first delivery
        of the notices written with it (what fails stays pending in the outbox)."""
        for a in announce:
            self.failures.extend(self.host.notify_hooks(a.kind, **a.hook_kwargs))
        if notices:
            deliver(self, notices, at or self.now(), case=case)

    def _notify(self, kind: str, subject: Case, event_type: str | None, **kwargs: Any) -> None:
        """Hooks and notifiers at once, with no outbox: for what no case write carries (a
        generalisation proposal is a side record)."""
        detail = kwargs.pop("detail", {})
        self.failures.extend(
            self.host.notify(Notification(kind, subject, event_type, detail), **kwargs)
        )

    def _moved(self, case: Case, moved: Sequence[MovedClock], reason: str) -> list[Announcement]:
        """``deadline_changed`` for each running clock a change moved."""
        return [
            Announcement(
                "deadline_changed",
                m.event.seq,
                "clock_update",
                {
                    "case": case,
                    "event": m.event,
                    "clock": m.clock,
                    "previous_due": m.previous_due,
                    "reason": reason,
                },
                {
                    "clock": m.clock.name,
                    "previous_due": m.previous_due.isoformat(),
                    "due": m.clock.due_at.isoformat(),
                    "provisional": m.clock.provisional,
                    "reason": reason,
                },
            )
            for m in moved
            if m.clock.stopped_at is None
        ]

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


def _make_engine(pack: ResolvedPack, engine: str, host: PluginHost) -> Engine:
    from zhenshen_core.rules import make_engine

    return make_engine(engine, pack, host=host)
