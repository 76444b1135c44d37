"""URL handling and plugin registration: no server needed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zhenshen_postgres import parse_url, plugin

from zhenshen_core.errors import StoreURLError
from zhenshen_core.plugins import PluginHost


def test_schema_parameter_is_taken_out_of_the_libpq_url() -> None:
    parsed = parse_url(
        "postgresql://postgres@127.0.0.1:5432/test?schema=district_7&sslmode=disable"
    )
    assert parsed.schema == "district_7"
    assert parsed.conninfo == "postgresql://postgres@127.0.0.1:5432/test?sslmode=disable"


def test_default_schema_is_public_and_aliases_are_accepted() -> None:
    assert parse_url("postgres://u@h/db").schema == "public"
    assert parse_url("postgresql+psycopg://u@h/db").conninfo == "postgresql://u@h/db"


def test_password_never_shows() -> None:
    parsed = parse_url("postgresql://desk:s3cret@db.internal:5432/zhenshen")
    assert "s3cret" not in parsed.display and "desk:***@db.internal" in parsed.display
    with pytest.raises(StoreURLError) as info:
        parse_url("postgresql://desk:s3cret@db/zhenshen?schema=bad-name")
    assert "s3cret" not in str(info.value) and "bad-name" in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///x.db",
        "postgresql://h/db?schema=1abc",
        "postgresql://h/db?schema=a;drop",
        "postgresql://h/db?schema=",
        "postgresql://h/db?schema=a&schema=b",
        "postgresql://h/db?schema=" + "a" * 64,
    ],
)
def test_bad_urls_are_refused_with_a_reason(url: str) -> None:
    with pytest.raises(StoreURLError):
        parse_url(url)


@given(st.text(min_size=1, max_size=80))
def test_only_plain_identifiers_become_schemas(name: str) -> None:
    try:
        parsed = parse_url("postgresql://h/db?" + f"schema={name}".replace("&", "%26"))
    except StoreURLError:
        return
    assert parsed.schema.isascii() and parsed.schema.replace("_", "a").isalnum()
    assert not parsed.schema[0].isdigit() and len(parsed.schema) <= 63


def test_plugin_registers_both_schemes() -> None:
    host = PluginHost(load=False)
    host.register(plugin, "postgres")
    backends = host.storage_backends()
    assert backends["postgresql"].factory is backends["postgres"].factory
    assert host.storage_backend("postgresql://u@h/db").scheme == "postgresql"
    assert host.storage_backend("postgres://u@h/db").scheme == "postgres"
