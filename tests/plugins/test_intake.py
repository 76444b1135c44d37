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
