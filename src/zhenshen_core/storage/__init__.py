"""Storage backends: the protocol and the built-in memory and SQLite stores."""

from zhenshen_core.storage.memory import MemoryStore
from zhenshen_core.storage.protocol import (
    CaseQuery,
    CaseStore,
    DeadLetter,
    DueClock,
    IngestResult,
    Record,
)

__all__ = [
    "CaseQuery",
    "CaseStore",
    "DeadLetter",
    "DueClock",
    "IngestResult",
    "MemoryStore",
    "Record",
]
