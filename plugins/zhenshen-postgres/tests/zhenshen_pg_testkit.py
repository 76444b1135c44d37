"""Helpers shared by the PostgreSQL tests and their worker processes.

Worker functions live here, not in the test modules, because the concurrency tests start them
with the ``spawn`` method (a forked child would share the parent's libpq socket) and a spawned
child imports them by module name.
"""

from __future__ import annotations

import itertools
import os
import secrets
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from zhenshen_core.errors import ConcurrencyError
from zhenshen_core.storage.protocol import CaseStore
from zhenshen_core.testing.storage_contract import BASE_TIME, fire, make_case, received

ENV = "ZHENSHEN_TEST_PG_URL"
SKIP_REASON = (
    f"{ENV} is not set; PostgreSQL tests need a server, "
    "e.g. postgresql://postgres@127.0.0.1:5432/test"
)


def base_url() -> str:
    url = os.environ.get(ENV, "")
    if not url:
        pytest.skip(SKIP_REASON)
    return url


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def new_schema_url() -> tuple[str, str]:
    schema = "zs_test_" + secrets.token_hex(6)
    return with_schema(base_url(), schema), schema


def drop_schema(schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(base_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


class FreshSchemaSuite:
    """Mixin for a contract suite run on PostgreSQL: every test opens its stores on a schema of
    its own (the ``schema_url`` fixture of conftest.py), so tests never see each other's rows.

    List it before the contract class so its :meth:`make_store` is the one used.
    """

    url: str

    @pytest.fixture(autouse=True)
    def _fresh_schema(self, schema_url: str) -> None:
        self.url = schema_url

    def make_store(self, tmp_path: Path) -> CaseStore:
        from zhenshen_postgres import PostgresStore  # not at import: spawned workers skip it

        return PostgresStore(self.url)


# --- worker processes (run with the spawn start method) ------------------------------------------


def _wait(start_at: float) -> None:
    """Sleep until a shared wall-clock instant, so workers hit the database together."""
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)


def stale_update_worker(url: str, case_id: str, tag: str, start_at: float) -> str:
    """Build a note on version 1 of the case, wait for the others, then save it.

    Version 1 is rebuilt from the history, not read as the current state, so a worker scheduled
    late still competes for the same version instead of politely saving on top of the winner.
    """
    from zhenshen_postgres import PostgresStore

    from zhenshen_core.model.lifecycle import Lifecycle

    with PostgresStore(url, migrate=False) as store:
        case = Lifecycle().replay(store.events(case_id)[:1])
        new, event = fire(case, "note", {"text": tag})
        _wait(start_at)
        try:
            store.save(new, [event], expected_version=case.version)
        except ConcurrencyError:
            return "conflict"
        return "saved"


def increment_worker(url: str, case_id: str, tag: str, rounds: int) -> int:
    """Add ``rounds`` notes, reloading and retrying on every conflict; returns the retries."""
    from zhenshen_postgres import PostgresStore

    retries = 0
    with PostgresStore(url, migrate=False) as store:
        for n in range(rounds):
            while True:
                case = store.get(case_id)
                new, event = fire(case, "note", {"text": f"{tag}-{n}"})
                try:
                    store.save(new, [event], expected_version=case.version)
                    break
                except ConcurrencyError:
                    retries += 1
    return retries


def ingest_worker(url: str, n: int, start_at: float, title: str) -> tuple[str, bool]:
    from zhenshen_postgres import PostgresStore

    with PostgresStore(url, migrate=False) as store:
        case, events = received(make_case(n, title=title))
        _wait(start_at)
        result = store.ingest(case, events)
        return result.case_id, result.created


def ingest_batch_worker(url: str, ns: list[int], start_at: float) -> list[tuple[str, bool]]:
    from zhenshen_postgres import PostgresStore

    with PostgresStore(url, migrate=False) as store:
        items = [received(make_case(n)) for n in ns]
        _wait(start_at)
        return [(r.case_id, r.created) for r in store.ingest_many(items)]


def migrate_worker(url: str, start_at: float) -> list[int]:
    import psycopg
    from zhenshen_postgres import migrate
    from zhenshen_postgres.store import parse_url

    parsed = parse_url(url)
    with psycopg.connect(parsed.conninfo, autocommit=True) as conn:
        _wait(start_at)
        return migrate(conn, parsed.schema)


def open_store_worker(url: str, start_at: float) -> int:
    from zhenshen_postgres import PostgresStore

    _wait(start_at)
    with PostgresStore(url) as store:
        return store.schema_version()


def sweep_worker(url: str, node: str, now_iso: str, batch: int, start_at: float) -> list[str]:
    """Claim due clocks until none are left; returns ``case_id/clock`` of everything claimed."""
    from datetime import datetime

    from zhenshen_postgres import PostgresStore

    now = datetime.fromisoformat(now_iso)
    claimed: list[str] = []
    with PostgresStore(url, migrate=False) as store:
        _wait(start_at)
        while True:
            got = store.claim_due_clocks(now, node=node, limit=batch, lease=timedelta(hours=1))
            if not got:
                return claimed
            claimed.extend(f"{d.case_id}/{d.clock}" for d in got)
            time.sleep(0.01)  # handling a batch takes time; without it one node may take all


def desk_sweep_worker(
    url: str, node: str, now_iso: str, batch: int, start_at: float
) -> list[tuple[str, str, str]]:
    """Sweep with a whole ``Desk`` (claims, alerts, saves) until no clock is left due; returns
    ``(case_id, clock, kind)`` of every alert this node raised."""
    from datetime import datetime

    from zhenshen_postgres import PostgresStore

    from zhenshen_core.desk import Desk, DeskSettings

    now = datetime.fromisoformat(now_iso)
    raised: list[tuple[str, str, str]] = []
    with PostgresStore(url, migrate=False) as store:
        desk = Desk(store, settings=DeskSettings(node=node))
        _wait(start_at)
        while True:
            result = desk.sweep(now, limit=batch)
            raised.extend((a.case_id, a.clock, a.kind) for a in result.alerts)
            if result.clocks == 0:
                return raised


def batch_forever_worker(url: str, batch: int, progress_path: str) -> None:
    """Ingest batches of ``batch`` cases until killed, logging ``start K`` / ``done K`` lines.

    Each batch is built before its ``start`` line, so between ``start K`` and ``done K`` the
    process is inside ``ingest_many`` and nowhere else.
    """
    from zhenshen_postgres import PostgresStore

    with PostgresStore(url, migrate=False) as store, open(progress_path, "a") as log:
        for k in itertools.count():
            items = []
            for n in range(k * batch, (k + 1) * batch):
                case, events = received(make_case(n))
                case, event = fire(case, "accept")
                items.append((case, [*events, event]))
            log.write(f"start {k}\n")
            log.flush()
            store.ingest_many(items)
            log.write(f"done {k}\n")
            log.flush()


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def note_time(minutes: int) -> Any:
    return BASE_TIME + timedelta(minutes=minutes)
