"""The personal-data contract against the PostgreSQL store.

The stored text is every row of every table of the store's schema, as PostgreSQL prints it
(``SELECT t::text``): what a ``pg_dump`` of the schema would give away.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from zhenshen_pg_testkit import ENV, SKIP_REASON, FreshSchemaSuite, base_url
from zhenshen_postgres import PostgresStore

from zhenshen_core.privacy.keys import MasterKey, PersonalDataWarning
from zhenshen_core.storage.protocol import CaseStore
from zhenshen_core.testing.personal_data_contract import PersonalDataContract

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)


def dump_schema(schema: str) -> str:
    """Every row of every table in ``schema`` as text."""
    out = []
    with psycopg.connect(base_url(), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (schema,)
        ).fetchall()
        assert tables
        for (table,) in tables:
            query = sql.SQL("SELECT t::text FROM {}.{} t").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            out += [row[0] for row in conn.execute(query)]
    return "\n".join(out)


class TestPostgresPersonalData(FreshSchemaSuite, PersonalDataContract):
    def stored_text(self, store: CaseStore) -> str:
        assert isinstance(store, PostgresStore)
        return dump_schema(store.schema)

    def reopen(self, store: CaseStore, tmp_path: Path, key: MasterKey) -> CaseStore:
        return PostgresStore(self.url, pii_key=key)


def test_a_key_file_named_in_the_url_is_the_master_key(
    schema_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zhenshen_core.privacy.keys import generate_key_file

    key = generate_key_file(tmp_path / "pii.key")
    monkeypatch.delenv("ZHENSHEN_PII_KEY")
    with PostgresStore(f"{schema_url}&pii_key_file={tmp_path / 'pii.key'}") as store:
        assert store._vault.master is not None
        assert store._vault.master.key_id == key.key_id


def test_without_a_key_the_store_warns_that_data_is_not_encrypted(
    schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZHENSHEN_PII_KEY")
    with pytest.warns(PersonalDataWarning, match="UNENCRYPTED"):
        PostgresStore(schema_url).close()


def test_migration_5_seals_what_older_versions_stored_in_plain_text(schema_url: str) -> None:
    from zhenshen_core.model.case import Requester
    from zhenshen_core.storage.crypto import Vault
    from zhenshen_core.testing.storage_contract import make_case, received

    phone = "13912345678"
    store = PostgresStore(schema_url)
    store._vault = Vault(None)  # writes as a version before migration 5 did: plain text
    case, events = received(
        make_case(3, content=f"电话{phone}", requester=Requester(name="王小明", phone=phone))
    )
    store.ingest(case, events)
    schema = store.schema
    store.close()
    with psycopg.connect(base_url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "DROP TABLE {s}.pii_keys; DROP TABLE {s}.pii_index;"
                " DELETE FROM {s}.schema_migrations WHERE version = 5"
            ).format(s=sql.Identifier(schema))
        )
    assert phone in dump_schema(schema)
    with PostgresStore(schema_url) as migrated:
        assert migrated.get(case.id) == case
        assert migrated.events(case.id) == events
        assert migrated.personal_data_owners([phone]) == [case.id]
    assert phone not in dump_schema(schema)
