"""``zhenshen consume`` when things go wrong, against the real RabbitMQ: a consumer killed
with SIGKILL mid-stream and started again, SIGTERM, the broker closing the connection, two
consumers competing for one queue on one PostgreSQL store. Every message is a case exactly
once, whatever happens."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from amqp_broker import Broker, order

from zhenshen_core.storage import CaseStore
from zhenshen_core.storage import open_store as open_builtin

N = 600
KILL_N = 2000  # enough that the kill lands mid-stream on a fast machine too


def open_store(url: str) -> CaseStore:
    if url.startswith("postgresql:"):
        from zhenshen_postgres import PostgresStore

        return PostgresStore(url)
    return open_builtin(url)


def _count(store_url: str) -> int:
    store = open_store(store_url)
    try:
        return store.count()
    finally:
        store.close()


def _wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.05)


def _external_ids(store_url: str) -> list[str]:
    store = open_store(store_url)
    try:
        return sorted(c.external_id or "" for c in store.query())
    finally:
        store.close()


def _consumers_on(broker: Broker) -> int:
    conn = broker.connection()
    try:
        ch = conn.channel()
        try:
            method = ch.queue_declare(broker.queue, passive=True).method
        except Exception:  # not declared yet: no consumer
            return 0
        return int(method.consumer_count)
    finally:
        if conn.is_open:
            conn.close()


def _args(broker: Broker, store_url: str, *more: str) -> list[str]:
    return ["--broker", broker.url, "--queue", broker.queue, "--store", store_url, *more]


def test_kill_9_mid_stream_then_restart_stores_every_message_once(
    broker: Broker, spawn: Callable[..., subprocess.Popen[str]], tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'desk.db'}"
    broker.publish(order(n) for n in range(KILL_N))
    first = spawn(*_args(broker, store_url, "--prefetch", "25"))
    _wait_for(lambda: (tmp_path / "desk.db").exists() and _count(store_url) >= 100)
    first.send_signal(signal.SIGKILL)  # wherever it is: mid-batch, mid-commit, mid-ack
    first.wait(timeout=10)
    stored_before = _count(store_url)
    assert stored_before < KILL_N, "the consumer finished before it was killed; nothing tested"
    second = spawn(*_args(broker, store_url, "--prefetch", "25", "--stop-when-idle", "1"))
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert _external_ids(store_url) == [f"E{n:05d}" for n in range(KILL_N)]
    assert broker.count() == 0
    received, stored, duplicates = map(int, re.findall(r"\d+", out)[:3])
    assert stored == KILL_N - stored_before  # the rest, once; redelivered ones are duplicates
    assert received == stored + duplicates


def test_sigterm_finishes_the_batch_in_hand_and_leaves_the_rest_queued(
    broker: Broker, spawn: Callable[..., subprocess.Popen[str]], tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'desk.db'}"
    broker.publish(order(n) for n in range(N))
    consumer = spawn(*_args(broker, store_url, "--prefetch", "10"))
    _wait_for(lambda: (tmp_path / "desk.db").exists() and _count(store_url) >= 50)
    consumer.send_signal(signal.SIGTERM)
    out, err = consumer.communicate(timeout=15)
    assert consumer.returncode == 0, err
    assert "Traceback" not in err
    stored = _count(store_url)
    received = int(out.split()[0])
    assert out.startswith(f"{received} received, {stored} stored, 0 duplicate, 0 dead letters")
    # Nothing half-stored, nothing lost: what it did not store is still on the queue.
    assert stored + broker.count() == N


def test_a_broker_that_is_not_there_yet_is_waited_for_and_sigterm_still_stops(
    spawn: Callable[..., subprocess.Popen[str]], tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'desk.db'}"
    url = "amqp://guest:guest@127.0.0.1:1/"  # nothing listens there
    consumer = spawn("--broker", url, "--queue", "zs.none", "--store", store_url)
    time.sleep(3)
    assert consumer.poll() is None  # still trying, with backoff
    consumer.send_signal(signal.SIGTERM)
    out, err = consumer.communicate(timeout=15)
    assert consumer.returncode == 0, err
    assert "broker connection lost or refused (AMQPConnectionError)" in err
    assert "reconnecting in" in err
    assert "guest:guest" not in err and "amqp://guest:***@127.0.0.1:1/" in err
    assert out.startswith("0 received, 0 stored")


@pytest.fixture
def rabbitmqctl() -> Iterator[str]:
    found = shutil.which("rabbitmqctl")
    if found is None:
        pytest.skip("rabbitmqctl is not on PATH: cannot close a connection from the broker side")
    probe = subprocess.run([found, "list_connections", "name"], capture_output=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"rabbitmqctl cannot reach the broker: {probe.stderr.decode()[-200:]}")
    yield found


def _consumer_connections(ctl: str, queue: str) -> list[str]:
    listed = subprocess.run(
        [ctl, "-q", "list_connections", "pid", "client_properties"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [line.split("\t")[0] for line in listed.splitlines() if f"consume {queue}" in line]


def test_the_consumer_reconnects_when_the_broker_closes_its_connection(
    broker: Broker,
    spawn: Callable[..., subprocess.Popen[str]],
    tmp_path: Path,
    rabbitmqctl: str,
) -> None:
    store_url = f"sqlite:///{tmp_path / 'desk.db'}"
    broker.publish(order(n) for n in range(100))
    consumer = spawn(*_args(broker, store_url, "--prefetch", "20"))
    _wait_for(lambda: (tmp_path / "desk.db").exists() and _count(store_url) == 100)
    (pid,) = _consumer_connections(rabbitmqctl, broker.queue)
    # What a broker restart does to its clients: their connection closed under them.
    closing = [rabbitmqctl, "close_connection", pid, "test: broker going down"]
    subprocess.run(closing, check=True, capture_output=True, timeout=60)
    _wait_for(lambda: len(_consumer_connections(rabbitmqctl, broker.queue)) == 1, timeout=60)
    broker.publish(order(n) for n in range(100, 200))
    _wait_for(lambda: _count(store_url) == 200)
    consumer.send_signal(signal.SIGTERM)
    out, err = consumer.communicate(timeout=15)
    assert consumer.returncode == 0, err
    assert "broker connection lost" in err and "reconnecting in" in err
    assert "guest:guest" not in err  # the password is never echoed
    assert "(1 reconnection(s))" in out
    assert _external_ids(store_url) == [f"E{n:05d}" for n in range(200)]


ENV_PG = "ZHENSHEN_TEST_PG_URL"


@pytest.fixture
def pg_url() -> Iterator[str]:
    base = os.environ.get(ENV_PG, "")
    if not base:
        pytest.skip(f"{ENV_PG} is not set; PostgreSQL tests need a server")
    schema = "zs_amqp_" + secrets.token_hex(6)
    yield f"{base}{'&' if '?' in base else '?'}schema={schema}"
    import psycopg
    from psycopg import sql

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.mark.postgres
def test_two_consumers_compete_for_one_queue_on_one_postgres_store(
    broker: Broker, spawn: Callable[..., subprocess.Popen[str]], pg_url: str
) -> None:
    argv = _args(broker, pg_url, "--prefetch", "20", "--stop-when-idle", "3")
    consumers = [spawn(*argv) for _ in range(2)]
    # Both connected before the first message, so that both get a share.
    _wait_for(lambda: _consumers_on(broker) == 2)
    # Every work order twice (a platform that retries), interleaved: the two consumers race
    # to store the same external id.
    broker.publish(order(n % 300) for n in range(N))
    totals = []
    for consumer in consumers:
        out, err = consumer.communicate(timeout=90)
        assert consumer.returncode == 0, err
        totals.append(list(map(int, re.findall(r"\d+", out)[:4])))
    assert all(t[0] > 0 for t in totals), f"one consumer got nothing: {totals}"
    assert sum(t[0] for t in totals) == N
    assert sum(t[1] for t in totals) == 300  # stored: each work order once
    assert sum(t[2] for t in totals) == 300
    assert _external_ids(pg_url) == [f"E{n:05d}" for n in range(300)]
    assert broker.count() == 0
