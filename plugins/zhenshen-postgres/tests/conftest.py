"""Fixtures for the PostgreSQL tests: every test gets a schema of its own, dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from zhenshen_pg_testkit import drop_schema, new_schema_url
from zhenshen_postgres import PostgresStore


@pytest.fixture
def schema_url() -> Iterator[str]:
    """A URL naming a fresh, random schema; the schema is dropped when the test ends."""
    url, schema = new_schema_url()
    try:
        yield url
    finally:
        drop_schema(schema)


@pytest.fixture
def pg_store(schema_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(schema_url)
    try:
        yield store
    finally:
        store.close()
