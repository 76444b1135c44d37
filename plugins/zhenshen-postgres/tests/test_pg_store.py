"""PostgreSQL-specific behaviour beyond the shared contract."""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zhenshen_pg_testkit import ENV, SKIP_REASON, base_url, drop_schema, with_schema
from zhenshen_postgres import PostgresStore, plugin
from zhenshen_postgres.migrations import MIGRATIONS
from zhenshen_postgres.store import _columns, _copy, parse_url

from zhenshen_core.errors import StorageError
from zhenshen_core.model.case import Case
from zhenshen_core.model.events import CaseEvent
from zhenshen_core.plugins import PluginHost
from zhenshen_core.privacy.keys import MasterKey
from zhenshen_core.storage.digest import projects_digests
from zhenshen_core.storage.protocol import (
    CaseQuery,
    DeadLetter,
    claims_due_clocks,
    finds_received,
)
from zhenshen_core.testing.storage_contract import BASE_TIME, fire, make_case, make_clock, received

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)


def _sql(store: PostgresStore) -> psycopg.Connection[tuple[object, ...]]:
    parsed = parse_url(store.url)
    conn = psycopg.connect(parsed.conninfo, autocommit=True)
    conn.execute(f"SET search_path TO {parsed.schema}")
    return conn


def _with_clock(n: int, alert_minutes: int | None) -> tuple[Case, list[CaseEvent]]:
    case, events = received(make_case(n))
    clock = make_clock(
        "opinion",
        due_at=BASE_TIME + timedelta(days=20),
        next_alert_at=None
        if alert_minutes is None
        else BASE_TIME + timedelta(minutes=alert_minutes),
    )
    case, event = fire(case, "clock_update", {"clock": clock.model_dump(mode="json")})
    return case, [*events, event]


def test_opened_through_the_plugin_host(schema_url: str) -> None:
    host = PluginHost(load=False)
    host.register(plugin, "postgres")
    store = host.storage_backend(schema_url).factory(schema_url)
    try:
        assert isinstance(store, PostgresStore) and store.count() == 0
    finally:
        store.close()


def test_events_cannot_be_rewritten_even_with_raw_sql(pg_store: PostgresStore) -> None:
    case, events = received(make_case(1))
    pg_store.ingest(case, events)
    with _sql(pg_store) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("UPDATE events SET actor = 'mallory'")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM events")
    assert pg_store.events(case.id) == events


def test_paging_crosses_internal_pages_in_order(pg_store: PostgresStore) -> None:
    items = [received(make_case(n)) for n in range(1203)]
    pg_store.ingest_many(items)
    ids = sorted((c.received_at, c.id) for c, _ in items)
    expected = [i for _, i in ids]
    assert [c.id for c in pg_store.query()] == expected
    page = CaseQuery(limit=700, offset=450)
    assert [c.id for c in pg_store.query(page)] == expected[450:1150]
    assert pg_store.count(page) == 1203


def test_claims_are_leased_and_end_when_the_alert_moves(pg_store: PostgresStore) -> None:
    items = [_with_clock(n, n) for n in range(4)]
    pg_store.ingest_many(items)
    now = BASE_TIME + timedelta(hours=1)
    first = pg_store.claim_due_clocks(now, node="a", limit=2, lease=timedelta(minutes=10))
    assert [d.case_id for d in first] == [items[0][0].id, items[1][0].id]
    second = pg_store.claim_due_clocks(now, node="b", limit=10, lease=timedelta(minutes=10))
    assert [d.case_id for d in second] == [items[2][0].id, items[3][0].id]
    assert pg_store.claim_due_clocks(now, node="c") == []
    assert len(pg_store.due_clocks(now)) == 4, "due_clocks is a plain read; claims do not hide"

    # node a handles case 0: the clock's next alert moves, so its claim ends with the save
    case0 = items[0][0]
    clock = case0.clocks["opinion"].model_copy(
        update={"next_alert_at": BASE_TIME + timedelta(minutes=30), "notified": ["0.5"]}
    )
    moved, event = fire(case0, "clock_update", {"clock": clock.model_dump(mode="json")})
    pg_store.save(moved, [event], expected_version=first[0].case_version)
    again = pg_store.claim_due_clocks(now, node="c", lease=timedelta(hours=1))
    assert [(d.case_id, d.case_version) for d in again] == [(case0.id, 3)]

    # node a dies holding case 1: its lease runs out and another node takes it over
    later = now + timedelta(minutes=10)
    assert [d.case_id for d in pg_store.claim_due_clocks(later, node="c")] == [
        items[1][0].id,
        items[2][0].id,
        items[3][0].id,
    ]
    assert pg_store.release_claims("c") == 4
    with pytest.raises(ValueError):
        pg_store.claim_due_clocks(now, node="")


def test_sweep_query_uses_the_partial_index(pg_store: PostgresStore) -> None:
    pg_store.ingest_many([_with_clock(n, n) for n in range(50)])
    with _sql(pg_store) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN SELECT case_id, name, next_alert_at, due_at, case_version FROM clocks"
                " WHERE next_alert_at IS NOT NULL AND next_alert_at <= now()"
                " ORDER BY next_alert_at, case_id, name LIMIT 1000"
            )
        )
    assert "clocks_next_alert_idx" in plan


def test_a_dropped_connection_is_replaced_for_reads(pg_store: PostgresStore) -> None:
    case, events = received(make_case(1))
    pg_store.ingest(case, events)
    pid = pg_store._connection().info.backend_pid
    with _sql(pg_store) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert pg_store.get(case.id) == case
    assert pg_store._connection().info.backend_pid != pid


def test_newer_schema_than_the_code_refuses_to_start(pg_store: PostgresStore) -> None:
    with _sql(pg_store) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')")
    with pytest.raises(StorageError, match="migration 99, newer"):
        PostgresStore(pg_store.url)


def test_reopening_migrates_nothing_and_keeps_data(pg_store: PostgresStore) -> None:
    case, events = received(make_case(1))
    pg_store.ingest(case, events)
    with PostgresStore(pg_store.url) as again:
        newest = MIGRATIONS[-1].version
        assert again.schema_version() == newest and again.get(case.id) == case


def test_nul_characters_are_refused_before_anything_is_written(pg_store: PostgresStore) -> None:
    good = received(make_case(1))
    bad = received(make_case(2, content="坏\x00数据"))
    with pytest.raises(StorageError, match="NUL"):
        pg_store.ingest_many([good, bad])
    assert pg_store.count() == 0
    letter = DeadLetter(
        channel="csv", source="x.csv", line=1, raw="a\x00b", reason="r", at=BASE_TIME
    )
    pg_store.add_dead_letter(letter)
    assert pg_store.dead_letters() == [letter], "dead letters keep whatever arrived"


def test_unreachable_server_is_a_storage_error_without_the_password() -> None:
    with pytest.raises(StorageError) as info:
        PostgresStore("postgresql://desk:s3cret@127.0.0.1:1/test", connect_timeout=2)
    assert "could not open the store" in str(info.value) and "s3cret" not in str(info.value)


def test_a_literal_backslash_u0000_is_text_not_a_nul(pg_store: PostgresStore) -> None:
    case, events = received(make_case(3, content="路径 C:\\u0000\\temp 与 \\\\u0000"))
    pg_store.ingest(case, events)
    assert pg_store.get(case.id).content == case.content


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"])),
    items=st.lists(
        st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]))
    ),
)
def test_copy_text_format_round_trips(pg_store: PostgresStore, text: str, items: list[str]) -> None:
    """What COPY reads back is exactly what was written: backslashes, tabs, quotes, braces."""
    with _sql(pg_store) as conn:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS rt (t text, a text[], n text)")
        conn.execute("TRUNCATE rt")
        with conn.cursor() as cur:
            _copy(cur, "rt (t, a, n)", [(text, items, None)])
        assert conn.execute("SELECT t, a, n FROM rt").fetchall() == [(text, items, None)]


def test_save_refuses_a_ref_another_case_owns_and_writes_nothing(pg_store: PostgresStore) -> None:
    first, first_events = received(make_case(1))
    second, second_events = received(make_case(2))
    pg_store.ingest_many([(first, first_events), (second, second_events)])
    stolen = second.external_refs + first.external_refs[:1]
    new, event = fire(second, "accept")
    new = new.model_copy(update={"external_refs": stolen})
    with pytest.raises(StorageError, match="already belongs to case"):
        pg_store.save(new, [event], expected_version=1)
    assert pg_store.get(second.id) == second and len(pg_store.events(second.id)) == 1
    assert pg_store.find_external("hotline_12345", first.external_id or "") == first


def test_intake_turns_a_nul_into_a_dead_letter_and_stores_the_rest(
    pg_store: PostgresStore, tmp_path: Path
) -> None:
    from zhenshen_core.intake import ingest_source
    from zhenshen_core.plugins import PluginConfig

    good = {"external_id": "N-1", "received_at": "2026-03-02T10:00:00+08:00", "content": "好"}
    nul = dict(good, external_id="N-2", content="坏\x00")
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(good) + "\n" + json.dumps(nul) + "\n", encoding="utf-8")
    host = PluginHost(PluginConfig(autoload=False))
    summary = ingest_source(str(source), channel="jsonl", store=pg_store, host=host)
    assert (summary.read, summary.created, len(summary.rejected)) == (2, 1, 1)
    assert pg_store.count() == 1
    [letter] = pg_store.dead_letters()
    assert letter.line == 2 and "NUL" in letter.reason and "\\u0000" in letter.raw


def _rows(store: PostgresStore) -> dict[str, list[tuple[object, ...]]]:
    """Every row an intake writes, but its sealed documents, wrapped keys and blind-index
    tokens (each case's own key, a fresh nonce, each store's own index key): the documents are
    compared read back, the tokens counted by owner."""
    tables = {
        "cases": "SELECT id, doc, status, domain, lead_department, departments, enterprise_uscc,"
        " channel, received_at, version FROM cases ORDER BY id",
        "events": "SELECT case_id, seq, at, type, actor FROM events ORDER BY case_id, seq",
        "clocks": "SELECT case_id, name, next_alert_at, due_at, case_version, claimed_by,"
        " claimed_until FROM clocks ORDER BY case_id, name",
        "external_refs": "SELECT * FROM external_refs ORDER BY channel, external_id",
        "pii_keys": "SELECT owner FROM pii_keys ORDER BY owner",
        "pii_index": "SELECT owner, count(*) FROM pii_index GROUP BY owner ORDER BY owner",
        "audit_log": "SELECT id, at, actor, role, action, desk, case_id, outcome, remote, detail"
        " FROM audit_log ORDER BY id",
        "outbox": "SELECT key, case_id, status, created_at, next_attempt_at, delivered_at, doc"
        " FROM outbox ORDER BY key",
    }
    with _sql(store) as conn:
        return {name: conn.execute(query).fetchall() for name, query in tables.items()}


def test_one_case_is_stored_as_a_batch_copy_stores_it(schema_url: str) -> None:
    """One case is written in one statement, a batch with COPY: the same rows either way (text
    that COPY escapes, NULLs, arrays, clocks, personal data and its index, notices, audit)."""
    from zhenshen_core.storage.outbox import OutboxNotice
    from zhenshen_core.testing.audit_contract import make_audit_record

    key = MasterKey.generate()
    items = [_with_clock(n, None if n % 2 else 30) for n in range(10)]
    odd = make_case(
        99,
        title='tab\there \\ back\\slash\n"quoted" {braces}',
        domain=None,
        departments=[],
        enterprise=None,
    )
    items.append(received(odd))
    records = [
        make_audit_record(
            2 * n + copy,  # distinct ids: a repeated one is stored once
            role="intake",
            action="receive_case",
            case_id=case.id,
            detail={"created": True, "copy": copy},
        )
        for n, (case, _) in enumerate(items)
        for copy in (1, 2)
    ]
    notices = [
        OutboxNotice(
            key=f"{case.id}:1:case_received:log",
            case_id=case.id,
            seq=1,
            kind="case_received",
            target="log",
            detail={"n": n, "text": 'tab\t \\ "q"'},
            created_at=BASE_TIME,
            next_attempt_at=BASE_TIME,
        )
        for n, (case, _) in enumerate(items)
    ]
    other = with_schema(base_url(), "zs_copy_" + secrets.token_hex(4))
    try:
        with (
            PostgresStore(schema_url, pii_key=key) as one,
            PostgresStore(other, pii_key=key) as batch,
        ):
            for n, item in enumerate(items):
                mine = records[2 * n : 2 * n + 2]
                assert one.ingest(*item, outbox=[notices[n]], audit=mine).created
            results = batch.ingest_many(items, outbox=notices, audit=records)
            assert all(r.created for r in results)
            inserted, copied = _rows(one), _rows(batch)
            for table in ("cases", "pii_index", "clocks", "outbox", "audit_log"):
                assert inserted[table], table
            for table in inserted:
                if table != "cases":
                    assert inserted[table] == copied[table], table
            assert [(r[0], *r[2:]) for r in inserted["cases"]] == [
                (r[0], *r[2:]) for r in copied["cases"]
            ]
            for case, events in items:
                assert one.get(case.id) == batch.get(case.id) == case
                assert one.events(case.id) == batch.events(case.id) == events
    finally:
        drop_schema(parse_url(other).schema)


def test_find_received_answers_what_each_ref_then_the_id_answer(pg_store: PostgresStore) -> None:
    """``Desk.receive``'s look-up in one statement: the first stored ref's case, else the
    case of the id, else None, as find_external for each ref and then get would say."""
    assert finds_received(pg_store) and claims_due_clocks(pg_store)
    assert projects_digests(pg_store), "the desk, the sweep and the report would not ask it"
    first, first_events = received(make_case(1))
    second, second_events = received(make_case(2))
    pg_store.ingest_many([(first, first_events), (second, second_events)])
    ref = ("hotline_12345", first.external_id or "")
    assert pg_store.find_received([ref], "ZS-NONE") == first
    assert pg_store.find_received([ref], second.id) == first, "a ref wins over the id"
    assert pg_store.find_received([("web", "nothing")], second.id) == second
    assert pg_store.find_received([("web", "nothing")], "ZS-NONE") is None
    assert pg_store.find_received([], second.id) == second
    assert pg_store.find_received([("web", "nothing"), ref], "ZS-NONE") == first
    assert pg_store.find_received([], "ZS-NONE") is None


def test_the_desk_finds_a_repeat_delivery_through_its_write(pg_store: PostgresStore) -> None:
    """The desk looks nothing up before it writes (a round trip on every new case): the
    one-statement write finds a repeat delivery, which is the stored case, not a second one."""
    from zhenshen_core import Desk

    desk = Desk(pg_store)
    draft = {"external_id": "R-1", "channel": "web", "received_at": BASE_TIME.isoformat()}
    asked: list[str] = []
    original = pg_store.find_received

    def counted(refs: list[tuple[str, str]], case_id: str) -> Case | None:
        asked.append(case_id)
        return original(refs, case_id)

    pg_store.find_received = counted  # type: ignore[method-assign]
    case = desk.receive(draft)
    again = desk.receive({**draft, "title": "again"})
    assert again == case and pg_store.count() == 1 and asked == []


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=st.lists(
        st.none()
        | st.just("NULL")
        | st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]))
    )
)
def test_array_literals_of_the_one_case_ingest_round_trip(
    pg_store: PostgresStore, items: list[str | None]
) -> None:
    """The array literals the one-case statement is given read back as the values: quotes,
    backslashes, braces, commas, spaces, the text "NULL" and NULL itself."""
    [literal] = _columns([(item,) for item in items], 1) if items else ["{}"]
    with _sql(pg_store) as conn:
        row = conn.execute("SELECT %s::text[]", (literal,)).fetchone()
    assert row is not None and row[0] == items


def test_one_case_alone_writes_nothing_when_its_ref_or_id_is_stored(
    pg_store: PostgresStore,
) -> None:
    """One case is looked up and written in one statement: a work order stored already (by
    its ref, or by its id) answers the stored case and writes no row at all, not even the
    notice and audit record that rode along; a case with two refs goes in whole."""
    from zhenshen_core.model.case import ExternalRef
    from zhenshen_core.storage.audit import AuditRecord
    from zhenshen_core.testing.audit_contract import make_audit_record

    made = iter(range(10))

    def record(case_id: str) -> AuditRecord:
        return make_audit_record(next(made), role="intake", action="receive_case",
                                 case_id=case_id)

    def counts() -> dict[str, int]:
        tables = ("cases", "events", "clocks", "external_refs", "pii_index", "audit_log")
        with _sql(pg_store) as conn:
            return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}

    first, events = _with_clock(1, 30)
    assert pg_store.ingest(first, events, audit=[record(first.id)]).created
    before = counts()
    # the same work order under another case id
    again, again_events = received(make_case(1).model_copy(update={"id": "ZSD0000000000AGAIN"}))
    by_ref = pg_store.ingest(again, again_events, audit=[record(again.id)])
    by_id = pg_store.ingest(first, events, audit=[record(first.id)])
    assert (by_ref.case_id, by_ref.created) == (first.id, False)
    assert (by_id.case_id, by_id.created) == (first.id, False)
    assert counts() == before
    refs = [ExternalRef(channel="hotline_12345", external_id="GD-2"),
            ExternalRef(channel="app", external_id="A-2")]
    two, two_events = received(make_case(2).model_copy(update={"external_refs": refs}))
    assert pg_store.ingest(two, two_events).created
    other, other_events = received(
        make_case(3).model_copy(update={"external_refs": refs[1:]})
    )
    found = pg_store.ingest(other, other_events)
    assert (found.case_id, found.created) == (two.id, False)
    assert pg_store.find_external("app", "A-2") == pg_store.get(two.id)


def test_a_batch_raced_between_its_look_up_and_its_write_finds_the_winner(
    pg_store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that looked its one new case up, then lost it to another node before writing
    (another node committed the same work order under another id in between): its write is
    stopped on the unique key and retried, and it reports the winner's case, not a case it
    did not write."""
    import zhenshen_postgres.store as module

    stored = received(make_case(1))
    assert pg_store.ingest(*stored).created
    new_case, new_events = received(make_case(2))
    winner, winner_events = received(make_case(2).model_copy(update={"id": "ZSD00000000WINNER"}))
    original = module._commit_with
    raced: list[bool] = []

    def race(*args: object, **kwargs: object) -> None:
        if not raced:
            raced.append(True)
            with PostgresStore(pg_store.url) as other:
                assert other.ingest(winner, winner_events).created
        original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module, "_commit_with", race)
    results = pg_store.ingest_many([stored, (new_case, new_events)])
    assert raced == [True]
    assert [(r.case_id, r.created) for r in results] == [
        (stored[0].id, False), (winner.id, False)
    ]
    assert pg_store.count() == 2 and pg_store.get(winner.id) == winner
