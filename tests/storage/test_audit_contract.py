"""The access-log contract on the built-in memory and SQLite stores, and SQLite's triggers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from zhenshen_core.storage import CaseStore, MemoryStore, SQLiteStore
from zhenshen_core.testing.audit_contract import AuditContract, make_audit_record


class TestMemoryAudit(AuditContract):
    def make_store(self, tmp_path: Path) -> CaseStore:
        return MemoryStore()


class TestSQLiteAudit(AuditContract):
    def make_store(self, tmp_path: Path) -> CaseStore:
        return SQLiteStore.from_url(f"sqlite:///{tmp_path / 'cases.db'}")

    def tamper(self, store: CaseStore, record_id: str) -> None:
        assert isinstance(store, SQLiteStore)
        conn = sqlite3.connect(store.path)
        try:
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute("UPDATE audit_log SET actor = 'x' WHERE id = ?", (record_id,))
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute("DELETE FROM audit_log WHERE id = ?", (record_id,))
        finally:
            conn.close()


class TestSQLiteInMemoryAudit(AuditContract):
    def make_store(self, tmp_path: Path) -> CaseStore:
        return SQLiteStore.from_url("sqlite://:memory:")


def test_a_read_only_store_reads_the_log_and_refuses_to_write_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    with SQLiteStore.from_url(url) as store:
        store.record_audit(make_audit_record(1))
    with SQLiteStore.from_url(url + "?mode=ro") as store:
        assert [r.id for r in store.audit()] == ["AU-000001"]
        with pytest.raises(Exception, match="read-only"):
            store.record_audit(make_audit_record(2))


def test_a_database_from_before_the_log_is_migrated(tmp_path: Path) -> None:
    """A file at schema 4 (before the access log) gains it on open, cases intact."""
    from zhenshen_core.storage import sqlite as sqlite_module
    from zhenshen_core.testing.storage_contract import make_case, received

    path = tmp_path / "old.db"
    old = tuple(m for m in sqlite_module.MIGRATIONS if m.version <= 4)
    original = sqlite_module.MIGRATIONS
    sqlite_module.MIGRATIONS = old
    try:
        with SQLiteStore(path) as store:
            case, events = received(make_case(1))
            store.ingest(case, events)
    finally:
        sqlite_module.MIGRATIONS = original
    with SQLiteStore(path) as store:
        assert store.schema_version() == sqlite_module.SCHEMA_VERSION
        store.record_audit(make_audit_record(1, case_id=case.id))
        assert store.audit(case_id=case.id)[0].id == "AU-000001"
        assert store.get(case.id) == case
