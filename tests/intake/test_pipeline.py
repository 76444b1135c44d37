from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from zhenshen_core.errors import IntakeError
from zhenshen_core.intake import ingest_source
from zhenshen_core.plugins import IntakeChannel, IntakeRecord, PluginConfig, PluginHost, hookimpl
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


class _HotlinePlugin:
    """The shape of the intake how-to's plugin: a normaliser that reads fields by key."""

    @hookimpl
    def zhenshen_normalise_intake(self, channel: str, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("sqlx") == "灌水":
            raise ValueError("not a work order")
        return {
            "external_id": data["gdbh"],
            "channel": "hotline_12345",
            "received_at": data["slsj"],
            "content": data["nr"],
        }


def _hotline_rows(tmp_path: Path) -> Path:
    row = {"gdbh": "GD-1", "slsj": "2020-04-13T09:30:00+08:00", "nr": "无法经营"}
    rows = [
        row,
        {k: v for k, v in row.items() if k != "nr"} | {"gdbh": "GD-2"},  # no 内容
        row | {"gdbh": "GD-3", "sqlx": "灌水"},
        row | {"gdbh": "GD-4"},
    ]
    src = tmp_path / "export.jsonl"
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return src


def test_an_exception_in_a_normaliser_is_that_records_dead_letter(
    tmp_path: Path, host: PluginHost
) -> None:
    """One record without a field stopped the whole run (KeyError, exit 3, nothing stored)."""
    host.register(_HotlinePlugin(), name="hotline")
    store = MemoryStore()
    summary = ingest_source(str(_hotline_rows(tmp_path)), channel="jsonl", store=store, host=host)
    assert (summary.read, summary.created) == (4, 2)
    assert [(r.line, r.reason) for r in summary.rejected] == [
        (2, "plugin 'hotline' failed in zhenshen_normalise_intake: KeyError: 'nr'"),
        (3, "rejected by plugin 'hotline': not a work order"),
    ]
    assert [d.line for d in store.dead_letters()] == [2, 3]
    assert store.count() == 2


def test_the_cli_exits_1_with_the_plugin_and_line_not_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from zhenshen_core.cli.main import build_cli

    (tmp_path / "zhenshen_local.py").write_text(
        "from zhenshen_core.plugins import hookimpl\n\n"
        "@hookimpl\n"
        "def zhenshen_normalise_intake(channel, data):\n"
        "    return {'external_id': data['gdbh'], 'received_at': data['slsj'],"
        " 'content': data['nr']}\n",
        encoding="utf-8",
    )
    src = _hotline_rows(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        build_cli(),
        ["ingest", "jsonl", str(src), "--store", f"sqlite:///{tmp_path / 'desk.db'}"],
        env={
            "ZHENSHEN_DISABLE_PLUGIN_AUTOLOAD": "1",
            "ZHENSHEN_STORE": None,
            "ZHENSHEN_LOCAL_PLUGINS": "zhenshen_local.py",  # never imported unless named
        },
    )
    assert result.exit_code == 1, result.output
    assert "4 read, 3 created, 0 duplicate, 1 rejected" in result.stdout
    assert (
        f"{src}:2: rejected: plugin 'zhenshen_local' failed in zhenshen_normalise_intake: "
        "KeyError: 'nr'" in result.stderr
    )


def _failing_reader(source: str) -> Iterator[IntakeRecord]:
    yield IntakeRecord(source, 1, "{}", dict(GOOD))
    yield IntakeRecord(source, 2, "{}", dict(GOOD, external_id="GD-2"))
    raise KeyError("nr")


class _ReaderPlugin:
    @hookimpl
    def zhenshen_intake_channels(self) -> list[IntakeChannel]:
        return [IntakeChannel("flaky", "fails on line 3", _failing_reader)]


def test_a_channel_that_fails_part_way_keeps_what_it_read(host: PluginHost) -> None:
    host.register(_ReaderPlugin(), name="flaky-plugin")
    store = MemoryStore()
    summary = ingest_source("export.txt", channel="flaky", store=store, host=host)
    assert (summary.read, summary.created) == (3, 2)
    [rejected] = summary.rejected
    assert rejected.line == 3
    assert rejected.reason == (
        "plugin 'flaky-plugin' failed reading 'flaky' after line 2: KeyError: 'nr'; "
        "the rest of the source was not read"
    )


def test_a_channel_that_fails_before_its_first_record_is_an_intake_error(
    host: PluginHost,
) -> None:
    def broken(source: str) -> Iterator[IntakeRecord]:
        raise ConnectionError("export server down")
        yield  # pragma: no cover

    class Plugin:
        @hookimpl
        def zhenshen_intake_channels(self) -> list[IntakeChannel]:
            return [IntakeChannel("down", "never answers", broken)]

    host.register(Plugin(), name="down-plugin")
    with pytest.raises(IntakeError, match="plugin 'down-plugin' failed reading 'down'"):
        ingest_source("x", channel="down", store=MemoryStore(), host=host)
