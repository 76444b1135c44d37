"""Issue 15 item 3, under faults: a sweeper killed with SIGKILL loses no notice.

On the old code the sweep saved an alert and called the notifier afterwards, so killing
sweepers mid-sweep left saved alerts whose notifier never ran. Here a real ``zhenshen sweep``
process, with a notifier plugin that appends each notice to a file, is killed (SIGKILL) in the
middle of a sweep over many due clocks, several times; right after each kill every saved alert
already has its notice in the outbox (written in the alert's transaction), and after one more
sweep every saved alert's notice has reached the notifier at least once, under a key unique to
that alert; a notice is delivered twice only when a kill fell between its delivery and the
write that records its batch's outcomes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sweepkit import delivered_keys, kill_when_delivered, sweep_process

from zhenshen_core.desk.outbox import DELIVERY_BATCH
from zhenshen_core.storage import SQLiteStore

from .test_sweep import NOW, fill

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL"),
]

CASES = 300  # three due clocks each: 900 alerts to raise


def _alert_keys(db: Path) -> set[str]:
    """The key of every alert saved: one per stored ``supervise`` event."""
    with SQLiteStore(db) as store:
        return {
            f"{case.id}:{event.seq}:clock_alert:file"
            for case in store.query()
            for event in store.events(case.id)
            if event.type == "supervise"
        }


def test_killed_sweepers_leave_every_saved_alert_with_its_notice(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    with SQLiteStore(db) as store:
        fill(store, CASES)
    url, notices = f"sqlite:///{db}", tmp_path / "notices.jsonl"
    kills = 0
    for target in (60, 300, 600):  # kill when about this many notices have been delivered
        kills += kill_when_delivered(sweep_process(url, notices, NOW), notices, target, wait=60)
        # right after the kill: every saved alert has its notice in the outbox
        with SQLiteStore(db) as store:
            kept = {n.key for n in store.outbox_notices()}
        assert _alert_keys(db) <= kept, "a saved alert lost its notice"
    assert kills >= 2, "the sweeps ended before they could be killed: raise CASES"
    final = sweep_process(url, notices, NOW)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, (out + err).decode()
    expected = _alert_keys(db)
    assert len(expected) == CASES * 3, "each clock raised its one alert"
    delivered = delivered_keys(notices)
    assert set(delivered) == expected, "every saved alert reached the notifier"
    with SQLiteStore(db) as store:
        assert {n.status for n in store.outbox_notices()} == {"delivered"}
    duplicates = len(delivered) - len(set(delivered))
    # delivered twice: at most the batch whose outcomes were not yet recorded at each kill
    assert duplicates <= kills * DELIVERY_BATCH
