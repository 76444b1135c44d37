"""The access-log contract against PostgreSQL, and its append-only triggers."""

from __future__ import annotations

import os

import psycopg
import pytest
from zhenshen_pg_testkit import ENV, SKIP_REASON, FreshSchemaSuite
from zhenshen_postgres import PostgresStore

from zhenshen_core.storage.protocol import CaseStore
from zhenshen_core.testing.audit_contract import AuditContract

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)


class TestPostgresAudit(FreshSchemaSuite, AuditContract):
    def tamper(self, store: CaseStore, record_id: str) -> None:
        assert isinstance(store, PostgresStore)
        with psycopg.connect(os.environ[ENV], autocommit=True) as conn:
            conn.execute(
                psycopg.sql.SQL("SET search_path TO {}").format(
                    psycopg.sql.Identifier(store.schema)
                )
            )
            for statement in (
                "UPDATE audit_log SET actor = 'x' WHERE id = %s",
                "DELETE FROM audit_log WHERE id = %s",
            ):
                with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                    conn.execute(statement, (record_id,))
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute("TRUNCATE audit_log")
