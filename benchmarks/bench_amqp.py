"""RabbitMQ: ``zhenshen consume`` into PostgreSQL, and what publisher confirms cost.

    export ZHENSHEN_TEST_PG_URL=postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/bench_amqp.py                  # --n 20000 --events 5000

Needs the broker (``ZHENSHEN_TEST_AMQP_URL``, default amqp://guest:guest@127.0.0.1:5672/)
and PostgreSQL. Every part uses its own queue, exchange and schema (``bench_<random>``),
deleted at the end.

1. **Consume.** ``--n`` work orders (JSON case objects, persistent messages) wait on a queue;
   ``zhenshen consume`` processes (each a separate ``python -m zhenshen_core``, start-up
   included in the time) store them into one PostgreSQL schema until every case is there.
   Two consumers with the default prefetch (batches of up to 200 messages, one transaction
   each, acknowledged after the commit) against one consumer, against two consumers at
   ``--prefetch 1`` (the obvious alternative: one transaction and one ack per message), and
   against ``zhenshen ingest jsonl`` of the same records from a file (no broker at all).
   Target: ≥ 1,000 messages/s with two consumers.
2. **Publisher confirms.** ``--events`` lifecycle notifications published by
   ``EventPublisher`` to a topic exchange of its own (bound to a queue, so every message is
   routed and kept), with confirms (``send`` returns once the broker has the message: what the
   outbox needs) and without (fire and forget), and every message counted on the queue.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pika
import psycopg
from psycopg import sql
from zhenshen_amqp import EventPublisher, declare_intake
from zhenshen_amqp.broker import dead_letter_name
from zhenshen_postgres import PostgresStore

from zhenshen_core.model.case import Case
from zhenshen_core.plugins import Notification

BROKER = os.environ.get("ZHENSHEN_TEST_AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672/"
PLUGINS = ["-p", "zhenshen_amqp.plugin", "-p", "zhenshen_postgres.plugin"]


def order(n: int) -> dict[str, object]:
    return {
        "external_id": f"B{n:07d}",
        "channel": "hotline_12345",
        "received_at": "2026-03-02T09:30:00+08:00",
        "appeal_type": "complaint",
        "title": f"施工许可迟迟不批 {n}",
        "content": "项目已取得用地许可，施工许可提交三个月仍未办结，影响开工",
        "enterprise": {"name": "成都某科技有限公司", "uscc": "91510100MA68NDJH6X"},
    }


def _connection() -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(BROKER))


def fill(queue: str, n: int) -> None:
    conn = _connection()
    ch = conn.channel()
    declare_intake(ch, queue)
    props = pika.BasicProperties(delivery_mode=2, content_type="application/json")
    for i in range(n):
        ch.basic_publish("", queue, json.dumps(order(i), ensure_ascii=False).encode(), props)
    while ch.queue_declare(queue, passive=True).method.message_count < n:
        time.sleep(0.05)
    conn.close()


def drop_queue(queue: str) -> None:
    conn = _connection()
    ch = conn.channel()
    for name in (queue, dead_letter_name(queue)):
        ch.queue_delete(name)
    ch.exchange_delete(dead_letter_name(queue))
    conn.close()


def count(url: str) -> int:
    store = PostgresStore(url)
    try:
        return store.count()
    finally:
        store.close()


def _env() -> dict[str, str]:
    env = {**os.environ, "ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("ZHENSHEN_STORE", None)
    env.pop("ZHENSHEN_PACK", None)
    return env


def consume(base: str, n: int, consumers: int, prefetch: int) -> tuple[float, float]:
    """Seconds from starting the consumers until all ``n`` cases are stored, and from the
    first stored case (start-up left out) until then."""
    schema = "bench_" + secrets.token_hex(6)
    url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    queue = "zs.bench." + secrets.token_hex(6)
    fill(queue, n)
    PostgresStore(url).close()  # the schema made before the clock starts
    argv = [sys.executable, "-m", "zhenshen_core", *PLUGINS, "consume", "--broker", BROKER]
    argv += ["--queue", queue, "--store", url, "--prefetch", str(prefetch)]
    argv += ["--stop-when-idle", "1"]
    start = time.perf_counter()
    running = [
        subprocess.Popen(argv, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(consumers)
    ]
    first: float | None = None
    try:
        while (stored := count(url)) < n:
            if stored and first is None:
                first = time.perf_counter()
            if all(p.poll() is not None for p in running):
                errors = b"".join(p.stderr.read() for p in running if p.stderr)
                raise SystemExit(f"consumers stopped early: {errors.decode()[-2000:]}")
            time.sleep(0.02)
        end = time.perf_counter()
        seconds = end - start
        steady = end - (first or start)
        for p in running:
            p.wait(timeout=60)
    finally:
        for p in running:
            if p.poll() is None:
                p.kill()
        drop_queue(queue)
        _drop_schema(base, schema)
    return seconds, steady


def ingest_file(base: str, n: int) -> tuple[float, float]:
    """``zhenshen ingest jsonl`` of the same records into PostgreSQL (no broker)."""
    schema = "bench_" + secrets.token_hex(6)
    url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    PostgresStore(url).close()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.jsonl"
        lines = (json.dumps(order(i), ensure_ascii=False) for i in range(n))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        argv = [sys.executable, "-m", "zhenshen_core", *PLUGINS, "ingest", "jsonl", str(path)]
        start = time.perf_counter()
        subprocess.run([*argv, "--store", url], env=_env(), check=True, capture_output=True)
        seconds = time.perf_counter() - start
    assert count(url) == n
    _drop_schema(base, schema)
    return seconds, seconds


def _drop_schema(base: str, schema: str) -> None:
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def publish(events: int, confirm: bool) -> float:
    """Seconds to publish ``events`` notifications (each a distinct notice key)."""
    exchange = "zs.bench.events." + secrets.token_hex(6)
    queue = exchange + ".q"
    conn = _connection()
    ch = conn.channel()
    ch.exchange_declare(exchange, exchange_type="topic", durable=True)
    ch.queue_declare(queue, durable=True)
    ch.queue_bind(queue, exchange, routing_key="desk.#")
    case = Case.model_validate(order(1))
    notices = [
        Notification("case_transitioned", case, "accept", key=f"{case.id}:{i}:t:amqp-events")
        for i in range(events)
    ]
    publisher = EventPublisher(BROKER, desk="bench", exchange=exchange, confirm=confirm)
    publisher.send(notices[0])  # connected before the clock starts
    start = time.perf_counter()
    for notice in notices[1:]:
        publisher.send(notice)
    seconds = time.perf_counter() - start
    publisher.close()
    while ch.queue_declare(queue, passive=True).method.message_count < events:
        time.sleep(0.05)  # without confirms the broker may still be writing them
    ch.queue_delete(queue)
    ch.exchange_delete(exchange)
    conn.close()
    return seconds


def _row(label: str, n: int, seconds: float, best: float | None = None) -> None:
    ratio = f"{seconds / best:6.2f}x" if best else ""
    print(f"  {label:<48} {n:>7,} in {seconds:6.2f} s {n / seconds:>9,.0f} /s  {ratio}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="messages to consume")
    parser.add_argument("--events", type=int, default=5_000, help="notifications to publish")
    args = parser.parse_args(argv)
    base = os.environ.get("ZHENSHEN_TEST_PG_URL")
    if not base:
        raise SystemExit("set ZHENSHEN_TEST_PG_URL to a PostgreSQL database")
    n = args.n
    print(f"consume {n:,} messages into PostgreSQL (time from starting the consumers)")
    runs: list[tuple[str, Callable[[], tuple[float, float]]]] = [
        ("2 consumers, prefetch 200 (batched)", lambda: consume(base, n, 2, 200)),
        ("1 consumer, prefetch 200", lambda: consume(base, n, 1, 200)),
        ("2 consumers, prefetch 1 (a commit per message)", lambda: consume(base, n, 2, 1)),
        ("zhenshen ingest jsonl of a file (no broker)", lambda: ingest_file(base, n)),
    ]
    results = [(label, run()) for label, run in runs]
    best, best_steady = results[0][1]
    for index, (label, (seconds, steady)) in enumerate(results):
        _row(label, n, seconds, best if index else None)
        if steady != seconds:
            _row("  from the first stored case", n, steady, best_steady if index else None)
    print("  (ratio: that time over the two batched consumers')")
    verdict = "met" if n / best >= 1000 else "NOT met"
    print(f"target (>= 1,000 messages/s with 2 consumers): {verdict}")
    events = args.events
    print(f"publish {events:,} lifecycle events to a topic exchange")
    with_confirms = publish(events, True)
    without = publish(events, False)
    _row("with publisher confirms (what the outbox uses)", events, with_confirms)
    _row("without confirms (fire and forget)", events, without)
    print(f"  confirms cost {with_confirms / without:.1f}x the time of fire and forget")


if __name__ == "__main__":
    main()
