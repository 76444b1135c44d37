"""URL handling and plugin registration: no server needed."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from zhenshen_postgres import parse_url, plugin
from zhenshen_postgres.connection import STALL_GRACE

from zhenshen_core.errors import StoreURLError
from zhenshen_core.plugins import PluginHost


def _libpq(conninfo: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(conninfo).query))


def test_schema_parameter_is_taken_out_of_the_libpq_url() -> None:
    parsed = parse_url(
        "postgresql://postgres@127.0.0.1:5432/test?schema=district_7&sslmode=disable"
    )
    assert parsed.schema == "district_7"
    assert parsed.conninfo.startswith("postgresql://postgres@127.0.0.1:5432/test?sslmode=disable&")
    assert "schema" not in _libpq(parsed.conninfo)


def test_default_schema_is_public_and_aliases_are_accepted() -> None:
    assert parse_url("postgres://u@h/db").schema == "public"
    assert parse_url("postgresql+psycopg://u@h/db").conninfo.startswith("postgresql://u@h/db?")


def test_timeouts_keepalives_and_retries_have_defaults() -> None:
    parsed = parse_url("postgresql://u@h/db")
    assert (parsed.connect_timeout, parsed.statement_timeout) == (10, 60.0)
    assert (parsed.idle_in_transaction_timeout, parsed.retries) == (60.0, 5)
    assert parsed.stall_after == 60.0 + STALL_GRACE
    libpq = _libpq(parsed.conninfo)
    assert libpq["connect_timeout"] == "10" and libpq["keepalives"] == "1"
    assert libpq["keepalives_idle"] == "30" and libpq["tcp_user_timeout"] == "60000"
    assert parsed.server_options() == (
        "-c statement_timeout=60000 -c idle_in_transaction_session_timeout=60000"
    )


def test_timeouts_come_from_the_url_and_libpq_settings_win() -> None:
    parsed = parse_url(
        "postgresql://u@h/db?statement_timeout=1.5&idle_in_transaction_timeout=0&retries=0"
        "&connect_timeout=3&keepalives_idle=5&options=-c%20work_mem%3D64MB"
    )
    assert (parsed.statement_timeout, parsed.idle_in_transaction_timeout) == (1.5, 0.0)
    assert (parsed.retries, parsed.connect_timeout) == (0, 3)
    libpq = _libpq(parsed.conninfo)
    assert libpq["connect_timeout"] == "3" and libpq["keepalives_idle"] == "5"
    assert not {"statement_timeout", "retries", "options"} & set(libpq)
    assert parsed.server_options() == (
        "-c statement_timeout=1500 -c idle_in_transaction_session_timeout=0 -c work_mem=64MB"
    )
    assert parse_url("postgresql://u@h/db?statement_timeout=0").stall_after is None


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
        "postgresql://h/db?statement_timeout=-1",
        "postgresql://h/db?statement_timeout=soon",
        "postgresql://h/db?statement_timeout=1&statement_timeout=2",
        "postgresql://h/db?idle_in_transaction_timeout=1e9",
        "postgresql://h/db?connect_timeout=1.5",
        "postgresql://h/db?retries=21",
        "postgresql://h/db?retries=x",
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
