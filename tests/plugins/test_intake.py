from __future__ import annotations

import json
from pathlib import Path

import pytest

from zhenshen_core.intake import ingest_source
from zhenshen_core.plugins import PluginConfig, PluginHost
from zhenshen_core.storage import MemoryStore

GOOD = {
    "external_id": "GD-1",
    "channel": "hotline_12345",
    "received_at": "2020-04-13T09:30:00+08:00",
    "title": "施工许可",
    "enterprise": {"name": "成都某科技有限公司", "uscc": "91510100MA68NDJH6X"},
}


@pytest.fixture
def host() -> PluginHost:
    return PluginHost(PluginConfig(autoload=False))


def test_jsonl_bad_lines_go_to_dead_letters_with_line_numbers(
    tmp_path: Path, host: PluginHost
) -> None:
    src = tmp_path / "in.jsonl"
    bad_uscc = dict(GOOD, external_id="GD-2", enterprise={"name": "x", "uscc": "123"})
    src.write_text(
        "\n".join([json.dumps(GOOD), "{not json", json.dumps(bad_uscc), "", json.dumps(GOOD)])
        + "\n",
        encoding="utf-8",
    )
    store = MemoryStore()
    summary = ingest_source(str(src), channel="jsonl", store=store, host=host)
    assert (summary.read, summary.created, summary.duplicates) == (4, 1, 1)
    assert [r.line for r in summary.rejected] == [2, 3]
    letters = store.dead_letters()
    assert [d.line for d in letters] == [2, 3]
    assert letters[0].raw == "{not json"
    assert "check: length" in letters[1].reason
    assert store.count() == 1


def test_json_array_keeps_element_lines(tmp_path: Path, host: PluginHost) -> None:
    src = tmp_path / "in.json"
    second = dict(GOOD, external_id="GD-9", appeal_type="shouting")
    src.write_text(
        "[\n" + json.dumps(GOOD) + ",\n\n" + json.dumps(second) + "\n]", encoding="utf-8"
    )
    store = MemoryStore()
    summary = ingest_source(str(src), channel="json", store=store, host=host)
    assert summary.created == 1
    assert [(r.line, "appeal_type" in r.reason) for r in summary.rejected] == [(4, True)]


def test_csv_dotted_headers_build_nested_fields(tmp_path: Path, host: PluginHost) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        "external_id,channel,received_at,title,enterprise.name,enterprise.uscc,enterprise.tags,"
        "departments,facts.amount_wan\n"
        "GD-7,web,2020-04-13T09:30:00,无法经营,成都某公司,91510100MA68NDJH6X,高新技术企业;瞪羚企业,"
        "gxq.scjgj:lead;gxq.zwfw:co,1200\n"
        "GD-8,web,not-a-date,x,,,,,\n",
        encoding="utf-8",
    )
    store = MemoryStore()
    summary = ingest_source(str(src), channel="csv", store=store, host=host)
    assert summary.created == 1 and [r.line for r in summary.rejected] == [3]
    case = next(iter(store.query()))
    assert case.enterprise is not None and case.enterprise.tags == ["高新技术企业", "瞪羚企业"]
    assert case.lead_department == "gxq.scjgj"
    assert case.facts == {"amount_wan": 1200}


def test_reingesting_the_same_work_order_is_one_case(tmp_path: Path, host: PluginHost) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    store = MemoryStore()
    ingest_source(str(src), channel="jsonl", store=store, host=host)
    again = ingest_source(str(src), channel="jsonl", store=store, host=host)
    assert (again.created, again.duplicates) == (0, 1)
    assert store.count() == 1


def test_csv_with_unknown_header_columns_is_rejected_once(tmp_path: Path, host: PluginHost) -> None:
    src = tmp_path / "in.csv"
    src.write_text("external_id,recieved_at,title\nGD-1,2020-04-13T09:30:00,x\n", encoding="utf-8")
    store = MemoryStore()
    summary = ingest_source(str(src), channel="csv", store=store, host=host)
    assert summary.created == 0 and [r.line for r in summary.rejected] == [1]
    assert "recieved_at" in summary.rejected[0].reason
    assert "did you mean 'received_at'" in summary.rejected[0].reason


def test_nul_characters_are_rejected_by_every_store_alike(tmp_path: Path, host: PluginHost) -> None:
    """A NUL (U+0000) is refused at intake with its field, as a dead letter: PostgreSQL cannot
    store it, and a store must not be the one to fail a whole batch over it."""
    jsonl = tmp_path / "in.jsonl"
    nul_content = dict(GOOD, external_id="GD-2", content="停产\x00")
    nul_tag = dict(GOOD, external_id="GD-3", enterprise={"name": "x", "tags": ["a", "b\x00"]})
    jsonl.write_text("\n".join(json.dumps(r) for r in (GOOD, nul_content, nul_tag)) + "\n")
    store = MemoryStore()
    summary = ingest_source(str(jsonl), channel="jsonl", store=store, host=host)
    assert (summary.read, summary.created) == (3, 1)
    assert [(r.line, r.reason) for r in summary.rejected] == [
        (
            2,
            "invalid case: content: text contains a NUL character (U+0000); "
            "remove it from the source",
        ),
        (
            3,
            "invalid case: enterprise.tags.1: text contains a NUL character (U+0000); "
            "remove it from the source",
        ),
    ]
    table = tmp_path / "in.csv"
    table.write_text(
        "received_at,title\n2020-04-13T09:30:00+08:00,好\n2020-04-13T09:30:00+08:00,坏\x00\n"
    )
    summary = ingest_source(str(table), channel="csv", store=MemoryStore(), host=host)
    assert [(r.line, r.reason.split(":")[1].strip()) for r in summary.rejected] == [(3, "title")]


def test_a_csv_row_the_csv_module_cannot_read_is_one_rejected_record(
    tmp_path: Path, host: PluginHost
) -> None:
    table = tmp_path / "in.csv"
    rows = ["received_at,title", "2020-04-13T09:30:00+08:00,一"]
    rows += ["2020-04-13T09:30:00+08:00," + "长" * 200_000, "2020-04-13T09:31:00+08:00,三"]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    store = MemoryStore()
    summary = ingest_source(str(table), channel="csv", store=store, host=host)
    assert (summary.read, summary.created) == (3, 2)
    [rejected] = summary.rejected
    assert rejected.line == 3
    assert rejected.reason == "unreadable CSV row: field larger than field limit (131072)"


def test_a_csv_header_that_cannot_be_read_is_one_rejected_record(
    tmp_path: Path, host: PluginHost
) -> None:
    """Not UTF-8, or a field over the csv module's limit, in the header: said once, at line 1
    (the first ended in an internal error when the dead letter was stored)."""
    from zhenshen_core.storage import SQLiteStore

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(b"received_at,ti\xe9tle\n2020-04-13T09:30:00+08:00,x\n")
    huge = tmp_path / "huge.csv"
    huge.write_text("received_at," + "x" * 200_000 + "\n2020-04-13T09:30:00+08:00,1\n")
    store = SQLiteStore(str(tmp_path / "desk.db"))
    for source, reason in (
        (gbk, "column 15: not UTF-8 text (byte 0xE9); save the file as UTF-8"),
        (huge, "unreadable CSV header: field larger than field limit (131072)"),
    ):
        summary = ingest_source(str(source), channel="csv", store=store, host=host)
        assert [(r.line, r.reason) for r in summary.rejected] == [(1, reason)]
    assert [d.raw for d in store.dead_letters()] == ["received_at,ti\\xe9tle", ""]
