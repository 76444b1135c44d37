"""The role × endpoint matrix, tokens, keys and intake on PostgreSQL: the tests of
``test_server_sqlite`` that depend on the store, run against a server on a PostgreSQL schema."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.postgres

if not os.environ.get("ZHENSHEN_TEST_PG_URL"):
    pytest.skip("ZHENSHEN_TEST_PG_URL is not set; the PostgreSQL service tests need it",
                allow_module_level=True)

from test_server_sqlite import (  # noqa: E402
    serve_two_desks,
    test_a_revoked_key_is_refused_at_once,
    test_a_valid_jwt_plays_the_part_of_a_key,
    test_cursor_pagination_visits_every_case_once,
    test_events_conflicts_and_allowed_events,
    test_intake_is_idempotent_and_reads_only_what_it_submitted,
    test_personal_data_masked_unless_pii_and_each_unmasked_read_audited,
    test_refused_tokens,
    test_role_endpoint_matrix_on_own_and_foreign_desk,
)
from zhenshen_pg_testkit import drop_schema, new_schema_url  # noqa: E402
from zhenshen_server_testkit import serve_folder  # noqa: E402

__all__ = [
    "test_a_revoked_key_is_refused_at_once",
    "test_a_valid_jwt_plays_the_part_of_a_key",
    "test_cursor_pagination_visits_every_case_once",
    "test_events_conflicts_and_allowed_events",
    "test_intake_is_idempotent_and_reads_only_what_it_submitted",
    "test_personal_data_masked_unless_pii_and_each_unmasked_read_audited",
    "test_refused_tokens",
    "test_role_endpoint_matrix_on_own_and_foreign_desk",
]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Here the JWKS comes from a URL, as from an identity provider (PyJWT's client)."""
    url, schema = new_schema_url()
    tmp = tmp_path_factory.mktemp("pg-server")
    try:
        with serve_folder(tmp) as idp:  # the issuer writes tmp/jwks.json
            yield from serve_two_desks(url, tmp, f"{idp}/jwks.json")
    finally:
        drop_schema(schema)
