"""The outbox and sweep-incident contract against the PostgreSQL store (migration 3)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from zhenshen_pg_testkit import ENV, SKIP_REASON
from zhenshen_postgres import PostgresStore

from zhenshen_core.storage.protocol import CaseStore
from zhenshen_core.testing.reliability_contract import ReliabilityContract

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)


class TestPostgresReliability(ReliabilityContract):
    @pytest.fixture(autouse=True)
    def _fresh_schema(self, schema_url: str) -> Iterator[None]:
        self.url = schema_url
        yield

    def make_store(self, tmp_path: Path) -> CaseStore:
        return PostgresStore(self.url)
