"""A quote left open in a CSV row must not swallow the rows after it into one field.

The rule (``swallowed_record``): a quoted field may hold line breaks (a complaint in several
paragraphs); it is refused when a line inside it looks like a record of the file — the
header's number of cells, and a date where the received-at column is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zhenshen_core.intake import ingest_source, read_csv
from zhenshen_core.plugins import PluginConfig, PluginHost
from zhenshen_core.storage import MemoryStore

WHEN = "2026-03-02T10:00:00+08:00"


@pytest.fixture
def host() -> PluginHost:
    return PluginHost(PluginConfig(autoload=False))


def test_an_unterminated_quote_is_reported_not_stored(tmp_path: Path, host: PluginHost) -> None:
    # Today: "1 read, 1 created": the second work order became part of the first one's title.
    source = tmp_path / "in.csv"
    source.write_text(f'external_id,received_at,title\nA1,{WHEN},"broken title\nA2,{WHEN},second\n')
    store = MemoryStore()
    summary = ingest_source(str(source), channel="csv", store=store, host=host)
    assert (summary.read, summary.created, store.count()) == (1, 0, 0)
    (rejected,) = summary.rejected
    assert rejected.line == 2
    assert rejected.reason.startswith("lines 2-3: the quoted field 'title' runs over 2 lines")
    assert f"'A2,{WHEN},second'" in rejected.reason
    assert "A2" in store.dead_letters()[0].raw


def test_the_rows_after_the_closing_quote_are_read_again(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    rows = [
        "external_id,received_at,title,content",
        f'A1,{WHEN},"open',
        f"A2,{WHEN},two,c",
        f'A3,{WHEN},three,"c"',
        f"A4,{WHEN},four,c",
    ]
    source.write_text("\n".join(rows) + "\n")
    records = list(read_csv(str(source)))
    assert [(r.line, r.error is None) for r in records] == [(2, False), (5, True)]
    assert records[0].error is not None and "2 other records" in records[0].error
    assert records[0].error.startswith("lines 2-4:")


def test_legitimate_multi_line_text_is_kept(tmp_path: Path, host: PluginHost) -> None:
    content = "第一段：企业反映的情况。\n第二段, with, some, commas\n2026-03-02 来电, 再次催办\n"
    source = tmp_path / "in.csv"
    source.write_text(
        f'external_id,received_at,title,content\nA1,{WHEN},t,"{content}"\nA2,{WHEN},t2,c\n'
    )
    store = MemoryStore()
    summary = ingest_source(str(source), channel="csv", store=store, host=host)
    assert (summary.created, summary.rejected) == (2, [])
    assert store.get(summary.case_ids[0]).content == content.strip()


@pytest.mark.parametrize(
    ("cells", "dates", "swallows"),
    [
        (["A1", WHEN, f"x\nA2,{WHEN},y"], [1], True),
        (["A1", WHEN, "x\nA2,not a date,y"], [1], False),  # no date where the record has one
        (["A1", WHEN, "x\nonly, two"], [1], False),  # fewer cells than the header
        (["A1", WHEN, "x\nA2,2026年3月4日,y"], [1], True),
        (["A1", WHEN, "x\na,b,c"], [], True),  # no date column: exactly the header's cells
        (["A1", WHEN, "x\na,b,c,d"], [], False),
    ],
)
def test_what_looks_like_a_record(cells: list[str], dates: list[int], swallows: bool) -> None:
    from zhenshen_core.intake import swallowed_record

    found = swallowed_record(cells, ["external_id", "received_at", "title"], dates)
    assert (found is not None) == swallows
