"""One store object shared by threads (a web worker's request threads): a thread waiting on the
database does not hold up the others, and at most ``pool_size`` connections are open.

Before the store lent connections from a small pool, one connection and a lock served every
thread in turn, so a request waiting for a commit (or for a row lock) made every other request
of the worker wait behind it.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from zhenshen_pg_testkit import base_url
from zhenshen_postgres import PostgresStore

from zhenshen_core.testing.storage_contract import fire, make_case, received


def _stored(store: PostgresStore, n: int) -> str:
    case, events = received(make_case(n))
    return store.ingest(case, events).case_id


def test_a_thread_blocked_in_the_database_does_not_hold_up_another(
    pg_store: PostgresStore, schema_url: str
) -> None:
    locked_id, other_id = _stored(pg_store, 1), _stored(pg_store, 2)
    locked = pg_store.get(locked_id)
    accepted, event = fire(locked, "accept")
    schema = schema_url.rsplit("schema=", 1)[1]
    holder = psycopg.connect(base_url())
    try:
        holder.execute(f'SELECT 1 FROM "{schema}".cases WHERE id = %s FOR UPDATE', (locked_id,))
        saved = threading.Event()
        writer = threading.Thread(
            target=lambda: (
                pg_store.save(accepted, [event], expected_version=locked.version),
                saved.set(),
            )
        )
        writer.start()
        time.sleep(0.3)  # the writer is now waiting on the row lock, inside its transaction
        assert not saved.is_set()
        start = time.monotonic()
        assert pg_store.get(other_id).id == other_id
        assert time.monotonic() - start < 1.0, "a read waited for another thread's write"
    finally:
        holder.rollback()
        holder.close()
    writer.join(10)
    assert saved.is_set()
    assert pg_store.get(locked_id).version == accepted.version


def test_no_more_connections_than_the_pool_size(schema_url: str) -> None:
    store = PostgresStore(schema_url, pool_size=2)
    try:
        ids = [_stored(store, n) for n in range(4)]
        threads = [
            threading.Thread(target=lambda: [store.get(i) for i in ids * 10]) for _ in range(6)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(store._idle) <= 2
    finally:
        store.close()
    assert store._idle == []


def test_pool_size_must_be_positive(schema_url: str) -> None:
    with pytest.raises(ValueError, match="pool_size"):
        PostgresStore(schema_url, pool_size=0)
