"""Issue 15 item 3, under faults: a sweeper killed with SIGKILL loses no notice.

On the old code the sweep saved an alert and called the notifier afterwards, so killing
sweepers mid-sweep left saved alerts whose notifier never ran. Here a real ``zhenshen sweep``
process, with a notifier plugin that appends each notice to a file, is killed (SIGKILL) in the
middle of a sweep over many due clocks, several times; right after each kill every saved alert
already has its notice in the outbox (written in the alert's transaction), and after one more
sweep every saved alert's notice has reached the notifier at least once, under a key unique to
that alert.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zhenshen_core.storage import SQLiteStore

from .test_sweep import NOW, fill

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL"),
]

NOTIFIER = Path(__file__).parent / "data" / "file_notifier.py"
CASES = 300  # three due clocks each: 900 alerts to raise


def _sweep(url: str, notices: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD="1", ZHENSHEN_TEST_NOTICES=str(notices))
    return subprocess.Popen(
        [sys.executable, "-m", "zhenshen_core", "--local-plugins", str(NOTIFIER), "sweep",
         "--store", url, "--now", NOW.isoformat()],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    # a line the killed process was writing may be cut short: it was not delivered
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


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
        child = _sweep(url, notices)
        deadline = time.monotonic() + 60
        while len(_lines(notices)) < target and child.poll() is None:
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.005)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=30)
        # right after the kill: every saved alert has its notice in the outbox
        with SQLiteStore(db) as store:
            kept = {n.key for n in store.outbox_notices()}
        assert _alert_keys(db) <= kept, "a saved alert lost its notice"
    assert kills >= 2, "the sweeps ended before they could be killed: raise CASES"
    final = _sweep(url, notices)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, (out + err).decode()
    expected = _alert_keys(db)
    assert len(expected) == CASES * 3, "each clock raised its one alert"
    delivered = [str(line["key"]) for line in _lines(notices)]
    assert set(delivered) == expected, "every saved alert reached the notifier"
    with SQLiteStore(db) as store:
        assert {n.status for n in store.outbox_notices()} == {"delivered"}
    duplicates = len(delivered) - len(set(delivered))
    assert duplicates <= kills, "at most the notice in flight at each kill is delivered twice"
