"""The outbox and sweep-incident contract on the memory store and SQLite (file and memory)."""

from __future__ import annotations

from pathlib import Path

from zhenshen_core.storage import CaseStore, MemoryStore, SQLiteStore
from zhenshen_core.testing.reliability_contract import ReliabilityContract


class TestMemoryReliability(ReliabilityContract):
    def make_store(self, tmp_path: Path) -> CaseStore:
        return MemoryStore()


class TestSQLiteReliability(ReliabilityContract):
    def make_store(self, tmp_path: Path) -> CaseStore:
        return SQLiteStore.from_url(f"sqlite:///{tmp_path / 'cases.db'}")


class TestSQLiteInMemoryReliability(ReliabilityContract):
    def make_store(self, tmp_path: Path) -> CaseStore:
        return SQLiteStore.from_url("sqlite://:memory:")
