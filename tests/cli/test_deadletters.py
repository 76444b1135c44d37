"""``zhenshen deadletters list|show|retry``: what intake could not store, looked at (masked)
and sent again; a letter whose record now becomes a case leaves the list."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from zhenshen_core.storage import open_store

GOOD = {"external_id": "A1", "received_at": "2026-03-02T09:30:00+08:00", "title": "施工许可"}
FUTURE = {
    "external_id": "A2",
    "received_at": "2426-03-02T09:30:00+08:00",  # a wrong year: outside the default window
    "title": "补贴",
    "content": "请回电 13800001234",
}


def _ingest(run: Callable[..., Result], tmp_path: Path, store_url: str) -> list[dict[str, object]]:
    lines = [json.dumps(GOOD), "{not json", json.dumps(FUTURE, ensure_ascii=False)]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run("ingest", "jsonl", "in.jsonl", "--store", store_url).exit_code == 1
    listed = run("deadletters", "list", "--store", store_url, "--format", "json")
    assert listed.exit_code == 0, listed.output
    letters: list[dict[str, object]] = json.loads(listed.stdout)
    return letters


def test_list_and_show_with_the_record_masked(
    run: Callable[..., Result], tmp_path: Path, store_url: str
) -> None:
    letters = _ingest(run, tmp_path, store_url)
    assert [(x["source"], x["line"], x["seen"]) for x in letters] == [
        ("in.jsonl", 2, 1),
        ("in.jsonl", 3, 1),
    ]
    table = run("deadletters", "list", "--store", store_url)
    assert str(letters[0]["key"]) in table.stdout and "in.jsonl:3" in table.stdout
    assert "2 dead letter(s)" in table.stderr
    shown = run("deadletters", "show", str(letters[1]["key"]), "--store", store_url)
    assert shown.exit_code == 0, shown.output
    assert "where:   in.jsonl:3" in shown.stdout and "received_at" in shown.stdout
    assert "13800001234" not in shown.stdout and "138****1234" in shown.stdout
    # A reason quoting the value it refused is masked too.
    (tmp_path / "phone.jsonl").write_text(
        json.dumps({**GOOD, "external_id": "A3", "received_at": "13800001234"}) + "\n",
        encoding="utf-8",
    )
    run("ingest", "jsonl", "phone.jsonl", "--store", store_url)
    listed = run("deadletters", "list", "--store", store_url)
    assert "phone.jsonl:1" in listed.stdout and "13800001234" not in listed.stdout
    missing = run("deadletters", "show", "DL0000000000000000", "--store", store_url)
    assert missing.exit_code == 2 and "no dead letter" in missing.stderr


def test_a_retried_record_that_now_succeeds_leaves_the_list(
    run: Callable[..., Result], tmp_path: Path, store_url: str
) -> None:
    letters = _ingest(run, tmp_path, store_url)
    malformed, future = (str(x["key"]) for x in letters)
    # Nothing fixed yet: both fail again, stay listed, counted once more.
    again = run("deadletters", "retry", "--all", "--store", store_url)
    assert again.exit_code == 1
    assert "2 retried, 0 stored, 2 still dead letters" in again.stdout
    # The archive's window fixed: the letter becomes a case and leaves; the other stays.
    fixed = run(
        "deadletters", "retry", future, "--store", store_url,
        "--received-window", "2000-01-01..2500-01-01",
    )  # fmt: skip
    assert fixed.exit_code == 0, fixed.output
    assert f"{future}: stored as ZS" in fixed.stdout
    store = open_store(store_url)
    try:
        assert sorted(c.external_id or "" for c in store.query()) == ["A1", "A2"]
        (left,) = store.dead_letters()
        assert (left.key, left.seen) == (malformed, 2)
    finally:
        store.close()
    # Gone from the list: its key names nothing now.
    assert run("deadletters", "retry", future, "--store", store_url).exit_code == 2


def test_a_letter_whose_work_order_was_stored_meanwhile_leaves_as_a_duplicate(
    run: Callable[..., Result], tmp_path: Path, store_url: str
) -> None:
    letters = _ingest(run, tmp_path, store_url)
    future = str(letters[1]["key"])
    fixed = dict(FUTURE, received_at="2026-03-02T09:30:00+08:00")
    (tmp_path / "fixed.jsonl").write_text(json.dumps(fixed) + "\n", encoding="utf-8")
    assert run("ingest", "jsonl", "fixed.jsonl", "--store", store_url).exit_code == 0
    result = run(
        "deadletters", "retry", future, "--store", store_url, "--format", "json",
        "--received-window", "2000-01-01..2500-01-01",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["letters"][0]["outcome"] == "duplicate"
    listed = json.loads(run("deadletters", "list", "--store", store_url, "--format", "json").stdout)
    assert [x["key"] for x in listed] == [letters[0]["key"]]


def test_retry_usage_errors(run: Callable[..., Result], tmp_path: Path, store_url: str) -> None:
    _ingest(run, tmp_path, store_url)
    assert run("deadletters", "retry", "--store", store_url).exit_code == 2
    both = run("deadletters", "retry", "DL1", "--all", "--store", store_url)
    assert both.exit_code == 2
    unknown = run("deadletters", "retry", "DL0000000000000000", "--store", store_url)
    assert unknown.exit_code == 2 and "no dead letter" in unknown.stderr
    profile = run("deadletters", "retry", "--all", "--profile", "p.yaml", "--store", store_url)
    assert profile.exit_code == 2 and "takes a profile" in profile.stderr


def test_a_channel_whose_record_cannot_stand_alone_says_so(
    run: Callable[..., Result], tmp_path: Path, store_url: str
) -> None:
    (tmp_path / "in.csv").write_text(
        "external_id,received_at,title\nB1,not a time,x\n", encoding="utf-8"
    )
    assert run("ingest", "csv", "in.csv", "--store", store_url).exit_code == 1
    result = run("deadletters", "retry", "--all", "--store", store_url)
    assert result.exit_code == 1
    assert "csv channel cannot read one record on its own" in result.stderr
