"""Versioned schema migrations, safe when several nodes start at the same moment.

Every node runs :func:`migrate` when it opens a store. The whole run happens in one transaction
that first takes a transaction-scoped advisory lock keyed on the schema name, so a second node
starting at the same time waits, then finds every migration recorded and does nothing. PostgreSQL
DDL is transactional, so a node killed half-way leaves the schema as it was before, never half
migrated. Migrations are append-only: a released migration is never edited, a change is a new
version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from zhenshen_core.errors import StorageError
from zhenshen_core.storage.backend import dead_letter_key

LOCK_NAMESPACE = "zhenshen-postgres:migrate:"


@dataclass(frozen=True)
class Migration:
    """One numbered step: SQL statements, or a function of the connection for data SQL cannot
    compute (a hash of a document's fields)."""

    version: int
    name: str
    statements: tuple[str | Callable[[psycopg.Connection[tuple[Any, ...]]], None], ...]


# Text keys use COLLATE "C": Python orders strings by code point, and the contract orders results
# by id, so the database must compare the same way whatever the cluster's default collation is.
_V1 = (
    """
    CREATE TABLE cases (
        id              text COLLATE "C" PRIMARY KEY,
        doc             jsonb NOT NULL,
        status          text NOT NULL,
        domain          text,
        lead_department text,
        departments     text[] NOT NULL DEFAULT '{}',
        enterprise_uscc text,
        channel         text NOT NULL,
        received_at     timestamptz NOT NULL,
        version         integer NOT NULL CHECK (version >= 1),
        updated_at      timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX cases_received_idx ON cases (received_at, id)",
    "CREATE INDEX cases_status_idx ON cases (status, received_at)",
    "CREATE INDEX cases_domain_idx ON cases (domain)",
    "CREATE INDEX cases_lead_idx ON cases (lead_department)",
    "CREATE INDEX cases_departments_idx ON cases USING gin (departments)",
    "CREATE INDEX cases_uscc_idx ON cases (enterprise_uscc)",
    "CREATE INDEX cases_channel_idx ON cases (channel, received_at)",
    # An event is kept as the exact JSON text it was written as (json, not jsonb): history is
    # read back whole and never searched by content, and json input costs a third of jsonb's,
    # which is most of the time of a batch intake.
    """
    CREATE TABLE events (
        case_id text COLLATE "C" NOT NULL REFERENCES cases (id),
        seq     integer NOT NULL CHECK (seq >= 1),
        at      timestamptz NOT NULL,
        type    text NOT NULL,
        actor   text NOT NULL,
        doc     json NOT NULL,
        PRIMARY KEY (case_id, seq)
    )
    """,
    # The history is what an auditor reads: refuse to rewrite it, whoever connects.
    """
    CREATE FUNCTION zhenshen_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'zhenshen events are append-only: % of event % of case % refused',
            TG_OP, OLD.seq, OLD.case_id;
    END
    $$
    """,
    """
    CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION zhenshen_events_append_only()
    """,
    # Refs are written before their case inside the intake transaction, so that a duplicate
    # work order is detected by the unique key first; the foreign key is checked at commit.
    """
    CREATE TABLE external_refs (
        channel     text COLLATE "C" NOT NULL,
        external_id text COLLATE "C" NOT NULL,
        case_id     text COLLATE "C" NOT NULL
            REFERENCES cases (id) DEFERRABLE INITIALLY DEFERRED,
        PRIMARY KEY (channel, external_id)
    )
    """,
    "CREATE INDEX external_refs_case_idx ON external_refs (case_id)",
    # Only running clocks are stored: they are all the sweep and `due_before` ever look at.
    # case_version is the version of the case the row was written with (rewritten on every
    # save), so the sweep answers from this table alone.
    # Free space on each page lets a claim (unindexed columns) be a HOT update: no index writes.
    """
    CREATE TABLE clocks (
        case_id       text COLLATE "C" NOT NULL REFERENCES cases (id),
        name          text COLLATE "C" NOT NULL,
        next_alert_at timestamptz,
        due_at        timestamptz NOT NULL,
        case_version  integer NOT NULL,
        claimed_by    text,
        claimed_until timestamptz,
        PRIMARY KEY (case_id, name)
    ) WITH (fillfactor = 70)
    """,
    """
    CREATE INDEX clocks_next_alert_idx ON clocks (next_alert_at, case_id, name)
        INCLUDE (due_at, case_version) WHERE next_alert_at IS NOT NULL
    """,
    "CREATE INDEX clocks_due_idx ON clocks (due_at, case_id)",
    # json, not jsonb: a dead letter is whatever arrived, and jsonb refuses NUL escapes.
    """
    CREATE TABLE dead_letters (
        id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel text NOT NULL,
        at      timestamptz NOT NULL,
        doc     json NOT NULL
    )
    """,
    """
    CREATE TABLE records (
        kind text COLLATE "C" NOT NULL,
        id   text COLLATE "C" NOT NULL,
        data jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, id)
    )
    """,
)


def _key_dead_letters(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """Migration 2's data step: give every dead letter its key (``dead_letter_key``), and fold
    the copies earlier versions kept of one record (one per re-run) into the first row: its
    ``at`` stays the first time, ``doc`` becomes the newest copy's, counted in ``seen``."""
    rows = conn.execute("SELECT id, doc::text FROM dead_letters ORDER BY id").fetchall()
    first: dict[str, list[Any]] = {}  # key -> [id, seen, newest id, newest at]
    copies: list[int] = []
    for row_id, doc in rows:
        letter = json.loads(doc)
        channel, source, raw = letter["channel"], letter["source"], letter["raw"]
        key = dead_letter_key(channel, source, letter.get("line"), raw)
        kept = first.get(key)
        if kept is None:
            first[key] = [row_id, 1, None, None]
            continue
        kept[1] += 1
        kept[2], kept[3] = row_id, datetime.fromisoformat(letter["at"])
        copies.append(row_id)
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE dead_letters SET key = %s, seen = %s, last_seen = %s,"
            " doc = coalesce((SELECT n.doc FROM dead_letters n WHERE n.id = %s), doc)"
            " WHERE id = %s",
            [(key, seen, last, newest, i) for key, (i, seen, newest, last) in first.items()],
        )
    conn.execute("DELETE FROM dead_letters WHERE id = ANY(%s)", (copies,))


# A dead letter's identity (zhenshen_core.storage.backend.dead_letter_key): a re-run of the same
# file counts a record again (seen, last_seen, the newest doc) instead of adding it again; `at`
# stays when it was first met.
_V2 = (
    'ALTER TABLE dead_letters ADD COLUMN key text COLLATE "C",'
    " ADD COLUMN seen integer NOT NULL DEFAULT 1, ADD COLUMN last_seen timestamptz",
    _key_dead_letters,
    "ALTER TABLE dead_letters ALTER COLUMN key SET NOT NULL",
    "CREATE UNIQUE INDEX dead_letters_key_idx ON dead_letters (key)",
)

# The notification outbox and sweep incidents (zhenshen_core.storage.outbox). A notice is
# written in the transaction of the change it is about and delivered from here at least once;
# `doc` is the whole notice, the columns what delivery and listing select on. An open incident
# holds its clock back from every node's sweep until next_retry_at.
_V3 = (
    """
    CREATE TABLE outbox (
        key             text COLLATE "C" PRIMARY KEY,
        case_id         text COLLATE "C" NOT NULL,
        status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        created_at      timestamptz NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        delivered_at    timestamptz,
        doc             jsonb NOT NULL
    )
    """,
    """
    CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at, created_at, key)
        WHERE status = 'pending'
    """,
    "CREATE INDEX outbox_created_idx ON outbox (status, created_at, key)",
    """
    CREATE TABLE sweep_incidents (
        case_id       text COLLATE "C" NOT NULL,
        clock         text COLLATE "C" NOT NULL,
        next_retry_at timestamptz NOT NULL,
        resolved      boolean NOT NULL,
        doc           jsonb NOT NULL,
        PRIMARY KEY (case_id, clock)
    )
    """,
)

# The access log (zhenshen_core.storage.audit): append-only, whoever connects — row triggers
# refuse UPDATE and DELETE, a statement trigger TRUNCATE. `seq` is the order of writing.
_V4 = (
    """
    CREATE TABLE audit_log (
        seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id      text COLLATE "C" NOT NULL UNIQUE,
        at      timestamptz NOT NULL,
        actor   text NOT NULL,
        role    text,
        action  text NOT NULL,
        desk    text COLLATE "C",
        case_id text COLLATE "C",
        outcome text NOT NULL,
        remote  text,
        detail  jsonb NOT NULL
    )
    """,
    "CREATE INDEX audit_log_case_idx ON audit_log (case_id, seq)",
    "CREATE INDEX audit_log_desk_idx ON audit_log (desk, seq)",
    "CREATE INDEX audit_log_at_idx ON audit_log (at)",
    """
    CREATE FUNCTION zhenshen_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the zhenshen access log is append-only: % refused', TG_OP;
    END
    $$
    """,
    """
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION zhenshen_audit_append_only()
    """,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION zhenshen_audit_append_only()
    """,
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "cases, events, refs, clocks, side tables", _V1),
    Migration(2, "dead letters kept once, counted", _V2),
    Migration(3, "notification outbox, sweep incidents", _V3),
    Migration(4, "access log", _V4),
)

_BOOKKEEPING = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""


def migrate(
    conn: psycopg.Connection[tuple[Any, ...]],
    schema: str,
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> list[int]:
    """Bring ``schema`` up to the newest migration; returns the versions this call applied.

    ``conn`` must be in autocommit mode (the store's connection is); the work happens in one
    transaction of its own.
    """
    known = max((m.version for m in migrations), default=0)
    applied: list[int] = []
    with conn.transaction():
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (LOCK_NAMESPACE + schema,)
        )
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        conn.execute(_BOOKKEEPING)
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        newest = max(done, default=0)
        if newest > known:
            raise StorageError(
                f"schema {schema!r} is at migration {newest}, newer than this zhenshen-postgres "
                f"knows ({known}); upgrade zhenshen-postgres on this node before starting it"
            )
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in done:
                continue
            for statement in migration.statements:
                if callable(statement):
                    statement(conn)
                else:
                    conn.execute(statement.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration.version)
    return applied


def schema_version(conn: psycopg.Connection[tuple[Any, ...]], schema: str) -> int:
    """The newest migration recorded in ``schema`` (0 for a schema never migrated)."""
    row = conn.execute(
        "SELECT to_regclass(format('%%I.schema_migrations', %s::text)) IS NOT NULL", (schema,)
    ).fetchone()
    if row is None or not row[0]:
        return 0
    query = sql.SQL("SELECT coalesce(max(version), 0) FROM {}.schema_migrations").format(
        sql.Identifier(schema)
    )
    found = conn.execute(query).fetchone()
    return int(found[0]) if found else 0
