"""The reliability contract: the outbox and sweep incidents every store must keep.

A backend proves itself by subclassing :class:`ReliabilityContract` beside its
:class:`~zhenshen_core.testing.storage_contract.StoreContract`::

    from zhenshen_core.testing.reliability_contract import ReliabilityContract

    class TestMyStoreReliability(ReliabilityContract):
        def make_store(self, tmp_path):
            return MyStore(...)

The rules (see :mod:`zhenshen_core.storage.outbox`): notices go in with the change they are
about or not at all (a stale save keeps none; a duplicate intake keeps none); a key is kept
once; ``outbox_due`` answers pending notices whose time has come, oldest first; an open
incident holds its clock back from ``due_clocks`` until its retry time and no longer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from zhenshen_core.errors import ConcurrencyError
from zhenshen_core.storage.outbox import OutboxNotice, SweepIncident, notice_key
from zhenshen_core.storage.protocol import CaseStore
from zhenshen_core.testing._contract_base import ContractBase
from zhenshen_core.testing.storage_contract import (
    BASE_TIME,
    fire,
    make_case,
    make_clock,
    received,
)

__all__ = ["ReliabilityContract", "make_notice"]


def make_notice(
    case_id: str,
    seq: int,
    *,
    target: str = "sms",
    kind: str = "clock_alert",
    at: datetime = BASE_TIME,
    **overrides: object,
) -> OutboxNotice:
    """A pending notice of event ``seq`` of a case for notifier ``target``."""
    data: dict[str, object] = {
        "key": notice_key(case_id, seq, kind, target),
        "case_id": case_id,
        "seq": seq,
        "kind": kind,
        "event_type": "supervise",
        "target": target,
        "detail": {"clock": "opinion", "kind": "breach", "note": "督办通知：已超期"},
        "created_at": at,
        "next_attempt_at": at,
    }
    data.update(overrides)
    return OutboxNotice.model_validate(data)


class ReliabilityContract(ContractBase):
    """Example tests of the outbox and sweep incidents. Subclass; implement :meth:`make_store`."""

    # --- the outbox ----------------------------------------------------------------------

    def test_a_saved_change_keeps_its_notices_and_a_stale_one_keeps_none(
        self, store: CaseStore
    ) -> None:
        case, events = received(make_case(1))
        store.ingest(case, events)
        new, event = fire(case, "note", {"text": "催办"})
        notices = [make_notice(case.id, event.seq, target=t) for t in ("sms", "mq")]
        store.save(new, [event], expected_version=case.version, outbox=notices)
        assert store.outbox_notices() == sorted(notices, key=lambda n: n.key)
        stale, stale_event = fire(case, "note", {"text": "again"})
        with pytest.raises(ConcurrencyError):
            store.save(
                stale,
                [stale_event],
                expected_version=case.version,
                outbox=[make_notice(case.id, stale_event.seq, target="late")],
            )
        assert {n.target for n in store.outbox_notices()} == {"sms", "mq"}, (
            "a refused save kept its notice"
        )

    def test_intake_keeps_notices_only_for_a_case_it_creates(self, store: CaseStore) -> None:
        case, events = received(make_case(2))
        assert store.ingest(case, events, outbox=[make_notice(case.id, 1, kind="case_received")])
        again, again_events = received(make_case(2, title="第二次推送"))
        duplicate = make_notice(again.id, 1, kind="case_received", target="other")
        assert not store.ingest(again, again_events, outbox=[duplicate]).created
        assert [n.target for n in store.outbox_notices()] == ["sms"]
        other, other_events = received(make_case(3))
        results = store.ingest_many(
            [(case, events), (other, other_events)],
            outbox=[make_notice(case.id, 1, target="x"), make_notice(other.id, 1, target="x")],
        )
        assert [r.created for r in results] == [False, True]
        assert sorted((n.case_id, n.target) for n in store.outbox_notices()) == sorted(
            [(case.id, "sms"), (other.id, "x")]
        )

    def test_a_key_is_kept_once_and_its_delivery_state_survives_a_second_write(
        self, store: CaseStore
    ) -> None:
        case, events = received(make_case(4))
        first = make_notice(case.id, 1)
        store.ingest(case, events, outbox=[first])
        delivered = first.model_copy(
            update={"status": "delivered", "attempts": 1, "delivered_at": BASE_TIME}
        )
        store.outbox_put(delivered)
        new, event = fire(case, "note", {"text": "x"})
        store.save(new, [event], expected_version=1, outbox=[first])  # written again: kept as is
        assert store.outbox_notices() == [delivered]

    def test_due_notices_are_the_pending_ones_whose_time_has_come_oldest_first(
        self, store: CaseStore
    ) -> None:
        case, events = received(make_case(5))
        later = BASE_TIME + timedelta(minutes=10)
        notices = [
            make_notice(case.id, 1, target="b", at=later),
            make_notice(case.id, 1, target="a", at=BASE_TIME),
            make_notice(case.id, 1, target="c", at=BASE_TIME, next_attempt_at=later),
        ]
        store.ingest(case, events, outbox=notices)
        assert [n.target for n in store.outbox_due(BASE_TIME)] == ["a"]
        assert [n.target for n in store.outbox_due(later)] == ["a", "c", "b"]
        assert [n.target for n in store.outbox_due(later, limit=1)] == ["a"]
        failed = notices[1].model_copy(
            update={
                "attempts": 3,
                "last_error": "RuntimeError: gateway down",
                "next_attempt_at": later + timedelta(hours=1),
            }
        )
        store.outbox_put(failed)
        assert [n.target for n in store.outbox_due(later)] == ["c", "b"]
        assert store.outbox_notices("pending")[0] == failed
        gave_up = failed.model_copy(update={"status": "failed"})
        store.outbox_put(gave_up)
        assert store.outbox_notices("failed") == [gave_up]
        assert store.outbox_due(later + timedelta(days=1)) == [notices[2], notices[0]]
        assert len(store.outbox_notices(limit=2)) == 2

    def test_put_many_writes_every_outcome_at_once(self, store: CaseStore) -> None:
        case, events = received(make_case(9))
        notices = [make_notice(case.id, 1, target=t) for t in ("a", "b", "c")]
        store.ingest(case, events, outbox=notices)
        done = [
            n.model_copy(update={"status": "delivered", "attempts": 1, "delivered_at": BASE_TIME})
            for n in notices[:2]
        ]
        store.outbox_put_many(done)
        store.outbox_put_many([])
        assert [n.target for n in store.outbox_notices("delivered")] == ["a", "b"]
        assert [n.target for n in store.outbox_due(BASE_TIME)] == ["c"]

    def test_purge_removes_only_notices_delivered_before_the_instant(
        self, store: CaseStore
    ) -> None:
        case, events = received(make_case(6))
        old, new, pending = (make_notice(case.id, 1, target=t) for t in ("old", "new", "pend"))
        store.ingest(case, events, outbox=[old, new, pending])
        for notice, when in ((old, BASE_TIME), (new, BASE_TIME + timedelta(days=30))):
            store.outbox_put(
                notice.model_copy(
                    update={"status": "delivered", "attempts": 1, "delivered_at": when}
                )
            )
        assert store.outbox_purge(BASE_TIME + timedelta(days=7)) == 1
        assert sorted(n.target for n in store.outbox_notices()) == ["new", "pend"]

    # --- sweep incidents -------------------------------------------------------------------

    def test_an_open_incident_holds_its_clock_back_until_its_retry_time(
        self, store: CaseStore
    ) -> None:
        alert_at = BASE_TIME + timedelta(days=1)
        ids = []
        for n in (7, 8):
            case, events = received(make_case(n))
            due = BASE_TIME + timedelta(days=5)
            clock = make_clock("opinion", due_at=due, next_alert_at=alert_at)
            case, event = fire(case, "clock_update", {"clock": clock.model_dump(mode="json")})
            store.ingest(case, [*events, event])
            ids.append(case.id)
        now = alert_at + timedelta(hours=1)
        retry = now + timedelta(minutes=5)
        incident = SweepIncident(
            case_id=ids[0],
            clock="opinion",
            reason="IllegalTransitionError: event 'clock_update' is not allowed",
            attempts=1,
            first_at=now,
            last_at=now,
            next_retry_at=retry,
        )
        store.put_incident(incident)
        assert store.incidents() == [incident]
        assert [d.case_id for d in store.due_clocks(now)] == [ids[1]]
        assert sorted(d.case_id for d in store.due_clocks(retry)) == sorted(ids), "due again"
        resolved = incident.model_copy(update={"resolved_at": retry})
        store.put_incident(resolved)
        assert store.incidents() == []
        assert store.incidents(open_only=False) == [resolved]
        assert sorted(d.case_id for d in store.due_clocks(now)) == sorted(ids)
