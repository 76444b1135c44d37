"""The role × endpoint matrix, tokens, keys and intake on PostgreSQL: the tests of
``test_server_sqlite`` that depend on the store, run against a server on a PostgreSQL schema."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.postgres

if not os.environ.get("ZHENSHEN_TEST_PG_URL"):
    pytest.skip("ZHENSHEN_TEST_PG_URL is not set; the PostgreSQL service tests need it",
                allow_module_level=True)

import psycopg  # noqa: E402
from test_server_sqlite import (  # noqa: E402
    call,
    order,
    serve_two_desks,
    test_a_revoked_key_is_refused_at_once,
    test_a_valid_jwt_plays_the_part_of_a_key,
    test_cursor_pagination_visits_every_case_once,
    test_events_conflicts_and_allowed_events,
    test_intake_is_idempotent_and_reads_only_what_it_submitted,
    test_personal_data_masked_unless_pii_and_each_unmasked_read_audited,
    test_refused_tokens,
    test_role_endpoint_matrix_on_own_and_foreign_desk,
)
from zhenshen_pg_testkit import drop_schema, new_schema_url  # noqa: E402
from zhenshen_server_testkit import make_key, serve_folder  # noqa: E402

__all__ = [
    "test_a_revoked_key_is_refused_at_once",
    "test_a_valid_jwt_plays_the_part_of_a_key",
    "test_cursor_pagination_visits_every_case_once",
    "test_events_conflicts_and_allowed_events",
    "test_intake_is_idempotent_and_reads_only_what_it_submitted",
    "test_personal_data_masked_unless_pii_and_each_unmasked_read_audited",
    "test_refused_tokens",
    "test_role_endpoint_matrix_on_own_and_foreign_desk",
]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Here the JWKS comes from a URL, as from an identity provider (PyJWT's client)."""
    url, schema = new_schema_url()
    tmp = tmp_path_factory.mktemp("pg-server")
    try:
        with serve_folder(tmp) as idp:  # the issuer writes tmp/jwks.json
            for found in serve_two_desks(url, tmp, f"{idp}/jwks.json"):
                yield {**found, "schema": schema, "url": url}
    finally:
        drop_schema(schema)


def test_a_new_case_and_its_receive_record_are_one_commit(env: dict[str, Any]) -> None:
    """One commit per intake, not two (the case, then its audit record): the receipt's record
    is written by the transaction that wrote the case's first event (the same ``xmin``). A
    repeated delivery stores nothing, and its record is written on its own."""
    server = env["server"]
    work_order = order()
    first = call(server, server.keys["intake"], "POST", "/v1/desks/a/cases", json=work_order)
    again = call(server, server.keys["intake"], "POST", "/v1/desks/a/cases", json=work_order)
    assert (first.status_code, again.status_code) == (201, 200)
    case_id = first.json()["id"]
    schema = env["schema"]
    with psycopg.connect(os.environ["ZHENSHEN_TEST_PG_URL"]) as conn:
        row = conn.execute(
            f'SELECT xmin::text FROM "{schema}".events WHERE case_id = %s ORDER BY seq LIMIT 1',
            (case_id,),
        ).fetchone()
        records = conn.execute(
            f'SELECT xmin::text, detail FROM "{schema}".audit_log'
            " WHERE case_id = %s AND action = 'receive_case' ORDER BY seq",
            (case_id,),
        ).fetchall()
    assert row is not None
    assert [detail["created"] for _, detail in records] == [True, False]
    assert records[0][0] == row[0], "the case and its receipt record were two transactions"
    assert records[1][0] != row[0]


def test_key_cache_answers_from_memory_until_a_key_changes_in_the_store() -> None:
    """A revocation written by another connection holds for the very next lookup, with no
    pause in between (the notification alone can arrive later than that: the lookup's round
    trip on the listening connection brings it first)."""
    import asyncio

    from zhenshen_server.changes import StoreChanges
    from zhenshen_server.keycache import KeyCache
    from zhenshen_server.keys import create_key, revoke_key
    from zhenshen_server.roles import Role

    from zhenshen_core import PluginConfig, PluginHost
    from zhenshen_core.storage import open_store

    url, schema = new_schema_url()
    host = PluginHost(PluginConfig.from_env())
    store, admin = open_store(url, host), open_store(url, host)
    changes = StoreChanges(url)
    cache = KeyCache(store, changes)

    async def cached(token: str) -> Any:
        for _ in range(50):  # a fill is dropped while the key's own creation is being notified
            if cache.verify(token) is None:
                return None
            if (key := await cache.cached(token)) is not None:
                return key
        raise AssertionError("never answered from memory")

    async def scenario() -> None:
        other, other_token = create_key(admin, name="o", role=Role.DESK)
        assert await cached(other_token) == other
        for _ in range(100):  # the window is narrow: try it many times
            key, token = create_key(admin, name="k", role=Role.DESK)
            assert await cache.cached(token) is None  # never read yet
            assert await cached(token) == key  # from memory now
            assert await cache.cached(token[:-2] + "xx") is None  # the secret checked each time
            revoke_key(admin, key.id)
            assert await cache.cached(token) is None
            assert cache.verify(token) is None
        assert await cached(other_token) == other
        with psycopg.connect(os.environ["ZHENSHEN_TEST_PG_URL"], autocommit=True) as conn:
            conn.execute(f'DELETE FROM "{schema}".records WHERE id = %s', (other.id,))  # by hand
        assert await cache.cached(other_token) is None and cache.verify(other_token) is None
        changes.close()

    try:
        asyncio.run(scenario())
    finally:
        changes.close()
        store.close()
        admin.close()
        drop_schema(schema)


def test_key_cache_is_off_where_the_store_cannot_say_when_keys_change(tmp_path: Any) -> None:
    import asyncio

    from zhenshen_server.keys import create_key
    from zhenshen_server.roles import Role
    from zhenshen_server.settings import Settings
    from zhenshen_server.state import ServiceState

    from zhenshen_core import PluginConfig, PluginHost
    from zhenshen_core.storage import open_store

    url = f"sqlite:///{tmp_path / 'k.db'}"
    store = open_store(url, PluginHost(PluginConfig.from_env()))
    state = ServiceState(Settings(store_url=url))
    try:
        assert state.changes is None  # SQLite announces no changes: nothing kept
        key, token = create_key(store, name="k", role=Role.DESK)
        assert state.keys.verify(token) == key
        assert asyncio.run(state.keys.cached(token)) is None  # every request reads the store
        assert not state.cases.on
    finally:
        state.close()
        store.close()


def _case_reads(server: Any) -> dict[str, float]:
    text = call(server, None, "GET", "/metrics").text
    found = re.findall(r'^zhenshen_case_reads_total\{source="(\w+)"\} ([\d.e+]+)$', text, re.M)
    return {source: float(count) for source, count in found}


def test_a_case_changed_by_anyone_is_never_sent_from_memory_afterwards(
    env: dict[str, Any],
) -> None:
    """A GET may be answered from the worker's memory (``casecache``), yet a change
    committed by another connection (an administrator's SQL here) shows in the very next
    GET, with no pause: the round trip that proves memory current brings the change's
    notification first. Memory does answer in between (the metrics say so), and each
    audience gets its own masking."""
    server, schema = env["server"], env["schema"]
    case_id = call(server, server.keys["desk"], "POST", "/v1/desks/a/cases",
                   json=order()).json()["id"]
    path = f"/v1/desks/a/cases/{case_id}"
    before = _case_reads(server)
    with psycopg.connect(os.environ["ZHENSHEN_TEST_PG_URL"], autocommit=True) as conn:
        for n in range(60):  # the window is narrow: try it many times
            first = call(server, server.keys["desk"], "GET", path).json()
            again = call(server, server.keys["desk"], "GET", path).json()
            assert again == first
            department = call(server, server.keys["department"], "GET", path).json()
            assert department["id"] == case_id
            conn.execute(
                f'UPDATE "{schema}".cases SET doc = jsonb_set(doc, %s, to_jsonb(%s::text))'
                " WHERE id = %s", (["title"], f"改过 {n}", case_id))
            assert call(server, server.keys["desk"], "GET", path).json()["title"] == f"改过 {n}"
            assert call(server, server.keys["department"], "GET", path).json()["title"] == (
                f"改过 {n}")
    after = _case_reads(server)
    assert after["memory"] - before.get("memory", 0) >= 60  # the repeated GETs, at least
    assert after["store"] - before.get("store", 0) >= 120  # every GET after a change


def test_memory_keeps_each_callers_scope(env: dict[str, Any]) -> None:
    """A body kept for one caller is never a way around another's scope: an intake key reads
    only what it submitted, a foreign desk's key gets 404, and a ``pii`` read is whole,
    audited and never kept."""
    server = env["server"]
    case_id = call(server, server.keys["intake"], "POST", "/v1/desks/a/cases",
                   json=order()).json()["id"]
    path = f"/v1/desks/a/cases/{case_id}"
    desk = call(server, server.keys["desk"], "GET", path)
    assert desk.status_code == 200 and "13800002222" not in desk.text
    assert call(server, server.keys["desk"], "GET", path).json() == desk.json()  # memory
    assert call(server, server.keys["intake"], "GET", path).status_code == 200  # submitted
    other_intake = make_key(env["url"], "intake", desks=["a"])[1]
    assert call(server, other_intake, "GET", path).status_code == 404  # not its submission
    assert call(server, server.keys["desk_b"], "GET", f"/v1/desks/b/cases/{case_id}"
                ).status_code == 404
    whole = call(server, server.keys["pii"], "GET", path)
    assert whole.status_code == 200 and "13800002222" in whole.text
    assert "13800002222" not in call(server, server.keys["desk"], "GET", path).text
