"""PostgreSQL storage for zhenshen-core: the production backend several application nodes share.

The names are imported on first use: the plugin host imports this package for every
``zhenshen`` command (``zhenshen --help`` included), and the database driver is not needed
until a store is opened.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zhenshen_postgres.migrations import MIGRATIONS, Migration, migrate, schema_version
    from zhenshen_postgres.store import PostgresStore, parse_url

_SOURCES = {
    "MIGRATIONS": "zhenshen_postgres.migrations",
    "Migration": "zhenshen_postgres.migrations",
    "migrate": "zhenshen_postgres.migrations",
    "schema_version": "zhenshen_postgres.migrations",
    "PostgresStore": "zhenshen_postgres.store",
    "parse_url": "zhenshen_postgres.store",
}


def __getattr__(name: str) -> object:
    if name not in _SOURCES:
        raise AttributeError(f"module 'zhenshen_postgres' has no attribute {name!r}")
    value = getattr(importlib.import_module(_SOURCES[name]), name)
    globals()[name] = value
    return value


__all__ = ["MIGRATIONS", "Migration", "PostgresStore", "migrate", "parse_url", "schema_version"]
