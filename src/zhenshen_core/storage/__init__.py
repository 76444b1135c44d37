"""Storage backends: the protocol and the built-in memory and SQLite stores."""

from zhenshen_core.storage.audit import AuditRecord
from zhenshen_core.storage.memory import MemoryStore
from zhenshen_core.storage.protocol import (
    CaseQuery,
    CaseStore,
    DeadLetter,
    DueClock,
    IngestResult,
    Record,
)
from zhenshen_core.storage.sqlite import SQLiteStore
from zhenshen_core.storage.url import open_store

__all__ = [
    "AuditRecord",
    "CaseQuery",
    "CaseStore",
    "DeadLetter",
    "DueClock",
    "IngestResult",
    "MemoryStore",
    "Record",
    "SQLiteStore",
    "open_store",
]
