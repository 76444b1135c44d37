"""Intake on PostgreSQL: a hostile record is its own dead letter here too, and a dead letter
met again is counted once (migration 2 folds the copies earlier versions kept)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest
from zhenshen_pg_testkit import ENV, SKIP_REASON
from zhenshen_postgres import PostgresStore
from zhenshen_postgres.store import parse_url

from zhenshen_core.intake import ingest_source
from zhenshen_core.plugins import PluginConfig, PluginHost

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)

WHEN = "2026-03-02T10:00:00+08:00"


def test_hostile_records_are_dead_letters_and_counted_once(
    pg_store: PostgresStore, tmp_path: Path
) -> None:
    good = [json.dumps({"external_id": f"OK{n}", "received_at": WHEN}) for n in range(3)]
    hostile = [
        f'{{"external_id": "B1", "received_at": "{WHEN}", "facts": {{"s": "\\ud800"}}}}',
        f'{{"external_id": "B2", "received_at": "{WHEN}", "facts": {{"n": {"9" * 4400}}}}}',
        f'{{"external_id": "B3", "received_at": "{WHEN}", "title": "a\\u0000b"}}',
        f'{{"external_id": "B4", "received_at": "{WHEN}", "facts": {{"n": NaN}}}}',
        '{"external_id": "B5", "received_at": "13912345678"}',
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([good[0], *hostile, good[1], "not json", good[2]]) + "\n")
    host = PluginHost(PluginConfig(autoload=False))
    for _ in range(3):
        summary = ingest_source(str(source), channel="jsonl", store=pg_store, host=host)
        assert [r.line for r in summary.rejected] == [2, 3, 4, 5, 6, 8]
    assert pg_store.count() == 3
    letters = pg_store.dead_letters()
    assert [(d.line, d.seen) for d in letters] == [(n, 3) for n in (2, 3, 4, 5, 6, 8)]
    assert all(d.last_seen is not None and d.at < d.last_seen for d in letters)
    assert pg_store.dead_letter(letters[0].key) == letters[0]


def test_migration_2_folds_the_copies_of_one_record(schema_url: str) -> None:
    PostgresStore(schema_url).close()
    parsed = parse_url(schema_url)
    with psycopg.connect(parsed.conninfo, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {parsed.schema}")
        conn.execute("DROP INDEX dead_letters_key_idx")
        conn.execute(
            "ALTER TABLE dead_letters DROP COLUMN key, DROP COLUMN seen, DROP COLUMN last_seen"
        )
        conn.execute("DELETE FROM schema_migrations WHERE version = 2")
        for hour, line, reason in [(10, 2, "a"), (10, 3, "b"), (11, 2, "a2"), (12, 2, "a3")]:
            doc = {
                "channel": "jsonl",
                "source": "in.jsonl",
                "line": line,
                "raw": "bad\u0000" if line == 2 else "{}",
                "reason": reason,
                "at": f"2026-03-02T{hour}:00:00+08:00",
            }
            conn.execute(
                "INSERT INTO dead_letters (channel, at, doc) VALUES (%s, %s, %s)",
                ("jsonl", doc["at"], json.dumps(doc)),
            )
    migrated = PostgresStore(schema_url)
    try:
        letters = migrated.dead_letters()
        assert [(d.line, d.seen, d.reason, d.at.hour) for d in letters] == [
            (2, 3, "a3", 10),
            (3, 1, "b", 10),
        ]
        assert letters[0].last_seen is not None and letters[0].last_seen.hour == 12
        assert letters[1].last_seen is None
    finally:
        migrated.close()
