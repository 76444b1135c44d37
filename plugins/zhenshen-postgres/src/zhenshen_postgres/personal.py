"""The PostgreSQL store's personal-data tables (migration 5) and the SQL that keeps them.

``pii_keys`` holds each owner's data key wrapped by the master key (owner: a case id, a dead
letter's key, or ``*index*`` for the blind-index key); ``pii_index`` the blind-index tokens.
What is sealed and how is :mod:`zhenshen_core.storage.crypto`'s; the store calls these inside
its own transactions. A node never holds a key in the database in the clear.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
