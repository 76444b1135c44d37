"""Another process holding the write lock: readers go on, writers say who holds it.

Each test starts a holder process that takes SQLite's write lock (``BEGIN IMMEDIATE`` and an
uncommitted row) and keeps it until its stdin closes, as a stuck intake or a forgotten
``sqlite3`` shell would. WAL mode lets readers read the last committed state meanwhile; what
made them wait before was the store's own opening (a migration transaction on every open).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from zhenshen_core.errors import StorageError, StoreUnavailableError, StoreURLError
from zhenshen_core.storage import Record, SQLiteStore
from zhenshen_core.storage.sqlite import read_sqlite_url
from zhenshen_core.storage.sqlite_locks import LockHolder, lock_holders
from zhenshen_core.testing.storage_contract import make_case, received

pytestmark = pytest.mark.slow  # a holder process per test

_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO records (kind, id, data) VALUES ('held', 'x', '{}')")
print("locked", flush=True)
sys.stdin.read()
"""


@contextmanager
def write_lock_held(path: Path) -> Iterator[subprocess.Popen[str]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        yield holder
    finally:
        holder.kill()
        holder.wait(10)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "desk.db"
    with SQLiteStore(path) as store:
        store.ingest(*received(make_case(1)))
    return path


def test_readers_do_not_wait_for_a_writer_of_another_process(db: Path) -> None:
    with write_lock_held(db):
        started = time.monotonic()
        with SQLiteStore(db, timeout=3) as store:  # today's open waited 3 s, then failed
            assert store.count() == 1 and [c.id for c in store.query()] == [make_case(1).id]
            assert store.records("held") == [], "only committed data is read"
        assert time.monotonic() - started < 1.0


def test_a_writer_that_times_out_names_the_process_holding_the_lock(db: Path) -> None:
    with write_lock_held(db) as holder, SQLiteStore(db, timeout=0.3) as store:
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError) as info:
            store.put_record(Record(kind="k", id="1", data={}))
        assert 0.3 <= time.monotonic() - started < 3
    message = str(info.value)
    assert f"pid {holder.pid} (python" in message and "holds the write lock" in message
    assert "waited 0.3 s" in message and "nothing was written" in message
    with SQLiteStore(db) as store:
        assert store.records("k") == [] and store.records("held") == []


def test_read_only_mode_reads_and_refuses_every_write(db: Path) -> None:
    with write_lock_held(db), SQLiteStore.from_url(f"sqlite:///{db}?mode=ro") as store:
        assert store.read_only and store.count() == 1
        with pytest.raises(StorageError, match="read-only"):
            store.ingest(*received(make_case(2)))
    with pytest.raises(StoreURLError, match="no such file"):
        SQLiteStore.from_url(f"sqlite:///{db.parent / 'missing.db'}?mode=ro")
    assert not (db.parent / "missing.db").exists()


def test_read_only_mode_does_not_migrate(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("DELETE FROM schema_migrations WHERE version = 2")
    with pytest.raises(StorageError, match=r"lacks schema migration\(s\) 2; open it once"):
        SQLiteStore(path, read_only=True)


def test_url_parameters() -> None:
    assert read_sqlite_url("sqlite:///a.db?mode=ro&timeout=2.5") == read_sqlite_url(
        "sqlite:///a.db?timeout=2.5&mode=ro"
    )
    parsed = read_sqlite_url("sqlite:////srv/a.db?timeout=0")
    assert (parsed.path, parsed.read_only, parsed.timeout) == ("/srv/a.db", False, 0.0)
    assert read_sqlite_url("sqlite:///a.db").timeout == 30.0


# --- finding the holder from /proc/locks (a fake /proc: no process needed) -------------------


def _fake_proc(tmp_path: Path, db: Path, lines: list[str]) -> Path:
    proc = tmp_path / "proc"
    (proc / "4242").mkdir(parents=True)
    (proc / "4242" / "comm").write_text("sqlite3\n")
    import os

    shm, main = (os.stat(f"{db}-shm"), os.stat(db))

    def ident(st: os.stat_result) -> str:
        return f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"

    text = "\n".join(line.replace("SHM", ident(shm)).replace("DB", ident(main)) for line in lines)
    (proc / "locks").write_text(text + "\n")
    return proc


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["1: POSIX  ADVISORY  WRITE 4242 SHM 120 120"], [4242]),  # WAL writer
        (["1: POSIX  ADVISORY  WRITE 4242 SHM 0 EOF"], [4242]),
        (["1: POSIX  ADVISORY  WRITE 4242 DB 1073741825 1073741825"], [4242]),  # RESERVED
        (["1: POSIX  ADVISORY  READ 4242 SHM 120 120"], []),  # a reader
        (["1: POSIX  ADVISORY  WRITE 4242 SHM 128 128"], []),  # another slot
        (["1: -> POSIX  ADVISORY  WRITE 4242 SHM 120 120"], []),  # waiting, not holding
        (["1: FLOCK  ADVISORY  WRITE 4242 SHM 0 EOF"], []),
        (["1: POSIX  ADVISORY  WRITE 4242 00:00:1 120 120", "garbage", ""], []),
    ],
)
def test_lock_holders_are_read_from_proc_locks(
    tmp_path: Path, db: Path, lines: list[str], expected: list[int]
) -> None:
    with SQLiteStore(db):  # keeps the -shm file there
        proc = _fake_proc(tmp_path, db, lines)
        found = lock_holders(db, proc=proc)
    assert [h.pid for h in found] == expected
    assert all(h == LockHolder(4242, "sqlite3") for h in found)


def test_no_proc_means_no_holder(tmp_path: Path, db: Path) -> None:
    assert lock_holders(db, proc=tmp_path / "no-proc") == []
