"""The access-log contract: what every store's ``record_audit`` and ``audit`` must do.

A backend subclasses :class:`AuditContract` in its tests, as it does the storage contract::

    from zhenshen_core.testing.audit_contract import AuditContract

    class TestMyStoreAudit(AuditContract):
        def make_store(self, tmp_path):          # a fresh, empty store per test
            return MyStore(...)

        def tamper(self, store, record_id):      # optional: try to rewrite a record in SQL
            ...                                  # must raise; see the SQLite and PG tests

The rules: a record reads back equal (every field, the instant, the ``detail`` object); records
come back in the order they were written; ``desk``, ``case_id`` and ``since`` filter (AND), and
``limit`` keeps the newest matches, still oldest first; recording one id twice keeps one; the
log offers no way to change or remove a record. A hypothesis property holds each store to the
plain-list semantics of :func:`zhenshen_core.storage.audit.select_audit`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from zhenshen_core.errors import StorageError
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.storage.audit import AuditRecord, select_audit
from zhenshen_core.storage.protocol import CaseStore
from zhenshen_core.testing._contract_base import ContractBase

__all__ = ["AuditContract", "make_audit_record"]

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)


def make_audit_record(n: int = 0, **overrides: object) -> AuditRecord:
    """A valid record, distinct for each ``n``; ``overrides`` replace fields."""
    data: dict[str, object] = {
        "id": f"AU-{n:06d}",
        "at": T0 + timedelta(minutes=n),
        "actor": "wang.li",
        "role": "desk",
        "action": "read_personal_data",
        "desk": "gxq",
        "case_id": f"ZS{n:016d}",
        "outcome": "ok",
        "remote": None,
        "detail": {"command": "cases show", "fields": ["requester.phone"]},
    }
    data.update(overrides)
    return AuditRecord.model_validate(data)


class AuditContract(ContractBase):
    """Example and property tests of the access log. Subclass and implement ``make_store``."""

    def tamper(self, store: CaseStore, record_id: str) -> None:
        """Try to change and to delete a record behind the API (SQL stores); must raise.
        The default does nothing: a store without a query language has no back door."""
        pytest.skip("this store has no way to write behind its API")

    def test_empty_log(self, store: CaseStore) -> None:
        assert store.audit() == []

    def test_a_record_reads_back_equal(self, store: CaseStore) -> None:
        record = make_audit_record(
            1,
            at=datetime(2026, 3, 2, 1, 30, 0, 123456, tzinfo=UTC),
            remote="127.0.0.1",
            detail={
                "fields": ["requester.phone", "content"],
                "count": 2,
                "nested": {"ok": True},
                "label": "保密",
            },
        )
        store.record_audit(record)
        [back] = store.audit()
        assert back == record
        assert back.at == record.at and back.at.tzinfo is not None
        assert back.detail == record.detail

    def test_optional_fields_may_be_empty(self, store: CaseStore) -> None:
        record = AuditRecord(actor="ops", action="list_cases")
        store.record_audit(record)
        assert store.audit() == [record]
        assert record.id.startswith("AU") and record.outcome == "ok"

    def test_records_come_back_in_the_order_written(self, store: CaseStore) -> None:
        # written out of time order: the order of writing is the log's order
        records = [make_audit_record(n, at=T0 - timedelta(minutes=n)) for n in range(5)]
        for record in records:
            store.record_audit(record)
        assert [r.id for r in store.audit()] == [r.id for r in records]

    def test_the_same_id_twice_is_logged_once(self, store: CaseStore) -> None:
        record = make_audit_record(3)
        store.record_audit(record)
        store.record_audit(record)
        store.record_audit(make_audit_record(3, actor="someone-else"))
        assert store.audit() == [record]

    # --- a receipt and its record in one transaction (ingest's ``audit=``) -------------------

    def test_ingest_keeps_the_record_of_a_case_it_creates(self, store: CaseStore) -> None:
        from zhenshen_core.testing.storage_contract import make_case, received

        case, events = received(make_case(1))
        record = make_audit_record(1, case_id=case.id, action="receive_case")
        assert store.ingest(case, events, audit=[record]).created
        assert store.audit() == [record]
        # the same work order again: nothing new stored, and its record is not kept either
        again, again_events = received(make_case(1))
        other = make_audit_record(2, case_id=again.id, action="receive_case")
        assert not store.ingest(again, again_events, audit=[other]).created
        assert store.audit() == [record]

    def test_a_refused_ingest_keeps_no_record(self, store: CaseStore) -> None:
        from zhenshen_core.testing.storage_contract import make_case, received

        case, events = received(make_case(2))
        record = make_audit_record(2, case_id=case.id, action="receive_case")
        wrong: list[CaseEvent] = []  # a new case must come with its first event
        with pytest.raises(StorageError):
            store.ingest(case, wrong, audit=[record])
        assert store.audit() == []
        assert store.ingest_many([(case, events)], audit=[record])[0].created
        assert store.audit() == [record]

    def test_filters_combine(self, store: CaseStore) -> None:
        records = [
            make_audit_record(0, desk="gxq", case_id="ZS-A"),
            make_audit_record(1, desk="gxq", case_id="ZS-B"),
            make_audit_record(2, desk="wuhou", case_id="ZS-A"),
            make_audit_record(3, desk=None, case_id=None),
            make_audit_record(4, desk="gxq", case_id="ZS-A"),
        ]
        for record in records:
            store.record_audit(record)
        assert [r.id for r in store.audit(desk="gxq")] == ["AU-000000", "AU-000001", "AU-000004"]
        assert [r.id for r in store.audit(case_id="ZS-A")] == [
            "AU-000000",
            "AU-000002",
            "AU-000004",
        ]
        assert [r.id for r in store.audit(desk="gxq", case_id="ZS-A")] == [
            "AU-000000",
            "AU-000004",
        ]
        assert [r.id for r in store.audit(since=T0 + timedelta(minutes=2))] == [
            "AU-000002",
            "AU-000003",
            "AU-000004",
        ]
        # `since` is an instant: the same moment written in UTC selects the same records
        since_utc = (T0 + timedelta(minutes=2)).astimezone(UTC)
        assert store.audit(since=since_utc) == store.audit(since=T0 + timedelta(minutes=2))
        assert store.audit(desk="nowhere") == []

    def test_limit_keeps_the_newest_oldest_first(self, store: CaseStore) -> None:
        for n in range(6):
            store.record_audit(make_audit_record(n, desk="gxq" if n % 2 else "wuhou"))
        assert [r.id for r in store.audit(limit=2)] == ["AU-000004", "AU-000005"]
        assert [r.id for r in store.audit(desk="gxq", limit=2)] == ["AU-000003", "AU-000005"]
        assert len(store.audit(limit=100)) == 6

    @pytest.mark.parametrize("limit", [0, -1, True, 2.5])
    def test_a_bad_limit_is_refused(self, store: CaseStore, limit: object) -> None:
        with pytest.raises(ValueError, match="limit"):
            store.audit(limit=limit)  # type: ignore[arg-type]

    def test_what_no_store_keeps_is_refused_by_the_record(self) -> None:
        for bad in (
            {"actor": "a\x00b"},
            {"detail": {"x": "\ud800"}},
            {"at": datetime(2026, 1, 1)},
            {"actor": ""},
            {"outcome": "maybe"},
            {"secret": "x"},
        ):
            with pytest.raises(ValidationError):
                make_audit_record(0, **bad)

    def test_the_log_offers_no_way_to_change_a_record(self, store: CaseStore) -> None:
        record = make_audit_record(9)
        store.record_audit(record)
        with pytest.raises(ValidationError):
            record.actor = "someone-else"  # type: ignore[misc]
        names = {n for n in dir(store) if "audit" in n and not n.startswith("_")}
        assert names == {"audit", "record_audit"}

    def test_sql_behind_the_api_is_refused(self, store: CaseStore) -> None:
        record = make_audit_record(7)
        store.record_audit(record)
        self.tamper(store, record.id)
        assert store.audit() == [record]

    @settings(
        max_examples=25,
        # one store serves every example (each writes under names of its own), and subclasses
        # run the same test method: both are by design
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        data=st.lists(
            st.tuples(
                st.sampled_from(["gxq", "wuhou", None]),
                st.sampled_from(["ZS-A", "ZS-B", None]),
                st.integers(0, 20),
            ),
            max_size=12,
        ),
        desk=st.sampled_from(["gxq", "wuhou", None]),
        case_id=st.sampled_from(["ZS-A", "ZS-B", None]),
        since=st.none() | st.integers(0, 20),
        limit=st.none() | st.integers(1, 6),
    )
    def test_the_store_agrees_with_a_list(
        self,
        store: CaseStore,
        data: list[tuple[str | None, str | None, int]],
        desk: str | None,
        case_id: str | None,
        since: int | None,
        limit: int | None,
    ) -> None:
        # Every example writes under a desk name of its own (one store serves every example),
        # so the records of earlier examples never match.
        tag = uuid.uuid4().hex[:8]
        records = [
            AuditRecord(
                actor="prop",
                action="read_personal_data",
                desk=None if d is None else f"{d}-{tag}",
                case_id=None if c is None else f"{c}-{tag}",
                at=T0 + timedelta(minutes=minute),
            )
            for d, c, minute in data
        ]
        for record in records:
            store.record_audit(record)
        mine = {r.id for r in records}
        query = {
            "desk": None if desk is None else f"{desk}-{tag}",
            "case_id": None if case_id is None else f"{case_id}-{tag}",
            "since": None if since is None else T0 + timedelta(minutes=since),
        }
        if query["desk"] is None and query["case_id"] is None:
            # unfiltered reads see earlier examples too: compare on this example's records
            got = [r for r in store.audit(**query) if r.id in mine]  # type: ignore[arg-type]
            expected = select_audit(records, **query)  # type: ignore[arg-type]
            assert got == expected
            return
        got = store.audit(**query, limit=limit)  # type: ignore[arg-type]
        assert got == select_audit(records, **query, limit=limit)  # type: ignore[arg-type]
