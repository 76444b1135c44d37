"""The storage contract: what every :class:`~zhenshen_core.storage.CaseStore` must do.

A backend proves itself by subclassing two classes in its own test suite::

    from zhenshen_core.testing.storage_contract import StoreContract, StoreStateMachine

    class TestMyStore(StoreContract):
        def make_store(self, tmp_path):          # a fresh, empty store per test
            return MyStore(...)

    class MyStoreMachine(StoreStateMachine):
        def make_store(self):                    # a fresh, empty store per example
            return MyStore(...)

    TestMyStoreMachine = MyStoreMachine.test_case()

The example tests pin the rules one by one (idempotent intake, optimistic concurrency, append-only
history, every query filter, the due-clock sweep, all-or-nothing batches); the state machine
drives the store and a plain dict model through random sequences of intake, lifecycle events,
stale saves and queries and checks they never disagree.

Ordering rules the tests rely on: ``query`` orders by (received_at, id); ``due_clocks`` by
(next_alert_at, case id, clock name); ``records`` by id; ``dead_letters`` in insertion order.

Why one module of this size: a backend author imports one thing and reads one file to see
every rule their store is held to, the example tests beside the state machine that checks the
same rules at random.
"""

from __future__ import annotations

import unittest
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from stdnum.cn import uscc as stdnum_uscc

from zhenshen_core.errors import CaseNotFoundError, ConcurrencyError, StorageError
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.model.clock import Clock
from zhenshen_core.model.enums import CaseStatus, Channel
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.model.lifecycle import ACTIVE, Lifecycle
from zhenshen_core.storage.protocol import CaseQuery, CaseStore, DeadLetter, Record
from zhenshen_core.testing._contract_base import ContractBase

__all__ = [
    "BASE_TIME",
    "StoreContract",
    "StoreStateMachine",
    "fire",
    "make_case",
    "make_clock",
    "make_uscc",
    "received",
]

BASE_TIME = datetime(2024, 3, 1, 9, 0, tzinfo=SHANGHAI)
DOMAINS = ("construction_permit", "tax", "market_access")
ACTOR = "contract-test"


# --- helpers that build valid data --------------------------------------------------------------


def make_uscc(n: int) -> str:
    """A valid 统一社会信用代码 for each ``n`` (check character computed by python-stdnum)."""
    body = f"91510100{n % 10**9:09d}"
    return body + str(stdnum_uscc.calc_check_digit(body))


def make_case(n: int = 0, **overrides: Any) -> Case:
    """A valid draft case (version 0), distinct for each ``n``; ``overrides`` replace fields.

    Defaults: a 12345 work order ``GD-2024-<n>``, received ``n`` hours after ``BASE_TIME``, a
    domain and a lead department that cycle with ``n``, an enterprise with a valid USCC and a
    requester whose phone must survive storage unmasked.
    """
    data: dict[str, Any] = {
        "external_id": f"GD-2024-{n:04d}",
        "channel": Channel.HOTLINE_12345.value,
        "received_at": (BASE_TIME + timedelta(hours=n)).isoformat(),
        "appeal_type": "complaint",
        "title": f"施工许可办理缓慢 #{n}",
        "content": "企业反映审批材料多次被退回，请求协调。",
        "domain": DOMAINS[n % len(DOMAINS)],
        "enterprise": {
            "name": f"成都某科技有限公司{n}",
            "uscc": make_uscc(n),
            "size": "small",
            "tags": ["高新技术企业"],
        },
        "requester": {"name": "张先生", "phone": f"138{n % 10**8:08d}"},
        "departments": [
            {"id": f"gxq.dept{n % 3}", "role": "lead"},
            {"id": "gxq.co", "role": "co"},
        ],
        "tags": ["contract"],
        "facts": {"amount_wan": 100 * n, "prior_contacts": n % 4},
    }
    data.update(overrides)
    return Case.model_validate(data)


def received(draft: Case, lifecycle: Lifecycle | None = None) -> tuple[Case, list[CaseEvent]]:
    """The (case, events) pair ``ingest`` takes for a draft: the case after ``receive``."""
    case, event = (lifecycle or Lifecycle()).receive(draft, actor=ACTOR)
    return case, [event]


def fire(
    case: Case,
    event: str,
    payload: Mapping[str, Any] | None = None,
    *,
    at: datetime | None = None,
    lifecycle: Lifecycle | None = None,
) -> tuple[Case, CaseEvent]:
    """Fire one lifecycle event on ``case`` (at ``BASE_TIME + version`` minutes by default)."""
    when = at or BASE_TIME + timedelta(minutes=case.version)
    return (lifecycle or Lifecycle()).fire(case, event, actor=ACTOR, at=when, payload=payload)


def make_clock(
    name: str,
    *,
    due_at: datetime,
    next_alert_at: datetime | None,
    stopped_at: datetime | None = None,
) -> Clock:
    return Clock(
        name=name,
        period="15wd",
        started_at=BASE_TIME,
        due_at=due_at,
        next_alert_at=next_alert_at,
        stopped_at=stopped_at,
    )


def _clock_payload(clock: Clock) -> dict[str, Any]:
    return {"clock": clock.model_dump(mode="json")}


def _ingest(store: CaseStore, n: int = 0, **overrides: Any) -> Case:
    case, events = received(make_case(n, **overrides))
    result = store.ingest(case, events)
    assert result.created, f"case {n} should be new"
    return case


def _advance(store: CaseStore, case: Case, event: str, payload: Any = None) -> Case:
    new, ev = fire(case, event, payload)
    store.save(new, [ev], expected_version=case.version)
    return new


def _ids(cases: Iterator[Case] | Sequence[Case]) -> list[str]:
    return [c.id for c in cases]


# --- example tests ------------------------------------------------------------------------------


class StoreContract(ContractBase):
    """Example tests every backend must pass. Subclass and implement :meth:`make_store`."""

    # intake ---------------------------------------------------------------------------------

    def test_implements_protocol(self, store: CaseStore) -> None:
        assert isinstance(store, CaseStore)
        assert isinstance(store.url, str) and store.url

    def test_round_trip_keeps_every_field_and_the_unmasked_phone(self, store: CaseStore) -> None:
        case = _ingest(store, 7)
        stored = store.get(case.id)
        assert stored == case
        assert stored.requester is not None and stored.requester.phone == "13800000007"
        assert stored.version == 1 and stored.status is CaseStatus.RECEIVED

    def test_ingest_same_work_order_twice_is_one_case(self, store: CaseStore) -> None:
        case = _ingest(store, 1)
        again, events = received(make_case(1, title="第二次推送"))
        result = store.ingest(again, events)
        assert result.case_id == case.id and result.created is False
        assert store.count() == 1
        assert store.get(case.id).title == case.title, "a duplicate must not overwrite"
        assert len(store.events(case.id)) == 1

    def test_same_external_id_on_another_channel_is_another_case(self, store: CaseStore) -> None:
        first = _ingest(store, 1)
        second = _ingest(store, 1, channel="web")
        assert first.id != second.id
        assert store.count() == 2

    def test_find_external(self, store: CaseStore) -> None:
        case = _ingest(store, 3)
        found = store.find_external("hotline_12345", "GD-2024-0003")
        assert found == case
        assert store.find_external("hotline_12345", "GD-2024-9999") is None
        assert store.find_external("web", "GD-2024-0003") is None

    def test_ingest_requires_a_consistent_history(self, store: CaseStore) -> None:
        case, events = received(make_case(1))
        with pytest.raises(StorageError):
            store.ingest(case, [])
        with pytest.raises(StorageError):
            store.ingest(case.model_copy(update={"version": 2}), events)
        assert store.count() == 0

    def test_get_and_events_of_unknown_case_raise(self, store: CaseStore) -> None:
        with pytest.raises(CaseNotFoundError):
            store.get("ZS-NOPE")
        with pytest.raises(CaseNotFoundError):
            store.events("ZS-NOPE")

    # batches ------------------------------------------------------------------------------

    def test_ingest_many_stores_a_batch(self, store: CaseStore) -> None:
        items = [received(make_case(n)) for n in range(5)]
        results = store.ingest_many(items)
        assert [r.created for r in results] == [True] * 5
        assert store.count() == 5
        assert [r.case_id for r in results] == [c.id for c, _ in items]

    def test_ingest_many_is_all_or_nothing(self, store: CaseStore) -> None:
        _ingest(store, 0)
        good = [received(make_case(n)) for n in range(1, 4)]
        bad_case, bad_events = received(make_case(9))
        broken = bad_events[0].model_copy(update={"seq": 2})
        with pytest.raises(StorageError):
            store.ingest_many([*good, (bad_case, [broken])])
        assert store.count() == 1, "a failed batch must leave nothing behind"
        for case, _ in good:
            with pytest.raises(CaseNotFoundError):
                store.get(case.id)
            assert store.find_external("hotline_12345", case.external_id or "") is None

    def test_ingest_many_dedupes_within_and_across_batches(self, store: CaseStore) -> None:
        first = _ingest(store, 0)
        batch = [received(make_case(n)) for n in (0, 1, 1, 2)]
        results = store.ingest_many(batch)
        assert [(r.case_id, r.created) for r in results] == [
            (first.id, False),
            (batch[1][0].id, True),
            (batch[1][0].id, False),
            (batch[3][0].id, True),
        ]
        assert store.count() == 3

    # saves and history ----------------------------------------------------------------------

    def test_save_appends_events_in_order(self, store: CaseStore) -> None:
        case = _ingest(store, 2)
        case = _advance(store, case, "accept")
        case = _advance(store, case, "note", {"text": "已电话联系企业"})
        case = _advance(store, case, "start_screening")
        events = store.events(case.id)
        assert [e.seq for e in events] == [1, 2, 3, 4]
        assert [e.type for e in events] == ["receive", "accept", "note", "start_screening"]
        stored = store.get(case.id)
        assert stored == case
        assert stored.version == len(events) == 4

    def test_save_several_events_at_once(self, store: CaseStore) -> None:
        case = _ingest(store, 2)
        mid, e1 = fire(case, "accept")
        new, e2 = fire(mid, "note", {"text": "两步一起保存"})
        store.save(new, [e1, e2], expected_version=case.version)
        assert store.get(case.id) == new
        assert [e.seq for e in store.events(case.id)] == [1, 2, 3]

    def test_stale_save_raises_and_writes_nothing(self, store: CaseStore) -> None:
        base = _ingest(store, 4)
        winner = _advance(store, base, "accept")
        loser, event = fire(base, "note", {"text": "我基于旧版本修改"})
        with pytest.raises(ConcurrencyError) as info:
            store.save(loser, [event], expected_version=base.version)
        assert info.value.expected == 1 and info.value.actual == 2
        assert store.get(base.id) == winner
        assert [e.type for e in store.events(base.id)] == ["receive", "accept"]

    def test_save_unknown_case_raises(self, store: CaseStore) -> None:
        case, _ = received(make_case(5))
        new, event = fire(case, "accept")
        with pytest.raises(CaseNotFoundError):
            store.save(new, [event], expected_version=1)

    def test_save_with_inconsistent_events_writes_nothing(self, store: CaseStore) -> None:
        case = _ingest(store, 5)
        new, event = fire(case, "accept")
        with pytest.raises(StorageError):
            store.save(new, [event.model_copy(update={"seq": 3})], expected_version=1)
        with pytest.raises(StorageError):
            store.save(new.model_copy(update={"version": 5}), [event], expected_version=1)
        assert store.get(case.id) == case
        assert len(store.events(case.id)) == 1

    def test_replaying_stored_events_gives_the_stored_case(self, store: CaseStore) -> None:
        case = _ingest(store, 6)
        case = _advance(store, case, "accept")
        case = _advance(store, case, "update_facts", {"facts": {"amount_wan": 5000}})
        clock = make_clock(
            "opinion",
            due_at=BASE_TIME + timedelta(days=20),
            next_alert_at=BASE_TIME + timedelta(days=10),
        )
        case = _advance(store, case, "clock_update", _clock_payload(clock))
        case = _advance(store, case, "reject", {"reason": "属于诉讼范围"})
        assert Lifecycle().replay(store.events(case.id)) == store.get(case.id) == case

    # queries --------------------------------------------------------------------------------

    def _corpus(self, store: CaseStore) -> list[Case]:
        cases = [_ingest(store, n) for n in range(6)]
        cases[1] = _advance(store, cases[1], "accept")
        cases[2] = _advance(store, cases[2], "reject", {"reason": "不属于受理范围"})
        cases[3] = _advance(store, cases[3], "accept")
        return cases

    def test_query_without_filter_orders_by_received_at_then_id(self, store: CaseStore) -> None:
        cases = self._corpus(store)
        late = _ingest(store, 10, received_at=(BASE_TIME - timedelta(days=1)).isoformat())
        assert _ids(store.query()) == [late.id, *_ids(cases)]
        assert store.count() == 7

    def test_query_by_status(self, store: CaseStore) -> None:
        cases = self._corpus(store)
        accepted = CaseQuery(status=[CaseStatus.ACCEPTED])
        assert _ids(store.query(accepted)) == [cases[1].id, cases[3].id]
        either = CaseQuery(status=[CaseStatus.ACCEPTED, CaseStatus.NOT_ACCEPTED])
        assert _ids(store.query(either)) == [cases[1].id, cases[2].id, cases[3].id]
        assert store.count(CaseQuery(status=[CaseStatus.CLOSED])) == 0

    def test_query_by_domain(self, store: CaseStore) -> None:
        cases = self._corpus(store)
        assert _ids(store.query(CaseQuery(domain="tax"))) == [cases[1].id, cases[4].id]

    def test_query_by_department_lead_or_co(self, store: CaseStore) -> None:
        cases = self._corpus(store)
        assert _ids(store.query(CaseQuery(department="gxq.dept2"))) == [cases[2].id, cases[5].id]
        assert store.count(CaseQuery(department="gxq.co")) == 6
        assert store.count(CaseQuery(department="gxq.none")) == 0
        moved = _advance(
            store,
            cases[0],
            "assign_departments",
            {"departments": [{"id": "gxq.new", "role": "lead"}]},
        )
        assert _ids(store.query(CaseQuery(department="gxq.new"))) == [moved.id]
        assert store.count(CaseQuery(department="gxq.co")) == 5

    def test_query_by_enterprise_normalises_the_code(self, store: CaseStore) -> None:
        cases = self._corpus(store)
        code = make_uscc(3)
        assert _ids(store.query(CaseQuery(enterprise=code))) == [cases[3].id]
        assert _ids(store.query(CaseQuery(enterprise=code.lower()))) == [cases[3].id]

    def test_query_by_channel(self, store: CaseStore) -> None:
        self._corpus(store)
        web = _ingest(store, 1, channel="web")
        assert _ids(store.query(CaseQuery(channel="web"))) == [web.id]
        assert store.count(CaseQuery(channel="hotline_12345")) == 6

    def test_query_by_received_range(self, store: CaseStore) -> None:
        cases = self._corpus(store)
        window = CaseQuery(
            received_from=BASE_TIME + timedelta(hours=1),
            received_before=BASE_TIME + timedelta(hours=3),
        )
        assert _ids(store.query(window)) == [cases[1].id, cases[2].id], "from ≤ t < before"
        # the same instant written in UTC selects the same cases
        utc = CaseQuery(received_from=(BASE_TIME + timedelta(hours=1)).astimezone(UTC))
        assert store.count(utc) == 5

    def test_query_by_due_before_looks_at_running_clocks(self, store: CaseStore) -> None:
        cases = self._corpus(store)
        soon = make_clock("opinion", due_at=BASE_TIME + timedelta(days=2), next_alert_at=None)
        later = make_clock("resolve", due_at=BASE_TIME + timedelta(days=30), next_alert_at=None)
        stopped = make_clock(
            "opinion",
            due_at=BASE_TIME + timedelta(days=1),
            next_alert_at=None,
            stopped_at=BASE_TIME,
        )
        _advance(store, cases[0], "clock_update", _clock_payload(soon))
        _advance(store, cases[1], "clock_update", _clock_payload(later))
        _advance(store, cases[3], "clock_update", _clock_payload(stopped))
        q = CaseQuery(due_before=BASE_TIME + timedelta(days=3))
        assert _ids(store.query(q)) == [cases[0].id]
        q = CaseQuery(due_before=BASE_TIME + timedelta(days=31))
        assert _ids(store.query(q)) == [cases[0].id, cases[1].id]

    def test_query_filters_combine_and_page(self, store: CaseStore) -> None:
        cases = self._corpus(store)
        q = CaseQuery(status=[CaseStatus.RECEIVED], department="gxq.co")
        expected = [cases[0].id, cases[4].id, cases[5].id]
        assert _ids(store.query(q)) == expected
        assert store.count(q) == 3
        page = q.model_copy(update={"limit": 2, "offset": 1})
        assert _ids(store.query(page)) == expected[1:3]
        assert store.count(page) == 3, "count ignores paging"
        assert _ids(store.query(q.model_copy(update={"offset": 5}))) == []
        both = CaseQuery(domain="construction_permit", department="gxq.dept0")
        assert _ids(store.query(both)) == [cases[0].id, cases[3].id]

    # due clocks -----------------------------------------------------------------------------

    def test_due_clocks_orders_filters_and_limits(self, store: CaseStore) -> None:
        cases = self._corpus(store)
        t = BASE_TIME

        def clock(name: str, alert_days: float | None, stopped: bool = False) -> dict[str, Any]:
            return _clock_payload(
                make_clock(
                    name,
                    due_at=t + timedelta(days=40),
                    next_alert_at=None if alert_days is None else t + timedelta(days=alert_days),
                    stopped_at=t if stopped else None,
                )
            )

        c0 = _advance(store, cases[0], "clock_update", clock("opinion", 5))
        c0 = _advance(store, c0, "clock_update", clock("resolve", 2))
        c1 = _advance(store, cases[1], "clock_update", clock("opinion", 2))
        _advance(store, cases[3], "clock_update", clock("opinion", 1, stopped=True))
        _advance(store, cases[4], "clock_update", clock("opinion", None))
        _advance(store, cases[5], "clock_update", clock("opinion", 9))

        due = store.due_clocks(t + timedelta(days=5))
        got = [(d.case_id, d.clock) for d in due]
        expected = sorted(
            [(c0.id, "resolve"), (c1.id, "opinion"), (c0.id, "opinion")],
            key=lambda k: ({"resolve": 2, "opinion": 2 if k[0] == c1.id else 5}[k[1]], k),
        )
        assert got == expected
        assert due[-1].next_alert_at == t + timedelta(days=5), "the boundary is inclusive"
        assert {d.case_version for d in due if d.case_id == c0.id} == {c0.version}
        assert all(d.due_at == t + timedelta(days=40) for d in due)
        assert store.due_clocks(t + timedelta(days=5), limit=1) == due[:1]
        assert store.due_clocks(t) == []

    def test_due_clocks_follow_saves(self, store: CaseStore) -> None:
        case = _ingest(store, 0)
        alert = BASE_TIME + timedelta(days=1)
        running = make_clock("opinion", due_at=BASE_TIME + timedelta(days=3), next_alert_at=alert)
        case = _advance(store, case, "clock_update", _clock_payload(running))
        assert [d.clock for d in store.due_clocks(alert)] == ["opinion"]
        stopped = running.model_copy(update={"stopped_at": alert})
        _advance(store, case, "clock_update", _clock_payload(stopped))
        assert store.due_clocks(alert + timedelta(days=10)) == []

    # side stores ----------------------------------------------------------------------------

    def test_dead_letters_keep_raw_payload_and_order(self, store: CaseStore) -> None:
        letters = [
            DeadLetter(
                channel="jsonl",
                source="orders.jsonl",
                line=n,
                raw='{"title": "坏记录"' + "}" * (n % 2),
                reason=f"line {n}: invalid USCC",
                at=BASE_TIME + timedelta(seconds=n),
            )
            for n in (3, 1, 2)
        ]
        for letter in letters:
            store.add_dead_letter(letter)
        assert store.dead_letters() == letters
        assert store.count() == 0

    # dead-letter identity (issue 15): one record at one place, counted, never kept twice ---

    def test_a_dead_letter_met_again_is_counted_not_added(self, store: CaseStore) -> None:
        first = DeadLetter(
            channel="jsonl", source="in.jsonl", line=2, raw="{bad", reason="old", at=BASE_TIME
        )
        other = first.model_copy(update={"line": 3})
        store.add_dead_letter(first)
        store.add_dead_letter(other)
        later = BASE_TIME + timedelta(hours=1)
        for n in range(2):
            again = first.model_copy(update={"reason": f"new {n}", "at": later + timedelta(n)})
            store.add_dead_letter(again)
        kept = first.model_copy(
            update={"seen": 3, "last_seen": later + timedelta(1), "reason": "new 1"}
        )
        assert store.dead_letters() == [kept, other]
        assert store.dead_letter(first.key) == kept
        assert store.dead_letter(other.key) == other
        assert store.dead_letter("DL0000000000000000") is None

    def test_a_dead_letters_identity_is_channel_source_line_and_text(
        self, store: CaseStore
    ) -> None:
        base = DeadLetter(
            channel="csv", source="a.csv", line=5, raw="x,y", reason="r", at=BASE_TIME
        )
        variants = [
            base,
            base.model_copy(update={"channel": "jsonl"}),
            base.model_copy(update={"source": "b.csv"}),
            base.model_copy(update={"line": None}),
            base.model_copy(update={"raw": "x,z"}),
        ]
        for letter in variants:
            store.add_dead_letter(letter)
        assert store.dead_letters() == variants
        assert len({letter.key for letter in variants}) == len(variants)

    # dead letters re-driven (issue 18): a retried record that became a case leaves the list --

    def test_remove_dead_letter_forgets_only_that_letter(self, store: CaseStore) -> None:
        first = DeadLetter(
            channel="jsonl", source="in.jsonl", line=2, raw="{bad", reason="r", at=BASE_TIME
        )
        other = first.model_copy(update={"line": 3})
        store.add_dead_letter(first)
        store.add_dead_letter(other)
        assert store.remove_dead_letter(first.key) is True
        assert store.dead_letters() == [other]
        assert store.dead_letter(first.key) is None
        assert store.remove_dead_letter(first.key) is False
        assert store.remove_dead_letter("DL0000000000000000") is False
        store.add_dead_letter(first)  # met again after its removal: a new letter, seen once
        assert store.dead_letters() == [other, first]

    def test_records_insert_replace_and_filter_by_kind(self, store: CaseStore) -> None:
        store.put_record(Record(kind="generalisation", id="G2", data={"title": "二"}))
        store.put_record(Record(kind="generalisation", id="G1", data={"title": "一"}))
        store.put_record(Record(kind="other", id="G1", data={}))
        store.put_record(Record(kind="generalisation", id="G2", data={"title": "二(改)"}))
        assert store.records("generalisation") == [
            Record(kind="generalisation", id="G1", data={"title": "一"}),
            Record(kind="generalisation", id="G2", data={"title": "二(改)"}),
        ]
        assert store.records("none") == []


# --- the state machine --------------------------------------------------------------------------

_PAYLOADS: dict[str, Any] = {
    "accept": None,
    "start_screening": None,
    "request_info": {"reason": "需补充材料"},
    "provide_info": None,
    "note": {"text": "备注"},
    "reject": {"reason": "超出受理范围"},
    "withdraw": {"reason": ""},
    "complete": None,
}
_DEPARTMENTS = ("gxq.a", "gxq.b", "gxq.c")


@st.composite
def _clocks(draw: st.DrawFn) -> Clock:
    alert = draw(st.integers(-1, 10))
    return make_clock(
        draw(st.sampled_from(["opinion", "resolve"])),
        due_at=BASE_TIME + timedelta(days=draw(st.integers(1, 12))),
        next_alert_at=None if alert < 0 else BASE_TIME + timedelta(days=alert),
        stopped_at=BASE_TIME if draw(st.integers(0, 3)) == 0 else None,
    )


class StoreStateMachine(RuleBasedStateMachine):
    """Random intake, lifecycle events, stale saves and queries against a dict model.

    Subclass, implement :meth:`make_store` (and :meth:`dispose` if the store leaves files or
    tables behind), then expose ``TestX = MySubclass.test_case()`` to pytest.
    """

    def __init__(self) -> None:
        super().__init__()
        self.store = self.make_store()
        self.model: dict[str, tuple[Case, list[CaseEvent]]] = {}
        self.refs: dict[tuple[str, str], str] = {}
        self.lifecycle = Lifecycle()

    @classmethod
    def test_case(cls, **overrides: Any) -> type[unittest.TestCase]:
        """The pytest-collectable test case, with settings modest enough to run in seconds.

        ``overrides`` go to :class:`hypothesis.settings` (e.g. ``max_examples=200`` for a soak).
        """
        options: dict[str, Any] = {
            "max_examples": 30,
            "stateful_step_count": 20,
            "deadline": None,
            **overrides,
        }
        case = cls.TestCase
        case.settings = settings(**options)
        return case

    def make_store(self) -> CaseStore:
        raise NotImplementedError("subclass StoreStateMachine and implement make_store()")

    def dispose(self) -> None:
        """Release what :meth:`make_store` created beyond the store itself."""

    def teardown(self) -> None:
        self.store.close()
        self.dispose()

    # rules --------------------------------------------------------------------------------

    def _expect_ingest(self, case: Case, events: list[CaseEvent]) -> tuple[str, bool]:
        key = (case.channel.value, case.external_id or "")
        if key in self.refs:
            return self.refs[key], False
        self.refs[key] = case.id
        self.model[case.id] = (case, list(events))
        return case.id, True

    @rule(n=st.integers(0, 7), web=st.booleans())
    def ingest(self, n: int, web: bool) -> None:
        case, events = received(make_case(n, channel="web" if web else "hotline_12345"))
        result = self.store.ingest(case, events)
        assert (result.case_id, result.created) == self._expect_ingest(case, events)

    @rule(ns=st.lists(st.integers(0, 9), min_size=1, max_size=4), bad=st.booleans())
    def ingest_batch(self, ns: list[int], bad: bool) -> None:
        items = [received(make_case(n)) for n in ns]
        if bad:
            case, events = items[-1]
            items[-1] = (case, [events[0].model_copy(update={"seq": 2})])
            before = self.store.count()
            try:
                self.store.ingest_many(items)
            except StorageError:
                assert self.store.count() == before
                return
            raise AssertionError("a batch with an inconsistent item was accepted")
        results = self.store.ingest_many(items)
        expected = [self._expect_ingest(c, e) for c, e in items]
        assert [(r.case_id, r.created) for r in results] == expected

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def fire_event(self, data: st.DataObject) -> None:
        case_id = data.draw(st.sampled_from(sorted(self.model)))
        case, events = self.model[case_id]
        allowed = self.lifecycle.allowed_events(case.status)
        choices = [
            e
            for e in (*_PAYLOADS, "update_facts", "assign_departments", "clock_update")
            if e in allowed
        ]
        if not choices:
            return
        event = data.draw(st.sampled_from(choices))
        payload = _PAYLOADS.get(event)
        if event == "update_facts":
            payload = {"facts": {"k": data.draw(st.integers(0, 3))}}
        elif event == "assign_departments":
            ids = data.draw(st.lists(st.sampled_from(_DEPARTMENTS), unique=True, max_size=2))
            roles = ["lead", "co"]
            payload = {
                "departments": [{"id": d, "role": r} for d, r in zip(ids, roles, strict=False)]
            }
        elif event == "clock_update":
            payload = _clock_payload(data.draw(_clocks()))
        new, ev = fire(case, event, payload, lifecycle=self.lifecycle)
        self.store.save(new, [ev], expected_version=case.version)
        self.model[case_id] = (new, [*events, ev])

    @precondition(lambda self: any(c.status in ACTIVE for c, _ in self.model.values()))
    @rule(data=st.data())
    def set_clock(self, data: st.DataObject) -> None:
        """Clocks get their own rule so that sweeps regularly see several of them at once."""
        active = sorted(i for i, (c, _) in self.model.items() if c.status in ACTIVE)
        case_id = data.draw(st.sampled_from(active))
        case, events = self.model[case_id]
        new, ev = fire(case, "clock_update", _clock_payload(data.draw(_clocks())))
        self.store.save(new, [ev], expected_version=case.version)
        self.model[case_id] = (new, [*events, ev])

    @precondition(lambda self: any(c.version > 1 for c, _ in self.model.values()))
    @rule(data=st.data())
    def stale_save(self, data: st.DataObject) -> None:
        candidates = sorted(i for i, (c, _) in self.model.items() if c.version > 1)
        case_id = data.draw(st.sampled_from(candidates))
        case, events = self.model[case_id]
        old_version = data.draw(st.integers(1, case.version - 1))
        old = self.lifecycle.replay(events[:old_version])
        if "note" not in self.lifecycle.allowed_events(old.status):
            return
        stale, ev = fire(old, "note", {"text": "过期修改"}, lifecycle=self.lifecycle)
        try:
            self.store.save(stale, [ev], expected_version=old_version)
        except ConcurrencyError as exc:
            assert exc.actual == case.version
        else:
            raise AssertionError("a stale save was accepted")

    @rule(
        statuses=st.none() | st.lists(st.sampled_from(list(CaseStatus)), min_size=1, max_size=3),
        domain=st.none() | st.sampled_from(DOMAINS),
        department=st.none() | st.sampled_from(("gxq.dept0", "gxq.co", *_DEPARTMENTS)),
        due_days=st.none() | st.integers(0, 13),
    )
    def query(
        self,
        statuses: list[CaseStatus] | None,
        domain: str | None,
        department: str | None,
        due_days: int | None,
    ) -> None:
        due_before = None if due_days is None else BASE_TIME + timedelta(days=due_days)
        q = CaseQuery(status=statuses, domain=domain, department=department, due_before=due_before)
        expected = sorted(
            (
                c
                for c, _ in self.model.values()
                if (statuses is None or c.status in statuses)
                and (domain is None or c.domain == domain)
                and (department is None or department in [d.id for d in c.departments])
                and (
                    due_before is None
                    or any(
                        k.stopped_at is None and k.due_at < due_before for k in c.clocks.values()
                    )
                )
            ),
            key=lambda c: (c.received_at, c.id),
        )
        assert _ids(self.store.query(q)) == _ids(expected)
        assert self.store.count(q) == len(expected)

    @rule(days=st.integers(0, 11))
    def due_clocks(self, days: int) -> None:
        self._check_due(BASE_TIME + timedelta(days=days))

    def _check_due(self, now: datetime) -> None:
        expected = sorted(
            (k.next_alert_at, c.id, name, k.due_at, c.version)
            for c, _ in self.model.values()
            for name, k in c.clocks.items()
            if k.stopped_at is None and k.next_alert_at is not None and k.next_alert_at <= now
        )
        got = [
            (d.next_alert_at, d.case_id, d.clock, d.due_at, d.case_version)
            for d in self.store.due_clocks(now)
        ]
        assert got == expected

    # invariants ---------------------------------------------------------------------------

    @invariant()
    def store_agrees_with_model(self) -> None:
        assert self.store.count() == len(self.model)
        for case_id, (case, events) in self.model.items():
            assert self.store.get(case_id) == case
            stored_events = self.store.events(case_id)
            assert stored_events == events
            assert case.version == len(stored_events)
        self._check_due(BASE_TIME + timedelta(days=30))
