"""Internal plugin registering the built-in storage backends, ``memory`` and ``sqlite``.

``trylast`` like every built-in, so plugins' implementations are consulted first. A plugin
claiming ``memory`` or ``sqlite`` as well is refused by the host, naming both; to replace a
built-in backend, block this module (``-p no:stores``) and register both schemes yourself.
"""

from __future__ import annotations

from zhenshen_core.plugins.hookspecs import hookimpl
from zhenshen_core.plugins.records import StorageBackend
from zhenshen_core.storage.memory import MemoryStore
from zhenshen_core.storage.sqlite import SQLiteStore


@hookimpl(trylast=True)
def zhenshen_storage_backends() -> list[StorageBackend]:
    return [
        StorageBackend(
            "memory",
            "in-process dict; nothing persists (tests, notebooks, one-shot runs)",
            MemoryStore.from_url,
        ),
        StorageBackend(
            "sqlite",
            "embedded SQLite file, WAL, migrations (sqlite:///relative.db, sqlite:////abs.db)",
            SQLiteStore.from_url,
        ),
    ]
