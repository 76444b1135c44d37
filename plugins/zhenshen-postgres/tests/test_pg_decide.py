"""Issue 13 items 1 and 2 on PostgreSQL: receive is one write, ingest decides with a pack,
``decide`` and ``clocks recompute`` bring stored cases up to date — as on SQLite
(tests/cli/test_cli_decide.py, tests/desk/test_december_cliff.py)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from zhenshen_pg_testkit import ENV, SKIP_REASON
from zhenshen_postgres import PostgresStore

from zhenshen_core.cli.main import build_cli
from zhenshen_core.deadlines import (
    CalendarPolicy,
    CalendarRangeError,
    layer,
    load_calendar_file,
    national_calendar,
)
from zhenshen_core.desk import Desk
from zhenshen_core.model.case import SHANGHAI
from zhenshen_core.plugins import PluginConfig, PluginHost
from zhenshen_core.rules import load_pack

if not os.environ.get(ENV):
    pytest.skip(SKIP_REASON, allow_module_level=True)

ROOT = Path(__file__).resolve().parents[3]
PACK = ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack"
NOTICE_2027 = ROOT / "tests/desk/data/cn-2027-fixture.yaml"
#: The orders are dated January 2027, which may lie ahead of the day the tests run.
AHEAD = ("--received-window", "2000-01-01..2030-12-31")
ORDER: dict[str, Any] = {
    "channel": "hotline_12345",
    "appeal_type": "complaint",
    "title": "取得营业执照后无法经营",
    "content": "已取得营业执照，但因消防验收问题至今无法经营，已停产两个月。",
    "domain": "market_entry_operation",
    "requester": {"name": "李女士", "phone": "13800001111"},
    "facts": {"amount_wan": 800},
}


def order(external_id: str, received: str) -> dict[str, Any]:
    return dict(ORDER, external_id=external_id, received_at=f"{received}T09:30:00+08:00")


def run(*args: str) -> Result:
    # The postgresql:// scheme comes from this distribution's entry point, as in production.
    return CliRunner().invoke(build_cli(), list(args), catch_exceptions=False)


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.jsonl"
    days = ("2027-01-11", "2027-01-13", "2027-01-15", "2026-11-23")
    path.write_text(
        "".join(
            json.dumps(order(f"PG-{n}", day), ensure_ascii=False) + "\n"
            for n, day in enumerate(days)
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def store(schema_url: str) -> Iterator[PostgresStore]:
    opened = PostgresStore(schema_url)
    try:
        yield opened
    finally:
        opened.close()


def test_ingest_with_a_pack_then_decide_is_idempotent(
    schema_url: str, orders: Path, store: PostgresStore
) -> None:
    result = run("ingest", "jsonl", str(orders), *AHEAD, "--store", schema_url, "--pack", str(PACK))
    assert result.exit_code == 0, result.output
    cases = list(store.query())
    assert len(cases) == 4 and all(c.tier is not None and c.clocks for c in cases)
    assert all(c.clocks["resolve"].provisional for c in cases if c.external_id != "PG-3")
    versions = {c.id: c.version for c in cases}

    again = run("ingest", "jsonl", str(orders), *AHEAD, "--store", schema_url, "--pack", str(PACK))
    assert again.exit_code == 0 and "0 created, 4 duplicate" in again.stdout
    decided = run("decide", "--store", schema_url, "--all", "--pack", str(PACK))
    assert decided.exit_code == 0 and "0 changed, 4 unchanged" in decided.stdout
    assert {c.id: c.version for c in store.query()} == versions


def test_decide_pending_then_after_a_pack_change(
    schema_url: str, orders: Path, store: PostgresStore, tmp_path: Path
) -> None:
    assert run("ingest", "jsonl", str(orders), *AHEAD, "--store", schema_url).exit_code == 0
    assert all(c.decision is None for c in store.query())
    first = run("decide", "--store", schema_url, "--pending", "--pack", str(PACK))
    assert first.exit_code == 0 and first.stdout.startswith("4 decided, 0 changed"), first.output

    changed = tmp_path / "pack-1.1"
    shutil.copytree(PACK, changed)
    for name, old, new in (
        ("pack.yaml", "version: 1.0.0", "version: 1.1.0"),
        ("deadlines.yaml", "resolve: 30 working days", "resolve: 20 working days"),
    ):
        text = (changed / name).read_text(encoding="utf-8")
        (changed / name).write_text(text.replace(old, new), encoding="utf-8")
    before = {c.id: c.version for c in store.query()}
    second = run(
        "decide", "--store", schema_url, "--all", "--pack", str(changed), "--format", "json"
    )
    assert second.exit_code == 0, second.output
    assert sorted(json.loads(second.stdout)["changed"]) == sorted(before)
    for case_id, version in before.items():
        event = store.events(case_id)[version]
        assert event.type == "decide" and event.payload["pack"]["version"] == "1.1.0"
        assert store.get(case_id).clocks["resolve"].period == "20 working days"


def test_receive_is_one_write_and_recompute_follows_the_notice(store: PostgresStore) -> None:
    host = PluginHost(PluginConfig(autoload=False))
    pack = load_pack(PACK)
    now = datetime(2027, 1, 20, 10, tzinfo=SHANGHAI)
    strict = Desk(store, pack=pack, host=host, calendar=national_calendar("strict"))
    with pytest.raises(CalendarRangeError):
        strict.receive(order("PG-STRICT", "2026-11-23"))
    assert store.count() == 0

    desk = Desk(store, pack=pack, host=host, now=lambda: now)
    case = desk.receive(order("PG-JAN", "2027-01-15"))
    assert case.clocks["resolve"].provisional
    assert desk.receive(order("PG-JAN", "2027-01-15")).version == case.version

    notice = layer(national_calendar(CalendarPolicy.PROVISIONAL), load_calendar_file(NOTICE_2027))
    newer = Desk(store, pack=pack, host=host, calendar=notice, now=lambda: now)
    result = newer.recompute_provisional_clocks()
    assert [(c.case_id, c.clock) for c in result.changed] == [(case.id, "resolve")]
    resolve = store.get(case.id).clocks["resolve"]
    assert not resolve.provisional and resolve.due_at > case.clocks["resolve"].due_at
    assert newer.recompute_provisional_clocks().changed == []
    assert newer.sweep(now).recomputed is None


def test_clocks_recompute_command(schema_url: str, orders: Path, store: PostgresStore) -> None:
    assert run("ingest", "jsonl", str(orders), *AHEAD, "--store", schema_url, "--pack", str(PACK))
    result = run("clocks", "recompute", "--store", schema_url, "--calendar", str(NOTICE_2027))
    assert result.exit_code == 0, result.output
    assert result.stdout.count(" -> ") == 3
    assert not any(k.provisional for c in store.query() for k in c.clocks.values())
    again = run("clocks", "recompute", "--store", schema_url, "--calendar", str(NOTICE_2027))
    assert again.exit_code == 0 and "0 due date(s) moved" in again.stdout
