"""Issue 13 item 2: ``ingest`` decides with a pack, ``decide`` (re-)decides stored cases, and
``clocks recompute`` brings provisional clocks onto newer calendar data (SQLite; the same
commands on PostgreSQL are in plugins/zhenshen-postgres/tests/test_pg_decide.py)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from zhenshen_core.storage import open_store

Run = Callable[..., Result]
ROOT = Path(__file__).resolve().parents[2]
NOTICE_2027 = ROOT / "tests" / "desk" / "data" / "cn-2027-fixture.yaml"
REFERENCE_PACK = str(ROOT / "plugins/zhenshen-chengdu-gaoxin/src/zhenshen_chengdu_gaoxin/pack")

# Three joint-review work orders received in January 2027, past the published notices: their
# 30-working-day resolve clocks cross the (estimated) Spring Festival.
JANUARY_ORDERS = [
    {
        "external_id": f"GX-2027-{n}",
        "channel": "hotline_12345",
        "received_at": f"2027-01-{day}T09:30:00+08:00",
        "appeal_type": "complaint",
        "title": "取得营业执照后无法经营",
        "content": "已取得营业执照，但因消防验收问题至今无法经营，已停产两个月。",
        "domain": "market_entry_operation",
        "requester": {"name": "李女士", "phone": "13800001111"},
        "facts": {"amount_wan": 800},
    }
    for n, day in ((1, 11), (2, 13), (3, 15))
]


def write_orders(path: Path, orders: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in orders), encoding="utf-8"
    )
    return path


def changed_pack(target: Path) -> Path:
    """The reference pack as version 1.1.0, with joint-review cases resolved in 20 working days
    instead of 30."""
    shutil.copytree(REFERENCE_PACK, target)
    pack = target / "pack.yaml"
    pack.write_text(
        pack.read_text(encoding="utf-8").replace("version: 1.0.0", "version: 1.1.0"),
        encoding="utf-8",
    )
    deadlines = target / "deadlines.yaml"
    text = deadlines.read_text(encoding="utf-8")
    assert "resolve: 30 working days" in text
    deadlines.write_text(text.replace("resolve: 30 working days", "resolve: 20 working days"))
    return target


def stored(store_url: str) -> list[Any]:
    store = open_store(store_url)
    try:
        return list(store.query())
    finally:
        store.close()


def versions(store_url: str) -> dict[str, int]:
    return {c.id: c.version for c in stored(store_url)}


def test_ingest_with_a_pack_decides_every_case(run: Run, corpus: Path, store_url: str) -> None:
    result = run("ingest", "jsonl", str(corpus), "--store", store_url, "--pack", REFERENCE_PACK)
    assert result.exit_code == 0, result.output
    assert "2 read, 2 created" in result.stdout
    assert "decided with pack cn.chengdu.gaoxin 1.0.0" in result.stdout
    assert "note:" not in result.stderr
    cases = stored(store_url)
    assert all(c.decision is not None and c.tier is not None and c.clocks for c in cases)
    assert all(c.pack is not None and c.pack.id == "cn.chengdu.gaoxin" for c in cases)


def test_ingest_without_a_pack_says_so_once_and_decide_pending_catches_up(
    run: Run, corpus: Path, store_url: str
) -> None:
    result = run("ingest", "jsonl", str(corpus), "--store", store_url)
    assert result.exit_code == 0 and result.stderr.count("note: no rule pack") == 1
    assert all(c.decision is None and c.tier is None for c in stored(store_url))

    decided = run("decide", "--store", store_url, "--pending", "--pack", REFERENCE_PACK)
    assert decided.exit_code == 0, decided.output
    assert (
        decided.stdout.strip()
        .splitlines()[-1]
        .startswith("2 decided, 0 changed, 0 unchanged, 0 failed — pack cn.chengdu.gaoxin 1.0.0")
    )
    assert all(c.tier is not None and c.clocks for c in stored(store_url))

    before = versions(store_url)
    for selection in (["--pending"], ["--all"]):  # idempotent: nothing left, nothing changed
        again = run("decide", "--store", store_url, *selection, "--pack", REFERENCE_PACK)
        assert again.exit_code == 0, again.output
        assert " 0 decided, 0 changed" in " " + again.stdout.splitlines()[-1]
    assert versions(store_url) == before


def test_decide_all_after_a_pack_change_records_one_event_per_change(
    run: Run, tmp_path: Path, store_url: str
) -> None:
    orders = write_orders(tmp_path / "jan.jsonl", JANUARY_ORDERS)
    assert run("ingest", "jsonl", str(orders), "--store", store_url, "--pack", REFERENCE_PACK)
    before = {c.id: c for c in stored(store_url)}
    new_pack = changed_pack(tmp_path / "pack-1.1")

    result = run(
        "decide", "--store", store_url, "--all", "--pack", str(new_pack), "--format", "json"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["pack"]["version"] == "1.1.0" and report["unchanged"] == 0
    assert sorted(report["changed"]) == sorted(before)
    store = open_store(store_url)
    try:
        for case_id, old in before.items():
            events = store.events(case_id)[old.version :]
            assert [e.type for e in events][:1] == ["decide"]
            pack = events[0].payload["pack"]
            assert (pack["id"], pack["version"]) == ("cn.chengdu.gaoxin", "1.1.0")
            assert pack["sha256"] == report["pack"]["sha256"]
            # the running resolve clock now counts 20 working days from the same start
            resolve = store.get(case_id).clocks["resolve"]
            assert resolve.period == "20 working days"
            assert resolve.started_at == old.clocks["resolve"].started_at
            assert resolve.due_at < old.clocks["resolve"].due_at
    finally:
        store.close()

    after = versions(store_url)
    again = run("decide", "--store", store_url, "--all", "--pack", str(new_pack))
    assert again.exit_code == 0 and f"0 changed, {len(before)} unchanged" in again.stdout
    assert versions(store_url) == after


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pack", REFERENCE_PACK], "choose exactly one of --pending, --case ID or --all"),
        (["--all", "--pending", "--pack", REFERENCE_PACK], "choose exactly one"),
        (["--all"], "no rule pack"),
    ],
)
def test_decide_usage_errors(run: Run, store_url: str, args: list[str], message: str) -> None:
    result = run("decide", "--store", store_url, *args)
    assert result.exit_code == 2 and message in result.stderr


def test_decide_reports_cases_it_cannot_decide(run: Run, corpus: Path, store_url: str) -> None:
    run("ingest", "jsonl", str(corpus), "--store", store_url)
    case_id = stored(store_url)[0].id
    result = run(
        "decide",
        "--store",
        store_url,
        "--case",
        case_id,
        "--case",
        "NOPE",
        "--pack",
        REFERENCE_PACK,
    )
    assert result.exit_code == 1
    assert "NOPE: cannot decide" in result.stderr
    assert "1 decided, 0 changed, 0 unchanged, 1 failed" in result.stdout


def test_a_broken_pack_is_a_load_error(
    run: Run, corpus: Path, store_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pack.yaml").write_text("schema: 1\nid: broken\nversion: [\n", encoding="utf-8")
    for command in (["ingest", "jsonl", str(corpus)], ["decide", "--all"]):
        result = run(*command, "--store", store_url, "--pack", str(broken))
        assert result.exit_code == 3 and "pack.yaml" in result.stderr, result.output
        assert "Traceback" not in result.output


def test_pack_from_config_and_environment(
    run: Run, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "zhenshen.toml").write_text(
        f'store = "sqlite:///cfg.db"\npack = "{REFERENCE_PACK}"\n', encoding="utf-8"
    )
    assert run("ingest", "jsonl", str(corpus)).exit_code == 0
    assert all(c.decision is not None for c in stored(f"sqlite:///{tmp_path / 'cfg.db'}"))
    (tmp_path / "zhenshen.toml").write_text('store = "sqlite:///env.db"\n', encoding="utf-8")
    monkeypatch.setenv("ZHENSHEN_PACK", REFERENCE_PACK)
    assert run("ingest", "jsonl", str(corpus)).exit_code == 0
    assert all(c.decision is not None for c in stored(f"sqlite:///{tmp_path / 'env.db'}"))


def test_clocks_recompute_on_a_layer_file(run: Run, tmp_path: Path, store_url: str) -> None:
    orders = write_orders(tmp_path / "jan.jsonl", JANUARY_ORDERS)
    assert run("ingest", "jsonl", str(orders), "--store", store_url, "--pack", REFERENCE_PACK)
    provisional = {c.id: c.clocks["resolve"] for c in stored(store_url)}
    assert all(k.provisional for k in provisional.values())

    result = run("clocks", "recompute", "--store", store_url, "--calendar", str(NOTICE_2027))
    assert result.exit_code == 0, result.output
    assert "cn+cn-2027-fixture" in result.stdout
    moved = [line for line in result.stdout.splitlines() if " -> " in line]
    assert len(moved) == len(provisional) and all("resolve" in line for line in moved)
    for case in stored(store_url):
        assert not case.clocks["resolve"].provisional
        assert case.clocks["resolve"].due_at > provisional[case.id].due_at

    again = run("clocks", "recompute", "--store", store_url, "--calendar", str(NOTICE_2027))
    assert again.exit_code == 0 and "0 due date(s) moved" in again.stdout


def test_decide_and_recompute_help_state_the_contract(run: Run) -> None:
    decide = " ".join(run("decide", "--help").stdout.split())
    assert "Idempotent" in decide and "records nothing" in decide
    assert "Exit 0 when every selected case is decided or unchanged" in decide
    recompute = " ".join(run("clocks", "recompute", "--help").stdout.split())
    assert "second run changes" in recompute and "deadline_changed" in recompute
