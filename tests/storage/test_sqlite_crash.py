"""Kill a process in the middle of batch ingests; the database must stay consistent.

A child process ingests batches of multi-event cases in a loop; the parent SIGKILLs it after a
random delay, then reopens the file and checks that every case is either fully stored (row,
complete history, external ref, clock and department rows all agreeing) or absent, that batches
were all-or-nothing, and that SQLite's own integrity check passes.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from zhenshen_core.model.lifecycle import Lifecycle
from zhenshen_core.storage import SQLiteStore
from zhenshen_core.testing.storage_contract import fire, make_case, received

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

BATCH = 40

CHILD = """
import sys
from datetime import timedelta
from zhenshen_core.storage import SQLiteStore
from zhenshen_core.testing.storage_contract import BASE_TIME, fire, make_case, make_clock, received

store = SQLiteStore(sys.argv[1])
batch = int(sys.argv[2])
print("ready", flush=True)
n = 0
while True:
    items = []
    for _ in range(batch):
        case, events = received(make_case(n))
        case, e2 = fire(case, "accept")
        clock = make_clock(
            "opinion",
            due_at=BASE_TIME + timedelta(days=15),
            next_alert_at=BASE_TIME + timedelta(days=n % 10),
        )
        case, e3 = fire(case, "clock_update", {"clock": clock.model_dump(mode="json")})
        items.append((case, [*events, e2, e3]))
        n += 1
    store.ingest_many(items)
    print("committed", n, flush=True)
"""


def _run_and_kill(db: Path, script: Path, delay: float) -> int:
    child = subprocess.Popen(
        [sys.executable, str(script), str(db), str(BATCH)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(delay)
    assert child.poll() is None, "the child stopped before it was killed"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    committed = [int(line.split()[1]) for line in child.stdout if line.startswith("committed")]
    child.stdout.close()
    return committed[-1] if committed else 0


def _check_consistent(db: Path, acknowledged: int) -> int:
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        for table in ("events", "external_refs", "clocks", "case_departments"):
            orphans = raw.execute(
                f"SELECT COUNT(*) FROM {table} WHERE case_id NOT IN (SELECT id FROM cases)"
            ).fetchone()[0]
            assert orphans == 0, f"{orphans} {table} rows without their case"
    finally:
        raw.close()

    lifecycle = Lifecycle()
    with SQLiteStore(db) as store:
        stored = store.count()
        assert stored % BATCH == 0, f"{stored} cases: a batch was stored in part"
        assert stored >= acknowledged, "a batch acknowledged as committed was lost"
        expected_ids = {make_case(n).id for n in range(stored)}
        assert {c.id for c in store.query()} == expected_ids, "batches must commit in order"
        for case in store.query():
            events = store.events(case.id)
            assert [e.seq for e in events] == list(range(1, case.version + 1))
            assert case.version == 3
            assert lifecycle.replay(events) == case
            assert store.find_external(case.channel, case.external_id or "") == case
            assert set(case.clocks) == {"opinion"}
        due = store.due_clocks(make_case(0).received_at + timedelta(days=30), limit=10**6)
        assert len(due) == stored
    return stored


@pytest.mark.slow
def test_killed_batch_ingest_leaves_every_case_whole_or_absent(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    rng = random.Random(12345)
    seen = []
    for round_no in range(4):
        db = tmp_path / f"crash-{round_no}.db"
        SQLiteStore(db).close()  # schema in place, so the child's time goes to ingesting
        acknowledged = _run_and_kill(db, script, rng.uniform(0.3, 1.2))
        seen.append(_check_consistent(db, acknowledged))
    assert any(n > 0 for n in seen), f"no batch committed before the kill: {seen}"
    print("cases stored per round:", seen)


def test_crash_checker_detects_a_torn_case(tmp_path: Path) -> None:
    """The checker itself must be able to fail: remove one event behind the store's back."""
    db = tmp_path / "torn.db"
    with SQLiteStore(db) as store:
        items = []
        for n in range(BATCH):
            case, events = received(make_case(n))
            case, e2 = fire(case, "accept")
            case, e3 = fire(case, "note", {"text": "x"})
            items.append((case, [*events, e2, e3]))
        store.ingest_many(items)
    raw = sqlite3.connect(db)
    raw.execute("DROP TRIGGER events_append_only_delete")
    raw.execute("DELETE FROM events WHERE seq = 3 AND case_id = ?", (make_case(5).id,))
    raw.commit()
    raw.close()
    with pytest.raises(AssertionError):
        _check_consistent(db, 0)
