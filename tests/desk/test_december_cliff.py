"""Issue 13 item 1: receiving a case is one write, and the year's end does not stop the desk.

A case received on 2026-11-23 has a 30-working-day ``resolve`` clock ending in January 2027,
past the last published notice (2026-12-31).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from zhenshen_core.deadlines import (
    CalendarPolicy,
    CalendarRangeError,
    layer,
    load_calendar_file,
    national_calendar,
)
from zhenshen_core.desk import Desk
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.clock import Clock
from zhenshen_core.model.lifecycle import Lifecycle, load_case
from zhenshen_core.plugins import PluginConfig, PluginHost, hookimpl
from zhenshen_core.rules import ResolvedPack
from zhenshen_core.storage import SQLiteStore
from zhenshen_core.storage.protocol import CaseStore

NOTICE_2027 = Path(__file__).parent / "data" / "cn-2027-fixture.yaml"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def last_day(clock: Clock) -> date:
    """The period's last day (``due_at`` is 24:00 of it, i.e. the next day's 00:00)."""
    return (clock.due_at - timedelta(seconds=1)).date()


def order(work_order: dict[str, Any], received: str, external_id: str) -> dict[str, Any]:
    return dict(work_order, received_at=f"{received}T09:30:00+08:00", external_id=external_id)


class Deadlines:
    """Records every ``deadline_changed`` notification, as an SMS plugin would send them."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, datetime, datetime, str]] = []

    @hookimpl
    def zhenshen_deadline_changed(
        self, case: Any, event: Any, clock: Clock, previous_due: datetime, reason: str
    ) -> None:
        self.seen.append((case.id, clock.name, previous_due, clock.due_at, reason))


def make_desk(
    store: CaseStore, pack: ResolvedPack, now: str, calendar: Any = None, recorder: Any = None
) -> Desk:
    host = PluginHost(PluginConfig(autoload=False))
    if recorder is not None:
        host.register(recorder, name="deadlines")
    return Desk(store, pack=pack, host=host, calendar=calendar, now=lambda: at(now))


@pytest.fixture
def store(tmp_path: Path) -> CaseStore:
    return SQLiteStore(str(tmp_path / "desk.db"))


def test_a_strict_desk_refuses_and_stores_nothing(
    store: CaseStore, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    strict = national_calendar(CalendarPolicy.STRICT)
    desk = make_desk(store, reference_pack, "2026-11-23T10:00", calendar=strict)
    wo = order(work_order, "2026-11-23", "GX-CLIFF-1")
    for _ in range(2):  # a retry fails the same way; neither leaves anything behind
        with pytest.raises(CalendarRangeError, match="2026-12-31"):
            desk.receive(wo)
        assert store.count() == 0


def test_the_default_desk_decides_past_the_notices_on_the_provisional_calendar(
    store: CaseStore, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    desk = make_desk(store, reference_pack, "2026-11-23T10:00")
    assert desk.calendar.policy is CalendarPolicy.PROVISIONAL
    case = desk.receive(order(work_order, "2026-11-23", "GX-CLIFF-2"))
    assert case.severity == "S3" and desk.needs_joint_review(case)
    resolve = case.clocks["resolve"]
    assert last_day(resolve) == date(2027, 1, 5) and resolve.provisional
    assert resolve.calendar_version == desk.calendar.version
    assert not case.clocks["contact"].provisional  # due in November: published data
    history = [e.type for e in store.events(case.id)]
    assert history[:2] == ["receive", "decide"] and set(history[2:]) == {"clock_update"}
    assert store.get(case.id).version == len(history)  # one write: the whole history


def test_a_case_stored_undecided_is_decided_when_delivered_again(
    store: CaseStore, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    """What the old desk left behind: the receive event stored, the decision lost."""
    wo = order(work_order, "2026-11-23", "GX-CLIFF-3")
    half, event = Lifecycle().receive(load_case(wo), actor="intake")
    store.ingest(half, [event])
    desk = make_desk(store, reference_pack, "2026-12-05T10:00")
    case = desk.receive(wo)
    assert case.decision is not None and case.severity == "S3" and case.clocks
    assert desk.needs_joint_review(case)
    again = desk.receive(wo)  # decided now: a further delivery changes nothing
    assert again.version == case.version


def test_a_failing_enricher_stores_nothing(
    store: CaseStore, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    class BrokenCrm:
        @hookimpl
        def zhenshen_enrich_case(self, case: Any) -> dict[str, Any]:
            raise ConnectionError("CRM unreachable")

    desk = make_desk(store, reference_pack, "2026-03-02T10:00")
    desk.host.register(BrokenCrm(), name="crm")
    with pytest.raises(ConnectionError):
        desk.receive(order(work_order, "2026-03-02", "GX-CLIFF-4"))
    assert store.count() == 0


def test_newer_notice_data_recomputes_provisional_clocks(
    store: CaseStore, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    old = make_desk(store, reference_pack, "2027-01-15T10:00")
    november = old.receive(order(work_order, "2026-11-23", "GX-CLIFF-5"))
    january = old.receive(order(work_order, "2027-01-15", "GX-CLIFF-6"))
    estimate = january.clocks["resolve"]
    assert estimate.provisional and last_day(estimate) == date(2027, 3, 2)

    recorder = Deadlines()
    notice = layer(national_calendar(CalendarPolicy.PROVISIONAL), load_calendar_file(NOTICE_2027))
    new = make_desk(store, reference_pack, "2027-01-20T10:00", notice, recorder)
    result = new.recompute_provisional_clocks()

    # Spring Festival 2027 in the notice rests 02-05..02-13 (the 4 statutory days, 补假 and
    # bridging: 5 more weekdays) and makes Sunday 01-31 and Saturday 02-20 working days: 30
    # working days from 01-15 end on 03-04, not on the estimate's 03-02.
    moved = new.get(january.id).clocks["resolve"]
    assert last_day(moved) == date(2027, 3, 4)
    assert not moved.provisional and moved.calendar_version == notice.version
    assert [(c.case_id, c.clock, c.due) for c in result.changed] == [
        (january.id, "resolve", moved.due_at)
    ]
    last = new.history(january.id)[-1]
    assert last.type == "clock_update" and last.payload["clock"]["due_at"].startswith("2027-03-05")
    assert (january.id, "resolve", estimate.due_at, moved.due_at, "calendar") in recorder.seen

    # The November case's estimate was right (元旦 is 01-01..01-03 either way): it loses the
    # flag, with an event but without telling anyone a date that did not move.
    settled = new.get(november.id).clocks["resolve"]
    assert settled.due_at == november.clocks["resolve"].due_at and not settled.provisional
    assert all(seen[0] != november.id for seen in recorder.seen)

    def dues() -> dict[str, Any]:
        return {
            (c, n): (k.due_at, k.provisional, k.calendar_version)
            for c in (november.id, january.id)
            for n, k in new.get(c).clocks.items()
        }

    before = dues()
    versions = {c: new.get(c).version for c in (november.id, january.id)}
    assert new.recompute_provisional_clocks().changed == []  # a second run changes nothing
    assert {c: new.get(c).version for c in versions} == versions
    assert new.sweep(at("2027-01-20T10:00")).recomputed is None  # nor does the sweep
    # a node still on the old data does not undo the recomputation
    assert old.sweep(at("2027-01-20T10:00")).recomputed is None
    assert dues() == before and len(recorder.seen) == 1


def test_the_sweep_recomputes_when_the_calendar_changed(
    store: CaseStore, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    old = make_desk(store, reference_pack, "2027-01-15T10:00")
    january = old.receive(order(work_order, "2027-01-15", "GX-CLIFF-7"))
    assert old.sweep(at("2027-01-15T10:00")).recomputed is not None  # first sweep: one check
    assert old.sweep(at("2027-01-15T11:00")).recomputed is None  # then only a record read
    notice = layer(national_calendar(CalendarPolicy.PROVISIONAL), load_calendar_file(NOTICE_2027))
    new = make_desk(store, reference_pack, "2027-01-20T10:00", notice)
    swept = new.sweep(at("2027-01-20T10:00"))
    assert swept.recomputed is not None
    assert [(c.case_id, c.clock) for c in swept.recomputed.changed] == [(january.id, "resolve")]
    assert not new.get(january.id).clocks["resolve"].provisional


def test_an_extension_notifies_like_a_recomputation(
    store: CaseStore, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    recorder = Deadlines()
    desk = make_desk(store, reference_pack, "2026-03-02T10:00", recorder=recorder)
    case = desk.receive(order(work_order, "2026-03-02", "GX-CLIFF-8"))
    before = case.clocks["resolve"].due_at
    desk.extend_clock(case.id, "resolve", "10 working days", approver="王主任", reason="需补充鉴定")
    assert [(s[1], s[2], s[4]) for s in recorder.seen] == [("resolve", before, "extension")]
