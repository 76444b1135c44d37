"""The intake guarantees hold for the 12345 channel too: a quote left open in its CSV export
is reported, and a hostile work order in its JSON is that order's dead letter."""

from __future__ import annotations

from pathlib import Path

from zhenshen_12345 import configure


def test_an_unterminated_quote_is_reported_not_stored(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_text(
        '工单编号,来电时间,诉求类型,诉求标题\nGD1,2026/3/4 9:05,投诉,"办不了证\n'
        "GD2,2026/3/4 9:06,咨询,补贴\nGD3,2026/3/4 9:07,咨询,好\n",
        encoding="utf-8",
    )
    records = list(configure({}).read(str(source)))
    assert [(r.line, r.data) for r in records] == [(2, None)]
    assert records[0].error is not None
    assert records[0].error.startswith("lines 2-4: the quoted field '诉求标题'")
    assert "2 other records" in records[0].error


def test_a_long_integer_in_a_json_export_is_one_rejected_order(tmp_path: Path) -> None:
    source = tmp_path / "orders.json"
    order = '{"工单编号": "GD%d", "来电时间": "2026/3/4 9:05", "诉求标题": %s}'
    source.write_text(
        "[" + ",\n".join([order % (1, '"a"'), order % (2, "9" * 5000), order % (3, '"c"')]) + "]",
        encoding="utf-8",
    )
    records = list(configure({}).read(str(source)))
    assert [(r.line, r.error is None) for r in records] == [(1, True), (2, False), (3, True)]
