"""A dead letter is counted once: ingesting the same file again (2 bad records, 3 runs) keeps
2 dead letters, seen 3 times each, not 6; its key names it for a later retry."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from zhenshen_core.intake import ingest_source
from zhenshen_core.plugins import PluginConfig, PluginHost
from zhenshen_core.storage import SQLiteStore
from zhenshen_core.storage.protocol import CaseStore

GOOD = json.dumps({"external_id": "A", "received_at": "2026-03-02T10:00:00+08:00"})


def test_re_running_the_same_file_counts_its_dead_letters_once(
    tmp_path: Path, store: CaseStore
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([GOOD, "not json", "{}"]) + "\n")
    host = PluginHost(PluginConfig(autoload=False))

    for _ in range(3):
        summary = ingest_source(str(source), channel="jsonl", store=store, host=host)
        assert [r.line for r in summary.rejected] == [2, 3]  # each run reports what it met

    letters = store.dead_letters()
    assert [(d.line, d.seen) for d in letters] == [(2, 3), (3, 3)]
    assert all(d.last_seen is not None and d.last_seen >= d.at for d in letters)
    assert store.dead_letter(letters[0].key) == letters[0]
    # the file changed: the record now on line 2 is another one, with a letter of its own
    source.write_text("\n".join([GOOD, "still not json", "{}"]) + "\n")
    ingest_source(str(source), channel="jsonl", store=store, host=host)
    assert [(d.line, d.raw, d.seen) for d in store.dead_letters()] == [
        (2, "not json", 3),
        (3, "{}", 4),
        (2, "still not json", 1),
    ]


def test_migration_3_folds_the_copies_earlier_versions_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    SQLiteStore(path).close()
    raw = sqlite3.connect(path)  # back to a version-2 file: one row per time a record was met
    raw.execute("DROP INDEX dead_letters_key")
    for column in ("key", "seen", "last_seen"):
        raw.execute(f"ALTER TABLE dead_letters DROP COLUMN {column}")
    raw.execute("DELETE FROM schema_migrations WHERE version = 3")
    rows = [
        ("jsonl", "in.jsonl", 2, "not json", "malformed", "2026-03-02T10:00:00+08:00"),
        ("jsonl", "in.jsonl", 3, "{}", "no received_at", "2026-03-02T10:00:00+08:00"),
        ("jsonl", "in.jsonl", 2, "not json", "malformed", "2026-03-02T11:00:00+08:00"),
        ("jsonl", "in.jsonl", 3, "{}", "no received_at", "2026-03-02T11:00:00+08:00"),
        ("jsonl", "in.jsonl", 2, "not json", "malformed again", "2026-03-02T12:00:00+08:00"),
    ]
    raw.executemany(
        "INSERT INTO dead_letters (channel, source, line, raw, reason, at) VALUES (?,?,?,?,?,?)",
        rows,
    )
    raw.commit()
    raw.close()
    store = SQLiteStore(path)
    letters = store.dead_letters()
    assert [(d.line, d.seen, d.reason) for d in letters] == [
        (2, 3, "malformed again"),
        (3, 2, "no received_at"),
    ]
    assert letters[0].at.hour == 10 and letters[0].last_seen is not None
    assert letters[0].last_seen.hour == 12
    store.add_dead_letter(letters[1].model_copy(update={"seen": 1, "last_seen": None}))
    assert store.dead_letters()[1].seen == 3
    store.close()
