"""Issue 15 item 3: notices are written with the change and delivered at least once.

On the old code the sweep saved an alert and then called the notifier: a sweeper killed in
between left a saved alert whose notifier never ran, and a failing notifier lost its notice.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zhenshen_core import PluginConfig, PluginHost, hookimpl
from zhenshen_core.cli.main import build_cli
from zhenshen_core.desk import Desk
from zhenshen_core.plugins import Notification, Notifier
from zhenshen_core.storage import MemoryStore, SQLiteStore
from zhenshen_core.storage.outbox import OUTBOX_BACKOFF, OUTBOX_MAX_ATTEMPTS
from zhenshen_core.storage.protocol import CaseStore

from .test_sweep import NOW, fill

NOTIFIER = Path(__file__).parent / "data" / "file_notifier.py"


class Gateway:
    """A notifier that may be down; it keeps what it received, by key."""

    def __init__(self) -> None:
        self.down = False
        self.received: list[Notification] = []

    def send(self, n: Notification) -> None:
        if self.down:
            raise ConnectionError("SMS gateway unreachable")
        self.received.append(n)

    @hookimpl
    def zhenshen_notifiers(self) -> list[Notifier]:
        return [Notifier("sms", "test gateway", self.send)]


def _desk(store: CaseStore, gateway: Gateway, **kw: Any) -> Desk:
    host = PluginHost(PluginConfig(autoload=False))
    host.register(gateway, name="gateway")
    return Desk(store, host=host, **kw)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_every_alert_has_one_delivered_notice_with_a_stable_key(tmp_path: Path, kind: str) -> None:
    store: CaseStore = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "d.db")
    fill(store, 3)
    gateway = Gateway()
    result = _desk(store, gateway).sweep(NOW)
    assert len(result.alerts) == 9 and result.notices_delivered == 9
    keys = [n.key for n in gateway.received]
    assert len(set(keys)) == 9 and all(n.kind == "clock_alert" for n in gateway.received)
    notices = store.outbox_notices()
    assert {n.key for n in notices} == set(keys)
    assert all(n.status == "delivered" and n.attempts == 1 for n in notices)
    # the key names the stored supervise event the notice is about
    for n in gateway.received:
        case_id, seq, kind_, target = n.key.split(":")
        event = store.events(case_id)[int(seq) - 1]
        assert (event.type, kind_, target) == ("supervise", "clock_alert", "sms")
        assert event.payload["record"]["clock"] == n.detail["clock"]


def test_a_failed_delivery_stays_pending_with_backoff_and_the_same_key() -> None:
    store = MemoryStore()
    fill(store, 1)
    gateway = Gateway()
    gateway.down = True
    desk = _desk(store, gateway)
    first = desk.sweep(NOW)
    assert len(first.alerts) == 3 and first.notices_failed == 3 and not gateway.received
    pending = store.outbox_notices("pending")
    assert len(pending) == 3
    assert all(n.attempts == 1 and n.last_error == "ConnectionError: SMS gateway unreachable"
               for n in pending)  # fmt: skip
    assert all(n.next_attempt_at == NOW + OUTBOX_BACKOFF[0] for n in pending)
    assert desk.failures and desk.failures[0].hook == "notifier"
    gateway.down = False
    early = desk.sweep(NOW + timedelta(seconds=10))
    assert early.notices_delivered == 0, "not before its retry time"
    later = desk.sweep(NOW + OUTBOX_BACKOFF[0])
    assert later.notices_delivered == 3 and later.alerts == []
    assert sorted(n.key for n in gateway.received) == sorted(n.key for n in pending)
    assert {n.attempt for n in gateway.received} == {2}
    assert {n.status for n in store.outbox_notices()} == {"delivered"}


def test_after_its_attempts_a_notice_is_failed_and_the_cli_lists_and_retries_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "desk.db"
    store = SQLiteStore(path)
    fill(store, 1)
    gateway = Gateway()
    gateway.down = True
    desk = _desk(store, gateway)
    when = NOW
    desk.sweep(when)
    for _ in range(OUTBOX_MAX_ATTEMPTS - 1):
        when += OUTBOX_BACKOFF[1]
        desk.sweep(when)
    failed = store.outbox_notices("failed")
    assert len(failed) == 3 and {n.attempts for n in failed} == {OUTBOX_MAX_ATTEMPTS}
    later = desk.sweep(when + timedelta(days=30))
    assert later.notices_failed == len(later.alerts), "only the new alerts' notices are tried"
    assert {n.key: n.attempts for n in store.outbox_notices("failed")} == {
        n.key: OUTBOX_MAX_ATTEMPTS for n in failed
    }
    store.close()

    url = f"sqlite:///{path}"
    notices = tmp_path / "notices.jsonl"
    down = tmp_path / "down"
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("ZHENSHEN_TEST_NOTICES", str(notices))
    monkeypatch.setenv("ZHENSHEN_TEST_NOTICES_DOWN", str(down))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    local = ["--local-plugins", str(NOTIFIER)]
    listed = runner.invoke(build_cli(), ["outbox", "list", "--store", url, "--status", "failed"])
    assert listed.exit_code == 0 and listed.stdout.count("failed") == 3, listed.output
    assert "gateway unreachable" in listed.stdout
    # the failed notices were for the "sms" notifier, which this process does not load
    down.write_text("")
    one = failed[0].key
    again = runner.invoke(build_cli(), [*local, "outbox", "retry", one, "--store", url])
    assert again.exit_code == 1 and "no notifier named 'sms' is loaded" in again.stderr
    unknown = runner.invoke(build_cli(), ["outbox", "retry", "NOPE", "--store", url])
    assert unknown.exit_code == 2 and "NOPE" in unknown.stderr
    data = json.loads(
        runner.invoke(build_cli(), ["outbox", "list", "--store", url, "--format", "json"]).stdout
    )
    assert {n["status"] for n in data} >= {"failed", "pending"}
    purged = runner.invoke(
        build_cli(), ["outbox", "purge", "--delivered", "--older-than", "0d", "--store", url]
    )
    assert purged.exit_code == 0 and purged.stdout.startswith("0 delivered"), purged.output


def test_retry_delivers_with_the_file_notifier_and_purge_drops_delivered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    store = SQLiteStore(tmp_path / "desk.db")
    fill(store, 2)
    store.close()
    notices, down = tmp_path / "notices.jsonl", tmp_path / "down"
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("ZHENSHEN_TEST_NOTICES", str(notices))
    monkeypatch.setenv("ZHENSHEN_TEST_NOTICES_DOWN", str(down))
    local = ["--local-plugins", str(NOTIFIER)]
    runner = CliRunner()
    down.write_text("")
    swept = runner.invoke(build_cli(), [*local, "sweep", "--store", url, "--now", NOW.isoformat()])
    assert swept.exit_code == 0, swept.output
    assert "notices: 0 delivered, 6 failed" in swept.stdout
    report = runner.invoke(
        build_cli(), ["report", "--store", url, "--as-of", NOW.isoformat(), "--format", "json"]
    )
    assert json.loads(report.stdout)["outbox"] == {"pending": 6, "delivered": 0, "failed": 0}
    html = runner.invoke(build_cli(), ["report", "--store", url, "--format", "html"])
    assert "notices pending 6, failed 0" in html.stdout
    down.unlink()
    retried = runner.invoke(build_cli(), [*local, "outbox", "retry", "--store", url])
    assert retried.exit_code == 0 and retried.stdout.startswith("6 delivered, 0 failed")
    lines = [json.loads(line) for line in notices.read_text().splitlines()]
    assert len(lines) == 6 == len({line["key"] for line in lines})
    purged = runner.invoke(
        build_cli(), ["outbox", "purge", "--delivered", "--older-than", "0h", "--store", url]
    )
    assert purged.stdout.startswith("6 delivered notice(s) purged"), purged.output


def test_a_transition_notice_carries_the_event_time_and_payload() -> None:
    """Asked by the 12345 back-sync: the reason of a reject and the event's time, which the
    case may no longer show when a retry delivers the notice."""
    store = MemoryStore()
    (case_id,) = fill(store, 1)
    gateway = Gateway()
    desk = _desk(store, gateway, now=lambda: NOW)
    desk.transition(case_id, "reject", {"reason": "属于诉讼事项"}, actor="office:wang")
    (notice,) = [n for n in gateway.received if n.kind == "case_transitioned"]
    assert notice.event_type == "reject"
    assert notice.detail == {"seq": 8, "at": NOW.isoformat(), "payload": {"reason": "属于诉讼事项"}}
    assert notice.key == f"{case_id}:8:case_transitioned:sms"


def test_a_notice_keeps_no_personal_number_in_the_outbox(tmp_path: Path) -> None:
    """The outbox is a table like any other: what a payload quotes (a phone number in a
    feedback, say) is kept masked there, so the database file holds it nowhere in clear; the
    event itself keeps it, sealed (personal data at rest)."""
    store = SQLiteStore(tmp_path / "d.db")
    (case_id,) = fill(store, 1)
    gateway = Gateway()
    gateway.down = True  # the notice stays in the outbox
    desk = _desk(store, gateway, now=lambda: NOW)
    desk.transition(case_id, "reject", {"reason": "来电人电话13912345678，属诉讼事项"}, actor="x")
    (notice,) = [n for n in store.outbox_notices() if n.kind == "case_transitioned"]
    assert notice.detail["payload"] == {"reason": "来电人电话139****5678，属诉讼事项"}
    assert store.events(case_id)[-1].payload["reason"] == "来电人电话13912345678，属诉讼事项"
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("d.db*"))
    assert b"13912345678" not in raw


def test_plain_intake_writes_its_receipts_to_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``zhenshen ingest`` without a pack runs no desk; its receipts still go through the
    outbox, and a sweep delivers what the notifier could not take."""
    source = tmp_path / "orders.jsonl"
    orders = [
        {"external_id": f"GX-{i}", "channel": "hotline_12345", "title": "施工许可",
         "received_at": "2026-03-02T09:00:00+08:00"}
        for i in range(3)
    ]  # fmt: skip
    source.write_text("".join(json.dumps(o) + "\n" for o in orders), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    notices, down = tmp_path / "notices.jsonl", tmp_path / "down"
    monkeypatch.setenv("ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("ZHENSHEN_TEST_NOTICES", str(notices))
    monkeypatch.setenv("ZHENSHEN_TEST_NOTICES_DOWN", str(down))
    local = ["--local-plugins", str(NOTIFIER)]
    down.write_text("")
    ingested = CliRunner().invoke(
        build_cli(), [*local, "ingest", "jsonl", str(source), "--store", url]
    )
    assert ingested.exit_code == 0, ingested.output
    assert "gateway unreachable" in ingested.stderr
    with SQLiteStore(tmp_path / "desk.db") as store:
        pending = store.outbox_notices("pending")
    assert len(pending) == 3 and {n.kind for n in pending} == {"case_received"}
    down.unlink()
    later = (pending[0].next_attempt_at + timedelta(seconds=1)).isoformat()
    swept = CliRunner().invoke(build_cli(), [*local, "sweep", "--store", url, "--now", later])
    assert "notices: 3 delivered, 0 failed" in swept.stdout, swept.output
    keys = [json.loads(line)["key"] for line in notices.read_text().splitlines()]
    assert sorted(keys) == sorted(n.key for n in pending)
