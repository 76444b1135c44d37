"""A workbook into PostgreSQL: the good rows stored, the rejected ones dead letters at their
cell, a refused workbook storing nothing (the same as SQLite, on the production store)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from xlsx_workbooks import cli, workbook

ENV = "ZHENSHEN_TEST_PG_URL"
pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    base = os.environ.get(ENV, "")
    if not base:
        pytest.skip(f"{ENV} is not set; PostgreSQL tests need a server")
    schema = "zs_xlsx_" + secrets.token_hex(6)
    yield f"{base}{'&' if '?' in base else '?'}schema={schema}"
    import psycopg
    from psycopg import sql

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_a_workbook_into_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    run = cli(monkeypatch, tmp_path)
    rows = [
        ["GD001", "2026-03-04 09:05", "投诉", "t", "c", None, "13800001234", "否"],
        ["GD002", "明天", "咨询", "t", "c", None, None, None],
    ]
    workbook(tmp_path / "台账.xlsx", rows)
    (tmp_path / "bad.xlsx").write_bytes(b"not a workbook")
    argv = ["-p", "zhenshen_postgres.plugin"]
    result = run(*argv, "ingest", "xlsx", "台账.xlsx", "--store", pg_url)
    assert result.exit_code == 1, result.output
    refused = run(*argv, "ingest", "xlsx", "bad.xlsx", "--store", pg_url)
    assert refused.exit_code == 3
    from zhenshen_postgres import PostgresStore

    store = PostgresStore(pg_url)
    try:
        assert [c.external_id for c in store.query()] == ["GD001"]
        (letter,) = store.dead_letters()
        assert (letter.source, letter.line) == ("台账.xlsx!台账!B5", 5)
    finally:
        store.close()
