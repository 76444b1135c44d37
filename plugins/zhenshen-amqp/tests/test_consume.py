"""``zhenshen consume`` against the real RabbitMQ: each message a case once, acknowledged
after the commit; a message that can never be a case a dead letter of ours and of the queue's
dead-letter exchange; clear errors for what waiting cannot mend."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from amqp_broker import Broker, order
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhenshen_core.storage import open_store


def _consume(run: Callable[..., Result], broker: Broker, *args: str) -> Result:
    return run(
        "consume",
        "--broker",
        broker.url,
        "--queue",
        broker.queue,
        "--stop-when-idle",
        "0.5",
        *args,
    )


def test_each_message_is_one_case_and_poison_goes_to_both_dead_letters(
    run: Callable[..., Result], broker: Broker, tmp_path: Path
) -> None:
    bodies: list[bytes | str | dict[str, object]] = [order(n) for n in range(30)]
    bodies += [
        "{not json",  # can never be a case
        order(99, received_at="明天"),  # a case object, but invalid
        b'{"external_id": "E1", "title": "\xff"}',  # not UTF-8
        order(3),  # the same work order again: a duplicate, not a second case
    ]
    broker.publish(bodies)
    store_url = f"sqlite:///{tmp_path / 'desk.db'}"
    result = _consume(run, broker, "--store", store_url, "--prefetch", "8")
    assert result.exit_code == 1, result.output  # dead letters, as ingest's rejected records
    assert result.stdout.startswith("34 received, 30 stored, 1 duplicate, 3 dead letters in "), (
        result.stdout
    )
    store = open_store(store_url)
    try:
        assert sorted(c.external_id or "" for c in store.query()) == [
            f"E{n:05d}" for n in range(30)
        ]
        letters = store.dead_letters()
        assert len(letters) == 3
        assert {x.channel for x in letters} == {"json"}
        assert all(x.source.startswith(f"amqp:{broker.queue}#sha256:") for x in letters)
        assert any("malformed JSON" in x.reason for x in letters)
        assert any("received_at" in x.reason for x in letters)
    finally:
        store.close()
    assert broker.count() == 0  # every message acknowledged or rejected
    dead = broker.dead()
    assert sorted(dead) == sorted(
        [
            b"{not json",
            json.dumps(order(99, received_at="明天"), ensure_ascii=False).encode(),
            b'{"external_id": "E1", "title": "\xff"}',
        ]
    )


def test_a_message_delivered_again_stores_nothing_new(
    run: Callable[..., Result], broker: Broker, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'desk.db'}"
    broker.publish([order(1), order(2)])
    first = _consume(run, broker, "--store", store_url)
    assert first.exit_code == 0, first.output
    # The platform sends both again (its own retry, or a redelivery after a lost ack) and the
    # poison message twice: one case each, one dead letter counted twice.
    broker.publish([order(2), order(1), "{bad", "{bad"])
    again = _consume(run, broker, "--store", store_url)
    assert again.stdout.startswith("4 received, 0 stored, 2 duplicate, 2 dead letters"), again.out
    store = open_store(store_url)
    try:
        assert store.count() == 2
        (letter,) = store.dead_letters()
        assert letter.seen == 2
    finally:
        store.close()


def test_12345_work_orders_mapped_by_the_profile(
    run: Callable[..., Result], broker: Broker, tmp_path: Path
) -> None:
    work_order = {
        "工单编号": "GD2026030400001",
        "来电时间": "2026/3/4 9:05",
        "诉求类型": "投诉",
        "诉求标题": "办不了证",
        "诉求内容": "已取得执照但无法经营",
        "联系电话": "13800001234",
    }
    broker.publish([work_order, {**work_order, "诉求类型": "闲聊"}])
    store_url = f"sqlite:///{tmp_path / 'desk.db'}"
    result = _consume(run, broker, "--store", store_url, "--channel", "12345")
    assert result.stdout.startswith("2 received, 1 stored, 0 duplicate, 1 dead letters")
    store = open_store(store_url)
    try:
        (case,) = store.query()
        assert (case.external_id, case.channel) == ("GD2026030400001", "hotline_12345")
        (letter,) = store.dead_letters()
        assert letter.channel == "12345" and "闲聊" in letter.reason
    finally:
        store.close()


def test_with_a_pack_every_case_is_decided_before_it_is_stored(
    run: Callable[..., Result], broker: Broker, tmp_path: Path
) -> None:
    broker.publish(
        [order(1, domain="market_entry_operation", content="已取得执照但无法经营，停产")]
    )
    store_url = f"sqlite:///{tmp_path / 'desk.db'}"
    result = run(
        "-p", "zhenshen_chengdu_gaoxin.plugin", "consume", "--broker", broker.url,
        "--queue", broker.queue, "--stop-when-idle", "0.5", "--store", store_url,
        "--pack", "cn.chengdu.gaoxin",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    store = open_store(store_url)
    try:
        (case,) = store.query()
        assert case.decision is not None and case.decision["pack"]["id"] == "cn.chengdu.gaoxin"
        assert case.lead_department == "gxq.scjgj" and case.clocks
    finally:
        store.close()


def test_a_queue_declared_without_dead_letter_exchange_is_a_clear_error(
    run: Callable[..., Result], broker: Broker, tmp_path: Path
) -> None:
    conn = broker.connection()
    conn.channel().queue_declare(broker.queue, durable=True)
    conn.close()
    result = _consume(run, broker, "--store", f"sqlite:///{tmp_path / 'd.db'}")
    assert result.exit_code == 2
    assert "exists with other arguments" in result.stderr
    assert "--no-declare" in result.stderr and "Traceback" not in result.output
    # --no-declare uses it as it is.
    used = _consume(run, broker, "--store", f"sqlite:///{tmp_path / 'd.db'}", "--no-declare")
    assert used.exit_code == 0, used.output


def test_bad_credentials_are_refused_without_echoing_the_password(
    run: Callable[..., Result], broker: Broker, tmp_path: Path
) -> None:
    url = broker.url.replace("guest:guest@", "guest:s3cret-PASS@")
    result = run(
        "consume",
        "--broker",
        url,
        "--queue",
        broker.queue,
        "--store",
        f"sqlite:///{tmp_path / 'd.db'}",
        "--stop-when-idle",
        "0.2",
    )
    assert result.exit_code == 2, result.output
    assert "refused the login" in result.stderr
    assert "s3cret-PASS" not in result.output


def test_a_channel_that_cannot_read_one_message_is_a_usage_error(
    run: Callable[..., Result], broker: Broker, tmp_path: Path
) -> None:
    result = _consume(run, broker, "--channel", "csv", "--store", f"sqlite:///{tmp_path / 'd.db'}")
    assert result.exit_code == 2
    assert "cannot read one message as one record" in result.output


def test_a_store_that_cannot_be_written_stops_it_with_75_and_nothing_acknowledged(
    run: Callable[..., Result], broker: Broker, tmp_path: Path
) -> None:
    import sqlite3

    path = tmp_path / "desk.db"
    open_store(f"sqlite:///{path}").close()  # the schema, before another process locks it
    broker.publish([order(n) for n in range(5)])
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, and writing, and writing
    try:
        locked = _consume(run, broker, "--store", f"sqlite:///{path}?timeout=0.2")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert locked.exit_code == 75, locked.output
    assert "Traceback" not in locked.output and "locked" in locked.stderr, locked.stderr
    assert broker.count() == 5  # none acknowledged: all back on the queue
    again = _consume(run, broker, "--store", f"sqlite:///{path}")
    assert again.stdout.startswith("5 received, 5 stored, 0 duplicate, 0 dead letters")


def test_a_channel_failing_on_one_message_dead_letters_that_message_only(
    broker: Broker,
) -> None:
    from zhenshen_amqp import Consumer

    from zhenshen_core.desk import Desk
    from zhenshen_core.intake import json_record
    from zhenshen_core.plugins import IntakeRecord
    from zhenshen_core.storage import MemoryStore

    def fragile(raw: str, source: str, line: int | None) -> IntakeRecord:
        if "boom" in raw:
            raise KeyError("工单编号")  # a plugin's bug, met by one message
        return json_record(raw, source, line)

    broker.publish([order(1), order(2, title="boom"), order(3)])
    desk = Desk(MemoryStore())
    consumer = Consumer(
        url=broker.url, queue=broker.queue, channel="json", from_raw=fragile, desk=desk,
        stop_when_idle=0.5, log=lambda line: None,
    )  # fmt: skip
    stats = consumer.run()
    assert (stats.received, stats.stored, stats.dead_letters) == (3, 2, 1)
    (letter,) = desk.store.dead_letters()
    assert "channel 'json' failed reading it: KeyError" in letter.reason
    assert broker.count() == 0 and len(broker.dead()) == 1


# One message of a stream: a valid work order (its number), the same work order again, or a
# body that can never be a case.
_MESSAGES = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=15).map(lambda n: ("order", n)),
        st.sampled_from(["{bad", "[]", '"text"', "\udcff", '{"title": 1}']).map(
            lambda body: ("poison", body)
        ),
    ),
    max_size=40,
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(messages=_MESSAGES, prefetch=st.integers(min_value=1, max_value=12))
def test_any_stream_is_each_work_order_once_and_each_poison_dead_lettered(
    broker: Broker, messages: list[tuple[str, object]], prefetch: int
) -> None:
    from zhenshen_amqp import Consumer

    from zhenshen_core.desk import Desk
    from zhenshen_core.intake import json_record
    from zhenshen_core.storage import MemoryStore

    bodies: list[bytes | str | dict[str, object]] = []
    for kind, value in messages:
        if kind == "order":
            bodies.append(order(int(str(value))))
        else:
            bodies.append(str(value).encode("utf-8", "surrogateescape"))
    broker.publish(bodies)
    desk = Desk(MemoryStore())
    stats = Consumer(
        url=broker.url, queue=broker.queue, channel="json", from_raw=json_record, desk=desk,
        prefetch=prefetch, stop_when_idle=0.3, log=lambda line: None,
    ).run()  # fmt: skip
    orders = {int(str(v)) for k, v in messages if k == "order"}
    poison = [v for k, v in messages if k == "poison"]
    assert sorted(c.external_id or "" for c in desk.store.query()) == [
        f"E{n:05d}" for n in sorted(orders)
    ]
    assert stats.received == len(messages)
    assert (stats.stored, stats.dead_letters) == (len(orders), len(poison))
    assert stats.duplicates == len(messages) - len(orders) - len(poison)
    assert sum(x.seen for x in desk.store.dead_letters()) == len(poison)
    assert broker.count() == 0
    assert len(broker.dead()) == len(poison)  # drained, so the next example starts empty


def test_a_terminal_shows_the_rate_and_a_pipe_only_the_summary(
    run: Callable[..., Result],
    broker: Broker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    store_url = f"sqlite:///{tmp_path / 'desk.db'}"
    broker.publish([order(n) for n in range(300)])
    piped = _consume(run, broker, "--store", store_url)
    assert piped.exit_code == 0 and "\x1b" not in piped.output
    assert piped.stderr.startswith("note: no rule pack") and piped.stderr.count("\n") == 1
    broker.publish([order(n) for n in range(300, 600)])
    monkeypatch.setenv("TTY_INTERACTIVE", "1")  # what rich is told when a terminal is forced
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    shown = _consume(run, broker, "--store", store_url)
    assert shown.exit_code == 0, shown.output
    assert "consume" in shown.stderr and "messages/s" in shown.stderr
    assert shown.stdout.startswith("300 received, 300 stored, 0 duplicate, 0 dead letters")
