"""Internal plugin registering the built-in storage backends, ``memory`` and ``sqlite``.

``trylast`` like every built-in, so plugins' implementations are consulted first. A plugin
claiming ``memory`` or ``sqlite`` as well is refused by the host, naming both; to replace a
built-in backend, block this module (``-p no:stores``) and register both schemes yourself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhenshen_core.plugins.hookspecs import hookimpl
from zhenshen_core.plugins.records import StorageBackend

if TYPE_CHECKING:
    from zhenshen_core.storage.protocol import CaseStore


# The backends are imported when a store is opened: every command builds the plugin host,
# and most (check, eval, test) never open one.
def _memory(url: str) -> CaseStore:
    from zhenshen_core.storage.memory import MemoryStore

    return MemoryStore.from_url(url)


def _sqlite(url: str) -> CaseStore:
    from zhenshen_core.storage.sqlite import SQLiteStore

    return SQLiteStore.from_url(url)


@hookimpl(trylast=True)
def zhenshen_storage_backends() -> list[StorageBackend]:
    return [
        StorageBackend(
            "memory",
            "in-process dict; nothing persists (tests, notebooks, one-shot runs)",
            _memory,
        ),
        StorageBackend(
            "sqlite",
            "embedded SQLite file, WAL, migrations (sqlite:///relative.db, sqlite:////abs.db)",
            _sqlite,
        ),
    ]
