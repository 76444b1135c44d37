"""The storage contract on the built-in ``memory://`` store."""

from __future__ import annotations

from pathlib import Path

from zhenshen_core.storage import CaseStore, MemoryStore
from zhenshen_core.testing.storage_contract import StoreContract, StoreStateMachine


class TestMemoryStore(StoreContract):
    def make_store(self, tmp_path: Path) -> CaseStore:
        return MemoryStore()


class MemoryMachine(StoreStateMachine):
    def make_store(self) -> CaseStore:
        return MemoryStore()


TestMemoryMachine = MemoryMachine.test_case()
