"""A notifier plugin for the outbox tests: appends every notice it receives to a file.

Loaded with ``--local-plugins`` by the processes the fault tests start. The file is
``$ZHENSHEN_TEST_NOTICES``; while ``$ZHENSHEN_TEST_NOTICES_DOWN`` names a file that exists,
every delivery fails (a gateway that is down).
"""

from __future__ import annotations

import json
import os

from zhenshen_core import hookimpl
from zhenshen_core.plugins import Notification, Notifier


def append(n: Notification) -> None:
    down = os.environ.get("ZHENSHEN_TEST_NOTICES_DOWN")
    if down and os.path.exists(down):
        raise ConnectionError("gateway unreachable")
    line = {"key": n.key, "case": n.case.id, "kind": n.kind, "attempt": n.attempt}
    line.update(n.detail)
    with open(os.environ["ZHENSHEN_TEST_NOTICES"], "a", encoding="utf-8") as f:
        f.write(json.dumps(line, ensure_ascii=False) + "\n")


@hookimpl
def zhenshen_notifiers() -> list[Notifier]:
    return [Notifier("file", "appends each notice to $ZHENSHEN_TEST_NOTICES", append)]
