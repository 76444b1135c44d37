"""The storage contract suite, unchanged, against the PostgreSQL store."""

from __future__ import annotations

import os

import pytest
from zhenshen_pg_testkit import ENV, SKIP_REASON, FreshSchemaSuite, drop_schema, new_schema_url
from zhenshen_postgres import PostgresStore

from zhenshen_core.storage.protocol import CaseStore
from zhenshen_core.testing.storage_contract import StoreContract, StoreStateMachine

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)


class TestPostgresContract(FreshSchemaSuite, StoreContract):
    """The storage contract, each test on a schema of its own."""


class PostgresMachine(StoreStateMachine):
    def make_store(self) -> CaseStore:
        url, self.schema = new_schema_url()
        return PostgresStore(url)

    def dispose(self) -> None:
        drop_schema(self.schema)


TestPostgresMachine = PostgresMachine.test_case()
