"""Kill a writer with SIGKILL in the middle of batch intake: each case is there whole or not at all.

The child ingests batches of 300 cases (two events each) in a loop; the parent kills it at a
random moment, so the kill lands inside a ``COPY`` most of the time. Whatever was committed must
be complete batches of complete cases; nothing of the interrupted batch may be visible.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from pathlib import Path

import psycopg
import pytest
import zhenshen_pg_testkit as kit
from zhenshen_pg_testkit import ENV, SKIP_REASON
from zhenshen_postgres import PostgresStore
from zhenshen_postgres.store import parse_url

from zhenshen_core.model.lifecycle import Lifecycle

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)

BATCH = 300


def _kill_mid_batch(url: str, ready: Path, delay: float) -> None:
    child = multiprocessing.get_context("spawn").Process(
        target=kit.batch_forever_worker, args=(url, BATCH, str(ready))
    )
    child.start()
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert child.is_alive(), "the writer died on its own"
        assert time.monotonic() < deadline, "the writer never finished a batch"
        time.sleep(0.01)
    time.sleep(delay)
    assert child.pid is not None
    kit.kill(child.pid)
    child.join(10)
    assert child.exitcode == -9


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_writer_leaves_whole_cases_only(
    pg_store: PostgresStore, tmp_path: Path, seed: int
) -> None:
    delay = random.Random(seed).uniform(0.05, 0.6)
    _kill_mid_batch(pg_store.url, tmp_path / "ready", delay)

    parsed = parse_url(pg_store.url)
    with psycopg.connect(parsed.conninfo) as conn:
        conn.execute(f"SET search_path TO {parsed.schema}")
        cases, refs, events, mismatched = conn.execute(
            "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM external_refs),"
            " (SELECT count(*) FROM events),"
            " (SELECT count(*) FROM cases c WHERE c.version <>"
            "  (SELECT count(*) FROM events e WHERE e.case_id = c.id))"
        ).fetchone() or (None, None, None, None)
    assert cases is not None and cases >= BATCH
    assert cases % BATCH == 0, f"{cases} cases stored: a batch was cut in half"
    assert refs == cases and events == 2 * cases and mismatched == 0

    lifecycle = Lifecycle()
    for case in pg_store.query():
        assert case.version == 2
        assert lifecycle.replay(pg_store.events(case.id)) == case
