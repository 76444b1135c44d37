"""SQLite-specific behaviour: URLs, bad paths, migrations, WAL, append-only triggers, races."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from zhenshen_core.errors import ConcurrencyError, StorageError, StoreURLError
from zhenshen_core.plugins import PluginHost
from zhenshen_core.storage import MemoryStore, SQLiteStore, open_store
from zhenshen_core.storage.sqlite import DUE_CLOCKS_SQL, MIGRATIONS, SCHEMA_VERSION
from zhenshen_core.testing.storage_contract import fire, make_case, received


def _ingest(store: SQLiteStore, n: int = 0) -> None:
    store.ingest(*received(make_case(n)))


# --- URLs and paths -------------------------------------------------------------------------


def test_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    with SQLiteStore.from_url("sqlite:///sub/rel.db") as rel:
        assert rel.path == "sub/rel.db"
        _ingest(rel)
    assert (tmp_path / "sub" / "rel.db").is_file()
    absolute = tmp_path / "abs.db"
    with SQLiteStore.from_url(f"sqlite:///{absolute}") as store:
        assert store.path == str(absolute) and store.url == f"sqlite:///{absolute}"
    with SQLiteStore.from_url("sqlite://:memory:") as mem:
        _ingest(mem)
        assert mem.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///",
        "sqlite://rel.db",
        "sqlite:///x.db?mode=rw",
        "sqlite:///x.db?journal=off",
        "sqlite:///x.db?timeout=soon",
        "sqlite:///x.db?timeout=-1",
        "sqlite://:memory:?mode=ro",
        "mem://",
    ],
)
def test_bad_sqlite_urls_are_refused(url: str) -> None:
    with pytest.raises(StoreURLError, match=r"SQLite URL|not a SQLite URL"):
        SQLiteStore.from_url(url)


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreURLError, match=r"directory .* does not exist"):
        SQLiteStore(tmp_path / "nope" / "cases.db")


def test_directory_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreURLError, match="is a directory"):
        SQLiteStore(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only directories")
def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(StorageError, match="cannot open SQLite database") as info:
            SQLiteStore(locked / "cases.db")
        assert info.value.__cause__ is None and info.value.__suppress_context__
    finally:
        locked.chmod(0o700)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_uncreatable_file_is_a_clear_error() -> None:
    # /proc refuses new files even to root, unlike a chmod-ed directory
    with pytest.raises(StorageError, match=r"cannot open SQLite database .*unable to open"):
        SQLiteStore("/proc/zhenshen-cases.db")


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "cases.db"
    bogus.write_text("this is not sqlite\n" * 100)
    with pytest.raises(StorageError, match="not a database"):
        SQLiteStore(bogus)


def test_closed_store_raises_storage_error(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "cases.db")
    store.close()
    with pytest.raises(StorageError):
        store.count()


# --- schema ----------------------------------------------------------------------------------


def test_migrations_run_once_and_reopen_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    with SQLiteStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        _ingest(store, 1)
    for _ in range(2):
        with SQLiteStore(path) as store:
            assert store.schema_version() == SCHEMA_VERSION
            assert store.count() == 1
    with sqlite3.connect(path) as raw:
        rows = raw.execute(
            "SELECT version, name FROM schema_migrations ORDER BY version"
        ).fetchall()
    assert rows == [(m.version, m.name) for m in MIGRATIONS]


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2099-01-01')")
    with pytest.raises(StorageError, match="schema version 999, newer"):
        SQLiteStore(path)


def test_wal_journal_mode_is_on(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_events_are_append_only_in_the_database(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    with SQLiteStore(path) as store:
        _ingest(store)
    raw = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("UPDATE events SET type = 'forged'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("DELETE FROM events")
    finally:
        raw.close()


def test_due_clock_sweep_uses_the_index(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "cases.db") as store:
        plan = store._conn.execute("EXPLAIN QUERY PLAN " + DUE_CLOCKS_SQL, (0, 0, 10)).fetchall()
    text = " ".join(str(row[-1]) for row in plan)
    assert "clocks_next_alert" in text, text
    assert "TEMP B-TREE" not in text, f"the sweep should not sort: {text}"


# --- concurrency -----------------------------------------------------------------------------


def test_two_connections_one_stale_save(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    with SQLiteStore(path) as a, SQLiteStore(path) as b:
        case, events = received(make_case(1))
        a.ingest(case, events)
        base_a, base_b = a.get(case.id), b.get(case.id)
        won, e1 = fire(base_a, "accept")
        a.save(won, [e1], expected_version=base_a.version)
        lost, e2 = fire(base_b, "note", {"text": "并发修改"})
        with pytest.raises(ConcurrencyError):
            b.save(lost, [e2], expected_version=base_b.version)
        assert b.get(case.id) == won
        assert [e.type for e in b.events(case.id)] == ["receive", "accept"]


def test_racing_writers_in_threads_exactly_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    with SQLiteStore(path) as setup:
        case, events = received(make_case(2))
        setup.ingest(case, events)
    stores = [SQLiteStore(path) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def writer(store: SQLiteStore, text: str) -> None:
        base = store.get(case.id)
        new, event = fire(base, "note", {"text": text})
        barrier.wait()
        try:
            store.save(new, [event], expected_version=base.version)
            outcomes.append("saved")
        except ConcurrencyError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer, args=(s, f"w{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert sorted(outcomes) == ["conflict", "saved"]
    with SQLiteStore(path) as check:
        assert len(check.events(case.id)) == 2 == check.get(case.id).version


# --- open_store ------------------------------------------------------------------------------


def test_open_store_resolves_built_in_schemes(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(store, SQLiteStore)
    store.close()


def test_open_store_with_an_explicit_host(tmp_path: Path) -> None:
    import zhenshen_core.builtin.stores as stores

    host = PluginHost(load=False)
    host.register(stores, "stores")
    assert isinstance(open_store("memory://", host), MemoryStore)


def test_open_store_unknown_scheme_lists_known_ones() -> None:
    with pytest.raises(StoreURLError, match="choose one of: memory, sqlite"):
        open_store("mongodb://localhost/cases")


def test_open_store_needs_a_url() -> None:
    with pytest.raises(StoreURLError, match="not a store URL"):
        open_store("cases.db")


def test_save_refuses_an_external_ref_owned_by_another_case(tmp_path: Path) -> None:
    from zhenshen_core.model import ExternalRef

    with SQLiteStore(tmp_path / "cases.db") as store:
        first, e1 = received(make_case(1))
        second, e2 = received(make_case(2))
        store.ingest_many([(first, e1), (second, e2)])
        new, event = fire(second, "accept")
        stolen = ExternalRef(channel=first.channel, external_id=first.external_id or "")
        new = new.model_copy(update={"external_refs": [*new.external_refs, stolen]})
        with pytest.raises(StorageError, match="already belongs to case"):
            store.save(new, [event], expected_version=1)
        assert store.get(second.id) == second
        assert store.find_external(first.channel, first.external_id or "") == first
