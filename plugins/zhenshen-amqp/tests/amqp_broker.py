"""Test helpers for the real RabbitMQ (``ZHENSHEN_TEST_AMQP_URL``, default the local broker,
guest/guest): each test gets queues and exchanges of its own, deleted afterwards; the tests
skip with a message where no broker answers."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from clikit import invoke_with_plugins, isolate_cli

ENV = "ZHENSHEN_TEST_AMQP_URL"
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"


def broker_url() -> str:
    return os.environ.get(ENV) or DEFAULT_URL


def order(n: int, **extra: Any) -> dict[str, Any]:
    """A case object of the ``json`` channel with external id ``E<n>``."""
    return {
        "external_id": f"E{n:05d}",
        "received_at": "2026-03-02T09:30:00+08:00",
        "title": f"施工许可迟迟不批 {n}",
        **extra,
    }


@dataclass
class Broker:
    """One test's queue (and its dead-letter exchange and queue) on the real broker."""

    url: str
    queue: str
    exchanges: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)

    def connection(self) -> Any:
        import pika

        return pika.BlockingConnection(pika.URLParameters(self.url))

    def publish(self, bodies: Iterable[bytes | str | dict[str, Any]], queue: str = "") -> int:
        """Publish persistent messages with confirms to the test's queue (declared first)."""
        import pika
        from zhenshen_amqp.broker import declare_intake

        conn = self.connection()
        try:
            ch = conn.channel()
            declare_intake(ch, self.queue)
            ch.confirm_delivery()
            n = 0
            for body in bodies:
                if isinstance(body, dict):
                    body = json.dumps(body, ensure_ascii=False)
                data = body.encode() if isinstance(body, str) else body
                props = pika.BasicProperties(delivery_mode=2, content_type="application/json")
                ch.basic_publish("", queue or self.queue, data, props)
                n += 1
            return n
        finally:
            conn.close()

    def count(self, queue: str | None = None) -> int:
        """Messages ready in ``queue`` (default: the test's queue)."""
        conn = self.connection()
        try:
            method = conn.channel().queue_declare(queue or self.queue, passive=True).method
            return int(method.message_count)
        finally:
            conn.close()

    def dead(self) -> list[bytes]:
        """The bodies in the queue's dead-letter queue (taken off it)."""
        from zhenshen_amqp.broker import dead_letter_name

        conn = self.connection()
        bodies = []
        try:
            ch = conn.channel()
            while True:
                method, _, body = ch.basic_get(dead_letter_name(self.queue), auto_ack=True)
                if method is None:
                    return bodies
                bodies.append(body)
        finally:
            conn.close()

    def cleanup(self) -> None:
        from zhenshen_amqp.broker import dead_letter_name

        conn = self.connection()
        try:
            ch = conn.channel()
            for queue in [self.queue, dead_letter_name(self.queue), *self.queues]:
                ch.queue_delete(queue)
            for exchange in [dead_letter_name(self.queue), *self.exchanges]:
                ch.exchange_delete(exchange)
        finally:
            conn.close()


@pytest.fixture
def broker() -> Iterator[Broker]:
    url = broker_url()
    try:
        import pika

        pika.BlockingConnection(pika.URLParameters(url)).close()
    except Exception as exc:  # any failure to reach it: the tests cannot run here
        pytest.skip(f"no RabbitMQ at {ENV} or 127.0.0.1:5672 ({type(exc).__name__}): {exc}")
    found = Broker(url, "zs.test." + secrets.token_hex(6))
    yield found
    found.cleanup()


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    """The ``zhenshen`` CLI in-process with the amqp and 12345 plugins."""
    isolate_cli(monkeypatch, tmp_path)
    monkeypatch.delenv("ZHENSHEN_PACK", raising=False)

    def invoke(*args: str) -> Result:
        return invoke_with_plugins(("zhenshen_amqp.plugin", "zhenshen_12345.plugin"), *args)

    return invoke


def consumer_process(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """``zhenshen consume …`` as its own process (to kill it, or send it SIGTERM)."""
    env = {
        **os.environ,
        "ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1",
        "NO_COLOR": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("ZHENSHEN_STORE", None)
    env.pop("ZHENSHEN_PACK", None)
    plugins = ["-p", "zhenshen_amqp.plugin", "-p", "zhenshen_postgres.plugin"]
    argv = [sys.executable, "-m", "zhenshen_core", *plugins, "consume", *args]
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start consumer processes; any still running at the end is killed."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        process = consumer_process(*args, cwd=tmp_path)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)
