"""Issue 13 item 2 at the desk: bulk intake decides before it stores, and stored cases can be
decided again (idempotently) after a pack change."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zhenshen_chengdu_gaoxin.corpus import generate_cases

from zhenshen_core.deadlines import CalendarPolicy, national_calendar
from zhenshen_core.desk import Desk, DeskSettings, same_outcome
from zhenshen_core.intake import ReceivedWindow, ingest_source
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.plugins import PluginConfig, PluginHost
from zhenshen_core.rules import ResolvedPack
from zhenshen_core.storage import MemoryStore, SQLiteStore
from zhenshen_core.storage.backend import received_case
from zhenshen_core.storage.protocol import finds_received


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def jsonl(path: Path, orders: list[dict[str, Any]]) -> str:
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in orders), "utf-8")
    return str(path)


def desk_on(store: Any, pack: ResolvedPack, **kw: Any) -> Desk:
    return Desk(store, pack=pack, host=PluginHost(PluginConfig(autoload=False)), **kw)


class RecordingStore(MemoryStore):
    """Remembers which events each new case arrived with in ``ingest_many``."""

    def __init__(self) -> None:
        super().__init__()
        self.first_write: dict[str, list[str]] = {}

    def ingest_many(self, items: Any) -> Any:
        for case, events in items:
            self.first_write.setdefault(case.id, [e.type for e in events])
        return super().ingest_many(items)


def test_bulk_intake_stores_decided_cases_in_one_write_each(
    tmp_path: Path, reference_pack: ResolvedPack
) -> None:
    orders = list(generate_cases(60, seed=3))
    store = RecordingStore()
    summary = desk_on(store, reference_pack).ingest("jsonl", jsonl(tmp_path / "o.jsonl", orders))
    assert summary.created == 60 and summary.ok
    for case in store.query():
        assert case.decision is not None and case.tier is not None, case.id
        first = store.first_write[case.id]
        assert first[:2] == ["receive", "decide"] and set(first[2:]) <= {"clock_update"}, first
        assert "clock_update" in first  # its clocks start in the same write


def test_bulk_intake_dead_letters_what_it_cannot_decide(
    tmp_path: Path, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    """A strict desk cannot decide the December case (its clock ends in 2027): that record is
    a dead letter with the reason, the March one is stored decided, nothing is half-stored."""
    december = dict(work_order, external_id="GX-DEC", received_at="2026-12-10T09:00:00+08:00")
    march = dict(work_order, external_id="GX-MAR", received_at="2026-03-02T09:00:00+08:00")
    store = SQLiteStore(str(tmp_path / "desk.db"))
    # The December case may lie ahead of the day the test runs: the window must not refuse it.
    wide = DeskSettings(received_window=ReceivedWindow.parse("2000-01-01..2030-12-31"))
    strict = desk_on(
        store, reference_pack, calendar=national_calendar(CalendarPolicy.STRICT), settings=wide
    )
    summary = strict.ingest("jsonl", jsonl(tmp_path / "o.jsonl", [december, march]))
    assert summary.created == 1 and [r.line for r in summary.rejected] == [1]
    assert "cannot decide" in summary.rejected[0].reason
    assert "2026-12-31" in summary.rejected[0].reason
    assert [c.external_id for c in store.query()] == ["GX-MAR"]
    letters = store.dead_letters()
    assert len(letters) == 1 and "GX-DEC" in letters[0].raw


def test_bulk_intake_decides_a_case_stored_undecided(
    tmp_path: Path, reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    source = jsonl(tmp_path / "o.jsonl", [work_order])
    store = MemoryStore()
    host = PluginHost(PluginConfig(autoload=False))
    ingest_source(source, channel="jsonl", store=store, host=host)  # no pack: undecided
    assert next(iter(store.query())).decision is None
    summary = desk_on(store, reference_pack).ingest("jsonl", source)
    assert summary.duplicates == 1 and summary.ok
    assert next(iter(store.query())).severity == "S3"


def test_redeciding_with_the_same_pack_records_nothing(
    reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    """A decision routes the case to departments; deciding again must not read those back as
    the work order's own (that made a case routed to 2 departments 'cross-department')."""
    store = MemoryStore()
    desk = desk_on(store, reference_pack, now=lambda: at("2021-01-04T10:00"))
    orders = list(generate_cases(80, seed=11))
    ids = [desk.receive(dict(o)).id for o in orders]
    before = {i: store.get(i).version for i in ids}
    outcomes = {desk.redecide(i).outcome for i in ids}
    assert outcomes == {"unchanged"}
    assert {i: store.get(i).version for i in ids} == before


def test_a_new_decision_re_periods_running_clocks(
    reference_pack: ResolvedPack, work_order: dict[str, Any]
) -> None:
    store = MemoryStore()
    desk = desk_on(store, reference_pack, now=lambda: at("2026-03-02T10:00"))
    case = desk.receive(dict(work_order, received_at="2026-03-02T09:00:00+08:00"))
    assert case.clocks["resolve"].period == "30 working days"
    lowered = dict(case.decision or {}, deadlines={"resolve": "20 working days"})
    desk._record_decision(store.get(case.id), lowered, "rules")
    resolve = store.get(case.id).clocks["resolve"]
    assert (
        resolve.period == "20 working days"
        and resolve.started_at == case.clocks["resolve"].started_at
    )
    assert resolve.due_at < case.clocks["resolve"].due_at
    assert store.get(case.id).clocks["contact"] == case.clocks["contact"]  # not named: kept


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    severity=st.sampled_from(["S1", "S2", "S3"]),
    tags=st.lists(st.sampled_from(["a", "b", "联合甄审"]), unique=True),
    fired=st.lists(st.text(min_size=1, max_size=5), max_size=3),
    version=st.text(min_size=1, max_size=5),
)
def test_same_outcome_ignores_provenance_only(
    severity: str, tags: list[str], fired: list[str], version: str
) -> None:
    old = {"severity": severity, "tags": tags, "pack": {"version": "1"}, "fired": []}
    new = dict(old, pack={"version": version}, fired=[{"rule": r} for r in fired])
    assert same_outcome(old, new)
    assert not same_outcome(old, dict(new, severity=severity + "x"))
    assert not same_outcome(old, dict(new, tags=[*tags, "new-tag"]))


def test_receive_shows_a_repeat_delivery_to_on_stored_before_touching_it(
    reference_pack: ResolvedPack,
) -> None:
    """``on_stored`` sees the stored case of a repeat delivery (never a new one) and may refuse
    it: the caller's own look-up (the HTTP service's desk check) without a second read."""
    store = MemoryStore()
    desk = desk_on(store, reference_pack)
    order = {"external_id": "R-1", "channel": "hotline_12345", "content": "无法经营",
             "received_at": "2026-03-02T09:00:00+08:00", "domain": "market_entry_operation"}
    seen: list[str] = []
    first = desk.receive(order, on_stored=lambda case: seen.append(case.id))
    assert seen == []
    again = desk.receive(order, on_stored=lambda case: seen.append(case.id))
    assert seen == [first.id] and again.id == first.id

    class Refused(Exception):
        pass

    def refuse(case: Any) -> None:
        raise Refused(case.id)

    version = store.get(first.id).version
    try:
        desk.receive(order, on_stored=refuse)
    except Refused:
        pass
    else:
        raise AssertionError("on_stored could not refuse")
    assert store.get(first.id).version == version  # nothing written


class LookUpCountingStore(MemoryStore):
    """Counts the reads a receive makes besides its write."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def find_external(self, channel: str, external_id: str) -> Any:
        self.reads += 1
        return super().find_external(channel, external_id)

    def get(self, case_id: str) -> Any:
        self.reads += 1
        return super().get(case_id)


ORDER = {"external_id": "R-2", "channel": "hotline_12345", "content": "无法经营",
         "received_at": "2026-03-02T09:00:00+08:00", "domain": "market_entry_operation"}


def test_a_new_case_is_written_without_a_look_up_and_a_repeat_writes_nothing(
    reference_pack: ResolvedPack,
) -> None:
    """The write finds a repeat: a new case costs no read before it (a round trip to a
    database server), a repeat one read of the case the store answered, and no write."""
    store = LookUpCountingStore()
    desk = desk_on(store, reference_pack)
    first = desk.receive(ORDER)
    assert store.reads == 0 and first.decision is not None
    history = store.events(first.id)
    again = desk.receive(ORDER)
    assert again == store.get(first.id) and store.events(first.id) == history
    assert store.reads == 2  # the repeat's read, and this test's


def test_a_desk_with_an_enricher_finds_a_repeat_before_asking_it(
    reference_pack: ResolvedPack,
) -> None:
    from zhenshen_core.plugins import hookimpl

    asked: list[str] = []

    class Crm:
        @hookimpl
        def zhenshen_enrich_case(self, case: Any) -> dict[str, Any]:
            asked.append(case.id)
            return {"crm_contacts": 1}

    desk = desk_on(MemoryStore(), reference_pack)
    desk.host.register(Crm(), name="crm")
    first = desk.receive(ORDER)
    again = desk.receive(ORDER)
    assert asked == [first.id] and again.id == first.id and again.facts["crm_contacts"] == 1


def test_a_repeat_whose_deciding_fails_now_is_still_the_stored_case(
    reference_pack: ResolvedPack, monkeypatch: Any
) -> None:
    """Deciding in memory first must not turn a repeat, which stores nothing, into an error
    (a strict calendar that no longer reaches a deadline): it is looked up then; a new work
    order still fails and stores nothing."""
    store = MemoryStore()
    desk = desk_on(store, reference_pack)
    first = desk.receive(ORDER)

    def fails(case: Any) -> Any:
        raise RuntimeError("cannot decide now")

    assert desk.engine is not None
    monkeypatch.setattr(desk.engine, "evaluate", fails)
    assert desk.receive(ORDER) == store.get(first.id)
    try:
        desk.receive({**ORDER, "external_id": "R-3"})
    except RuntimeError:
        pass
    else:
        raise AssertionError("a new work order that cannot be decided was stored")
    assert store.count() == 1


class OneStatementLookUp(MemoryStore):
    """A store that :class:`FindsReceived`: the desk must ask it, not the protocol's calls."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[list[tuple[str, str]], str]] = []
        self.answering = False

    def find_received(self, refs: Any, case_id: str) -> Any:
        self.asked.append((list(refs), case_id))
        self.answering = True
        try:
            return received_case(self, refs, case_id)
        finally:
            self.answering = False

    def find_external(self, channel: str, external_id: str) -> Any:
        if not self.answering:
            raise AssertionError("asked ref by ref although the store finds a work order at once")
        return super().find_external(channel, external_id)


class Forwarding:
    """A store wrapped as the HTTP service wraps its own: every method through
    ``__getattr__`` (which ``isinstance`` with a runtime protocol misses from Python 3.12)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.mark.parametrize("wrapped", [False, True], ids=["store", "wrapped store"])
def test_a_store_that_finds_a_work_order_at_once_is_asked_once(
    reference_pack: ResolvedPack, wrapped: bool
) -> None:
    """Where the desk looks up first (here: a desk with an enricher), a store offering
    ``find_received`` answers in one call, with every ref and the id."""
    from zhenshen_core.plugins import hookimpl

    class Crm:
        @hookimpl
        def zhenshen_enrich_case(self, case: Any) -> dict[str, Any]:
            return {"crm_contacts": 1}

    store = OneStatementLookUp()
    assert finds_received(store) and not finds_received(MemoryStore())
    assert finds_received(Forwarding(store)) and not finds_received(Forwarding(MemoryStore()))
    desk = desk_on(Forwarding(store) if wrapped else store, reference_pack)
    desk.host.register(Crm(), name="crm")
    first = desk.receive(ORDER)
    again = desk.receive(ORDER)
    assert again.id == first.id and store.count() == 1
    assert store.asked == [([("hotline_12345", "R-2")], first.id)] * 2
