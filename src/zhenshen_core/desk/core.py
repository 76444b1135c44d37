"""The desk's state and plumbing: what every step of the article shares.

A desk owns its store, plugin host, calendar, lifecycle table, settings, rules engine and
cross-case monitor (no global state: two desks with different packs live in one process). A
step fires its events on a copy of the case, clocks included (:meth:`DeskCore._commit`),
saves them in one optimistic write, and then notifies plugins; a failing notifier or rule
action is reported in ``failures`` and never rolls the case back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from zhenshen_core.deadlines import Calendar, CalendarPolicy, national_calendar
from zhenshen_core.desk.clocks import DeskClocks, MovedClock
from zhenshen_core.desk.settings import DeskSettings
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.model.lifecycle import Lifecycle
from zhenshen_core.plugins.host import HookFailure, PluginConfig, PluginHost
from zhenshen_core.plugins.records import DeskDefaults, Notification
from zhenshen_core.storage.protocol import CaseQuery, CaseStore

if TYPE_CHECKING:
    from zhenshen_core.desk.monitor import CrossCaseMonitor
    from zhenshen_core.rules import Engine, ResolvedPack


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

    def _notify_moved(self, case: Case, moved: Sequence[MovedClock], reason: str) -> None:
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


def _make_engine(pack: ResolvedPack, engine: str, host: PluginHost) -> Engine:
    from zhenshen_core.rules import make_engine

    return make_engine(engine, pack, host=host)
