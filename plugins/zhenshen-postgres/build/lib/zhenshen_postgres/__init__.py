"""PostgreSQL storage for zhenshen-core: the production backend several application nodes share."""

from zhenshen_postgres.migrations import MIGRATIONS, Migration, migrate, schema_version
from zhenshen_postgres.store import PostgresStore, parse_url

__all__ = ["MIGRATIONS", "Migration", "PostgresStore", "migrate", "parse_url", "schema_version"]
