"""The SQLite store's personal-data tables (migration 6): wrapped data keys and the blind index.

The store calls these inside its own transactions; what is sealed and how is
:mod:`zhenshen_core.storage.crypto`'s. Kept apart from ``sqlite.py`` so that the encryption of
one backend reads in one place.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from zhenshen_core.privacy.keys import MasterKey
from zhenshen_core.storage.crypto import ERASED, INDEX_OWNER, SEALED, Vault

__all__ = [
    "MIGRATION_6",
    "drop_owner",
    "index_key",
    "owners_of",
    "rewrap_all",
    "store_key",
    "wrapped_key",
    "write_index",
]

MIGRATION_6: tuple[str, ...] = (
    # owner: a case id, a dead letter's key, or *index* (the blind-index key)
    """CREATE TABLE pii_keys (
        owner TEXT PRIMARY KEY,
        wrapped TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE pii_index (
        token TEXT NOT NULL,
        owner TEXT NOT NULL,
        PRIMARY KEY (token, owner)
    ) WITHOUT ROWID""",
    "CREATE INDEX pii_index_owner ON pii_index (owner)",
)


def wrapped_key(cur: sqlite3.Cursor, owner: str) -> str | None:
    row = cur.execute("SELECT wrapped FROM pii_keys WHERE owner = ?", (owner,)).fetchone()
    return None if row is None else str(row[0])


def store_key(cur: sqlite3.Cursor, owner: str, wrapped: str) -> None:
    cur.execute(
        "INSERT INTO pii_keys (owner, wrapped) VALUES (?, ?)"
        " ON CONFLICT (owner) DO UPDATE SET wrapped = excluded.wrapped",
        (owner, wrapped),
    )


def index_key(cur: sqlite3.Cursor, vault: Vault) -> bytes:
    """The store's blind-index key, made (and stored wrapped) on first use."""
    key, new = vault.index_key(wrapped_key(cur, INDEX_OWNER) if vault.encrypted else None)
    if new is not None:
        store_key(cur, INDEX_OWNER, new)
    return key


def write_index(
    cur: sqlite3.Cursor, owner: str, tokens: Iterable[str], *, fresh: bool = False
) -> None:
    """Replace ``owner``'s index rows by ``tokens`` (``fresh``: a new owner, none to replace)."""
    if not fresh:
        cur.execute("DELETE FROM pii_index WHERE owner = ?", (owner,))
    cur.executemany(
        "INSERT OR IGNORE INTO pii_index (token, owner) VALUES (?, ?)",
        [(token, owner) for token in tokens],
    )


def write_new(
    cur: sqlite3.Cursor, keys: Sequence[tuple[str, str]], index: Sequence[tuple[str, str]]
) -> None:
    """The keys ((owner, wrapped)) and index rows ((token, owner)) of owners new to the store."""
    if keys:
        cur.executemany("INSERT INTO pii_keys (owner, wrapped) VALUES (?, ?)", keys)
    if index:
        cur.executemany("INSERT OR IGNORE INTO pii_index (token, owner) VALUES (?, ?)", index)


def owners_of(cur: sqlite3.Cursor, tokens: Sequence[str]) -> list[str]:
    if not tokens:
        return []
    marks = ", ".join("?" * len(tokens))
    rows = cur.execute(
        f"SELECT DISTINCT owner FROM pii_index WHERE token IN ({marks}) ORDER BY owner",
        list(tokens),
    ).fetchall()
    return [str(row[0]) for row in rows]


def drop_owner(cur: sqlite3.Cursor, owner: str) -> None:
    """Crypto-shredding: the data key and the index rows of ``owner`` go."""
    cur.execute("DELETE FROM pii_keys WHERE owner = ?", (owner,))
    cur.execute("DELETE FROM pii_index WHERE owner = ?", (owner,))


def erase_letter(cur: sqlite3.Cursor, key: str) -> bool:
    """A dead letter's record and reason replaced by the erasure marker, its key dropped."""
    found = cur.execute(
        "UPDATE dead_letters SET raw = ?, reason = ? WHERE key = ?", (ERASED, ERASED, key)
    ).rowcount
    drop_owner(cur, key)
    return bool(found)


def rewrap_all(cur: sqlite3.Cursor, vault: Vault, old: MasterKey) -> int:
    """Every data key not yet under the vault's master key, rewrapped from ``old``."""
    rows = cur.execute("SELECT owner, wrapped FROM pii_keys").fetchall()
    changed = []
    for owner, wrapped in rows:
        new = vault.rewrap(wrapped, owner, old)
        if new is not None:
            changed.append((new, owner))
    cur.executemany("UPDATE pii_keys SET wrapped = ? WHERE owner = ?", changed)
    return len(changed)


def seal_existing(cur: sqlite3.Cursor, vault: Vault) -> None:
    """Migration 6's data step: seal the personal data of cases, events and dead letters stored
    before it (in plain text), and index them. History is append-only by trigger; the triggers
    are lifted for this one rewrite, in the migration's transaction."""
    from zhenshen_core.model.events import CaseEvent
    from zhenshen_core.model.lifecycle import load_case
    from zhenshen_core.storage.protocol import DeadLetter

    ikey = index_key(cur, vault)
    cur.execute("DROP TRIGGER IF EXISTS events_append_only_update")
    for case_id, doc in cur.execute("SELECT id, doc FROM cases").fetchall():
        if SEALED in doc:
            continue
        case = load_case(json.loads(doc))
        rows = cur.execute(
            "SELECT doc FROM events WHERE case_id = ? ORDER BY seq", (case_id,)
        ).fetchall()
        events = [CaseEvent.model_validate_json(r[0]) for r in rows]
        sealing = vault.sealing(case_id, None)
        sealed, texts = vault.seal_case(sealing, case, events)
        cur.execute("UPDATE cases SET doc = ? WHERE id = ?", (_dumps(sealed), case_id))
        cur.executemany(
            "UPDATE events SET doc = ? WHERE case_id = ? AND seq = ?",
            [(text, e.case_id, e.seq) for text, e in zip(texts, events, strict=True)],
        )
        if sealing.new and sealing.key is not None:
            store_key(cur, case_id, vault.wrap(sealing.key, case_id))
        write_index(cur, case_id, vault.tokens(ikey, sealing.numbers))
        if sealed.get("title") != case.title:  # the report digest copies the title
            cur.execute(
                "UPDATE cases SET digest = json_set(digest, '$[1]', ?) WHERE id = ?",
                (sealed["title"], case_id),
            )
    cur.execute(
        """CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
           BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"""
    )
    letters = cur.execute(
        "SELECT key, channel, source, line, raw, reason, at FROM dead_letters"
    ).fetchall()
    for key, channel, source, line, raw, reason, at in letters:
        if raw.startswith(SEALED):
            continue
        letter = DeadLetter(
            channel=channel, source=source, line=line, raw=raw, reason=reason, at=at
        )
        sealing = vault.sealing(key, None)
        sealed_letter = vault.seal_letter(sealing, letter)
        cur.execute(
            "UPDATE dead_letters SET raw = ?, reason = ? WHERE key = ?",
            (sealed_letter.raw, sealed_letter.reason, key),
        )
        if sealing.new and sealing.key is not None:
            store_key(cur, key, vault.wrap(sealing.key, key))
        write_index(cur, key, vault.tokens(ikey, sealing.numbers))


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
