"""The database fails or stalls: timeouts, retries, and nothing but one clear line.

A frozen server is simulated with a relay the test pauses (``zhenshen_pg_proxy``), a killed
connection with ``pg_terminate_backend`` on the store's own backend, a commit whose answer is
lost with the relay dropping the server's answer to ``COMMIT``. No test signals a process of
the shared server.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import errors as pg_errors
from zhenshen_pg_proxy import Proxy
from zhenshen_pg_testkit import ENV, SKIP_REASON, base_url
from zhenshen_postgres import PostgresStore
from zhenshen_postgres.connection import Failure, Stalled, classify

from zhenshen_core.cli.main import prepare
from zhenshen_core.errors import StorageError, StoreUnavailableError
from zhenshen_core.storage import DeadLetter, Record
from zhenshen_core.testing.storage_contract import BASE_TIME, fire, make_case, received

# --- what a failure means (no server needed) ----------------------------------------------------


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (pg_errors.DeadlockDetected("deadlock detected"), Failure.CONFLICT),
        (pg_errors.SerializationFailure("could not serialize"), Failure.CONFLICT),
        (pg_errors.AdminShutdown("terminating connection"), Failure.LOST),
        (pg_errors.CannotConnectNow("the database system is starting up"), Failure.LOST),
        (pg_errors.TooManyConnections("sorry, too many clients already"), Failure.LOST),
        (pg_errors.IdleInTransactionSessionTimeout("idle"), Failure.LOST),
        (pg_errors.ConnectionFailure("connection failure"), Failure.LOST),
        (psycopg.OperationalError("server closed the connection unexpectedly"), Failure.LOST),
        (pg_errors.QueryCanceled("canceling statement due to statement timeout"), Failure.STALLED),
        (pg_errors.LockNotAvailable("lock timeout"), Failure.STALLED),
        (Stalled("no answer"), Failure.STALLED),
        (pg_errors.ConnectionTimeout("connection timeout expired"), Failure.STALLED),
        (pg_errors.UniqueViolation("duplicate key"), Failure.REFUSED),
        (pg_errors.InsufficientPrivilege("permission denied"), Failure.REFUSED),
        (pg_errors.UndefinedTable("no such table"), Failure.REFUSED),
    ],
)
def test_failures_are_classified_by_what_may_follow(error: psycopg.Error, failure: Failure) -> None:
    assert classify(error) is failure


# --- against the server -------------------------------------------------------------------------

needs_server = pytest.mark.skipif(not os.environ.get(ENV), reason=SKIP_REASON)


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    with Proxy.to(base_url()) as relay:
        yield relay


def _through(proxy: Proxy, url: str, **params: object) -> str:
    extra = "".join(f"&{k}={v}" for k, v in params.items())
    return proxy.url(url) + extra


def _in_thread(call: Callable[[], Any], limit: float) -> tuple[BaseException | None, float]:
    """Run ``call``; return what it raised and how long it took, failing if it is still
    blocked after ``limit`` seconds (today's client waited for ever)."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(limit)
    assert not worker.is_alive(), f"still blocked after {limit} s"
    return outcome[0], time.monotonic() - started


def _backend_in(pid: int, prefix: str) -> None:
    """Wait until backend ``pid`` runs a statement starting with ``prefix``."""
    with psycopg.connect(base_url(), autocommit=True) as watcher:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT query, state FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone()
            if row and row[0].startswith(prefix) and row[1] == "active":
                return
            time.sleep(0.002)
    raise AssertionError(f"backend {pid} never ran {prefix!r}")


def _batch(n: int, start: int = 0) -> list[Any]:
    return [received(make_case(k)) for k in range(start, start + n)]


@needs_server
def test_the_store_sets_its_timeouts_on_the_server(schema_url: str) -> None:
    url = schema_url + "&statement_timeout=7.5&idle_in_transaction_timeout=20"
    with PostgresStore(url) as store:
        shown = store._read(
            lambda conn: conn.execute(
                "SELECT current_setting('statement_timeout'),"
                " current_setting('idle_in_transaction_session_timeout')"
            ).fetchone(),
            "show settings",
        )
        fd = store._read(lambda conn: conn.pgconn.socket, "socket")
        with socket.socket(fileno=os.dup(fd)) as sock:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
            if hasattr(socket, "TCP_KEEPIDLE"):
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
    assert shown == ("7500ms", "20s")


@needs_server
def test_a_frozen_server_is_reported_as_a_stall_within_seconds(
    pg_store: PostgresStore, proxy: Proxy
) -> None:
    with PostgresStore(_through(proxy, pg_store.url, statement_timeout=1)) as store:
        store.ingest(*received(make_case(1)))
        proxy.pause()
        error, took = _in_thread(store.count, limit=15)
        proxy.resume()
    assert isinstance(error, StoreUnavailableError), error
    message = str(error)
    assert "could not count cases: the server did not answer for 3 s" in message
    assert "\n" not in message and 2.9 < took < 6, took


@needs_server
def test_a_server_frozen_inside_copy_stops_the_batch_quietly(
    pg_store: PostgresStore, proxy: Proxy, capfd: pytest.CaptureFixture[str]
) -> None:
    items = _batch(6000)
    with PostgresStore(_through(proxy, pg_store.url, statement_timeout=1)) as store:
        pid = store._read(lambda conn: conn.info.backend_pid, "pid")

        def freeze() -> None:
            _backend_in(pid, "COPY cases")
            proxy.pause()

        threading.Thread(target=freeze, daemon=True).start()
        error, took = _in_thread(lambda: store.ingest_many(items), limit=30)
        proxy.resume()
    assert isinstance(error, StoreUnavailableError), error
    assert "did not answer" in str(error) and took < 20
    assert pg_store.count() == 0, "the batch was cut: nothing of it is stored"
    assert "error ignored" not in capfd.readouterr().err


@needs_server
def test_a_connection_killed_inside_copy_is_retried_without_noise(
    pg_store: PostgresStore, capfd: pytest.CaptureFixture[str]
) -> None:
    items = _batch(6000)
    pid = pg_store._read(lambda conn: conn.info.backend_pid, "pid")

    def kill() -> None:
        _backend_in(pid, "COPY cases")
        with psycopg.connect(base_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    results = pg_store.ingest_many(items)  # today: StorageError, and psycopg's noise on stderr
    killer.join(10)
    assert pg_store._read(lambda conn: conn.info.backend_pid, "pid") != pid, "not reconnected"
    assert [r.created for r in results] == [True] * len(items)
    assert pg_store.count() == len(items)
    assert "error ignored" not in capfd.readouterr().err


@needs_server
def test_a_save_whose_commit_answer_is_lost_is_found_committed(
    pg_store: PostgresStore, proxy: Proxy
) -> None:
    case, events = received(make_case(1))
    pg_store.ingest(case, events)
    with PostgresStore(_through(proxy, pg_store.url)) as store:
        new, event = fire(case, "note", {"text": "补充材料"})
        proxy.lose_answer_to(b"COMMIT")
        store.save(new, [event], expected_version=case.version)  # today: StorageError
        assert proxy.connections == 2, "the answer was lost and the store reconnected"
        assert [e.type for e in store.events(case.id)] == ["receive", "note"]
        assert store.get(case.id) == new


@needs_server
def test_a_server_frozen_after_a_commit_says_the_outcome_is_unknown(
    pg_store: PostgresStore, proxy: Proxy
) -> None:
    case, events = received(make_case(1))
    pg_store.ingest(case, events)
    with PostgresStore(_through(proxy, pg_store.url, statement_timeout=1)) as store:
        new, event = fire(case, "note", {"text": "x"})
        proxy.hold_answer_to(b"COMMIT")
        error, took = _in_thread(
            lambda: store.save(new, [event], expected_version=case.version), limit=15
        )
        proxy.resume()
    assert isinstance(error, StoreUnavailableError), error
    assert "stopped answering while committing, and whether it was committed is unknown" in str(
        error
    )
    assert took < 6 and pg_store.get(case.id) == new  # it was, as it happens


@needs_server
def test_writes_whose_commit_answer_is_lost_are_stored_once(
    pg_store: PostgresStore, proxy: Proxy
) -> None:
    letter = DeadLetter(channel="csv", source="x.csv", line=2, raw="a,b", reason="r", at=BASE_TIME)
    items = _batch(3)
    with PostgresStore(_through(proxy, pg_store.url)) as store:
        proxy.lose_answer_to(b"COMMIT")
        store.add_dead_letter(letter)
        proxy.lose_answer_to(b"COMMIT")
        results = store.ingest_many(items)
        proxy.lose_answer_to(b"INSERT INTO records")  # an upsert: retried as it is
        store.put_record(Record(kind="k", id="1", data={"n": 1}))
        assert proxy.connections == 4
    assert pg_store.dead_letters() == [letter]
    assert [r.created for r in results] == [True, True, True], "committed by this call"
    assert pg_store.count() == 3 and len(pg_store.records("k")) == 1


@needs_server
def test_one_case_whose_commit_answer_is_lost_is_created_once(
    pg_store: PostgresStore, proxy: Proxy
) -> None:
    """One case goes in one statement in autocommit, which commits itself: its answer lost,
    the store tries again on a new connection, finds the case it wrote under its own id, so
    the call says created, and the audit record that rode along is stored once."""
    from zhenshen_core.testing.audit_contract import make_audit_record

    case, events = received(make_case(1))
    record = make_audit_record(role="intake", action="receive_case", case_id=case.id)
    with PostgresStore(_through(proxy, pg_store.url)) as store:
        proxy.lose_answer_to(b"INSERT INTO cases")
        result = store.ingest(case, events, audit=[record])
        assert proxy.connections == 2, "the answer was lost and the store reconnected"
    assert result.created and pg_store.count() == 1
    assert pg_store.get(case.id) == case and pg_store.events(case.id) == events
    assert [r.id for r in pg_store.audit(case_id=case.id)] == [record.id]


@needs_server
def test_a_server_gone_for_good_is_given_up_after_the_retries(
    pg_store: PostgresStore, proxy: Proxy
) -> None:
    store = PostgresStore(_through(proxy, pg_store.url, retries=3))
    try:
        assert store.count() == 0
        proxy.close()  # the connection drops, and nothing listens any more
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match=r"could not count cases \(4 attempts\)"):
            store.count()
        assert time.monotonic() - started < 2.0  # at most 0.1 + 0.2 + 0.4 s of backoff
    finally:
        store.close()


@needs_server
def test_writes_after_the_server_ended_the_session_are_retried(pg_store: PostgresStore) -> None:
    """An administrator or a failover ends the session between two calls: the next save finds
    the connection gone (the server said so before any commit) and runs again on a new one."""
    case, events = received(make_case(1))
    pg_store.ingest(case, events)
    pid = pg_store._read(lambda conn: conn.info.backend_pid, "pid")
    with psycopg.connect(base_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    new, event = fire(case, "note", {"text": "重连后保存"})
    pg_store.save(new, [event], expected_version=case.version)  # today: StorageError
    assert pg_store.get(case.id) == new


@needs_server
def test_retries_zero_reports_a_lost_connection_at_once(schema_url: str) -> None:
    with PostgresStore(schema_url + "&retries=0") as store:
        pid = store._read(lambda conn: conn.info.backend_pid, "pid")
        with psycopg.connect(base_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(StoreUnavailableError, match=r"could not count cases \(1 attempt\)"):
            store.count()
        assert store.count() == 0, "the next call connects again"


@needs_server
def test_a_server_that_never_answers_at_open_is_a_stall(proxy: Proxy) -> None:
    proxy.pause()
    url = proxy.url(base_url()) + ("&" if "?" in base_url() else "?") + "connect_timeout=2"
    error, took = _in_thread(lambda: PostgresStore(url), limit=15)
    proxy.resume()
    assert isinstance(error, StoreUnavailableError), error
    assert "no answer within connect_timeout=2 s" in str(error) and took < 6


@needs_server
def test_refusals_are_not_retried(schema_url: str) -> None:
    url = schema_url.replace("postgres@", "nobody_zs@")
    started = time.monotonic()
    with pytest.raises(StorageError) as info:
        PostgresStore(url)
    assert not isinstance(info.value, StoreUnavailableError)
    assert "nobody_zs" in str(info.value) and time.monotonic() - started < 2


@needs_server
def test_cli_reports_a_stalled_server_in_one_line_with_exit_75(
    pg_store: PostgresStore, proxy: Proxy
) -> None:
    url = _through(proxy, pg_store.url, statement_timeout=1, connect_timeout=2)
    proxy.pause()
    result: list[Any] = []
    error, _took = _in_thread(
        lambda: result.append(CliRunner().invoke(*prepare(["cases", "list", "--store", url]))),
        limit=20,
    )
    proxy.resume()
    assert error is None and result
    outcome = result[0]
    assert outcome.exit_code == 75, outcome.output
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and "connect_timeout" in lines[0], lines
