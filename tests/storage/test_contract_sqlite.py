"""The storage contract on the built-in SQLite store (a file per test, WAL on)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from zhenshen_core.storage import CaseStore, SQLiteStore
from zhenshen_core.testing.storage_contract import StoreContract, StoreStateMachine


class TestSQLiteStore(StoreContract):
    def make_store(self, tmp_path: Path) -> CaseStore:
        return SQLiteStore.from_url(f"sqlite:///{tmp_path / 'cases.db'}")


class TestSQLiteInMemory(StoreContract):
    def make_store(self, tmp_path: Path) -> CaseStore:
        return SQLiteStore.from_url("sqlite://:memory:")


class SQLiteMachine(StoreStateMachine):
    def make_store(self) -> CaseStore:
        self.tmp = tempfile.mkdtemp(prefix="zhenshen-sm-")
        return SQLiteStore(Path(self.tmp) / "cases.db")

    def dispose(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


TestSQLiteMachine = SQLiteMachine.test_case()
