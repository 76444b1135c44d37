"""``zhenshen sweep`` processes killed with SIGKILL mid-sweep: the outbox fault tests of every
store (SQLite here, PostgreSQL in its plugin) share these through the pytest ``pythonpath``.

The processes load ``tests/desk/data/file_notifier.py``, a notifier that appends each notice it
is given to the file ``$ZHENSHEN_TEST_NOTICES``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

NOTIFIER = Path(__file__).parent / "desk" / "data" / "file_notifier.py"


def sweep_process(
    url: str, notices: Path, now: datetime, *, autoload: bool = False
) -> subprocess.Popen[bytes]:
    """A ``zhenshen sweep`` child delivering to ``notices``; ``autoload`` for a store whose URL
    scheme comes from an installed plugin (postgresql://)."""
    env = dict(os.environ, ZHENSHEN_TEST_NOTICES=str(notices))
    if autoload:
        env.pop("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", None)
    else:
        env["ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "zhenshen_core", "--local-plugins", str(NOTIFIER), "sweep",
         "--store", url, "--now", now.isoformat()],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def delivered_keys(path: Path) -> list[str]:
    """The key of every notice delivered so far, in order, repeats kept. A line the killed
    process was writing may be cut short: it was not delivered."""
    if not path.exists():
        return []
    keys = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            keys.append(str(json.loads(line)["key"]))
        except (json.JSONDecodeError, KeyError):
            continue
    return keys


def kill_when_delivered(
    child: subprocess.Popen[bytes], notices: Path, target: int, *, wait: float
) -> bool:
    """SIGKILL ``child`` once about ``target`` notices are delivered; False if it ended first."""
    deadline = time.monotonic() + wait
    while len(delivered_keys(notices)) < target and child.poll() is None:
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.005)
    killed = child.poll() is None
    if killed:
        child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    return killed
