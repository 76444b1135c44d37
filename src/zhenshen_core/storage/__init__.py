"""Storage backends: the protocol and the built-in memory and SQLite stores."""

from zhenshen_core.storage.audit import AuditRecord
from zhenshen_core.storage.digest import ProjectsDigests
from zhenshen_core.storage.memory import MemoryStore
from zhenshen_core.storage.outbox import OutboxNotice, SweepIncident
from zhenshen_core.storage.protocol import (
    CaseQuery,
    CaseStore,
    ClaimsDueClocks,
    DeadLetter,
    DueClock,
    FindsReceived,
    IngestResult,
    Record,
)
from zhenshen_core.storage.sqlite import SQLiteStore
from zhenshen_core.storage.url import open_store

__all__ = [
    "AuditRecord",
    "CaseQuery",
    "CaseStore",
    "ClaimsDueClocks",
    "DeadLetter",
    "DueClock",
    "FindsReceived",
    "IngestResult",
    "MemoryStore",
    "OutboxNotice",
    "ProjectsDigests",
    "Record",
    "SQLiteStore",
    "SweepIncident",
    "open_store",
]
