"""The event publisher against the real RabbitMQ: every lifecycle event one persistent,
confirmed message on the topic exchange (desk.<desk>.<event>), the 12345 status document
inside, a notice's key published once, an unconfirmed one an error the outbox retries."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from amqp_broker import Broker, order
from click.testing import Result
from zhenshen_amqp import EventPublisher, EventsPlugin, PublishError, routing_key

from zhenshen_core.desk import Desk
from zhenshen_core.model.case import SHANGHAI, Case
from zhenshen_core.plugins import Notification, PluginConfig, PluginHost
from zhenshen_core.storage import MemoryStore

ORDER = {
    "external_id": "GD2026030400001",
    "channel": "hotline_12345",
    "received_at": "2026-03-02T09:30:00+08:00",
    "title": "已取得执照但无法经营",
    "content": "联系电话 13800001234",
    "requester": {"name": "王先生", "phone": "13800001234"},
}


@pytest.fixture
def events(broker: Broker) -> Iterator[tuple[str, str]]:
    """A topic exchange of the test's own and a queue bound to every desk.gaoxin event."""
    exchange = f"zs.test.events.{secrets.token_hex(6)}"
    queue = f"{broker.queue}.events"
    conn = broker.connection()
    ch = conn.channel()
    ch.exchange_declare(exchange, exchange_type="topic", durable=True)
    ch.queue_declare(queue, durable=True)
    ch.queue_bind(queue, exchange, routing_key="desk.gaoxin.#")
    conn.close()
    broker.exchanges.append(exchange)
    broker.queues.append(queue)
    yield exchange, queue


def _take(broker: Broker, queue: str) -> list[tuple[Any, Any, dict[str, Any]]]:
    conn = broker.connection()
    out = []
    try:
        ch = conn.channel()
        while True:
            method, properties, body = ch.basic_get(queue, auto_ack=True)
            if method is None:
                return out
            out.append((method, properties, json.loads(body)))
    finally:
        conn.close()


def test_every_lifecycle_event_is_one_persistent_message_with_the_platform_document(
    broker: Broker, events: tuple[str, str]
) -> None:
    exchange, queue = events
    publisher = EventPublisher(broker.url, desk="gaoxin", exchange=exchange)
    host = PluginHost(PluginConfig(autoload=False))
    host.register(EventsPlugin(publisher), name="events")
    desk = Desk(MemoryStore(), host=host, now=lambda: datetime(2026, 3, 2, 10, tzinfo=SHANGHAI))
    try:
        case = desk.receive(ORDER)
        desk.route(case.id, reason="single department")
        desk.return_case(case.id, "gxq.scjgj", reason="不属于本部门职责")
        desk.complete_routed(case.id)
        desk.record_feedback(case.id, "satisfied", comment="办得快")
        desk.close_case(case.id)
    finally:
        publisher.close()
    assert desk.failures == []
    got = _take(broker, queue)
    assert [m.routing_key for m, _, _ in got] == [
        "desk.gaoxin.case_received",
        "desk.gaoxin.route",
        "desk.gaoxin.return_case",
        "desk.gaoxin.complete",
        "desk.gaoxin.record_feedback",
        "desk.gaoxin.close",
    ]
    assert all(p.delivery_mode == 2 and p.content_type == "application/json" for _, p, _ in got)
    assert len({p.message_id for _, p, _ in got}) == 6
    platform = [d["platform"]["action_label"] if d["platform"] else None for _, _, d in got]
    assert platform == ["签收", None, "退单", "办结", "回访", "办结"]
    assert got[2][2]["platform"]["reason"] == "不属于本部门职责"
    text = json.dumps([d for _, _, d in got], ensure_ascii=False)
    assert "13800001234" not in text and "王先生" not in text


def test_a_notice_confirmed_once_is_not_published_again(
    broker: Broker, events: tuple[str, str]
) -> None:
    exchange, queue = events
    case = Case.model_validate(ORDER)
    notice = Notification(
        "case_transitioned", case, "accept", key="ZS1:2:case_transitioned:amqp-events"
    )
    publisher = EventPublisher(broker.url, desk="gaoxin", exchange=exchange)
    try:
        for attempt in (1, 2, 3):  # the outbox delivering it again (a lost mark, a retry)
            publisher.send(Notification(**{**notice.__dict__, "attempt": attempt}))
    finally:
        publisher.close()
    (message,) = _take(broker, queue)
    method, properties, document = message
    assert method.routing_key == "desk.gaoxin.accept"
    assert properties.message_id == "ZS1:2:case_transitioned:amqp-events"
    assert properties.headers["zhenshen-key"] == properties.message_id
    assert document["key"] == properties.message_id and document["event"] == "accept"
    assert document["platform"]["action"] == "accept"


def test_an_unconfirmed_notice_raises_so_the_outbox_keeps_it_pending(
    broker: Broker, events: tuple[str, str]
) -> None:
    exchange, queue = events
    case = Case.model_validate(ORDER)
    notice = Notification("case_received", case, "receive", key="ZS1:1:case_received:x")
    unreachable = EventPublisher("amqp://guest:guest@127.0.0.1:1/", "gaoxin", exchange)
    with pytest.raises(PublishError) as raised:
        unreachable.send(notice)
    assert "guest:guest" not in str(raised.value)
    # Delivered again later (after a restart: a new publisher), it goes out, once.
    publisher = EventPublisher(broker.url, "gaoxin", exchange)
    try:
        publisher.send(notice)
    finally:
        publisher.close()
    assert [p.message_id for _, p, _ in _take(broker, queue)] == ["ZS1:1:case_received:x"]
    assert routing_key("gao.xin", notice) == "desk.gao_xin.case_received"


def test_through_the_outbox_an_unconfirmed_event_is_sent_after_a_restart_and_only_once(
    broker: Broker, events: tuple[str, str], tmp_path: Path
) -> None:
    from datetime import timedelta

    from zhenshen_core.storage import SQLiteStore

    exchange, queue = events
    now = datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)

    def desk_on(url: str, when: datetime) -> tuple[Desk, EventPublisher]:
        publisher = EventPublisher(url, desk="gaoxin", exchange=exchange)
        host = PluginHost(PluginConfig(autoload=False))
        host.register(EventsPlugin(publisher), name="events")
        store = SQLiteStore(str(tmp_path / "desk.db"))
        return Desk(store, host=host, now=lambda: when), publisher

    # The broker cannot be reached when the case arrives: the change is saved, its notice
    # stays in the outbox, pending.
    desk, publisher = desk_on("amqp://guest:guest@127.0.0.1:1/", now)
    case = desk.receive(ORDER)
    (pending,) = desk.store.outbox_notices(status="pending")
    assert pending.target == "amqp-events" and pending.attempts == 1
    assert "no confirm" in (pending.last_error or "")
    assert "guest:guest" not in (pending.last_error or "")
    desk.store.close()
    assert _take(broker, queue) == []
    # Another process, later, with the broker back: the sweep delivers what is pending.
    later = now + timedelta(hours=1)
    for _ in range(2):  # and a second sweep publishes nothing again
        desk, publisher = desk_on(broker.url, later)
        try:
            desk.sweep(later)
        finally:
            publisher.close()
            desk.store.close()
    got = _take(broker, queue)
    assert [p.message_id for _, p, _ in got] == [pending.key]
    assert got[0][2]["case_id"] == case.id and got[0][2]["platform"]["action"] == "sign"
    store = SQLiteStore(str(tmp_path / "desk.db"))
    try:
        (delivered,) = store.outbox_notices(status="delivered")
        assert delivered.key == pending.key and delivered.attempts == 2
    finally:
        store.close()


def test_consume_publishes_each_stored_case_s_event_on_one_connection(
    run: Callable[..., Result],
    broker: Broker,
    events: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exchange, queue = events
    monkeypatch.setenv("ZHENSHEN_EVENTS_BROKER", broker.url)
    monkeypatch.setenv("ZHENSHEN_EVENTS_EXCHANGE", exchange)
    monkeypatch.setenv("ZHENSHEN_DESK", "gaoxin")
    broker.publish([order(n) for n in range(40)])
    result = run(
        "-p", "zhenshen_amqp.events", "consume", "--broker", broker.url, "--queue",
        broker.queue, "--store", f"sqlite:///{tmp_path / 'd.db'}", "--stop-when-idle", "0.5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    got = _take(broker, queue)
    assert [m.routing_key for m, _, _ in got] == ["desk.gaoxin.case_received"] * 40
    assert sorted(d["work_order"] for _, _, d in got) == [f"E{n:05d}" for n in range(40)]


def test_one_connection_swaps_the_per_notice_notifier_for_one_publisher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from zhenshen_amqp import events as events_module

    host = PluginHost(PluginConfig(autoload=False))
    host.register(events_module, name="amqp-events")
    assert events_module.one_connection(host) is None  # no broker named: nothing to swap
    assert host.notifier_names() == []
    monkeypatch.setenv("ZHENSHEN_EVENTS_BROKER", "amqp://guest:guest@127.0.0.1:1/")
    assert host.notifier_names() == ["amqp-events"]
    publisher = events_module.one_connection(host)
    assert isinstance(publisher, EventPublisher) and publisher.exchange == "zhenshen.events"
    assert host.notifier_names() == ["amqp-events"]  # the same name, now over one publisher
    assert not host.pm.is_registered(events_module)
    assert events_module.one_connection(host) is None  # swapped once
