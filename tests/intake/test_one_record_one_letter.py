"""One hostile record is that record's dead letter; the records around it are stored.

Each of these once ended the whole batch (nothing stored, no dead letter) or stopped reading
the file after it: an integer longer than Python converts, a lone surrogate in facts, a CSV
header where one column nests in another.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zhenshen_core.intake import ingest_source
from zhenshen_core.plugins import PluginConfig, PluginHost
from zhenshen_core.storage import MemoryStore
from zhenshen_core.storage.protocol import CaseStore

WHEN = "2026-03-02T10:00:00+08:00"
LONG = "7" * 4400


def _good(n: int) -> str:
    return json.dumps({"external_id": f"OK-{n}", "received_at": WHEN, "title": f"第{n}件"})


def _bad(facts: str) -> str:
    return f'{{"external_id": "BAD", "received_at": "{WHEN}", "facts": {facts}}}'


@pytest.fixture
def host() -> PluginHost:
    return PluginHost(PluginConfig(autoload=False))


def _ingest(path: Path, channel: str, store: CaseStore, host: PluginHost) -> tuple[int, list[int]]:
    summary = ingest_source(str(path), channel=channel, store=store, host=host)
    assert summary.read == summary.created + summary.duplicates + len(summary.rejected)
    assert [d.line for d in store.dead_letters()] == [r.line for r in summary.rejected]
    return store.count(), [r.line or 0 for r in summary.rejected]


@pytest.mark.parametrize(
    "facts",
    [
        f'{{"n": {LONG}}}',  # ValueError: Exceeds the limit (4300 digits)
        f'{{"n": -{LONG}}}',
        '{"s": "\\ud800"}',  # a lone surrogate: UnicodeEncodeError on every store
        '{"s": "a\\udfffb"}',
        '{"\\ud800": 1}',  # in a name
        '{"n": 1e999}',  # read as infinity, written as null
        '{"n": NaN}',
    ],
)
def test_a_hostile_json_line_is_its_own_dead_letter(
    tmp_path: Path, host: PluginHost, store: CaseStore, facts: str
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([_good(1), _bad(facts), _good(3)]) + "\n", encoding="utf-8")
    assert _ingest(source, "jsonl", store, host) == (2, [2])
    letter = store.dead_letters()[0]
    assert letter.raw == _bad(facts)
    assert "facts" in letter.reason or "integer with 4,400 digits" in letter.reason


@pytest.mark.parametrize("facts", [f'{{"n": {LONG}}}', '{"s": "\\ud800"}', '{"n": 1e999}'])
def test_a_hostile_array_element_is_its_own_dead_letter(
    tmp_path: Path, host: PluginHost, store: CaseStore, facts: str
) -> None:
    source = tmp_path / "in.json"
    source.write_text("[\n" + ",\n".join([_good(1), _bad(facts), _good(3)]) + "\n]")
    assert _ingest(source, "json", store, host) == (2, [3])


def test_a_long_integer_in_a_csv_facts_cell_is_that_rows_dead_letter(
    tmp_path: Path, host: PluginHost, store: CaseStore
) -> None:
    source = tmp_path / "in.csv"
    rows = ["external_id,received_at,facts.n", f"A,{WHEN},1", f"B,{WHEN},{LONG}", f"C,{WHEN},3"]
    source.write_text("\n".join(rows) + "\n")
    assert _ingest(source, "csv", store, host) == (2, [3])
    assert "facts.n: integer with 4,400 digits" in store.dead_letters()[0].reason


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (
            "external_id,received_at,enterprise,enterprise.name",
            "column 'enterprise.name' nests inside column 'enterprise'",
        ),
        ("external_id,received_at,facts.a,facts.a.b", "nests inside column 'facts.a'"),
        ("external_id,received_at,title,title", "column 'title' is given twice (columns 3 and 4)"),
        ("external_id,received_at,enterprise.", "column 3 ('enterprise.') has an empty name"),
    ],
)
def test_a_csv_header_that_mixes_up_columns_is_one_located_error(
    tmp_path: Path, host: PluginHost, header: str, problem: str
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"{header}\nA,{WHEN},x,y\nB,{WHEN},x,y\n")
    store = MemoryStore()
    summary = ingest_source(str(source), channel="csv", store=store, host=host)
    assert (summary.read, summary.created) == (1, 0)
    assert [r.line for r in summary.rejected] == [1]
    assert problem in summary.rejected[0].reason


def test_csv_row_to_mapping_names_the_clash_instead_of_a_type_error() -> None:
    from zhenshen_core.intake import csv_row_to_mapping

    with pytest.raises(ValueError, match="nests inside column 'enterprise'"):
        csv_row_to_mapping({"enterprise": "x", "enterprise.name": "y"})
    with pytest.raises(ValueError, match="also the parent"):
        csv_row_to_mapping({"enterprise.name": "y", "enterprise": "x"})
