"""The outbox and sweep-incident contract against the PostgreSQL store (migration 3)."""

from __future__ import annotations

import os

import pytest
from zhenshen_pg_testkit import ENV, SKIP_REASON, FreshSchemaSuite

from zhenshen_core.testing.reliability_contract import ReliabilityContract

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)


class TestPostgresReliability(FreshSchemaSuite, ReliabilityContract):
    """The outbox and sweep-incident contract, each test on a schema of its own."""
