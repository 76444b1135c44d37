"""Channels with options of their own (``zhenshen ingest CHANNEL SRC --NAME VALUE``), records
located at a cell, and channels that explain their records for ``--dry-run``."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from clikit import isolate_cli

from zhenshen_core.cli.main import build_cli
from zhenshen_core.desk import Desk
from zhenshen_core.errors import ChannelOptionError
from zhenshen_core.intake import ingest_source
from zhenshen_core.plugins import (
    ChannelOption,
    FieldTrace,
    IntakeChannel,
    IntakeReader,
    IntakeRecord,
    PluginConfig,
    PluginHost,
    hookimpl,
)
from zhenshen_core.storage import MemoryStore

ROW = {"external_id": "T-1", "received_at": "2026-03-04T09:05:00+08:00", "title": "t"}


def _plain(source: str) -> Iterator[IntakeRecord]:
    yield IntakeRecord(source, 1, json.dumps(ROW), dict(ROW))


def _configure(options: dict[str, str]) -> IntakeReader:
    prefix = options.get("prefix", "")

    def read(source: str) -> Iterator[IntakeRecord]:
        row = dict(ROW, external_id=prefix + "T-1", title=f"from {source}")
        yield IntakeRecord(source, 1, json.dumps(row), row)
        yield IntakeRecord(source, 2, "{}", None, "no date", location=f"{source}!S!B2")

    def explain(record: IntakeRecord) -> list[FieldTrace]:
        return [FieldTrace("title", json.loads(record.raw)["title"], "标题", "源")]

    return IntakeReader(read, lambda s: 2, explain)


CHANNEL = IntakeChannel(
    "demo",
    "a channel with an option",
    _plain,
    options=(ChannelOption("prefix", "put before the id"),),
    configure=_configure,
)


class _Plugin:
    @hookimpl
    def zhenshen_intake_channels(self) -> list[IntakeChannel]:
        return [CHANNEL]


def test_a_channel_without_configure_reads_as_before() -> None:
    plain = IntakeChannel("plain", "d", _plain)
    reader = plain.reader()
    assert reader.read is _plain and reader.count is None and reader.explain is None
    assert plain.reader({}).read is _plain


def test_an_option_the_channel_does_not_declare_is_refused_naming_its_options() -> None:
    with pytest.raises(ChannelOptionError) as raised:
        CHANNEL.reader({"prefx": "X"})
    assert str(raised.value) == "intake channel 'demo' has no option --prefx; its options: --prefix"
    assert raised.value.exit_code == 2
    with pytest.raises(ChannelOptionError, match="it takes no options"):
        IntakeChannel("plain", "d", _plain).reader({"profile": "p.yaml"})


def test_ingest_source_uses_the_configured_reader_and_keeps_locations() -> None:
    host = PluginHost(PluginConfig(autoload=False))
    host.register(_Plugin(), "demo")
    store = MemoryStore()
    reader = host.intake_channel("demo").reader({"prefix": "X-"})
    summary = ingest_source("book.xlsx", channel="demo", store=store, host=host, reader=reader)
    assert summary.created == 1
    assert [c.external_id for c in store.query()] == ["X-T-1"]
    assert [(r.line, r.location) for r in summary.rejected] == [(2, "book.xlsx!S!B2")]
    assert summary.as_dict()["rejections"][0]["location"] == "book.xlsx!S!B2"
    (letter,) = store.dead_letters()
    assert (letter.source, letter.line, letter.reason) == ("book.xlsx!S!B2", 2, "no date")


def test_desk_ingest_passes_options_to_the_channel() -> None:
    host = PluginHost(PluginConfig(autoload=False))
    host.register(_Plugin(), "demo")
    desk = Desk(MemoryStore(), host=host)
    summary = desk.ingest("demo", "x.xlsx", options={"prefix": "D-"})
    assert summary.created == 1
    assert [c.external_id for c in desk.store.query()] == ["D-T-1"]
    with pytest.raises(ChannelOptionError):
        desk.ingest("demo", "x.xlsx", options={"sheet": "S"})


LOCAL_PLUGIN = textwrap.dedent(
    """
    import json
    from zhenshen_core.plugins import (
        ChannelOption, FieldTrace, IntakeChannel, IntakeReader, IntakeRecord, hookimpl,
    )

    ROW = {"external_id": "T-1", "received_at": "2026-03-04T09:05:00+08:00", "title": "t"}

    def plain(source):
        yield IntakeRecord(source, 1, json.dumps(ROW), dict(ROW))

    def configure(options):
        prefix = options.get("prefix", "")

        def read(source):
            row = dict(ROW, external_id=prefix + "T-1", title="标题一")
            yield IntakeRecord(source, 1, json.dumps(row, ensure_ascii=False), row)
            yield IntakeRecord(source, 2, "{}", None, "no date", location=source + "!S!B2")

        def explain(record):
            return [FieldTrace("title", json.loads(record.raw)["title"], "标题", "标题一")]

        return IntakeReader(read, None, explain)

    @hookimpl
    def zhenshen_intake_channels():
        return [IntakeChannel("demo", "d", plain, options=(
            ChannelOption("prefix", "put before the id"),), configure=configure)]
    """
)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    isolate_cli(monkeypatch, tmp_path)
    (tmp_path / "zhenshen_local.py").write_text(LOCAL_PLUGIN, encoding="utf-8")
    monkeypatch.setenv("ZHENSHEN_LOCAL_PLUGINS", "zhenshen_local.py")  # imported when named
    (tmp_path / "book.xlsx").write_bytes(b"not read by the demo channel")
    group = build_cli()

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(group, list(args), catch_exceptions=False)

    return invoke


def test_ingest_passes_channel_options_in_both_spellings(run: Callable[..., Result]) -> None:
    result = run("ingest", "demo", "book.xlsx", "--prefix", "A-", "--store", "sqlite:///d.db")
    assert result.exit_code == 1, result.output  # the second record is rejected
    assert "1 created" in result.stdout
    assert "book.xlsx!S!B2: rejected: no date" in result.stderr
    listed = run("cases", "list", "--store", "sqlite:///d.db", "--format", "json")
    assert [c["external_id"] for c in json.loads(listed.stdout)] == ["A-T-1"]
    again = run("ingest", "demo", "--prefix=B-", "book.xlsx", "--store", "sqlite:///d.db")
    assert "1 created" in again.stdout


def test_an_unknown_channel_option_is_a_usage_error_naming_the_options(
    run: Callable[..., Result],
) -> None:
    result = run("ingest", "demo", "book.xlsx", "--prefx", "A-", "--store", "sqlite:///d.db")
    assert result.exit_code == 2
    assert "intake channel 'demo' has no option --prefx; its options: --prefix" in result.stderr
    typo = run("ingest", "jsonl", "book.xlsx", "--stor", "sqlite:///d.db")
    assert typo.exit_code == 2
    assert "it takes no options; did you mean --store?" in typo.stderr
    twice = run("ingest", "demo", "book.xlsx", "--prefix", "A", "--prefix", "B")
    assert twice.exit_code == 2 and "--prefix is given twice" in twice.stderr
    dangling = run("ingest", "demo", "book.xlsx", "--prefix")
    assert dangling.exit_code == 2 and "--prefix needs a value" in dangling.stderr
    assert not (Path("d.db")).exists()


def test_dry_run_shows_source_beside_case_and_stores_nothing(run: Callable[..., Result]) -> None:
    result = run("ingest", "demo", "book.xlsx", "--prefix", "A-", "--dry-run")
    assert result.exit_code == 1  # the second record would be rejected
    assert "#1 book.xlsx:1 → case ZS" in result.stdout
    assert "标题" in result.stdout and "title" in result.stdout
    assert "#2 book.xlsx!S!B2 rejected: no date" in result.stdout
    assert "nothing stored" in result.stderr
    assert not Path("zhenshen.db").exists()
    as_json = run("ingest", "demo", "book.xlsx", "--dry-run", "--limit", "1", "--format", "json")
    (shown,) = json.loads(as_json.stdout)
    assert shown["fields"] == [
        {
            "field": "title",
            "value": "标题一",
            "source": "标题",
            "source_value": "标题一",
            "problem": None,
        }
    ]
    assert as_json.exit_code == 0


def test_limit_goes_with_dry_run(run: Callable[..., Result]) -> None:
    result = run("ingest", "demo", "book.xlsx", "--limit", "3")
    assert result.exit_code == 2 and "goes with --dry-run" in result.stderr


def test_dry_run_of_a_plain_channel_shows_the_record_fields_masked(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    row = dict(ROW, requester={"name": "王", "phone": "13800001234"})
    (tmp_path / "in.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", "utf-8")
    result = run("ingest", "jsonl", "in.jsonl", "--dry-run")
    assert result.exit_code == 0
    assert "requester.phone" in result.stdout and "138****1234" in result.stdout
    assert "13800001234" not in result.stdout
