"""Kill a writer with SIGKILL in the middle of batch intake: each case is there whole or not at all.

The child ingests batches of 300 cases (two events each) in a loop and logs ``start K`` before
and ``done K`` after each ``ingest_many``; the parent waits until the child is inside a batch,
sleeps a random moment shorter than a batch and kills it, so the kill lands inside the
transaction (most often inside a ``COPY``). Whatever was committed must be whole batches of whole
cases, and the interrupted batch must be there entirely or not at all.
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

# Writer processes killed mid-transaction.
pytestmark = pytest.mark.slow

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)

BATCH = 300


def _kill_mid_batch(url: str, progress: Path, delay: float) -> tuple[str, int]:
    """Start the writer, wait until it is inside its second or a later batch, sleep ``delay``,
    SIGKILL it; returns the last progress line as (``start`` | ``done``, batch number)."""
    child = multiprocessing.get_context("spawn").Process(
        target=kit.batch_forever_worker, args=(url, BATCH, str(progress))
    )
    child.start()
    deadline = time.monotonic() + 60
    while not _last(progress) or _last(progress)[0] != "start" or _last(progress)[1] < 1:
        assert child.is_alive(), "the writer died on its own"
        assert time.monotonic() < deadline, "the writer never got going"
        time.sleep(0.002)
    time.sleep(delay)
    assert child.pid is not None
    kit.kill(child.pid)
    child.join(10)
    assert child.exitcode == -9
    return _last(progress)


def _last(progress: Path) -> tuple[str, int]:
    lines = progress.read_text().split() if progress.exists() else []
    return (lines[-2], int(lines[-1])) if len(lines) >= 2 else ("", -1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_writer_leaves_whole_cases_only(
    pg_store: PostgresStore, tmp_path: Path, seed: int
) -> None:
    # A batch of 300 takes roughly 0.1-0.3 s here: most kills land inside ingest_many.
    delay = random.Random(seed).uniform(0.0, 0.1)
    state, k = _kill_mid_batch(pg_store.url, tmp_path / "progress", delay)

    parsed = parse_url(pg_store.url)
    with psycopg.connect(parsed.conninfo) as conn:
        conn.execute(f"SET search_path TO {parsed.schema}")
        cases, refs, events, mismatched = conn.execute(
            "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM external_refs),"
            " (SELECT count(*) FROM events),"
            " (SELECT count(*) FROM cases c WHERE c.version <>"
            "  (SELECT count(*) FROM events e WHERE e.case_id = c.id))"
        ).fetchone() or (None, None, None, None)
    # Killed inside batch k: it committed whole (the kill came after COMMIT returned) or not at
    # all. Killed after "done k": exactly k + 1 batches.
    allowed = {k * BATCH, (k + 1) * BATCH} if state == "start" else {(k + 1) * BATCH}
    assert cases in allowed, f"{cases} cases after a kill at {state} {k}: a batch was cut"
    assert refs == cases and events == 2 * cases and mismatched == 0

    lifecycle = Lifecycle()
    for case in pg_store.query():
        assert case.version == 2
        assert lifecycle.replay(pg_store.events(case.id)) == case
