"""The PostgreSQL store's personal-data tables (migration 5) and the SQL that keeps them.

``pii_keys`` holds each owner's data key wrapped by the master key (owner: a case id, a dead
letter's key, or ``*index*`` for the blind-index key); ``pii_index`` the blind-index tokens.
What is sealed and how is :mod:`zhenshen_core.storage.crypto`'s; the store calls these inside
its own transactions. A node never holds a key in the database in the clear.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg

from zhenshen_core.privacy.keys import MasterKey
from zhenshen_core.storage.crypto import INDEX_OWNER, Vault

_Cursor = psycopg.Cursor[tuple[Any, ...]]

MIGRATION_5: tuple[str, ...] = (
    """
    CREATE TABLE pii_keys (
        owner   text COLLATE "C" PRIMARY KEY,
        wrapped text NOT NULL
    )
    """,
    """
    CREATE TABLE pii_index (
        token text COLLATE "C" NOT NULL,
        owner text COLLATE "C" NOT NULL,
        PRIMARY KEY (token, owner)
    )
    """,
    "CREATE INDEX pii_index_owner_idx ON pii_index (owner)",
)

Sealer = Callable[[psycopg.Connection[tuple[Any, ...]]], None]


def SEAL_EXISTING(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """Migration 5's data step; it needs the migrating node's master key, so ``migrate`` runs
    the store's :func:`seal_existing` in its place (nothing, for a node without a key)."""
    raise AssertionError("run by migrate(seal=...)")


def seal_existing(conn: psycopg.Connection[tuple[Any, ...]], vault: Vault) -> None:
    """Seal the personal data of cases, events and dead letters stored before migration 5,
    and index them. The history's append-only trigger is disabled for this one rewrite, inside
    the migration's transaction (so no other session ever sees it off)."""
    from zhenshen_core.model.case import Case
    from zhenshen_core.model.events import CaseEvent
    from zhenshen_core.storage.crypto import SEALED
    from zhenshen_core.storage.protocol import DeadLetter

    ikey = index_key(conn, vault)
    conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
    with conn.cursor() as cur:
        for case_id, doc in conn.execute("SELECT id, doc::text FROM cases").fetchall():
            if SEALED in doc:
                continue
            case = Case.model_validate_json(doc)
            rows = conn.execute(
                "SELECT doc::text FROM events WHERE case_id = %s ORDER BY seq", (case_id,)
            ).fetchall()
            events = [CaseEvent.model_validate_json(r[0]) for r in rows]
            sealing = vault.sealing(case_id, None)
            sealed, texts = vault.seal_case(sealing, case, events)
            cur.execute(
                "UPDATE cases SET doc = %s WHERE id = %s",
                (json.dumps(sealed, ensure_ascii=False), case_id),
            )
            cur.executemany(
                "UPDATE events SET doc = %s WHERE case_id = %s AND seq = %s",
                [(t, e.case_id, e.seq) for t, e in zip(texts, events, strict=True)],
            )
            if sealing.new and sealing.key is not None:
                store_keys(cur, [(case_id, vault.wrap(sealing.key, case_id))])
            write_index(cur, case_id, vault.tokens(ikey, sealing.numbers), fresh=True)
        letters = conn.execute("SELECT key, doc::text FROM dead_letters").fetchall()
        for key, doc in letters:
            letter = DeadLetter.model_validate_json(doc)
            if letter.raw.startswith(SEALED):
                continue
            sealing = vault.sealing(key, None)
            sealed_letter = vault.seal_letter(sealing, letter)
            cur.execute(
                "UPDATE dead_letters SET doc = %s WHERE key = %s",
                (sealed_letter.model_dump_json(), key),
            )
            if sealing.new and sealing.key is not None:
                store_keys(cur, [(key, vault.wrap(sealing.key, key))])
            write_index(cur, key, vault.tokens(ikey, sealing.numbers), fresh=True)
    conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")


#: The wrapped key of the row's case, as a column of a query on ``cases``.
WRAPPED = "(SELECT k.wrapped FROM pii_keys k WHERE k.owner = cases.id)"


def wrapped_key(cur: _Cursor, owner: str) -> str | None:
    cur.execute("SELECT wrapped FROM pii_keys WHERE owner = %s", (owner,))
    row = cur.fetchone()
    return None if row is None else str(row[0])


def store_keys(cur: _Cursor, rows: Sequence[tuple[str, str]]) -> None:
    """(owner, wrapped) rows; a row already there is replaced (rotation, a re-sealed letter)."""
    if rows:
        cur.executemany(
            "INSERT INTO pii_keys (owner, wrapped) VALUES (%s, %s)"
            " ON CONFLICT (owner) DO UPDATE SET wrapped = excluded.wrapped",
            rows,
        )


def write_index(cur: _Cursor, owner: str, tokens: Iterable[str], *, fresh: bool = False) -> None:
    """Replace ``owner``'s index rows (``fresh``: it has none yet)."""
    if not fresh:
        cur.execute("DELETE FROM pii_index WHERE owner = %s", (owner,))
    rows = [(token, owner) for token in tokens]
    if rows:
        cur.executemany(
            "INSERT INTO pii_index (token, owner) VALUES (%s, %s) ON CONFLICT DO NOTHING", rows
        )


def index_key(conn: psycopg.Connection[tuple[Any, ...]], vault: Vault) -> bytes:
    """The store's blind-index key; the first node to need it makes it (in autocommit, one
    statement: two nodes racing keep the first key written, and both read that one)."""
    if not vault.encrypted:
        return vault.index_key(None)[0]
    row = conn.execute("SELECT wrapped FROM pii_keys WHERE owner = %s", (INDEX_OWNER,)).fetchone()
    if row is None:
        _, wrapped = vault.index_key(None)
        conn.execute(
            "INSERT INTO pii_keys (owner, wrapped) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (INDEX_OWNER, wrapped),
        )
        row = conn.execute(
            "SELECT wrapped FROM pii_keys WHERE owner = %s", (INDEX_OWNER,)
        ).fetchone()
    assert row is not None
    return vault.index_key(str(row[0]))[0]


def owners_of(conn: psycopg.Connection[tuple[Any, ...]], tokens: Sequence[str]) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT owner FROM pii_index WHERE token = ANY(%s) ORDER BY owner",
        (list(tokens),),
    ).fetchall()
    return [str(r[0]) for r in rows]


def drop_owner(cur: _Cursor, owner: str) -> None:
    """Crypto-shredding: ``owner``'s data key and index rows are deleted."""
    cur.execute("DELETE FROM pii_keys WHERE owner = %s", (owner,))
    cur.execute("DELETE FROM pii_index WHERE owner = %s", (owner,))


def rewrap_all(cur: _Cursor, vault: Vault, old: MasterKey) -> int:
    cur.execute("SELECT owner, wrapped FROM pii_keys FOR UPDATE")
    changed = []
    for owner, wrapped in cur.fetchall():
        new = vault.rewrap(wrapped, owner, old)
        if new is not None:
            changed.append((new, owner))
    if changed:
        cur.executemany("UPDATE pii_keys SET wrapped = %s WHERE owner = %s", changed)
    return len(changed)
