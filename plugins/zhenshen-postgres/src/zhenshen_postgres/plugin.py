"""Registers the PostgreSQL store for ``postgresql://`` and ``postgres://`` URLs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zhenshen_core.plugins import StorageBackend, hookimpl

if TYPE_CHECKING:
    from zhenshen_core.storage.protocol import CaseStore


def _open(url: str) -> CaseStore:
    # Imported on use: listing plugins must not need a database driver loaded, let alone a server.
    from zhenshen_postgres.store import PostgresStore

    return PostgresStore(url)


@hookimpl
def zhenshen_storage_backends() -> list[StorageBackend]:
    description = "PostgreSQL (psycopg 3), shared by many nodes; ?schema=NAME picks a schema"
    return [
        StorageBackend("postgresql", description, _open),
        StorageBackend("postgres", description + " (alias of postgresql://)", _open),
    ]
