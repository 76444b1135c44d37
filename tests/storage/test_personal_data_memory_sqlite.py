"""The personal-data contract on the memory store and the SQLite store (file and in memory).

For SQLite, the stored text is every byte of the database's files (the database, its WAL):
what a copy of the directory would give away.
"""

from __future__ import annotations

import json
from pathlib import Path

from zhenshen_core.privacy.keys import MasterKey
from zhenshen_core.storage import CaseStore, MemoryStore, SQLiteStore
from zhenshen_core.testing.personal_data_contract import PersonalDataContract


class TestMemoryPersonalData(PersonalDataContract):
    def make_store(self, tmp_path: Path) -> CaseStore:
        return MemoryStore()

    def stored_text(self, store: CaseStore) -> str:
        assert isinstance(store, MemoryStore)
        state = vars(store._state)  # what the process holds: every document it keeps
        return json.dumps({k: repr(v) for k, v in state.items()}, ensure_ascii=False)


class TestSQLitePersonalData(PersonalDataContract):
    def make_store(self, tmp_path: Path) -> CaseStore:
        return SQLiteStore.from_url(f"sqlite:///{tmp_path / 'cases.db'}")

    def stored_text(self, store: CaseStore) -> str:
        assert isinstance(store, SQLiteStore)
        folder = Path(store.path).parent
        files = sorted(folder.glob(Path(store.path).name + "*"))
        assert files
        return "".join(f.read_bytes().decode("utf-8", "replace") for f in files)

    def reopen(self, store: CaseStore, tmp_path: Path, key: MasterKey) -> CaseStore:
        assert isinstance(store, SQLiteStore)
        return SQLiteStore(store.path, pii_key=key)
